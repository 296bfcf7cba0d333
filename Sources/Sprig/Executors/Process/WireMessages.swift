import Foundation

/// The protocol's result statuses (`python/sprig/PROTOCOL.md`, "RESULTS"; `sprig.wire` on the
/// Python side). SKIPPED never reaches the interchange; STARTED and RESOURCE do not end a task.
enum ResultStatus: UInt8 {
    case ok = 0, failed = 1, workerLost = 2, skipped = 3, started = 4, resource = 6
}

/// One entry of a RESULTS frame.
struct ResultEntry: Equatable {
    let taskID: UInt64
    /// The raw status byte: an unknown one is the block's fault and is reported as such.
    let status: UInt8
    let data: [UInt8]

    /// The entries of a RESULTS body.
    /// - Throws: ``ByteReader/Truncated`` when the body ends inside an entry.
    static func parse(_ body: [UInt8]) throws -> [ResultEntry] {
        var reader = ByteReader(body)
        let count = try reader.u32()
        var entries: [ResultEntry] = []
        entries.reserveCapacity(Int(min(count, 1 << 16)))
        for _ in 0..<count {
            entries.append(ResultEntry(taskID: try reader.u64(), status: try reader.u8(), data: try reader.blob()))
        }
        return entries
    }

    /// A STARTED entry's worker pid (its data, a u32), or `nil` when the manager sent none.
    var workerPID: Int32? {
        guard data.count >= 4 else { return nil }
        let value = UInt32(data[0]) | UInt32(data[1]) << 8 | UInt32(data[2]) << 16 | UInt32(data[3]) << 24
        return Int32(exactly: value)
    }
}

extension ResourceUsage {
    /// A RESOURCE entry's data (`python/sprig/PROTOCOL.md`, "RESOURCE"): the fields in their
    /// order, then the status name; bytes after it are later additions, ignored. `nil` when the
    /// data is shorter than that.
    init?(wire data: [UInt8]) {
        var reader = ByteReader(data)
        guard let timestamp = try? reader.f64(), let user = try? reader.f64(), let system = try? reader.f64(),
              let percent = try? reader.f64(), let resident = try? reader.u64(), let virtual = try? reader.u64(),
              let read = try? reader.u64(), let written = try? reader.u64(), let voluntary = try? reader.u64(),
              let involuntary = try? reader.u64(), let pid = try? reader.u32(), let threads = try? reader.u32(),
              let children = try? reader.u32(), let cpu = try? reader.i32(), let status = try? reader.shortText()
        else { return nil }
        self.init(pid: Int32(truncatingIfNeeded: pid), userTime: user, systemTime: system, residentBytes: Int64(truncatingIfNeeded: resident),
                  virtualBytes: Int64(truncatingIfNeeded: virtual), memoryPercent: percent, threads: Int(threads),
                  readBytes: Int64(truncatingIfNeeded: read), writeBytes: Int64(truncatingIfNeeded: written), children: Int(children),
                  status: status, cpu: Int(cpu), voluntarySwitches: Int64(truncatingIfNeeded: voluntary),
                  involuntarySwitches: Int64(truncatingIfNeeded: involuntary), timestamp: timestamp)
    }
}

/// A JSON message of the protocol (a frame body, or the data of a RESULTS entry).
protocol JSONMessage: Decodable {}

extension JSONMessage {
    /// The message in `bytes`, or `nil` when they are not one.
    static func parse(_ bytes: [UInt8]) -> Self? { try? JSONDecoder().decode(Self.self, from: Data(bytes)) }
}

/// A manager's HELLO (JSON), as far as this side reads it.
struct ManagerHello: JSONMessage, Equatable {
    let `protocol`: Int?
    let python: String?
    /// The full version (`3.11.2`), where `python` is the minor one.
    let pythonFull: String?
    let executable: String?
    let serializer: String?
    let serializerVersion: String?
    let host: String?
    let pid: Int32?
    /// Whether its workers share this machine's `/dev/shm` (protocol 3; absent: no).
    let sharedMemory: Bool?
    /// Whether it hands its ready workers' pipes to the engine over the control socket (the
    /// two-hop path of a local block; absent: no).
    let handsOffWorkers: Bool?

    enum CodingKeys: String, CodingKey {
        case `protocol`, python, executable, serializer, host, pid
        case sharedMemory = "shared_memory"
        case handsOffWorkers = "hands_off_workers"
        case serializerVersion = "serializer_version"
        case pythonFull = "python_full"
    }

}

/// This side's answer to a HELLO.
struct HelloAck: Encodable, Equatable {
    let ok: Bool
    let error: String?

    /// The frame body: `{"ok": true}`, or `{"ok": false, "error": "…"}`.
    var body: [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return [UInt8]((try? encoder.encode(self)) ?? Data(#"{"ok":false}"#.utf8))
    }
}

/// A manager's STATS (JSON), as far as this side reads it.
struct ManagerStats: JSONMessage, Equatable {
    let workerPIDs: [Int32]

    enum CodingKeys: String, CodingKey { case workerPIDs = "worker_pids" }

}

/// A FAILED entry's report (JSON). Every report has `kind`, `type`, `message`, `traceback`; the
/// other fields belong to one kind each.
struct FailureReport: JSONMessage, Equatable {
    /// The kinds this side tells apart; any other kind reads as `python`.
    enum Kind: String, Decodable {
        case python, bashExit = "bash_exit", badStdStream = "bad_std_stream", missingOutputs = "missing_outputs"
        case badCommand = "bad_command", serialization, walltime
    }

    let kind: String?
    let type: String?
    let message: String?
    let traceback: String?
    let exitCode: Int32?
    let path: String?
    let missing: [String]?
    /// Base64 of the pickled exception (a `python` failure, best effort).
    let pickledException: String?

    enum CodingKeys: String, CodingKey {
        case kind, type, message, traceback, path, missing
        case exitCode = "exit_code"
        case pickledException = "pickled_exception"
    }

    var knownKind: Kind { kind.flatMap(Kind.init(rawValue:)) ?? .python }

}

/// A WORKER_LOST entry's report (JSON).
struct WorkerLostReport: JSONMessage, Equatable {
    let message: String?
}
