import Synchronization

/// What to stop when the program is interrupted: every live process executor's blocks.
/// Executors register here; nothing runs unless the program asks (``ProgramSignals``).
package enum EmergencyStop {
    private static let actions = Mutex<[ObjectIdentifier: @Sendable () -> Void]>([:])

    /// Runs `action` (once) if the program is interrupted, before it exits.
    package static func register(_ owner: AnyObject, _ action: @escaping @Sendable () -> Void) {
        actions.withLock { $0[ObjectIdentifier(owner)] = action }
    }

    package static func unregister(_ owner: AnyObject) {
        _ = actions.withLock { $0.removeValue(forKey: ObjectIdentifier(owner)) }
    }

    /// Set once the program is stopping: from then on no attempt finishes, so nothing the
    /// program waits for returns before it exits with the signal's status.
    static let inProgress = Atomic<Bool>(false)

    static func runAll() {
        inProgress.store(true, ordering: .releasing)
        for action in actions.withLock({ Array($0.values) }) { action() }
    }
}

/// What the program does about Ctrl-C and SIGTERM. The library installs no signal handler and
/// changes no disposition by itself: signals belong to the program. A program opts in with
/// ``stopOnInterrupt()`` (the `sprig` command does), or handles signals itself and calls
/// ``stopAllBlocks()`` before it exits.
public enum ProgramSignals {
    /// From now on SIGINT and SIGTERM kill every block of every kernel (no manager, worker or
    /// command outlives the program), flush Python's output, and exit with 128 + the signal
    /// number, as a shell reports it. Calling it again does nothing.
    public static func stopOnInterrupt() { SignalWatcher.install() }

    /// Stops every block of every kernel of this process and every bash command running here —
    /// for a program that handles signals itself and is about to exit. From then on no task of
    /// this process finishes (waiting code stays waiting): call it only on the way out.
    public static func stopAllBlocks() { EmergencyStop.runAll() }

    /// From now on a crash of this process (a segmentation fault in a thread-executor app's C
    /// code, say) first says which task and app the crashing thread was running, then is
    /// reported as it would have been. Calling it again does nothing.
    public static func nameTasksInCrashReports() { CrashNote.install() }
}
