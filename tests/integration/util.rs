//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fixture shipped in the repository.
pub fn fixture(rel: &str) -> PathBuf {
    root().join("fixtures").join(rel)
}

/// The shared corpus, if present.
pub fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("TRACESIFT_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("../shared/corpus"));
    dir.is_dir().then_some(dir)
}

/// Every file of the corpus but the manifests, sorted.
pub fn corpus_files(root: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n != "MANIFEST.tsv") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Skip the current test when the corpus is absent.
macro_rules! corpus_or_skip {
    () => {
        match crate::util::corpus() {
            Some(c) => c,
            None => {
                eprintln!("skipped: the shared corpus is not present (set TRACESIFT_CORPUS)");
                return;
            }
        }
    };
}
pub(crate) use corpus_or_skip;

/// The tracesift binary.
pub fn bin() -> Command {
    let mut c = Command::cargo_bin("tracesift").expect("binary built by cargo");
    c.env_remove("NO_COLOR").env("TERM", "xterm");
    c
}

/// Run a command and return (stdout, stderr, exit code).
pub fn run(args: &[&str], paths: &[&Path]) -> (String, String, i32) {
    let out = bin()
        .args(args)
        .args(paths)
        .output()
        .expect("run tracesift");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

/// `tracesift report --json PATHS` parsed.
pub fn report_json(paths: &[&Path]) -> (serde_json::Value, i32) {
    let (out, err, code) = run(&["report", "--json"], paths);
    let v = serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("report JSON does not parse: {e}\n{out}\n{err}"));
    (v, code)
}

/// `tracesift stats --json PATHS` parsed.
pub fn stats_json(paths: &[&Path]) -> (serde_json::Value, i32) {
    let (out, err, code) = run(&["stats", "--json"], paths);
    let v = serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("stats JSON does not parse: {e}\n{out}\n{err}"));
    (v, code)
}

/// One line per finding: `severity rule eb=.. confidence`.
pub fn finding_lines(report: &serde_json::Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| {
            format!(
                "{} {} eb={} {}",
                f["severity"].as_str().unwrap_or("?"),
                f["rule"].as_str().unwrap_or("?"),
                f.get("eb").map_or("-".to_string(), |e| e.to_string()),
                f["confidence"].as_str().unwrap_or("?")
            )
        })
        .collect()
}
