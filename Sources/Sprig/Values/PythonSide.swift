import Foundation
import PythonBridge
import Synchronization

/// The parts of `python/sprig` the Swift side uses.
package enum PythonSide {
    private static let cache = Mutex<[String: PythonObject]>([:])

    /// The folder that holds the `sprig` Python package (see ``PythonPackage``).
    package static var packageRoot: String { PythonPackage.root }

    /// `sprig.File`.
    static func fileClass() throws -> PythonObject { try attribute("File", of: "sprig.files") }

    /// `sprig.serialize.<name>`.
    static func serializer(_ name: String) throws -> PythonObject { try attribute(name, of: "sprig.serialize") }

    /// `builtins.<name>`.
    static func builtin(_ name: String) throws -> PythonObject { try attribute(name, of: "builtins") }

    /// `sprig.apps.<name>`.
    static func appsHelper(_ name: String) throws -> PythonObject { try attribute(name, of: "sprig.apps") }

    /// `sprig.memo_calls.<name>`.
    static func memoHelper(_ name: String) throws -> PythonObject { try attribute(name, of: "sprig.memo_calls") }

    private static func attribute(_ name: String, of module: String) throws -> PythonObject {
        let key = "\(module).\(name)"
        if let cached = cache.withLock({ $0[key] }) { return cached }
        let object = try Python.importModule(module).attribute(name)
        cache.withLock { $0[key] = object }
        return object
    }
}
