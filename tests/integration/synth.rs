//! The capture generator (the `tracesift-synth` crate) against the analysis:
//! the findings of a generated capture are exactly the anomalies it
//! injected, its benign patterns (insert races, discards, clones,
//! re-allocations) are counted by the lifetime tracker as the generator
//! wrote them, and its realistic profile holds what real captures hold.
//!
//! The generator's truth describes boot scoping (#14): one scope per boot,
//! one `kernel-splat` per title and boot with a `count`, kernel messages in
//! tracefs `console:` events read like dmesg lines. The tests that need
//! more than today's analysis handles are ignored until #14 lands; the
//! others compare splats by summing `count` per (rule, title), which both
//! one finding per splat and one finding per title satisfy.

use std::collections::{BTreeMap, BTreeSet};

use tracesift::correlate::Analysis;
use tracesift::reader::{read_input, ReadOptions, RecordSink};
use tracesift::rules::{self, Finding};
use tracesift_synth::{self as synth, AnomalyPlan, Config, ConsoleEvents, Format, Generated};

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

/// (rule, eb, severity, confidence) of a finding that is not a splat.
type Key = (String, Option<u64>, String, String);

/// What a capture's findings are compared by: the multiset of non-splat
/// findings, and the summed `count` of `kernel-splat` findings per title.
struct Outcome {
    findings: BTreeMap<Key, usize>,
    splats: BTreeMap<String, u64>,
}

fn outcome<'a>(items: impl Iterator<Item = (Key, Option<&'a str>, u64)>) -> Outcome {
    let mut o = Outcome {
        findings: BTreeMap::new(),
        splats: BTreeMap::new(),
    };
    for (key, title, count) in items {
        if key.0 == "kernel-splat" {
            let title = title
                .expect("a kernel-splat finding has a title")
                .to_string();
            *o.splats.entry(title).or_insert(0) += count;
        } else {
            *o.findings.entry(key).or_insert(0) += 1;
        }
    }
    o
}

fn found(findings: &[Finding]) -> Outcome {
    outcome(findings.iter().map(|f| {
        let key = (
            f.rule.id().to_string(),
            f.eb(),
            f.severity.name().to_string(),
            f.confidence.name().to_string(),
        );
        (key, f.title(), f.count)
    }))
}

fn injected(g: &Generated) -> Outcome {
    outcome(g.anomalies.iter().map(|a| {
        let key = (
            a.rule.id().to_string(),
            a.eb,
            a.severity.to_string(),
            a.confidence.name().to_string(),
        );
        (key, a.title.as_deref(), a.count)
    }))
}

fn plan() -> AnomalyPlan {
    AnomalyPlan {
        duplicate_reads: 3,
        race_signatures: 2,
        reads_after_release: 3,
        validation_failures: 2,
        splats: 4,
        flood_splats: 40,
        flood_titles: 2,
    }
}

/// The realistic profile narrowed to what tracesift reads without boot
/// scoping: one boot, `console:` events with their printk time.
fn one_boot(seed: u64, size: u64, format: Format) -> Config {
    let mut cfg = Config::new(seed, size, format);
    cfg.plan = plan();
    cfg.boots = 1;
    cfg.console_events = ConsoleEvents::Time;
    cfg
}

/// What differs between two outcomes, one line per key: `key: found N, injected M`.
fn differences(got: &Outcome, want: &Outcome) -> Vec<String> {
    fn diff<K: Ord + std::fmt::Debug, V: PartialEq + Default + Copy + std::fmt::Debug>(
        a: &BTreeMap<K, V>,
        b: &BTreeMap<K, V>,
        out: &mut Vec<String>,
    ) {
        let keys: BTreeSet<&K> = a.keys().chain(b.keys()).collect();
        for k in keys {
            let (x, y) = (
                a.get(k).copied().unwrap_or_default(),
                b.get(k).copied().unwrap_or_default(),
            );
            if x != y {
                out.push(format!("{k:?}: found {x:?}, injected {y:?}"));
            }
        }
    }
    let mut out = Vec::new();
    diff(&got.findings, &want.findings, &mut out);
    diff(&got.splats, &want.splats, &mut out);
    out
}

