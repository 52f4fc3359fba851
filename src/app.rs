//! Running a resolved [`Config`]: the glue between the driver, the
//! analysis and the reporters. Returns the exit status; I/O errors on the
//! output (a closed pipe) are returned to `main`, which ends quietly.

use std::io::{self, Write};

use crate::config::{CommandConfig, Config, ReportFormat};
use crate::correlate::Analysis;
use crate::event::Recognizer;
use crate::progress::ProgressHook;
use crate::reader::driver::{self, InputResult, NoHook, ReaderHook};
use crate::report;
use crate::rules::{self, Counts};
use crate::stats::StatsCollector;

/// The exit statuses of the contract (spec §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// Ran; nothing at or above `--fail-on` (timeline: something matched).
    Clean = 0,
    /// Ran; findings at or above `--fail-on` (timeline: nothing matched).
    Findings = 1,
    /// Trouble: usage, unreadable input, I/O error.
    Trouble = 2,
}

/// Print per-input errors as `tracesift: PATH: what happened` plus a hint.
fn report_input_errors(results: &[InputResult], err: &mut dyn Write) -> bool {
    let mut any = false;
    for r in results {
        if let Some(e) = &r.error {
            any = true;
            let name = report::sanitize::for_terminal(e.to_string().as_bytes()).into_owned();
            let _ = writeln!(err, "tracesift: {name}");
            let _ = writeln!(err, "  hint: {}", e.hint());
        }
    }
    any
}

/// Run the command; write results to `out` and diagnostics to `err`.
pub fn run(cfg: &Config, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<Status> {
    let mut bar = ProgressHook::default().ascii(!cfg.style.unicode);
    let hook: &mut dyn ReaderHook = if cfg.progress { &mut bar } else { &mut NoHook };
    match &cfg.command {
        CommandConfig::Report { format, max_live } => {
            let mut an = Analysis::new(*max_live);
            let outcome = driver::run_inputs(&cfg.inputs, &cfg.read, &mut an, hook);
            let results = &outcome.inputs[..];
            let failed = report_input_errors(results, err);
            an.finish();
            let findings = rules::evaluate(&an);
            if !cfg.quiet {
                match format {
                    ReportFormat::Json => report::json::write(out, &an, &findings, results)?,
                    ReportFormat::Markdown => {
                        report::markdown::write(out, &an, &findings, results)?
                    }
                    ReportFormat::Text => {
                        report::text::write(out, &an, &findings, results, &cfg.style)?
                    }
                }
            }
            out.flush()?;
            let hit = cfg
                .fail_on
                .is_some_and(|t| Counts::of(&findings).any_at_least(t));
            Ok(if failed {
                Status::Trouble
            } else if hit {
                Status::Findings
            } else {
                Status::Clean
            })
        }
        CommandConfig::Timeline { ebs, json } => {
            let (tl, outcome) = crate::timeline::run(&cfg.inputs, ebs, &cfg.read, hook);
            let results = &outcome.inputs[..];
            let failed = report_input_errors(results, err);
            if !cfg.quiet {
                if *json {
                    report::timeline::write_json(out, &tl, results)?;
                } else {
                    report::timeline::write_text(out, &tl, results, &cfg.style)?;
                }
            }
            out.flush()?;
            Ok(if failed {
                Status::Trouble
            } else if tl.matched() {
                Status::Clean
            } else {
                Status::Findings
            })
        }
        CommandConfig::Events { line_buffered } => {
            let mut sink =
                report::ndjson::EventWriter::new(&mut *out, *line_buffered, Recognizer::builtin());
            let outcome = driver::run_inputs(&cfg.inputs, &cfg.read, &mut sink, hook);
            let failed = report_input_errors(&outcome.inputs, err);
            if let Some(e) = outcome.sink_error {
                return Err(e);
            }
            out.flush()?;
            Ok(if failed {
                Status::Trouble
            } else {
                Status::Clean
            })
        }
        CommandConfig::Stats { json } => {
            let mut st = StatsCollector::default();
            let outcome = driver::run_inputs(&cfg.inputs, &cfg.read, &mut st, hook);
            st.finish();
            let results = &outcome.inputs[..];
            let failed = report_input_errors(results, err);
            if !cfg.quiet {
                if *json {
                    report::stats::write_json(out, &st, results)?;
                } else {
                    report::stats::write_text(out, &st, results, &cfg.style)?;
                }
            }
            out.flush()?;
            Ok(if failed {
                Status::Trouble
            } else {
                Status::Clean
            })
        }
    }
}
