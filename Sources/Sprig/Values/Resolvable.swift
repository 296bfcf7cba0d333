import Foundation
import PythonBridge

/// An argument of a typed Swift app (or a Swift-built bash app): a plain value, or a future of one.
///
/// `AppFuture<T>` stands for a `T`; arrays, dictionaries and optionals of resolvables stand for
/// arrays, dictionaries and optionals of what their elements stand for. Your own types join with an
/// empty conformance, `extension Point: Resolvable {}`, which makes them stand for themselves.
public protocol Resolvable<Resolved>: Sendable {
    /// What the argument stands for: `T` for `AppFuture<T>`; by default the type itself.
    associatedtype Resolved: Sendable = Self
    /// Adds the futures inside to `futures`.
    func collectFutures(into futures: inout [any TaskFuture])
    /// The value, with futures replaced by their values; called only after they all succeeded.
    func resolve() throws -> Resolved
}

extension Resolvable where Resolved == Self {
    /// No futures inside.
    public func collectFutures(into futures: inout [any TaskFuture]) {}
    /// The value itself.
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
    /// Adds this future.
    public func collectFutures(into futures: inout [any TaskFuture]) { futures.append(self) }
    /// The task's value; throws when it is not a `T`.
    public func resolve() throws -> T {
        guard let outcome = core.outcome else { throw ConversionError(message: "task \(taskID) has not ended") }
        return try dependencyValue(from: outcome.get()) as! T  // dependencyValue is transform, typed T
    }
}

extension DataFuture: Resolvable {
    /// Adds this future.
    public func collectFutures(into futures: inout [any TaskFuture]) { futures.append(self) }
    /// The file.
    public func resolve() throws -> File { file }
}

extension Array: Resolvable where Element: Resolvable {
    /// The futures of every element.
    public func collectFutures(into futures: inout [any TaskFuture]) {
        for element in self { element.collectFutures(into: &futures) }
    }
    /// Each element resolved.
    public func resolve() throws -> [Element.Resolved] { try map { try $0.resolve() } }
}

extension Dictionary: Resolvable where Value: Resolvable, Key: Resolvable {
    /// The futures of every value (keys hold none).
    public func collectFutures(into futures: inout [any TaskFuture]) {
        for value in values { value.collectFutures(into: &futures) }
    }
    /// Each value resolved.
    public func resolve() throws -> [Key: Value.Resolved] { try mapValues { try $0.resolve() } }
}

extension Optional: Resolvable where Wrapped: Resolvable {
    /// The wrapped value's futures, if any.
    public func collectFutures(into futures: inout [any TaskFuture]) { self?.collectFutures(into: &futures) }
    /// The wrapped value resolved, or `nil`.
    public func resolve() throws -> Wrapped.Resolved? { try self?.resolve() }
}
