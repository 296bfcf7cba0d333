import Foundation
import PythonBridge
import Synchronization

/// The shared-memory segments of one process executor's run (`python/sprig/PROTOCOL.md`,
/// "Payloads"): the run prefix its local blocks' managers get (`--shared-memory PREFIX`), the
/// probe file that tells a manager it sees this machine's `/dev/shm`, the results' segments it
/// holds, and the sweep at shutdown.
///
/// Thread contract: every method may be called from any thread; ``shutdown()`` takes the GIL.
final class PayloadSegments: Sendable {
    /// Where segments live (`shm_open`'s folder on Linux).
    static let folder = "/dev/shm"

    /// `sprig-<pid>-<12 random hex digits>`: unique per run and process, not guessable.
    let prefix: String
    /// Results' leases still alive, by identity (weak: a lease ends when its value is released).
    private let live = Mutex<[ObjectIdentifier: WeakLease]>([:])

    private struct WeakLease { weak var lease: SegmentLease? }

    init() {
        var random = SystemRandomNumberGenerator()
        let token = (0..<6).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &random)) }.joined()
        prefix = "sprig-\(getpid())-\(token)"
    }

    /// Makes the probe (`PREFIX-probe`, mode 0600, holding this engine's ``ProcessIdentity``);
    /// returns whether it could (no `/dev/shm`: every block then gets its buffers inline). From then
    /// on the prefix is swept at the executor's shutdown, or when the process exits without one; if
    /// the process is killed first, by the managers of its local blocks once their workers have
    /// exited (they read the probe when they start), or else by the next engine to start here.
    func makeProbe() -> Bool {
        let fd = open(Self.folder + "/" + prefix + "-probe", O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return false }
        let identity = Array(((ProcessIdentity.current?.text ?? "") + "\n").utf8)
        _ = identity.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        Self.register(prefix)
        _ = Self.tunedMalloc
        Self.removeStaleRuns()
        return true
    }

    /// Removes what engines that are gone left here (killed before they could sweep, with their
    /// blocks' managers): every file of a run whose probe names an engine of this PID namespace
    /// that has ended (``ProcessIdentity/hasEnded``); for an empty probe (an older engine's), the
    /// probe alone when its PID is free. A probe naming another namespace, or one that cannot be
    /// read, is left: a live engine's segments are never removed on a guess.
    private static func removeStaleRuns() {
        guard let directory = opendir(folder) else { return }
        var probes: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            let parts = name.split(separator: "-")
            guard parts.count == 4, parts[0] == "sprig", parts[3] == "probe", let pid = Int32(parts[1]), pid != getpid() else { continue }
            probes.append(name)
        }
        closedir(directory)
        for name in probes {
            let path = folder + "/" + name
            var info = stat()
            guard lstat(path, &info) == 0, info.st_uid == getuid(), (info.st_mode & S_IFMT) == S_IFREG else { continue }
            let runPrefix = String(name.dropLast("-probe".count))
            if info.st_size == 0 {
                if let pid = Int32(name.split(separator: "-")[1]), kill(pid, 0) != 0 && errno == ESRCH { Glibc.unlink(path) }
            } else if let text = try? String(contentsOfFile: path, encoding: .utf8), let owner = ProcessIdentity(text: text), owner.hasEnded {
                sweep(runPrefix)
            }
        }
    }

    /// Large results are read into fresh memory here (for Python) once per task: glibc would map
    /// and unmap each (256 page faults per MiB, about a third of the engine's time per 1 MiB
    /// result). Buffers under 4 MiB come from the heap instead, which keeps up to 16 MiB free;
    /// settings the user gave (`MALLOC_MMAP_THRESHOLD_`, `MALLOC_TRIM_THRESHOLD_`) are left alone.
    private static let tunedMalloc: Void = {
        let environment = ProcessInfo.processInfo.environment
        guard environment["MALLOC_MMAP_THRESHOLD_"] == nil && environment["MALLOC_TRIM_THRESHOLD_"] == nil,
              let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }  // (RTLD_DEFAULT)
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        _ = mallopt(-3, 4 << 20)  // M_MMAP_THRESHOLD (malloc.h)
        _ = mallopt(-1, 16 << 20)  // M_TRIM_THRESHOLD
    }()

    /// Prefixes with files that no shutdown has swept yet: swept by an `atexit` handler, so a
    /// program that exits without shutting its kernel down leaves no segment behind either.
    private static let unswept = Mutex<Set<String>>([])
    private static let exitHandler: Void = { atexit { PayloadSegments.sweepUnswept() } }()

    private static func register(_ prefix: String) {
        _ = exitHandler
        _ = unswept.withLock { $0.insert(prefix) }
    }

    private static func sweepUnswept() {
        for prefix in unswept.withLock({ $0 }) { sweep(prefix) }
    }

    /// A lease on the segments of a result payload (`nil` when it has none), which unlinks them when
    /// it ends; registered so that ``shutdown()`` can keep the result readable.
    func resultLease(for payload: [UInt8]) -> SegmentLease? {
        let names = Self.segmentNames(in: payload)
        guard !names.isEmpty else { return nil }
        let lease = SegmentLease(names: names, owner: self, stored: payload)
        live.withLock { $0[ObjectIdentifier(lease)] = WeakLease(lease: lease) }
        return lease
    }

    /// A lease on a task's argument segments (`nil` when it has none): they are unlinked when the
    /// task leaves its block, in case no worker consumed them.
    static func argumentLease(for payload: [UInt8]) -> SegmentLease? {
        let names = segmentNames(in: payload)
        return names.isEmpty ? nil : SegmentLease(names: names, owner: nil, stored: [])
    }

    /// Unlinks the segments of a result nobody will read (its task had already ended).
    static func discard(_ payload: [UInt8]) {
        for name in segmentNames(in: payload) { SegmentLease.unlink(name) }
    }

    fileprivate func forget(_ lease: ObjectIdentifier) {
        _ = live.withLock { $0.removeValue(forKey: lease) }
    }

    /// At the executor's shutdown, once no block is left: results still held get their segments'
    /// bytes inline (they stay readable after the run), then every file of the prefix is removed
    /// — whatever a killed worker left too. Returns how many files were removed. Takes the GIL.
    @discardableResult
    func shutdown() -> Int {
        let leases = live.withLock { table in table.values.compactMap(\.lease) }
        for lease in leases { lease.keepInline() }
        return sweep()
    }

    /// Removes every file of the prefix (`PREFIX-…`) in ``folder``; returns how many.
    @discardableResult
    func sweep() -> Int {
        _ = Self.unswept.withLock { $0.remove(prefix) }
        return Self.sweep(prefix)
    }

    @discardableResult
    private static func sweep(_ prefix: String) -> Int {
        guard let directory = opendir(folder) else { return 0 }
        defer { closedir(directory) }
        let start = prefix + "-"
        var removed = 0
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name.hasPrefix(start) && Glibc.unlink(folder + "/" + name) == 0 { removed += 1 }
        }
        return removed
    }

    /// The segment names of a payload's envelope (none for a plain pickle or a malformed envelope).
    static func segmentNames(in payload: [UInt8]) -> [String] {
        // "SPRO", u32 count, then per buffer: u8 place, u8 flags, u64 length, inline bytes or a name.
        guard payload.count >= 8, payload[0] == 0x53, payload[1] == 0x50, payload[2] == 0x52, payload[3] == 0x4F else { return [] }
        var reader = ByteReader(payload)
        reader.offset = 4
        guard let count = try? reader.u32() else { return [] }
        var names: [String] = []
        for _ in 0..<count {
            guard let place = try? reader.u8(), (try? reader.u8()) != nil, let length = try? reader.u64() else { return names }
            switch place {
            case 0:
                guard length <= UInt64(payload.count - reader.offset) else { return names }
                reader.offset += Int(length)
            case 1:
                guard let name = try? reader.shortText() else { return names }
                if SegmentLease.isSprigName(name) { names.append(name) }
            default:
                return names
            }
        }
        return names
    }
}

