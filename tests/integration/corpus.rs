//! The real captures in the shared corpus (skipped when it is absent).

use std::fs::File;

use tracesift::event::{self, EventKind};
use tracesift::grammar::{Body, LineClass, TraceTs};
use tracesift::reader::{read_input, ReadOptions};
use tracesift::record::Record;

use crate::util::{corpus_files, corpus_or_skip, finding_lines, report_json, stats_json, sweep};

/// (file, lines, ftrace_event lines, unrecognized lines) as read today.
/// A change here is a change in what tracesift reads: review it.
/// What stays unrecognized is prose, HTML, user-space output or
/// btrfs-progs output; see fixtures/README.md.
const PINNED: &[(&str, u64, u64, u64)] = &[
    ("catapult/atrace_data", 127, 116, 0),
    ("catapult/decompressed_atrace_data.txt", 1053, 1042, 0),
    ("linux-btrfs-ml/autodefrag-trace.txt", 13740, 13712, 0),
    ("linux-btrfs-ml/dmesg-T-corrupt-leaf.txt", 27, 0, 0),
    ("linux-btrfs-ml/dmesg-boot-corrupt-leaf.log", 731, 0, 0),
    ("linux-btrfs-ml/journalctl-k-corrupt-leaf.log", 1392, 0, 0),
    ("linux-btrfs-ml/syslog-kernel-corrupt-leaf.log", 449, 0, 0),
    ("linux-btrfs-ml/typescript-2.txt", 8646, 3638, 9),
    ("lisa/trace_txt_trace.txt", 2943, 2941, 0),
    ("perfetto/bad_print.systrace", 5, 3, 0),
    ("perfetto/sched_blocked_systrace.systrace", 6, 6, 0),
    (
        "real-world/xfs-2024-12-maiolino-trace-cmd-report-xfs-buf.txt",
        2328,
        2328,
        0,
    ),
    (
        "tracecmd-generated/lisa_sched_load.report.txt",
        3725,
        3724,
        0,
    ),
    (
        "tracecmd-generated/trappy_raw_trace.report-l-t.txt",
        760,
        757,
        0,
    ),
    ("trappy/doc_trace.txt", 811, 804, 0),
    ("trappy/raw_trace.txt", 7, 3, 0),
    ("trappy/trace_empty.txt", 53, 51, 0),
    ("trappy/trace_equals.txt", 7, 7, 0),
    ("trappy/trace_failed_to_parse.txt", 11, 11, 0),
    ("trappy/trace_idle_unsorted.txt", 17, 15, 0),
    ("trappy/trace_legacy_systrace.html", 52, 15, 23),
    ("trappy/trace_no_trailing_line.txt", 10, 10, 0),
];

#[test]
fn every_file_reads_with_exit_0_and_classes_add_up() {
    let root = corpus_or_skip!();
    let files = corpus_files(&root);
    assert!(
        files.len() >= 60,
        "corpus looks incomplete: {} files",
        files.len()
    );
    for f in sweep(files) {
        let (v, code) = stats_json(&[&f]);
        assert_eq!(code, 0, "{}", f.display());
        let sum: u64 = v["classes"]
            .as_object()
            .unwrap()
            .values()
            .map(|x| x.as_u64().unwrap())
            .sum();
        assert_eq!(sum, v["lines"].as_u64().unwrap(), "{}", f.display());
        let wc = std::fs::read(&f).unwrap();
        let mut lines = wc.iter().filter(|&&b| b == b'\n').count() as u64;
        if wc.last().is_some_and(|&b| b != b'\n') {
            lines += 1;
        }
        assert_eq!(v["lines"].as_u64().unwrap(), lines, "{}", f.display());
    }
}

#[test]
fn pinned_counts() {
    let root = corpus_or_skip!();
    let mut diffs = Vec::new();
    for &(name, lines, trace, unrec) in PINNED {
        let (v, _) = stats_json(&[&root.join(name)]);
        let got = (
            v["lines"].as_u64().unwrap(),
            v["classes"]["ftrace_event"].as_u64().unwrap(),
            v["classes"]["unrecognized"].as_u64().unwrap(),
        );
        if got != (lines, trace, unrec) {
            diffs.push(format!("(\"{name}\", {}, {}, {}),", got.0, got.1, got.2));
        }
    }
    assert!(diffs.is_empty(), "counts changed:\n{}", diffs.join("\n"));
}

#[test]
fn typescript_stats() {
    let root = corpus_or_skip!();
    let ts = root.join("linux-btrfs-ml/typescript-2.txt");
    let (v, code) = stats_json(&[&ts]);
    assert_eq!(code, 0);
    assert_eq!(v["lines"], 8646);
    let dumps = v["dumps"].as_array().unwrap();
    assert_eq!(dumps.len(), 4);
    assert_eq!(dumps.iter().filter(|d| d["empty"] == true).count(), 3);
    let full = dumps.iter().find(|d| d["empty"] == false).unwrap();
    assert_eq!(
        (full["line"].as_u64(), full["events"].as_u64()),
        (Some(3044), Some(3638))
    );
    let cpus = v["cpus"].as_array().unwrap();
    assert_eq!(
        cpus.iter()
            .filter(|c| c["lost_events"].as_u64().unwrap() > 0)
            .count(),
        48
    );
    let cpu18 = cpus.iter().find(|c| c["cpu"] == 18).unwrap();
    assert_eq!(cpu18["lost_events"], 468484);
    assert_eq!(cpu18["first_trace_ts_ns"], 680442771000u64);
}

