//! btrfs corruption reports and aborts (#14 parts 2 and 3, #19): one
//! corruption is one finding, a report and its companion line are one
//! occurrence, the phase and the mirrors are named, the values tell how a
//! block was damaged, and memory stays bounded however many reports come.

use std::path::Path;

use serde_json::Value;

use crate::util::{corpus_or_skip, fixture, report_json, run};

/// The findings of `rule`.
fn of<'a>(v: &'a Value, rule: &str) -> Vec<&'a Value> {
    v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

/// The one finding of `rule` about `eb` (`None`: without an eb).
fn one<'a>(v: &'a Value, rule: &str, eb: Option<u64>) -> &'a Value {
    let all: Vec<_> = of(v, rule)
        .into_iter()
        .filter(|f| f.get("eb").and_then(Value::as_u64) == eb)
        .collect();
    assert_eq!(all.len(), 1, "{rule} eb={eb:?}: {all:#?}");
    all[0]
}

/// `(line, lines, role)` of each evidence line.
fn cited(f: &Value) -> Vec<(u64, u64, String)> {
    f["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .map(|e| {
            (
                e["line"].as_u64().unwrap_or(0),
                e["lines"].as_u64().unwrap_or(1),
                e["role"].as_str().unwrap_or("?").to_string(),
            )
        })
        .collect()
}

fn message(f: &Value) -> &str {
    f["message"].as_str().unwrap_or("")
}

fn case(name: &str) -> std::path::PathBuf {
    fixture("cases").join(name)
}

#[test]
fn a_garbage_block_is_still_an_error_without_an_eb() {
    let (v, code) = report_json(&[&case("tree-check-garbage-wrapped.txt")]);
    assert_eq!(code, 1);
    let tc = one(&v, "tree-check-failure", None);
    assert_eq!(tc["severity"], "error");
    assert_eq!(tc["count"], 2);
    assert_eq!(tc["device"], "dm-0");
    assert!(tc.get("phase").is_none(), "no companion line, no phase");
    assert!(message(tc).contains("block=8550954455682405139 is not a real address"));
    // The two wrapped records, cited at their first lines.
    assert_eq!(
        cited(tc),
        [
            (1, 3, "tree-check".to_string()),
            (4, 3, "tree-check".to_string())
        ]
    );
    one(&v, "implausible-header-value", None);
}

#[test]
fn journal_and_syslog_prefixed_pastes_are_repaired_like_the_plain_one() {
    for name in [
        "tree-check-garbage-journal-wrapped.txt",
        "tree-check-garbage-syslog-wrapped.txt",
        "tree-check-garbage-monotonic-wrapped.txt",
    ] {
        let (v, code) = report_json(&[&case(name)]);
        assert_eq!(code, 1, "{name}");
        let tc = one(&v, "tree-check-failure", None);
        assert_eq!(tc["count"], 3, "{name}");
        assert_eq!(
            cited(tc),
            [1, 4, 7].map(|l| (l, 3, "tree-check".to_string())),
            "{name}: each record rejoined from its three physical lines"
        );
        let imp = one(&v, "implausible-header-value", None);
        assert!(message(imp).contains("owner 11858205567642294356 is not a tree id"));
        // Without repair the records stay cut and nothing is found.
        let (out, _, code) = run(&["report", "--json", "--no-repair"], &[&case(name)]);
        let v: Value = serde_json::from_str(&out).expect("JSON");
        assert!(of(&v, "tree-check-failure").is_empty(), "{name}");
        assert_eq!(code, 0, "{name}");
    }
}

#[test]
fn a_report_and_its_companion_are_one_finding_tied_to_the_trusted_logical() {
    let (v, _) = report_json(&[&case("tree-check-pair-garbage-block.txt")]);
    let tc = one(&v, "tree-check-failure", Some(30408704));
    assert_eq!(tc["confidence"], "certain");
    assert_eq!(
        (tc["count"].as_u64(), tc["phase"].as_str()),
        (Some(2), Some("read"))
    );
    assert_eq!(tc["mirrors"], serde_json::json!([1, 2]));
    assert_eq!(tc["every_mirror"], true);
    let roles: Vec<_> = cited(tc).into_iter().map(|c| (c.0, c.2)).collect();
    assert_eq!(
        roles,
        [
            (1, "tree-check".to_string()),
            (2, "validation".to_string()),
            (3, "tree-check".to_string()),
            (4, "validation".to_string())
        ]
    );
    // The companion is not a finding of its own.
    assert!(of(&v, "validation-failed").is_empty());
    let imp = one(&v, "implausible-header-value", Some(30408704));
    assert!(message(imp).contains("when the tree checker read it"));
}

