/// The report's look and its few lines of script, inline so the page needs nothing else: colours
/// per app, per try outcome, per task state and per block state.
enum ReportStyle {
    /// App colours, in order of the apps' first calls (Tableau's ten, plus two).
    static let appColours = ["#4e79a7", "#f28e2b", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7",
                             "#9c755f", "#59a14f", "#bab0ac", "#e15759", "#1f77b4", "#8c564b"]

    static let outcomeColours: [(TryOutcome, String)] = [(.ok, "#59a14f"), (.failed, "#d62728"), (.unfinished, "#9e9e9e")]

    static let stateColours: [(TaskState, String)] = [
        (.execDone, "#59a14f"), (.memoDone, "#8cd17d"), (.failed, "#d62728"), (.depFail, "#ff9d3b"),
        (.running, "#4e79a7"), (.runningEnded, "#76b7b2"), (.launched, "#a0cbe8"), (.joining, "#b07aa1"),
        (.failRetryable, "#f1a1a1"), (.pending, "#d3d3d3"),
    ]

    static let blockColours: [(String, String)] = [
        ("PENDING", "#d3d3d3"), ("RUNNING", "#4e79a7"), ("HELD", "#edc948"), ("SCALED_IN", "#9e9e9e"),
        ("COMPLETED", "#59a14f"), ("CANCELLED", "#bab0ac"), ("TIMEOUT", "#f28e2b"), ("FAILED", "#d62728"),
        ("MISSING", "#d62728"), ("UNKNOWN", "#eeeeee"),
    ]

    /// The CSS class of a task state (`s-other` for a name Parsl does not have).
    static func stateClass(_ state: TaskState) -> String {
        stateColours.contains { $0.0 == state } ? "s-" + state.name : "s-other"
    }

    /// The CSS class of a block state (`b-other` for a name Parsl does not have).
    static func blockClass(_ status: String) -> String {
        blockColours.contains { $0.0 == status } ? "b-" + status : "b-other"
    }

    /// The page's style sheet.
    static var css: String {
        var css = """
            :root{color-scheme:light;--fg:#222;--muted:#666;--line:#e4e4e4}
            *{box-sizing:border-box}
            body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--fg);margin:0;background:#fafafa}
            header{background:#1f2d3d;color:#fff;padding:16px 24px}
            header h1{margin:0;font-size:20px;font-weight:600}
            header p{margin:4px 0 0;color:#c8d3df;font-size:13px}
            nav{padding:8px 24px;background:#fff;border-bottom:1px solid var(--line);position:sticky;top:0;z-index:1}
            nav a{margin-right:16px;color:#1f5fa8;text-decoration:none}
            main{padding:8px 24px 40px;max-width:1280px}
            details.section{background:#fff;border:1px solid var(--line);border-radius:6px;margin:14px 0;padding:4px 16px 12px}
            details.section>summary{cursor:pointer;padding:8px 0;list-style-position:outside}
            details.section>summary h2{display:inline;font-size:16px;margin:0}
            .note,.stats{color:var(--muted);margin:6px 0}
            .empty{color:var(--muted);font-style:italic;padding:12px 0}
            .chart{width:100%;height:auto;display:block}
            .chart text{font-size:11px;fill:#444}
            .axis text{fill:#777}
            .grid{stroke:#eee}
            .baseline{stroke:#bbb}
            .band{fill:#f6f8fa}
            .lane-label{font-size:11px;fill:#333}
            .queued{stroke:#aaa;stroke-width:1}
            .gantt.by-app rect.o-failed{stroke:#b71c1c;stroke-width:1.2}
            .graph .edges line,.graph .edges path{stroke:#b8c2cc;fill:none}
            .graph .edges line{stroke-width:1}
            .graph .edges path{stroke-opacity:.6}
            .graph circle{stroke:#fff;stroke-width:1}
            .arrowhead{fill:#b8c2cc}
            .app-box .box{fill:#fff;stroke-width:2}
            .app-box .app-name{font-weight:600;font-size:12px;fill:#222}
            .line{fill:none;stroke-width:1.5}
            .controls{margin:6px 0}
            .controls button{font:inherit;border:1px solid #bbb;background:#fff;padding:1px 10px;cursor:pointer}
            .controls button.on{background:#1f2d3d;color:#fff;border-color:#1f2d3d}
            .legend{display:flex;flex-wrap:wrap;gap:4px 14px;color:#444;font-size:12px;margin:6px 0}
            .legend .sep{color:var(--muted);margin-left:8px}
            .swatch{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:4px;vertical-align:-1px}
            i.swatch.queued{height:2px;vertical-align:3px;background:#aaa}
            .cards{display:flex;flex-wrap:wrap;gap:10px;margin:8px 0}
            .card{border:1px solid var(--line);border-radius:6px;padding:8px 12px;min-width:150px;background:#fcfcfc}
            .card.alert{border-color:#e8a0a0;background:#fff6f6}
            .card-title{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
            .card-value{font-size:22px;font-weight:600}
            .card-detail{color:var(--muted);font-size:12px;max-width:260px}
            dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:10px 0}
            dl.facts dt{color:var(--muted)}
            dl.facts dd{margin:0;font-family:ui-monospace,monospace;font-size:13px;overflow-wrap:anywhere}
            .small-multiples{display:grid;grid-template-columns:repeat(auto-fill,minmax(360px,1fr));gap:10px}
            figure{margin:0}
            figcaption{font-weight:600;font-size:13px;overflow-wrap:anywhere}
            table{border-collapse:collapse;width:100%;font-size:13px;margin:8px 0}
            th,td{border-bottom:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
            th{color:var(--muted);font-weight:500}
            tr.lost td{background:#fff3f3}
            code,pre{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:12px}
            pre{background:#f6f6f6;border:1px solid var(--line);padding:8px;overflow:auto;max-height:360px;white-space:pre-wrap}
            ul.kinds{margin:4px 0 8px}

            """
        for (index, colour) in appColours.enumerated() {
            css += ".a\(index){fill:\(colour)}i.a\(index),.box.a\(index){background:\(colour);stroke:\(colour)}.c\(index){stroke:\(colour)}\n"
        }
        for (outcome, colour) in outcomeColours {
            css += ".gantt.by-outcome .o-\(outcome.rawValue),.o-\(outcome.rawValue).swatch,.histogram .o-\(outcome.rawValue){fill:\(colour);background:\(colour)}\n"
        }
        for (state, colour) in stateColours { css += ".s-\(state.name){fill:\(colour);background:\(colour)}\n" }
        css += ".s-other{fill:#555;background:#555}\n"
        for (status, colour) in blockColours { css += ".b-\(status){fill:\(colour);background:\(colour)}\n" }
        css += ".b-other{fill:#555;background:#555}\n"
        return css
    }

    /// Runs first: any script error later on the page is recorded on `<html>` (the tests read it).
    static let errorRecorder = """
        window.onerror=function(message){document.documentElement.setAttribute('data-sprig-error',String(message));};
        """

    /// Runs last: the colour switch of the timeline, then marks the page ready.
    static let script = """
        (function(){
          var buttons=document.querySelectorAll('[data-colour-by]');
          Array.prototype.forEach.call(buttons,function(button){
            button.addEventListener('click',function(){
              var chart=document.getElementById(button.getAttribute('data-target'));
              chart.classList.remove('by-app','by-outcome');
              chart.classList.add('by-'+button.getAttribute('data-colour-by'));
              Array.prototype.forEach.call(buttons,function(other){other.classList.toggle('on',other===button);});
            });
          });
          document.documentElement.setAttribute('data-sprig-report','ready');
        })();
        """
}
