import Foundation
@testable import Sprig
import Testing

/// The manager protocol checked against the shared vectors in `contracts/frames/` (the same files
/// pytest checks the Python side with): every frame this side sends is encoded to exactly the
/// vector's bytes, and every frame it receives decodes to the vector's meaning.
@Suite("Frame contract")
struct FrameContractTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../contracts/frames").standardizedFileURL

    struct Case {
        let name: String
        let bytes: [UInt8]
        let meaning: [String: Any]
        var type: String { meaning["type"] as? String ?? "?" }
        var body: [UInt8] { Array(bytes.dropFirst(5)) }
    }

    static func cases() throws -> [Case] {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") }.sorted()
        return try names.map { name in
            let stem = String(name.dropLast(5))
            let meaning = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent(name))) as! [String: Any]
            return Case(name: stem, bytes: [UInt8](try Data(contentsOf: folder.appendingPathComponent(stem + ".bin"))), meaning: meaning)
        }
    }

    /// A blob given as `NAME_hex` or `NAME_text`.
    static func blob(_ entry: [String: Any], _ name: String) -> [UInt8] {
        if let text = entry["\(name)_text"] as? String { return Array(text.utf8) }
        let hex = entry["\(name)_hex"] as? String ?? ""
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return bytes
    }

    @Test func everyFrameTypeAndStatusHasAVectorAndTheVersionMatches() throws {
        let cases = try Self.cases()
        #expect(Set(cases.map(\.type)) == ["HELLO", "HELLO_ACK", "TASKS", "RESULTS", "HEARTBEAT", "SHUTDOWN", "KILL_TASK", "STATS",
                                             "WORKER_READY", "WORKER_ENDED", "KILL_WORKER", "WORKER_SILENT"])
        for item in cases {
            #expect(item.meaning["protocol"] as? Int == managerProtocolVersion, "\(item.name)")
            let code = FrameType(rawValue: item.bytes[4])?.rawValue ?? ControlSocket.Kind(rawValue: item.bytes[4])?.rawValue
            #expect(code == item.meaning["type_code"] as? UInt8, "\(item.name)")
            let length = Int(item.bytes[0]) | Int(item.bytes[1]) << 8 | Int(item.bytes[2]) << 16 | Int(item.bytes[3]) << 24
            #expect(length == item.bytes.count - 5, "\(item.name)")
        }
        let statuses = cases.flatMap { ($0.meaning["results"] as? [[String: Any]] ?? []).compactMap { $0["status"] as? String } }
        #expect(Set(statuses).isSuperset(of: ["OK", "FAILED", "WORKER_LOST", "STARTED", "RESOURCE"]))
    }

    /// Frames this side sends: its encoder produces exactly the vector's bytes (HELLO_ACK, JSON, by meaning).
    @Test func framesThisSideSendsAreEncodedExactly() throws {
        for item in try Self.cases() {
            switch item.type {
            case "HEARTBEAT": #expect(ByteWriter().frame(.heartbeat) == item.bytes)
            case "SHUTDOWN": #expect(ByteWriter().frame(.shutdown) == item.bytes)
            case "KILL_TASK":
                var body = ByteWriter()
                body.u64(UInt64(item.meaning["task_id"] as! Int))
                #expect(body.frame(.killTask) == item.bytes, "\(item.name)")
            case "TASKS":
                let tasks = item.meaning["tasks"] as! [[String: Any]]
                var body = ByteWriter()
                body.u32(UInt32(tasks.count))
                for entry in tasks {
                    let attempt = Attempt(taskID: TaskID(entry["task_id"] as! Int), app: "a", number: 1, work: .swift({ 0 }),
                                          walltime: nil, onEnd: { _ in })
                    let kind: WireTask.Kind = ["PYTHON": .python, "BASH_FROM_PYTHON": .pythonBash, "BASH": .bash][entry["kind"] as! String]!
                    let function = Self.blob(entry, "fn")
                    let task = WireTask(attempt: attempt, kind: kind, functionKey: UInt64(entry["fn_key"] as! Int), function: function,
                                        options: Self.blob(entry, "options"), payload: Self.blob(entry, "payload"))
                    task.write(to: &body, includeFunction: !function.isEmpty)
                }
                #expect(body.frame(.tasks) == item.bytes, "\(item.name)")
            case "HELLO_ACK":
                let expected = try JSONSerialization.jsonObject(with: Data(item.body)) as! NSDictionary
                let ok = expected["ok"] as! Bool
                let mine = HelloAck(ok: ok, error: expected["error"] as? String)
                #expect(try JSONSerialization.jsonObject(with: Data(mine.body)) as! NSDictionary == expected, "\(item.name)")
                #expect(item.bytes[4] == FrameType.helloAck.rawValue)
            case "KILL_WORKER", "WORKER_SILENT":
                // JSON: by meaning (the encoder's key order is its own).
                let fields = try JSONSerialization.jsonObject(with: Data(item.body)) as! [String: Any]
                let kind: ControlSocket.Kind = item.type == "KILL_WORKER" ? .killWorker : .workerSilent
                let notice = ControlSocket.Notice(worker: fields["worker"] as! Int, pid: Int32(fields["pid"] as! Int),
                                                  silence: fields["silence"] as? Double, reason: fields["reason"] as? String)
                let mine = ControlSocket.frame(kind, notice)
                #expect(Array(mine.prefix(5).suffix(1)) == [item.bytes[4]], "\(item.name)")
                #expect(try JSONSerialization.jsonObject(with: Data(mine.dropFirst(5))) as! NSDictionary == fields as NSDictionary,
                        "\(item.name)")
            default: continue
            }
        }
    }

    /// Frames this side receives decode to the vector's meaning, failure reports to the error reasons.
    @Test func framesThisSideReceivesAreDecodedToTheirMeaning() throws {
        for item in try Self.cases() {
            switch item.type {
            case "HELLO":
                let fields = try JSONSerialization.jsonObject(with: Data(item.body)) as! [String: Any]
                let hello = try #require(ManagerHello.parse(item.body))
                #expect(hello.protocol == fields["protocol"] as? Int && hello.python == fields["python"] as? String)
                #expect(hello.serializer == fields["serializer"] as? String && hello.serializerVersion == fields["serializer_version"] as? String)
                #expect(hello.host == fields["host"] as? String && hello.pid == (fields["pid"] as? Int).map(Int32.init))
            case "STATS":
                let fields = try JSONSerialization.jsonObject(with: Data(item.body)) as! [String: Any]
                #expect(ManagerStats.parse(item.body)?.workerPIDs == (fields["worker_pids"] as! [Int]).map(Int32.init))
            case "WORKER_READY", "WORKER_ENDED":
                // One socket message each, read the way the block's worker reader reads it.
                let pair = try ControlSocket.pair()
                defer { close(pair.engine); close(pair.manager) }
                #expect(ControlSocket.send(item.bytes, on: pair.manager))
                let message = try #require(try ControlSocket.receive(on: pair.engine))
                #expect(message.type == item.bytes[4] && message.body == item.body && message.descriptors.isEmpty, "\(item.name)")
                let fields = try JSONSerialization.jsonObject(with: Data(item.body)) as! [String: Any]
                if item.type == "WORKER_READY" {
                    let ready = try JSONDecoder().decode(ControlSocket.WorkerReady.self, from: Data(message.body))
                    #expect(ready == ControlSocket.WorkerReady(worker: fields["worker"] as! Int, pid: Int32(fields["pid"] as! Int)))
                } else {
                    let ended = try JSONDecoder().decode(ControlSocket.WorkerEnded.self, from: Data(message.body))
                    #expect(ended == ControlSocket.WorkerEnded(worker: fields["worker"] as! Int, pid: Int32(fields["pid"] as! Int),
                                                               signal: fields["signal"] as? Int, exitCode: fields["exit_code"] as? Int,
                                                               words: fields["words"] as? String, lostReason: fields["lost_reason"] as? String),
                            "\(item.name)")
                }
            case "RESULTS":
                let expected = item.meaning["results"] as! [[String: Any]]
                let entries = try ResultEntry.parse(item.body)
                let names: [String: ResultStatus] = ["OK": .ok, "FAILED": .failed, "WORKER_LOST": .workerLost, "SKIPPED": .skipped,
                                                     "STARTED": .started, "RESOURCE": .resource]
                #expect(entries == expected.map { ResultEntry(taskID: UInt64($0["task_id"] as! Int),
                                                              status: names[$0["status"] as! String]!.rawValue, data: Self.blob($0, "data")) },
                        "\(item.name)")
                for entry in entries where entry.status == ResultStatus.failed.rawValue {
                    let fields = try JSONSerialization.jsonObject(with: Data(entry.data)) as! [String: Any]
                    let report = try #require(FailureReport.parse(entry.data), "\(item.name)")
                    Self.expectReason(WireResult.reason(for: report, walltime: nil), matches: fields)
                }
                for entry in entries where entry.status == ResultStatus.started.rawValue {
                    // The worker's pid, a u32; none from managers that sent it empty.
                    let pid = entry.data.count == 4 ? entry.data.reversed().reduce(Int32(0)) { $0 << 8 | Int32($1) } : nil
                    #expect(entry.workerPID == pid, "\(item.name)")
                }
                for (entry, meaning) in zip(entries, expected) where entry.status == ResultStatus.resource.rawValue {
                    let fields = try #require(meaning["sample"] as? [String: Any], "\(item.name)")
                    Self.expectUsage(try #require(ResourceUsage(wire: entry.data), "\(item.name)"), matches: fields)
                    // Bytes past the status are fields a later Sprig added: this one reads what it knows.
                    #expect(ResourceUsage(wire: entry.data + Array("later".utf8)) == ResourceUsage(wire: entry.data))
                    #expect(ResourceUsage(wire: Array(entry.data.dropLast())) == nil)
                }
            default: continue
            }
        }
    }

    private static func expectUsage(_ sample: ResourceUsage, matches fields: [String: Any]) {
        #expect(Int(sample.pid) == fields["psutil_process_pid"] as? Int)
        #expect(sample.userTime == fields["psutil_process_time_user"] as? Double)
        #expect(sample.systemTime == fields["psutil_process_time_system"] as? Double)
        #expect(sample.residentBytes == (fields["psutil_process_memory_resident"] as? Int).map(Int64.init))
        #expect(sample.virtualBytes == (fields["psutil_process_memory_virtual"] as? Int).map(Int64.init))
        #expect(sample.memoryPercent == fields["psutil_process_memory_percent"] as? Double)
        #expect(sample.threads == fields["psutil_process_num_threads"] as? Int)
        #expect(sample.readBytes == (fields["psutil_process_disk_read"] as? Int).map(Int64.init))
        #expect(sample.writeBytes == (fields["psutil_process_disk_write"] as? Int).map(Int64.init))
        #expect(sample.children == fields["psutil_process_children_count"] as? Int)
        #expect(sample.status == fields["psutil_process_status"] as? String)
        #expect(sample.cpu == fields["psutil_cpu_num"] as? Int)
        #expect(sample.voluntarySwitches == (fields["psutil_process_num_ctx_switches_voluntary"] as? Int).map(Int64.init))
        #expect(sample.involuntarySwitches == (fields["psutil_process_num_ctx_switches_involuntary"] as? Int).map(Int64.init))
        #expect(sample.timestamp == fields["timestamp"] as? Double)
    }

    private static func expectReason(_ reason: TaskError.Reason, matches fields: [String: Any]) {
        switch (fields["kind"] as? String, reason) {
        case ("bash_exit", .bashExit(let code)): #expect(Int(code) == fields["exit_code"] as? Int)
        case ("bad_std_stream", .badStdStream(let path, _)): #expect(path == fields["path"] as? String)
        case ("missing_outputs", .missingOutputs(let files)): #expect(files.map(\.path) == fields["missing"] as? [String])
        case ("bad_command", .badCommand(let message)), ("serialization", .serialization(let message)):
            #expect(message == fields["message"] as? String)
        case ("python", .python(let error)):
            #expect(error.typeName == fields["type"] as? String && error.message == fields["message"] as? String)
        default: Issue.record("kind \(fields["kind"] ?? "none") read as \(reason)")
        }
    }
}
