//! Declared keys, events and lifecycles (issue #16): one fixture per
//! built-in pack on excerpts of the shared real captures (and hand-made
//! cases in the kernel's formats), a rules file for a debug patch the
//! project had never seen, the by-hand reductions `timeline --key`
//! reproduces, the duplicate-read rule written as a rules file against
//! the built-in one, and the rules file's errors.
//!
//! `fixtures/keys/NAME.txt` is read with `NAME.toml` as `--rules` when
//! there is one; `NAME.expect` is the exit status and one line per
//! declared finding (`severity rule key=value confidence lines`).
//! `TRACESIFT_UPDATE=1` rewrites the expectations after a reviewed change.

use std::path::Path;

use crate::util::{bin, fixture, run};

/// `report --json` with `NAME.toml` as rules when there is one.
fn report(input: &Path) -> (serde_json::Value, i32) {
    let toml = input.with_extension("toml");
    let mut args: Vec<String> = vec!["report".into(), "--json".into()];
    if toml.is_file() {
        args.push("--rules".into());
        args.push(toml.to_string_lossy().into_owned());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (out, err, code) = run(&args, &[input]);
    let v = serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("report JSON does not parse: {e}\n{out}\n{err}"));
    (v, code)
}

/// One line per finding of a declared rule (an id with a `/`).
fn declared_lines(v: &serde_json::Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"].as_str().is_some_and(|r| r.contains('/')))
        .map(|f| {
            let lines: Vec<String> = f["evidence"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| e["line"].to_string())
                .collect();
            format!(
                "{} {} {}={} {} lines={}",
                f["severity"].as_str().unwrap_or("?"),
                f["rule"].as_str().unwrap_or("?"),
                f["subject"]["key"].as_str().unwrap_or("?"),
                f["subject"]["value"].as_str().unwrap_or("?"),
                f["confidence"].as_str().unwrap_or("?"),
                lines.join(",")
            )
        })
        .collect()
}

