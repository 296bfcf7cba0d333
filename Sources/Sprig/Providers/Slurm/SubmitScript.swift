import Foundation

/// A Slurm block's batch script: `#SBATCH` lines from the provider's settings, the user's
/// `scheduler_options` and `worker_init`, then the launcher starting the connector, whose
/// connect-back details (the run's secret among them) are a here-document read by a shell
/// builtin. The file is written mode 0600.
struct SubmitScript {
    let provider: SlurmProvider
    let block: Int
    let jobName: String
    /// Where the job's own stdout and stderr go.
    let outputPath: String
    let errorPath: String
    /// The one JSON line the connector reads.
    let connectLine: String
    let connectorSource: String
    /// Nodes of the job: one block (one manager) each.
    var nodes = 1

    /// Minutes for `--time`, from `HH:MM:SS` (also `MM:SS`, `SS`, `D-HH:MM:SS`), rounded up.
    static func minutes(_ walltime: String) throws -> Int {
        var days = 0
        var rest = Substring(walltime)
        if let dash = rest.firstIndex(of: "-") {
            guard let value = Int(rest[..<dash]) else { throw badWalltime(walltime) }
            days = value
            rest = rest[rest.index(after: dash)...]
        }
        let parts = rest.split(separator: ":", omittingEmptySubsequences: false).map { Int($0) }
        guard (1...3).contains(parts.count), parts.allSatisfy({ $0 != nil && $0! >= 0 }) else { throw badWalltime(walltime) }
        let numbers = Array(repeating: 0, count: 3 - parts.count) + parts.map { $0! }
        let seconds = days * 86400 + numbers[0] * 3600 + numbers[1] * 60 + numbers[2]
        guard seconds > 0 else { throw badWalltime(walltime) }
        return (seconds + 59) / 60
    }

    private static func badWalltime(_ text: String) -> ProviderError {
        ProviderError(message: "SlurmProvider: walltime \"\(text)\" is not a time like \"HH:MM:SS\" above zero")
    }

    func text() throws -> String {
        var lines = ["#!/bin/bash", "#SBATCH --job-name=\(jobName)", "#SBATCH --output=\(outputPath)", "#SBATCH --error=\(errorPath)",
                     "#SBATCH --nodes=\(nodes)", "#SBATCH --ntasks-per-node=1",
                     "#SBATCH --time=\(try Self.minutes(provider.walltime))"]
        if provider.exclusive { lines.append("#SBATCH --exclusive") }
        if let cores = provider.declaredCores { lines.append("#SBATCH --cpus-per-task=\(cores)") }
        if let memory = provider.declaredMemory { lines.append("#SBATCH --mem=\(Int(memory.rounded(.up)))g") }
        for (option, value) in [("partition", provider.partition), ("account", provider.account), ("qos", provider.qos),
                                ("constraint", provider.constraint), ("clusters", provider.clusters)] {
            if let value, !value.isEmpty { lines.append("#SBATCH --\(option)=\(value)") }
        }
        let extra = provider.schedulerOptions.split(separator: "\n", omittingEmptySubsequences: true)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        lines += extra
        lines.append("")
        // The node's folder for Sprig's shipped code and the manager's logs (`~` expands here, on the node).
        let folder = provider.scriptDir.hasPrefix("~/")
            ? "\"$HOME\"/" + shellQuote(String(provider.scriptDir.dropFirst(2))) : shellQuote(provider.scriptDir)
        lines.append("mkdir -p \(folder) && cd \(folder) || exit 111")
        lines += workerInitLines(provider.workerInit)
        // `read` is a builtin: the line never becomes an argument of any process.
        lines.append("IFS= read -r SPRIG_CONNECT <<'SPRIG_CONNECT_EOF'")
        lines.append(connectLine)
        lines.append("SPRIG_CONNECT_EOF")
        let command = [provider.python, "-X", "utf8", "-c", connectorSource].map(shellQuote).joined(separator: " ")
        lines += provider.launcher.lines(command: command, input: "SPRIG_CONNECT", nodes: nodes)
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes the script to `path`, readable by this user only.
    func write(to path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        let text = try text()
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw ProviderError(message: "block \(block): cannot create \(folder): \(error.localizedDescription)")
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ProviderError(message: "block \(block): cannot write \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        fchmod(fd, 0o600)
        do { try writeAll(fd, Array(text.utf8)) } catch {
            throw ProviderError(message: "block \(block): cannot write \(path): \(error)")
        }
    }
}
