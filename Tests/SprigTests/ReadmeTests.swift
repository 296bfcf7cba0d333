import Foundation
import Sprig
import Testing

@Suite("The README's examples", .timeLimit(.minutes(1)))
struct ReadmeTests {
    /// The quick start, as the README shows it, in a scratch folder holding `py/apps.py`.
    @Test func theQuickStartWorksAsShown() throws {
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder + "/py", withIntermediateDirectories: true)
        try "def multiply(a, b): return a * b\n".write(toFile: folder + "/py/readme_apps.py", atomically: true, encoding: .utf8)

        let dfk = try DataFlowKernel(config: Config(executors: [ThreadPoolExecutor(label: "threads", maxThreads: 4)]))
        let multiply = try dfk.pythonApp(module: "readme_apps", function: "multiply", from: folder + "/py")
        let square = try dfk.swiftApp(name: "square") { (x: Int) in x * x }
        let show = try dfk.bashApp(name: "show") { (n: Int) in "echo result: \(n)" }

        let product = multiply(5, 9)
        let squared = square(product.as(Int.self))
        let shown = show(squared, stdout: Redirect(folder + "/out.txt"))
        #expect(try product.result(as: Int.self) == 45)
        #expect(try shown.result() == 0)
        dfk.shutdown()
        #expect(try String(contentsOfFile: folder + "/out.txt", encoding: .utf8) == "result: 2025\n")
    }
}
