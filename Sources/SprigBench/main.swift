// sprig-bench: benchmarks that print figures, plus `python-info`, a probe the tests use.
import Foundation
import PythonBridge
import Sprig

let arguments = CommandLine.arguments.dropFirst()
switch arguments.first {
case "python-info":
    // Prints how the embedded interpreter started; with a module name, whether it imports.
    do {
        let info = try Python.start()
        print("executable=\(info.executable)")
        print("source=\(info.executableSource)")
        print("prefix=\(info.prefix)")
        print("version=\(info.version.major).\(info.version.minor)")
        if let module = arguments.dropFirst().first {
            do {
                _ = try Python.importModule(module)
                print("import=ok")
            } catch {
                print("import=failed: \(error)")
            }
        }
    } catch {
        print("error=\(error)")
        exit(1)
    }
case "hold":
    // For tests: starts a process executor, keeps two long tasks running, prints the block's PIDs,
    // then waits to be interrupted — or, with --exit, exits at once without shutting down.
    try holdBlocks(exitAtOnce: arguments.contains("--exit"))
case "ssh":
    try runSSHBenchmark(runs: arguments.firstIndex(of: "--runs").flatMap { Int(arguments[arguments.index(after: $0)]) } ?? 3)
case "cache":
    // App caching on the process executor: throughput with caching off and on, resuming cached tasks.
    try runCacheBenchmark(Array(arguments.dropFirst()))
case "spawn":
    // Thread-executor bash apps against a bare posix_spawn + waitpid loop, alternating.
    try runSpawnBenchmark(Array(arguments.dropFirst()))
case "wakeups":
    // The floors under the engine's hand-offs: a semaphore and a pipe between two threads.
    try runWakeupBenchmark(rounds: arguments.firstIndex(of: "--rounds").flatMap { Int(arguments[arguments.index(after: $0)]) } ?? 5_000)
case "roundtrips":
    // Only sequential no-op round trips on the process executor: a short run to profile.
    try runRoundTripBenchmark(rounds: arguments.firstIndex(of: "--rounds").flatMap { Int(arguments[arguments.index(after: $0)]) } ?? 2_000)
case "script":
    try runScriptBenchmark(runs: arguments.firstIndex(of: "--runs").flatMap { Int(arguments[arguments.index(after: $0)]) } ?? 5)
default:
    try runBenchmarks(Array(arguments))
}
