//! The documentation stays true: README examples print what the README
//! shows, the committed man page is what `generate-man` prints, completions
//! generate, and the README, man page and CHANGELOG agree with the code.
//!
//! `TRACESIFT_UPDATE=1 cargo test` rewrites the README example outputs and
//! the man page after a reviewed change.

use std::path::Path;
use std::process::Command as Process;

use tracesift::cli::man::CAPTURE_RECIPE;

use crate::util::{bin, root};

fn update() -> bool {
    std::env::var_os("TRACESIFT_UPDATE").is_some()
}

/// One ```` ```console ```` block: `$ tracesift ARGS [| head -n N]` and its output.
struct Example {
    command: String,
    /// Byte range of the output in the README.
    output: std::ops::Range<usize>,
}

fn examples(readme: &str) -> Vec<Example> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(i) = readme[at..].find("```console\n$ ") {
        let start = at + i + "```console\n$ ".len();
        let nl = start + readme[start..].find('\n').expect("command line ends");
        let end = nl + 1 + readme[nl + 1..].find("```").expect("block closed");
        out.push(Example {
            command: readme[start..nl].to_string(),
            output: nl + 1..end,
        });
        at = end;
    }
    out
}

/// Split a README command line into words (single and double quotes, no
/// expansions).
fn words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote = None;
    let mut any = false;
    for c in s.chars() {
        match (quote, c) {
            (None, '\'' | '"') => {
                quote = Some(c);
                any = true;
            }
            (Some(q), c) if c == q => quote = None,
            (None, ' ') => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            (_, c) => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

fn run_example(command: &str) -> String {
    let (cmd, head) = match command.split_once(" | ") {
        Some((c, h)) => {
            let w = words(h);
            assert!(
                w.len() == 3 && w[0] == "head" && w[1] == "-n",
                "only '| head -n N' is supported after a README command: {command}"
            );
            (c, Some(w[2].parse::<usize>().expect("head -n N")))
        }
        None => (command, None),
    };
    let w = words(cmd);
    assert_eq!(
        w[0], "tracesift",
        "README examples run tracesift: {command}"
    );
    let out = bin()
        .current_dir(root())
        .args(&w[1..])
        .output()
        .expect("run tracesift");
    let text = String::from_utf8(out.stdout).expect("README output is UTF-8");
    match head {
        Some(n) => text.lines().take(n).map(|l| format!("{l}\n")).collect(),
        None => text,
    }
}

#[test]
fn readme_examples_print_what_the_readme_shows() {
    let path = root().join("README.md");
    let readme = std::fs::read_to_string(&path).expect("README.md");
    let ex = examples(&readme);
    assert!(ex.len() >= 5, "expected the README examples");
    let mut fixed = String::new();
    let mut last = 0;
    let mut stale = Vec::new();
    for e in &ex {
        let got = run_example(&e.command);
        if readme[e.output.clone()] != got {
            stale.push(e.command.clone());
        }
        fixed.push_str(&readme[last..e.output.start]);
        fixed.push_str(&got);
        last = e.output.end;
    }
    fixed.push_str(&readme[last..]);
    if update() {
        std::fs::write(&path, fixed).expect("write README.md");
        return;
    }
    assert!(
        stale.is_empty(),
        "README examples print something else now (TRACESIFT_UPDATE=1 cargo test rewrites them): {stale:#?}"
    );
}

#[test]
fn committed_man_page_is_current() {
    let path = root().join("man/tracesift.1");
    let out = bin().arg("generate-man").output().expect("generate-man");
    assert!(out.status.success());
    if update() {
        std::fs::write(&path, &out.stdout).expect("write man page");
        return;
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == out.stdout,
        "man/tracesift.1 is stale: run `cargo run -- generate-man > man/tracesift.1` \
         (or TRACESIFT_UPDATE=1 cargo test)"
    );
}

fn have(tool: &str) -> bool {
    Process::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn man_renders_every_section() {
    if !have("man") {
        crate::util::note("skipped: man is not installed");
        return;
    }
    let out = Process::new("man")
        .arg("-l")
        .arg(root().join("man/tracesift.1"))
        .env("MANWIDTH", "100")
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .output()
        .expect("man -l");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = String::from_utf8_lossy(&out.stdout);
    for s in [
        "NAME",
        "SYNOPSIS",
        "DESCRIPTION",
        "Getting a capture worth analysing",
        "COMMANDS",
        "OPTIONS",
        "FINDING RULES",
        "EXIT STATUS",
        "JSON OUTPUT",
        "EVENTS OUTPUT",
        "ENVIRONMENT",
        "EXAMPLES",
        "NO_COLOR",
        "kernel.ftrace_dump_on_oops=1",
    ] {
        assert!(page.contains(s), "man -l output lacks {s}");
    }
}

#[test]
fn completions_generate_for_each_shell() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef tracesift"),
        ("fish", "complete -c tracesift"),
        ("elvish", "tracesift"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let out = bin().args(["completions", shell]).output().expect("run");
        assert!(out.status.success(), "{shell}");
        let s = String::from_utf8_lossy(&out.stdout);
        assert!(s.contains(marker), "{shell} completion lacks {marker}");
        for sub in ["report", "timeline", "events", "stats", "export"] {
            assert!(s.contains(sub), "{shell} completion lacks {sub}");
        }
        assert!(
            !s.contains("generate-man"),
            "{shell} completes a hidden command"
        );
    }
    // The bash script parses.
    if have("bash") {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = dir.path().join("tracesift.bash");
        let out = bin().args(["completions", "bash"]).output().expect("run");
        std::fs::write(&f, out.stdout).expect("write");
        let st = Process::new("bash")
            .arg("-n")
            .arg(&f)
            .status()
            .expect("bash");
        assert!(st.success(), "bash -n rejects the completion script");
    }
    bin().args(["completions", "tcsh"]).assert().code(2);
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn readme_and_man_page_carry_the_capture_recipe_and_every_rule() {
    let readme = read("README.md");
    let man = read("man/tracesift.1").replace("\\-", "-");
    for (_, cmds) in CAPTURE_RECIPE {
        for c in *cmds {
            assert!(readme.contains(c), "README lacks the recipe step `{c}`");
        }
    }
    for id in tracesift::rules::BUILTIN {
        assert!(
            readme.contains(&format!("| `{}` |", id.id())),
            "README rule table lacks {}",
            id.id()
        );
        assert!(man.contains(id.id()), "man page lacks {}", id.id());
    }
    // The two set-up commands come first.
    let first_block = readme
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a first sh block");
    assert_eq!(
        first_block,
        "cargo run --release -- report --fail-on never fixtures/thread-excerpt.txt\ncargo test\n"
    );
}

#[test]
fn changelog_has_unreleased_and_this_version() {
    let log = read("CHANGELOG.md");
    let version = env!("CARGO_PKG_VERSION");
    assert!(log.contains("## [Unreleased]"));
    assert!(
        log.contains(&format!("## [{version}] - ")),
        "CHANGELOG.md lacks an entry for {version}"
    );
    bin()
        .arg("--version")
        .assert()
        .success()
        .stdout(format!("tracesift {version}\n"));
}

#[test]
fn schema_documents_are_linked_from_the_readme() {
    let readme = read("README.md");
    for doc in ["report", "timeline", "stats", "events", "report-each"] {
        let rel = format!("doc/schema/{doc}.md");
        assert!(Path::new(&root().join(&rel)).is_file());
        assert!(
            readme.contains(&format!("({rel})")),
            "README lacks a link to {rel}"
        );
    }
}
