import Foundation

/// A file passed between apps, as Parsl's `File`: a path (or `file://` URL) on the local file system.
/// In Python apps it arrives as a `sprig.File`, with `filepath`, `url` and `os.fspath` support.
public struct File: Hashable, Sendable, CustomStringConvertible {
    /// The path as given: absolute, or relative to the working directory of whatever runs the app.
    public let path: String

    /// A file at `path`; a `file://` URL is accepted and reduced to its path.
    public init(_ path: String) {
        self.path = path.hasPrefix("file://") ? String(path.dropFirst("file://".count)) : path
    }

    /// The file's URL.
    public var url: URL { URL(fileURLWithPath: path) }

    /// The last path component.
    public var name: String { (path as NSString).lastPathComponent }

    /// Whether something exists at the path now.
    public var exists: Bool { FileManager.default.fileExists(atPath: path) }

    /// The path.
    public var description: String { path }
}
