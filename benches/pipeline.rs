//! Whole-pipeline throughput: bytes → lines → records → [`Analysis`] →
//! rules, over a generated capture held in memory (no disk I/O), for both
//! capture formats, on the generator's realistic mix (three boots, WARNING
//! floods, 2 % dmesg noise, tracefs `console:` events, mostly fresh ebs;
//! see the `tracesift-synth` crate). Set `TRACESIFT_BENCH_MB` (16 to 64 is
//! sensible; default 32) to change the buffer size.
//!
//! `cargo bench --bench pipeline`

use std::collections::BTreeSet;
use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tracesift::correlate::{ebs::DEFAULT_MAX_LIVE, Analysis};
use tracesift::reader::{read_input, ReadOptions, RecordSink};
use tracesift::rules::{self, Finding};
use tracesift_synth::{self as synth, Config, Format, Generated};

fn analyse(data: &[u8]) -> Vec<Finding> {
    let mut an = Analysis::new(DEFAULT_MAX_LIVE);
    read_input(0, data, &ReadOptions::default(), &mut an);
    an.end_input(0).unwrap();
    an.finish();
    rules::evaluate(&an)
}

/// The benchmark is only meaningful if the analysis sees what was written:
/// the eb findings name the injected (rule, eb) pairs, and the splats it
/// reports stand for the blocks printed. (The full comparison, confidences
/// and per-boot lost events included, is the integration tests' job: the
/// truth describes boot scoping, #14.)
fn assert_sees_the_truth(findings: &[Finding], g: &Generated) {
    let found: BTreeSet<(&str, u64)> = findings
        .iter()
        .filter_map(|f| f.eb().map(|eb| (f.rule.id(), eb)))
        .collect();
    let want: BTreeSet<(&str, u64)> = g
        .anomalies
        .iter()
        .filter_map(|a| a.eb.map(|eb| (a.rule.id(), eb)))
        .collect();
    assert_eq!(found, want, "eb findings");
    let splats: u64 = findings
        .iter()
        .filter(|f| f.rule.id() == "kernel-splat")
        .map(|f| f.count)
        .sum();
    assert!(splats > 0 && splats <= g.counts.splats, "{splats} splats");
}

fn pipeline(c: &mut Criterion) {
    let mb: u64 = std::env::var("TRACESIFT_BENCH_MB")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(32);
    let mut g = c.benchmark_group("pipeline");
    g.sample_size(10).measurement_time(Duration::from_secs(15));
    for format in [Format::Console, Format::Tracefs] {
        let cfg = Config::new(7, mb << 20, format);
        let (data, generated) = synth::generate_vec(&cfg);
        assert_sees_the_truth(&analyse(&data), &generated);
        g.throughput(Throughput::Bytes(data.len() as u64));
        g.bench_function(format!("report/{}/{mb}MiB", format.name()), |b| {
            b.iter(|| black_box(analyse(black_box(&data)).len()))
        });
    }
    g.finish();
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