#[test]
fn every_pack_fixture_matches_its_expectation() {
    let dir = fixture("keys");
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixtures/keys")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    inputs.sort();
    assert!(inputs.len() >= 7, "the pack fixtures in {}", dir.display());
    let failures = crate::util::expectation_failures(&inputs, |input| {
        let (v, code) = report(input);
        let mut got = format!("exit {code}\n");
        for l in declared_lines(&v) {
            got.push_str(&l);
            got.push('\n');
        }
        got
    });
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn each_pack_fires_on_its_fixture() {
    for (file, rule) in [
        ("maiolino-xfs-buf.txt", "xfs-buf/held-at-end"),
        ("chinner-daddr.txt", "xfs-buf/held-at-end"),
        ("xfs-buf-use-after-free.txt", "xfs-buf/use-after-free"),
        ("xfs-buf-use-after-free.txt", "xfs-buf/hold-below-zero"),
        ("page-ref.txt", "page-ref/count-below-zero"),
        ("page-ref.txt", "page-ref/mapping-dropped-while-held"),
        ("btrfs-bg.txt", "btrfs-bg/used-after-removal"),
        ("made-up-patch.txt", "oe/double-finish"),
        ("made-up-patch.txt", "oe/io-after-put"),
        ("made-up-patch.txt", "oe/never-put"),
        ("made-up-dma.txt", "dma/double-map"),
        ("made-up-dma.txt", "dma/unmap-without-map"),
        ("made-up-dma.txt", "dma/still-mapped"),
    ] {
        let (v, _) = report(&fixture("keys").join(file));
        let lines = declared_lines(&v);
        assert!(
            lines.iter().any(|l| l.split(' ').nth(1) == Some(rule)),
            "{file}: no {rule} in {lines:?}"
        );
    }
    // Without the packs, nothing declared fires.
    let (out, _, code) = run(
        &["report", "--json", "--no-packs"],
        &[&fixture("keys/page-ref.txt")],
    );
    assert_eq!(code, 0);
    assert!(!out.contains("page-ref/"), "{out}");
}

#[test]
fn findings_of_declared_rules_carry_subject_and_namespaced_rule() {
    let (v, code) = report(&fixture("keys/xfs-buf-use-after-free.txt"));
    assert_eq!(code, 1);
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "xfs-buf/use-after-free")
        .expect("use-after-free");
    assert_eq!(f["subject"]["key"], "xfs-buf");
    assert_eq!(f["subject"]["value"], "252:18,0x0");
    assert_eq!(f["severity"], "error");
    assert!(f.get("eb").is_none());
    assert_eq!(v["schema_version"], 1);
    let roles: Vec<_> = f["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["close", "use"]);
}

/// `timeline --json ARGS FILE`: the entries of its first key timeline, their
/// line numbers, and the exit status.
fn key_entries(args: &[&str], file: &str) -> (Vec<serde_json::Value>, Vec<u64>, i32) {
    let mut all = vec!["timeline", "--json"];
    all.extend_from_slice(args);
    let (out, _, code) = run(&all, &[&fixture(file)]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let entries = v["keys"][0]["entries"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let lines = entries
        .iter()
        .map(|e| e["line"].as_u64().unwrap())
        .collect();
    (entries, lines, code)
}

/// `timeline --key` reproduces the by-hand reductions of the issue.
#[test]
fn timeline_key_reproduces_the_reductions_by_hand() {
    // The device pointer and its fs_info across mount, umount and udev:
    // the 13 trace_printk lines of Nikolay Borisov's mail.
    let (entries, lines, code) = key_entries(
        &[
            "--merge",
            "--key",
            "ptr=ffff888114e14400",
            "--key",
            "ptr=ffff888110f2a000",
        ],
        "keys/nikolay-pointers.txt",
    );
    assert_eq!(code, 0);
    assert_eq!(lines, (1..=13).collect::<Vec<_>>());
    let continued = entries.iter().filter(|e| e["kind"] == "continued").count();
    assert_eq!(
        continued, 4,
        "the 'device: dm-0' lines continue their task's line"
    );
    // One pointer alone: its own lines and their continuations.
    let (_, lines, _) = key_entries(
        &["--key", "ptr=0xffff888114e14400"],
        "keys/nikolay-pointers.txt",
    );
    assert_eq!(lines.len(), 12);

    // The daddr in Dave Chinner's capture: the dmesg lines that name it
    // (decimal, `block 0x...`, `at daddr 0x...`) and the trace-cmd events,
    // and not the inode of the same number.
    let (entries, lines, code) =
        key_entries(&["--key", "daddr=0x851c80"], "keys/chinner-daddr.txt");
    assert_eq!(code, 0);
    assert_eq!(lines, [3, 4, 15, 22, 26, 30, 33, 34]);
    assert!(entries
        .iter()
        .all(|e| !e["text"].as_str().unwrap().contains(" ino ")));
    // Both clocks: the trace clock on the trace-cmd lines, none invented
    // for the dmesg lines that have no printk time.
    assert!(entries[3]["trace_ts_ns"].as_u64().is_some());
    assert!(entries[0].get("trace_ts_ns").is_none());
    // The same in decimal.
    let (decimal, _, _) = key_entries(&["--key", "daddr=8723584"], "keys/chinner-daddr.txt");
    assert_eq!(decimal, entries);
    // Nothing names this one: exit 1, as grep.
    let (_, _, code) = run(
        &["timeline", "--key", "daddr=0x851c81"],
        &[&fixture("keys/chinner-daddr.txt")],
    );
    assert_eq!(code, 1);
}

#[test]
fn timeline_key_on_the_whole_captures() {
    let Some(dir) = crate::util::corpus_or_fail_under_ci() else {
        return;
    };
    let real = dir.join("real-world");
    let (out, _, code) = run(
        &[
            "timeline",
            "--merge",
            "--key",
            "ptr=ffff888114e14400",
            "--key",
            "ptr=ffff888110f2a000",
        ],
        &[&real.join("btrfs-2020-01-nikolay-kasan-uaf-pointer-trace.txt")],
    );
    assert_eq!(code, 0);
    assert!(out.contains(": 13 lines in"), "{out}");
    let (out, _, _) = run(
        &["timeline", "--key", "daddr=0x851c80"],
        &[&real.join("xfs-2022-03-chinner-trace-cmd-console-events-daddr.txt")],
    );
    assert!(out.contains(": 8 lines in"), "{out}");
    // The real xfs_buf trace of a hung mount: no declared finding.
    let (out, _, code) = run(
        &["report", "--json"],
        &[&real.join("xfs-2024-12-maiolino-trace-cmd-report-xfs-buf.txt")],
    );
    assert_eq!(code, 0);
    assert!(!out.contains("xfs-buf/"), "{out}");
}

#[test]
fn range_keys_join_by_overlap() {
    let input = fixture("keys/made-up-patch.txt");
    let toml = fixture("keys/made-up-patch.toml");
    let (out, _, code) = run(
        &[
            "timeline",
            "--json",
            "--rules",
            toml.to_str().unwrap(),
            "--key",
            "off=1081344",
        ],
        &[&input],
    );
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let lines: Vec<u64> = v["keys"][0]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["line"].as_u64().unwrap())
        .collect();
    // The range 1048576+65536 in its three spellings, and the part of it.
    assert_eq!(lines, [7, 8, 9, 11]);
}

/// The eb analysis's duplicate-read rule, as a rules file, against the
/// built-in one on captures without insert races.
#[test]
fn the_duplicate_read_rule_as_a_rules_file_agrees() {
    let rules = fixture("keys/btrfs-eb.toml");
    for (case, dups) in [
        (fixture("thread-excerpt.txt"), 1),
        (fixture("cases/inconsistent-read.txt"), 1),
        (fixture("cases/neg-realloc-after-release.txt"), 0),
    ] {
        let (out, _, _) = run(
            &["report", "--json", "--rules", rules.to_str().unwrap()],
            &[&case],
        );
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let f = v["findings"].as_array().unwrap();
        let shape = |rule: &str| -> Vec<(String, String, Vec<u64>)> {
            f.iter()
                .filter(|x| x["rule"] == rule)
                .map(|x| {
                    let subject = x
                        .get("eb")
                        .map(|e| e.to_string())
                        .unwrap_or_else(|| x["subject"]["value"].as_str().unwrap().to_string());
                    let lines = x["evidence"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|e| e["line"].as_u64().unwrap())
                        .collect();
                    (
                        subject,
                        x["confidence"].as_str().unwrap().to_string(),
                        lines,
                    )
                })
                .collect()
        };
        let builtin = shape("duplicate-read-completion");
        let declared = shape("btrfs-eb/duplicate-read");
        assert_eq!(builtin.len(), dups, "{}", case.display());
        assert_eq!(builtin, declared, "{}", case.display());
    }
}

#[test]
fn rules_files_errors_say_where_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[[key]]\nname = \"off\"\n\n[[lifecycle]]\nname = \"oe\"\nkey = \"of\"\nopen = [\"x\"]\n",
    )
    .unwrap();
    let b = bad.to_str().unwrap();
    for args in [
        vec!["rules", "--check", b],
        vec!["report", "--rules", b, "-"],
        vec!["timeline", "--rules", b, "--key", "off=1", "-"],
        vec!["events", "--rules", b, "-"],
    ] {
        let out = bin().args(&args).write_stdin("").output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("bad.toml:6:7: no key named 'of'"),
            "{args:?}: {err}"
        );
    }
    // A syntax error.
    std::fs::write(&bad, "[[key]\nname = 1\n").unwrap();
    let out = bin().args(["rules", "--check", b]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.toml:1:"));
    // A good one.
    let good = fixture("keys/made-up-patch.toml");
    let out = bin()
        .args(["rules", "--check", good.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(
        s.contains("ok: 1 key, 4 events, 1 lifecycle, 3 rules"),
        "{s}"
    );
    assert!(s.contains("oe/double-finish"), "{s}");
    // An unknown key on the command line.
    let out = bin()
        .args(["timeline", "--key", "nope=1", "-"])
        .write_stdin("")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no key named 'nope'"));
}

#[test]
fn rules_lists_builtin_and_declared_rules() {
    let (out, _, code) = run(&["rules"], &[]);
    assert_eq!(code, 0);
    for id in [
        "duplicate-read-completion",
        "xfs-buf/use-after-free",
        "xfs-buf/held-at-end",
        "page-ref/count-below-zero",
        "btrfs-bg/used-after-removal",
        "builtin:kernel-pointer",
    ] {
        assert!(out.contains(id), "rules lacks {id}");
    }
    let (out, _, _) = run(&["rules", "--no-packs"], &[]);
    assert!(!out.contains("xfs-buf/"));
}

#[test]
fn events_carry_parsed_fields_and_keys() {
    let (out, _, code) = run(&["events"], &[&fixture("keys/chinner-daddr.txt")]);
    assert_eq!(code, 0);
    let evs: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let trylock = evs
        .iter()
        .find(|e| e["event"] == "xfs_buf_trylock")
        .expect("the trylock line");
    assert_eq!(trylock["kind"], "declared");
    assert_eq!(trylock["declared"], "xfs_buf_trylock");
    // Its `name value` fields, parsed.
    assert_eq!(trylock["args"]["dev"], "259:1");
    assert_eq!(trylock["args"]["daddr"], "0x851c80");
    assert_eq!(trylock["args"]["hold"], 16);
    let keys = trylock["keys"].as_array().unwrap();
    assert!(keys
        .iter()
        .any(|k| k["key"] == "xfs-buf" && k["value"] == "259:1,0x851c80"));
    let io = evs
        .iter()
        .find(|e| e["declared"] == "xfs-metadata-io-error")
        .expect("the I/O error message");
    // A kernel message's fields.
    assert_eq!(io["args"]["daddr"], "0x851c80");
    assert_eq!(io["args"]["error"], 117);
    assert!(io["keys"]
        .as_array()
        .unwrap()
        .iter()
        .any(|k| k["key"] == "daddr" && k["value"] == "0x851c80"));
}

/// An `xfs_buf_init`, `xfs_buf_free`, `xfs_buf_rele` round of buffer
/// `daddr`: a use after free (lines 1–11 of the Maiolino trace, reshaped).
fn use_after_free_round(out: &mut String, t: &mut u64, daddr: u64) {
    for (ev, hold) in [
        ("xfs_buf_init", 1),
        ("xfs_buf_free", 0),
        ("xfs_buf_rele", 0),
    ] {
        *t += 1;
        out.push_str(&format!(
            "           mount-1504  [009]   146.{t:06}: {ev}: dev 252:18 daddr {daddr:#x} bbcount 0x1 hold {hold} pincount 0 lock 0 flags NO_IOACCT|DONE|PAGES bufops 0x0 caller xfs_readsb+0xc6\n"
        ));
    }
}

/// A declared rule's facts are one finding per (rule, key value, boot),
/// with a count; a later boot has its own.
#[test]
fn declared_findings_are_grouped_per_key_and_boot() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    let mut t = 449_000;
    for _ in 0..3 {
        use_after_free_round(&mut text, &mut t, 0x10);
    }
    text.push_str("[    0.000000] Linux version 6.8.0-rc7-euclean+ (tavianator@tachyon) (gcc (GCC) 13.2.1 20230801, GNU ld (GNU Binutils) 2.42.0) #15 SMP PREEMPT_DYNAMIC Wed Mar 13 17:31:13 EDT 2024\n");
    use_after_free_round(&mut text, &mut t, 0x10);
    let input = dir.path().join("repeats.txt");
    std::fs::write(&input, text).unwrap();
    let (v, code) = crate::util::report_json(&[&input]);
    assert_eq!(code, 1);
    let found: Vec<(u64, u64, u64)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "xfs-buf/use-after-free")
        .map(|f| {
            (
                f["count"].as_u64().unwrap(),
                f["evidence"][0]["boot"].as_u64().unwrap(),
                f["evidence"][0]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(found, [(3, 0, 2), (1, 1, 12)]);
}

/// Past its share of distinct findings, a declared rule counts the rest
/// in `summary.not_kept`, as the eb rules do.
#[test]
fn declared_findings_beyond_the_bound_are_counted_not_kept() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    let mut t = 0;
    for daddr in 0..1005u64 {
        use_after_free_round(&mut text, &mut t, 0x100 + daddr * 8);
    }
    let input = dir.path().join("many.txt");
    std::fs::write(&input, text).unwrap();
    let (v, _) = crate::util::report_json(&[&input]);
    let kept = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "xfs-buf/use-after-free")
        .count();
    assert_eq!(kept, 1000);
    assert_eq!(v["summary"]["not_kept"]["xfs-buf/use-after-free"], 5);
}
