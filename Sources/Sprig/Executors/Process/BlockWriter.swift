import Foundation
import Synchronization

/// The sending half of a block's stream: frames go out in order and no sender ever waits on the
/// pipe.
///
/// A sender writes straight to the (non-blocking) descriptor while the pipe has room, which keeps
/// the hot path free of thread hand-offs; what does not fit waits here and a writer thread of the
/// block's own sends it when the pipe drains. So a manager that stops reading stalls nothing but
/// its own stream: dispatch, heartbeats to other blocks, kills and shutdown all carry on, and the
/// silence check can end the block.
///
/// Threading: ``send(_:)`` and ``finish()`` from any thread; ``terminate()`` once, from the
/// block's reader when the stream is over.
final class BlockWriter: Sendable {
    private enum Owner { case nobody, sender, thread }

    private struct State {
        var queue: [[UInt8]] = []
        /// Bytes of `queue[0]` already written.
        var offset = 0
        var owner = Owner.nobody
        /// No new frames; the descriptor closes once the queue is out.
        var finishing = false
        /// The stream failed or the block ended: nothing more is written.
        var dead = false
        var descriptorClosed = false
    }

    private let fd: Int32
    private let state = Mutex(State())
    private let wake = Kicker()
    private let thread = Mutex<JoinableThread?>(nil)

    /// Takes over `fd` (the manager's input): it is made non-blocking and closed by this writer.
    init(fd: Int32, name: String) throws {
        self.fd = fd
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        let writer = try JoinableThread(name: name) { [weak self] in self?.run() }
        thread.withLock { $0 = writer }
    }

    /// Queues a frame and writes what the pipe takes now. Returns `false` when the stream is
    /// finishing or dead (the frame is dropped).
    @discardableResult
    func send(_ frame: [UInt8]) -> Bool {
        let mine: Bool? = state.withLock { state in
            guard !state.dead && !state.finishing else { return nil }
            state.queue.append(frame)
            guard state.owner == .nobody else { return false }
            state.owner = .sender
            return true
        }
        guard let mine else { return false }
        if mine { drain(as: .sender) }
        return true
    }

    /// Closes the stream once every queued frame is out (the manager then sees end of input).
    func finish() {
        let closeNow = state.withLock { state -> Bool in
            state.finishing = true
            return state.owner == .nobody && state.queue.isEmpty && Self.claimClose(&state)
        }
        if closeNow { close(fd) }
        wake.kick()
    }

    /// The stream is over: drops what is queued, closes the descriptor, stops the thread.
    func terminate() {
        let closeNow = state.withLock { state -> Bool in
            state.dead = true
            state.queue = []
            return state.owner == .nobody && Self.claimClose(&state)
        }
        if closeNow { close(fd) }
        wake.kick()
        thread.withLock { $0 }?.join()
        // A sender or the thread that owned the stream closed it on its way out.
    }

    private static func claimClose(_ state: inout State) -> Bool {
        guard !state.descriptorClosed else { return false }
        state.descriptorClosed = true
        return true
    }

    /// Writes queued frames while the pipe takes them. A sender that meets a full pipe hands the
    /// rest to the thread; the thread waits for room.
    private func drain(as owner: Owner) {
        while true {
            let next: ([UInt8], Int)? = state.withLock { state in
                if state.dead || state.queue.isEmpty { return nil }
                return (state.queue[0], state.offset)
            }
            guard let (frame, offset) = next else { break }
            let (wrote, code) = withPipeSignalBlocked {
                let wrote = frame.withUnsafeBytes { raw in Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset) }
                return (wrote, errno)
            }
            if wrote < 0 && code == EINTR { continue }
            if wrote < 0 && code == EAGAIN {
                if owner == .sender {
                    state.withLock { $0.owner = .thread }
                    wake.kick()
                    return
                }
                waitForRoom()
                continue
            }
            state.withLock { state in
                guard !state.dead else { return }
                if wrote < 0 {
                    // EPIPE or worse: the manager is gone; its reader reports the block's end.
                    state.dead = true
                    state.queue = []
                } else if offset + wrote == frame.count {
                    state.queue.removeFirst()
                    state.offset = 0
                } else {
                    state.offset = offset + wrote
                }
            }
        }
        let closeNow = state.withLock { state -> Bool in
            state.owner = .nobody
            let done = state.dead || (state.finishing && state.queue.isEmpty)
            return done && Self.claimClose(&state)
        }
        if closeNow { close(fd) }
    }

    private func waitForRoom() {
        var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        _ = poll(&poller, 1, 100)  // wakes to notice `terminate()` even if the pipe never drains
    }

    private func run() {
        while true {
            wake.wait(timeout: .milliseconds(200))
            let (mine, over) = state.withLock { state -> (Bool, Bool) in
                let over = state.descriptorClosed || (state.dead && state.owner == .nobody)
                guard state.owner == .thread else { return (false, over) }
                return (true, over)
            }
            if mine { drain(as: .thread) }
            if over { return }
        }
    }
}
