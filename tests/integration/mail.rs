//! The mail excerpt (`report --format markdown`) survives a 72-column mail
//! client whatever the capture holds: lines break at spaces only, and a
//! token longer than a line (a long symbol, a file name) stands alone on
//! its line, whole. Checked on the thread's excerpt with random words,
//! long and short, after each line, in files with random names.

use std::ffi::OsString;
use std::path::Path;

use clap::Parser;
use proptest::prelude::*;
use tracesift::cli::Cli;
use tracesift::config::Config;

use crate::util::{assert_fits_a_mail, fixture, no_terminal, tokens};

/// `report --format markdown PATH`, run in this process.
fn markdown(path: &Path) -> String {
    let args: Vec<OsString> = ["tracesift", "report", "--format", "markdown"]
        .into_iter()
        .map(OsString::from)
        .chain([path.as_os_str().to_owned()])
        .collect();
    let cli = Cli::try_parse_from(args).expect("arguments parse");
    let cfg = Config::from_cli(cli, &no_terminal()).expect("a runnable command");
    let (mut out, mut err) = (Vec::new(), Vec::new());
    tracesift::app::run(&cfg, &mut out, &mut err).expect("writes to memory");
    String::from_utf8(out).expect("UTF-8")
}

/// Words after a line: mostly short, some longer than a mail line, with
/// runs of spaces between them.
fn tail() -> impl Strategy<Value = Vec<(String, String)>> {
    proptest::collection::vec(
        (
            " {1,3}",
            prop_oneof![
                4 => "[a-zA-Z0-9_./-]{1,14}",
                1 => "[a-zA-Z0-9_./-]{60,140}",
            ],
        ),
        0..12,
    )
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: crate::util::cases(24, 256),
        ..ProptestConfig::default()
    })]

    #[test]
    fn markdown_lines_fit_and_no_word_is_cut(
        name in prop_oneof![2 => "[a-z0-9_-]{1,20}", 1 => "[a-z0-9_.-]{60,120}"],
        tails in proptest::collection::vec(tail(), 4),
    ) {
        let excerpt = std::fs::read_to_string(fixture("thread-excerpt.txt")).unwrap();
        let mut capture = String::new();
        for (line, tail) in excerpt.lines().zip(&tails) {
            capture.push_str(line);
            for (gap, word) in tail {
                capture.push_str(gap);
                capture.push_str(word);
            }
            capture.push('\n');
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(format!("{name}.txt"));
        std::fs::write(&path, &capture).unwrap();
        let text = markdown(&path);
        assert_fits_a_mail(&text);
        // The race is still found, so every line is cited: every word of
        // the capture, the added ones too, is in the excerpt whole.
        prop_assert!(text.contains("## duplicate-read-completion"), "{}", text);
        let words = tokens(&text);
        for t in tokens(&capture) {
            prop_assert!(words.contains(t), "{:?} is not whole in\n{}", t, text);
        }
        // Citations name the file whole, even when it is longer than a line.
        let cited = format!("{name}.txt:2");
        prop_assert!(words.contains(cited.as_str()), "{} is not cited whole in\n{}", cited, text);
    }
}
