//! Rules from the lifecycles that rules files declare: the facts the
//! declared tracker found ([`crate::correlate::declared`]), judged with the
//! same confidence logic as the built-in rules (`verdict.rs`): an absence
//! that a lost-events gap, the time before a CPU's window or an eviction
//! could hide is `unverifiable`.
//!
//! Their ids are namespaced (`xfs-buf/use-after-free`) and loaded at run
//! time: each distinct rule gets one [`RuleInfo`] for the life of the
//! process ([`rule_of`]).

use std::sync::{Mutex, OnceLock};

use rustc_hash::FxHashMap;

use super::finding::{Confidence, Finding, RuleId, RuleInfo, Severity, Subject};
use super::verdict::{could_hide, near_trace_start, ts_raw};
use crate::correlate::declared::{Absence, Fact};
use crate::correlate::Analysis;
use crate::spec::{Check, CheckKind, Level, Rules, MAX_PARTS};

/// The severity a rules file names.
pub(crate) fn severity(l: Level) -> Severity {
    match l {
        Level::Error => Severity::Error,
        Level::Warning => Severity::Warning,
        Level::Info => Severity::Info,
    }
}

type InfoKey = (String, Severity, String, String);

/// The rule of a declared check: one [`RuleInfo`] per distinct rule for
/// the life of the process (rules files are loaded once per run).
pub(crate) fn rule_of(c: &Check) -> RuleId {
    static INFOS: OnceLock<Mutex<FxHashMap<InfoKey, &'static RuleInfo>>> = OnceLock::new();
    let key = (
        c.id.clone(),
        severity(c.level),
        c.meaning.clone(),
        c.advice.clone(),
    );
    let map = INFOS.get_or_init(Default::default);
    let mut m = match map.lock() {
        Ok(m) => m,
        Err(poisoned) => poisoned.into_inner(),
    };
    let info = *m.entry(key).or_insert_with_key(|k| {
        Box::leak(Box::new(RuleInfo {
            id: Box::leak(k.0.clone().into_boxed_str()),
            severity: k.1,
            meaning: Box::leak(k.2.clone().into_boxed_str()),
            advice: Box::leak(k.3.clone().into_boxed_str()),
        }))
    });
    RuleId(info)
}

/// Every declared rule, in load order.
pub fn declared_rules(rules: &Rules) -> Vec<RuleId> {
    rules.checks().map(|(_, c)| rule_of(c)).collect()
}

/// A key's value as users write it.
pub(crate) fn value_text(rules: &Rules, key: usize, value: &[u64; MAX_PARTS]) -> String {
    let k = &rules.keys[key];
    if k.parts.is_empty() {
        k.format.display(value[0])
    } else {
        k.parts
            .iter()
            .zip(value)
            .map(|(&p, &v)| rules.keys[p].format.display(v))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// A message template with its placeholders filled.
fn fill(template: &str, vars: &[(&str, String)]) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        match after.find('}') {
            Some(j) => {
                let name = &after[..j];
                match vars.iter().find(|(n, _)| *n == name) {
                    Some((_, v)) => out.push_str(v),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = &after[j + 1..];
            }
            None => {
                out.push_str(&rest[i..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// How sure a fact is, from what could hide the absence it needs.
fn confidence(an: &Analysis, kind: CheckKind, f: &Fact) -> Confidence {
    let ev = &f.evidence;
    match f.absence {
        Absence::Printed => Confidence::Certain,
        Absence::Between(a, b) => {
            let (Some(x), Some(y)) = (ev.get(a), ev.get(b)) else {
                return Confidence::Likely;
            };
            let hide = could_hide(an, Some(x), y);
            match (kind, f.implicit, hide) {
                // As duplicate-read-completion: the lifetime's start not seen,
                // or a gap that could hold its end, each lowers one step.
                (CheckKind::AtMost, true, true) => Confidence::Unverifiable,
                (CheckKind::AtMost, true, false) | (CheckKind::AtMost, false, true) => {
                    Confidence::Likely
                }
                (_, _, true) => Confidence::Unverifiable,
                _ => Confidence::Certain,
            }
        }
        Absence::Before(i) => {
            let Some(x) = ev.get(i) else {
                return Confidence::Unverifiable;
            };
            if could_hide(an, None, x) || f.after_eviction || near_trace_start(an, x) {
                Confidence::Unverifiable
            } else {
                Confidence::Likely
            }
        }
        Absence::After(i) => {
            let Some(x) = ev.get(i) else {
                return Confidence::Unverifiable;
            };
            if an.coverage.could_hide(x.boot, ts_raw(x), None) {
                Confidence::Unverifiable
            } else {
                Confidence::Certain
            }
        }
    }
}

pub(super) fn evaluate(an: &Analysis, out: &mut Vec<Finding>) {
    let rules = an.declared.rules();
    for f in &an.declared.facts {
        let Some(l) = rules.lifecycles.get(f.lifecycle as usize) else {
            continue;
        };
        let Some(c) = l.checks.get(f.check as usize) else {
            continue;
        };
        let key = &rules.keys[l.key].name;
        let value = value_text(rules, l.key, &f.value);
        let mut vars: Vec<(&str, String)> = vec![("key", key.clone()), ("value", value.clone())];
        vars.extend(f.vars.iter().map(|(n, v)| (*n, v.clone())));
        if let Some(e) = c.event.and_then(|e| rules.events.get(e as usize)) {
            // at-most: the event counted, by its name in the file.
            vars.retain(|(n, _)| *n != "event");
            vars.push(("event", e.name.clone()));
        }
        let mut msg = fill(&c.message, &vars);
        if f.again > 0 {
            msg.push_str(&format!(
                "; the same {} more times for this {key} in this boot",
                f.again
            ));
        }
        let mut finding = Finding::new(
            rule_of(c),
            confidence(an, c.kind, f),
            Some(Subject::Key {
                key: key.clone(),
                value,
            }),
            msg,
            f.evidence.clone(),
        )
        .counted(1 + f.again);
        finding.severity = severity(c.level);
        out.push(finding);
    }
}

/// Facts of declared rules counted but not kept
/// ([`crate::correlate::declared::MAX_FACTS_PER_RULE`] per rule).
pub(super) fn not_kept(an: &Analysis, out: &mut Vec<(RuleId, u64)>) {
    let rules = an.declared.rules();
    for (id, n) in &an.declared.suppressed {
        if let Some((_, c)) = rules.checks().find(|(_, c)| &c.id == id) {
            out.push((rule_of(c), *n));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_fill_and_unknown_ones_stay() {
        let v = [("key", "daddr".to_string()), ("value", "0x2".to_string())];
        assert_eq!(fill("{key} {value} {nope} {", &v), "daddr 0x2 {nope} {");
    }

    #[test]
    fn one_info_per_rule() {
        let r = Rules::with_packs(&[], true).unwrap();
        let a = declared_rules(&r);
        let b = declared_rules(&r);
        assert!(!a.is_empty());
        for (x, y) in a.iter().zip(&b) {
            assert!(std::ptr::eq(x.0, y.0));
        }
        assert!(a.iter().any(|r| r.id() == "xfs-buf/held-at-end"));
    }
}
