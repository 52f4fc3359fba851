//! `export`: the trace inside a capture as clean tracefs text, which
//! tracesift (and trace tools) read back to the same events, or as Trace
//! Event Format JSON with the documented fields.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::{bin, corpus, fixture, fixture_cases, generated, report_json, run, typescript};

/// What must survive an export, per event.
const KEYS: [&str; 10] = [
    "kind",
    "eb",
    "event",
    "cpu",
    "pid",
    "comm",
    "trace_ts_ns",
    "trace_ts_counter",
    "fields",
    "args",
];

/// The trace events and lost-events markers `events` finds in `path` whose
/// line `keep` accepts, reduced to [`KEYS`].
fn trace_events(path: &Path, keep: impl Fn(&Value) -> bool) -> Vec<Value> {
    let out = bin().arg("events").arg(path).output().expect("run events");
    assert!(out.status.success(), "events {}", path.display());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("NDJSON"))
        .filter(|e| {
            let traced = e.get("trace_ts_ns").is_some() || e.get("trace_ts_counter").is_some();
            (traced || e["kind"] == "lost-events") && keep(e)
        })
        .map(|e| {
            let mut m = serde_json::Map::new();
            for k in KEYS {
                if let Some(v) = e.get(k) {
                    m.insert(k.to_string(), v.clone());
                }
            }
            Value::Object(m)
        })
        .collect()
}

/// `(cpu, events, lost_events, first, last)` per CPU of boot `boot`.
fn windows(report: &Value, boot: u64) -> Vec<Value> {
    report["coverage"]["cpus"]
        .as_array()
        .expect("cpus")
        .iter()
        .filter(|c| c["boot"].as_u64() == Some(boot))
        .map(|c| {
            serde_json::json!([
                c["cpu"],
                c["events"],
                c["lost_events"],
                c["first_trace_ts_ns"],
                c["last_trace_ts_ns"]
            ])
        })
        .collect()
}

fn export(args: &[&str], input: &Path, dir: &Path, name: &str) -> PathBuf {
    let out = bin()
        .arg("export")
        .args(args)
        .arg(input)
        .output()
        .expect("run export");
    assert!(
        out.status.success(),
        "export {args:?} {}: {}",
        input.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let p = dir.join(name);
    std::fs::write(&p, &out.stdout).expect("write export");
    p
}

/// The captures the round trip reads: every fixture case with a dump, a
/// generated 48-CPU capture with lost events, insert races and clones, and
/// the real typescript when the corpus is there.
fn dump_captures(dir: &Path) -> Vec<PathBuf> {
    let mut v = fixture_cases();
    let cfg = tracesift_synth::Config::new(11, 3 << 20, tracesift_synth::Format::Console);
    v.push(generated(dir, "synth-console.txt", cfg).0);
    v.extend(typescript());
    v
}

#[test]
fn exported_dumps_give_the_same_events_and_coverage() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut dumps = 0;
    let mut events = 0;
    for input in dump_captures(dir.path()) {
        let (report, _) = report_json(&[&input]);
        for (i, d) in report["coverage"]["dumps"]
            .as_array()
            .expect("dumps")
            .iter()
            .enumerate()
        {
            // Nothing to export: an empty dump, or one cut before its first line.
            if d["empty"] == true || (d["events"] == 0 && d["lost_markers"] == 0) {
                continue;
            }
            let (first, last) = (
                d["line"].as_u64().expect("line"),
                d["end_line"].as_u64().unwrap_or(u64::MAX),
            );
            let want = trace_events(&input, |e| {
                e["input"] == d["input"]
                    && (first..=last).contains(&e["line"].as_u64().unwrap_or(0))
            });
            let n = i.to_string();
            let out = export(&["--dump", &n], &input, dir.path(), "dump.trace");
            let got = trace_events(&out, |_| true);
            assert_eq!(
                got.len(),
                want.len(),
                "events of dump {i} of {}",
                input.display()
            );
            for (g, w) in got.iter().zip(&want) {
                assert_eq!(g, w, "dump {i} of {}", input.display());
            }
            // The header counts the events and what the markers say was lost.
            let text = std::fs::read_to_string(&out).expect("read export");
            assert!(text.starts_with("# tracer: "), "{}", input.display());
            let entries = want.iter().filter(|e| e["kind"] != "lost-events").count() as u64;
            let lost: u64 = want
                .iter()
                .filter_map(|e| e["fields"]["count"].as_u64())
                .sum();
            assert!(
                text.contains(&format!(
                    "# entries-in-buffer/entries-written: {entries}/{}   #P:",
                    entries + lost
                )),
                "{}",
                input.display()
            );
            // Per-CPU coverage: the same windows, events and lost events.
            let (again, _) = report_json(&[&out]);
            let boot = d["boot"].as_u64().expect("boot");
            if report["coverage"]["dumps"]
                .as_array()
                .expect("dumps")
                .iter()
                .filter(|x| x["boot"].as_u64() == Some(boot))
                .count()
                == 1
            {
                assert_eq!(
                    windows(&again, 0),
                    windows(&report, boot),
                    "coverage of dump {i} of {}",
                    input.display()
                );
            }
            dumps += 1;
            events += want.len();
        }
    }
    assert!(dumps >= 11, "only {dumps} dumps exported");
    assert!(events >= 10_000, "only {events} events compared");
}

