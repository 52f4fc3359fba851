//! Whole-pipeline throughput: bytes → lines → records → [`Analysis`] →
//! rules, over a generated capture held in memory (no disk I/O), for both
//! capture formats. Set `TRACESIFT_BENCH_MB` (16 to 64 is sensible; default
//! 32) to change the buffer size.
//!
//! `cargo bench --bench pipeline`

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tracesift::correlate::{ebs::DEFAULT_MAX_LIVE, Analysis};
use tracesift::reader::{read_input, ReadOptions, RecordSink};
use tracesift::rules;
use tracesift::synth::{self, Config, Format};

fn analyse(data: &[u8]) -> usize {
    let mut an = Analysis::new(DEFAULT_MAX_LIVE);
    read_input(0, data, &ReadOptions::default(), &mut an);
    an.end_input(0).unwrap();
    an.finish();
    rules::evaluate(&an).len()
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
        // The benchmark is only meaningful if the analysis is right.
        assert_eq!(analyse(&data), generated.anomalies.len());
        g.throughput(Throughput::Bytes(data.len() as u64));
        g.bench_function(format!("report/{}/{mb}MiB", format.name()), |b| {
            b.iter(|| black_box(analyse(black_box(&data))))
        });
    }
    g.finish();
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
