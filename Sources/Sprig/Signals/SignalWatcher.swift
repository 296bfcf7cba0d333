import CPOSIX
import Foundation
import PythonBridge
import Synchronization

/// Ctrl-C and SIGTERM: stop every block (no manager or worker outlives the program), flush Python's
/// output, and exit with 128 + the signal number, as a shell would report it.
///
/// A handler is installed at once, before Python can: importing Python's `signal` module otherwise
/// takes SIGINT over and only sets a flag that a Swift host never checks, so Ctrl-C would do nothing.
/// The handler only writes the signal number to a pipe; a thread of its own does the rest.
package enum SignalWatcher {
    private static let installed = Mutex(false)

    package static func install() {
        let first = installed.withLock { done in
            defer { done = true }
            return !done
        }
        guard first else { return }
        var fds: [Int32] = [0, 0]
        guard sprig_pipe_cloexec(&fds) == 0 else { return }
        signalPipe.store(fds[1], ordering: .releasing)
        let readEnd = fds[0]
        Thread.detachNewThread {
            Thread.current.name = "sprig-signals"
            // This thread lives as long as the process and always takes the two signals, even when
            // the program was started with them blocked (a mask inherited from its parent).
            var mask = sigset_t()
            sigemptyset(&mask)
            sigaddset(&mask, SIGINT)
            sigaddset(&mask, SIGTERM)
            pthread_sigmask(SIG_UNBLOCK, &mask, nil)
            var number: Int32 = 0
            while read(readEnd, &number, 4) != 4 { if errno != EINTR { return } }
            EmergencyStop.runAll()
            Python.flushStandardStreams()
            exit(128 + number)
        }
        for signalNumber in [SIGINT, SIGTERM] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { number in
                var value = number
                _ = write(signalPipe.load(ordering: .relaxed), &value, 4)
            }
            sigemptyset(&action.sa_mask)
            sigaction(signalNumber, &action, nil)
        }
    }
}

private let signalPipe = Atomic<Int32>(-1)
