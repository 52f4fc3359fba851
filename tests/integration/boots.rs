//! Boots: a capture holds boot after boot (the thread's recipe reboots on
//! panic), and nothing lives across a boot; inputs of one boot still
//! correlate as one.

use std::collections::BTreeMap;
use std::path::Path;

use crate::util::{corpus_or_skip, finding_lines, fixture, report_json, run, stats_json};

/// Findings as `rule eb=.. confidence message`, counted (evidence aside).
fn verdicts(v: &serde_json::Value) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for f in v["findings"].as_array().expect("findings") {
        let k = format!(
            "{} eb={} {} {}",
            f["rule"].as_str().unwrap_or("?"),
            f.get("eb").map_or("-".to_string(), |e| e.to_string()),
            f["confidence"].as_str().unwrap_or("?"),
            f["message"].as_str().unwrap_or("?")
        );
        *m.entry(k).or_default() += 1;
    }
    m
}

/// Two verdict maps are equal; else fail naming what differs.
fn assert_same(got: &BTreeMap<String, usize>, want: &BTreeMap<String, usize>, what: &str) {
    let only = |a: &BTreeMap<String, usize>, b: &BTreeMap<String, usize>| {
        a.iter()
            .filter(|(k, n)| b.get(*k) != Some(n))
            .map(|(k, n)| format!("{n} x {k}"))
            .collect::<Vec<_>>()
    };
    assert!(
        got == want,
        "{what}: only got {:#?}\nonly wanted {:#?}",
        only(got, want),
        only(want, got)
    );
}

#[test]
fn a_read_in_the_next_boot_is_not_a_second_read() {
    // Boot 1 allocates and reads eb 30408704; boot 2 reads it again, 50 s
    // earlier in trace time, after its CPU lost events.
    let (v, _) = report_json(&[&fixture("cases/neg-reboot-reread.txt")]);
    let lines = finding_lines(&v);
    assert!(
        !lines.iter().any(|l| l.contains("duplicate-read")),
        "{lines:?}"
    );
    assert!(
        lines.contains(&"warning read-without-alloc eb=30408704 unverifiable boot=1".to_string())
    );
    let boots = v["boots"].as_array().expect("boots");
    assert_eq!(boots.len(), 2);
    assert_eq!(boots[1]["start"], "banner");
    assert_eq!(boots[1]["first"]["line"], 11);
    assert_eq!(boots[0]["last"]["line"], 10);
    assert_eq!(boots[0]["release"], "6.8.0-rc7-euclean+");
    // Coverage is per boot: CPU 3 lost events in boot 2 only.
    let cpus = v["coverage"]["cpus"].as_array().expect("cpus");
    let lost: Vec<_> = cpus
        .iter()
        .map(|c| (c["boot"].as_u64(), c["lost_events"].as_u64()))
        .collect();
    assert_eq!(lost, [(Some(0), Some(0)), (Some(1), Some(5121))]);
}

/// Rules whose findings group repeats of one message (one corruption, one
/// splat title) across the whole run, with a count and the set of boots.
const GROUPED: [&str; 5] = [
    "tree-check-failure",
    "validation-failed",
    "implausible-header-value",
    "transaction-abort",
    "kernel-splat",
];

/// Occurrences per grouped finding, `rule message` -> count.
fn grouped_counts(v: &serde_json::Value) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for f in v["findings"].as_array().expect("findings") {
        let rule = f["rule"].as_str().unwrap_or("?");
        if GROUPED.contains(&rule) {
            let k = format!("{rule} {}", f["message"].as_str().unwrap_or("?"));
            *m.entry(k).or_default() += f["count"].as_u64().unwrap_or(1);
        }
    }
    m
}

#[test]
fn three_boots_of_the_typescript_are_three_times_its_findings() {
    let root = corpus_or_skip!();
    let one = root.join("linux-btrfs-ml/typescript-2.txt");
    let text = std::fs::read(&one).expect("typescript");
    let dir = tempfile::tempdir().expect("temp dir");
    let three = dir.path().join("three.txt");
    std::fs::write(&three, [&text[..], &text[..], &text[..]].concat()).expect("write");

    let (single, _) = report_json(&[&one]);
    let (tripled, _) = report_json(&[&three]);
    assert_eq!(tripled["boots"].as_array().map(Vec::len), Some(3));
    // Per-boot findings three times; grouped ones once, seen three times as often.
    let per_boot = |v: &serde_json::Value| -> BTreeMap<String, usize> {
        verdicts(v)
            .into_iter()
            .filter(|(k, _)| !GROUPED.iter().any(|g| k.starts_with(g)))
            .collect()
    };
    let want: BTreeMap<_, _> = per_boot(&single)
        .into_iter()
        .map(|(k, n)| (k, 3 * n))
        .collect();
    assert_same(&per_boot(&tripled), &want, "three boots");
    let want: BTreeMap<_, _> = grouped_counts(&single)
        .into_iter()
        .map(|(k, n)| (k, 3 * n))
        .collect();
    assert_eq!(grouped_counts(&tripled), want);
    assert!(!verdicts(&tripled)
        .keys()
        .any(|k| k.starts_with("duplicate-read-completion")));
    // Each boot's evidence stays in its boot's lines.
    let lines = text.iter().filter(|&&c| c == b'\n').count() as u64;
    for f in tripled["findings"].as_array().expect("findings") {
        for e in f["evidence"].as_array().expect("evidence") {
            let boot = e["boot"].as_u64().expect("boot");
            let line = e["line"].as_u64().expect("line");
            assert_eq!((line - 1) / lines, boot, "{e}");
        }
    }
}

