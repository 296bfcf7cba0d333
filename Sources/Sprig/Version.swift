import PythonBridge

/// Which Sprig this is.
public enum SprigVersion {
    /// The release, as tagged in the repository; `python/sprig/__init__.py` has the same `__version__`.
    public static let current = "0.1.0"

    /// One line for `--version`: the release and the Python version the build embeds.
    public static var banner: String {
        "sprig \(current) (embeds Python \(Python.linkedVersion.major).\(Python.linkedVersion.minor))"
    }
}
