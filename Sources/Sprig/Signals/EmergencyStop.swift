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

    static func runAll() {
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

    /// Kills every block of every kernel of this process at once — for a program that handles
    /// signals itself and is about to exit. Tasks running on them fail as lost.
    public static func stopAllBlocks() { EmergencyStop.runAll() }
}