#[test]
fn companions_pair_with_the_report_of_their_device_and_block() {
    let (v, _) = report_json(&[&case("tree-check-pairs-interleaved.txt")]);
    let lines = |rule, eb| -> Vec<u64> {
        cited(one(&v, rule, Some(eb)))
            .into_iter()
            .map(|c| c.0)
            .collect()
    };
    // sda1 and sdb1 interleave; each companion finds its own device's report.
    assert_eq!(lines("tree-check-failure", 30408704), [1, 3]);
    assert_eq!(lines("tree-check-failure", 22020096), [2, 4]);
    assert_eq!(
        one(&v, "tree-check-failure", Some(22020096))["device"],
        "sdb1"
    );
    // A companion of no report, and one for another block than the report
    // before it, stand alone.
    assert_eq!(lines("validation-failed", 40960000), [5]);
    assert_eq!(lines("tree-check-failure", 61440000), [6]);
    assert!(one(&v, "tree-check-failure", Some(61440000))
        .get("phase")
        .is_none());
    assert_eq!(lines("validation-failed", 30408704), [7]);
}

#[test]
fn one_corruption_on_every_mirror_is_one_finding_that_says_so() {
    let (v, _) = report_json(&[&case("tree-check-every-mirror.txt")]);
    let tc = one(&v, "tree-check-failure", Some(334871673176064));
    assert_eq!(tc["count"], 4);
    assert_eq!(tc["mirrors"], serde_json::json!([1, 2, 3]));
    assert_eq!(tc["every_mirror"], true);
    assert_eq!(tc["boots"], serde_json::json!([0]));
    assert_eq!(
        (tc["first"]["line"].as_u64(), tc["last"]["line"].as_u64()),
        (Some(1), Some(7))
    );
    assert_eq!(tc["first"]["console_ts_ns"], 40675013231000u64);
    assert_eq!(tc["last"]["console_ts_ns"], 65972755968000u64);
    assert!(message(tc).contains("on mirrors 1, 2, 3 (every copy)"));
    assert!(message(tc).contains("invalid data ref objectid value 65241"));
    let every = one(&v, "bad-on-every-mirror", Some(334871673176064));
    assert_eq!(every["severity"], "warning");
    // One occurrence per mirror is cited.
    let lines: Vec<_> = cited(every).into_iter().map(|c| c.0).collect();
    assert_eq!(lines, [1, 2, 3, 4, 5, 6]);
}

#[test]
fn write_time_reports_name_their_phase() {
    let (v, _) = report_json(&[&case("tree-check-write-time.txt")]);
    let tc = one(&v, "tree-check-failure", Some(64205750272));
    assert_eq!(tc["phase"], "write");
    assert!(message(tc).contains("at write time"));
    assert!(message(tc).contains("in memory before it reached disk"));
    let lines: Vec<_> = cited(tc).into_iter().map(|c| c.0).collect();
    assert_eq!(lines, [1, 4], "the node dump between them is not cited");
    let gen = one(&v, "validation-failed", Some(64217481216));
    assert_eq!(gen["phase"], "write");
    assert!(message(gen).starts_with("bad generation at write time"));
    assert_eq!(cited(gen).len(), 2);
}

#[test]
fn values_tell_bit_flips_and_kernel_pointers() {
    let (v, _) = report_json(&[&case("forensics.txt")]);
    let value = |rule, eb| one(&v, rule, Some(eb))["value"].clone();
    assert_eq!(
        value("bit-flip", 30408704),
        serde_json::json!({"field": "owner", "found": 4503599627370503u64, "expected": 7, "bit": 52})
    );
    assert_eq!(
        value("bit-flip", 22020096),
        serde_json::json!({"field": "key", "found": 256, "expected": 2097408, "bit": 21})
    );
    assert_eq!(
        value("bit-flip", 61440000),
        serde_json::json!({"field": "bytenr", "found": 62488576, "expected": 61440000, "bit": 20})
    );
    assert_eq!(
        value("pointer-in-disk-field", 40960000),
        serde_json::json!({"field": "owner", "found": 18446612686493171712u64, "region": "the direct map"})
    );
    for f in of(&v, "bit-flip")
        .into_iter()
        .chain(of(&v, "pointer-in-disk-field"))
    {
        assert_eq!(
            (f["severity"].as_str(), f["confidence"].as_str()),
            (Some("warning"), Some("likely"))
        );
        assert_eq!(f["evidence"].as_array().map(Vec::len), Some(1));
    }
    assert!(
        message(one(&v, "pointer-in-disk-field", Some(40960000))).contains("0xffff888107a3c000")
    );
    // The Olsson excerpt: offset 2^63 where 0 is expected.
    let (v, _) = report_json(&[&case("tree-check-failure.txt")]);
    let f = one(&v, "bit-flip", Some(24071061798912));
    assert_eq!(f["value"]["bit"], 63);
}

