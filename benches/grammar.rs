//! Grammar throughput over representative lines: the latency (dump) and
//! normal (tracefs) trace grammars, console prefix peeling, the whole
//! per-line classification and its fast lane for console dump lines. Lines come from generated captures
//! (the `tracesift-synth` crate), so the mix is the one of a real debug-patch trace.
//!
//! `cargo bench --bench grammar`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tracesift::grammar::{self, trace};
use tracesift::prefix;
use tracesift_synth::{self as synth, Config, Format};

/// The first `n` lines of a generated capture that `keep` accepts.
fn sample(format: Format, n: usize, keep: impl Fn(&[u8]) -> bool) -> Vec<Vec<u8>> {
    let mut cfg = Config::new(42, 4 << 20, format);
    cfg.cpus = 48;
    let (data, _) = synth::generate_vec(&cfg);
    data.split(|&c| c == b'\n')
        .filter(|l| keep(l))
        .take(n)
        .map(<[u8]>::to_vec)
        .collect()
}

fn bytes(lines: &[Vec<u8>]) -> u64 {
    lines.iter().map(|l| l.len() as u64 + 1).sum()
}

fn grammars(c: &mut Criterion) {
    // Console lines (all kinds), and the dump entries with their prefix peeled.
    let console = sample(Format::Console, 20_000, |l| !l.is_empty());
    let dump: Vec<Vec<u8>> = console
        .iter()
        .map(|l| prefix::peel(l).1.to_vec())
        .filter(|t| trace::latency_line(t).is_ok())
        .collect();
    let tracefs = sample(Format::Tracefs, 20_000, |l| !l.starts_with(b"#"));

    let mut g = c.benchmark_group("grammar");
    g.throughput(Throughput::Bytes(bytes(&dump)));
    g.bench_function("latency_line", |b| {
        b.iter(|| {
            for l in &dump {
                black_box(trace::latency_line(black_box(l)).is_ok());
            }
        })
    });
    g.throughput(Throughput::Bytes(bytes(&tracefs)));
    g.bench_function("normal_line", |b| {
        b.iter(|| {
            for l in &tracefs {
                black_box(trace::normal_line(black_box(l)).is_ok());
            }
        })
    });
    g.throughput(Throughput::Bytes(bytes(&console)));
    g.bench_function("prefix_peel/console", |b| {
        b.iter(|| {
            for l in &console {
                black_box(prefix::peel(black_box(l)));
            }
        })
    });
    let peeled: Vec<_> = console.iter().map(|l| prefix::peel(l)).collect();
    g.bench_function("classify/console", |b| {
        b.iter(|| {
            for (p, t) in &peeled {
                black_box(grammar::classify(black_box(t), p).class());
            }
        })
    });
    g.bench_function("console_trace/console", |b| {
        b.iter(|| {
            for l in &console {
                black_box(grammar::console_trace(black_box(l)).is_some());
            }
        })
    });
    g.throughput(Throughput::Bytes(bytes(&tracefs)));
    g.bench_function("peel_classify/tracefs", |b| {
        b.iter(|| {
            for l in &tracefs {
                let (p, t) = prefix::peel(black_box(l));
                black_box(grammar::classify(t, &p).class());
            }
        })
    });
    g.finish();
}

criterion_group!(benches, grammars);
criterion_main!(benches);
