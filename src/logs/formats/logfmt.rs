//! logfmt: `time=... level=warn msg="disk almost full" service=api` (logrus and
//! containerd's text format, Go's slog `TextHandler`, Heroku-style logs).

use std::borrow::Cow;

use super::fields::{self, Key};
use super::Parsed;
use crate::logs::level::Level;

/// Splits logfmt pairs; values may be double-quoted with `\"` escapes. Empty when a
/// word is not a pair (the line is not logfmt).
fn pairs(line: &str) -> Vec<(&str, Cow<'_, str>)> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let ks = i;
        while i < b.len() && b[i] != b'=' && !b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= b.len() || b[i] != b'=' || i == ks {
            return Vec::new();
        }
        let key = &line[ks..i];
        i += 1;
        if i < b.len() && b[i] == b'"' {
            i += 1;
            let vs = i;
            let mut escaped = false;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' {
                    escaped = true;
                    i += 1;
                }
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

/// slog writes levels between the named ones as `INFO+2`, `ERROR-4`.
fn level_of(text: &str) -> Option<Level> {
    Level::parse(text).or_else(|| {
        let base = text.split(['+', '-']).next()?;
        Level::parse(base)
    })
}

pub(super) fn parse(line: &str) -> Option<Parsed<'_>> {
    if !line.contains('=') {
        return None;
    }
    let kv = pairs(line);
    let mut p = Parsed {
        header: true,
        ..Default::default()
    };
    let find = |keys: &[&str]| {
        kv.iter()
            .find(|(k, v)| keys.contains(k) && !v.is_empty())
            .map(|(_, v)| v.to_string())
    };
    let (err, peer) = (find(super::ERROR_FIELDS), find(super::PEER_FIELDS));
    let (mut message, mut level, mut time) = (None, None, None);
    for (k, v) in kv {
        match fields::classify(k) {
            Key::Message if message.is_none() => message = Some(v),
            Key::Level if level.is_none() => level = Some(v),
            Key::Time if time.is_none() => time = Some(v),
            _ => fields::apply(&mut p, k, v),
        }
    }
    // A message, or at least a time and a level: `a=1 b=2` alone is data, not a log.
    if message.is_none() && (level.is_none() || time.is_none()) {
        return None;
    }
    p.timestamp = time;
    p.message = super::with_error(message.unwrap_or(Cow::Borrowed("")), err, peer);
    match level.as_deref().and_then(level_of) {
        Some(l) => {
            p.level = l;
            p.explicit_level = true;
        }
        None => p.level = crate::logs::level::infer_level(&p.message),
    }
    Some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_with_quotes() {
        let p = parse(r#"time=2025-11-03T20:36:40Z level=warn msg="disk \"a\" full" service=api trace_id=4bf92f3577b34da6a3ce929d0e0e4736"#)
            .expect("logfmt");
        assert_eq!(p.level, Level::Warn);
        assert_eq!(p.message, "disk \"a\" full");
        assert_eq!(p.service.as_deref(), Some("api"));
        assert!(p.trace_id.is_some());
        assert!(parse("plain words here").is_none());
        assert!(parse("a=1 b=2").is_none());
        let p = parse(r#"time=2025-11-03T20:36:40Z level=ERROR-4 msg=x"#).expect("slog");
        assert_eq!(p.level, Level::Error);
    }
}
