import PythonBridge
import Synchronization

/// Submitting a script's app calls, and completing their Python futures.
extension ScriptEngine {
    func submit(kind: String, function: PythonObject, arguments: PythonObject, keywords: PythonObject,
                        executors: PythonObject, future: PythonObject, app: String, cache: PythonObject = .none) throws -> Int {
        guard let (kernel, internalThreads, userLabels) = state.withLock({ state in
            state.kernel.map { ($0, state.internalThreads ?? "", state.userLabels) }
        }) else {
            throw PythonException("RuntimeError", "no config is loaded: call parsl.load(config) first, or run with sprig run --config threads")
        }
        let named = executors.isNone ? [] : try [String](python: executors)
        let labels = named.isEmpty || named == ["all"] ? userLabels : named
        let options: DataFlowKernel.ResolvedOptions
        // cache: None, or (ignore_for_cache, by_code) of an app with cache=True / cache="code".
        let caching: (CachePolicy, [String])? = cache.isNone ? nil
            : (try Bool(python: cache[1]) ? .code() : .arguments, try [String](python: cache[0]))
        do {
            options = try kernel.resolve(AppOptions(executors: kind == "join" || kind == "lift" ? [internalThreads] : labels,
                                                    cache: caching?.0, ignoreForCache: caching?.1 ?? []), app: app)
        } catch {
            throw PythonException("ValueError", error.message)
        }
        let policy = try keywordPolicy(for: function)
        let positional: [any AppArgument]
        let keywordArguments: [(String, any AppArgument)]
        let core: TaskCore
        do {
            positional = try arguments.items().map { try value(of: $0) }
            keywordArguments = try [String: PythonObject](python: keywords).map { ($0.key, try value(of: $0.value)) }
        } catch is ArgumentTooDeep {
            // That call fails, as a task; the script and the rest of the workflow carry on.
            return try track(kernel.failedCall(app: app, reason: .conversion(
                "an argument is nested more than \(Self.maximumNesting) containers deep; Sprig looks for futures no deeper")),
                future: future)
        }
        switch kind {
        case "python", "bash", "lift":  // lift: a lifted future's item or attribute, read on an internal thread
            core = kernel.submitPython(function, options: options, keywordPolicy: policy, arguments: positional,
                                       keywords: keywordArguments, bash: kind == "bash")
        case "join":
            core = submitJoin(kernel, function: function, options: options, policy: policy, arguments: positional, keywords: keywordArguments, app: app)
        default:
            throw PythonException("ValueError", "unknown app kind \(kind.debugDescription)")
        }
        return try track(core, future: future)
    }

    /// Ties a task to the script's Python future: the future ends with it. The task's end queues
    /// the future (``CompletionQueue``) on the thread that ends it; the callback thread, or a
    /// script thread waiting for it, completes it.
    private func track(_ core: TaskCore, future: PythonObject) throws -> Int {
        let id = core.id.rawValue
        let completion = ScriptCompletion(core: core, future: future)
        state.withLock {
            $0.tasks[id] = core
            $0.completions[id] = completion
        }
        try future.setAttribute("_sprig_tid", id)
        let ready = readyCompletions
        if core.addWaker({ _ in ready.push(completion) }) == nil { ready.push(completion) }
        // On the callback thread (or at once on a thread that ends the task itself: a cancel, a
        // settlement), after the push above: so a drain starts after every push.
        core.onComplete { [self] _ in completeReady() }
        return id
    }

    /// Completes every queued future, in order, holding the GIL once for all of them; does not
    /// take the GIL when there are none (a waiting script thread completed them).
    func completeReady() {
        guard !readyCompletions.isEmpty else { return }
        // A script thread whose task has ended is waking now and completes them all: taking the
        // GIL here would only make it wait for the GIL in turn.
        if waiting.withLock({ $0.contains { $0.core.isDone } }) { return }
        withGIL { _ = readyCompletions.drain(complete) }
    }

    /// A script thread's `future.result()` (or `exception()`) for task `id`, whose future is `future`:
    /// waits for the task without the GIL — spinning briefly first, as Swift callers do, so that a
    /// quick result never parks the thread — and on its return completes the futures whose tasks
    /// ended, this one among them, itself, holding the GIL again, instead of being woken by the
    /// callback thread after it did.
    ///
    /// Returns `true` once the future is done, `false` when `timeout` (seconds) passed first, and
    /// `nil` when the engine does not complete it here (not its task, or another thread is
    /// completing futures now and completes this one too): the caller then waits on the future
    /// itself. Call holding the GIL.
    func waitForTask(_ id: Int, future: PythonObject, timeout: Double?) -> Bool? {
        guard let completion = state.withLock({ $0.completions[id] }), completion.holds(future) else { return nil }
        let core = completion.core
        waiting.withLock { $0.append(completion) }
        let ended = withoutGIL { core.wait(timeout: timeout.map { .nanoseconds(Int64(($0 * 1e9).rounded(.up))) }) } != nil
        _ = waiting.withLock { $0.remove(at: $0.firstIndex { $0 === completion }!) }
        // Ended just after the timeout, the callback thread may have left the futures to this thread.
        guard ended || core.isDone else { return false }
        return readyCompletions.drain(including: completion, complete) ? true : nil
    }