#[test]
fn garbage_read_from_disk_is_not_called_in_memory_damage() {
    let (v, _) = report_json(&[&case("implausible-on-disk.txt")]);
    let bad = one(&v, "validation-failed", Some(103612416));
    assert_eq!(bad["count"], 4);
    let imp = one(&v, "implausible-header-value", Some(103612416));
    let m = message(imp);
    assert!(m.contains("lost or misdirected write"), "{m}");
    assert!(m.contains("so it is on disk"), "{m}");
    assert!(!m.contains("pointing at in-memory damage"), "{m}");
}

#[test]
fn repeated_aborts_are_one_finding_per_site() {
    let (v, _) = report_json(&[&case("transaction-abort-repeats.txt")]);
    let counts: Vec<_> = of(&v, "transaction-abort")
        .iter()
        .map(|f| (message(f).to_string(), f["count"].as_u64()))
        .collect();
    assert_eq!(
        counts,
        [
            (
                "transaction aborted (error -5 EIO) in btrfs_commit_transaction:2505".to_string(),
                Some(3)
            ),
            (
                "transaction aborted (error -5 EIO) in cleanup_transaction:2018".to_string(),
                Some(1)
            )
        ]
    );
}

/// A capture of `distinct` different corrupt leaves, the first one
/// repeated `repeats` more times at the end, and `aborts` distinct abort
/// sites.
fn flood(dir: &Path, distinct: u64, repeats: u64, aborts: u64) -> std::path::PathBuf {
    use std::fmt::Write as _;
    let mut s = String::new();
    let leaf = |s: &mut String, i: u64, t: u64| {
        let _ = writeln!(
            s,
            "[{:6}.{:06}] BTRFS critical (device sda): corrupt leaf: root=5 block={} slot=3 ino=257, invalid inode transid: has 45277 expect [0, 45276]",
            1000 + t / 1_000_000,
            t % 1_000_000,
            30408704 + i * 16384
        );
    };
    for i in 0..distinct {
        leaf(&mut s, i, i);
    }
    for k in 0..repeats {
        leaf(&mut s, 0, distinct + k);
    }
    for i in 0..aborts {
        let _ = writeln!(
            s,
            "[ 9000.{i:06}] BTRFS: error (device sda) in fn{i}:{i}: errno=-5 IO failure"
        );
    }
    let p = dir.join("flood.txt");
    std::fs::write(&p, s).expect("write");
    p
}

#[test]
fn memory_is_bounded_and_the_report_says_what_it_left_out() {
    use tracesift::correlate::reports::{FIRST_KEPT, MAX_GROUPS};
    let dir = tempfile::tempdir().expect("temp dir");
    let over = 100;
    let distinct = MAX_GROUPS as u64 + over;
    let p = flood(dir.path(), distinct, 50, MAX_GROUPS as u64 + 7);
    let (v, code) = report_json(&[&p]);
    assert_eq!(code, 1);
    let s = &v["summary"];
    assert_eq!(s["reports"]["groups"], 2 * MAX_GROUPS as u64);
    assert_eq!(s["reports"]["max_groups"], MAX_GROUPS as u64);
    assert_eq!(s["not_kept"]["tree-check-failure"], over);
    assert_eq!(s["not_kept"]["transaction-abort"], 7);
    // The first corruption: its first occurrences and its last are cited.
    let first = one(&v, "tree-check-failure", Some(30408704));
    assert_eq!(first["count"], 51);
    assert_eq!(
        first["evidence"].as_array().map(Vec::len),
        Some(FIRST_KEPT as usize + 1)
    );
    assert_eq!(first["evidence_omitted"], 51 - FIRST_KEPT as u64 - 1);
    let last_line = first["evidence"][FIRST_KEPT as usize]["line"].as_u64();
    assert_eq!(last_line, Some(distinct + 50));
    assert_eq!(first["last"]["line"].as_u64(), last_line);
    // The rest are counted, with their first line.
    let rest: Vec<_> = of(&v, "tree-check-failure")
        .into_iter()
        .filter(|f| f.get("not_kept").is_some())
        .collect();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0]["not_kept"], over);
    assert_eq!(rest[0]["count"], over);
    assert_eq!(cited(rest[0])[0].0, MAX_GROUPS as u64 + 1);
    assert!(rest[0].get("eb").is_none());
    let aborts = of(&v, "transaction-abort");
    assert_eq!(aborts.len(), MAX_GROUPS + 1);
    // The text report states the bound.
    let (text, _, _) = run(&["report"], &[&p]);
    assert!(text.contains("Not kept to bound memory:"), "{text}");
    assert!(text.contains(&format!(
        "at most {MAX_GROUPS} distinct corruptions and as many distinct aborts are kept"
    )));
}

