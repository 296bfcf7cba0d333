import Foundation
import PythonBridge
@testable import Sprig
import Testing

/// Faults a user meets that must fail one task (or be named), never the program.
@Suite("Faults", .serialized, .timeLimit(.minutes(2)))
struct FaultTests {
    static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Scripts/faults").path

    /// A list nested 20,000 deep fails that call naming the app; the run goes on and exits 0.
    /// (The recursion over the argument overflowed the stack: `sprig` died with signal 11.)
    @Test(arguments: [["--config", "threads"], ["--config", "htex"]])
    func aDeeplyNestedArgumentFailsItsTaskOnly(config: [String]) throws {
        let result = try runSprig(["run"] + config + ["\(Self.scripts)/deep_argument.py"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("TaskConversionError task 0 (app depth): an argument is nested more than 1000"), "\(result.stdout)")
        #expect(result.stdout.hasSuffix("ok 3\n"), "\(result.stdout)")
    }
}
