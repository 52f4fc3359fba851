//! Hostile inputs through the binary (issue #6): random bytes, NUL and CR
//! floods, damaged archives, unreadable paths, closed pipes, escape and bidi
//! characters aimed at the terminal, and more live ebs than the bound.
//!
//! Sizes stay small (a few MB) so the suite stays fast; `scripts/hostile.sh`
//! measures memory on the big versions (a 1 GiB line, a million ebs).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Stdio};

use predicates::prelude::*;

use crate::util::{bin, fixture, root};

/// Deterministic pseudo-random bytes (xorshift), so a failure reproduces.
fn random_bytes(n: usize, mut seed: u64) -> Vec<u8> {
    let mut v = Vec::with_capacity(n);
    while v.len() < n {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        v.extend_from_slice(&seed.to_le_bytes());
    }
    v.truncate(n);
    v
}

/// Physical lines as the contract counts them: one per `\n`, plus a last
/// line without one.
fn physical_lines(data: &[u8]) -> u64 {
    let nl = data.iter().filter(|&&b| b == b'\n').count() as u64;
    nl + u64::from(data.last().is_some_and(|&b| b != b'\n'))
}

/// Run with `stdin`; return (stdout, stderr, code).
fn run_stdin(args: &[&str], stdin: Vec<u8>) -> (Vec<u8>, String, i32) {
    let out = bin().args(args).write_stdin(stdin).output().unwrap();
    (
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

fn json(out: &[u8]) -> serde_json::Value {
    serde_json::from_slice(out).unwrap_or_else(|e| {
        panic!(
            "not valid JSON ({e}): {}",
            String::from_utf8_lossy(&out[..out.len().min(2000)])
        )
    })
}

#[test]
fn random_binary_and_floods_are_counted_not_fatal() {
    let mut nul_lines = vec![0u8; 1 << 20];
    for i in (0..nul_lines.len()).step_by(100) {
        nul_lines[i] = b'\n';
    }
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("random", random_bytes(3 << 20, 0x9e37_79b9_7f4a_7c15)),
        ("nul flood", vec![0u8; 2 << 20]),
        ("cr flood", vec![b'\r'; 2 << 20]),
        ("nul lines", nul_lines),
        ("crlf flood", b"\r\n".repeat(1 << 19)),
    ];
    for (what, data) in cases {
        let want = physical_lines(&data);
        let (out, err, code) = run_stdin(&["report", "--json", "-"], data.clone());
        assert!(code == 0 || code == 1, "{what}: exit {code}: {err}");
        assert!(!err.contains("panicked"), "{what}: {err}");
        let v = json(&out);
        assert_eq!(v["summary"]["lines"].as_u64(), Some(want), "{what}");
        assert_eq!(v["inputs"][0]["bytes"].as_u64(), Some(data.len() as u64));

        let (out, err, code) = run_stdin(&["stats", "--json", "-"], data);
        assert_eq!(code, 0, "{what}: {err}");
        let v = json(&out);
        let classes = v["inputs"][0]["classes"]
            .as_object()
            .unwrap_or_else(|| panic!("{what}: no classes in {v}"));
        let sum: u64 = classes.values().filter_map(|c| c.as_u64()).sum();
        assert_eq!(sum, want, "{what}: classes must add up to the lines");
        if what == "random" {
            // The text report tells a new user the input did not look like a capture.
            let (out, _, _) = run_stdin(&["report", "-"], random_bytes(1 << 20, 7));
            let text = String::from_utf8(out).unwrap();
            assert!(
                text.contains("were not recognised as trace or kernel output"),
                "{text}"
            );
            // Random bytes are mostly noise: counted as unrecognised, and sampled.
            let unrec = classes["unrecognized"].as_u64().unwrap_or(0);
            assert!(unrec * 2 > want, "{what}: {unrec} of {want} unrecognised");
            assert!(!v["unrecognized_samples"].as_array().unwrap().is_empty());
        }
    }
}

/// A compressed copy of `data`, cut in the middle.
fn truncated(dir: &Path, name: &str, tool: &str, data: &[u8]) -> PathBuf {
    let full = match tool {
        "gzip" => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        }
        _ => zstd::stream::encode_all(data, 3).unwrap(),
    };
    let p = dir.join(name);
    std::fs::write(&p, &full[..full.len() / 2]).unwrap();
    p
}

