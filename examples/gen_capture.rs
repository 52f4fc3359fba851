//! Write a synthetic capture and the findings it must produce (a thin
//! wrapper around the `tracesift-synth` crate in `synth/`; see its docs).
//!
//! ```text
//! cargo run --release --example gen_capture -- --seed 1 --size 256M --cpus 48 \
//!     --format console --out bench-data/console-256M.txt --anomalies bench-data/console-256M.json
//! ```
//!
//! The defaults are the realistic profile (three boots, WARNING floods, 2 %
//! dmesg noise, tracefs `console:` events with and without their printk
//! time, mostly fresh ebs); `--boots 1 --console-events time` gives what a
//! tracesift without boot scoping (#14) can already read. `tracesift report
//! --json FILE` must then list the findings in the `anomalies` array of the
//! JSON file: the same (rule, eb, severity, confidence) multiset, and for
//! `kernel-splat` the same summed `count` per title.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use tracesift_synth::{self as synth, Config, ConsoleEvents, Format};

/// Generate a synthetic kernel trace capture with known anomalies.
#[derive(Debug, Parser)]
#[command(name = "gen_capture")]
struct Args {
    /// Seed (same seed and options: byte-identical output)
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Target size: 4096, 512K, 64M, 1G
    #[arg(long, default_value = "64M", value_parser = synth::parse_size)]
    size: u64,
    /// CPUs of the traced machine
    #[arg(long, default_value_t = 48)]
    cpus: u32,
    /// `console` (serial console with an ftrace dump per boot) or `tracefs` (`trace` files)
    #[arg(long, default_value = "console", value_parser = parse_format)]
    format: Format,
    /// Output file (`-` for stdout)
    #[arg(long)]
    out: PathBuf,
    /// Where to write the injected anomalies as JSON
    #[arg(long)]
    anomalies: Option<PathBuf>,
    /// No lost events (no LOST markers, no overrun header)
    #[arg(long)]
    no_lost_events: bool,
    /// Boots in the capture (1 to 64)
    #[arg(long, default_value_t = 3)]
    boots: u32,
    /// Tracefs kernel messages as `console:` events: none, time, no-time, mixed
    #[arg(long, default_value = "mixed", value_parser = parse_console_events)]
    console_events: ConsoleEvents,
    /// WARNING splat blocks in floods per GiB (default: a real capture's rate)
    #[arg(long, default_value_t = synth::SPLATS_PER_GIB)]
    splats_per_gib: u64,
    /// Dmesg noise lines per thousand lines
    #[arg(long, default_value_t = 20)]
    noise_permille: u32,
    /// Percent of lifetimes that re-allocate an eb used before (the rest take a fresh one)
    #[arg(long, default_value_t = 25)]
    realloc_pct: u32,
}

fn parse_format(s: &str) -> Result<Format, String> {
    Format::parse(s).ok_or_else(|| format!("'{s}' is not a format (console, tracefs)"))
}

fn parse_console_events(s: &str) -> Result<ConsoleEvents, String> {
    ConsoleEvents::parse(s).ok_or_else(|| format!("'{s}' is not one of none, time, no-time, mixed"))
}

fn run(args: &Args) -> io::Result<()> {
    let mut cfg = Config::new(args.seed, args.size, args.format);
    cfg.cpus = args.cpus;
    cfg.lost_events = !args.no_lost_events;
    cfg.boots = args.boots;
    cfg.console_events = args.console_events;
    cfg.noise_permille = args.noise_permille;
    cfg.realloc_pct = args.realloc_pct;
    cfg.plan.flood_splats = synth::AnomalyPlan::floods_for(args.size, args.splats_per_gib);
    let start = Instant::now();
    let out: Box<dyn Write> = if args.out.as_os_str() == "-" {
        Box::new(io::stdout().lock())
    } else {
        Box::new(File::create(&args.out)?)
    };
    let generated = synth::generate(&cfg, BufWriter::with_capacity(1 << 20, out))?;
    let secs = start.elapsed().as_secs_f64();
    if let Some(path) = &args.anomalies {
        let mut f = BufWriter::new(File::create(path)?);
        generated.write_json(&mut f)?;
        writeln!(f)?;
        f.flush()?;
    }
    let c = &generated.counts;
    let pct = |n: u64| 100.0 * n as f64 / c.lines.max(1) as f64;
    eprintln!(
        "gen_capture: {} bytes, {} lines in {} boots in {:.2} s ({:.0} MB/s): \
         {:.1} % with eb= ({} distinct ebs, {} lifetimes, {} re-allocations, \
         {} insert races, {} clones), {} splats ({:.1} % of lines), {:.1} % noise; \
         {} findings expected",
        c.bytes,
        c.lines,
        c.boots,
        secs,
        c.bytes as f64 / 1e6 / secs.max(1e-9),
        pct(c.eb_lines),
        c.distinct_ebs,
        c.lifetimes,
        c.reallocations,
        c.insert_races,
        c.clones,
        c.splats,
        pct(c.splat_lines),
        pct(c.noise_lines),
        generated.anomalies.len()
    );
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gen_capture: {e}");
            ExitCode::from(2)
        }
    }
}