/// The typescript cut in two at `line` (the first part ends with it).
fn split(root: &Path, line: usize, dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let text =
        std::fs::read_to_string(root.join("linux-btrfs-ml/typescript-2.txt")).expect("typescript");
    let cut = text
        .match_indices('\n')
        .nth(line - 1)
        .map_or(text.len(), |(i, _)| i + 1);
    let (a, b) = (dir.join("a.txt"), dir.join("b.txt"));
    std::fs::write(&a, &text[..cut]).expect("write");
    std::fs::write(&b, &text[cut..]).expect("write");
    (a, b)
}

#[test]
fn a_capture_split_in_two_is_one_boot_with_the_same_findings() {
    let root = corpus_or_skip!();
    let (whole, _) = report_json(&[&root.join("linux-btrfs-ml/typescript-2.txt")]);
    let dir = tempfile::tempdir().expect("temp dir");
    for line in [1200, 3040, 4300, 6000] {
        let (a, b) = split(&root, line, dir.path());
        let (parts, _) = report_json(&[&a, &b]);
        assert_eq!(
            parts["boots"].as_array().map(Vec::len),
            Some(1),
            "cut at {line}"
        );
        assert_same(
            &verdicts(&parts),
            &verdicts(&whole),
            &format!("cut at {line}"),
        );
        assert_eq!(
            parts["splats"].as_array().map(Vec::len),
            whole["splats"].as_array().map(Vec::len),
            "cut at {line}"
        );
    }
}

/// 700 boots, each with a banner and a one-event ftrace dump whose CPU lost
/// events: the first and the latest 64 boots and 256 dumps are listed, the
/// rest counted, and numbers still mean the same boot and dump.
#[test]
fn boots_and_dumps_beyond_the_first_and_the_latest_are_counted_not_listed() {
    let mut text = String::new();
    for i in 0..700u64 {
        text.push_str(&format!(
            "[    0.000000] Linux version 6.8.0-{i} (b@h) (gcc 13.2.1) #1 SMP\n\
             [    1.000000] Dumping ftrace buffer:\n\
             [    1.000000] ---------------------------------\n\
             [    1.000000] CPU:0 [LOST 5 EVENTS]\n\
             [    1.000000] iou-wrk--4101      0..... 90000100us : alloc_extent_buffer: alloc_extent_buffer: alloc eb={} len=16384\n\
             [    1.000000] ---------------------------------\n",
            22020096 + i * 16384
        ));
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("boots.txt");
    std::fs::write(&path, &text).expect("write");

    let (v, _) = report_json(&[&path]);
    let s = &v["summary"];
    assert_eq!(s["boots_not_listed"], 700 - 128);
    assert_eq!(s["cpus_not_listed"], 700 - 128);
    assert_eq!(s["dumps_not_listed"], 700 - 512);
    assert_eq!(s["not_kept"]["lost-events"], 700 - 128);
    let boots = v["boots"].as_array().expect("boots");
    let numbers: Vec<u64> = boots.iter().filter_map(|b| b["index"].as_u64()).collect();
    let want: Vec<u64> = (0..64).chain(636..700).collect();
    assert_eq!(numbers, want);
    assert_eq!(boots[127]["release"], "6.8.0-699");
    assert_eq!(boots[127]["first"]["line"], 699 * 6 + 1);
    let dumps = v["coverage"]["dumps"].as_array().expect("dumps");
    assert_eq!(dumps.len(), 512);
    assert_eq!(dumps[256]["index"], 444);
    assert_eq!(dumps[256]["boot"], 444);
    assert_eq!(v["coverage"]["cpus"].as_array().map(Vec::len), Some(128));
    let lost = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == "lost-events")
        .count();
    assert_eq!(lost, 128);

    let (out, _, _) = run(&["report", "--color", "never"], &[&path]);
    assert!(
        out.contains("700 dumps of which 0 empty, 700 boots"),
        "{out}"
    );
    assert!(
        out.contains("Boots 65-636: not listed (the first 64 and the latest 64 boots are)"),
        "{out}"
    );
    assert!(
        out.contains("Not kept to bound memory: 572 lost-events findings"),
        "{out}"
    );

    // A dump and a boot that are not listed are still exported by number.
    let (out, err, code) = run(&["export", "--dump", "300"], &[&path]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("eb=26935296 "), "{out}");
    let (out, err, code) = run(&["export", "--boot", "300"], &[&path]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("eb=26935296 "), "{out}");
    let (_, err, code) = run(&["export", "--dump", "700"], &[&path]);
    assert_eq!(code, 2);
    assert!(
        err.contains("there is no dump 700: the inputs hold 700 dumps"),
        "{err}"
    );

    let (v, _) = stats_json(&[&path]);
    assert_eq!(v["cpus_not_listed"], 572);
    assert_eq!(v["dumps_not_listed"], 188);
    assert_eq!(v["dumps"].as_array().map(Vec::len), Some(512));
}
