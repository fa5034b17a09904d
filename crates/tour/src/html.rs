//! `--html FILE` and `--svg DIR`: a recording as one self-contained web
//! page of slides, or as one SVG file per stop. Renderers: they read the
//! recording only.
//!
//! The page has no link to anything outside it: its style sheet, its
//! pictures (inline SVG) and its few lines of script are in the file, so
//! it opens from `file://` with no network. Without JavaScript it is one
//! long page, a slide after another, each with links to the previous
//! and the next; with it, one slide fills the screen and ←/→, space,
//! Page Up/Down, Home and End step through them. Printed, each slide is
//! a page (handouts). Text stays text: the table, the narration and the
//! raw maps lines can be selected and searched, and the marks are
//! symbols and words, not colour alone.

use std::fmt::Write as _;

use procfs::{Mapping, maps, stat};

use crate::annotate::{self, Context, Point, Program};
use crate::diff::{self, Line, Mark};
use crate::record::{self, DemoRun, Host, Recording, Stop};
use crate::show::{self, Explained};
use crate::style;
use crate::svg::{self, Frame, escape};

/// One stop, ready to be shown.
pub struct View<'a> {
    pub run: &'a DemoRun,
    /// The run's directory name in a saved recording (`brk`).
    pub dir: String,
    /// From 1.
    pub index: usize,
    pub stop: &'a Stop,
    /// Why there is no table (the maps file could not be read).
    pub error: Option<String>,
    pub lines: Vec<Line>,
    pub ctx: Context,
    pub points: Vec<Point>,
    /// The change and the annotation of each line (as the terminal says
    /// them: the annotation where it is new in the demo).
    pub notes: Vec<(String, Option<String>)>,
    pub picture: String,
}

/// Every stop of `runs`, in order, with its picture.
pub fn views<'a>(rec: &Recording, runs: &[&'a DemoRun]) -> Result<Vec<View<'a>>, String> {
    let host = Host::from_files(&rec.host);
    let dirs = record::dir_names(&rec.runs);
    let mut out = Vec::new();
    for run in runs {
        let at = rec
            .runs
            .iter()
            .position(|r| std::ptr::eq(r, *run))
            .unwrap_or(0);
        let dir = dirs.get(at).cloned().unwrap_or_else(|| run.name.clone());
        let parsed: Vec<Option<Vec<Mapping>>> = run
            .stops
            .iter()
            .enumerate()
            .map(|(i, s)| match s.text("maps") {
                Some(t) => maps::parse(&t)
                    .map(Some)
                    .map_err(|e| format!("{dir}/{}/maps: {e}", i + 1)),
                None => Ok(None),
            })
            .collect::<Result<_, _>>()?;
        let all: Vec<Vec<Mapping>> = parsed
            .iter()
            .map(|p| p.clone().unwrap_or_default())
            .collect();
        let frame = Frame::new(&all);
        let mut program: Option<Program> = None;
        let mut previous: Option<Vec<Mapping>> = None;
        let mut explained = Explained::new();
        for (i, stop) in run.stops.iter().enumerate() {
            let now = parsed[i].clone().unwrap_or_default();
            if program.is_none()
                && let (Some(path), Some(file)) = (run.text("program.path"), run.bytes("program"))
            {
                program = Program::find(path.trim_end_matches('\n'), file, &now);
            }
            let ctx = Context {
                program: program.clone(),
                stat: stop.text("stat").and_then(|t| stat::parse(&t).ok()),
                host: host.clone(),
            };
            let lines = diff::diff(previous.as_deref(), &now);
            let notes = lines
                .iter()
                .map(|l| show::note(l, &ctx, false, &mut explained))
                .collect();
            let points = if run.points {
                annotate::points(&stop.text("stdout").unwrap_or_default())
            } else {
                Vec::new()
            };
            let id = format!("{dir}-{}", i + 1);
            let title = format!("{}, {}: the address space", run.name, stop.title);
            let picture = svg::draw(&frame, i, &ctx, stop.text("smaps").as_deref(), &id, &title);
            let error = parsed[i]
                .is_none()
                .then(|| stop.text("error").unwrap_or_else(|| "no maps file".into()));
            if parsed[i].is_some() {
                previous = Some(now);
            }
            out.push(View {
                run,
                dir: dir.clone(),
                index: i + 1,
                stop,
                error,
                lines,
                ctx,
                points,
                notes,
                picture,
            });
        }
    }
    Ok(out)
}

