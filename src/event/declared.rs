//! Declared recognisers: the events a rules file describes
//! ([`crate::spec`]), found in trace lines and kernel messages on the
//! reader's worker threads like the built-in ones.
//!
//! A trace line is tried only when its event name passes the rules' quick
//! test ([`Rules::may_read_trace`]: first byte and length), so the lines
//! no rule names cost a table lookup. A matching line becomes an
//! [`EventKind::Declared`](super::EventKind::Declared) carrying a [`Hit`]:
//! the event's id and the values of the fields its lifecycles read,
//! parsed here (no allocation but the pattern's captures, for the lines
//! that match a pattern).

use regex::bytes::{Captures, Regex};

use super::fields::{self, Field};
use crate::spec::{EventDef, Format, KeyDef, Matcher, Rules, SlotKind, MAX_PARTS, MAX_SLOTS};

/// A declared event found in a line: which one, and its field values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// The event (index in [`Rules::events`]).
    pub event: u16,
    /// Bit `i` set: slot `i` has a value.
    pub set: u8,
    /// The values of the event's slots ([`crate::spec::EventDef::slots`]);
    /// signed counts as two's complement.
    pub vals: [u64; MAX_SLOTS],
}

impl Hit {
    /// The value of slot `i`, if the line had it.
    pub(crate) fn get(&self, i: u8) -> Option<u64> {
        (usize::from(i) < MAX_SLOTS && self.set & (1 << i) != 0).then(|| self.vals[i as usize])
    }
}

/// The declared event a trace event `name: payload` is, if any: the first
/// in load order whose name filter and pattern it passes (exact names
/// before globs).
pub(crate) fn trace_hit(rules: &Rules, name: &[u8], payload: &[u8]) -> Option<Hit> {
    if !rules.may_read_trace(name) {
        return None;
    }
    for &id in rules.exact_events(name) {
        if let Some(h) = try_event(rules, id, payload) {
            return Some(h);
        }
    }
    for &id in rules.glob_events() {
        let e = &rules.events[id as usize];
        if let Matcher::Trace { names, .. } = &e.matcher {
            if names.matches(name) {
                if let Some(h) = try_event(rules, id, payload) {
                    return Some(h);
                }
            }
        }
    }
    None
}

/// The declared event a kernel message is, if any.
pub(crate) fn message_hit(rules: &Rules, msg: &[u8]) -> Option<Hit> {
    if !rules.may_read_message(msg) {
        return None;
    }
    for &id in rules.message_events() {
        let e = &rules.events[id as usize];
        let Matcher::Message { pattern, anchor } = &e.matcher else {
            continue;
        };
        if !anchor.is_empty() && memchr::memmem::find(msg, anchor).is_none() {
            continue;
        }
        if let Some(c) = pattern.captures(msg) {
            return Some(fill(e, id, msg, Some(&c)));
        }
    }
    None
}

/// Event `id` on a trace payload: its pattern must match, if it has one.
fn try_event(rules: &Rules, id: u16, payload: &[u8]) -> Option<Hit> {
    let e = &rules.events[id as usize];
    match &e.matcher {
        Matcher::Trace {
            pattern: Some(p), ..
        } => {
            let c = p.captures(payload)?;
            Some(fill(e, id, payload, Some(&c)))
        }
        Matcher::Trace { pattern: None, .. } => Some(fill(e, id, payload, None)),
        Matcher::Message { .. } => None,
    }
}

/// Read a slot's value from a field value.
fn read(kind: SlotKind, any: bool, v: &[u8]) -> Option<u64> {
    match kind {
        SlotKind::Key(Format::Pointer) if any => {
            pointer_shaped(v).then(|| Format::Pointer.parse(v))?
        }
        SlotKind::Key(f) => f.parse(v),
        SlotKind::Signed => fields::signed_number(v).map(|n| n as u64),
        SlotKind::Raw => Some(crate::spec::raw_value(v)),
    }
}

/// A kernel pointer as `%px`/`%p` print it: 16 hex digits, maybe after `0x`.
pub(crate) fn pointer_shaped(v: &[u8]) -> bool {
    let h = v.strip_prefix(b"0x").unwrap_or(v);
    h.len() == 16 && h.iter().all(u8::is_ascii_hexdigit)
}

