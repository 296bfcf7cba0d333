import Foundation
import PythonBridge
import Synchronization

/// Sprig's Python code for hosts that do not have it (`python/sprig/bootstrap.py`): a small loader
/// run with `python3 -c`, which reads a zip of the `sprig` package from the stream, unpacks it in
/// the script dir (once per version) and starts the manager.
enum Bootstrap {
    private static let cache = Mutex<(source: String, bundle: [UInt8])?>(nil)

    /// The loader's source, for `python3 -c`.
    static var source: String { (try? load().source) ?? "" }

    /// The bundle as written to the stream: magic, length, zip.
    static func bundle() throws -> [UInt8] { try load().bundle }

    private static func load() throws -> (source: String, bundle: [UInt8]) {
        if let cached = cache.withLock({ $0 }) { return cached }
        let loaded = try withGIL {
            let module = try Python.importModule("sprig.bootstrap")
            let source = try String(python: module.attribute("BOOTSTRAP_SOURCE"))
            // The serializer travels too: the host's own cloudpickle (another version, or none) never decides.
            let bundle = try [UInt8](python: module.attribute("make_bundle").call(
                PythonSide.packageRoot + "/sprig", keywords: ["ship": ["cloudpickle"]]))
            return (source, bundle)
        }
        cache.withLock { $0 = loaded }
        return loaded
    }
}
