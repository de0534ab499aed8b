//! Bracketed groups in a text header (`[main]`, `[ERROR]`, `[traceId=…]`, `{logger}`):
//! what each holds, read by its shape, and the bracket that closes one.

use std::borrow::Cow;

use super::set_level;
use crate::logs::formats::fields::{self, looks_like_logger, strip_line_number};
use crate::logs::formats::Parsed;
use crate::logs::level::Level;
use crate::logs::time::{scan_timestamp, TimeContext};

/// What a bracketed group turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Group {
    Empty,
    Level,
    Time,
    Ids,
    Fields,
    Logger,
    Plain,
}

/// Reverts a group read after the logger that turns out to be message text.
pub(super) fn undo_group(p: &mut Parsed<'_>, kind: Group, plain: &mut Vec<&str>) {
    match kind {
        Group::Plain => {
            plain.pop();
        }
        Group::Level => {
            p.explicit_level = false;
            p.level = Level::Info;
        }
        Group::Logger => p.logger = None,
        _ => {}
    }
}

/// Reads a bracketed group's content into `p`.
pub(super) fn group<'a>(
    p: &mut Parsed<'a>,
    content: &'a str,
    open: u8,
    plain: &mut Vec<&'a str>,
) -> Group {
    let c = content.trim();
    if c.bytes()
        .all(|x| matches!(x, b'-' | b',' | b'_' | b' ' | b'/'))
    {
        return Group::Empty;
    }
    if open == b'{' {
        if looks_like_logger(c) && p.logger.is_none() {
            p.logger = Some(Cow::Borrowed(strip_line_number(c)));
            return Group::Logger;
        }
        p.fields.push((Cow::Borrowed("group"), Cow::Borrowed(c)));
        return Group::Fields;
    }
    if let Some(kind) = level_group(p, c) {
        return kind;
    }
    if !p.explicit_level && p.timestamp.is_none() {
        if let Some((end, _)) = scan_timestamp(c, &TimeContext::probe()) {
            p.timestamp = Some(Cow::Borrowed(&c[..end]));
            let rest = c[end..].trim().trim_start_matches('#');
            if !rest.is_empty() {
                p.fields.push((Cow::Borrowed("pid"), Cow::Borrowed(rest)));
            }
            return Group::Time;
        }
    }
    if ids_group(p, c) {
        return Group::Ids;
    }
    if c.contains('=') {
        kv_group(p, c);
        return Group::Fields;
    }
    if let Some(kind) = pid_group(p, c) {
        return kind;
    }
    if let Some(at) = c.rfind('@') {
        // `thread:Class@line` (log4j's `[%t:%C{1}@%L]`).
        let line_no = &c[at + 1..];
        if !line_no.is_empty() && line_no.bytes().all(|x| x.is_ascii_digit()) {
            let head = &c[..at];
            let (thread, class) = head.rsplit_once(':').unwrap_or(("", head));
            if !thread.is_empty() {
                p.thread = Some(Cow::Borrowed(thread));
            }
            p.logger = Some(Cow::Borrowed(class));
            return Group::Logger;
        }
    }
    if let Some((k, v)) = c.split_once(':') {
        // `[myid:1]`: one short key:value.
        if !k.is_empty()
            && k.bytes().all(|x| x.is_ascii_alphabetic())
            && !v.is_empty()
            && !v.contains(' ')
            && v.len() <= 24
        {
            p.fields.push((Cow::Borrowed(k), Cow::Borrowed(v)));
            return Group::Fields;
        }
    }
    if !c.contains(' ') && (c.contains('.') || c.contains('/')) && looks_like_logger(c) {
        if p.logger.is_none() {
            p.logger = Some(Cow::Borrowed(strip_line_number(c)));
        }
        return Group::Logger;
    }
    if c.contains(' ') {
        // `[KafkaServer id=1]`, `[client 10.0.0.1:5000]`: context, not a name.
        p.fields.push((Cow::Borrowed("context"), Cow::Borrowed(c)));
        return Group::Fields;
    }
    plain.push(c);
    Group::Plain
}

/// `[ERROR]`, `[WARN ]`, Apache's `[proxy:error]`.
fn level_group<'a>(p: &mut Parsed<'a>, c: &'a str) -> Option<Group> {
    if p.explicit_level {
        return None;
    }
    if let Some(level) = Level::parse(c).filter(|_| c.len() > 1) {
        set_level(p, level);
        return Some(Group::Level);
    }
    let (module, word) = c.rsplit_once(':')?;
    let level = Level::parse(word).filter(|_| word.len() > 1 && !module.contains(' '))?;
    set_level(p, level);
    if !module.is_empty() {
        // A module of the server (Apache's `core`, `proxy`), not a logger of the app.
        p.fields
            .push((Cow::Borrowed("module"), Cow::Borrowed(module)));
    }
    Some(Group::Level)
}