/// The segments of one payload, unlinked when the lease ends (its last holder lets it go).
///
/// A result's lease can instead keep the payload with its buffers inline (``keepInline()``, at
/// shutdown): ``payload(_:)`` then gives that.
final class SegmentLease: Sendable {
    let names: [String]
    private let owner: PayloadSegments?
    /// The payload (a result's; empty for arguments, which are never kept inline).
    private let stored: [UInt8]
    /// The payload with its buffers inline, once the segments are gone.
    private let inline = Mutex<[UInt8]?>(nil)

    fileprivate init(names: [String], owner: PayloadSegments?, stored: [UInt8]) {
        self.names = names
        self.owner = owner
        self.stored = stored
    }

    deinit {
        for name in names { Self.unlink(name) }
        owner?.forget(ObjectIdentifier(self))
    }

    /// What to read instead of `stored` (the payload this lease is for): `stored` while the
    /// segments are there, the inline copy after ``keepInline()``.
    func payload(_ stored: [UInt8]) -> [UInt8] { inline.withLock { $0 } ?? stored }

    /// Reads the segments into an inline payload (`sprig.serialize.inline`) and unlinks them. Takes the GIL.
    fileprivate func keepInline() {
        guard !stored.isEmpty, inline.withLock({ $0 == nil }) else { return }
        let copy = try? withGIL { try [UInt8](python: PythonSide.serializer("inline").call([stored.toPython()])) }
        if let copy { inline.withLock { $0 = copy } }
        for name in names { Self.unlink(name) }
    }