#[test]
fn truncated_archives_are_reported_and_the_good_input_still_analysed() {
    let dir = tempfile::tempdir().unwrap();
    // Enough text that half an archive still decodes to some lines.
    let text = std::fs::read(fixture("cases/kernel-splat.txt"))
        .unwrap()
        .repeat(200);
    let gz = truncated(dir.path(), "capture.log.gz", "gzip", &text);
    let zst = truncated(dir.path(), "capture.log.zst", "zstd", &text);
    let good = fixture("thread-excerpt.txt");
    let out = bin()
        .args(["report", "--json"])
        .args([&gz, &zst, &good])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    for (p, kind) in [(&gz, "gzip"), (&zst, "zstd")] {
        let head = format!(
            "tracesift: {}: {kind} stream is truncated or corrupt",
            p.display()
        );
        assert!(err.contains(&head), "missing {head:?} in:\n{err}");
    }
    assert_eq!(
        err.matches("\n  hint: ").count() + usize::from(err.starts_with("  hint: ")),
        2,
        "{err}"
    );
    let v = json(&out.stdout);
    // The good input (index 2) is analysed: the race of the thread is found.
    let race = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "race-signature")
        .expect("race-signature finding from the good input");
    assert!(race["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["input"] == 2));
    // What was decoded before the damage is analysed too, and the error is in the JSON.
    // (zstd emits nothing of a block it cannot finish; deflate streams out.)
    assert!(
        v["inputs"][0]["lines"].as_u64().unwrap() > 0,
        "{}",
        v["inputs"][0]
    );
    for i in 0..2 {
        assert!(v["inputs"][i]["error"]
            .as_str()
            .unwrap()
            .contains("truncated"));
    }
    // Text output: same status, findings of the good input shown.
    bin()
        .arg("report")
        .args([&gz, &zst, &good])
        .assert()
        .code(2)
        .stdout(predicate::str::contains("race-signature"))
        .stdout(predicate::str::contains("thread-excerpt.txt:2"))
        .stdout(predicate::str::contains(format!(
            "input error: {}: gzip stream is truncated",
            gz.display()
        )))
        .stderr(predicate::str::contains(
            "hint: the lines read before the damage",
        ));
}

#[test]
fn missing_unreadable_and_directory_inputs_do_not_stop_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let locked = dir.path().join("locked.txt");
    std::fs::copy(fixture("thread-excerpt.txt"), &locked).unwrap();
    let mut perms = std::fs::metadata(&locked).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o000);
    std::fs::set_permissions(&locked, perms).unwrap();
    // Root reads the file anyway: then there is no error to check for it.
    let enforced = std::fs::File::open(&locked).is_err();
    let missing = dir.path().join("missing.txt");
    let good = fixture("thread-excerpt.txt");
    for cmd in [
        &["report", "--json"][..],
        &["stats", "--json"],
        &["events"],
        &["timeline", "--eb", "15302115328"],
    ] {
        let out = bin()
            .args(cmd)
            .arg(&missing)
            .arg(&locked)
            .arg(dir.path())
            .arg(&good)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(2), "{cmd:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
        let m = format!("tracesift: {}: no such file\n  hint: ", missing.display());
        assert!(err.contains(&m), "{cmd:?}: {err}");
        let d = format!(
            "tracesift: {}: is a directory\n  hint: ",
            dir.path().display()
        );
        assert!(err.contains(&d), "{cmd:?}: {err}");
        if enforced {
            let l = format!(
                "tracesift: {}: permission denied\n  hint: ",
                locked.display()
            );
            assert!(err.contains(&l), "{cmd:?}: {err}");
        }
        // Every message line is an error line or its hint.
        for l in err.lines() {
            assert!(
                l.starts_with("tracesift: ") || l.starts_with("  hint: "),
                "{l:?}"
            );
        }
        // The good input is still analysed.
        let analysed = if cmd[0] == "stats" {
            stdout.contains("\"ftrace_event\": 3")
        } else {
            stdout.contains("15302115328")
        };
        assert!(analysed, "{cmd:?}: {stdout}");
    }
}