#[test]
fn exported_trace_files_give_the_same_events() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = tracesift_synth::Config::new(5, 1 << 20, tracesift_synth::Format::Tracefs);
    let mut inputs = vec![generated(dir.path(), "synth-tracefs.txt", cfg).0];
    inputs.push(fixture("thread-excerpt.txt"));
    inputs.push(fixture("repair/quoted-wrapped-excerpt.txt"));
    if let Some(c) = corpus() {
        for rel in [
            "lisa/trace_txt_trace.txt",
            "perf-tools/funcgraph_example.txt",
            "perf-tools/functrace_example.txt",
            "tracecmd-generated/trappy_raw_trace.report-l-t.txt",
            "linux-next-ml/rcutorture-ftrace-dump-mail.txt",
        ] {
            let p = c.join(rel);
            if p.is_file() {
                inputs.push(p);
            }
        }
    }
    for input in &inputs {
        let want = trace_events(input, |_| true);
        assert!(!want.is_empty(), "{}", input.display());
        let out = export(&["--all"], input, dir.path(), "all.trace");
        assert_eq!(
            trace_events(&out, |_| true),
            want,
            "--all of {}",
            input.display()
        );
    }
}

#[test]
fn default_export_writes_every_dump_and_splits_files_on_request() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Two boots, one dump each.
    let input = fixture("cases/neg-reboot-reread.txt");
    let (out, _, code) = run(&["export"], &[&input]);
    assert_eq!(code, 0);
    assert_eq!(out.matches("# tracer: ").count(), 2, "{out}");
    let pattern = dir.path().join("dump-{}.trace");
    let (_, err, code) = run(
        &["export", "-o", pattern.to_str().expect("UTF-8 path")],
        &[&input],
    );
    assert_eq!(code, 0, "{err}");
    let mut files: Vec<String> = std::fs::read_dir(dir.path())
        .expect("dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, ["dump-0.trace", "dump-1.trace"]);
    let joined = files
        .iter()
        .map(|f| std::fs::read_to_string(dir.path().join(f)).expect("read"))
        .collect::<String>();
    assert_eq!(joined, out);
    // --boot 1 is the second boot's dump alone.
    let (boot1, _, code) = run(&["export", "--boot", "1"], &[&input]);
    assert_eq!(code, 0);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("dump-1.trace")).expect("read"),
        boot1
    );
}

#[test]
fn export_errors_and_nothing_to_export() {
    let input = fixture("cases/lost-events.txt");
    let (_, err, code) = run(&["export", "--dump", "7"], &[&input]);
    assert_eq!(code, 2);
    assert!(
        err.contains("there is no dump 7: the inputs hold 1 dump"),
        "{err}"
    );
    let (_, err, code) = run(&["export", "--boot", "3"], &[&input]);
    assert_eq!(code, 2);
    assert!(err.contains("there is no boot 3"), "{err}");
    let (_, _, code) = run(
        &["export", "--format", "perfetto", "-o", "x-{}.json"],
        &[&input],
    );
    assert_eq!(code, 2);
    // Kernel messages only: nothing to export, status 1.
    let (out, err, code) = run(&["export"], &[&fixture("cases/kernel-splat.txt")]);
    assert_eq!(code, 1, "{out}");
    assert!(out.is_empty());
    assert!(err.contains("no trace line to export"), "{err}");
}

/// Check a Trace Event Format document against the format's documented
/// fields; returns its events.
fn check_trace_event_format(doc: &Value) -> Vec<Value> {
    let events = doc["traceEvents"]
        .as_array()
        .expect("a JSON Object Format document with traceEvents")
        .clone();
    let mut processes = BTreeSet::new();
    let mut threads = BTreeSet::new();
    let mut used = BTreeSet::new();
    // Open async slices by (pid, cat, id), with their begin time.
    let mut open: HashMap<(u64, String, String), f64> = HashMap::new();
    for e in &events {
        let ph = e["ph"].as_str().expect("ph");
        assert!(e["name"].is_string(), "name: {e}");
        let pid = e["pid"].as_u64().expect("pid");
        let tid = e["tid"].as_u64().expect("tid");
        assert!(e["args"].is_object(), "args: {e}");
        if ph == "M" {
            let name = e["name"].as_str().expect("name");
            match name {
                "process_name" => {
                    assert!(e["args"]["name"].is_string());
                    processes.insert(pid);
                }
                "thread_name" => {
                    assert!(e["args"]["name"].is_string());
                    threads.insert((pid, tid));
                }
                "thread_sort_index" => assert!(e["args"]["sort_index"].is_i64()),
                other => panic!("unexpected metadata {other}"),
            }
            continue;
        }
        let ts = e["ts"].as_f64().expect("ts in microseconds");
        assert!(ts >= 0.0);
        assert!(e["cat"].is_string(), "cat: {e}");
        used.insert(pid);
        match ph {
            "b" | "e" => {
                let key = (
                    pid,
                    e["cat"].as_str().expect("cat").to_string(),
                    e["id"].as_str().expect("async id").to_string(),
                );
                if ph == "b" {
                    assert!(open.insert(key, ts).is_none(), "nested begin: {e}");
                    assert!(threads.contains(&(pid, tid)), "unnamed track: {e}");
                } else {
                    let begun = open.remove(&key).expect("an end after its begin");
                    assert!(ts >= begun, "ends before it begins: {e}");
                }
            }
            "i" => {
                let s = e["s"].as_str().expect("instant scope");
                assert!(["g", "p", "t"].contains(&s), "{e}");
                if s == "t" {
                    assert!(threads.contains(&(pid, tid)), "unnamed track: {e}");
                }
            }
            other => panic!("unexpected phase {other}"),
        }
    }
    assert!(open.is_empty(), "slices never ended: {open:?}");
    assert!(used.is_subset(&processes), "unnamed process");
    events
}