/// `--svg DIR`: (file name, contents) of one standalone SVG per stop.
pub fn svg_files(views: &[View]) -> Vec<(String, String)> {
    views
        .iter()
        .map(|v| {
            (
                format!("{}-{}.svg", v.dir, v.index),
                svg::standalone(&v.picture),
            )
        })
        .collect()
}

const PAGE_CSS: &str = "
:root{--fg:#212529;--muted:#6c757d;--add:#d3f9d8;--rem:#ffe3e3;--chg:#fff3bf}
body{margin:0;font:16px/1.4 system-ui,sans-serif;color:var(--fg);background:#fff}
.slide{box-sizing:border-box;padding:1.2rem 2rem;border-bottom:4px solid #dee2e6;min-height:100vh}
h1{font-size:1.8rem;margin:.2rem 0 .6rem}h2{font-size:1.5rem;margin:.2rem 0 .3rem}
h2 small{font-weight:normal;color:var(--muted)}
.about{margin:.2rem 0;color:var(--muted)}
pre{font:13px/1.35 ui-monospace,'DejaVu Sans Mono',monospace;margin:.3rem 0;white-space:pre-wrap}
pre.cmd{color:#1864ab}pre.narration{border-left:4px solid #74c0fc;padding-left:.6rem}
pre.stdout{border-left:4px solid #b2f2bb;padding-left:.6rem}
.cols{display:flex;flex-wrap:wrap;gap:1.5rem;align-items:flex-start}
.cols>figure{margin:0;flex:0 1 auto}.cols>figure svg{max-width:100%;height:auto}
table.maps{border-collapse:collapse;font:13px/1.3 ui-monospace,'DejaVu Sans Mono',monospace;flex:1 1 560px}
table.maps td,table.maps th{padding:2px 6px;vertical-align:top;text-align:left}
table.maps th{border-bottom:2px solid #adb5bd}
table.maps td.size{text-align:right;white-space:nowrap}td.range{white-space:nowrap}
tr.added{background:var(--add)}tr.removed{background:var(--rem)}tr.removed td.range{text-decoration:line-through}
tr.changed{background:var(--chg)}td.mark{font-weight:bold;white-space:nowrap}
td.note .change{font-weight:bold}td.note .said{color:var(--muted)}
tr.under td{color:#495057;font-style:italic}
.lesson{margin-top:1rem;padding:.5rem .8rem;background:#f1f3f5;border-radius:4px}
.lesson .bad{color:#c92a2a;font-weight:bold}
nav.steps{margin-top:1rem;font-size:.9rem}nav.steps a{margin-right:1.5rem}
table.host td{padding:1px 10px 1px 0;font:13px ui-monospace,monospace}
.hint{color:var(--muted);font-size:.9rem}
html.deck .slide{display:none;border:0}html.deck .slide.current{display:block}
@media print{
 html.deck .slide,.slide{display:block!important;min-height:0;border:0;break-after:page;page-break-after:always}
 nav.steps,.hint{display:none}details{display:none}body{font-size:11px}
 .slide{padding:0}h2{font-size:1.2rem}pre,table.maps{font-size:8.5px}
 .cols{display:flex;flex-wrap:nowrap;gap:.8rem}.cols>table.maps{flex:1 1 0}
 .cols>figure{flex:0 0 42%}.cols>figure svg{width:100%;height:auto}
}
";

/// Keyboard steps through the slides; without it the page scrolls.
const SCRIPT: &str = "
(function(){
  var slides=Array.prototype.slice.call(document.querySelectorAll('.slide'));
  if(!slides.length)return;
  document.documentElement.classList.add('deck');
  var at=0;
  function show(i){
    at=Math.max(0,Math.min(slides.length-1,i));
    slides.forEach(function(s,j){s.classList.toggle('current',j===at);});
    if(location.hash!=='#'+slides[at].id)history.replaceState(null,'','#'+slides[at].id);
    window.scrollTo(0,0);
  }
  var start=slides.findIndex(function(s){return '#'+s.id===location.hash;});
  show(start<0?0:start);
  document.addEventListener('keydown',function(e){
    if(e.altKey||e.ctrlKey||e.metaKey)return;
    var k=e.key;
    if(k==='ArrowRight'||k===' '||k==='PageDown'){show(at+1);e.preventDefault();}
    else if(k==='ArrowLeft'||k==='PageUp'||k==='Backspace'){show(at-1);e.preventDefault();}
    else if(k==='Home'){show(0);e.preventDefault();}
    else if(k==='End'){show(slides.length-1);e.preventDefault();}
  });
  window.addEventListener('hashchange',function(){
    var i=slides.findIndex(function(s){return '#'+s.id===location.hash;});
    if(i>=0&&i!==at)show(i);
  });
  window.addEventListener('beforeprint',function(){document.documentElement.classList.remove('deck');});
  window.addEventListener('afterprint',function(){document.documentElement.classList.add('deck');});
})();
";

fn mark_cell(mark: Mark) -> &'static str {
    match mark {
        Mark::Added => "+ new",
        Mark::Removed => "- gone",
        Mark::Changed => "~ changed",
        Mark::Same => "",
    }
}

fn class(mark: Mark) -> &'static str {
    match mark {
        Mark::Added => "added",
        Mark::Removed => "removed",
        Mark::Changed => "changed",
        Mark::Same => "same",
    }
}

/// The annotated table of one stop.
fn table(v: &View) -> String {
    let mut t = String::from(
        "<table class=\"maps\"><thead><tr><th>mark</th><th>range</th><th>perms</th><th>size</th><th>name</th><th>what it is</th></tr></thead><tbody>\n",
    );
    for (l, (change, words)) in v.lines.iter().zip(&v.notes) {
        let m = &l.now;
        let mut note = String::new();
        if !change.is_empty() {
            let _ = write!(note, "<span class=\"change\">{}</span> ", escape(change));
        }
        match words {
            Some(w) => note += &escape(w),
            // Said at an earlier stop: given again, in grey, for the page.
            None => {
                let _ = write!(
                    note,
                    "<span class=\"said\">{}</span>",
                    escape(&annotate::annotate(m, &v.ctx))
                );
            }
        }
        let _ = writeln!(
            t,
            "<tr class=\"{}\"><td class=\"mark\">{}</td><td class=\"range\">{:08x}-{:08x}</td><td>{}</td><td class=\"size\">{}</td><td>{}</td><td class=\"note\">{note}</td></tr>",
            class(l.mark),
            mark_cell(l.mark),
            m.start,
            m.end,
            escape(&m.perms),
            style::size(m.size()),
            escape(&annotate::short_name(m)),
        );
        for under in show::under(l, &v.lines, &v.ctx, &v.points, v.run.marks_stack) {
            let _ = writeln!(
                t,
                "<tr class=\"under\"><td></td><td colspan=\"5\">&#8592; {}</td></tr>",
                escape(&under)
            );
        }
    }
    for astray in show::astray(&v.lines, &v.points) {
        let _ = writeln!(
            t,
            "<tr class=\"under\"><td class=\"mark\">!</td><td colspan=\"5\">{}</td></tr>",
            escape(&astray)
        );
    }
    t += "</tbody></table>";
    t
}

fn pre(class: &str, text: &str) -> String {
    if text.trim().is_empty() {
        String::new()
    } else {
        format!("<pre class=\"{class}\">{}</pre>\n", escape(text.trim_end()))
    }
}

/// The maps file as read, byte for byte (its lines may end in a blank).
fn raw(text: &str) -> String {
    format!("<pre class=\"raw\">{}</pre>", escape(text))
}

/// The demo's summary line, as the terminal gives it.
fn summary(run: &DemoRun, first: Option<&[Mapping]>, last: Option<&[Mapping]>) -> String {
    let how = match run.status {
        Some(procfs::Event::Exited(c)) => format!("exited {c}"),
        Some(procfs::Event::Killed(s)) => format!("killed by {}", crate::term::signal_name(s)),
        _ => "did not finish".into(),
    };
    let stops = run.counted();
    let mut text = format!(
        "{}: {stops} stop{}, {how}.",
        run.name,
        if stops == 1 { "" } else { "s" }
    );
    if let (Some(a), Some(b)) = (first, last)
        && stops > 1
    {
        let changes = show::net_changes(a, b);
        if !changes.is_empty() {
            text += &format!(" First to last stop: {}.", changes.join(", "));
        }
    }
    text
}

/// The whole page.
pub fn page(rec: &Recording, views: &[View]) -> String {
    let mut body = String::new();
    // The title slide: what ran where.
    let host = |n: &str| {
        rec.host
            .get(n)
            .map(|b| String::from_utf8_lossy(b).trim().to_string())
    };
    let _ = write!(
        body,
        "<section class=\"slide\" id=\"start\"><h1>The address space of a process, stop by stop</h1>\n<p class=\"about\">Recorded by <code>cargo tour</code>: at each stop the demo stopped itself, and the tour read <code>/proc/PID/maps</code>. Low addresses on top, as in the maps file.</p>\n<table class=\"host\">"
    );
    for (name, what) in [
        ("osrelease", "Linux"),
        ("mmap_min_addr", "vm.mmap_min_addr"),
        ("randomize_va_space", "kernel.randomize_va_space"),
        ("overcommit_memory", "vm.overcommit_memory"),
        ("transparent_hugepage", "transparent huge pages"),
    ] {
        if let Some(v) = host(name) {
            let _ = write!(body, "<tr><td>{what}</td><td>{}</td></tr>", escape(&v));
        }
    }
    body += "</table>\n<ol>";
    let mut seen_runs: Vec<&str> = Vec::new();
    for v in views {
        if !seen_runs.contains(&v.dir.as_str()) {
            seen_runs.push(&v.dir);
            let _ = write!(
                body,
                "<li><a href=\"#{}-{}\">{}</a>: {}</li>",
                escape(&v.dir),
                v.index,
                escape(&v.run.name),
                escape(&v.run.about)
            );
        }
    }
    body += "</ol>\n<p class=\"hint\">With JavaScript: one slide a screen; &#8594; or space for the next, &#8592; for the previous, Home and End. Printed: one slide a page.</p>\n";
    let first_id = views
        .first()
        .map(|v| format!("{}-{}", v.dir, v.index))
        .unwrap_or_default();
    let _ = writeln!(
        body,
        "<nav class=\"steps\"><a href=\"#{}\">next &#8594;</a></nav></section>",
        escape(&first_id)
    );
    let mut first: Option<Vec<Mapping>> = None;
    for (i, v) in views.iter().enumerate() {
        let id = format!("{}-{}", v.dir, v.index);
        if v.index == 1 {
            first = None;
        }
        let _ = write!(
            body,
            "<section class=\"slide\" id=\"{}\"><h2>{} <small>{}</small></h2>\n<p class=\"about\">{}</p>\n{}",
            escape(&id),
            escape(&v.run.name),
            escape(&v.stop.title),
            escape(&v.run.about),
            pre("cmd", &v.run.command)
        );
        body += &pre("narration", &v.stop.text("narration").unwrap_or_default());
        body += &pre("stdout", &v.stop.text("stdout").unwrap_or_default());
        match &v.error {
            Some(e) => {
                let _ = writeln!(body, "<p class=\"bad\">{}</p>", escape(e));
            }
            None => {
                let _ = writeln!(
                    body,
                    "<div class=\"cols\">{}<figure>{}</figure></div>",
                    table(v),
                    v.picture
                );
                if first.is_none() {
                    first = Some(diff::now(&v.lines));
                }
                let _ = writeln!(
                    body,
                    "<details><summary>/proc/{}/maps as the tour read it</summary>{}</details>",
                    v.run.pid,
                    raw(&v.stop.text("maps").unwrap_or_default())
                );
            }
        }
        let last_of_run = views.get(i + 1).is_none_or(|n| n.dir != v.dir);
        if last_of_run {
            let out = [v.run.text("narration"), v.run.text("stdout")];
            body += &pre("narration", out[0].as_deref().unwrap_or_default());
            body += &pre("stdout", out[1].as_deref().unwrap_or_default());
            let last = diff::now(&v.lines);
            let line = summary(v.run, first.as_deref(), Some(&last));
            let line = if v.run.ok() {
                escape(&line)
            } else {
                format!("<span class=\"bad\">{}</span>", escape(&line))
            };
            let _ = writeln!(
                body,
                "<p class=\"lesson\">{line}<br>{}</p>",
                escape(&v.run.lesson)
            );
        }
        let prev = if i == 0 {
            "start".to_string()
        } else {
            format!("{}-{}", views[i - 1].dir, views[i - 1].index)
        };
        let _ = write!(
            body,
            "<nav class=\"steps\"><a href=\"#{}\">&#8592; previous</a>",
            escape(&prev)
        );
        if let Some(n) = views.get(i + 1) {
            let _ = write!(
                body,
                "<a href=\"#{}-{}\">next &#8594;</a>",
                escape(&n.dir),
                n.index
            );
        }
        body += "</nav></section>\n";
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>cargo tour: memory maps, stop by stop</title>\n<style>{PAGE_CSS}{}</style></head>\n<body>\n{body}<script>{SCRIPT}</script>\n</body></html>\n",
        svg::CSS
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Files;

    fn recording() -> Recording {
        let maps_a = include_str!("../tests/data/stop-deleted-space.maps");
        let mut maps_b = String::from(maps_a);
        maps_b += "7f0000000000-7f0000001000 rw-p 00000000 00:00 0 \n";
        let stop = |t: &str, maps: &str| {
            let mut files = Files::new();
            files.insert("maps".into(), maps.as_bytes().to_vec());
            files.insert("narration".into(), b"a <b> & c\n".to_vec());
            Stop {
                title: t.into(),
                kind: record::KIND_STOP.into(),
                files,
            }
        };
        let run = DemoRun {
            name: "stop".into(),
            about: "stops".into(),
            lesson: "one line per segment".into(),
            command: "$ target/release/stop".into(),
            expected: 2,
            status: Some(procfs::Event::Exited(0)),
            stops: vec![stop("stop 1 of 2", maps_a), stop("stop 2 of 2", &maps_b)],
            ..DemoRun::default()
        };
        let mut rec = Recording::new(Files::new());
        rec.runs.push(run);
        rec
    }

    #[test]
    fn a_page_of_slides_with_every_maps_line() {
        let rec = recording();
        let runs: Vec<&DemoRun> = rec.runs.iter().collect();
        let v = views(&rec, &runs).unwrap();
        let html = page(&rec, &v);
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert_eq!(html.matches("<section class=\"slide\"").count(), 3);
        for stop in &rec.runs[0].stops {
            for line in stop.text("maps").unwrap().lines() {
                assert!(html.contains(&escape(line)), "{line}");
            }
        }
        assert!(html.contains("a &lt;b&gt; &amp; c"), "escaped");
        assert!(html.contains("<tr class=\"added\"><td class=\"mark\">+ new</td>"));
        assert!(
            !html.contains("<link") && !html.contains(" src="),
            "self-contained"
        );
        assert!(html.contains("one line per segment"));
        let files = svg_files(&v);
        assert_eq!(files[1].0, "stop-2.svg");
        assert!(files[1].1.starts_with("<?xml"));
    }
}
