//! The capture generator (`tracesift::synth`) against the analysis: the
//! findings of a generated capture are exactly the anomalies it injected,
//! and its benign patterns (insert races, discards, clones, re-allocations)
//! are counted by the lifetime tracker as the generator wrote them.

use std::collections::BTreeMap;

use tracesift::correlate::Analysis;
use tracesift::reader::{read_input, ReadOptions, RecordSink};
use tracesift::rules::{self, Finding};
use tracesift::synth::{self, AnomalyPlan, Config, Format, Generated};

/// Small enough for a debug build, large enough for every pattern.
const SIZE: u64 = 3 << 20;

fn analyse(data: &[u8]) -> (Analysis, Vec<Finding>) {
    let mut an = Analysis::new(tracesift::correlate::ebs::DEFAULT_MAX_LIVE);
    let (_, err) = read_input(0, data, &ReadOptions::default(), &mut an);
    assert!(err.is_none());
    an.end_input(0).unwrap();
    an.finish();
    let findings = rules::evaluate(&an);
    (an, findings)
}

type Key = (String, Option<u64>, String, String);

/// Findings as a multiset of (rule, eb, severity, confidence).
fn found(findings: &[Finding]) -> BTreeMap<Key, usize> {
    let mut m = BTreeMap::new();
    for f in findings {
        let k = (
            f.rule.id().to_string(),
            f.eb(),
            f.severity.name().to_string(),
            f.confidence.name().to_string(),
        );
        *m.entry(k).or_insert(0) += 1;
    }
    m
}

fn injected(g: &Generated) -> BTreeMap<Key, usize> {
    let mut m = BTreeMap::new();
    for a in &g.anomalies {
        let k = (
            a.rule.id().to_string(),
            a.eb,
            a.severity.name().to_string(),
            a.confidence.name().to_string(),
        );
        *m.entry(k).or_insert(0) += 1;
    }
    m
}

fn plan() -> AnomalyPlan {
    AnomalyPlan {
        duplicate_reads: 3,
        race_signatures: 2,
        reads_after_release: 3,
        validation_failures: 2,
        splats: 2,
    }
}

/// Generate, analyse, and compare; returns the generation and the analysis.
fn check(cfg: &Config) -> (Generated, Analysis) {
    let (data, g) = synth::generate_vec(cfg);
    assert_eq!(g.counts.bytes, data.len() as u64);
    let (an, findings) = analyse(&data);
    let want = injected(&g);
    let got = found(&findings);
    assert_eq!(
        got,
        want,
        "{} seed {}: findings differ from the injected anomalies\nfindings: {:#?}",
        cfg.format.name(),
        cfg.seed,
        findings
            .iter()
            .map(|f| (f.rule.id(), f.eb(), f.confidence.name(), f.message.as_str()))
            .collect::<Vec<_>>()
    );
    assert_eq!(an.lines.first().copied(), Some(g.counts.lines));
    (g, an)
}

/// Every injected kind is there, and the benign patterns are frequent.
fn assert_rich(g: &Generated) {
    let c = &g.counts;
    assert!(c.lifetimes > 500, "{c:?}");
    assert!(c.reallocations > 100, "{c:?}");
    assert!(c.insert_races > 30, "{c:?}");
    assert!(c.discards > c.insert_races, "{c:?}");
    assert!(c.clones > 10, "{c:?}");
    assert!(c.data_reads > 100, "{c:?}");
    assert!(c.tracepoints > 100, "{c:?}");
    let rules: std::collections::BTreeSet<&str> = g.anomalies.iter().map(|a| a.rule.id()).collect();
    for r in [
        "duplicate-read-completion",
        "race-signature",
        "read-after-release",
        "validation-failed",
        "lost-events",
    ] {
        assert!(rules.contains(r), "no {r} injected: {rules:?}");
    }
}

/// The lifetime tracker saw the benign patterns the generator wrote.
fn assert_stats_agree(g: &Generated, an: &Analysis) {
    let s = &an.ebs.stats;
    let c = &g.counts;
    assert_eq!(s.lifetimes, c.lifetimes, "lifetimes");
    assert_eq!(s.reallocations, c.reallocations, "reallocations");
    assert_eq!(s.insert_races, c.insert_races, "insert races");
    assert_eq!(
        s.contending_allocs, c.contending_allocs,
        "contending allocs"
    );
    assert_eq!(s.discards, c.discards, "discards");
    assert_eq!(s.orphan_discards, c.orphan_discards, "orphan discards");
    assert_eq!(
        s.ambiguous_releases, c.orphan_discards,
        "ambiguous releases"
    );
    assert_eq!(s.clones, c.clones, "clones");
    assert_eq!(s.clone_releases, c.clone_releases, "clone releases");
    assert_eq!(s.final_releases, c.final_releases, "final releases");
    assert_eq!(s.reads, c.reads, "reads");
    assert_eq!(s.duplicate_reads, c.duplicate_reads, "duplicate reads");
    assert_eq!(
        (s.missed_releases, s.reads_without_alloc, s.evicted),
        (0, 0, 0)
    );
}

