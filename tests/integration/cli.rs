//! Command-line behaviour: exit statuses, stdin, errors, colour.

use predicates::prelude::*;

use crate::util::{bin, fixture};

#[test]
fn exit_statuses_follow_the_contract() {
    // Findings at or above --fail-on: 1.
    bin()
        .args(["report"])
        .arg(fixture("thread-excerpt.txt"))
        .assert()
        .code(1);
    // Nothing flagged: 0.
    bin()
        .args(["report"])
        .arg(fixture("cases/neg-insert-race.txt"))
        .assert()
        .code(0);
    // --fail-on never: 0 even with errors; --fail-on warning catches warnings.
    bin()
        .args(["report", "--fail-on", "never"])
        .arg(fixture("thread-excerpt.txt"))
        .assert()
        .code(0);
    bin()
        .args(["report", "--fail-on", "warning"])
        .arg(fixture("cases/neg-garbage-block.txt"))
        .assert()
        .code(1);
    bin()
        .args(["report"])
        .arg(fixture("cases/neg-garbage-block.txt"))
        .assert()
        .code(0);
    // Usage errors: 2.
    bin().args(["report", "--format", "yaml"]).assert().code(2);
    bin().arg("frobnicate").assert().code(2);
}

#[test]
fn stdin_with_dash_and_when_piped() {
    let input = std::fs::read(fixture("thread-excerpt.txt")).unwrap();
    bin()
        .args(["report", "--json", "-"])
        .write_stdin(input.clone())
        .assert()
        .code(1)
        .stdout(predicate::str::contains("\"path\": \"<stdin>\""));
    bin()
        .args(["stats", "--json"])
        .write_stdin(input)
        .assert()
        .success()
        .stdout(predicate::str::contains("\"lines\": 4"));
}

#[test]
fn missing_file_and_directory_are_errors_that_do_not_stop_the_run() {
    let good = fixture("cases/neg-insert-race.txt");
    bin()
        .args(["report", "/nonexistent/capture.txt"])
        .arg(&good)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "tracesift: /nonexistent/capture.txt: no such file",
        ))
        .stderr(predicate::str::contains("hint:"))
        .stdout(predicate::str::contains("neg-insert-race.txt"))
        .stdout(predicate::str::contains(
            "input error: /nonexistent/capture.txt: no such file; nothing read from it",
        ));
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("cut.gz");
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut e, &std::fs::read(&good).unwrap().repeat(100)).unwrap();
    let full = e.finish().unwrap();
    std::fs::write(&gz, &full[..full.len() / 2]).unwrap();
    bin()
        .args(["report", "--format", "markdown"])
        .arg(&gz)
        .assert()
        .code(2)
        .stdout(predicate::str::contains("analysed."));
    bin()
        .args(["stats"])
        .arg(fixture("cases"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is a directory"));
}

#[test]
fn version_and_help() {
    bin()
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::starts_with("tracesift 0.1.0"));
    bin()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("report"));
}

#[test]
fn colour_only_when_asked() {
    let p = fixture("thread-excerpt.txt");
    // Not a terminal: no escapes by default.
    bin()
        .arg("report")
        .arg(&p)
        .assert()
        .stdout(predicate::str::contains("\x1b[").not());
    bin()
        .args(["report", "--color", "always"])
        .arg(&p)
        .assert()
        .stdout(predicate::str::contains("\x1b["));
    bin()
        .args(["report", "--color", "always", "--json"])
        .arg(&p)
        .assert()
        .stdout(predicate::str::contains("\x1b[").not());
    bin()
        .args(["report", "--color", "always", "--format", "markdown"])
        .arg(&p)
        .assert()
        .stdout(predicate::str::contains("\x1b[").not());
}

#[test]
fn markdown_fits_a_mail_client() {
    let out = bin()
        .args(["report", "--format", "markdown"])
        .arg(fixture("thread-excerpt.txt"))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for l in text.lines() {
        assert!(l.chars().count() <= 72, "line over 72 columns: {l:?}");
    }
    assert!(text.contains("thread-excerpt.txt:3 (read-done)"));
}
