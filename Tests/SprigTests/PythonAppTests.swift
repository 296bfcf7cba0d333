import Foundation
import PythonBridge
import Sprig
import Testing

@Suite("Python apps on the thread executor", .timeLimit(.minutes(1)))
struct PythonAppTests {
    @Test func aModuleFunctionReturnsItsResult() throws {
        let h = try Harness()
        defer { h.close() }
        let add = try h.python("add")
        #expect(try add(5, 9).result(as: Int.self) == 14)
        #expect(try add(1, b: 2).result(as: Int.self) == 3)
        #expect(try add("a", b: "b").result(as: String.self) == "ab")
        #expect(add.name == "engine_samples.add")
    }

    @Test func lambdasAndBoundMethodsAreApps() throws {
        let h = try Harness()
        defer { h.close() }
        let lambda = try h.dfk.pythonApp(Python.evaluate("lambda x: x * 10"))
        #expect(try lambda(4).result(as: Int.self) == 40)
        let counter = try Python.evaluate("type('C', (), {'n': 5, 'plus': lambda self, k: self.n + k})()")
        let method = try h.dfk.pythonApp(counter.attribute("plus"))
        #expect(try method(3).result(as: Int.self) == 8)
    }

    @Test func argumentsConvertToPythonTypes() throws {
        let h = try Harness()
        defer { h.close() }
        let describe = try h.python("describe")
        let bytes: [UInt8] = [1, 2]
        let none: Int? = nil
        let result = try describe([1, 2], ["k": "v"], bytes, none, 2.5, true, Tuple(1, "x"), flag: false).result(as: PythonObject.self)
        #expect(result.description == "{'args': [[1, 2], {'k': 'v'}, b'\\x01\\x02', None, 2.5, True, (1, 'x')], 'kwargs': {'flag': False}}")
    }

    @Test func filesArriveAsSprigFiles() throws {
        let h = try Harness()
        defer { h.close() }
        let info = try h.python("file_info")(File("/tmp/data.txt")).result(as: [String].self)
        #expect(info == ["File", "/tmp/data.txt", "/tmp/data.txt"])
    }

    @Test func anExceptionKeepsItsTracebackAndNamesTheTask() throws {
        let h = try Harness()
        defer { h.close() }
        let future = try h.python("fail")("bad value")
        let error = try #require(throws: TaskError.self) { try future.result() }
        #expect(error.taskID == future.taskID)
        #expect(error.app == "engine_samples.fail")
        let python = try #require(error.pythonError)
        #expect(python.typeName == "ValueError")
        #expect(python.message == "bad value")
        #expect(python.traceback.contains("in fail"))
        #expect(error.description.contains("task \(future.taskID) (app engine_samples.fail) raised ValueError: bad value"))
    }

    @Test func anArgumentThatCannotConvertFailsOnlyItsCall() throws {
        struct Opaque {}
        let h = try Harness()
        defer { h.close() }
        let identity = try h.python("identity")
        let bad = identity([Opaque()] as [Any])
        let good = identity(7)
        let error = try #require(throws: TaskError.self) { try bad.result() }
        guard case .conversion(let detail) = error.reason else { Issue.record("expected a conversion error"); return }
        #expect(detail.contains("Opaque"))
        #expect(try good.result(as: Int.self) == 7)
    }

    @Test func readingAResultAsTheWrongTypeIsAnError() throws {
        let h = try Harness()
        defer { h.close() }
        let future = try h.python("identity")("text")
        #expect(throws: PythonError.self) { try future.result(as: Int.self) }
        #expect(try future.result(as: String.self) == "text")
    }

    @Test func missingModulesAndFunctionsAreClearErrors() throws {
        let h = try Harness()
        defer { h.close() }
        let module = try #require(throws: PythonError.self) { try h.dfk.pythonApp(module: "no_such_apps", function: "f") }
        #expect(module.typeName == "ModuleNotFoundError")
        let function = try #require(throws: ConfigError.self) { try h.python("no_such_function") }
        #expect(function.message.contains("no_such_function") && function.message.contains("engine_samples"))
        let notCallable = try #require(throws: ConfigError.self) { try h.dfk.pythonApp(Python.evaluate("42")) }
        #expect(notCallable.message.contains("not a callable"))
    }

    @Test func aPythonResultIsPassedOnAsTheSameObject() throws {
        let h = try Harness()
        defer { h.close() }
        let made = try h.python("make_object")()
        #expect(try h.python("same_object")(made, made).result(as: Bool.self) == true)
    }
}

@Suite("Typed Python apps", .timeLimit(.minutes(1)))
struct TypedPythonAppTests {
    @Test func aTypedAppsFutureHoldsItsType() throws {
        let h = try Harness()
        defer { h.close() }
        let add = try h.python("add").returning(Int.self)
        let sum: Int = try add(2, 3).result()
        #expect(sum == 5)
        #expect(try add(add(1, 1), 10).result() == 12)  // typed futures are dependencies too
        let wrong = try h.python("identity").returning(Int.self)("text")
        let error = try #require(throws: ConversionError.self) { try wrong.result() }
        #expect(error.message.contains("app engine_samples.identity") && error.message.contains("not Int"), "\(error.message)")
    }
}
