/// A Slurm job's state as `squeue`'s compact codes (`%t`) or `sacct`'s names give it, reduced to
/// what a block needs to know.
enum SlurmJobState: Equatable, Sendable {
    case pending(reason: String)
    case running
    /// It ended: how (`TIMEOUT`, `CANCELLED`, `NODE_FAIL`, `COMPLETED`, …).
    case ended(String)

    /// From one `squeue --format="%i %t %r"` code and reason.
    init(squeueCode code: String, reason: String) {
        switch code {
        case "PD", "CF", "RQ", "RH", "RF", "RS", "S", "ST", "SI", "SO":
            self = .pending(reason: reason)
        case "R", "CG":
            self = .running
        default:
            self = .ended(Self.names[code] ?? code)
        }
    }

    /// From a state's name as `sacct` and `scontrol` give it (`RUNNING`, `TIMEOUT`, `CANCELLED by 0`).
    init(name: String) {
        let word = String(name.split(separator: " ").first ?? "")
        switch word {
        case "PENDING", "CONFIGURING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "RESIZING", "SUSPENDED", "STOPPED", "SIGNALING", "STAGE_OUT":
            self = .pending(reason: "")
        case "RUNNING", "COMPLETING":
            self = .running
        default:
            self = .ended(name)
        }
    }

    private static let names = ["CD": "COMPLETED", "CA": "CANCELLED", "F": "FAILED", "TO": "TIMEOUT", "NF": "NODE_FAIL",
                                "PR": "PREEMPTED", "BF": "BOOT_FAIL", "DL": "DEADLINE", "OOM": "OUT_OF_MEMORY", "SE": "SPECIAL_EXIT",
                                "RV": "REVOKED"]

    var isEnded: Bool { if case .ended = self { true } else { false } }

    /// Parses `squeue --noheader --format="%i %t %r"` output: job id → state. Lines of another
    /// form (the `CLUSTER:` headers of `--clusters`) are skipped.
    static func parse(squeue output: String) -> [String: SlurmJobState] {
        var states: [String: SlurmJobState] = [:]
        for line in output.split(separator: "\n") {
            let words = line.split(separator: " ", maxSplits: 2).map(String.init)
            guard words.count >= 2, words[0].first?.isNumber == true else { continue }
            states[words[0]] = SlurmJobState(squeueCode: words[1], reason: words.count > 2 ? words[2] : "")
        }
        return states
    }
}
