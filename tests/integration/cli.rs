//! Command-line behaviour: exit statuses, stdin, errors, colour, the
//! character set of tables.

use std::path::Path;

use predicates::prelude::*;

use crate::util::{assert_fits_a_mail, bin, fixture, tokens};

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
        .arg(fixture("cases/read-without-alloc.txt"))
        .assert()
        .code(1);
    bin()
        .args(["report"])
        .arg(fixture("cases/read-without-alloc.txt"))
        .assert()
        .code(0);
    // A tree-checker rejection is an error even when its block= is garbage (#14).
    bin()
        .args(["report"])
        .arg(fixture("cases/neg-garbage-block.txt"))
        .assert()
        .code(1);
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
    let input = fixture("thread-excerpt.txt");
    let out = bin()
        .args(["report", "--format", "markdown"])
        .arg(&input)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_fits_a_mail(&text);
    assert!(text.contains("thread-excerpt.txt:3 (read-done)"));
    // Every line of the excerpt is cited; none of its words is cut in two
    // (`alloc_exte\` + `nt_buffer` was how it once looked).
    let words = tokens(&text);
    let capture = std::fs::read_to_string(&input).unwrap();
    for t in tokens(&capture) {
        assert!(words.contains(t), "{t:?} is not whole in\n{text}");
    }
}

/// `tracesift ARGS PATH` with the environment changed by `env` (`None`
/// removes a variable): standard output.
fn output_with(env: &[(&str, Option<&str>)], args: &[&str], path: &Path) -> String {
    let mut cmd = bin();
    for &(k, v) in env {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    let out = cmd.args(args).arg(path).output().unwrap();
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn tables_fall_back_to_ascii_on_a_dumb_terminal_or_a_non_utf8_locale() {
    let thread = fixture("thread-excerpt.txt");
    let race = fixture("cases/neg-insert-race.txt");
    let runs: [(&[&str], &Path, &[&str]); 4] = [
        (&["report"], &thread, &["+----------+", "race-signature x1"]),
        (&["stats"], &thread, &["| ftrace_event   |"]),
        (
            &["timeline", "--eb", "15302115328"],
            &thread,
            &["delta_us", "<- duplicate-read-completion"],
        ),
        (
            &["timeline", "--eb", "14545043456"],
            &race,
            &["-- lifetime 1: alloc by"],
        ),
    ];
    let all: &[(&str, Option<&str>)] = &[("LC_ALL", None), ("LC_CTYPE", None), ("LANG", None)];
    let ascii_envs: &[&[(&str, Option<&str>)]] = &[
        &[("TERM", Some("dumb"))],
        &[("LC_ALL", Some("C"))],
        &[("LC_ALL", Some("POSIX"))],
        // Unset is the C locale.
        all,
        &[
            ("LC_ALL", None),
            ("LC_CTYPE", Some("en_US.ISO-8859-1")),
            ("LANG", Some("en_US.UTF-8")),
        ],
        &[
            ("LC_ALL", Some("C")),
            ("LC_CTYPE", Some("C.UTF-8")),
            ("LANG", Some("C.UTF-8")),
        ],
    ];
    let utf8_envs: &[&[(&str, Option<&str>)]] = &[
        &[
            ("LC_ALL", None),
            ("LC_CTYPE", None),
            ("LANG", Some("en_US.utf8")),
        ],
        // Empty values count as unset.
        &[
            ("LC_ALL", Some("")),
            ("LC_CTYPE", Some("")),
            ("LANG", Some("de_DE.UTF-8")),
        ],
    ];
    for (args, path, marks) in runs {
        let unicode = output_with(&[], args, path);
        assert!(!unicode.is_ascii(), "{args:?} draws boxes:\n{unicode}");
        for env in utf8_envs {
            assert_eq!(output_with(env, args, path), unicode, "{args:?} {env:?}");
        }
        for env in ascii_envs {
            let ascii = output_with(env, args, path);
            assert!(ascii.is_ascii(), "{args:?} {env:?}:\n{ascii}");
            // The same lines, in other characters.
            assert_eq!(
                ascii.lines().count(),
                unicode.lines().count(),
                "{args:?} {env:?}"
            );
            for m in marks {
                assert!(ascii.contains(m), "{args:?} {env:?} lacks {m:?}:\n{ascii}");
            }
        }
    }
    // The mail excerpt is ASCII framing anyway, and the same everywhere.
    let md = ["report", "--format", "markdown"];
    assert_eq!(
        output_with(&[("TERM", Some("dumb"))], &md, &thread),
        output_with(&[], &md, &thread)
    );
}
