import Synchronization

/// A Swift closure that calls other apps and returns their futures (Parsl's `@join_app`): its own
/// future ends with the value of the future it returned, or the values of the list of futures.
///
/// Make one with ``DataFlowKernel/joinApp(name:options:_:)``.
/// The closure runs on an executor thread once its arguments' futures have succeeded, and should
/// return at once: it calls apps, it does not wait for them. Its future then fails with
/// ``JoinError`` if a returned future fails; with the closure's own error if it throws.
/// The closure runs as a task of its own, besides the join app's task.
/// With ``AppOptions/cache`` (and an `Output` that is `Codable`), a call whose argument values
/// match an earlier call's ends with that call's final value without running the closure (Parsl's
/// cached join apps).
public struct JoinApp<each Input: Sendable, Output: Sendable>: Sendable {
    /// The app's name in errors and logs.
    public let name: String
    let kernel: DataFlowKernel
    let options: DataFlowKernel.ResolvedOptions
    let body: @Sendable (repeat each Input) throws -> JoinedFutures<Output>

    /// Calls the app; returns its future at once. `inputs` are extra futures to wait for.
    public func callAsFunction<each Argument: Resolvable>(
        _ arguments: repeat each Argument, inputs: [any TaskFuture] = []
    ) -> AppFuture<Output> where repeat (each Argument).Resolved == each Input {
        var dependencies = inputs
        repeat (each arguments).collectFutures(into: &dependencies)
        let captured = (repeat each arguments)
        let body = self.body
        let memo = AppCaching.swift(app: options.app, kind: "join", policy: options.cache, output: Output.self) {
            let values = (repeat try (each captured).resolve())
            var list: [any Sendable] = []
            repeat list.append(each values)
            return list
        }
        let inner = kernel.submit(options, dependencies: dependencies, memo: memo) { _ in
            let values = (repeat try (each captured).resolve())
            return .swift { try body(repeat each values) }
        }
        let app = name
        let outer = kernel.join(inner, app: name) { returned, outer, finish in
            guard let joined = returned as? JoinedFutures<Output> else {
                throw JoinError(taskID: outer.id, app: app, reason: .notAFuture("it returned \(type(of: returned))"))
            }
            joined.watch(outer: outer.id, app: app, finish: finish)
        }
        return AppFuture(core: outer)
    }
}

/// The futures a Swift join app's closure returned, and how their values make its value.
struct JoinedFutures<Output: Sendable>: Sendable {
    let futures: [AppFuture<any Sendable>]
    let combine: @Sendable ([any Sendable]) throws -> Output

    /// One future: the join app's value is its value.
    init(_ future: AppFuture<Output>) {
        futures = [future.map { $0 }]
        combine = { values in
            guard let value = values.first as? Output else { throw ConversionError(message: "a joined future's value is not \(Output.self)") }
            return value
        }
    }

    /// A list of futures: the join app's value is the list of their values, in order.
    init<Element: Sendable>(_ futures: [AppFuture<Element>]) where Output == [Element] {
        self.futures = futures.map { $0.map { $0 } }
        combine = { values in
            try values.map { value in
                guard let element = value as? Element else { throw ConversionError(message: "a joined future's value is not \(Element.self)") }
                return element
            }
        }
    }

    /// Calls `finish` once every future has ended: with the combined value, or a ``JoinError``
    /// holding the errors of those that failed. Runs it on the thread that ends the last one (or at once).
    func watch(outer: TaskID, app: String, finish: @escaping @Sendable (Outcome) -> Void) {
        let combine = self.combine
        guard !futures.isEmpty else {
            finish(Result { try combine([]) as any Sendable })
            return
        }
        let results = Mutex([Result<any Sendable, any Error>?](repeating: nil, count: futures.count))
        let remaining = Atomic(futures.count)
        for (index, future) in futures.enumerated() {
            future.onComplete { result in
                results.withLock { $0[index] = result }
                guard remaining.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 else { return }
                let ended = results.withLock { $0.compactMap { $0 } }
                let errors = ended.compactMap(\.failureValue)
                if !errors.isEmpty {
                    finish(.failure(JoinError(taskID: outer, app: app, reason: .innerFailed(errors))))
                } else {
                    finish(Result { try combine(ended.map { try $0.get() }) as any Sendable })
                }
            }
        }
    }
}

extension DataFlowKernel {
    /// The outer task of a join app whose body runs as `inner`. When `inner` fails, the outer
    /// task fails with its error; when it succeeds, `whenReturned` gets its value, the outer
    /// task and the function that ends the outer task, and arranges for it to be called
    /// once; if it throws, the outer task fails with that error.
    ///
    /// A cached join app (`inner`'s ``MemoRequest/joins``): the outer task shares `inner`'s cache
    /// ticket; its outcome is what the cache records (``completeExternal(_:_:)``); when the cache answered, `inner` ended with the
    /// ``CachedJoinValue`` that the outer task ends with, and the body never ran.
    func join(_ inner: TaskCore, app: String,
              whenReturned: @escaping @Sendable (_ value: any Sendable, _ outer: TaskCore, _ finish: @escaping @Sendable (Outcome) -> Void) throws -> Void) -> TaskCore {
        let ticket = inner.memo
        let outer = makeExternalTask(app: app, memo: ticket)
        ticket?.task = outer.id
        let finish: @Sendable (Outcome) -> Void = { [self] outcome in completeExternal(outer, outcome) }
        inner.onComplete { [self] outcome in
            switch outcome {
            case .failure(let error):
                finish(.failure(error))
            case .success(let cached as CachedJoinValue):
                completeExternal(outer, .success(cached.value))
            case .success(let value):
                do { try whenReturned(value, outer, finish) } catch { finish(.failure(error)) }
            }
        }
        return outer
    }
}
