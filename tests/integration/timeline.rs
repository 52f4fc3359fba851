//! `timeline` and `events`.

use predicates::prelude::*;

use crate::util::{bin, corpus_or_skip, fixture, run};

#[test]
fn the_threads_excerpt_reads_as_in_the_mail() {
    let p = fixture("thread-excerpt.txt");
    let (out, _, code) = run(&["timeline", "--eb", "15302115328"], &[&p]);
    assert_eq!(code, 0);
    let rows: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("thread-excerpt.txt:"))
        .collect();
    assert_eq!(rows.len(), 4, "{out}");
    // The tree-checker line is placed by console time, before the dump lines.
    assert!(rows[0].contains("tree-check"));
    assert!(rows[1].contains("alloc") && rows[1].contains(" 15  "));
    assert!(
        rows[2].contains("read-done")
            && rows[2].contains(" 15  ")
            && rows[2].contains("read 1 of lifetime 1")
    );
    assert!(rows[3].contains("read-done") && rows[3].contains(" 31  ") && rows[3].contains("+206"));
    assert!(rows[3].contains("read 2 of lifetime 1"));
    assert!(out.contains("duplicate-read-completion [certain]"));
    assert!(out.contains("race-signature"));
    // JSON gives the same.
    let (js, _, code) = run(&["timeline", "--json", "--eb", "0x39013C000"], &[&p]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&js).unwrap();
    let e = &v["ebs"][0];
    assert_eq!(e["eb"], 15302115328u64);
    let kinds: Vec<_> = e["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["tree-check", "alloc", "read-done", "read-done"]);
    assert_eq!(e["entries"][3]["delta_us"], 206);
    assert_eq!(e["entries"][3]["cpu"], 31);
    let rules: Vec<_> = e["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"duplicate-read-completion") && rules.contains(&"race-signature"));
}

#[test]
fn hex_and_decimal_give_identical_output() {
    let p = fixture("cases/neg-insert-race.txt");
    let a = run(&["timeline", "--eb", "14545043456"], &[&p]);
    let b = run(&["timeline", "--eb", "0x362F3C000"], &[&p]);
    let c = run(&["timeline", "--eb", "0x362f3c000"], &[&p]);
    assert_eq!(a, b);
    assert_eq!(a, c);
    assert_eq!(a.2, 0);
}

#[test]
fn exit_status_is_like_grep() {
    let p = fixture("thread-excerpt.txt");
    bin()
        .args(["timeline", "--eb", "4096"])
        .arg(&p)
        .assert()
        .code(1);
    bin()
        .args(["timeline", "--eb", "15302115328"])
        .arg(&p)
        .assert()
        .code(0);
    bin()
        .args(["timeline", "--eb", "banana"])
        .arg(&p)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not an extent buffer address"));
    bin().args(["timeline"]).arg(&p).assert().code(2);
    // A number that merely contains the address does not match.
    bin()
        .args(["timeline", "--eb", "1530211532"])
        .arg(&p)
        .assert()
        .code(1);
}

#[test]
fn several_ebs_several_inputs_and_stdin() {
    let a = fixture("thread-excerpt.txt");
    let b = fixture("cases/neg-insert-race.txt");
    let (out, _, code) = run(
        &[
            "timeline",
            "--json",
            "--eb",
            "15302115328",
            "--eb",
            "14545043456",
        ],
        &[&a, &b],
    );
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let ebs = v["ebs"].as_array().unwrap();
    assert_eq!(ebs.len(), 2);
    assert_eq!(ebs[0]["entries"].as_array().unwrap().len(), 4);
    assert!(ebs[0]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["input"] == 0));
    assert!(ebs[1]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["input"] == 1));
    let lt = &ebs[1]["lifetimes"][0];
    assert_eq!(
        (
            lt["allocs"].as_u64(),
            lt["contenders"].as_u64(),
            lt["discards"].as_u64()
        ),
        (Some(5), Some(4), Some(4))
    );
    // stdin
    let input = std::fs::read(&a).unwrap();
    bin()
        .args(["timeline", "--eb", "15302115328", "-"])
        .write_stdin(input)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("<stdin>:4"));
}

