/// A task's number in its kernel, counting from 0 in submission order (as Parsl's `tid`).
public struct TaskID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The number: 0 for the kernel's first task.
    public let rawValue: Int
    /// The task numbered `rawValue`.
    public init(_ rawValue: Int) { self.rawValue = rawValue }
    /// Submission order.
    public static func < (a: TaskID, b: TaskID) -> Bool { a.rawValue < b.rawValue }
    /// The number alone (`42`).
    public var description: String { String(rawValue) }
}
