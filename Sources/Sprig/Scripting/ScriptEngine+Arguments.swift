import PythonBridge
import Synchronization

/// A script's arguments in the engine's form.
extension ScriptEngine {
    /// How deep containers are searched for futures: deeper nesting fails the call (a Swift
    /// recursion that deep would overflow the script thread's stack).
    static let maximumNesting = 1_000

    /// An argument nested deeper than ``maximumNesting``.
    struct ArgumentTooDeep: Error {}

    /// A script's argument in the engine's form: its futures (anywhere in lists, tuples and dict
    /// values) become dependencies, `sprig.File`s become files, everything else stays the Python object.
    /// - Throws: ``ArgumentTooDeep`` past ``maximumNesting`` levels of containers.
    func value(of object: PythonObject, depth: Int = 0) throws -> Value {
        if object.hasAttribute("_sprig_tid") { return try futureValue(object) }
        let inner = { (item: PythonObject) throws -> Value in
            guard depth < Self.maximumNesting else { throw ArgumentTooDeep() }
            return try self.value(of: item, depth: depth + 1)
        }
        switch object.containerKind {
        case .list?: return .list(try object.items().map(inner))
        case .tuple?: return .tuple(try object.items().map(inner))
        case .dict?:
            return .dict(try object.items().map { pair in (try inner(pair[0]), try inner(pair[1])) })
        case nil:
            if object.typeName == "sprig.files.File" { return .file(File(try String(python: object.attribute("filepath")))) }
            if object.isInstance(of: try helpers().setClasses) {
                // Kept a set (or frozenset: its items are hashable) unless a future is inside: one
                // still running, or one that has ended (its value is then in the item's place).
                let raw = try helpers().list.call([object]).items()
                let items = try raw.map(inner)
                let changed = items.contains(where: \.containsFuture) || raw.contains { $0.hasAttribute("_sprig_tid") }
                    || items.contains { if case .python = $0 { false } else { true } }
                return changed ? .set(items) : .python(object)
            }
            if object.isInstance(of: try helpers().futureClass) { return try plainFutureValue(object) }
            return .python(object)
        }
    }

    /// A `concurrent.futures.Future` that is not an app's: a dependency all the same, through a task
    /// that ends when the future does.
    func plainFutureValue(_ object: PythonObject) throws -> Value {
        guard let kernel = state.withLock({ $0.kernel }) else { return .python(object) }
        let core = kernel.makeExternalTask(app: "concurrent.futures.Future")
        state.withLock { $0.external[core.id.rawValue] = (core, .plainFuture, kernel) }
        let helpers = try helpers()
        _ = try helpers.watchFuture.call([object, helpers.settle, try core.id.rawValue.toPython()])
        return .future(AppFuture<Value>.dynamic(core: core))
    }

    func futureValue(_ object: PythonObject) throws -> Value {
        let id = try Int(python: object.attribute("_sprig_tid"))
        let file = object.hasAttribute("_sprig_file") ? File(try String(python: object.attribute("_sprig_file").attribute("filepath"))) : nil
        if let core = state.withLock({ $0.tasks[id] }) {
            return .future(file.map { DataFuture(core: core, file: $0) as any TaskFuture } ?? AppFuture<Value>.dynamic(core: core))
        }
        // Not tracked any more: it succeeded, and its Python future holds the value.
        if let file { return .file(file) }
        return .python(try object.callMethod("result", 0))
    }
}