    static func unlink(_ name: String) {
        guard isSprigName(name) else { return }
        _ = Glibc.unlink(PayloadSegments.folder + "/" + name)
    }

    /// Whether `name` is a segment name Sprig makes (`sprig-` then letters, digits, `-`, `_`): it
    /// cannot leave ``PayloadSegments/folder``.
    static func isSprigName(_ name: String) -> Bool {
        name.hasPrefix("sprig-") && name.utf8.count <= 200
            && name.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D || $0 == 0x5F }
    }
}

/// Which process made a run's segments: its PID, its start time (clock ticks after boot, from
/// `/proc/PID/stat`: a later process given the same PID has another) and its PID namespace
/// (`/proc/PID/ns/pid`: in which PIDs count). Written into the run's probe as
/// `"<pid> <start time> <namespace>"`, the same as `sprig.segments.process_identity`.
struct ProcessIdentity: Equatable {
    let pid: Int32
    let startTime: String
    let namespace: String

    /// This process's identity; `nil` when `/proc` does not say.
    static var current: ProcessIdentity? {
        let pid = getpid()
        guard let started = startTime(of: pid), let namespace = namespace(of: "self") else { return nil }
        return ProcessIdentity(pid: pid, startTime: started, namespace: namespace)
    }

    init(pid: Int32, startTime: String, namespace: String) {
        self.pid = pid
        self.startTime = startTime
        self.namespace = namespace
    }

    /// Reads the probe's form; `nil` for anything else.
    init?(text: String) {
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard parts.count == 3, let pid = Int32(parts[0]), pid > 0 else { return nil }
        self.init(pid: pid, startTime: String(parts[1]), namespace: String(parts[2]))
    }

    var text: String { "\(pid) \(startTime) \(namespace)" }

    /// Whether this process has certainly ended: it counts PIDs in this process's namespace, and
    /// its PID is free, a zombie's, or a later process's. `false` whenever that cannot be known.
    var hasEnded: Bool {
        guard let mine = Self.namespace(of: "self"), mine == namespace else { return false }
        return Self.startTime(of: pid) != startTime
    }

    /// The start time of a live (not zombie) process.
    private static func startTime(of pid: Int32) -> String? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19, fields[0] != "Z", fields[0] != "X" else { return nil }
        return String(fields[19])
    }

    private static func namespace(of process: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 128)
        let count = readlink("/proc/\(process)/ns/pid", &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
