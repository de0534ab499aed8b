//! JSON lines: one object per line, with the usual field names for time, level,
//! message, service and trace ids.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::Parsed;

const TIME: &[&str] = &["time", "timestamp", "ts", "@timestamp", "t", "datetime"];
const LEVEL: &[&str] = &[
    "level",
    "severity",
    "lvl",
    "log.level",
    "levelname",
    "loglevel",
];
const MESSAGE: &[&str] = &["msg", "message", "log", "event", "text"];
const COMPONENT: &[&str] = &[
    "service",
    "logger",
    "component",
    "service.name",
    "name",
    "app",
];
const TRACE: &[&str] = &["trace_id", "traceId", "trace.id", "traceid"];

pub(super) fn parse(line: &str) -> Option<Parsed<'static>> {
    let t = line.trim();
    if !t.starts_with('{') {
        return None;
    }
    let map: Map<String, Value> = serde_json::from_str(t).ok()?;
    let get = |keys: &[&str]| -> Option<String> {
        keys.iter().find_map(|k| match map.get(*k)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
    };
    let mut message = get(MESSAGE).unwrap_or_else(|| {
        // No message field: the remaining fields, compactly, are the message.
        t.to_string()
    });
    // The error a record carries in its own field (a string, or an object with a
    // message) belongs to what it says.
    let err = super::ERROR_FIELDS.iter().find_map(|k| match map.get(*k)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Object(o) => o.get("message").and_then(Value::as_str).map(str::to_string),
        _ => None,
    });
    if let Some(err) = err.filter(|e| !message.contains(e.as_str())) {
        message = format!("{message}: {err}");
        if let Some(peer) = get(super::PEER_FIELDS).filter(|p| !message.contains(p.as_str())) {
            message = format!("{message} (upstream {peer})");
        }
    }
    let level = get(LEVEL);
    Some(
        Parsed {
            timestamp: get(TIME).map(Cow::Owned),
            component: get(COMPONENT).map(Cow::Owned),
            trace_id: get(TRACE).map(Cow::Owned),
            message: Cow::Owned(message),
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
    fn fields() {
        let p = parse(r#"{"@timestamp":"2025-11-03T20:36:40Z","severity":"ERROR","message":"db down","service":"api","trace_id":"abc"}"#)
            .expect("json line");
        assert_eq!(p.level, Level::Error);
        assert_eq!(p.message, "db down");
        assert_eq!(p.component.as_deref(), Some("api"));
        assert_eq!(p.trace_id.as_deref(), Some("abc"));
        assert!(parse("{not json").is_none());
        assert!(parse("[1,2]").is_none());
    }
}