#[test]
fn typescript_dump_lines_are_events_with_cpu_pid_and_time() {
    let root = corpus_or_skip!();
    let f = File::open(root.join("linux-btrfs-ml/typescript-2.txt")).unwrap();
    let mut kinds = std::collections::BTreeMap::new();
    let mut checked = 0;
    let mut sink = |r: &Record<'_>| {
        let Body::Trace(t) = &r.body else { return };
        assert_eq!(r.class, LineClass::FtraceEvent);
        // Check against an independent reading of the latency prefix:
        // "comm8-pid" "CPU+flags" "NNNNus".
        let text = String::from_utf8_lossy(r.msg);
        let mut words = text.split_whitespace();
        let task = words.next().unwrap();
        let pid: u32 = task.rsplit('-').next().unwrap().parse().unwrap();
        let cpu_flags = words.next().unwrap();
        let cpu: u32 = cpu_flags
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect::<String>()
            .parse()
            .unwrap();
        let us: u64 = words
            .next()
            .unwrap()
            .trim_end_matches("us")
            .parse()
            .unwrap();
        assert_eq!(t.pid, Some(pid), "{text}");
        assert_eq!(t.cpu, Some(cpu), "{text}");
        assert_eq!(t.ts, Some(TraceTs::SinceReset(us * 1000)), "{text}");
        checked += 1;
        if let Some(e) = event::Recognizer::builtin().recognize(r) {
            *kinds.entry(e.kind.name()).or_insert(0u32) += 1;
            if let EventKind::CalledFrom { func } = e.kind {
                assert!(func == b"btrfs_release_extent_buffer" || func == b"release_extent_buffer");
            }
        }
    };
    read_input(0, f, &ReadOptions::default(), &mut sink);
    assert_eq!(checked, 3638);
    assert_eq!(kinds.get("alloc"), Some(&1865));
    assert_eq!(kinds.get("read-done"), Some(&1222));
    assert_eq!(kinds.get("before-release"), Some(&279));
    assert_eq!(kinds.get("called-from"), Some(&272));
}

#[test]
fn typescript_report() {
    let root = corpus_or_skip!();
    let (v, code) = report_json(&[&root.join("linux-btrfs-ml/typescript-2.txt")]);
    assert_eq!(code, 1, "kernel BUG splats are errors");
    let findings = v["findings"].as_array().unwrap();
    // No duplicate read and no read-after-release at error level.
    assert!(!findings.iter().any(|f| f["severity"] == "error"
        && (f["rule"] == "duplicate-read-completion" || f["rule"] == "read-after-release")));
    // Every read whose alloc is not in the trace is unverifiable (lost events explain it).
    let rwa: Vec<_> = findings
        .iter()
        .filter(|f| f["rule"] == "read-without-alloc")
        .collect();
    assert!(rwa.len() >= 37, "{}", rwa.len());
    assert!(rwa.iter().all(|f| f["confidence"] == "unverifiable"));
    // The three BUG splats, titled.
    let splats = v["splats"].as_array().unwrap();
    let bugs: Vec<_> = splats
        .iter()
        .filter(|s| s["title"] == "kernel BUG in btrfs_check_eb_owner")
        .collect();
    assert_eq!(bugs.len(), 3);
    let lines: Vec<_> = bugs.iter().map(|s| s["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, [1182, 3394, 3445]);
    // The garbage block= is implausible, and not tied to an eb.
    let imp = findings
        .iter()
        .find(|f| f["rule"] == "implausible-header-value")
        .expect("implausible");
    assert!(imp["message"]
        .as_str()
        .unwrap()
        .contains("12450248866117114644"));
    assert!(imp.get("eb").is_none());
    // The rejection itself is one error without an eb, its three lines
    // counted (#14).
    let tc: Vec<_> = findings
        .iter()
        .filter(|f| f["rule"] == "tree-check-failure")
        .collect();
    assert_eq!(tc.len(), 1);
    assert_eq!(
        (&tc[0]["severity"], tc[0].get("eb"), &tc[0]["count"]),
        (&serde_json::json!("error"), None, &serde_json::json!(3))
    );
    assert_eq!(tc[0]["evidence"].as_array().map(Vec::len), Some(3));
    // The 272 insert-race discards are benign: no eb anomaly beyond read-without-alloc.
    let lt = &v["summary"]["lifetimes"];
    assert_eq!(
        lt["discards"].as_u64().unwrap() + lt["orphan_discards"].as_u64().unwrap(),
        279
    );
    assert_eq!(lt["duplicate_reads"], 0);
    assert_eq!(v["summary"]["largest_insert_race"]["eb"], 14545043456u64);
    assert_eq!(v["summary"]["largest_insert_race"]["allocs"], 5);
    // 48 CPUs lost events.
    assert_eq!(
        findings
            .iter()
            .filter(|f| f["rule"] == "lost-events")
            .count(),
        48
    );
}

#[test]
fn syzkaller_logs_have_no_error_other_than_splats_and_aborts() {
    let root = corpus_or_skip!();
    let files = corpus_files(&root.join("syzkaller"));
    assert!(files.len() >= 20, "{} syzkaller logs", files.len());
    for f in sweep(files) {
        let (v, _) = report_json(&[&f]);
        let bad: Vec<_> = finding_lines(&v)
            .into_iter()
            .filter(|l| {
                l.starts_with("error ")
                    && !l.contains(" kernel-splat ")
                    && !l.contains(" transaction-abort ")
            })
            .collect();
        assert!(bad.is_empty(), "{}: {bad:?}", f.display());
    }
}
