/// A join app's future failed because of what its body returned (Parsl's `JoinError`): futures it
/// returned failed, or it returned something that is not a future.
///
/// When the body itself throws, or its arguments' tasks failed, the join app's future fails with
/// that error instead, as Parsl's does.
public struct JoinError: Error, CustomStringConvertible {
    /// What went wrong.
    public enum Reason: Sendable {
        /// Futures the body returned failed: their errors, in the order the body returned them.
        case innerFailed([any Error])
        /// The body returned something other than a future or a list of futures (a Python join
        /// app can; a Swift one cannot). Scripts see Parsl's `TypeError`.
        case notAFuture(String)
    }

    /// The join app's task (the one whose future failed).
    public let taskID: TaskID
    /// The join app's name.
    public let app: String
    /// What its body returned.
    public let reason: Reason

    /// The errors of the returned futures that failed; empty for ``Reason/notAFuture(_:)``.
    public var failures: [any Error] {
        if case .innerFailed(let errors) = reason { return errors }
        return []
    }

    /// Names the join app and says what failed.
    public var description: String {
        let head = "task \(taskID) (join app \(app))"
        switch reason {
        case .innerFailed(let failures):
            return "\(head): \(failures.count) inner task(s) failed: " + failures.map { "\($0)" }.joined(separator: "; ")
        case .notAFuture(let detail):
            return "\(head) must return a future or a list of futures: \(detail)"
        }
    }
}