#[test]
fn perfetto_export_follows_the_trace_event_format() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = tracesift_synth::Config::new(3, 2 << 20, tracesift_synth::Format::Console);
    let (synth, facts) = generated(dir.path(), "synth.txt", cfg);
    for input in [synth.as_path(), &fixture("thread-excerpt.txt")] {
        let (out, err, code) = run(&["export", "--format", "perfetto"], &[input]);
        assert_eq!(code, 0, "{err}");
        let doc: Value = serde_json::from_str(&out).expect("one JSON document");
        let events = check_trace_event_format(&doc);
        let (report, _) = report_json(&[input]);
        // One slice per lifetime, one instant per read.
        let count = |ph: &str, cat: &str| {
            events
                .iter()
                .filter(|e| e["ph"] == ph && e["cat"] == cat)
                .count() as u64
        };
        let lifetimes = &report["summary"]["lifetimes"];
        // Lifetimes whose alloc is not in the trace are slices too, from their first read.
        let orphans = events
            .iter()
            .filter(|e| e["ph"] == "b" && e["args"]["alloc_in_trace"] == false)
            .count() as u64;
        assert_eq!(
            count("b", "eb") - orphans,
            lifetimes["lifetimes"].as_u64().expect("lifetimes"),
            "{}",
            input.display()
        );
        assert_eq!(
            count("i", "read"),
            lifetimes["reads"].as_u64().expect("reads"),
            "{}",
            input.display()
        );
        // Every duplicate read is a finding on the timeline, at its alloc.
        let dups: BTreeMap<u64, u64> = report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["rule"] == "duplicate-read-completion")
            .filter_map(|f| Some((f["eb"].as_u64()?, f["evidence"][0]["trace_ts_ns"].as_u64()?)))
            .collect();
        assert!(!dups.is_empty(), "{}", input.display());
        for (eb, ns) in dups {
            assert!(
                events.iter().any(|e| e["cat"] == "finding"
                    && e["name"] == "duplicate-read-completion"
                    && e["args"]["eb"].as_u64() == Some(eb)
                    && e["ts"].as_f64() == Some(ns as f64 / 1000.0)),
                "no finding instant for eb {eb} in {}",
                input.display()
            );
        }
        // Every finding is listed, placed or not.
        assert_eq!(
            doc["otherData"]["findings"].as_array().map(Vec::len),
            report["findings"].as_array().map(Vec::len)
        );
    }
    // Every fixture, also as one trace over two boots (--all: the slices
    // still open end with their boot), keeps to the format.
    for input in fixture_cases().iter().chain(typescript().iter()) {
        for args in [
            &["export", "--format", "perfetto"][..],
            &["export", "--format", "perfetto", "--all"],
        ] {
            let (out, _, _) = run(args, &[input]);
            let doc: Value = serde_json::from_str(&out).expect("one JSON document");
            check_trace_event_format(&doc);
        }
    }
    // A lifetime open when its boot ends ends there, on that boot's clock.
    let (out, _, _) = run(
        &["export", "--format", "perfetto", "--all"],
        &[&fixture("cases/neg-reboot-reread.txt")],
    );
    let doc: Value = serde_json::from_str(&out).expect("JSON");
    let spans: Vec<(String, f64)> = doc["traceEvents"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["ph"] == "b" || e["ph"] == "e")
        .map(|e| {
            (
                e["ph"].as_str().unwrap_or("").to_string(),
                e["ts"].as_f64().unwrap_or(-1.0),
            )
        })
        .collect();
    let want = [
        ("b", 170000100.0),
        ("e", 170000300.0),
        ("b", 120000300.0),
        ("e", 120000300.0),
    ];
    assert_eq!(spans, want.map(|(p, t)| (p.to_string(), t)));
    // The generator's lost-event markers became instants on their CPUs.
    let (out, _, _) = run(&["export", "--format", "perfetto"], &[&synth]);
    let doc: Value = serde_json::from_str(&out).expect("JSON");
    let lost = doc["traceEvents"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["cat"] == "lost")
        .count();
    assert_eq!(lost, facts.counts.lost_markers as usize);
}
