import Foundation

/// The blocks one Slurm job carries: one per node, each a listener in this process waiting for the
/// manager of its node. A job of `nodes_per_block` nodes is submitted once that many blocks have
/// their listeners, or a second after the first one if the executor asks for fewer.
struct SlurmJobMember: Sendable {
    let block: Int
    let process: BlockProcess
    /// The block's log on this machine (what its stream says), where scheduler news is written.
    let logPath: String
    let port: Int
    let fingerprint: String
    let address: String
    /// The loader's arguments on the node (`bootstrap.boot`'s, which the connector runs in its own
    /// process: the manager's, with this block's id and log folder).
    let loader: [String]
}

extension SlurmProvider {
    /// Writes the batch script for `members` (0600, named after the first block) and submits it;
    /// returns the job id.
    /// - Throws: ``ProviderError`` naming the blocks, the script and what sbatch said.
    func submit(_ members: [SlurmJobMember], session: SlurmSession, runDirectory: String) throws -> String {
        let first = members[0].block
        let names = members.map { "\($0.block)" }.joined(separator: "+")
        let nodes: [[String: Any]] = members.map { ["block": $0.block, "port": $0.port, "boot": $0.loader] }
        let details: [String: Any] = ["address": members[0].address, "fingerprint": members[0].fingerprint,
                                      "secret": session.credentials.secret, "nodes": nodes]
        let line = String(decoding: try JSONSerialization.data(withJSONObject: details, options: [.sortedKeys, .withoutEscapingSlashes]),
                          as: UTF8.self)
        let connector: String
        do { connector = try Self.connectorSource() } catch {
            throw ProviderError(message: "blocks \(names): cannot prepare Sprig's code for the nodes: \(error)")
        }
        let folder = (runDirectory as NSString).appendingPathComponent("submit_scripts")
        let run = (runDirectory as NSString).lastPathComponent
        let path = "\(folder)/block-\(first).sbatch"
        var script = SubmitScript(provider: self, block: first, jobName: "sprig.\(run).block-\(names)",
                                  outputPath: "\(folder)/block-\(first).stdout", errorPath: "\(folder)/block-\(first).stderr",
                                  connectLine: line, connectorSource: connector)
        script.nodes = members.count
        try script.write(to: path)
        return try sbatch(path, blocks: names)
    }

    private func sbatch(_ script: String, blocks: String) throws -> String {
        var argv = ["sbatch"]
        if let clusters, !clusters.isEmpty { argv.append("--clusters=" + clusters) }
        let result = try SchedulerCommand.run(argv + [script], environment: environment, timeout: .seconds(cmdTimeout))
        guard result.status == 0 else { throw ProviderError(message: "block \(blocks): sbatch \(script) failed: \(result.said)") }
        let pattern = regexJobID.replacingOccurrences(of: "(?P<", with: "(?<")
        guard let regex = try? NSRegularExpression(pattern: pattern),
              let match = regex.firstMatch(in: result.output, range: NSRange(result.output.startIndex..., in: result.output)) else {
            throw ProviderError(message: "block \(blocks): no job id in sbatch's output \"\(result.output.trimmingCharacters(in: .whitespacesAndNewlines))\" (regex_job_id \(regexJobID))")
        }
        var range = match.range(withName: "id")
        if range.location == NSNotFound { range = match.numberOfRanges > 1 ? match.range(at: 1) : match.range }
        guard let found = Range(range, in: result.output) else { throw ProviderError(message: "block \(blocks): regex_job_id matched no id") }
        return String(result.output[found])
    }
}
