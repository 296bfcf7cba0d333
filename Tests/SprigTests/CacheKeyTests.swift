import Foundation
import PythonBridge
@testable import Sprig
import Testing

/// Cache keys of plain calls computed in Swift (``PlainCallKey``) are the keys Python computes
/// (`sprig.memo_calls.call_key`): a call keyed on one side finds what the other stored.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct CacheKeyTests {
    /// `lambda a, b=2, *rest, c=3, **kw: None`: two positional names, for `ignore_for_cache` by position.
    private static let signature = "lambda a, b=2, *rest, c=3, **kw: None"

    private static func pythonKey(_ function: PythonObject, app: String, _ arguments: [Value], _ keywords: [(String, Value)],
                                  ignored: [String]) throws -> String {
        try withGIL {
            let answer = try PythonSide.memoHelper("call_key").call([
                function, try app.toPython(), try Value.tuple(arguments).toPython(),
                try Value.dict(keywords.map { (key: Value.string($0.0), value: $0.1) }).toPython(),
                try false.toPython(), try ignored.toPython(), try false.toPython(), try 0.toPython(),
            ])
            return try String(python: answer[0])
        }
    }

    private static let scalars: [Value] = [
        .none, .bool(true), .bool(false),
        .int(0), .int(1), .int(-1), .int(127), .int(128), .int(-128), .int(-129), .int(255), .int(256), .int(-256),
        .int(1 << 40), .int(-(1 << 40)), .int(Int.max), .int(Int.min), .int(Int.min + 1),
        .double(0), .double(-0.0), .double(.nan), .double(-.nan), .double(.infinity), .double(-.infinity),
        .double(0.1), .double(-2.5), .double(1e308), .double(.leastNonzeroMagnitude), .double(Double(Int.max)),
        .string(""), .string("a"), .string("é"), .string("e\u{301}"), .string("日本語"), .string("🌿 sprig"),
        .string("nul\u{0}inside"), .string("quote\"'\\"),
        .bytes([]), .bytes([0]), .bytes([0, 255, 128, 10]),
    ]

    private static let containers: [Value] = [
        .list([]), .tuple([]), .dict([]),
        .list([.int(1), .string("two"), .double(3.5), .none]),
        .tuple([.int(1)]), .tuple([.list([.int(1), .tuple([.int(2), .int(3)])]), .bytes([1])]),
        .list([.list([.list([.list([.int(-7)])])])]),
        .dict([(.string("b"), .int(1)), (.string("a"), .list([.int(2), .none]))]),
        .dict([(.string("a"), .list([.int(2), .none])), (.string("b"), .int(1))]),
        .dict([(.int(1), .string("x")), (.string("1"), .string("y")), (.bool(false), .none), (.none, .int(0)),
               (.double(1.5), .bytes([2])), (.bytes([1]), .double(-0.0))]),
        .dict([(.string("outer"), .dict([(.string("inner"), .tuple([.int(Int.min), .double(.infinity)]))]))]),
        .dict([(.string("é"), .int(1)), (.string("e\u{301}"), .int(2))]),
    ]

    @Test func swiftKeysOfPlainCallsAreThePythonKeysByteForByte() throws {
        let h = try Harness()
        defer { h.close() }
        let function = try Python.evaluate(Self.signature)
        let app = "samples.plain"
        let shape = try #require(PlainCallKey.shape(of: function, app: app, ignoreForCache: [], bash: false))
        var cases: [([Value], [(String, Value)])] = []
        for value in Self.scalars + Self.containers {
            cases.append(([value], []))
            cases.append(([.int(1), value], [("k", value)]))
        }
        cases.append(([], []))
        cases.append(([.list(Self.scalars)], [("z", .int(1)), ("a", .int(2)), ("é", .int(3)), ("A", .int(4)), ("ä", .int(5))]))
        cases.append(([], [("a", .string("x")), ("stdout", .int(-1)), ("stderr", .string("err.txt")), ("walltime", .double(1.5))]))
        cases.append(([.int(3)], [("stdout", .int(-1)), ("stderr", .int(-1))]))
        cases.append(([.int(3)], [("stdout", .bool(true))]))  // (True is not AUTO_LOGNAME: it is hashed)
        var keys = Set<String>()
        for (arguments, keywords) in cases {
            let swift = try #require(PlainCallKey.key(shape, arguments: arguments, keywords: keywords), "\(arguments) \(keywords)")
            let python = try Self.pythonKey(function, app: app, arguments, keywords, ignored: [])
            #expect(swift == python, "\(arguments) \(keywords)")
            keys.insert(swift)
        }
        // Different calls have different keys, except where Python itself sees one value twice
        // (nan and -nan are one bit pattern apart and two keys; the reordered dict is one key).
        #expect(keys.count == cases.count - 2)
    }

    @Test func ignoredArgumentsAreLeftOutByNameAndByPosition() throws {
        let h = try Harness()
        defer { h.close() }
        let function = try Python.evaluate(Self.signature)
        let shape = try #require(PlainCallKey.shape(of: function, app: "samples.plain", ignoreForCache: ["b", "c"], bash: false))
        let cases: [([Value], [(String, Value)])] = [
            ([.int(1), .int(2)], []), ([.int(1), .int(99)], []), ([.int(1), .int(2), .int(3)], [("c", .int(4))]),
            ([.int(1)], [("b", .int(5)), ("d", .int(6))]),
        ]
        for (arguments, keywords) in cases {
            let swift = try #require(PlainCallKey.key(shape, arguments: arguments, keywords: keywords))
            let python = try Self.pythonKey(function, app: "samples.plain", arguments, keywords, ignored: ["b", "c"])
            #expect(swift == python)
        }
        #expect(PlainCallKey.key(shape, arguments: [.int(1), .int(2)], keywords: [])
                == PlainCallKey.key(shape, arguments: [.int(1), .int(99)], keywords: []))
    }

    @Test func callsThatAreNotPlainAreLeftToPython() throws {
        let h = try Harness()
        defer { h.close() }
        let function = try Python.evaluate(Self.signature)
        let shape = try #require(PlainCallKey.shape(of: function, app: "samples.plain", ignoreForCache: [], bash: false))
        var deep = Value.int(1)
        for _ in 0...PlainCallKey.maximumDepth { deep = .list([deep]) }
        let notPlain: [Value] = [
            .python(try Python.evaluate("10 ** 30")), .python(try 5.toPython()), .file(File("/tmp/in.txt")),
            .set([.int(1)]), .pickled(PickledValue(bytes: [0x80, 0x04, 0x4e, 0x2e])), .list([.int(1), .file(File("x"))]),
            .dict([(.int(1), .string("a")), (.double(1.0), .string("b"))]),  // one key in Python
            .dict([(.bool(true), .none), (.int(1), .none)]), .dict([(.double(.nan), .none)]),
            .dict([(.tuple([.int(1)]), .none)]), .dict([(.list([]), .none)]), deep,
        ]
        for value in notPlain {
            #expect(PlainCallKey.key(shape, arguments: [value], keywords: []) == nil, "\(value)")
            #expect(PlainCallKey.key(shape, arguments: [], keywords: [("x", value)]) == nil, "\(value)")
        }
        #expect(PlainCallKey.key(shape, arguments: [], keywords: [("x", .int(1)), ("x", .int(2))]) == nil)
        // A bash app whose function has defaults is keyed with them, in Python.
        #expect(PlainCallKey.shape(of: function, app: "samples.plain", ignoreForCache: [], bash: true) == nil)
        #expect(PlainCallKey.shape(of: try Python.evaluate("lambda a: 'echo'"), app: "samples.plain", ignoreForCache: [], bash: true) != nil)
    }

    @Test func aScriptsRuleForAPlainTypeSendsEveryCallToPython() throws {
        let h = try Harness()
        defer { h.close() }
        let function = try Python.evaluate(Self.signature)
        let shape = try #require(PlainCallKey.shape(of: function, app: "samples.plain", ignoreForCache: [], bash: false))
        #expect(PlainCallKey.key(shape, arguments: [.int(1)], keywords: []) != nil)
        let keys = try Python.importModule("sprig.memo_keys")
        let original = try withGIL { try keys.attribute("id_for_memo").callMethod("dispatch", try Python.evaluate("int")) }
        let rule = try Python.evaluate("lambda value, output_ref=False: b'mine'")
        _ = try withGIL { try keys.attribute("id_for_memo").callMethod("register", try Python.evaluate("int"), rule) }
        let overridden = PlainCallKey.key(shape, arguments: [.int(1)], keywords: [])
        _ = try withGIL { try keys.attribute("id_for_memo").callMethod("register", try Python.evaluate("int"), original) }
        #expect(overridden == nil)
        #expect(PlainCallKey.key(shape, arguments: [.int(1)], keywords: []) != nil, "the built-in rule is back")
    }

    @Test func sha256IsHashlibsAtEveryLengthAroundItsBlocks() throws {
        let h = try Harness()
        defer { h.close() }
        #expect(SHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let hashlib = try Python.importModule("hashlib")
        for length in Array(0...200) + [1000, 4096, 100_003] {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            let expected = try withGIL { try String(python: hashlib.attribute("sha256").call([try bytes.toPython()]).callMethod("hexdigest")) }
            #expect(SHA256.hex(bytes) == expected, "\(length) bytes")
        }
    }

    @Test func aCallKeyedInSwiftFindsTheResultOfTheSameCallKeyedInPython() throws {
        let h = try Harness()
        defer { h.close() }
        let calls = try Python.evaluate("[]")
        let body = try withGIL { try Python.evaluate("lambda calls: lambda x, y=None: calls.append(x) or x * 2").call(calls) }
        let twice = try h.dfk.pythonApp(body, name: "samples.twice", options: AppOptions(cache: .arguments))
        #expect(try twice(21).result(as: Int.self) == 42)  // keyed in Swift
        #expect(try twice(try 21.toPython()).result(as: Int.self) == 42)  // a Python object: keyed in Python
        #expect(try twice(try 22.toPython()).result(as: Int.self) == 44)
        #expect(try twice(22).result(as: Int.self) == 44)
        #expect(try twice(22, y: ["k": [1, 2]]).result(as: Int.self) == 44)
        #expect(try twice(22, y: try Python.evaluate("{'k': [1, 2]}")).result(as: Int.self) == 44)
        #expect(try withGIL { try Int(python: calls.callMethod("__len__")) } == 3)
    }
}
