//! The paste-repair stage end to end: mail-wrapped, quoted, quoted-printable,
//! joined and `dmesg`-indented captures give what their clean form gives, and
//! repair leaves clean captures alone. Tests that read `../shared/corpus` skip
//! when it is absent.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::Path;

use tracesift::event::{self, EventKind};
use tracesift::grammar::LineClass;
use tracesift::reader::{read_input, ReadOptions};
use tracesift::record::Record;

use crate::util::{corpus_or_skip, finding_lines, fixture, report_json, run, stats_json};

/// What reading one file gave, per line class and per event kind.
#[derive(Debug, Default, PartialEq, Eq)]
struct Reading {
    /// Physical lines, per class.
    classes: BTreeMap<&'static str, u64>,
    /// Records per event kind.
    events: BTreeMap<&'static str, u64>,
    /// Records built by repair.
    repaired: u64,
    /// (first line, lines) of every tree-checker report.
    tree_checks: Vec<(u64, u32)>,
}

fn read(path: &Path, repair: bool) -> Reading {
    let f = File::open(path).expect("open");
    let mut r = Reading::default();
    let mut sink = |rec: &Record<'_>| {
        *r.classes.entry(rec.class.name()).or_insert(0) += u64::from(rec.lines);
        if rec.repairs != 0 {
            r.repaired += 1;
        }
        if let Some(e) = event::Recognizer::builtin().recognize(rec) {
            *r.events.entry(e.kind.name()).or_insert(0) += 1;
            if let EventKind::TreeCheck(_) = e.kind {
                r.tree_checks.push((rec.pos.line, rec.lines));
            }
        }
    };
    let opts = ReadOptions {
        repair,
        ..ReadOptions::default()
    };
    let (_, err) = read_input(0, f, &opts, &mut sink);
    assert!(err.is_none(), "{}", path.display());
    r
}

fn class(r: &Reading, c: LineClass) -> u64 {
    r.classes.get(c.name()).copied().unwrap_or(0)
}

fn event_count(r: &Reading, kind: &str) -> u64 {
    r.events.get(kind).copied().unwrap_or(0)
}

/// The findings of the re-joined excerpt in the fixtures.
fn thread_findings() -> Vec<String> {
    let (v, code) = report_json(&[&fixture("thread-excerpt.txt")]);
    assert_eq!(code, 1);
    let lines = finding_lines(&v);
    assert!(lines.contains(&"error duplicate-read-completion eb=15302115328 certain".to_string()));
    assert!(lines.contains(&"error race-signature eb=15302115328 certain".to_string()));
    lines
}

