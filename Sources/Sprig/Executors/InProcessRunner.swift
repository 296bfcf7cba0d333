import PythonBridge
import Synchronization

/// Runs an attempt's work on the calling thread: how the thread executor runs Python, bash and Swift apps.
enum InProcessRunner {
    static func run(_ attempt: Attempt) -> Outcome {
        CrashNote.running(attempt.taskID, app: attempt.app)
        defer { CrashNote.running(nil, app: "") }
        switch attempt.work {
        case .swift(let body):
            do {
                return .success(try body())
            } catch {
                return .failure(TaskError(taskID: attempt.taskID, app: attempt.app, reason: .swift(error)))
            }
        case .python(let call):
            return runPython(call, attempt).map { Value.python($0) as any Sendable }
        case .bash(let call):
            return runBash(call, attempt)
        }
    }

    /// Calls Python holding the GIL; a walltime raises `TimeoutError` inside the call.
    static func runPython(_ call: PythonCall, _ attempt: Attempt) -> Result<PythonObject, any Error> {
        let failure = { (reason: TaskError.Reason) in Result<PythonObject, any Error>.failure(TaskError(taskID: attempt.taskID, app: attempt.app, reason: reason)) }
        return withGIL {
            let arguments: [PythonObject], keywords: [(String, PythonObject)]
            do {
                arguments = try call.arguments.map { try $0.toPython() }
                keywords = try call.keywords.map { ($0.0, try $0.1.toPython()) }
            } catch let error as PythonError {
                return failure(error.kind == .exception ? .python(error) : .conversion(error.message))
            } catch {
                return failure(.conversion("\(error)"))
            }
            let interrupt = PythonInterrupt()
            if attempt.walltime != nil { attempt.setCanceller { interrupt.raise() } }
            defer {
                interrupt.disarm()
                if attempt.walltime != nil { attempt.setCanceller(nil) }
            }
            do {
                return .success(try call.callable.call(arguments, keywords: keywords))
            } catch let error as PythonError {
                return failure(.python(error))
            } catch {
                return failure(.conversion("\(error)"))
            }
        }
    }

    static func runBash(_ call: BashCall, _ attempt: Attempt) -> Outcome {
        let fail = { (reason: TaskError.Reason) -> Outcome in .failure(TaskError(taskID: attempt.taskID, app: attempt.app, reason: reason)) }
        let command: String
        switch call.command {
        case .swift(let body):
            do { command = try body() } catch { return fail(.badCommand("its command closure threw \(error)")) }
        case .python(let pythonCall):
            switch runPython(pythonCall, attempt) {
            case .failure(let error): return .failure(error)
            case .success(let object):
                guard let text = try? String(python: object) else {
                    return fail(.badCommand("its function returned a \(object.typeName), not a str holding the command"))
                }
                command = text
            }
        }
        if attempt.isEnded { return fail(.timeout(walltime: attempt.walltime ?? .zero)) }
        let process = ShellProcess(command: command, stdout: call.stdout, stderr: call.stderr)
        let code: Int32
        do {
            code = try process.run(register: { kill in attempt.setCanceller(kill) }, unregister: { attempt.setCanceller(nil) })
        } catch {
            switch error {
            case .badStdStream(let path, let detail): return fail(.badStdStream(path: path, detail: detail))
            case .spawn(let detail): return fail(.executor(detail))
            }
        }
        guard code == 0 else { return fail(.bashExit(code: code)) }
        let missing = call.outputs.filter { !$0.exists }
        guard missing.isEmpty else { return fail(.missingOutputs(missing)) }
        return .success(0)
    }
}

/// Raises `TimeoutError` in the Python code a thread runs, only while it runs this call.
final class PythonInterrupt: Sendable {
    private let thread = PythonThreadID.current
    private let state = Mutex<(running: Bool, raised: Bool)>((true, false))

    /// From the walltime's thread: raise in the call if it still runs.
    func raise() {
        withGIL {
            state.withLock { state in
                guard state.running else { return }
                thread.raiseTimeout()
                state.raised = true
            }
        }
    }

    /// From the running thread, holding the GIL, after the call returned: withdraw an exception that
    /// came too late to fire, so it cannot hit the next app on this thread.
    func disarm() {
        state.withLock { state in
            state.running = false
            if state.raised { thread.clearPendingException() }
        }
    }
}