/// The hit of event `e` on `text`, its slots filled from the pattern's
/// captures or, failing that, from the text's fields.
fn fill(e: &EventDef, id: u16, text: &[u8], caps: Option<&Captures<'_>>) -> Hit {
    let mut h = Hit {
        event: id,
        set: 0,
        vals: [0; MAX_SLOTS],
    };
    let mut want = 0u8;
    for (i, s) in e.slots.iter().enumerate() {
        let from_cap = e
            .groups
            .get(i)
            .copied()
            .flatten()
            .and_then(|g| caps.and_then(|c| c.get(g)))
            .and_then(|m| read(s.kind, s.any, fields::trim_value(m.as_bytes())));
        match from_cap {
            Some(v) => {
                h.vals[i] = v;
                h.set |= 1 << i;
            }
            None => want |= 1 << i,
        }
    }
    if want == 0 {
        return h;
    }
    for f in fields::fields(text) {
        for (i, s) in e.slots.iter().enumerate() {
            if want & (1 << i) == 0 {
                continue;
            }
            let named = !f.name.is_empty() && s.names.iter().any(|n| n[..] == *f.name);
            if named || s.any {
                if let Some(v) = read(s.kind, s.any && !named, f.value) {
                    h.vals[i] = v;
                    h.set |= 1 << i;
                    want &= !(1 << i);
                }
            }
        }
        if want == 0 {
            break;
        }
    }
    h
}

/// One key value found in a line ([`key_values`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KeyValue {
    /// The key (index in [`Rules::keys`]).
    pub key: usize,
    /// Its value (the parts of a composite key, in order).
    pub parts: [u64; MAX_PARTS],
    /// How many parts.
    pub n: u8,
    /// A range key's length, when the line gives one.
    pub len: Option<u64>,
}

impl KeyValue {
    /// The value as users write it: `0x851c80`, `252:18,0x851c80`.
    pub(crate) fn display(&self, rules: &Rules) -> String {
        let k = &rules.keys[self.key];
        if k.parts.is_empty() {
            let mut s = k.format.display(self.parts[0]);
            if let Some(l) = self.len {
                s.push_str(&format!("+{l}"));
            }
            s
        } else {
            k.parts
                .iter()
                .zip(self.parts)
                .map(|(&p, v)| rules.keys[p].format.display(v))
                .collect::<Vec<_>>()
                .join(",")
        }
    }
}

/// Every key value a line names: from the fields of `text` (a trace
/// payload or a kernel message) under the keys' field names, from the
/// event's aliases and captures when the line is declared event `event`,
/// and the composite keys whose parts are all there. For `events` and
/// `timeline`, on the lines they keep (this allocates).
pub(crate) fn key_values(rules: &Rules, event: Option<u16>, text: &[u8]) -> Vec<KeyValue> {
    let mut out: Vec<KeyValue> = Vec::new();
    let push = |key: usize, v: u64, len: Option<u64>, out: &mut Vec<KeyValue>| {
        let kv = KeyValue {
            key,
            parts: [v, 0, 0],
            n: 1,
            len,
        };
        if !out.contains(&kv) {
            out.push(kv);
        }
    };
    let ev = event.and_then(|e| rules.events.get(e as usize));
    // Captures named after a key.
    let pattern: Option<&Regex> = ev.and_then(|e| match &e.matcher {
        Matcher::Trace { pattern, .. } => pattern.as_ref(),
        Matcher::Message { pattern, .. } => Some(pattern),
    });
    if let (Some(p), Some(e)) = (pattern, ev) {
        if let Some(c) = p.captures(text) {
            for name in p.capture_names().flatten() {
                let Some(m) = c.name(name) else { continue };
                let v = fields::trim_value(m.as_bytes());
                let keys = keys_for_name(rules, e, name.as_bytes());
                for k in keys {
                    let def = &rules.keys[k];
                    if let Some(x) = def.format.parse(v) {
                        // A range's length: a capture, or a field, of its name.
                        let len = def
                            .len
                            .iter()
                            .find_map(|n| {
                                let n = std::str::from_utf8(n).ok()?;
                                let m = c.name(n)?;
                                Format::Dec.parse(fields::trim_value(m.as_bytes()))
                            })
                            .or_else(|| {
                                let all: Vec<Field<'_>> = fields::fields(text).collect();
                                range_len(def, &all)
                            });
                        push(k, x, len, &mut out);
                    }
                }
            }
        }
    }
    let aliases = ev.map_or(&[][..], |e| &e.aliases[..]);
    let mut all: Option<Vec<Field<'_>>> = None;
    for f in fields::fields(text) {
        let named = if f.name.is_empty() {
            &[][..]
        } else {
            rules.keys_of_field(f.name)
        };
        let aliased = aliases.iter().filter(|a| a.0[..] == *f.name).map(|a| a.1);
        let any = rules
            .any_field_keys()
            .iter()
            .copied()
            .filter(|&k| rules.keys[k].format != Format::Pointer || pointer_shaped(f.value));
        for k in named.iter().copied().chain(aliased).chain(any) {
            let def = &rules.keys[k];
            let Some(v) = def.format.parse(f.value) else {
                continue;
            };
            let len = if def.is_range() {
                let all = all.get_or_insert_with(|| fields::fields(text).collect());
                range_len(def, all)
            } else {
                None
            };
            push(k, v, len, &mut out);
        }
    }
    // Composite keys: the first value of each part.
    for (k, def) in rules.keys.iter().enumerate() {
        if def.parts.is_empty() || def.parts.len() > MAX_PARTS {
            continue;
        }
        let mut kv = KeyValue {
            key: k,
            parts: [0; MAX_PARTS],
            n: def.parts.len() as u8,
            len: None,
        };
        let mut ok = true;
        for (i, p) in def.parts.iter().enumerate() {
            match out.iter().find(|x| x.key == *p) {
                Some(x) => kv.parts[i] = x.parts[0],
                None => ok = false,
            }
        }
        if ok && !out.contains(&kv) {
            out.push(kv);
        }
    }
    out
}

