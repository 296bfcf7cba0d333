import Dispatch
import Foundation
import Synchronization

/// Something the recorder writes events to: the run log, the monitoring database. Touched only
/// by the recorder's thread.
protocol RunSink: AnyObject {
    /// Writes one batch, in the order the events were recorded.
    func write(_ events: [RunEvent])
    /// Writes what it holds and lets go of its files; the last call.
    func close()
}

/// The one thread of a kernel that formats and writes what happened in its run.
///
/// The kernel and its executors call ``record(_:)`` — a clock read and an append under a lock,
/// nothing else — and the recorder's thread (`sprig-recorder`) takes the queue every 50 ms, or
/// when ``stop()`` asks, and hands each batch to its sinks (``RunLog``, the monitoring database).
/// The recorder never calls back into the kernel or the executors: the arrows go one way.
///
/// Threading: ``record(_:)`` from any thread; ``stop()`` once, from the kernel's shutdown.
final class RunRecorder: Sendable {
    /// While a sink handles an event, that event's time (a log line carries the time it happened,
    /// not the time it was written).
    @TaskLocal static var eventTime: Date?

    private struct Queue {
        var events: [RunEvent] = []
        var stopping = false
    }

    private let queue = Mutex(Queue())
    private let wake = DispatchSemaphore(value: 0)
    private let thread = Mutex<JoinableThread?>(nil)
    private let period: Duration

    /// Starts the recorder's thread, writing to `sinks`.
    /// - Throws: ``ExecutorError`` when the thread cannot start.
    init(sinks: [any RunSink], period: Duration = .milliseconds(50)) throws {
        self.period = period
        let box = SinkBox(sinks: sinks)
        let started = try JoinableThread(name: "sprig-recorder") { [self] in loop(sinks: box.sinks) }
        thread.withLock { $0 = started }
    }

    /// Adds one event to the queue. Cheap: the formatting and writing happen on the recorder's thread.
    func record(_ kind: RunEvent.Kind) {
        let event = RunEvent(kind)
        queue.withLock { $0.events.append(event) }
    }

    /// Writes what is queued, closes the sinks and joins the thread. Events recorded later are dropped.
    func stop() {
        let running: JoinableThread? = thread.withLock { thread in
            defer { thread = nil }
            return thread
        }
        guard let running else { return }
        queue.withLock { $0.stopping = true }
        wake.signal()
        running.join()
    }

    private func loop(sinks: [any RunSink]) {
        var batch: [RunEvent] = []
        while true {
            _ = wake.wait(timeout: .now() + period.dispatchInterval)
            let stopping: Bool = queue.withLock { queue in
                swap(&batch, &queue.events)
                return queue.stopping
            }
            if !batch.isEmpty {
                for sink in sinks { sink.write(batch) }
                batch.removeAll(keepingCapacity: true)
            }
            if stopping { break }
        }
        for sink in sinks { sink.close() }
    }
}

/// The sinks, handed to the recorder's thread, the only one that touches them.
private final class SinkBox: @unchecked Sendable {  // used by one thread only once handed over
    let sinks: [any RunSink]
    init(sinks: [any RunSink]) { self.sinks = sinks }
}
