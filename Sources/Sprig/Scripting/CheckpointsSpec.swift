/// The `checkpoints` object of a config spec (`sprig.memoizer.BasicMemoizer.to_spec()`):
/// Parsl's memoizer settings, decoded into ``Checkpoints``.
struct CheckpointsSpec: Codable, Equatable, Sendable {
    /// Parsl's `memoize` (`app_cache`).
    var memoize: Bool
    /// `task_exit`, `periodic`, `dfk_exit`, `manual`, or `nil`.
    var mode: Mode?
    /// Checkpoint folders to load; `nil`: every earlier run's when a mode is set.
    var files: [String]?
    /// Seconds between `periodic` checkpoints.
    var period: Double?

    enum CodingKeys: String, CodingKey { case memoize, mode, files, period }

    enum Mode: String, Codable, Sendable { case taskExit = "task_exit", periodic, dfkExit = "dfk_exit", manual }

    init() {
        memoize = true
    }

    init(from decoder: any Decoder) throws {
        let keys = try decoder.container(keyedBy: CodingKeys.self)
        memoize = try keys.value(.memoize, default: true)
        mode = try keys.decodeIfPresent(Mode.self, forKey: .mode)
        files = try keys.decodeIfPresent([String].self, forKey: .files)
        period = try keys.decodeIfPresent(Double.self, forKey: .period)
        if mode == .periodic {
            guard let period else {
                throw DecodingError.dataCorruptedError(forKey: .period, in: keys, debugDescription: "is missing; the periodic mode needs one")
            }
            _ = try keys.positive(.period, default: period)
        }
    }

    func encode(to encoder: any Encoder) throws {
        var keys = encoder.container(keyedBy: CodingKeys.self)
        try keys.encode(memoize, forKey: .memoize)
        try keys.encode(mode, forKey: .mode)
        try keys.encode(files, forKey: .files)
        try keys.encode(period, forKey: .period)
    }

    /// The settings a ``Config`` takes.
    var checkpoints: Checkpoints {
        let chosen: Checkpoints.Mode? = switch mode {
        case .taskExit?: .taskExit
        case .periodic?: .periodic(.milliseconds(Int64(((period ?? 1) * 1000).rounded())))
        case .dfkExit?: .kernelExit
        case .manual?: .manual
        case nil: nil
        }
        return Checkpoints(memoize: memoize, mode: chosen, source: files.map { .folders($0) })
    }
}
