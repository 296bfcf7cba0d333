import Foundation
import Synchronization

/// Names the task a thread runs in a crash report. A segmentation fault in a thread-executor app
/// (a C extension's bug, say) cannot be survived — it happens in this process — but it can say
/// which task and app it came from: the thread executor notes the task before it calls into
/// Python, and the crash handler (installed by ``ProgramSignals/nameTasksInCrashReports()``)
/// writes the note of the crashing thread to stderr, then lets the previous handler (Swift's
/// backtracer, or the default core dump) run.
///
/// Everything the handler touches is preallocated: a fixed table of slots, one per thread that
/// runs apps, each holding that thread's id and a short text.
enum CrashNote {
    private static let slotCount = 256
    private static let textSize = 240
    // Raw memory a signal handler may read. Safe without locks: a slot is claimed once under
    // `claimed`, then written only by its owning thread, and read by the handler on that same thread.
    /// Per slot: the owning thread (0 = free) and the length of its text (0 = no task now).
    nonisolated(unsafe) private static let owners = UnsafeMutablePointer<UInt>.allocate(capacity: slotCount)
    nonisolated(unsafe) private static let lengths = UnsafeMutablePointer<Int>.allocate(capacity: slotCount)
    nonisolated(unsafe) private static let texts = UnsafeMutablePointer<UInt8>.allocate(capacity: slotCount * textSize)
    private static let claimed = Mutex(0)
    private static let installed = Atomic<Bool>(false)
    nonisolated(unsafe) private static let previous = UnsafeMutablePointer<sigaction>.allocate(capacity: Int(NSIG))
    private static let slotKey: pthread_key_t = {
        owners.initialize(repeating: 0, count: slotCount)
        lengths.initialize(repeating: 0, count: slotCount)
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// The signals whose reports are annotated.
    private static let signals = [SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT]

    /// Installs the handler once (see the type's documentation).
    static func install() {
        guard !installed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        _ = slotKey
        for signal in signals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { number in CrashNote.report(number) }
            sigemptyset(&action.sa_mask)
            action.sa_flags = Int32(SA_NODEFER)
            sigaction(signal, &action, previous + Int(signal))
        }
    }

    /// Notes that this thread now runs `task` of `app` (when crash notes are installed); `nil` clears it.
    static func running(_ task: TaskID?, app: String) {
        guard installed.load(ordering: .relaxed), let slot = slotOfThisThread() else { return }
        guard let task else {
            lengths[slot] = 0
            return
        }
        let text = Array("sprig: crashed while running task \(task) (app \(app))\n".utf8.prefix(textSize))
        lengths[slot] = 0
        (texts + slot * textSize).update(from: text, count: text.count)
        lengths[slot] = text.count
    }

    private static func slotOfThisThread() -> Int? {
        if let stored = pthread_getspecific(slotKey) { return Int(bitPattern: stored) - 1 }
        let slot: Int? = claimed.withLock { next in
            guard next < slotCount else { return nil }
            defer { next += 1 }
            return next
        }
        guard let slot else { return nil }
        owners[slot] = UInt(pthread_self())
        pthread_setspecific(slotKey, UnsafeRawPointer(bitPattern: slot + 1))
        return slot
    }

    /// The handler: async-signal-safe calls only (`pthread_self`, `write`, `sigaction`).
    private static func report(_ signal: Int32) {
        let me = UInt(pthread_self())
        for slot in 0..<slotCount where owners[slot] == me {
            let length = lengths[slot]
            if length > 0 { _ = write(STDERR_FILENO, texts + slot * textSize, length) }
            break
        }
        // Back to the handler before ours; returning re-runs the faulting instruction (or, for
        // SIGABRT, abort() raises again) and that handler reports the crash as it would have.
        sigaction(signal, previous + Int(signal), nil)
        if signal == SIGABRT { raise(signal) }
    }
}
