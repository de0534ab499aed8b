//! logfmt: `time=... level=warn msg="disk almost full" service=api`.

use std::borrow::Cow;

use super::Parsed;

/// Splits logfmt pairs; values may be double-quoted with `\"` escapes.
fn pairs(line: &str) -> Vec<(&str, Cow<'_, str>)> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let ks = i;
        while i < b.len() && b[i] != b'=' && !b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= b.len() || b[i] != b'=' || i == ks {
            // A bare word: not logfmt.
            return Vec::new();
        }
        let key = &line[ks..i];
        i += 1;
        if i < b.len() && b[i] == b'"' {
            i += 1;
            let vs = i;
            let mut escaped = false;
            while i < b.len() && (b[i] != b'"' || b[i - 1] == b'\\') {
                escaped |= b[i] == b'\\';
                i += 1;
            }
            let raw = &line[vs..i.min(b.len())];
            let value = if escaped {
                Cow::Owned(raw.replace("\\\"", "\"").replace("\\\\", "\\"))
            } else {
                Cow::Borrowed(raw)
            };
            out.push((key, value));
            i += 1;
        } else {
            let vs = i;
            while i < b.len() && !b[i].is_ascii_whitespace() {
                i += 1;
            }
            out.push((key, Cow::Borrowed(&line[vs..i])));
        }
    }
    out
}

pub(super) fn parse(line: &str) -> Option<Parsed<'_>> {
    let kv = pairs(line);
    let find = |keys: &[&str]| {
        kv.iter()
            .find(|(k, _)| keys.contains(k))
            .map(|(_, v)| v.clone())
    };
    let mut message = find(&["msg", "message"])?;
    // The error a record carries in its own field belongs to what it says.
    if let Some(err) = find(super::ERROR_FIELDS).filter(|e| !e.is_empty()) {
        message = Cow::Owned(format!("{message}: {err}"));
        if let Some(peer) = find(super::PEER_FIELDS).filter(|p| !message.contains(p.as_ref())) {
            message = Cow::Owned(format!("{message} (upstream {peer})"));
        }
    }
    let level = find(&["level", "lvl", "severity"]);
    Some(
        Parsed {
            timestamp: find(&["time", "ts", "timestamp", "t"]),
            component: find(&["service", "logger", "component", "app", "module"]),
            trace_id: find(&["trace_id", "traceID", "trace"]),
            message,
            header: true,
            ..Default::default()
        }
        .with_level(level.as_deref()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::level::Level;

    #[test]
    fn pairs_with_quotes() {
        let p = parse(r#"time=2025-11-03T20:36:40Z level=warn msg="disk \"a\" full" service=api"#)
            .expect("logfmt");
        assert_eq!(p.level, Level::Warn);
        assert_eq!(p.message, "disk \"a\" full");
        assert_eq!(p.component.as_deref(), Some("api"));
        assert!(parse("plain words here").is_none());
        assert!(parse("a=1 b=2").is_none());
    }
}
