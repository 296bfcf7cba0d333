import Foundation
import Synchronization
import Testing
@testable import Sprig

@Suite("Threads and descriptors", .timeLimit(.minutes(1)))
struct ThreadingTests {
    /// Waits stop spinning once spins keep missing their results (slow results: the spin only
    /// takes a core from what produces them), probe now and then, and spin again after a hit.
    @Test func waitsSpinOnlyWhileSpinningFindsResults() {
        var verdict = SpinVerdict()
        var missing: [Bool] = []
        for _ in 0..<SpinVerdict.giveUpAfter {
            missing.append(verdict.shouldSpin())
            verdict.spun(found: false)
        }
        #expect(missing == Array(repeating: true, count: SpinVerdict.giveUpAfter))
        let next = (0..<SpinVerdict.probeEvery).map { _ in verdict.shouldSpin() }
        #expect(next == Array(repeating: false, count: SpinVerdict.probeEvery - 1) + [true])  // parks, then one probe
        verdict.spun(found: true)  // the probe found its result: results are quick again
        let again = [verdict.shouldSpin(), verdict.shouldSpin()]
        verdict.spun(found: false)
        let afterOneMiss = verdict.shouldSpin()  // one miss is not enough to stop
        #expect(again == [true, true] && afterOneMiss)
    }

    /// Every caller of `join()` returns only once the thread's closure has returned — a second
    /// joiner too (it used to return at once, on an unsynchronised flag, while the thread still ran).
    @Test func everyJoinerWaitsForTheEnd() throws {
        for _ in 0..<30 {
            let release = DispatchSemaphore(value: 0)
            let bodyDone = Atomic<Bool>(false)
            let thread = try JoinableThread(name: "body") {
                release.wait()
                bodyDone.store(true, ordering: .sequentiallyConsistent)
            }
            let calling = Atomic<Int>(0)
            let sawEnd = Mutex<[Bool]>([])
            let joiners = DispatchGroup()
            for _ in 0..<2 {
                DispatchQueue.global().async(group: joiners) {
                    calling.add(1, ordering: .sequentiallyConsistent)
                    thread.join()
                    sawEnd.withLock { $0.append(bodyDone.load(ordering: .sequentiallyConsistent)) }
                }
            }
            while calling.load(ordering: .sequentiallyConsistent) < 2 { sched_yield() }
            // Give a joiner that wrongly returns early the chance to record it before the body ends.
            for _ in 0..<1_000 { sched_yield() }
            release.signal()
            #expect(joiners.wait(timeout: .now() + 10) == .success)
            #expect(sawEnd.withLock { $0 } == [true, true])
        }
    }

    /// A pipe made while another thread spawns children never leaks into them. (`pipe` then
    /// `fcntl(FD_CLOEXEC)` left a window in which a concurrent spawn inherited both ends; a
    /// manager's reader then never saw end of input.) The children list their descriptors; none
    /// may be one of the pipes the other thread made.
    @Test func pipesDoNotLeakIntoConcurrentSpawns() throws {
        let stop = Atomic<Bool>(false)
        let made = Mutex<Set<String>>([])
        let maker = try JoinableThread(name: "pipes") {
            while !stop.load(ordering: .relaxed) {
                guard let pair = try? Spawn.pipe() else { continue }
                var info = stat()
                fstat(pair.read, &info)
                _ = made.withLock { $0.insert("pipe:[\(info.st_ino)]") }
                close(pair.read)
                close(pair.write)
            }
        }
        defer {
            stop.store(true, ordering: .relaxed)
            maker.join()
        }
        var seen: [String] = []
        for _ in 0..<150 {
            let out = try Spawn.pipe()
            let pid = try Spawn.start(["/bin/bash", "-c", "for f in /proc/$$/fd/*; do readlink $f; done"],
                                      descriptors: [1: out.write], newProcessGroup: false)
            close(out.write)
            var data = [UInt8](repeating: 0, count: 4096)
            var text = ""
            while true {
                let got = read(out.read, &data, data.count)
                if got <= 0 { break }
                text += String(decoding: data[0..<got], as: UTF8.self)
            }
            close(out.read)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            seen += text.split(separator: "\n").map(String.init)
        }
        stop.store(true, ordering: .relaxed)
        let leaked = made.withLock { made in seen.filter { made.contains($0) } }
        #expect(leaked.isEmpty, "children inherited pipes made concurrently: \(Set(leaked).sorted())")
    }
}
