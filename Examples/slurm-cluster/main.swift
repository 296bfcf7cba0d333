// A Slurm cluster: blocks are sbatch jobs whose managers connect back to this process over TLS.
// Runs CPU-bound apps and shows which node ran each. The address the nodes reach this machine at
// comes from the command line, or from SPRIG_SLURM_SUBMIT_ADDR (the project's test cluster:
// scripts/testbed/slurm/up.sh netns 3, then `. /tmp/sprig-testbed/slurm-netns/env.sh`, which also
// sets SLURM_CONF). The nodes need only python3 (same minor version); Sprig's code travels
// through the connection.
import Foundation
import Sprig

// Ctrl-C and SIGTERM stop every block (and cancel its job) before the program exits.
ProgramSignals.stopOnInterrupt()

let pythonFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../../python/examples").standardizedFileURL.path
let environment = ProcessInfo.processInfo.environment
guard let address = CommandLine.arguments.dropFirst().first ?? environment["SPRIG_SLURM_SUBMIT_ADDR"] else {
    print("usage: slurm-cluster ADDRESS  (or set SPRIG_SLURM_SUBMIT_ADDR): where the compute nodes reach this machine")
    exit(2)
}

// Three one-node jobs of ten minutes; `PYTHONPATH` reaches the jobs (sbatch passes the environment on).
let provider = SlurmProvider(initBlocks: 3, maxBlocks: 3, walltime: "00:10:00", workerInit: "export PYTHONPATH=\(pythonFolder)")
let cluster = HighThroughputExecutor(label: "cluster", maxWorkers: 2, provider: provider, address: address)
let dfk = try DataFlowKernel(config: Config(executors: [cluster], strategy: .none,
                                            python: PythonConfiguration(searchPaths: [pythonFolder])))
let burn = try dfk.pythonApp(module: "apps", function: "burn_on_host")

let start = ContinuousClock.now
let places = (0..<12).map { _ in burn(2_000_000) }
var counts: [String: Int] = [:]
for place in places { counts[try place.result(as: String.self), default: 0] += 1 }
print("12 apps in \(ContinuousClock.now - start), by node:", counts.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))
dfk.shutdown()  // cancels every job of the run