/// Generate, analyse, and compare; returns the generation and the analysis.
fn check(cfg: &Config) -> (Generated, Analysis) {
    let (data, g) = synth::generate_vec(cfg);
    assert_eq!(g.counts.bytes, data.len() as u64);
    let (an, findings) = analyse(&data);
    let diffs = differences(&found(&findings), &injected(&g));
    assert!(
        diffs.is_empty(),
        "{} seed {} ({} boots): findings differ from the injected anomalies:\n{}",
        cfg.format.name(),
        cfg.seed,
        cfg.boots,
        diffs.join("\n")
    );
    assert_eq!(an.lines.first().copied(), Some(g.counts.lines));
    (g, an)
}

/// Every injected kind is there, and the benign patterns are frequent.
fn assert_rich(g: &Generated) {
    let c = &g.counts;
    assert!(c.lifetimes > 500, "{c:?}");
    assert!(c.reallocations > 50, "{c:?}");
    assert!(c.insert_races > 30, "{c:?}");
    assert!(c.discards > c.insert_races, "{c:?}");
    assert!(c.clones > 10, "{c:?}");
    assert!(c.data_reads > 100, "{c:?}");
    assert!(c.tracepoints > 100, "{c:?}");
    let rules: BTreeSet<&str> = g.anomalies.iter().map(|a| a.rule.id()).collect();
    for r in [
        "duplicate-read-completion",
        "race-signature",
        "read-after-release",
        "validation-failed",
        "lost-events",
        "kernel-splat",
    ] {
        assert!(rules.contains(r), "no {r} injected: {rules:?}");
    }
    // A flood is one title standing for many blocks.
    let most = g.anomalies.iter().map(|a| a.count).max().unwrap_or(0);
    assert!(most >= 10, "no flood: {:?}", g.anomalies);
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
        let cfg = one_boot(seed, SIZE, Format::Console);
        let (g, an) = check(&cfg);
        assert_rich(&g);
        assert!(g
            .anomalies
            .iter()
            .any(|a| a.rule.id() == "tree-check-failure"));
        assert_stats_agree(&g, &an);
        assert!(
            an.coverage.dumps().count() == 2
                && an.coverage.dumps().next().is_some_and(|(_, d)| !d.empty)
        );
    }
}

#[test]
fn tracefs_findings_equal_injected_anomalies() {
    for seed in [2, 99] {
        let mut cfg = one_boot(seed, SIZE, Format::Tracefs);
        cfg.cpus = 16 + seed as u32;
        let (g, an) = check(&cfg);
        assert_rich(&g);
        assert!(g.counts.console_events > g.counts.splat_lines);
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
        let mut cfg = one_boot(3, 1 << 20, format);
        cfg.plan = AnomalyPlan::none();
        cfg.lost_events = false;
        cfg.trigger_oops = false;
        cfg.cpus = 8;
        let (g, _) = check(&cfg);
        assert!(g.anomalies.is_empty(), "{:?}", g.anomalies);
        assert!(g.counts.insert_races > 0 && g.counts.reallocations > 0);
        // The noise is there, and none of it is a finding.
        assert!(
            g.counts.noise_lines * 100 > g.counts.lines,
            "{:?}",
            g.counts
        );
    }
}

