//! Write a synthetic capture and the anomalies it contains (a thin wrapper
//! around the `tracesift-synth` crate in `synth/`; see its docs).
//!
//! ```text
//! cargo run --release --example gen_capture -- --seed 1 --size 256M --cpus 48 \
//!     --format console --out bench-data/console-256M.txt --anomalies bench-data/console-256M.json
//! ```
//!
//! `tracesift report --json FILE` must then list exactly the findings in the
//! `anomalies` array of the JSON file (rule, eb, severity, confidence).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use tracesift_synth::{self as synth, Config, Format};

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
    /// `console` (serial console with an ftrace dump) or `tracefs` (a `trace` file)
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
}

fn parse_format(s: &str) -> Result<Format, String> {
    Format::parse(s).ok_or_else(|| format!("'{s}' is not a format (console, tracefs)"))
}

fn run(args: &Args) -> io::Result<()> {
    let mut cfg = Config::new(args.seed, args.size, args.format);
    cfg.cpus = args.cpus;
    cfg.lost_events = !args.no_lost_events;
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
    eprintln!(
        "gen_capture: {} bytes, {} lines ({} trace entries) in {:.2} s ({:.0} MB/s); \
         {} lifetimes, {} re-allocations, {} insert races, {} discards, {} clones; {} anomalies",
        c.bytes,
        c.lines,
        c.entries,
        secs,
        c.bytes as f64 / 1e6 / secs.max(1e-9),
        c.lifetimes,
        c.reallocations,
        c.insert_races,
        c.discards,
        c.clones,
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