#[test]
fn console_findings_equal_injected_anomalies() {
    for seed in [1, 0x5eed_cafe] {
        let mut cfg = Config::new(seed, SIZE, Format::Console);
        cfg.plan = plan();
        let (g, an) = check(&cfg);
        assert_rich(&g);
        assert!(g.anomalies.iter().any(|a| a.rule.id() == "kernel-splat"));
        assert!(g
            .anomalies
            .iter()
            .any(|a| a.rule.id() == "tree-check-failure"));
        assert_stats_agree(&g, &an);
        assert!(an.coverage.dumps().len() == 2 && !an.coverage.dumps()[0].empty);
    }
}

#[test]
fn tracefs_findings_equal_injected_anomalies() {
    for seed in [2, 99] {
        let mut cfg = Config::new(seed, SIZE, Format::Tracefs);
        cfg.plan = plan();
        cfg.cpus = 16 + seed as u32;
        let (g, an) = check(&cfg);
        assert_rich(&g);
        assert_stats_agree(&g, &an);
        // The header promised exactly the entries written.
        let h = an.coverage.header_of(0).expect("tracefs header");
        assert_eq!(h.entries.map(|e| e.0), Some(g.counts.entries));
        assert_eq!(h.cpus, Some(cfg.cpus));
    }
}

#[test]
fn without_anomalies_nothing_is_found() {
    for format in [Format::Console, Format::Tracefs] {
        let mut cfg = Config::new(3, 1 << 20, format);
        cfg.plan = AnomalyPlan::none();
        cfg.lost_events = false;
        cfg.trigger_oops = false;
        cfg.cpus = 8;
        let (g, _) = check(&cfg);
        assert!(g.anomalies.is_empty(), "{:?}", g.anomalies);
        assert!(g.counts.insert_races > 0 && g.counts.reallocations > 0);
    }
}

#[test]
fn generation_is_deterministic() {
    let cfg = Config::new(11, 256 << 10, Format::Console);
    let (a, ga) = synth::generate_vec(&cfg);
    let (b, gb) = synth::generate_vec(&cfg);
    assert!(a == b && ga.anomalies == gb.anomalies);
    let (c, _) = synth::generate_vec(&Config::new(12, 256 << 10, Format::Console));
    assert_ne!(a, c);
}

#[test]
fn anomalies_json_lists_the_findings() {
    let mut cfg = Config::new(5, 1 << 20, Format::Console);
    cfg.cpus = 4;
    let (_, g) = synth::generate_vec(&cfg);
    let mut out = Vec::new();
    g.write_json(&mut out).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let list = v["anomalies"].as_array().unwrap();
    assert_eq!(list.len(), g.anomalies.len());
    assert!(list.iter().all(|a| a["rule"].is_string()
        && a["severity"].is_string()
        && a["confidence"] == "certain"));
    assert_eq!(v["counts"]["lines"], g.counts.lines);
    assert_eq!(synth::parse_size("1G"), Ok(1 << 30));
    assert_eq!(synth::parse_size("256MiB"), Ok(256 << 20));
    assert!(synth::parse_size("x").is_err());
}

/// End to end, on a capture large enough for the parallel reader (past its
/// first 4 MiB): a file, which the worker threads read at positions, gives
/// the report that the same bytes on standard input and one thread give.
#[test]
fn report_is_the_same_from_a_file_and_from_stdin() {
    let (data, _) = synth::generate_vec(&Config::new(21, 6 << 20, Format::Console));
    let path = std::env::temp_dir().join(format!("tracesift-synth-{}.txt", std::process::id()));
    std::fs::write(&path, &data).expect("temp file");
    let run = |args: &[&str], stdin: Option<&[u8]>| {
        let mut c = crate::util::bin();
        c.args(args);
        if let Some(s) = stdin {
            c.write_stdin(s.to_vec());
        }
        let out = c.output().expect("run tracesift");
        let mut v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
        // The one field that names where the bytes came from.
        v["inputs"][0]["path"] = serde_json::Value::Null;
        v
    };
    let file = path.to_str().expect("UTF-8 temp path");
    let from_file = run(&["-j", "2", "report", "--json", file], None);
    let from_stdin = run(&["-j", "2", "report", "--json", "-"], Some(&data));
    let one_thread = run(&["-j", "1", "report", "--json", file], None);
    std::fs::remove_file(&path).expect("remove temp file");
    assert_eq!(
        from_file["summary"]["lines"],
        data.iter().filter(|&&c| c == b'\n').count()
    );
    assert_eq!(from_file, from_stdin);
    assert_eq!(from_file, one_thread);
}
