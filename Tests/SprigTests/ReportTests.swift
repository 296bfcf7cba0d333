import Foundation
@testable import Sprig
import Testing

/// `sprig report` and `RunReport`: runs written into real monitoring databases (MonitoringFixture,
/// and the database real Parsl wrote in contracts/monitoring), read, rendered, and opened in
/// headless Chromium.
@Suite("Report")
struct ReportTests {
    static func scratch() throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sprig-report-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder + "/runinfo", withIntermediateDirectories: true)
        return folder
    }

    /// Where a test keeps what a person may want to look at: `$SPRIG_TEST_ARTIFACTS`, else
    /// `.build/test-artifacts` in the package.
    static func artifacts() throws -> String {
        let folder = ProcessInfo.processInfo.environment["SPRIG_TEST_ARTIFACTS"] ?? packageFolder + "/.build/test-artifacts"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder
    }

    static func occurrences(of text: String, in html: String) -> Int {
        html.components(separatedBy: text).count - 1
    }

    /// The realistic run's report, and its folder (removed by the caller).
    static func realisticReport() throws -> (RunReport, String, String) {
        let folder = try scratch()
        _ = try MonitoringFixture.realistic(at: folder + "/runinfo/monitoring.db")
        let report = try RunReport(path: folder + "/runinfo")
        return (report, report.html(), folder)
    }

    @Test func readsTheRunAsRecorded() throws {
        let folder = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let run = try MonitoringFixture.realistic(at: folder + "/runinfo/monitoring.db")
        let model = ReportModel(try MonitoringReader(path: run.path).read(runID: run.runID))
        #expect(model.data.tasks.count == 14)
        #expect(model.data.tries.count == 17)
        #expect(model.retries == 3)
        #expect(model.stateCounts.map { "\($0.state.name)=\($0.count)" } == ["exec_done=12", "failed=1", "dep_fail=1"])
        #expect(model.apps == ["load", "simulate", MonitoringFixture.hostileApp, "summarise", "publish"])
        #expect(model.lanes.bars.count == 16, "every try that started has a bar; the dependency failure has none")
        #expect(model.lanes.groups.map(\.label) == ["htex · block 0 · node-b", "htex · block 1 · node-c", "threads · node-a"])
        #expect(model.lanes.groups.map(\.laneCount) == [2, 2, 2])
        #expect(model.blocks.map(\.lastStatus) == ["SCALED_IN", "MISSING"])
        #expect(model.blocks.filter(\.isLost).map(\.blockID) == ["1"])
        #expect(model.blocks.map(\.workers) == [2, 2])
        #expect(model.workers.series.count == 4)
        #expect(abs(model.wallSeconds - 4.6) < 1e-6)
        #expect(model.busyFraction.map { $0 > 0 && $0 < 1 } == true)
    }

    @Test func pageHasEverySectionAndTheRunsCounts() throws {
        let (report, html, folder) = try Self.realisticReport()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(report.workflowName == "fixture-run")
        #expect(report.taskCount == 14)
        for section in ["summary", "timeline", "graph", "durations", "workers", "blocks", "failures"] {
            #expect(html.contains("<details class=\"section\" id=\"\(section)\" open>"), "section \(section)")
        }
        #expect(Self.occurrences(of: " o-ok\"><title>", in: html) == 12)
        #expect(Self.occurrences(of: " o-failed\"><title>", in: html) == 4)
        #expect(Self.occurrences(of: "<circle ", in: html) == 14, "a small graph draws every task")
        #expect(Self.occurrences(of: "<figure><figcaption>", in: html) == 4, "a histogram per app with finished tries but publish")
        #expect(Self.occurrences(of: "<path class=\"line ", in: html) == 8, "CPU and memory lines of 4 workers")
        #expect(Self.occurrences(of: "<table class=\"failures\">", in: html) == 1)
        #expect(Self.occurrences(of: "<pre>", in: html) == 3, "the tracebacks, in full")
        #expect(html.contains("WorkerLost: worker 2 of block 1 on node-c died (SIGKILL)"))
        #expect(html.contains("1 task failed because a dependency failed"))
        #expect(html.contains("2 blocks started, 1 lost"))
        #expect(html.contains("<tr class=\"lost\">"))
        #expect(html.contains("<div class=\"card-value\">14</div>"))
        #expect(html.contains("3 retries"))
        #expect(!html.contains("http://") && !html.contains("https://"), "nothing to fetch when viewed")
    }

    @Test func userTextIsEscaped() throws {
        let (_, html, folder) = try Self.realisticReport()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(!html.contains("<script>alert"))
        #expect(Self.occurrences(of: "<script", in: html) == 2, "only the page's own two scripts")
        #expect(html.contains("&lt;script&gt;alert(&#39;app&#39;)&lt;/script&gt;"))
        #expect(html.contains("ValueError: &lt;script&gt;alert(&quot;tb&quot;)&lt;/script&gt; &amp; more"))
        #expect(html.contains("raise ValueError(&#39;&lt;script&gt;"))
    }

    @Test func aRunOnlyOnThreadsSaysItHasNoSamplesNorBlocks() throws {
        let folder = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let run = try MonitoringFixture(path: folder + "/runinfo/monitoring.db", name: nil, began: MonitoringFixture.start, runDirectory: "/tmp/r/000")
        let t0 = MonitoringFixture.start
        try run.task(0, app: "only", invoked: t0, tries: [.init(executor: "threads", host: "node-a", launched: t0 + 0.1, running: t0 + 0.1, returned: t0 + 0.3)])
        let html = try RunReport(path: run.path).html()
        #expect(html.contains("No resource samples in this run"))
        #expect(html.contains("No blocks in this run"))
        #expect(html.contains("No try failed."))
        #expect(html.contains("<h1>run</h1>"), "a run without a workflow name")
    }

    @Test func readsTheDatabaseParslWrote() throws {
        let path = URL(fileURLWithPath: packageFolder).appendingPathComponent("contracts/monitoring/parsl-reference.db").path
        let report = try RunReport(path: path)
        let model = ReportModel(report.data)
        #expect(report.workflowName == "parsl-reference")
        #expect(model.data.tasks.count == 10)
        #expect(model.data.tries.count == 12)
        #expect(model.stateCounts.map { "\($0.state.name)=\($0.count)" } == ["exec_done=7", "failed=2", "dep_fail=1"])
        #expect(Set(model.lanes.groups.map(\.executor)) == ["htex", "threads"])
        #expect(!model.workers.isEmpty, "the busy app's worker was sampled")
        #expect(model.blocks.count == 1)
        let html = report.html()
        #expect(html.contains("ValueError(&#39;flaky(1) always fails&#39;)"))
        #expect(html.contains("BashExitFailure(&#39;exits_one&#39;, 1)"))
    }

    @Test func choosesTheRunByDirectoryOrID() throws {
        let folder = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let database = folder + "/runinfo/monitoring.db"
        try FileManager.default.createDirectory(atPath: folder + "/runinfo/000", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: folder + "/runinfo/001", withIntermediateDirectories: true)
        let first = try MonitoringFixture(path: database, name: "first", began: MonitoringFixture.start, runDirectory: folder + "/runinfo/000")
        let second = try MonitoringFixture(path: database, name: "second", began: MonitoringFixture.start + 60, runDirectory: folder + "/runinfo/001")
        #expect(try RunReport(path: folder + "/runinfo").runID == second.runID, "a runinfo folder: its latest run")
        #expect(try RunReport(path: database).runID == second.runID, "a database file: its latest run")
        #expect(try RunReport(path: folder + "/runinfo/000").runID == first.runID, "a run directory: its own run")
        #expect(try RunReport(path: folder + "/runinfo", runID: first.runID).workflowName == "first")
        let unknown = #expect(throws: ReportError.self) { try RunReport(path: database, runID: "nope") }
        #expect(unknown?.description.contains(second.runID) == true, "the error lists the runs there")
        #expect(throws: ReportError.self) { try RunReport(path: folder + "/elsewhere") }
        let notMonitoring = folder + "/other.db"
        try SQLiteDatabase(path: notMonitoring).execute("CREATE TABLE t (x)")
        let wrong = #expect(throws: ReportError.self) { try RunReport(path: notMonitoring) }
        #expect(wrong?.description.contains("not a monitoring database") == true)
    }

    @Test func tenThousandTasksAreCollapsedPerApp() throws {
        // Kept as an artifact: `sprig report .build/test-artifacts/large-run --timing` times a release build on it.
        let folder = try Self.artifacts() + "/large-run"
        try? FileManager.default.removeItem(atPath: folder)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let run = try MonitoringFixture.large(at: folder + "/monitoring.db", tasks: 10_000)
        let clock = ContinuousClock()
        let started = clock.now
        let report = try RunReport(path: run.path)
        let read = clock.now
        let html = report.html()
        let rendered = clock.now
        // A figure, not an assertion (a release build of `sprig report --timing` gives the real one).
        print("report of 10,000 tasks: read \(read - started), rendered \(rendered - read), \(html.utf8.count / 1024) KB (this build)")
        #expect(report.taskCount == 10_000)
        #expect(Self.occurrences(of: "<circle ", in: html) == 0)
        #expect(Self.occurrences(of: "<g class=\"app-box\">", in: html) == 8)
        #expect(Self.occurrences(of: " o-failed\"><title>", in: html) == 200)
    }

    @Test func sprigReportWritesThePage() throws {
        let folder = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        _ = try MonitoringFixture.realistic(at: folder + "/runinfo/monitoring.db")
        let written = try runSprig(["report", "-o", "out.html"], in: folder)
        #expect(written.status == 0, "\(written.stderr)")
        #expect(written.stdout.contains("out.html") && written.stdout.contains("14 tasks"))
        let html = try String(contentsOfFile: folder + "/out.html", encoding: .utf8)
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        let refused = try runSprig(["report", "--run", "no-such-run"], in: folder)
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("no run \"no-such-run\""), "\(refused.stderr)")
    }

    @Test func pageScriptRunsInChromium() throws {
        let (_, html, folder) = try Self.realisticReport()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let page = try Self.artifacts() + "/report.html"  // kept beside its screenshot, for a person to open
        try Data(html.utf8).write(to: URL(fileURLWithPath: page))
        let dom = try HeadlessChromium.run(["--dump-dom", "file://" + page])
        try #require(dom.status == 0, "chromium could not start (run scripts/setup to install it):\n\(dom.stderr.suffix(2000))")
        let root = dom.stdout.components(separatedBy: "<head>").first ?? ""
        #expect(root.contains("data-sprig-report=\"ready\""), "the page's script did not finish: \(root)")
        #expect(!root.contains("data-sprig-error"), "the page's script failed: \(root)")

        let screenshot = try Self.artifacts() + "/report.png"
        try? FileManager.default.removeItem(atPath: screenshot)
        let shot = try HeadlessChromium.run(["--hide-scrollbars", "--window-size=1400,2000", "--screenshot=\(screenshot)", "file://" + page])
        #expect(shot.status == 0, "\(shot.stderr.suffix(2000))")
        let png = try Data(contentsOf: URL(fileURLWithPath: screenshot))
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        let width = png.dropFirst(16).prefix(4).reduce(0) { $0 << 8 | Int($1) }
        let height = png.dropFirst(20).prefix(4).reduce(0) { $0 << 8 | Int($1) }
        #expect(width == 1400 && height == 2000)
        print("report page and screenshot: \(page), \(screenshot)")
    }

    @Test func writingTheReportToSomethingNotARegularFileKeepsIt() throws {
        // `sprig report -o /dev/null` once replaced /dev/null with a regular file (an atomic
        // write renames a new file over the target); a FIFO stands in for /dev/null here.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sprig-fifo-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let fifo = folder + "/out.fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        let received = LockedValue(Data())
        let reader = try JoinableThread(name: "fifo-reader") {
            if let handle = FileHandle(forReadingAtPath: fifo) { received.set(handle.readDataToEndOfFile()) }
        }
        try RunReport.write(Data("<html></html>".utf8), to: fifo)
        reader.join()
        var info = stat()
        #expect(stat(fifo, &info) == 0 && (info.st_mode & S_IFMT) == S_IFIFO, "the FIFO was replaced")
        #expect(String(decoding: received.get(), as: UTF8.self) == "<html></html>")
        let regular = folder + "/report.html"
        try RunReport.write(Data("one".utf8), to: regular)
        try RunReport.write(Data("two".utf8), to: regular)
        #expect(try String(contentsOfFile: regular, encoding: .utf8) == "two")
    }

    /// Calls answered from the app cache are `memo_done` tasks, marked as cached on the page.
    @Test func cachedCallsAreShownAsCached() throws {
        let folder = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let dfk = try DataFlowKernel(config: Config(executors: [ThreadPoolExecutor(label: "t")], runDirectory: folder + "/runinfo",
                                                    monitoring: MonitoringOptions()))
        let app = try dfk.swiftApp(name: "square", options: AppOptions(cache: .arguments)) { (x: Int) in x * x }
        #expect(try app(3).result() == 9)
        #expect(try [app(3), app(3)].map { try $0.result() } == [9, 9])
        dfk.shutdown()
        let model = ReportModel(try MonitoringReader(path: folder + "/runinfo/monitoring.db").read(runID: dfk.runID))
        #expect(model.stateCounts.map { "\($0.state.name)=\($0.count)" } == ["memo_done=2", "exec_done=1"])
        let html = try RunReport(path: folder + "/runinfo").html()
        #expect(html.contains("2 memo_done (cached) · 1 exec_done"), "the summary says how many the cache answered")
        #expect(html.contains("memo_done (cached) (2)"), "the task graph's legend")
    }

    @Test func aMonitoredSprigRunReportsAndRendersInChromium() throws {
        let folder = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let run = try runSprig(["run", "\(scriptsFolder)/monitored_for_report.py"], in: folder, timeout: .seconds(90))
        #expect(run.status == 0 && run.stdout == "140\nDependencyError\n", "\(run.stdout)\n\(run.stderr)")
        let written = try runSprig(["report", "runinfo", "-o", "report.html"], in: folder)
        #expect(written.status == 0 && written.stdout.contains("11 tasks"), "\(written.stdout)\n\(written.stderr)")
        let report = try RunReport(path: folder + "/runinfo")
        #expect(report.taskCount == 11)
        let html = try String(contentsOfFile: folder + "/report.html", encoding: .utf8)
        #expect(html.contains("ValueError: no good: 1"), "the failure table names the app's exception")
        #expect(!html.contains("no resource samples"), "a process-executor run has resource samples")
        let dom = try HeadlessChromium.run(["--dump-dom", "file://" + folder + "/report.html"])
        try #require(dom.status == 0, "chromium could not start (run scripts/setup to install it):\n\(dom.stderr.suffix(2000))")
        let root = dom.stdout.components(separatedBy: "<head>").first ?? ""
        #expect(root.contains("data-sprig-report=\"ready\"") && !root.contains("data-sprig-error"), "\(root)")
    }
}