#[test]
fn typescript_insert_race_timeline() {
    let root = corpus_or_skip!();
    let p = root.join("linux-btrfs-ml/typescript-2.txt");
    let (dec, _, code) = run(&["timeline", "--eb", "14545043456"], &[&p]);
    assert_eq!(code, 0);
    let (hex, _, _) = run(&["timeline", "--eb", "0x362F3C000"], &[&p]);
    assert_eq!(dec, hex, "hex and decimal must give byte-identical output");
    // Every line that names the eb is cited, plus the called-from line of each release.
    let text = std::fs::read_to_string(&p).unwrap();
    let naming: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains("14545043456"))
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(naming.len(), 9);
    for n in &naming {
        assert!(
            dec.contains(&format!("typescript-2.txt:{n} ")),
            "line {n} missing:\n{dec}"
        );
    }
    let rows: Vec<&str> = dec
        .lines()
        .filter(|l| l.contains("typescript-2.txt:"))
        .collect();
    assert_eq!(
        rows.iter().filter(|l| l.contains(" alloc ")).count(),
        5,
        "{dec}"
    );
    assert_eq!(
        rows.iter()
            .filter(|l| l.contains("private copy discarded"))
            .count(),
        4,
        "{dec}"
    );
    assert_eq!(
        rows.iter().filter(|l| l.contains(" called-from ")).count(),
        4,
        "{dec}"
    );
    assert_eq!(
        rows.iter()
            .filter(|l| l.contains("this copy loses"))
            .count(),
        4,
        "{dec}"
    );
    let winner = rows
        .iter()
        .find(|l| l.contains("this alloc wins"))
        .expect("winner");
    assert!(
        winner.contains("iou-wrk--45489") && winner.contains(" 27  "),
        "{winner}"
    );
    assert!(
        dec.contains("lifetime 1: alloc by iou-wrk--45489 on CPU 27; 4 contenders discarded"),
        "{dec}"
    );
    // An address that is not in the capture; and a number that is there only as `4096 bytes`.
    bin()
        .args(["timeline", "--eb", "999999995904"])
        .arg(&p)
        .assert()
        .code(1);
    bin()
        .args(["timeline", "--eb", "4096"])
        .arg(&p)
        .assert()
        .code(1);
}

#[test]
fn events_are_ndjson_and_cover_every_debug_line() {
    let root = corpus_or_skip!();
    let p = root.join("linux-btrfs-ml/typescript-2.txt");
    let out = bin().arg("events").arg(&p).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let mut allocs = Vec::new();
    let mut reads = Vec::new();
    for l in text.lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
        for key in ["input", "line", "kind"] {
            assert!(v.get(key).is_some(), "{key} missing: {l}");
        }
        match v["kind"].as_str().unwrap() {
            "alloc" => allocs.push(v["line"].as_u64().unwrap()),
            "read-done" => {
                assert!(
                    v["eb"].is_u64()
                        && v["cpu"].is_u64()
                        && v["pid"].is_u64()
                        && v["trace_ts_ns"].is_u64()
                );
                assert!(v["console_ts_ns"].is_u64() && v["fields"]["fsid"].is_string());
                reads.push(v["line"].as_u64().unwrap())
            }
            _ => {}
        }
    }
    let src = std::fs::read_to_string(&p).unwrap();
    let want = |pat: &str| -> Vec<u64> {
        src.lines()
            .enumerate()
            .filter(|(_, l)| l.contains(pat))
            .map(|(i, _)| i as u64 + 1)
            .collect()
    };
    assert_eq!(allocs, want(": alloc eb="));
    assert_eq!(reads, want("read done, eb="));
    assert_eq!(allocs.len(), 1865);
    assert_eq!(reads.len(), 1222);
}

#[test]
fn events_from_stdin_line_buffered() {
    let input = std::fs::read(fixture("thread-excerpt.txt")).unwrap();
    let out = bin()
        .args(["events", "--line-buffered"])
        .write_stdin(input)
        .output()
        .unwrap();
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<_> = lines
        .iter()
        .map(|v| v["kind"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kinds, ["tree-check", "alloc", "read-done", "read-done"]);
    assert_eq!(lines[1]["eb"], 15302115328u64);
}
