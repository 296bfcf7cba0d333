import Foundation
import PythonBridge
import Testing

/// The embedded interpreter uses UTF-8 for text whatever this process's locale, as `python3` does
/// on a C or UTF-8 locale (before the fix it used the C locale's ASCII).
@Suite("Text encoding of the embedded interpreter", .timeLimit(.minutes(1)))
struct TextEncodingTests {
    init() throws { try startPython() }

    @Test func standardStreamsFilesAndTheLocaleAreUTF8() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sprig-text-\(UUID().uuidString).txt").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let check = try Python.evaluate("""
            lambda path: (
                __import__('sys').stdout.encoding.lower(),
                __import__('locale').getpreferredencoding(False).lower().replace('-', ''),
                open(path, 'w').write('café — ünï'),
                open(path, 'rb').read().decode('utf-8'),
                __import__('io').TextIOWrapper(__import__('io').BytesIO()).encoding.lower().replace('-', ''),
            )
            """)
        let answer = try check.call(path)
        #expect(try String(python: answer[0]) == "utf-8")
        #expect(try String(python: answer[1]) == "utf8")
        #expect(try String(python: answer[3]) == "café — ünï")
        #expect(try String(python: answer[4]) == "utf8")
    }
}
