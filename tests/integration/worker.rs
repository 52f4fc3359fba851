//! A parser thread that fails must not truncate the input silently: the
//! run ends with exit status 2, an error naming the input and how much of
//! it was analysed, and a report about exactly those lines.

use clap::Parser;
use tracesift::app::{self, Status};
use tracesift::cli::Cli;
use tracesift::config::Config;

use crate::util::{fixture, no_terminal};

/// `report --json -j2` over `path`, parsing in parallel from the first byte
/// in small batches, with the worker that gets batch `fail_at` failing.
fn report(path: &std::path::Path, fail_at: Option<u64>) -> (Status, serde_json::Value, String) {
    let cli = Cli::try_parse_from(
        ["tracesift", "report", "--json", "-j2"]
            .iter()
            .copied()
            .chain([path.to_str().expect("UTF-8 temp path")]),
    )
    .expect("arguments parse");
    let mut cfg = Config::from_cli(cli, &no_terminal()).expect("config");
    cfg.read.parallel_after = 0;
    cfg.read.batch_records = 64;
    cfg.read.fail_worker_at_batch = fail_at;
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let status = app::run(&cfg, &mut out, &mut err).expect("output is a Vec");
    let json = serde_json::from_slice(&out).expect("the report is JSON");
    (status, json, String::from_utf8_lossy(&err).into_owned())
}

#[test]
fn a_failed_worker_is_an_input_error_with_an_honest_summary() {
    // Enough lines for many batches.
    let piece = std::fs::read(fixture("cases/neg-insert-race.txt")).expect("fixture");
    let mut data = Vec::new();
    while data.len() < 400_000 {
        data.extend_from_slice(&piece);
    }
    let total = data.iter().filter(|&&c| c == b'\n').count() as u64;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("capture.txt");
    std::fs::write(&path, &data).expect("write");

    let (status, whole, err) = report(&path, None);
    assert_eq!(status, Status::Clean, "{err}");
    assert_eq!(whole["summary"]["lines"], total);

    let (status, part, err) = report(&path, Some(5));
    assert_eq!(status, Status::Trouble, "a failed worker is trouble: {err}");
    let analysed = part["summary"]["lines"].as_u64().expect("lines");
    assert!(analysed < total, "{analysed} of {total} lines");
    assert!(
        err.contains(&format!(
            "capture.txt: a parser thread failed; only the first {analysed} lines were analysed"
        )),
        "{err}"
    );
    assert!(err.contains("hint: this is a bug in tracesift"), "{err}");
    assert_eq!(part["inputs"][0]["lines"], analysed);
}
