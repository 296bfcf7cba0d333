import Foundation
import Synchronization

/// Samples, every `interval`, the resident memory of this process and the sum over every process
/// descended from it (managers, workers, bash commands), read from /proc. Keeps the peaks over the
/// whole run and per named phase; starting and ending a phase also samples at once, so that a
/// phase shorter than the interval still has samples.
final class MemorySampler: Sendable {
    struct Peaks: Sendable {
        var own: Double = 0
        var descendants: Double = 0
    }

    private struct State {
        var overall = Peaks()
        var phases: [String: Peaks] = [:]
        var current: String?
        var stopped = false
    }

    private let state = Mutex(State())

    init(intervalMilliseconds: UInt32 = 20) {
        let thread = Thread { [self] in
            while !state.withLock({ $0.stopped }) {
                sample()
                usleep(intervalMilliseconds * 1000)
            }
        }
        thread.name = "memory-sampler"
        thread.start()
    }

    func begin(_ phase: String) {
        sample()
        state.withLock { $0.current = phase }
        sample()
    }

    func end() {
        sample()
        state.withLock { $0.current = nil }
    }

    func stop() { state.withLock { $0.stopped = true } }

    var overall: Peaks { state.withLock { $0.overall } }

    func peaks(_ phase: String) -> Peaks { state.withLock { $0.phases[phase] ?? Peaks() } }

    private func sample() {
        let me = getpid()
        let own = residentMegabytes(me)
        let descendants = descendantProcessIDs(of: me).filter { !sharesParentMemory($0) }.map(residentMegabytes).reduce(0, +)
        state.withLock { state in
            state.overall.own = max(state.overall.own, own)
            state.overall.descendants = max(state.overall.descendants, descendants)
            if let phase = state.current {
                var peaks = state.phases[phase] ?? Peaks()
                peaks.own = max(peaks.own, own)
                peaks.descendants = max(peaks.descendants, descendants)
                state.phases[phase] = peaks
            }
        }
    }
}

/// Every process whose chain of parents reaches `root` (from /proc/PID/stat).
func descendantProcessIDs(of root: Int32) -> [Int32] {
    var children: [Int32: [Int32]] = [:]
    for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
        guard let pid = Int32(name), let stat = try? String(contentsOfFile: "/proc/\(name)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { continue }
        let fields = stat[stat.index(after: close)...].split(separator: " ", maxSplits: 3)
        if fields.count > 1, let parent = Int32(fields[1]) { children[parent, default: []].append(pid) }
    }
    var found: [Int32] = []
    var queue = children[root] ?? []
    while let pid = queue.popLast() {
        found.append(pid)
        queue += children[pid] ?? []
    }
    return found
}

/// Whether a process's /proc/PID/statm equals its parent's: a child between vfork/posix_spawn and
/// exec shares its parent's memory, which must not be counted twice.
func sharesParentMemory(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")"),
          let parent = stat[stat.index(after: close)...].split(separator: " ", maxSplits: 3).dropFirst().first,
          let mine = try? String(contentsOfFile: "/proc/\(pid)/statm", encoding: .utf8),
          let theirs = try? String(contentsOfFile: "/proc/\(parent)/statm", encoding: .utf8) else { return false }
    return mine == theirs
}

/// Resident memory of a process now, in MB (0 when it is gone).
func residentMegabytes(_ pid: Int32) -> Double {
    guard let statm = try? String(contentsOfFile: "/proc/\(pid)/statm", encoding: .utf8) else { return 0 }
    let fields = statm.split(separator: " ")
    guard fields.count > 1, let pages = Double(fields[1]) else { return 0 }
    return pages * Double(sysconf(Int32(_SC_PAGESIZE))) / 1_048_576
}
