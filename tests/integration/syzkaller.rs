//! Splat titles measured on syzkaller's own test cases.
//!
//! `../shared/corpus/syzkaller/` (or `$TRACESIFT_CORPUS/syzkaller`) holds
//! files of syzkaller's `pkg/report/testdata/linux/report/`: a header block
//! (`TITLE:`, `ALT:` lines, `CORRUPTED: Y`, ...), a blank line, the console
//! log, and optionally `REPORT:` with the report syzkaller extracts. Only
//! the console log is fed to tracesift. A file without a title holds no
//! crash.
//!
//! `cargo test --test integration syzkaller -- --nocapture` prints the rates
//! and every miss. The test skips itself when the corpus is absent, unless
//! `CI` is set.

use std::path::{Path, PathBuf};

use crate::util::{bin, corpus};

/// What a test case expects.
#[derive(Debug)]
struct Case {
    name: String,
    /// `TITLE:` (none: no crash), then the `ALT:` titles.
    titles: Vec<String>,
    corrupted: bool,
    log: Vec<u8>,
}

/// Split a test file into its expectations and its console log.
fn parse_case(path: &Path) -> Case {
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (head, body) = match data.windows(2).position(|w| w == b"\n\n") {
        Some(p) => (&data[..p], &data[p + 2..]),
        None => (&data[..], &b""[..]),
    };
    let mut titles = Vec::new();
    let mut alts = Vec::new();
    let mut corrupted = false;
    for line in String::from_utf8_lossy(head).lines() {
        if let Some(t) = line.strip_prefix("TITLE:") {
            let t = t.trim();
            if !t.is_empty() {
                titles.push(t.to_string());
            }
        } else if let Some(t) = line.strip_prefix("ALT:") {
            alts.push(t.trim().to_string());
        } else if line.trim() == "CORRUPTED: Y" {
            corrupted = true;
        }
    }
    if !titles.is_empty() {
        titles.extend(alts);
    }
    let log = if body.starts_with(b"REPORT:\n") {
        &b""[..]
    } else {
        match body.windows(9).position(|w| w == b"\nREPORT:\n") {
            Some(p) => &body[..p + 1],
            None => body,
        }
    };
    Case {
        name,
        titles,
        corrupted,
        log: log.to_vec(),
    }
}

/// The first splat of a log: its title and corrupted flag.
fn first_splat(log: &[u8]) -> Option<(String, bool)> {
    let out = bin()
        .args(["report", "--json", "--fail-on", "never", "-"])
        .write_stdin(log.to_vec())
        .output()
        .expect("run tracesift");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "report JSON does not parse: {e}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let s = v["splats"].as_array()?.first()?;
    Some((
        s["title"].as_str().unwrap_or("").to_string(),
        s["corrupted"].as_bool().unwrap_or(false),
    ))
}

fn cases(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("linux-report-"))
        })
        .collect();
    v.sort();
    v
}

#[test]
fn syzkaller_titles() {
    let Some(dir) = corpus().map(|c| c.join("syzkaller")).filter(|d| d.is_dir()) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but the syzkaller corpus is absent (../shared/corpus/syzkaller or $TRACESIFT_CORPUS)"
        );
        eprintln!("skipped: the syzkaller corpus is not present (set TRACESIFT_CORPUS)");
        return;
    };
    let files = cases(&dir);
    assert!(
        files.len() >= 500,
        "corpus looks incomplete: {} cases",
        files.len()
    );
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let results: Vec<(Case, Option<(String, bool)>)> = std::thread::scope(|s| {
        let chunks: Vec<_> = files
            .chunks(files.len().div_ceil(workers))
            .map(|chunk| {
                s.spawn(move || {
                    chunk
                        .iter()
                        .map(|f| {
                            let case = parse_case(f);
                            let got = first_splat(&case.log);
                            (case, got)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        chunks
            .into_iter()
            .flat_map(|h| h.join().expect("worker"))
            .collect()
    });
    let (mut titled, mut exact, mut flag_ok, mut quiet, mut quiet_ok) = (0, 0, 0, 0, 0);
    let mut misses = Vec::new();
    for (case, got) in &results {
        if case.titles.is_empty() {
            quiet += 1;
            match got {
                None => quiet_ok += 1,
                Some((t, _)) => misses.push(format!("{}: no crash expected, got {t:?}", case.name)),
            }
            continue;
        }
        titled += 1;
        let (title, corrupted) = got.clone().unwrap_or_default();
        if case.titles.contains(&title) {
            exact += 1;
        } else {
            misses.push(format!(
                "{}: expected {:?}, got {:?}",
                case.name, case.titles[0], title
            ));
        }
        if got.is_some() && corrupted == case.corrupted {
            flag_ok += 1;
        }
    }
    let pct = |a: usize, b: usize| 100.0 * a as f64 / b.max(1) as f64;
    println!(
        "syzkaller cases: {} titles exact {exact}/{titled} ({:.1} %), no-crash logs {quiet_ok}/{quiet} ({:.1} %), corrupted flag {flag_ok}/{titled} ({:.1} %)",
        results.len(),
        pct(exact, titled),
        pct(quiet_ok, quiet),
        pct(flag_ok, titled),
    );
    for m in &misses {
        println!("  miss {m}");
    }
    assert!(
        pct(exact, titled) >= 90.0,
        "exact titles {exact}/{titled} below 90 %:\n{}",
        misses.join("\n")
    );
    assert!(
        pct(quiet_ok, quiet) >= 90.0,
        "no-crash logs {quiet_ok}/{quiet} below 90 %"
    );
    assert!(
        pct(flag_ok, titled) >= 85.0,
        "corrupted flags {flag_ok}/{titled} below 85 %"
    );
}

#[test]
fn case_files_split_into_expectations_and_log() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("linux-report-1");
    std::fs::write(
        &p,
        "TITLE: WARNING: foo\nALT: bar\nCORRUPTED: Y\n\n<6>[   85.501187] WARNING: foo\nexecuting program 1:\n\nREPORT:\nWARNING: foo\n",
    )
    .expect("write");
    let c = parse_case(&p);
    assert_eq!(c.titles, ["WARNING: foo", "bar"]);
    assert!(c.corrupted);
    assert_eq!(
        c.log,
        b"<6>[   85.501187] WARNING: foo\nexecuting program 1:\n\n"
    );
    std::fs::write(&p, "TITLE: \n\n[    1.0] x\n").expect("write");
    let c = parse_case(&p);
    assert!(c.titles.is_empty(), "an empty title means no crash");
    assert_eq!(
        first_splat(&c.log),
        None,
        "a line that is no report gives no splat"
    );
}