/// Trace and span ids: `[4bf9…4736-00f0…02b7]`, `[4bf9…,00f0…]`, Sleuth's
/// `[app,trace,span,true]`.
fn ids_group<'a>(p: &mut Parsed<'a>, c: &'a str) -> bool {
    use crate::logs::record::{SpanId, TraceId};
    let is_hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|x| x.is_ascii_hexdigit());
    let parts: Vec<&str> = c
        .split([',', '-', ' ', '/'])
        .filter(|s| !s.is_empty())
        .collect();
    let (app, ids) = match parts.first() {
        Some(first) if !is_hex(first, 32) && !is_hex(first, 16) && parts.len() >= 3 => {
            (Some(*first), &parts[1..])
        }
        _ => (None, &parts[..]),
    };
    let trace = match ids.first() {
        Some(t) if is_hex(t, 32) || is_hex(t, 16) => TraceId::parse(t),
        _ => None,
    };
    let Some(trace) = trace else { return false };
    let span = ids
        .get(1)
        .filter(|s| is_hex(s, 16))
        .and_then(|s| SpanId::parse(s));
    if ids.len() > 1 && span.is_none() {
        return false;
    }
    if ids.len() > 3 || (ids.len() == 3 && !matches!(ids[2], "true" | "false")) {
        return false;
    }
    p.trace_id = Some(trace);
    p.span_id = span;
    if let Some(app) = app {
        if p.service.is_none() {
            p.service = Some(Cow::Borrowed(app));
        }
    }
    true
}

/// `[traceId=… spanId=…]`, `[trace_id=…, user=…]`: key=value pairs.
fn kv_group<'a>(p: &mut Parsed<'a>, c: &'a str) {
    let mut any = false;
    for part in c.split([' ', ',']).filter(|s| !s.is_empty()) {
        match part.split_once('=') {
            Some((k, v)) if !k.is_empty() => {
                fields::apply(p, k, Cow::Borrowed(v.trim_matches('"')));
                any = true;
            }
            _ => {}
        }
    }
    if !any || !c.split([' ', ',']).next().is_some_and(|w| w.contains('=')) {
        p.fields.push((Cow::Borrowed("context"), Cow::Borrowed(c)));
    }
}

/// `[12]`, `[pid 1234:tid 140]`.
fn pid_group<'a>(p: &mut Parsed<'a>, c: &'a str) -> Option<Group> {
    if c.bytes().all(|x| x.is_ascii_digit()) {
        let key = if p.fields.iter().any(|(k, _)| k == "pid") {
            "tid"
        } else {
            "pid"
        };
        p.fields.push((Cow::Borrowed(key), Cow::Borrowed(c)));
        return Some(Group::Fields);
    }
    let rest = c.strip_prefix("pid ")?;
    let (pid, tid) = match rest.split_once(":tid ") {
        Some((a, t)) => (a, Some(t)),
        None => (rest, None),
    };
    p.fields.push((Cow::Borrowed("pid"), Cow::Borrowed(pid)));
    if let Some(t) = tid {
        p.fields.push((Cow::Borrowed("tid"), Cow::Borrowed(t)));
    }
    Some(Group::Fields)
}

/// Spring prints `--- [app] [thread]`: after the dashes two plain groups are the
/// application (a service name) and the thread; one is the thread.
pub(super) fn resolve_plain<'a>(p: &mut Parsed<'a>, plain: &[&'a str], after_dashes: bool) {
    let mut rest = plain;
    if after_dashes && plain.len() >= 2 && p.service.is_none() {
        p.service = Some(Cow::Borrowed(plain[0]));
        rest = &plain[1..];
    }
    for (k, v) in rest.iter().enumerate() {
        if k == 0 && p.thread.is_none() {
            p.thread = Some(Cow::Borrowed(v));
        } else {
            p.fields.push((Cow::Borrowed("context"), Cow::Borrowed(v)));
        }
    }
}

/// The index of the bracket closing the one at `open`, counting nested ones.
pub(super) fn matching(b: &[u8], open: usize) -> Option<usize> {
    let (o, c) = match b[open] {
        b'[' => (b'[', b']'),
        b'{' => (b'{', b'}'),
        _ => return None,
    };
    let mut depth = 0usize;
    for (i, &x) in b.iter().enumerate().skip(open).take(512) {
        if x == o {
            depth += 1;
        } else if x == c {
            depth -= 1;
            if depth == 0 {
                return Some(i);
            }
        }
    }
    None
}
