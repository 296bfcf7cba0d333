import PythonBridge

/// Which Sprig this is.
public enum SprigVersion {
    /// The release, as tagged in the repository (`v0.2.0`): `__version__` of `python/sprig/__init__.py`,
    /// the one place it is written.
    public static let current = EmbeddedPython.version

    /// One line for `--version`: the release and the Python version the build embeds.
    public static var banner: String {
        "sprig \(current) (embeds Python \(Python.linkedVersion.major).\(Python.linkedVersion.minor))"
    }
}
