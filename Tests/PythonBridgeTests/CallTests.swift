import Foundation
import PythonBridge
import Testing

@Suite("Calling Python and its errors", .timeLimit(.minutes(1)))
struct CallTests {
    init() throws { try startPython() }

    @Test func callsWithPositionalAndKeywordArguments() throws {
        let samples = try Python.importModule("bridge_samples")
        #expect(try Int(python: samples.attribute("add").call(2, keywords: ["b": 3])) == 5)
        let described = try samples.attribute("describe").call(1, "x", keywords: ["k": true])
        #expect(described.description == "{'args': [1, 'x'], 'kwargs': {'k': True}}")
    }

    @Test func boundMethodsAndLambdasAreCallable() throws {
        let counter = try Python.importModule("bridge_samples").attribute("Counter").call(10)
        let bump = try counter.attribute("bump")
        #expect(try Int(python: bump.call()) == 11)
        #expect(try Int(python: bump.call(keywords: ["by": 5])) == 16)
        let lambda = try Python.evaluate("lambda x: x * 10")
        #expect(try Int(python: lambda.call(4)) == 40)
    }

    @Test func exceptionsKeepTypeMessageAndTraceback() throws {
        let divide = try Python.importModule("bridge_samples").attribute("divide")
        let error = try #require(throws: PythonError.self) { try divide.call(1, 0) }
        #expect(error.kind == .exception)
        #expect(error.typeName == "ZeroDivisionError")
        #expect(error.message == "division by zero")
        #expect(error.traceback.contains("in divide"))
        #expect(error.traceback.contains("Traceback (most recent call last)"))
    }

    @Test func userExceptionsHaveQualifiedNames() throws {
        let raise = try Python.importModule("bridge_samples").attribute("raise_sample")
        let error = try #require(throws: PythonError.self) { try raise.call("bad input") }
        #expect(error.typeName == "bridge_samples.SampleError")
        #expect(error.description == "bridge_samples.SampleError: bad input")
    }

    @Test func missingModulesAndAttributesAreErrors() throws {
        let missing = try #require(throws: PythonError.self) { try Python.importModule("no_such_module_here") }
        #expect(missing.typeName == "ModuleNotFoundError")
        #expect(missing.message.contains("no_such_module_here"))
        let attribute = try #require(throws: PythonError.self) { try Python.importModule("bridge_samples").attribute("nope") }
        #expect(attribute.typeName == "AttributeError")
        #expect(throws: PythonError.self) { try Python.evaluate("1 +") }
    }

    @Test func repeatedCallsDoNotLeakReferences() throws {
        let echo = try Python.importModule("bridge_samples").attribute("echo")
        let value = try Python.evaluate("object()")
        let before = value.referenceCount
        for _ in 0..<1000 { _ = try echo.call([value]) }
        #expect(value.referenceCount == before)
    }

    @Test func theGILIsReleasedWhilePythonWaits() throws {
        let samples = try Python.importModule("bridge_samples")
        let waiter = try samples.attribute("wait_for_gate")
        let opened = DispatchSemaphore(value: 0)
        let outcome = LockedBox<Bool?>(nil)
        Thread.detachNewThread {
            outcome.set(try? Bool(python: waiter.call(30.0)))
            opened.signal()
        }
        // If the waiting thread held the GIL, this call could not run until its 30 s timeout.
        _ = try samples.attribute("open_gate").call()
        #expect(opened.wait(timeout: .now() + 20) == .success)
        #expect(outcome.get() == true)
    }

    @Test func theInterpreterIsTheOneMatchingLibpython() throws {
        let info = try pythonStarted.get()
        #expect(info.version.major == Python.linkedVersion.major && info.version.minor == Python.linkedVersion.minor)
        if ProcessInfo.processInfo.environment["SPRIG_PYTHON"] == nil && ProcessInfo.processInfo.environment["VIRTUAL_ENV"] == nil {
            #expect(info.executable == "/usr/bin/python\(info.version.major).\(info.version.minor)")
            #expect(info.executableSource == "libpython")
        }
    }
}

final class LockedBox<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: T
    init(_ value: T) { self.value = value }
    func set(_ newValue: T) { lock.withLock { value = newValue } }
    func get() -> T { lock.withLock { value } }
}
