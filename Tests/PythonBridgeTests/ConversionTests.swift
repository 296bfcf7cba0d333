import Foundation
import PythonBridge
import Testing

@Suite("Conversions between Swift and Python", .timeLimit(.minutes(1)))
struct ConversionTests {
    init() throws { try startPython() }

    private func roundTrip<T: PythonConvertible & ConvertibleFromPython>(_ value: T) throws -> T {
        try T(python: Python.importModule("bridge_samples").attribute("echo").call(value))
    }

    @Test func scalarsSurviveARoundTripThroughPython() throws {
        #expect(try roundTrip(42) == 42)
        #expect(try roundTrip(Int.min) == Int.min)
        #expect(try roundTrip(-2.5) == -2.5)
        #expect(try roundTrip(true) == true)
        #expect(try roundTrip(false) == false)
        #expect(try roundTrip("héllo, 世界 🌱") == "héllo, 世界 🌱")
        #expect(try roundTrip("") == "")
    }

    @Test func bytesBecomePythonBytes() throws {
        let bytes: [UInt8] = [0, 1, 254, 255]
        let object = try bytes.toPython()
        #expect(object.typeName == "bytes")
        #expect(try [UInt8](python: object) == bytes)
        let data = Data([9, 8, 7])
        #expect(try Data(python: data.toPython()) == data)
        #expect(try Data(python: Python.evaluate("bytearray(b'ab')")) == Data([97, 98]))
    }

    @Test func containersBecomeListsAndDicts() throws {
        let list = try [1, 2, 3].toPython()
        #expect(list.typeName == "list")
        #expect(try [Int](python: list) == [1, 2, 3])
        #expect(try [Int](python: Python.evaluate("(4, 5)")) == [4, 5])
        let dict = try ["a": 1, "b": 2].toPython()
        #expect(dict.typeName == "dict")
        #expect(try [String: Int](python: dict) == ["a": 1, "b": 2])
        let nested = try roundTrip(["xs": [[1, 2], [3]], "ys": [[]]])
        #expect(nested == ["xs": [[1, 2], [3]], "ys": [[]]])
        let tuple = try PythonTuple(1, "a", 2.5).toPython()
        #expect(tuple.debugDescription == "(1, 'a', 2.5)")
    }

    @Test func optionalsBecomeNone() throws {
        let none: Int? = nil
        #expect(try none.toPython().isNone)
        #expect(try Int?(python: PythonObject.none) == nil)
        #expect(try Int?(python: 7.toPython()) == 7)
        #expect(try [Int?](python: Python.evaluate("[1, None]")) == [1, nil])
    }

    @Test func wrongTypesFailWithBothTypeNames() throws {
        let error = try #require(throws: PythonError.self) { try Int(python: "five".toPython()) }
        #expect(error.kind == .conversion)
        #expect(error.message.contains("str") && error.message.contains("Int"))
        let overflow = try #require(throws: PythonError.self) { try Int(python: Python.evaluate("2 ** 70")) }
        #expect(overflow.message.contains("64 bits"))
        #expect(throws: PythonError.self) { try Bool(python: 1.toPython()) }
        let element = try #require(throws: PythonError.self) { try [Int](python: Python.evaluate("[1, 'x']")) }
        #expect(element.message.contains("element 1"))
        #expect(throws: PythonError.self) { try [String: Int](python: [1, 2].toPython()) }
    }

    @Test func doubleAcceptsPythonInts() throws {
        #expect(try Double(python: 3.toPython()) == 3.0)
    }
}
