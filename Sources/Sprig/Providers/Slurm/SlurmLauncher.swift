import Foundation

/// How a Slurm block's batch script starts its per-node command (Parsl's launchers, by their names
/// and options). The command reads one line on its stdin (the connect-back details): each launcher
/// hands every copy of the command that line, never putting it on a command line.
public enum SlurmLauncher: Sendable, Equatable {
    /// Parsl's `SrunLauncher`: the command as a job step, `srun --ntasks=N --ntasks-per-node=1`
    /// (one per node), with `overrides` added to srun's options. The default.
    case srun(overrides: String = "", debug: Bool = true)
    /// Parsl's `SingleNodeLauncher`: the command on the batch script's own node. `failOnAny` is
    /// kept for Parsl's sake (one copy runs, so it changes nothing).
    case singleNode(debug: Bool = true, failOnAny: Bool = false)
    /// Parsl's `SimpleLauncher`: the command as it is, once.
    case simple(debug: Bool = true)

    /// Whether the launcher echoes what it does into the job's log.
    public var debug: Bool {
        switch self {
        case .srun(_, let debug), .singleNode(let debug, _), .simple(let debug): debug
        }
    }

    /// Parsl's class name, for messages.
    public var name: String {
        switch self {
        case .srun: "SrunLauncher"
        case .singleNode: "SingleNodeLauncher"
        case .simple: "SimpleLauncher"
        }
    }

    /// The script lines that run `command` (shell words, quoted already) on `nodes` nodes, each copy
    /// reading the value of the shell variable `input` (unexported) on its stdin: `printf` is a
    /// shell builtin, so the value never reaches any process's arguments or environment.
    func lines(command: String, input: String, nodes: Int) -> [String] {
        let feed = "printf '%s\\n' \"$\(input)\" | "
        var lines: [String] = []
        if debug {
            lines.append("echo \"sprig: $(date -u +%FT%TZ) \(name) on $(hostname): job $SLURM_JOB_ID, \(nodes) node(s)\" >&2")
        }
        switch self {
        case .srun(let overrides, _):
            let options = overrides.trimmingCharacters(in: .whitespaces)
            lines.append(feed + "srun --ntasks=\(nodes) --ntasks-per-node=1 --nodes=\(nodes)"
                         + (options.isEmpty ? "" : " " + options) + " " + command)
        case .singleNode where nodes > 1:
            // One copy per block, all on this node, each told which block it is.
            lines.append("for SPRIG_NODE_INDEX in $(seq 0 \(nodes - 1)); do")
            lines.append("  " + feed + "SPRIG_NODE_INDEX=$SPRIG_NODE_INDEX " + command + " &")
            lines.append("done")
            lines.append("wait")
        case .singleNode, .simple:
            lines.append(feed + command)
        }
        return lines
    }
}
