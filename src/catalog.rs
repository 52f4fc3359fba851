//! `tracesift rules`: every rule there is (the built-in ones, the built-in
//! packs', those of `--rules` files) with the keys and events the rules
//! files declare; `--check FILE` validates one file and says what it
//! declares.

use std::io::{self, Write};

use crate::config::Config;
use crate::output::sanitize::for_terminal;
use crate::output::Status;
use crate::rules::{self, lifecycle};
use crate::spec::{Matcher, NameFilter, Rules, Text};

/// Run `rules`: list, or check `check`.
pub(crate) fn command(
    cfg: &Config,
    check: Option<&str>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<Status> {
    if let Some(path) = check {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                writeln!(err, "tracesift: {path}: cannot read the rules file: {e}")?;
                return Ok(Status::Trouble);
            }
        };
        let file = Text {
            name: path.to_string(),
            text,
            builtin: false,
        };
        // The packs come along: a file may use their keys.
        let r = match Rules::with_packs(&[file], true) {
            Ok(r) => r,
            Err(e) => {
                writeln!(err, "tracesift: {e}")?;
                return Ok(Status::Trouble);
            }
        };
        if !cfg.quiet {
            let n = |f: &dyn Fn(usize) -> bool, len: usize| (0..len).filter(|&i| f(i)).count();
            let keys = n(&|i| r.keys[i].source == 0, r.keys.len());
            let events = n(
                &|i| r.events[i].source == 0 && !r.events[i].implicit,
                r.events.len(),
            );
            let lcs = n(&|i| r.lifecycles[i].source == 0, r.lifecycles.len());
            let checks = r.checks().filter(|(l, _)| l.source == 0).count();
            writeln!(
                out,
                "{}: ok: {keys} key{}, {events} event{}, {lcs} lifecycle{}, {checks} rule{}",
                for_terminal(path.as_bytes()),
                plural(keys),
                plural(events),
                plural(lcs),
                plural(checks)
            )?;
            write_declared(out, &r, Some(0))?;
        }
        out.flush()?;
        return Ok(Status::Clean);
    }
    if !cfg.quiet {
        writeln!(out, "Built-in rules:")?;
        for r in rules::BUILTIN {
            writeln!(
                out,
                "  {:<34} {:<8} {}",
                r.id(),
                r.severity().name(),
                r.meaning()
            )?;
        }
        write_declared(out, &cfg.rules, None)?;
    }
    out.flush()?;
    Ok(Status::Clean)
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The declared rules, keys and events of every file (or of file `only`).
fn write_declared(out: &mut dyn Write, r: &Rules, only: Option<usize>) -> io::Result<()> {
    for (si, src) in r.sources.iter().enumerate() {
        if only.is_some_and(|o| o != si) {
            continue;
        }
        let name = for_terminal(src.name.as_bytes());
        writeln!(out)?;
        if src.about.is_empty() {
            writeln!(out, "{name}:")?;
        } else {
            writeln!(out, "{name}: {}", for_terminal(src.about.as_bytes()))?;
        }
        let mut any = false;
        for (l, c) in r.checks().filter(|(l, _)| l.source == si) {
            if !any {
                writeln!(out, "  rules:")?;
                any = true;
            }
            let rule = lifecycle::rule_of(c);
            let key = &r.keys[l.key].name;
            writeln!(
                out,
                "    {:<32} {:<8} {} ({}, key {key}): {}",
                for_terminal(rule.id().as_bytes()),
                rule.severity().name(),
                c.kind.name(),
                for_terminal(l.name.as_bytes()),
                for_terminal(c.meaning.as_bytes())
            )?;
        }
        let keys: Vec<_> = r.keys.iter().filter(|k| k.source == si).collect();
        if !keys.is_empty() {
            writeln!(out, "  keys:")?;
        }
        for k in keys {
            let how = if !k.parts.is_empty() {
                let parts: Vec<&str> = k.parts.iter().map(|&p| r.keys[p].name.as_str()).collect();
                format!("({})", parts.join(", "))
            } else {
                let mut fields: Vec<String> = k
                    .fields
                    .iter()
                    .map(|f| String::from_utf8_lossy(f).into_owned())
                    .collect();
                if k.any {
                    fields.push("any field".into());
                }
                format!("{}, fields {}", k.format.name(), fields.join(" "))
            };
            writeln!(
                out,
                "    {:<16} {}{}",
                for_terminal(k.name.as_bytes()),
                for_terminal(how.as_bytes()),
                if k.about.is_empty() {
                    String::new()
                } else {
                    format!(": {}", for_terminal(k.about.as_bytes()))
                }
            )?;
        }
        let events: Vec<_> = r
            .events
            .iter()
            .filter(|e| e.source == si && !e.implicit)
            .collect();
        if !events.is_empty() {
            writeln!(out, "  events:")?;
        }
        for e in events {
            let what = match &e.matcher {
                Matcher::Trace { names, pattern } => {
                    let n = match names {
                        NameFilter::Exact(n) => String::from_utf8_lossy(n).into_owned(),
                        NameFilter::Prefix(p) => format!("{}*", String::from_utf8_lossy(p)),
                        NameFilter::Suffix(p) => format!("*{}", String::from_utf8_lossy(p)),
                        NameFilter::Contains(p) => format!("*{}*", String::from_utf8_lossy(p)),
                        NameFilter::Any => "*".into(),
                    };
                    if pattern.is_some() {
                        format!("trace event {n}, with a pattern")
                    } else {
                        format!("trace event {n}")
                    }
                }
                Matcher::Message { .. } => "kernel message".into(),
            };
            writeln!(
                out,
                "    {:<28} {}",
                for_terminal(e.name.as_bytes()),
                for_terminal(what.as_bytes())
            )?;
        }
    }
    Ok(())
}
