//! The DuckDB recipe (`doc/duckdb.md`) against real DuckDB: `events` NDJSON
//! loaded with `doc/duckdb/load.sql`, then the duplicate-read and per-CPU
//! coverage queries of `doc/duckdb/`, run as they are written there; their
//! answers must be what `report --json` says (its duplicate-read findings
//! and `coverage.cpus`).
//!
//! DuckDB comes from its Python package (`.ci/run` installs it with pip).
//! Without it the test says that it skipped; under CI it fails instead.

use std::path::Path;
use std::process::Command as Process;

use serde_json::Value;

use crate::util::{bin, ci, fixture, fixture_cases, generated, note, root, typescript};

/// Loads each NDJSON file given on the command line with the recipe's
/// `load.sql` and prints one JSON line per file: the two queries' rows.
const RUNNER: &str = r#"
import duckdb, json, sys
sql_dir = sys.argv[1]
def sql(name):
    with open(f"{sql_dir}/{name}.sql") as f:
        return f.read()
for path in sys.argv[2:]:
    con = duckdb.connect()
    con.execute(sql("load").replace("'events.ndjson'", "'" + path.replace("'", "''") + "'"))
    dup = con.execute(sql("duplicate-reads")).fetchall()
    cov = con.execute(sql("cpu-coverage")).fetchall()
    print(json.dumps({"dup": [list(r[:3]) for r in dup], "cov": [list(r) for r in cov]}))
"#;

/// Whether `python3 -c "import duckdb"` works.
fn duckdb_available() -> bool {
    Process::new("python3")
        .args(["-c", "import duckdb"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// What `report --json` says, in the queries' shapes: `[boot, eb, reads]`
/// per duplicate read, and `[boot, cpu, events, lost, first, last]` per CPU.
fn from_report(path: &Path) -> (Vec<Value>, Vec<Value>) {
    let out = bin()
        .args(["report", "--json", "--fail-on", "never"])
        .arg(path)
        .output()
        .expect("run report");
    let v: Value = serde_json::from_slice(&out.stdout).expect("report JSON");
    let mut dup: Vec<Value> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == "duplicate-read-completion" && f.get("eb").is_some())
        .map(|f| {
            let boot = f["evidence"][0]["boot"].as_u64().unwrap_or(0);
            serde_json::json!([boot, f["eb"], f["count"]])
        })
        .collect();
    dup.sort_by_key(|d| (d[0].as_u64(), d[1].as_u64()));
    let cov = v["coverage"]["cpus"]
        .as_array()
        .expect("coverage.cpus")
        .iter()
        .map(|c| {
            serde_json::json!([
                c["boot"],
                c["cpu"],
                c["events"],
                c["lost_events"],
                c["first_trace_ts_ns"],
                c["last_trace_ts_ns"]
            ])
        })
        .collect();
    (dup, cov)
}

#[test]
fn the_duckdb_recipe_answers_what_report_says() {
    if !duckdb_available() {
        assert!(
            !ci(),
            "python3 cannot import duckdb and CI is set: `.ci/run` installs it \
             (python3 -m pip install duckdb)"
        );
        note("skipped: python3 cannot import duckdb (python3 -m pip install duckdb; under CI this fails)");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    // The fixtures, the thread's excerpt, a generated capture with injected
    // duplicate reads, insert races, clones and lost events, and the real
    // typescript when the corpus is there.
    let mut inputs = fixture_cases();
    inputs.push(fixture("thread-excerpt.txt"));
    let mut cfg = tracesift_synth::Config::new(7, 2 << 20, tracesift_synth::Format::Console);
    cfg.cpus = 8;
    inputs.push(generated(dir.path(), "synth.txt", cfg).0);
    inputs.extend(typescript());
    let mut ndjson = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        let out = bin().arg("events").arg(input).output().expect("run events");
        assert!(out.status.success(), "events {}", input.display());
        let f = dir.path().join(format!("events-{i}.ndjson"));
        std::fs::write(&f, &out.stdout).expect("write NDJSON");
        ndjson.push(f);
    }
    let out = Process::new("python3")
        .arg("-c")
        .arg(RUNNER)
        .arg(root().join("doc/duckdb"))
        .args(&ndjson)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "the DuckDB queries failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answers: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("runner JSON"))
        .collect();
    assert_eq!(answers.len(), inputs.len());
    let (mut dups, mut cpus) = (0, 0);
    for (input, got) in inputs.iter().zip(&answers) {
        let (dup, cov) = from_report(input);
        assert_eq!(
            got["dup"].as_array().expect("dup rows"),
            &dup,
            "duplicate reads of {}: DuckDB (left) and report (right)",
            input.display()
        );
        assert_eq!(
            got["cov"].as_array().expect("cov rows"),
            &cov,
            "per-CPU coverage of {}: DuckDB (left) and report (right)",
            input.display()
        );
        dups += dup.len();
        cpus += cov.len();
    }
    // The comparison is about something: duplicate reads and CPUs were found.
    assert!(dups >= 3, "only {dups} duplicate reads over all inputs");
    assert!(cpus >= 20, "only {cpus} CPU windows over all inputs");
}
