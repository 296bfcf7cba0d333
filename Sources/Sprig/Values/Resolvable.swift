import Foundation
import PythonBridge

/// An argument of a typed Swift app (or a Swift-built bash app): a plain value, or a future of one.
///
/// `AppFuture<T>` stands for a `T`; arrays, dictionaries and optionals of resolvables stand for
/// arrays, dictionaries and optionals of what their elements stand for. Your own types join with an
/// empty conformance, `extension Point: Resolvable {}`, which makes them stand for themselves.
public protocol Resolvable<Resolved>: Sendable {
    associatedtype Resolved: Sendable = Self
    /// Adds the futures inside to `futures`.
    func collectFutures(into futures: inout [any TaskFuture])
    /// The value, with futures replaced by their values; called only after they all succeeded.
    func resolve() throws -> Resolved
}

extension Resolvable where Resolved == Self {
    public func collectFutures(into futures: inout [any TaskFuture]) {}
    public func resolve() throws -> Self { self }
}

extension Int: Resolvable {}
extension Double: Resolvable {}
extension Bool: Resolvable {}
extension String: Resolvable {}
extension Data: Resolvable {}
extension File: Resolvable {}
extension Value: Resolvable {}
extension PythonObject: Resolvable {}
extension UInt8: Resolvable {}

extension AppFuture: Resolvable {
    public func collectFutures(into futures: inout [any TaskFuture]) { futures.append(self) }
    public func resolve() throws -> T {
        guard let outcome = core.outcome else { throw ConversionError(message: "task \(taskID) has not ended") }
        return try dependencyValue(from: outcome.get()) as! T  // dependencyValue is transform, typed T
    }
}

extension DataFuture: Resolvable {
    public func collectFutures(into futures: inout [any TaskFuture]) { futures.append(self) }
    public func resolve() throws -> File { file }
}

extension Array: Resolvable where Element: Resolvable {
    public func collectFutures(into futures: inout [any TaskFuture]) {
        for element in self { element.collectFutures(into: &futures) }
    }
    public func resolve() throws -> [Element.Resolved] { try map { try $0.resolve() } }
}

extension Dictionary: Resolvable where Value: Resolvable, Key: Resolvable {
    public func collectFutures(into futures: inout [any TaskFuture]) {
        for value in values { value.collectFutures(into: &futures) }
    }
    public func resolve() throws -> [Key: Value.Resolved] { try mapValues { try $0.resolve() } }
}

extension Optional: Resolvable where Wrapped: Resolvable {
    public func collectFutures(into futures: inout [any TaskFuture]) { self?.collectFutures(into: &futures) }
    public func resolve() throws -> Wrapped.Resolved? { try self?.resolve() }
}