/// `(role, first line)` of a finding's evidence.
fn evidence(v: &serde_json::Value, rule: &str) -> Vec<(String, u64)> {
    let f = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["rule"] == rule)
        .unwrap_or_else(|| panic!("no {rule} finding"));
    f["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .map(|e| {
            (
                e["role"].as_str().unwrap_or("?").to_string(),
                e["line"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

fn write_temp(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.path().join(name);
    let mut f = File::create(&p).expect("create");
    f.write_all(text.as_bytes()).expect("write");
    p
}

#[test]
fn mail_wrapped_excerpt_gives_the_threads_findings() {
    let root = corpus_or_skip!();
    let mail = root.join("linux-btrfs-ml/double-read-excerpt-mail-wrapped.txt");
    let (v, code) = report_json(&[&mail]);
    assert_eq!(code, 1);
    assert_eq!(finding_lines(&v), thread_findings());
    // Citations stay physical: the first line of each re-joined record.
    assert_eq!(
        evidence(&v, "duplicate-read-completion"),
        [
            ("alloc".to_string(), 8),
            ("read-done".to_string(), 11),
            ("read-done".to_string(), 14)
        ]
    );
    assert_eq!(evidence(&v, "tree-check-failure")[0].1, 5);
    // Without repair the tree-checker line is cut and the race is missed.
    let (out, _, _) = run(&["--no-repair", "report", "--json"], &[&mail]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert!(!finding_lines(&v)
        .iter()
        .any(|l| l.contains("race-signature")));
}

#[test]
fn quoted_replies_of_the_excerpt_give_the_same_findings() {
    let root = corpus_or_skip!();
    let mail =
        std::fs::read_to_string(root.join("linux-btrfs-ml/double-read-excerpt-mail-wrapped.txt"))
            .expect("read the excerpt");
    let dir = tempfile::tempdir().expect("tempdir");
    let want = thread_findings();
    for (name, quote) in [("q1.txt", "> "), ("q2.txt", ">> "), ("q3.txt", "> > ")] {
        let quoted: String = mail.lines().map(|l| format!("{quote}{l}\n")).collect();
        let p = write_temp(&dir, name, &quoted);
        let (v, code) = report_json(&[&p]);
        assert_eq!(code, 1, "{quote:?}");
        assert_eq!(finding_lines(&v), want, "{quote:?}");
        let (s, _) = stats_json(&[&p]);
        let rep = &s["inputs"][0]["repaired"]["records"];
        assert_eq!(rep["unwrapped"], 4, "{quote:?}");
        assert_eq!(rep["unquoted"], 13, "{quote:?}: every record was quoted");
    }
}

#[test]
fn quoted_wrapped_fixture_gives_the_threads_findings() {
    let p = fixture("repair/quoted-wrapped-excerpt.txt");
    let (v, code) = report_json(&[&p]);
    assert_eq!(code, 1);
    assert_eq!(finding_lines(&v), thread_findings());
    assert_eq!(evidence(&v, "tree-check-failure")[0].1, 3);
    let r = read(&p, true);
    assert_eq!(r.tree_checks, [(3, 3)]);
    assert_eq!(class(&r, LineClass::FtraceEvent), 9);
    assert_eq!(class(&r, LineClass::Unrecognized), 2);
}

#[test]
fn quoted_printable_fixture_gives_the_threads_findings() {
    let p = fixture("repair/qp-excerpt.txt");
    let (v, code) = report_json(&[&p]);
    assert_eq!(code, 1);
    assert_eq!(finding_lines(&v), thread_findings());
    let (s, _) = stats_json(&[&p]);
    let rep = &s["inputs"][0]["repaired"];
    assert_eq!(rep["records"]["quoted_printable"], 4);
    assert_eq!(rep["records"]["nbsp"], 1);
    assert_eq!(rep["lines"], 11);
    // Without repair: nothing is decoded, the escapes hide every eb.
    let (out, _, code) = run(&["--no-repair", "report", "--json"], &[&p]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn dmesg_continuation_lines_get_their_prefix_back() {
    let p = fixture("repair/dmesg-multiline.txt");
    let with = read(&p, true);
    let without = read(&p, false);
    assert_eq!(class(&with, LineClass::KernelMessage), 8);
    assert_eq!(class(&with, LineClass::Continuation), 0);
    assert_eq!(with.repaired, 2);
    assert_eq!(class(&without, LineClass::KernelMessage), 6);
    assert_eq!(class(&without, LineClass::Continuation), 2);
    assert_eq!(without.repaired, 0);
    assert_eq!(event_count(&with, "tree-check"), 1);
    let (s, _) = stats_json(&[&p]);
    assert_eq!(s["inputs"][0]["repaired"]["records"]["indent_joined"], 2);
}

/// Per file: lines, ftrace-event lines, kernel-message lines, unrecognised
/// lines, records built by repair, tree-checker reports, validation messages.
/// A change here is a change in what repair does: review it.
const PINNED: &[(&str, [u64; 7])] = &[
    (
        "btrfs-2019-09-barnes-name-hash-mismatch-joined-line.txt",
        [1, 0, 1, 0, 4, 4, 0],
    ),
    (
        "btrfs-2020-05-ebertz-unknown-flags-read-time-indented.txt",
        [27, 0, 26, 0, 0, 13, 13],
    ),
    (
        "btrfs-2022-02-qu-autodefrag-tracefs-header-wrapped.txt",
        [43, 31, 0, 0, 11, 0, 0],
    ),
    (
        "btrfs-2024-01-linus-owner-mismatch-wrapped.txt",
        [13, 0, 13, 0, 5, 3, 0],
    ),
    (
        "btrfs-2024-03-14-tavian-owner-mismatch-splat-wrapped.txt",
        [116, 0, 116, 0, 21, 6, 0],
    ),
    (
        "btrfs-2024-09-parton-scrub-tree-corruption-wrapped.txt",
        [105, 0, 105, 0, 43, 9, 11],
    ),
    (
        "btrfs-2025-02-qu-generic437-empty-ftrace-dump-wrapped.txt",
        [122, 0, 118, 0, 31, 0, 0],
    ),
];

#[test]
fn wrapped_joined_and_indented_real_captures() {
    let root = corpus_or_skip!();
    let dir = root.join("real-world");
    // Every file whose name says wrapped, joined or indented is pinned.
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("real-world")
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.contains("wrapped") || n.contains("joined") || n.contains("indented"))
        .collect();
    names.sort();
    let pinned: Vec<&str> = PINNED.iter().map(|p| p.0).collect();
    assert_eq!(names, pinned);
    let mut diffs = Vec::new();
    for &(name, want) in PINNED {
        let path = dir.join(name);
        let r = read(&path, true);
        let got = [
            r.classes.values().sum::<u64>(),
            class(&r, LineClass::FtraceEvent),
            class(&r, LineClass::KernelMessage),
            class(&r, LineClass::Unrecognized),
            r.repaired,
            event_count(&r, "tree-check"),
            event_count(&r, "validation"),
        ];
        if got != want {
            diffs.push(format!("(\"{name}\", {got:?}),"));
        }
        // Every tree-checker report (each starts with `BTRFS critical`) is
        // recognised, however many physical lines it was wrapped over.
        let text = std::fs::read_to_string(&path).expect("read");
        let critical = text.matches("BTRFS critical").count() as u64;
        assert_eq!(event_count(&r, "tree-check"), critical, "{name}");
        // Every trace line is an event: as many as lines with a task and CPU.
        let tasks = text.lines().filter(|l| l.contains("-1770 ")).count() as u64;
        assert_eq!(event_count(&r, "trace"), tasks, "{name}");
        // stats agrees on the repaired records.
        let (s, _) = stats_json(&[&path]);
        assert_eq!(s["lines"], r.classes.values().sum::<u64>(), "{name}");
    }
    assert!(diffs.is_empty(), "counts changed:\n{}", diffs.join("\n"));
}

#[test]
fn wrapped_captures_without_repair_are_what_they_were() {
    let root = corpus_or_skip!();
    let p = root.join("real-world/btrfs-2024-03-14-tavian-owner-mismatch-splat-wrapped.txt");
    let r = read(&p, false);
    assert_eq!(class(&r, LineClass::Unrecognized), 53);
    assert_eq!(r.repaired, 0);
    assert_eq!(event_count(&r, "tree-check"), 0);
    let (out, _, _) = run(&["--no-repair", "stats", "--json"], &[&p]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["inputs"][0]["repaired"]["lines"], 0);
}

#[test]
fn joined_records_are_split_with_one_citation() {
    let root = corpus_or_skip!();
    let p = root.join("real-world/btrfs-2019-09-barnes-name-hash-mismatch-joined-line.txt");
    let r = read(&p, true);
    assert_eq!(r.tree_checks, [(1, 1), (1, 0), (1, 0), (1, 0)]);
    let (s, _) = stats_json(&[&p]);
    assert_eq!(s["classes"]["kernel_message"], 1);
    assert_eq!(s["inputs"][0]["repaired"]["records"]["split"], 4);
    assert_eq!(s["inputs"][0]["repaired"]["lines"], 1);
}

#[test]
fn elision_lines_are_gaps_not_unrecognised() {
    let root = corpus_or_skip!();
    for (name, gaps) in [
        (
            "btrfs-2023-02-qu-devreplace-scrub-submit-trace-elided.txt",
            2,
        ),
        ("btrfs-2024-09-murphy-unaligned-pointer-journalctl.txt", 2),
        ("xfs-2022-03-chinner-trace-cmd-console-events-daddr.txt", 4),
    ] {
        let (s, _) = stats_json(&[&root.join("real-world").join(name)]);
        assert_eq!(
            s["inputs"][0]["repaired"]["records"]["elided"], gaps,
            "{name}"
        );
        let samples = s["unrecognized_samples"].as_array().expect("samples");
        assert!(
            samples
                .iter()
                .all(|x| !x["text"].as_str().unwrap_or("").trim().starts_with("...")),
            "{name}"
        );
    }
}

#[test]
fn repair_changes_nothing_on_the_typescript() {
    let root = corpus_or_skip!();
    let ts = root.join("linux-btrfs-ml/typescript-2.txt");
    let (with, _, c1) = run(&["stats", "--json"], &[&ts]);
    let (without, _, c2) = run(&["--no-repair", "stats", "--json"], &[&ts]);
    assert_eq!((c1, c2), (0, 0));
    assert_eq!(with, without);
    // The console interleaving `Startin[    2.193372] systemd[1]: ...` is the
    // prefix stage's business, not a joined record.
    let v: serde_json::Value = serde_json::from_str(&with).expect("JSON");
    assert_eq!(v["inputs"][0]["repaired"]["lines"], 0);
}

#[test]
fn clean_corpus_captures_are_not_repaired() {
    let root = corpus_or_skip!();
    for name in [
        "linux-btrfs-ml/autodefrag-trace.txt",
        "linux-btrfs-ml/dmesg-boot-corrupt-leaf.log",
        "linux-btrfs-ml/journalctl-k-corrupt-leaf.log",
        "linux-btrfs-ml/syslog-kernel-corrupt-leaf.log",
        "real-world/xfs-2024-12-maiolino-trace-cmd-report-xfs-buf.txt",
        "real-world/btrfs-2023-08-healer-fuzz-set-state-bits-no-timestamps.txt",
        "syzkaller/linux-report-0",
        "syzkaller/linux-report-6",
        "syzkaller/linux-report-317",
        "perf-tools/functrace_example.txt",
    ] {
        let p = root.join(name);
        assert_eq!(read(&p, true).classes, read(&p, false).classes, "{name}");
        let (s, _) = stats_json(&[&p]);
        let rep = &s["inputs"][0]["repaired"]["records"];
        assert!(rep.get("unwrapped").is_none(), "{name}: {rep}");
        assert!(rep.get("split").is_none(), "{name}: {rep}");
    }
}