/// The keys a capture or field called `name` fills in event `e`.
fn keys_for_name(rules: &Rules, e: &EventDef, name: &[u8]) -> Vec<usize> {
    let mut v: Vec<usize> = rules
        .keys
        .iter()
        .enumerate()
        .filter(|(_, k)| {
            k.parts.is_empty()
                && (k.name.as_bytes() == name || k.fields.iter().any(|f| f[..] == *name))
        })
        .map(|(i, _)| i)
        .collect();
    v.extend(e.aliases.iter().filter(|a| a.0[..] == *name).map(|a| a.1));
    v.sort_unstable();
    v.dedup();
    v
}

/// A range key's length among a line's fields.
fn range_len(def: &KeyDef, all: &[Field<'_>]) -> Option<u64> {
    if def.len.is_empty() {
        return None;
    }
    all.iter()
        .find(|f| def.len.iter().any(|n| n[..] == *f.name))
        .and_then(|f| Format::Dec.parse(f.value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Rules {
        Rules::with_packs(&[], true).unwrap()
    }

    #[test]
    fn xfs_tracepoints_are_declared_events() {
        let r = rules();
        let h = trace_hit(
            &r,
            b"xfs_buf_hold",
            b"dev 252:18 daddr 0x2 bbcount 0x1 hold 1 pincount 0 lock 0 flags READ|KMEM bufops xfs_agi_buf_ops+0x0 caller __xfs_buf_submit+0x4c",
        )
        .expect("an xfs_buf event");
        let e = &r.events[h.event as usize];
        assert_eq!(e.name, "xfs_buf_*");
        let (lc, b) = r.by_event[h.event as usize][0];
        let b = r.lifecycles[lc as usize].bindings[b as usize];
        assert_eq!(h.get(b.parts[0]), Some((252 << 20) | 18));
        assert_eq!(h.get(b.parts[1]), Some(2));
        assert_eq!(h.get(b.count.unwrap()), Some(1));
        assert!(trace_hit(&r, b"alloc_extent_buffer", b"alloc eb=1 len=2").is_none());
        assert!(trace_hit(&r, b"sched_switch", b"prev_comm=a").is_none());
    }

    #[test]
    fn messages_and_keys() {
        let r = rules();
        let msg: &[u8] = b"XFS (pmem1): metadata I/O error in \"xlog_recover_items_pass2+0x52/0xc0\" at daddr 0x851c80 len 32 error 117";
        let h = message_hit(&r, msg).expect("xfs message");
        assert_eq!(r.events[h.event as usize].name, "xfs-metadata-io-error");
        let kv = key_values(&r, Some(h.event), msg);
        let daddr = r.keys_named("daddr").next().unwrap().0;
        assert!(
            kv.iter().any(|k| k.key == daddr && k.parts[0] == 0x851c80),
            "{kv:?}"
        );
        let corrupt: &[u8] = b"XFS (pmem1): Metadata corruption detected at xfs_inode_buf_verify+0x180/0x190, xfs_inode block 0x851c80 xfs_inode_buf_verify";
        let h = message_hit(&r, corrupt).unwrap();
        let kv = key_values(&r, Some(h.event), corrupt);
        assert!(
            kv.iter().any(|k| k.key == daddr && k.parts[0] == 0x851c80),
            "{kv:?}"
        );
        let kv = key_values(
            &r,
            None,
            b"dev 259:1 daddr 0x851c80 bbcount 0x20 hold 16 pincount 0 lock 0",
        );
        let buf = r.keys_named("xfs-buf").next().unwrap().0;
        let c = kv.iter().find(|k| k.key == buf).expect("composite");
        assert_eq!(c.display(&r), "259:1,0x851c80");
        let ptr = r.keys_named("ptr").next().unwrap().0;
        let kv = key_values(
            &r,
            None,
            b"found device with bdev: ffff888114e14400 fs_info: ffff888110f2a000",
        );
        assert_eq!(kv.iter().filter(|k| k.key == ptr).count(), 2);
    }
}