/// The realistic profile holds what real captures hold, at about the
/// rates measured on them (#18): several boots, WARNING floods at 11,500
/// blocks per GiB, 2 % dmesg noise, a third of the lines with `eb=`, far
/// more fresh ebs than re-allocations, lost-events markers, and in tracefs
/// form `console:` events with and without their printk time.
#[test]
fn realistic_profile_holds_what_real_captures_hold() {
    let size = 16 << 20;
    let (data, g) = synth::generate_vec(&Config::new(8, size, Format::Console));
    let c = &g.counts;
    let text = String::from_utf8(data).expect("ASCII");
    assert_eq!(c.boots, 3);
    assert_eq!(text.matches("] Linux version 6.8.0-rc7 ").count(), 3);
    assert_eq!(text.matches("] Dumping ftrace buffer:").count(), 5);
    assert!(text.contains("reboot: Restarting system"));
    assert!(text.contains("Kernel panic - not syncing: Fatal exception"));
    assert!(text.contains("[LOST ") && c.lost_markers > 100);
    let per_gib = c.splats as f64 * (1u64 << 30) as f64 / size as f64;
    assert!(
        (10_000.0..13_500.0).contains(&per_gib),
        "{per_gib} splats per GiB"
    );
    let share = |n: u64| n as f64 / c.lines as f64;
    let splat_lines = c.splat_lines as f64 / c.splats as f64;
    assert!(
        (22.0..30.0).contains(&splat_lines),
        "{splat_lines} lines per splat"
    );
    assert!((0.017..0.025).contains(&share(c.noise_lines)), "{c:?}");
    assert!((0.32..0.40).contains(&share(c.eb_lines)), "{c:?}");
    assert_eq!(
        c.eb_lines as usize,
        text.lines().filter(|l| l.contains("eb=")).count()
    );
    assert!(c.distinct_ebs > 3 * c.reallocations, "{c:?}");
    assert!(c.cross_boot_allocs > 0, "{c:?}");
    // One finding per title and boot; the floods stand for most blocks.
    let splat_findings: Vec<_> = g.anomalies.iter().filter(|a| a.title.is_some()).collect();
    let blocks: u64 = splat_findings.iter().map(|a| a.count).sum();
    assert_eq!(blocks, c.splats);
    assert!(
        splat_findings.len() < 40 && blocks > 150,
        "{splat_findings:?}"
    );

    let (data, g) = synth::generate_vec(&Config::new(8, size, Format::Tracefs));
    let text = String::from_utf8(data).expect("ASCII");
    assert_eq!(text.matches("# tracer: nop").count(), 3);
    let with_time = text.matches(": console: [").count() as u64;
    assert!(with_time > 0 && with_time < g.counts.console_events);
    assert!(g.counts.splats > 100);
}

/// Several boots: each its own scope. An eb left open at the end of one
/// boot is allocated and read again in the next, which is no duplicate
/// read; lost events and splat floods are per boot. On a console each boot
/// has its banner and its dump; in tracefs form each is a `trace` file
/// whose `console:` events alternately carry their printk time or not.
#[test]

fn multi_boot_findings_equal_injected_anomalies() {
    for (format, seed) in [
        (Format::Console, 4),
        (Format::Console, 77),
        (Format::Tracefs, 5),
        (Format::Tracefs, 78),
    ] {
        let mut cfg = Config::new(seed, 3 * SIZE, format);
        cfg.plan = plan();
        let (g, an) = check(&cfg);
        assert_eq!(g.counts.boots, 3);
        assert!(g.counts.reopened_allocs > 0, "{:?}", g.counts);
        assert_rich(&g);
        assert_stats_agree(&g, &an);
        if format == Format::Console {
            assert_eq!(an.coverage.dumps().count(), 5);
        }
    }
}

/// One boot whose `console:` events carry no printk time: the splats and
/// the noise inside them are kernel messages all the same.
#[test]

fn tracefs_console_events_without_time_are_kernel_messages() {
    let mut cfg = one_boot(6, SIZE, Format::Tracefs);
    cfg.console_events = ConsoleEvents::NoTime;
    let (g, an) = check(&cfg);
    assert_rich(&g);
    assert_stats_agree(&g, &an);
}

#[test]
fn generation_is_deterministic() {
    for format in [Format::Console, Format::Tracefs] {
        let cfg = Config::new(11, 768 << 10, format);
        let (a, ga) = synth::generate_vec(&cfg);
        let (b, gb) = synth::generate_vec(&cfg);
        assert!(a == b && ga.anomalies == gb.anomalies);
        let (c, _) = synth::generate_vec(&Config::new(12, 768 << 10, format));
        assert_ne!(a, c);
    }
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
        && a["confidence"].is_string()
        && a["count"].as_u64() >= Some(1)
        && (1..=3).contains(&a["boot"].as_u64().unwrap_or(0))));
    assert!(list
        .iter()
        .any(|a| a["rule"] == "kernel-splat" && a["title"].is_string()));
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

/// The generator names rules by id, without depending on the library: every
/// rule it can inject must exist here, with the severity it assumes.
#[test]
fn generator_rule_ids_are_tracesift_rules() {
    for r in synth::Rule::ALL {
        let ours = rules::RuleId::from_id(r.id())
            .unwrap_or_else(|| panic!("the generator injects an unknown rule {}", r.id()));
        assert_eq!(ours.severity().name(), r.severity(), "{}", r.id());
    }
}
