import Foundation
import PythonBridge
import Testing

/// Starts the interpreter once for the whole test process and puts the test modules on `sys.path`.
let pythonStarted: Result<PythonRuntimeInfo, any Error> = Result {
    let modules = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("PythonModules").path
    return try Python.start(PythonConfiguration(searchPaths: [modules]))
}

func startPython() throws {
    _ = try pythonStarted.get()
}
