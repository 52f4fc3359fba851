//! `report --each`: every input on its own, directories walked as ripgrep
//! walks them, one summary grouped by signature, NDJSON per input in input
//! order, and the exit statuses.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::{bin, fixture, run};

/// A directory of captures: the splat case three times (one in a
/// subdirectory), the thread's excerpt once, a clean file, plus a hidden
/// file and an ignored one that the walk must skip.
fn captures() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let splat = std::fs::read(fixture("cases/kernel-splat.txt")).expect("fixture");
    let excerpt = std::fs::read(fixture("thread-excerpt.txt")).expect("fixture");
    std::fs::create_dir(d.join("sub")).expect("mkdir");
    for (name, data) in [
        ("a-splat.txt", &splat[..]),
        ("b-excerpt.txt", &excerpt[..]),
        (
            "c-clean.txt",
            b"[    1.000000] Linux version 6.8.0 (a@b) #1 SMP\n",
        ),
        ("sub/d-splat.txt", &splat[..]),
        ("sub/e-splat.txt", &splat[..]),
        (".hidden-splat.txt", &splat[..]),
        ("skipped/f-splat.txt", &splat[..]),
    ] {
        let p = d.join(name);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, data).expect("write");
    }
    std::fs::write(d.join(".ignore"), "skipped/\n").expect("write");
    dir
}

/// The splat case's title, as `report --json` gives it.
fn splat_title() -> String {
    let (v, _) = crate::util::report_json(&[&fixture("cases/kernel-splat.txt")]);
    v["splats"][0]["title"]
        .as_str()
        .expect("a splat title")
        .to_string()
}

fn ndjson(args: &[&str], dir: &Path) -> (Vec<Value>, i32) {
    let (out, err, code) = run(args, &[dir]);
    let lines = out
        .lines()
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}\n{err}"))
        })
        .collect();
    (lines, code)
}

#[test]
fn each_groups_findings_by_signature_across_captures() {
    let dir = captures();
    let (out, err, code) = run(&["report", "--each"], &[dir.path()]);
    assert_eq!(code, 1, "findings at error exit 1\n{out}{err}");
    assert!(
        out.starts_with("tracesift report --each: 5 inputs: 4 with findings, 1 clean\n"),
        "{out}"
    );
    let title = splat_title();
    let row = out
        .lines()
        .find(|l| l.contains(&title))
        .unwrap_or_else(|| panic!("no row for {title}:\n{out}"));
    // Three captures (the hidden and the ignored copies are not read), one
    // finding each, first seen in a-splat.txt.
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(&cols[..4], ["3", "3", "error", "kernel-splat"], "{row}");
    assert!(row.ends_with("a-splat.txt)"), "{row}");
    let dup = out
        .lines()
        .find(|l| l.contains("duplicate-read-completion"))
        .expect("the excerpt's duplicate read");
    assert!(dup.contains("eb 15302115328"), "{dup}");
    assert!(dup.trim_start().starts_with("1 "), "{dup}");

    // --hidden and --no-ignore read the other two copies.
    let (out, _, _) = run(
        &["report", "--each", "--hidden", "--no-ignore"],
        &[dir.path()],
    );
    let row = out.lines().find(|l| l.contains(&title)).expect("row");
    assert!(row.trim_start().starts_with("5 "), "{row}");
}

#[test]
fn each_json_is_one_report_per_input_in_input_order() {
    let dir = captures();
    let (lines, code) = ndjson(&["report", "--each", "--json", "-j", "3"], dir.path());
    assert_eq!(code, 1);
    let paths: Vec<PathBuf> = lines
        .iter()
        .map(|l| PathBuf::from(l["path"].as_str().expect("path")))
        .collect();
    let rel: Vec<_> = paths
        .iter()
        .map(|p| {
            p.strip_prefix(dir.path())
                .expect("under the dir")
                .to_owned()
        })
        .collect();
    assert_eq!(
        rel,
        [
            "a-splat.txt",
            "b-excerpt.txt",
            "c-clean.txt",
            "sub/d-splat.txt",
            "sub/e-splat.txt"
        ]
        .map(PathBuf::from)
    );
    // Each line is what `report --json` says about that input alone.
    for (line, path) in lines.iter().zip(&paths) {
        let (alone, _) = crate::util::report_json(&[path]);
        let mut line = line.clone();
        line.as_object_mut().expect("object").remove("path");
        assert_eq!(line, alone, "{}", path.display());
    }
    // The same bytes whatever the number of threads.
    let one = bin()
        .args(["report", "--each", "--json", "-j", "1"])
        .arg(dir.path())
        .output()
        .expect("run");
    let four = bin()
        .args(["report", "--each", "--json", "-j", "4"])
        .arg(dir.path())
        .output()
        .expect("run");
    assert_eq!(one.stdout, four.stdout);
}

#[test]
fn each_exit_statuses() {
    let dir = captures();
    let clean = dir.path().join("c-clean.txt");
    let (_, _, code) = run(&["report", "--each"], &[&clean]);
    assert_eq!(code, 0);
    let (_, _, code) = run(&["report", "--each", "--fail-on", "never"], &[dir.path()]);
    assert_eq!(code, 0);
    // An input that cannot be read: status 2, its error on stderr, the
    // others still analysed and its line still written.
    let missing = dir.path().join("missing.txt");
    let (out, err, code) = run(&["report", "--each", "--json"], &[&clean, &missing]);
    assert_eq!(code, 2);
    assert!(err.contains("missing.txt: no such file"), "{err}");
    let docs: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(docs.len(), 2);
    assert!(docs[1]["inputs"][0]["error"].is_string());
    // A directory with nothing to read is trouble, not a clean run.
    let empty = tempfile::tempdir().expect("tempdir");
    let (_, err, code) = run(&["report", "--each"], &[empty.path()]);
    assert_eq!(code, 2);
    assert!(err.contains("no input"), "{err}");
    // --each has no markdown; --hidden needs --each.
    let (_, _, code) = run(&["report", "--each", "--format", "markdown"], &[&clean]);
    assert_eq!(code, 2);
    let (_, _, code) = run(&["report", "--hidden"], &[&clean]);
    assert_eq!(code, 2);
}
