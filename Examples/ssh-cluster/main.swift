// An ad-hoc cluster: one process-executor block on each host reached over ssh, all feeding one
// executor. Runs CPU-bound apps and shows which host ran each. Hosts come from the command line,
// or from SPRIG_SSH_HOSTS (the project's SSH test hosts: scripts/testbed/ssh/up.sh, then
// `. /tmp/sprig-testbed/env.sh`). The hosts need only python3 (same minor version); Sprig's code
// travels through the ssh stream.
import Foundation
import Sprig

// Ctrl-C and SIGTERM stop every block before the program exits (the library leaves signals to the program).
ProgramSignals.stopOnInterrupt()

let pythonFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../../python/examples").standardizedFileURL.path
var hosts = Array(CommandLine.arguments.dropFirst())
if hosts.isEmpty { hosts = (ProcessInfo.processInfo.environment["SPRIG_SSH_HOSTS"] ?? "").split(separator: " ").map(String.init) }
guard !hosts.isEmpty else {
    print("usage: ssh-cluster HOST [HOST…]  (or set SPRIG_SSH_HOSTS)")
    exit(2)
}

let channels: [any Channel] = hosts.map { SSHChannel(hostname: $0, scriptDir: "/tmp/sprig-ssh-cluster") }
let cluster = HighThroughputExecutor(label: "cluster", maxWorkers: 2,
                                     provider: AdHocProvider(channels: channels, workerInit: "source /etc/profile"))
let dfk = try DataFlowKernel(config: Config(executors: [cluster], strategy: .none,
                                            python: PythonConfiguration(searchPaths: [pythonFolder])))
let burn = try dfk.pythonApp(module: "apps", function: "burn_on_host")

// Blocks connect in the background; tasks go to whichever hosts are ready. Wait briefly so that
// the spread over all hosts shows.
let ready = ContinuousClock.now + .seconds(10)
func readyHosts() -> [String] { dfk.executorStatus("cluster")?.readyBlocks.map(\.host) ?? [] }
while readyHosts().count < hosts.count && ContinuousClock.now < ready { usleep(20_000) }
print("ready hosts: \(readyHosts().sorted().joined(separator: ", "))")

let start = ContinuousClock.now
let places = (0..<12).map { _ in burn(2_000_000) }
var counts: [String: Int] = [:]
for place in places { counts[try place.result(as: String.self), default: 0] += 1 }
print("12 apps in \(ContinuousClock.now - start), by host:", counts.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))
dfk.shutdown()
