//! Running a resolved [`Config`]: each command's code lives under its own
//! name ([`crate::report`], [`crate::timeline`], [`crate::events`],
//! [`crate::stats`], [`crate::export`]); this only picks it and the progress bar. Returns the
//! exit status; I/O errors on the output (a closed pipe) are returned to
//! `main`, which ends quietly.

use std::io::{self, Write};

use crate::config::{CommandConfig, Config};
use crate::progress::ProgressHook;
use crate::reader::driver::{NoHook, ReaderHook};

pub use crate::output::Status;

/// Run the command; write results to `out` and diagnostics to `err`.
pub fn run(cfg: &Config, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<Status> {
    let mut bar = ProgressHook::default().ascii(!cfg.style.unicode);
    let hook: &mut dyn ReaderHook = if cfg.progress { &mut bar } else { &mut NoHook };
    match &cfg.command {
        CommandConfig::Report {
            format,
            max_live,
            each: Some(walk),
        } => crate::report::each::command(cfg, *format, *max_live, *walk, out, err),
        CommandConfig::Report {
            format,
            max_live,
            each: None,
        } => crate::report::command(cfg, *format, *max_live, hook, out, err),
        CommandConfig::Timeline { ebs, json } => {
            crate::timeline::command(cfg, ebs, *json, hook, out, err)
        }
        CommandConfig::Events { line_buffered } => {
            crate::events::command(cfg, *line_buffered, hook, out, err)
        }
        CommandConfig::Stats { json } => crate::stats::command(cfg, *json, hook, out, err),
        CommandConfig::Export {
            format,
            select,
            output,
        } => crate::export::command(cfg, *format, *select, output.as_deref(), hook, out, err),
    }
}
