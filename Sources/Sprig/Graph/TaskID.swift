/// A task's number in its kernel, counting from 0 in submission order (as Parsl's `tid`).
public struct TaskID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: Int
    public init(_ rawValue: Int) { self.rawValue = rawValue }
    public static func < (a: TaskID, b: TaskID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { String(rawValue) }
}
