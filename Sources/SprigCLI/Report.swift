import ArgumentParser
import Foundation
import Sprig

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write an HTML report of a run from its monitoring database.",
        discussion: """
            PATH is a run directory (runinfo/003: that run, from the monitoring.db beside it), a folder \
            holding monitoring.db (runinfo: its latest run), or a monitoring.db file. The report is one \
            self-contained HTML file: it opens offline and can be mailed. Databases Parsl wrote work too.
            """)

    @Argument(help: "A run directory, a runinfo folder or a monitoring.db file.")
    var path = "runinfo"

    @Option(name: .shortAndLong, help: "Where to write the report.")
    var output = "report.html"

    @Option(name: .customLong("run"), help: "The run to report (its run id); by default the one PATH names, else the latest.")
    var runID: String?

    @Flag(name: .long, help: "Print how long reading and rendering took.")
    var timing = false

    func run() throws {
        let clock = ContinuousClock()
        let started = clock.now
        let report: RunReport
        do {
            report = try RunReport(path: path, runID: runID)
        } catch let error as ReportError {
            throw ValidationError(error.description)
        } catch let error as StorageError {
            throw ValidationError(error.description)
        }
        let read = clock.now
        let html = report.html()
        let rendered = clock.now
        try Data(html.utf8).write(to: URL(fileURLWithPath: output), options: .atomic)
        print("sprig report: \(output) (run \(report.runID), \(report.taskCount) tasks, \(html.utf8.count / 1024) KB)")
        if timing {
            print("read \(read - started), rendered \(rendered - read), wrote \(clock.now - rendered)")
        }
    }
}