/// Spawn tracesift with stdout piped, read `keep` bytes, close the pipe, and
/// return (exit code, stderr).
fn close_early(args: &[&str], input: &Path, keep: usize) -> (Option<i32>, String) {
    let exe = assert_cmd::cargo::cargo_bin("tracesift");
    let mut child = StdCommand::new(exe)
        .args(args)
        .arg(input)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut buf = vec![0u8; keep];
    out.read_exact(&mut buf).unwrap();
    drop(out);
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (child.wait().unwrap().code(), err)
}

#[test]
fn a_reader_closing_the_pipe_early_ends_the_run_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.txt");
    // ~4 MB of capture: its events, and its findings (a duplicate read of
    // another eb in each copy), are far more than a pipe buffer holds.
    let text = std::fs::read_to_string(fixture("thread-excerpt.txt")).unwrap();
    let copies: String = (0..6000u64)
        .map(|i| {
            let eb = if i == 0 {
                15302115328
            } else {
                15302115328 + i * 16384
            };
            text.replace("15302115328", &eb.to_string())
        })
        .collect();
    std::fs::write(&big, copies).unwrap();
    for args in [
        &["events"][..],
        &["events", "--line-buffered"],
        &["report"],
        &["report", "--json"],
        &["stats"],
        &["timeline", "--eb", "15302115328"],
    ] {
        let (code, err) = close_early(args, &big, 10);
        assert_eq!(code, Some(0), "{args:?}: {err}");
        assert_eq!(err, "", "{args:?}");
    }
}

/// Strip `#[cfg(test)]` modules: everything from the first such line on.
fn non_test_part(src: &str) -> &str {
    match src.find("#[cfg(test)]") {
        Some(p) => &src[..p],
        None => src,
    }
}

