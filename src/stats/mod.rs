//! `tracesift stats`: how every line was read.
//!
//! [`StatsCollector`] is a [`RecordSink`] that counts each record's physical
//! lines under its [`LineClass`] (so the class counts add up to the lines
//! read), the formats and prefix layers seen, console clean-ups and repairs,
//! keeps a few unrecognised lines as samples, and feeds [`Coverage`] for the
//! per-CPU windows and the dumps.

pub mod render;

use std::collections::BTreeMap;
use std::io::{self, Write};

use crate::config::Config;
use crate::correlate::boots::Boots;
use crate::correlate::coverage::Coverage;
use crate::event::EventKind;
use crate::grammar::{Body, LineClass};
use crate::input::clean_flags;
use crate::output::{self, Status};
use crate::prefix::layer;
use crate::reader::driver::{self, ReaderHook};
use crate::reader::{Flow, RecordSink, SinkResult};
use crate::record::Record;
use crate::repair::kinds;

/// Run `stats`, as text or JSON.
pub(crate) fn command(
    cfg: &Config,
    json: bool,
    hook: &mut dyn ReaderHook,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<Status> {
    let mut st = StatsCollector::default();
    let outcome = driver::run_inputs(&cfg.inputs, &cfg.read, &mut st, hook);
    st.finish();
    let results = &outcome.inputs[..];
    let failed = output::input_errors(results, err);
    if !cfg.quiet {
        if json {
            render::write_json(out, &st, results)?;
        } else {
            render::write_text(out, &st, results, &cfg.style)?;
        }
    }
    out.flush()?;
    Ok(if failed {
        Status::Trouble
    } else {
        Status::Clean
    })
}

/// Unrecognised lines kept as samples per input.
pub(crate) const SAMPLES_PER_INPUT: usize = 5;

/// Bytes of a sample line kept.
pub(crate) const SAMPLE_BYTES: usize = 200;

/// An unrecognised line kept for the user to look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// Input index.
    pub input: u32,
    /// 1-based line number.
    pub line: u64,
    /// The line (cut to [`SAMPLE_BYTES`]).
    pub text: Vec<u8>,
}

/// Counts for one input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InputCounts {
    /// Physical lines.
    pub lines: u64,
    /// Lines per class, indexed by [`LineClass::index`].
    pub classes: [u64; LineClass::ALL.len()],
    /// Lines per format or prefix layer name.
    pub formats: BTreeMap<&'static str, u64>,
    /// Lines whose CRLF / ANSI / NUL / lone CR was cleaned.
    pub crlf: u64,
    /// Lines with ANSI escape sequences removed.
    pub ansi: u64,
    /// Lines with NUL bytes removed.
    pub nul: u64,
    /// Lines with a lone carriage return resolved.
    pub lone_cr: u64,
    /// Lines that are not valid UTF-8.
    pub invalid_utf8: u64,
    /// Lines longer than the line cap.
    pub truncated: u64,
    /// Records built by repair, per repair kind name.
    pub repaired: BTreeMap<&'static str, u64>,
    /// Physical lines that went into repaired records.
    pub repaired_lines: u64,
}

/// The `stats` sink.
#[derive(Debug, Default)]
pub struct StatsCollector {
    /// Per input, indexed by input index.
    pub inputs: Vec<InputCounts>,
    /// Unrecognised-line samples.
    pub samples: Vec<Sample>,
    /// Coverage windows and dumps.
    pub coverage: Coverage,
    /// The boots found (coverage is per boot).
    pub boots: Boots,
}

impl StatsCollector {
    /// The input is read: close the last boot's windows.
    pub fn finish(&mut self) {
        self.coverage.finish();
    }

    fn counts(&mut self, input: u32) -> &mut InputCounts {
        let i = input as usize;
        if self.inputs.len() <= i {
            self.inputs.resize_with(i + 1, InputCounts::default);
        }
        &mut self.inputs[i]
    }

    /// Total lines per class over all inputs.
    pub fn total_classes(&self) -> [u64; LineClass::ALL.len()] {
        let mut t = [0u64; LineClass::ALL.len()];
        for c in &self.inputs {
            for (k, v) in c.classes.iter().enumerate() {
                t[k] += v;
            }
        }
        t
    }

    /// Total lines over all inputs.
    pub(crate) fn total_lines(&self) -> u64 {
        self.inputs.iter().map(|c| c.lines).sum()
    }

    /// Formats over all inputs.
    pub(crate) fn total_formats(&self) -> BTreeMap<&'static str, u64> {
        let mut t = BTreeMap::new();
        for c in &self.inputs {
            for (k, v) in &c.formats {
                *t.entry(*k).or_insert(0) += v;
            }
        }
        t
    }
}

impl RecordSink for StatsCollector {
    fn end_input(&mut self, input: u32) -> SinkResult {
        self.counts(input);
        self.coverage.end_input(input);
        Ok(Flow::Continue)
    }

    fn record(&mut self, r: &Record<'_>, _: Option<EventKind<'_>>) -> SinkResult {
        let input = r.pos.input;
        let n = r.lines as u64;
        {
            let c = self.counts(input);
            c.lines += n;
            c.classes[r.class.index()] += n;
            if r.clean & clean_flags::CRLF != 0 {
                c.crlf += n;
            }
            if r.clean & clean_flags::ANSI != 0 {
                c.ansi += 1;
            }
            if r.clean & clean_flags::NUL != 0 {
                c.nul += 1;
            }
            if r.clean & clean_flags::LONE_CR != 0 {
                c.lone_cr += 1;
            }
            if r.truncated {
                c.truncated += 1;
            }
            if std::str::from_utf8(r.original).is_err() {
                c.invalid_utf8 += 1;
            }
            if r.repairs != 0 {
                c.repaired_lines += n;
                for (b, name) in kinds::NAMES.iter().enumerate() {
                    if r.repairs & (1 << b) != 0 {
                        *c.repaired.entry(name).or_insert(0) += 1;
                    }
                }
            }
            if let Body::Trace(t) = &r.body {
                *c.formats.entry(t.format.name()).or_insert(0) += n;
            }
            for b in 0..layer::NAMES.len() {
                if r.prefixes.layers & (1 << b) != 0 {
                    *c.formats.entry(layer::NAMES[b]).or_insert(0) += n;
                }
            }
        }
        if self.boots.record(r) {
            self.coverage.begin_boot(self.boots.current());
        }
        self.coverage.record(r);
        if r.class == LineClass::Unrecognized {
            let kept = self.samples.iter().filter(|s| s.input == input).count();
            if kept < SAMPLES_PER_INPUT {
                let text = &r.original[..r.original.len().min(SAMPLE_BYTES)];
                self.samples.push(Sample {
                    input,
                    line: r.pos.line,
                    text: text.to_vec(),
                });
            }
        }
        Ok(Flow::Continue)
    }
}