#[test]
fn real_captures_named_in_the_issue() {
    let root = corpus_or_skip!();
    let rw = root.join("real-world");

    // Linus: three wrapped garbage owner mismatches, an error now.
    let (v, code) = report_json(&[&rw.join("btrfs-2024-01-linus-owner-mismatch-wrapped.txt")]);
    assert_eq!(code, 1);
    let tc = one(&v, "tree-check-failure", None);
    assert_eq!(tc["count"], 3);
    assert_eq!(
        cited(tc).iter().map(|c| (c.0, c.1)).collect::<Vec<_>>(),
        [(1, 3), (4, 3), (7, 3)]
    );

    // Parton: one corrupt leaf on every mirror, nine times over seven hours.
    let (v, _) = report_json(&[&rw.join("btrfs-2024-09-parton-scrub-tree-corruption-wrapped.txt")]);
    let eb = 334871673176064;
    let tc = one(&v, "tree-check-failure", Some(eb));
    assert_eq!(tc["count"], 9);
    assert_eq!(tc["phase"], "read");
    assert_eq!(tc["mirrors"], serde_json::json!([1, 2, 3]));
    assert_eq!(tc["every_mirror"], true);
    assert_eq!(
        (tc["first"]["line"].as_u64(), tc["last"]["line"].as_u64()),
        (Some(50), Some(94))
    );
    assert_eq!(tc["evidence_omitted"], 8);
    assert!(
        !of(&v, "validation-failed").iter().any(|f| f["eb"] == eb),
        "the companions are in the tree-checker finding"
    );
    one(&v, "bad-on-every-mirror", Some(eb));
    let level = one(&v, "validation-failed", Some(313163105075200));
    assert_eq!(level["mirrors"], serde_json::json!([2]));
    assert!(message(level).contains("on mirror 2"));
    assert!(of(&v, "bit-flip").is_empty(), "level 0 vs 1 is no bit flip");
    assert_eq!(one(&v, "transaction-abort", None)["count"], 1);

    // Forceful shutdown: garbage read from disk, twice per copy.
    let (v, _) =
        report_json(&[&rw.join("btrfs-2023-09-forceful-shutdown-mount-and-progs-errors.txt")]);
    assert_eq!(one(&v, "validation-failed", Some(103612416))["count"], 4);
    let imp = one(&v, "implausible-header-value", Some(103612416));
    assert!(message(imp).contains("lost or misdirected write"));
    assert!(!message(imp).contains("in-memory damage"));
    for eb in [74006528, 71024640] {
        let tc = one(&v, "tree-check-failure", Some(eb));
        assert_eq!(
            (tc["count"].as_u64(), tc["phase"].as_str()),
            (Some(2), Some("read"))
        );
    }
    assert!(
        of(&v, "bit-flip").is_empty(),
        "one transaction ahead is no bit flip"
    );

    // Write time, and a kernel address in an extent item (rsyslog, 2023).
    let (v, _) = report_json(&[&root.join("linux-btrfs-ml/syslog-kernel-corrupt-leaf.log")]);
    let tc = one(&v, "tree-check-failure", Some(6404379377664));
    assert_eq!(tc["phase"], "write");
    let p = one(&v, "pointer-in-disk-field", Some(6404379377664));
    assert_eq!(p["value"]["found"], 0xffff_8f21_62ab_7aa8u64);
    // Write time after a 150-line leaf dump (Kelling, 2021).
    let (v, _) =
        report_json(&[&rw.join("btrfs-2021-11-kelling-invalid-mode-write-time-leaf-dump.txt")]);
    let tc = one(&v, "tree-check-failure", Some(1371110457344));
    assert_eq!(tc["phase"], "write");
    let lines: Vec<_> = cited(tc).into_iter().map(|c| c.0).collect();
    assert_eq!(lines, [57, 209]);
    // Thirteen pairs from two kernels are one finding (Ebertz, 2020).
    let (v, _) =
        report_json(&[&rw.join("btrfs-2020-05-ebertz-unknown-flags-read-time-indented.txt")]);
    assert_eq!(one(&v, "tree-check-failure", Some(350945280))["count"], 13);
    assert!(of(&v, "validation-failed").is_empty());
}