    /// Runs the join function on a thread executor; its future ends when the futures it returned
    /// end, however far along they already are (`sprig.apps.watch_futures` watches them).
    func submitJoin(_ kernel: DataFlowKernel, function: PythonObject, options: DataFlowKernel.ResolvedOptions,
                            policy: KeywordPolicy, arguments: [any AppArgument], keywords: [(String, any AppArgument)], app: String) -> TaskCore {
        let inner = kernel.submitPython(function, options: options, keywordPolicy: policy, arguments: arguments, keywords: keywords,
                                        bash: false, join: true)
        return kernel.join(inner, app: app) { [self] result, outer, _ in
            guard case .python(let returned) = result as? Value else {
                throw JoinError(taskID: outer.id, app: app, reason: .notAFuture("it returned \(result)"))
            }
            state.withLock { $0.external[outer.id.rawValue] = (outer, .join, kernel) }
            do {
                try withGIL {
                    let helpers = try self.helpers()
                    _ = try helpers.watchFutures.call([returned, helpers.settle, try outer.id.rawValue.toPython()])
                }
            } catch {
                state.withLock { $0.external[outer.id.rawValue] = nil }
                guard let python = error as? PythonError else {
                    throw TaskError(taskID: outer.id, app: app, reason: .conversion("\(error)"))
                }
                if python.typeName == "TypeError" { throw JoinError(taskID: outer.id, app: app, reason: .notAFuture(python.message)) }
                throw TaskError(taskID: outer.id, app: app, reason: .python(python))
            }
        }
    }

    /// Ends an external task from Python: a join app's futures ended (`payload`: the value, or the
    /// `(exception, future)` pairs of those that failed), or a plain future did (its result or exception).
    func settle(id: Int, ok: Bool, payload: PythonObject) throws {
        guard let (core, kind, _) = state.withLock({ $0.external[id] }) else { return }
        if ok {
            finishExternal(id, .success(Value.python(payload)))
            return
        }
        switch kind {
        case .plainFuture:
            finishExternal(id, .failure(PythonObjectFailure(exception: payload, taskID: nil, app: core.appName)))
        case .join:
            let failures = try payload.items().map { pair -> any Error in
                let future = try pair[1]
                let tid = future.hasAttribute("_sprig_tid") ? try? Int(python: future.attribute("_sprig_tid")) : nil
                return PythonObjectFailure(exception: try pair[0], taskID: tid, app: future.hasAttribute("app_name")
                                           ? (try? String(python: future.attribute("app_name"))) ?? "?" : "?")
            }
            finishExternal(id, .failure(JoinError(taskID: core.id, app: core.appName, reason: .innerFailed(failures))))
        }
    }

    func finishExternal(_ id: Int, _ outcome: Outcome) {
        guard let (core, _, kernel) = state.withLock({ $0.external.removeValue(forKey: id) }) else { return }
        kernel.completeExternal(core, outcome)
    }

    /// The Python objects the engine calls, imported once (inside a GIL scope).
    func helpers() throws -> Helpers {
        if let helpers = state.withLock({ $0.helpers }) { return helpers }
        let apps = try Python.importModule("sprig.apps")

        let helpers = Helpers(futureClass: try Python.importModule("concurrent.futures").attribute("Future"),
                              setClasses: try Python.evaluate("(set, frozenset)"),
                              list: try Python.evaluate("list"),
                              settle: try Python.importModule("_sprig_engine").attribute("settle"),
                              watchFutures: try apps.attribute("watch_futures"),
                              watchFuture: try apps.attribute("watch_future"),
                              forgetWhenCollected: try Python.importModule("sprig.futures").attribute("_forget_when_collected"))
        state.withLock { $0.helpers = helpers }
        return helpers
    }

    /// Which of Parsl's special keywords a function takes, worked out once per function.
    func keywordPolicy(for function: PythonObject) throws -> KeywordPolicy {
        if let cached = state.withLock({ $0.policies[function.identity] }), cached.1.isIdentical(to: function) { return cached.0 }
        let policy = try KeywordPolicy(function: function)
        state.withLock { $0.policies[function.identity] = (policy, function) }
        return policy
    }

    // MARK: Completing futures

    /// Completes a script's future; for a cached call (`memo`) it first gets
    /// `_sprig_memo = (key or None, answered from the cache)`, Parsl's task record `hashsum` and `from_memo`.
    func complete(_ completion: ScriptCompletion, _ future: PythonObject) {
        let (id, memo) = (completion.core.id.rawValue, completion.core.memo)
        guard let outcome = completion.core.outcome else { return }
        withGIL {
            do {
                if let memo {
                    let key = memo.key.map { Value.string($0.value) } ?? .none
                    try future.setAttribute("_sprig_memo", try Value.tuple([key, .bool(memo.hit)]).toPython())
                }
                switch outcome {
                case .success(let value):
                    let object: PythonObject
                    if let dynamic = value as? Value { object = try dynamic.toPython() }
                    else if let convertible = value as? any PythonConvertible { object = try convertible.toPython() }
                    else { object = try Value(swiftValue: value, from: TaskID(id)).toPython() }
                    _ = try future.callMethod("_sprig_set_result", object)
                case .failure(let error):
                    // First, so that the task is forgotten however soon the script drops the future.
                    let generation = state.withLock { $0.generation }
                    _ = try helpers().forgetWhenCollected.call([future, try id.toPython(), try generation.toPython()])
                    _ = try future.callMethod("_sprig_set_failure", Self.failure(error))
                }
            } catch {
                let reason = TaskError(taskID: TaskID(id), app: "?", reason: .conversion("its result could not be handed to Python: \(error)"))
                _ = try? future.callMethod("_sprig_set_failure", Self.failure(reason))
            }
            state.withLock { state in
                // (Only this task's entries: an earlier kernel's task may end after a new load reused its id.)
                if case .success = outcome, state.tasks[id] === completion.core { state.tasks[id] = nil }
                if state.completions[id] === completion { state.completions[id] = nil }
            }
        }
    }
}
