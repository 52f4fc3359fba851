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

/// Where the shared corpus is looked for: `$TRACESIFT_CORPUS`, else
/// `../shared/corpus` beside the repository.
pub fn corpus_dir() -> PathBuf {
    std::env::var_os("TRACESIFT_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("../shared/corpus"))
}

/// The shared corpus, if present.
pub fn corpus() -> Option<PathBuf> {
    let dir = corpus_dir();
    dir.is_dir().then_some(dir)
}

/// Whether this is a CI run: `CI` set and not empty (`.ci/run` sets it, as
/// GitHub Actions, GitLab CI and most others do).
pub fn ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty())
}

/// Whether the long runs are asked for: `TRACESIFT_FULL_TESTS` set, not
/// empty and not `0` (`.ci/run` sets it). They run more property cases and
/// sweep every corpus file instead of a sample.
pub fn full_tests() -> bool {
    std::env::var_os("TRACESIFT_FULL_TESTS").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Property cases: `quick` in a plain `cargo test`, `full` under
/// `TRACESIFT_FULL_TESTS`.
pub fn cases(quick: u32, full: u32) -> u32 {
    if full_tests() {
        full
    } else {
        quick
    }
}

/// The files a corpus sweep reads: all of them under `TRACESIFT_FULL_TESTS`,
/// otherwise every third (of the sorted list, so every directory keeps
/// some), which still spans every source of the corpus.
pub fn sweep(files: Vec<PathBuf>) -> Vec<PathBuf> {
    if full_tests() {
        return files;
    }
    let all = files.len();
    let some: Vec<PathBuf> = files.into_iter().step_by(3).collect();
    note(&format!(
        "reads {} of {all} corpus files (TRACESIFT_FULL_TESTS=1 reads all)",
        some.len()
    ));
    some
}

/// Say something about the running test on the real standard error, which
/// the test harness does not capture (so a skip shows in a plain `cargo test`).
pub fn note(what: &str) {
    use std::io::Write as _;
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    let _ = writeln!(std::io::stderr(), "note: {test}: {what}");
}

/// The corpus for a test that reads it. When it is absent the test says
/// that it skipped and why, and returns `None`; under CI a missing corpus
/// fails the test instead, so that CI is never green on tests that read
/// nothing.
#[track_caller]
pub fn corpus_or_fail_under_ci() -> Option<PathBuf> {
    if let Some(c) = corpus() {
        return Some(c);
    }
    let dir = corpus_dir();
    assert!(
        !ci(),
        "the shared corpus is not at {} and CI is set: a CI run must read it \
         (point TRACESIFT_CORPUS at it)",
        dir.display()
    );
    note(&format!(
        "skipped: the shared corpus is not at {} (set TRACESIFT_CORPUS; under CI this fails)",
        dir.display()
    ));
    None
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

/// The corpus for the current test, or return from it (see
/// [`corpus_or_fail_under_ci`]).
macro_rules! corpus_or_skip {
    () => {
        match crate::util::corpus_or_fail_under_ci() {
            Some(c) => c,
            None => return,
        }
    };
}
pub(crate) use corpus_or_skip;

/// The environment of an in-process run ([`tracesift::app::run`]): no
/// terminal anywhere, `NO_COLOR` set, a UTF-8 locale.
pub fn no_terminal() -> tracesift::config::Env {
    tracesift::config::Env {
        stdout_tty: false,
        stdin_tty: false,
        stderr_tty: false,
        no_color: true,
        term_dumb: false,
        utf8_locale: true,
    }
}

/// The tracesift binary, in a UTF-8 locale on a capable terminal whatever
/// the environment of the test run (tests that want otherwise say so).
pub fn bin() -> Command {
    let mut c = Command::cargo_bin("tracesift").expect("binary built by cargo");
    c.env_remove("NO_COLOR")
        .env("TERM", "xterm")
        .env("LC_ALL", "C.UTF-8");
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
            // The boot, when it is not the first (most captures have one).
            let boot = match f["evidence"][0]["boot"].as_u64() {
                Some(b) if b > 0 => format!(" boot={b}"),
                _ => String::new(),
            };
            format!(
                "{} {} eb={} {}{boot}",
                f["severity"].as_str().unwrap_or("?"),
                f["rule"].as_str().unwrap_or("?"),
                f.get("eb").map_or("-".to_string(), |e| e.to_string()),
                f["confidence"].as_str().unwrap_or("?")
            )
        })
        .collect()
}

/// Check that `text` survives a 72-column mail client: a line is longer
/// than 72 columns only when, after its indent (and a `- ` list bullet), it
/// is a single token; no line ends in a space.
pub fn assert_fits_a_mail(text: &str) {
    for l in text.lines() {
        assert!(!l.ends_with(' '), "trailing space: {l:?}");
        if l.chars().count() <= 72 {
            continue;
        }
        let body = l.trim_start_matches(' ');
        let body = body.strip_prefix("- ").unwrap_or(body);
        assert!(
            !body.contains(' '),
            "over 72 columns with more than one token: {l:?}"
        );
    }
}

/// The tokens (runs of non-spaces) of every line of `text`.
pub fn tokens(text: &str) -> std::collections::BTreeSet<&str> {
    text.split(['\n', ' ']).filter(|t| !t.is_empty()).collect()
}

/// The fixture cases (`fixtures/cases/*.txt`), sorted.
pub fn fixture_cases() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(fixture("cases"))
        .expect("fixtures/cases")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    v.sort();
    v
}

/// Write a generated capture (seed, size in bytes, format, CPUs) into
/// `dir` as `name`; the generation's facts come back with its path.
pub fn generated(
    dir: &Path,
    name: &str,
    cfg: tracesift_synth::Config,
) -> (PathBuf, tracesift_synth::Generated) {
    let (capture, facts) = tracesift_synth::generate_vec(&cfg);
    let path = dir.join(name);
    std::fs::write(&path, capture).expect("write the generated capture");
    (path, facts)
}

/// The real typescript of the March 2024 thread, when the corpus is there.
pub fn typescript() -> Option<PathBuf> {
    corpus()
        .map(|c| c.join("linux-btrfs-ml/typescript-2.txt"))
        .filter(|p| p.is_file())
}
