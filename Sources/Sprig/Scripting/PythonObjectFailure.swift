import PythonBridge

/// A failure that Python code handed the engine as an exception object (a join app's future, a
/// plain `concurrent.futures.Future`): scripts get that same object back.
struct PythonObjectFailure: Error, CustomStringConvertible, @unchecked Sendable {  // the object is only touched holding the GIL
    let exception: PythonObject
    let taskID: Int?
    let app: String
    var description: String {
        let text = withGIL { "\(exception.typeName): \(exception)" }
        return taskID.map { "task \($0) (app \(app)) raised \(text)" } ?? "a future failed with \(text)"
    }
}