#[test]
fn no_print_macros_on_output_paths() {
    // `print!`/`println!` panic when stdout is a closed pipe; output goes
    // through a `&mut dyn Write` handed down from main.
    let mut offenders = Vec::new();
    let mut stack = vec![root().join("src")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let src = std::fs::read_to_string(&p).unwrap();
                for (i, l) in non_test_part(&src).lines().enumerate() {
                    let code = l.split("//").next().unwrap_or("");
                    if code.contains("println!(") || code.contains("print!(") {
                        offenders.push(format!("{}:{}: {}", p.display(), i + 1, l.trim()));
                    }
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "print macros in src/:\n{}",
        offenders.join("\n")
    );
}

/// Characters that must never reach a terminal raw.
fn is_bidi(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

fn assert_terminal_safe(what: &str, out: &[u8]) {
    let s = std::str::from_utf8(out).unwrap_or_else(|e| panic!("{what}: not UTF-8: {e}"));
    for (n, l) in s.lines().enumerate() {
        for c in l.chars() {
            assert!(
                !c.is_control() && !is_bidi(c),
                "{what}: raw {c:?} on output line {}: {l:?}",
                n + 1
            );
        }
    }
}

/// A capture whose evidence fields carry escapes, controls and bidi
/// overrides: in a comm, in a debug line's tail, in a tree-checker reason.
fn evil_capture() -> Vec<u8> {
    let mut s = Vec::new();
    s.extend_from_slice(
        "[ 2725.113804] BTRFS critical (device dm-0): corrupt leaf: block=15302115328 slot=3 extent bytenr=1 len=2 bad \u{202E}txt.exe\u{202C} \x07\x08 \x1b]0;title\x07 \u{2066}x\u{2069}\u{200E}\u{200F}\n"
            .as_bytes(),
    );
    s.extend_from_slice(
        "[ 2740.240046] io\u{202E}w\x07-173727   15..... 2649295481us : alloc_extent_buffer: alloc_extent_buffer: alloc eb=15302115328 len=16384\n"
            .as_bytes(),
    );
    s.extend_from_slice(
        "[ 2740.301767] kworker/-322      15..... 2649295735us : end_bbio_meta_read: read done, eb=15302115328 page_refs=3 eb level=0 fsid=b66a67f0-8273-4158-b7bf-988bb5683000 \x1b[31mRED\x1b[0m \u{2067}\x08\x7f"
            .as_bytes(),
    );
    s.extend_from_slice(b"\xff\xfe\n");
    s.extend_from_slice(
        "[ 2740.328424] kworker/-5095     31..... 2649295941us : end_bbio_meta_read: read done, eb=15302115328 page_refs=8 eb level=0 fsid=b66a67f0-8273-4158-b7bf-988bb5683000 \u{9b}31m\u{85}\n"
            .as_bytes(),
    );
    s
}

#[test]
fn escapes_and_bidi_from_the_input_are_escaped_in_human_output() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("evil\u{202E}\x07.txt");
    std::fs::write(&p, evil_capture()).unwrap();
    for args in [
        &["report"][..],
        &["report", "--format", "markdown"],
        &["timeline", "--eb", "15302115328"],
        &["timeline", "--eb", "0x39013C000"],
        &["stats"],
    ] {
        let out = bin().args(args).arg(&p).output().unwrap();
        assert!(matches!(out.status.code(), Some(0 | 1)), "{args:?}");
        assert_terminal_safe(&format!("{args:?}"), &out.stdout);
        let s = String::from_utf8_lossy(&out.stdout);
        if args[0] != "stats" {
            // The evidence is shown, escaped, not dropped.
            assert!(s.contains("<U+202E>"), "{args:?}: {s}");
            assert!(s.contains("\\x07") || s.contains("\\x08"), "{args:?}: {s}");
        }
    }
    // JSON (report, timeline) and NDJSON (events) are valid whatever the bytes.
    for args in [
        &["report", "--json"][..],
        &["timeline", "--json", "--eb", "15302115328"],
        &["stats", "--json"],
    ] {
        let out = bin().args(args).arg(&p).output().unwrap();
        let v = json(&out.stdout);
        assert_eq!(v["schema_version"], 1, "{args:?}");
    }
    let out = bin().arg("events").arg(&p).output().unwrap();
    let events: Vec<serde_json::Value> = out
        .stdout
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(json)
        .collect();
    assert!(events.len() >= 3);
    // JSON escapes every C0 control: none appears raw in the stream.
    assert!(!out.stdout.iter().any(|&b| b < 0x20 && b != b'\n'));
    // Non-UTF-8 text is decoded with U+FFFD and flagged in the report.
    let out = bin().args(["report", "--json"]).arg(&p).output().unwrap();
    let v = json(&out.stdout);
    let ev: Vec<&serde_json::Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["evidence"].as_array().unwrap())
        .filter(|e| e["text"].as_str().unwrap().contains("RED"))
        .collect();
    assert!(!ev.is_empty());
    for e in ev {
        assert_eq!(e["lossy"], true, "{e}");
        assert!(e["text"].as_str().unwrap().contains('\u{FFFD}'));
        // ANSI sequences were removed on reading.
        assert!(!e["text"].as_str().unwrap().contains('\x1b'));
    }
}

#[test]
fn more_live_ebs_than_the_bound_are_evicted_and_reported() {
    // 20,000 distinct ebs allocated and read, never released.
    let mut s = String::with_capacity(20_000 * 260);
    for i in 0..20_000u64 {
        let eb = 30_408_704 + i * 16_384;
        s.push_str(&format!(
            "iou-wrk--{pid:<7} 3..... {ts}us : alloc_extent_buffer: alloc_extent_buffer: alloc eb={eb} len=16384\n",
            pid = 1000 + i % 50,
            ts = 1_000_000 + 2 * i,
        ));
    }
    let (out, err, code) = run_stdin(
        &["report", "--json", "--max-live-ebs", "1000", "-"],
        s.clone().into_bytes(),
    );
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    let st = &v["summary"]["lifetimes"];
    let evicted = st["evicted"].as_u64().unwrap();
    assert!(evicted >= 19_000, "{st}");
    assert_eq!(st["lifetimes"].as_u64(), Some(20_000), "{st}");
    // With the default bound nothing is evicted.
    let (out, _, _) = run_stdin(&["report", "--json", "-"], s.clone().into_bytes());
    assert_eq!(json(&out)["summary"]["lifetimes"]["evicted"], 0);
    // The text report says so, and how to avoid it.
    let (out, _, _) = run_stdin(&["report", "--max-live-ebs", "1000", "-"], s.into_bytes());
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("--max-live-ebs"), "{text}");
}
