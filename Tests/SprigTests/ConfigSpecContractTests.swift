import Foundation
import PythonBridge
@testable import Sprig
import Testing

/// The shared contract folders at the top of the repository.
let contractsFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("contracts")

/// The cases of one contract folder, by name (the file name without `.json`).
func contractCases(_ folder: String) -> [String] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: contractsFolder.appendingPathComponent(folder).path)) ?? []
    return names.filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
}

/// One case file, read with JSONSerialization (so that it is compared as plain JSON values).
func contractCase(_ folder: String, _ name: String) throws -> [String: Any] {
    let data = try Data(contentsOf: contractsFolder.appendingPathComponent(folder).appendingPathComponent(name + ".json"))
    return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any], "\(folder)/\(name).json is not an object")
}

/// `value` as JSON text with sorted keys, for comparisons whose failures show both sides.
func canonicalJSON(_ value: Any) throws -> String {
    String(decoding: try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]), as: UTF8.self)
}

@Suite("The config-spec contract (contracts/config-spec)", .timeLimit(.minutes(1)))
struct ConfigSpecContractTests {
    static let cases = contractCases("config-spec")

    @Test func theFolderHasCases() {
        #expect(Self.cases.count >= 10)
    }

    /// The spec as the engine receives it: a Python dict (`"<callable>"` stands for a function).
    private func pythonSpec(_ spec: Any) throws -> PythonObject {
        try Python.start()
        return try withGIL {
            let object = try Python.importModule("json").attribute("loads").call(try canonicalJSON(spec))
            let withHandler = try Python.evaluate(
                "lambda d: {**d, 'retry_handler': lambda exc, task: 0.5} if d.get('retry_handler') == '<callable>' else d")
            return try withHandler.call([object])
        }
    }

    @Test(arguments: cases)
    func swiftDecodesTheSpecWithItsDefaults(name: String) throws {
        let file = try contractCase("config-spec", name)
        let spec = try #require(file["spec"] as? [String: Any])
        let object = try pythonSpec(spec)
        if let message = file["error"] as? String {
            let error = try #require(throws: ConfigError.self) { try withGIL { try ConfigSpec.read(object) } }
            #expect(error.message.contains(message), "\(name): \(error.message)")
            return
        }
        let (decoded, handler) = try withGIL { try ConfigSpec.read(object) }
        #expect((handler != nil) == (spec["retry_handler"] as? String == "<callable>"))
        let encoded = try JSONSerialization.jsonObject(with: JSONEncoder().encode(decoded))
        #expect(try canonicalJSON(encoded) == canonicalJSON(try #require(file["decoded"])), "\(name)")
    }

    /// The executors and settings the engine builds are the decoded values, defaults included.
    @Test(arguments: cases.filter { !$0.hasPrefix("error_") })
    func theBuiltConfigHasTheDecodedValues(name: String) throws {
        let file = try contractCase("config-spec", name)
        let expected = try #require(file["decoded"] as? [String: Any])
        let object = try pythonSpec(try #require(file["spec"]))
        let (spec, handler) = try withGIL { try ConfigSpec.read(object) }
        let (config, joinLabel) = try ScriptConfig.config(from: spec, retryHandler: handler)
        #expect(config.retries == expected["retries"] as? Int)
        #expect(config.runDirectory == expected["run_dir"] as? String)
        #expect(joinLabel == expected["join_executor"] as? String)
        #expect(config.executors.contains { $0.label == joinLabel && $0 is ThreadPoolExecutor })
        #expect((config.retryHandler != nil) == (handler != nil))
        #expect((config.stdAutopath != nil) == (expected["std_autopath"] as? Bool == true))
        let idle = try #require(expected["max_idletime"] as? Double)
        #expect(config.strategy == (expected["strategy"] as? String == "none" ? .none : .simple(idleTime: .seconds(idle))))
        for entry in try #require(expected["executors"] as? [[String: Any]]) {
            let label = try #require(entry["label"] as? String)
            let executor = try #require(config.executors.first { $0.label == label })
            if let threads = executor as? ThreadPoolExecutor {
                #expect(threads.maxThreads == entry["max_threads"] as? Int)
                continue
            }
            let htex = try #require(executor as? HighThroughputExecutor)
            #expect(htex.maxWorkers == (entry["max_workers"] as? Int ?? .max))
            #expect(htex.coresPerWorker == entry["cores_per_worker"] as? Double)
            #expect(htex.workerDebug == entry["worker_debug"] as? Bool)
            #expect(htex.prefetch == entry["prefetch"] as? Int)
            #expect(htex.heartbeatPeriod == .seconds(try #require(entry["heartbeat_period"] as? Double)))
            #expect(htex.heartbeatThreshold == .seconds(try #require(entry["heartbeat_threshold"] as? Double)))
            #expect(htex.workerLogDirectory == entry["worker_logdir_root"] as? String)
            #expect(htex.address == entry["address"] as? String)
            let ports = try #require(entry["worker_port_range"] as? [Int])
            #expect(htex.workerPortRange == ports[0]...ports[1])
            let provider = try #require(entry["provider"] as? [String: Any])
            if provider["kind"] as? String == "slurm" {
                let slurm = try #require(htex.provider as? SlurmProvider)
                #expect(slurm.partition == provider["partition"] as? String && slurm.account == provider["account"] as? String)
                #expect(slurm.qos == provider["qos"] as? String && slurm.constraint == provider["constraint"] as? String)
                #expect(slurm.declaredCores == provider["cores_per_node"] as? Int && slurm.declaredMemory == provider["mem_per_node"] as? Double)
                #expect(slurm.walltime == provider["walltime"] as? String && slurm.exclusive == provider["exclusive"] as? Bool)
                #expect(slurm.schedulerOptions == provider["scheduler_options"] as? String)
                #expect(slurm.workerInit == provider["worker_init"] as? String && slurm.cmdTimeout == provider["cmd_timeout"] as? Int)
                #expect([slurm.initJobs, slurm.minJobs, slurm.maxJobs]
                        == ["init_blocks", "min_blocks", "max_blocks"].map { provider[$0] as? Int ?? -1 })
                let launcher = try #require(provider["launcher"] as? [String: Any])
                #expect(slurm.launcher == .srun(overrides: launcher["overrides"] as? String ?? "", debug: launcher["debug"] as? Bool ?? true))
            } else if provider["kind"] as? String == "local" {
                #expect(htex.provider.initBlocks == provider["init_blocks"] as? Int)
                #expect(htex.provider.minBlocks == provider["min_blocks"] as? Int)
                #expect(htex.provider.maxBlocks == provider["max_blocks"] as? Int)
            } else {
                let adhoc = try #require(htex.provider as? AdHocProvider)
                let channels = try #require(provider["channels"] as? [[String: Any]])
                #expect(adhoc.channels.map(\.host) == channels.map { $0["hostname"] as? String ?? "localhost" })
                #expect(adhoc.coresPerHost == provider["cores_per_host"] as? Int)
            }
        }
    }

    @Test func aSpecThatIsNotADictOrHoldsAnObjectIsRefusedClearly() throws {
        try Python.start()
        let list = try withGIL { try Python.evaluate("[1, 2]") }
        let notADict = try #require(throws: ConfigError.self) { try withGIL { try ConfigSpec.read(list) } }
        #expect(notADict.message.contains("must be a dict"))
        let withObject = try withGIL { try Python.evaluate("{'executors': [{'kind': 'threads', 'label': object()}]}") }
        let error = try #require(throws: ConfigError.self) { try withGIL { try ConfigSpec.read(withObject) } }
        #expect(error.message.contains("not a number, string, bool, list or dict"))
    }
}
