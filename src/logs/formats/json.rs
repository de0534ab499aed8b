//! JSON lines: one object per line. The usual field names of each family are read,
//! flat (`log.level`) or nested (`{"log":{"level":…}}`):
//!
//! - time: `@timestamp`, `time`, `timestamp`, `ts`, `t` (MongoDB's `{"$date":…}`),
//!   log4j2's `instant`/`timeMillis`, journald's `__REALTIME_TIMESTAMP`, Kubernetes
//!   events' `lastTimestamp`; epoch numbers in any unit;
//! - level: strings, pino/bunyan numbers (10-60), syslog severities (`PRIORITY`,
//!   GELF), OpenTelemetry severity numbers, MongoDB's `s`, Kubernetes events' `type`;
//! - message, service (`service.name`, `SYSLOG_IDENTIFIER`, bunyan's `name`…), logger,
//!   thread, trace and span ids; other scalar fields are kept.
//!
//! Docker's json-file lines (`{"log":"…\n","stream":…,"time":…}`) wrap another line,
//! which is parsed again by the line formats.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::fields::{self, Key};
use super::{parse_inner, Parsed};
use crate::logs::level::Level;

type Obj = Map<String, Value>;

const TIME: &[&str] = &[
    "@timestamp",
    "timestamp",
    "time",
    "ts",
    "@t",
    "t",
    "datetime",
    "date",
    "eventTime",
    "lastTimestamp",
    "firstTimestamp",
    "timeMillis",
    "__REALTIME_TIMESTAMP",
    "asctime",
    "created",
];
const LEVEL: &[&str] = &[
    "level",
    "log.level",
    "severity",
    "lvl",
    "levelname",
    "loglevel",
    "log_level",
    "@l",
    "severity_text",
    "SeverityText",
];
const MESSAGE: &[&str] = &[
    "msg",
    "message",
    "MESSAGE",
    "@m",
    "@mt",
    "text",
    "event",
    "short_message",
    "body",
    "Body",
    "log",
];
const SERVICE: &[&str] = &[
    "service.name",
    "service",
    "serviceName",
    "service_name",
    "resource.service.name",
    "app",
    "application",
    "app_name",
    "kubernetes.container_name",
    "container_name",
    "SYSLOG_IDENTIFIER",
];
const LOGGER: &[&str] = &[
    "log.logger",
    "logger",
    "logger_name",
    "loggerName",
    "caller",
    "c",
    "module",
];
const THREAD: &[&str] = &[
    "process.thread.name",
    "thread",
    "thread_name",
    "threadName",
    "ctx",
];
const TRACE: &[&str] = &[
    "trace.id",
    "trace_id",
    "traceId",
    "traceID",
    "traceid",
    "otelTraceID",
    "dd.trace_id",
    "logging.googleapis.com/trace",
];
const SPAN: &[&str] = &[
    "span.id",
    "span_id",
    "spanId",
    "spanID",
    "otelSpanID",
    "dd.span_id",
    "logging.googleapis.com/spanId",
];

/// Most other fields kept per record.
const MAX_FIELDS: usize = 24;

pub(super) fn parse(line: &str) -> Option<Parsed<'static>> {
    let t = line.trim();
    if !t.starts_with('{') || !t.ends_with('}') {
        return None;
    }
    let map: Obj = serde_json::from_str(t).ok()?;
    if let Some(p) = docker(&map) {
        return Some(p);
    }
    let mut used: Vec<&str> = Vec::new();
    let mut p = Parsed {
        header: true,
        ..Default::default()
    };
    p.timestamp = time(&map, &mut used).map(Cow::Owned);
    let message = first(&map, MESSAGE, &mut used).unwrap_or_else(|| t.to_string());
    let message = super::with_error(
        Cow::Owned(message),
        error_text(&map),
        super::PEER_FIELDS
            .iter()
            .find_map(|k| lookup(&map, k).and_then(scalar)),
    )
    .into_owned();
    p.service = service(&map, &mut used).map(Cow::Owned);
    p.logger = first(&map, LOGGER, &mut used).map(Cow::Owned);
    p.thread = first(&map, THREAD, &mut used).map(Cow::Owned);
    for (keys, kind) in [(TRACE, "trace_id"), (SPAN, "span_id")] {
        if let Some((k, v)) = first_with_key(&map, keys, &mut used) {
            let key: Cow<'static, str> = if k.starts_with("dd.") {
                Cow::Owned(k.to_string())
            } else {
                Cow::Borrowed(kind)
            };
            fields::apply_owned(&mut p, key, Cow::Owned(v));
        }
    }
    let level = level(&map, &mut used);
    p.message = Cow::Owned(message);
    match level {
        Some(l) => {
            p.level = l;
            p.explicit_level = true;
        }
        None => p.level = crate::logs::level::infer_level(&p.message),
    }
    keep_fields(&map, &used, &mut p);
    Some(p)
}

/// The error a record reports in its own field: a string, or an object's `message`.
fn error_text(map: &Obj) -> Option<String> {
    super::ERROR_FIELDS
        .iter()
        .find_map(|k| match lookup(map, k)? {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Object(o) => o.get("message").and_then(Value::as_str).map(str::to_string),
            _ => None,
        })
}

/// A value at a dotted path: the flat key first, then nested objects.
fn lookup<'m>(map: &'m Obj, path: &str) -> Option<&'m Value> {
    if let Some(v) = map.get(path) {
        return Some(v);
    }
    let (head, rest) = path.split_once('.')?;
    match map.get(head)? {
        Value::Object(inner) => lookup(inner, rest),
        _ => None,
    }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn first_with_key<'k>(
    map: &Obj,
    keys: &[&'k str],
    used: &mut Vec<&'k str>,
) -> Option<(&'k str, String)> {
    for k in keys {
        if let Some(v) = lookup(map, k).and_then(scalar) {
            used.push(k);
            return Some((k, v));
        }
    }
    None
}

fn first<'k>(map: &Obj, keys: &[&'k str], used: &mut Vec<&'k str>) -> Option<String> {
    first_with_key(map, keys, used).map(|(_, v)| v)
}

/// The timestamp as text the time scanner reads (epoch numbers as digits).
fn time(map: &Obj, used: &mut Vec<&str>) -> Option<String> {
    for k in TIME {
        let Some(v) = lookup(map, k) else { continue };
        let text = match v {
            // MongoDB: {"$date": "…"} or {"$date": {"$numberLong": "…"}}.
            Value::Object(o) => o.get("$date").and_then(|d| match d {
                Value::Object(n) => n.get("$numberLong").and_then(scalar),
                other => scalar(other),
            }),
            other => scalar(other),
        };
        if let Some(t) = text {
            used.push(k);
            return Some(t);
        }
    }
    // log4j2's JsonLayout: {"instant":{"epochSecond":…,"nanoOfSecond":…}}.
    let instant = lookup(map, "instant")?;
    let secs = instant.get("epochSecond")?.as_u64()?;
    let nanos = instant
        .get("nanoOfSecond")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    used.push("instant");
    Some(format!("{secs}.{nanos:09}"))
}

/// The level: a word, or a number read by the field's convention.
fn level(map: &Obj, used: &mut Vec<&str>) -> Option<Level> {
    for k in LEVEL {
        match lookup(map, k) {
            Some(Value::String(s)) => {
                if let Some(l) = Level::parse(s)
                    .or_else(|| s.parse().ok().and_then(|n| Level::from_number(n, false)))
                {
                    used.push(k);
                    return Some(l);
                }
            }
            Some(Value::Number(n)) => {
                if let Some(l) = n.as_i64().and_then(|n| Level::from_number(n, false)) {
                    used.push(k);
                    return Some(l);
                }
            }
            _ => {}
        }
    }
    if let Some(n) = lookup(map, "severity_number")
        .or_else(|| lookup(map, "SeverityNumber"))
        .and_then(Value::as_i64)
    {
        return Level::from_number(n, true);
    }
    if let Some(n) = lookup(map, "levelno").and_then(Value::as_i64) {
        // Python's numeric levels.
        return Some(match n {
            ..=9 => Level::Trace,
            10..=19 => Level::Debug,
            20..=29 => Level::Info,
            30..=39 => Level::Warn,
            40..=49 => Level::Error,
            _ => Level::Critical,
        });
    }
    if let Some(p) = lookup(map, "PRIORITY")
        .and_then(scalar)
        .and_then(|s| s.parse::<u8>().ok())
    {
        used.push("PRIORITY");
        return Some(Level::from_syslog_severity(p));
    }
    // MongoDB: "s": F, E, W, I, D1…D5.
    if map.contains_key("t") {
        if let Some(Value::String(s)) = map.get("s") {
            let l = match s.as_str() {
                "F" => Some(Level::Critical),
                "E" => Some(Level::Error),
                "W" => Some(Level::Warn),
                "I" => Some(Level::Info),
                d if d.starts_with('D') => Some(Level::Debug),
                _ => None,
            };
            if l.is_some() {
                used.push("s");
                return l;
            }
        }
    }
    // Kubernetes events: "type": Normal or Warning.
    if map.get("kind").and_then(Value::as_str) == Some("Event") {
        return match map.get("type").and_then(Value::as_str) {
            Some("Warning") => Some(Level::Warn),
            Some("Normal") => Some(Level::Info),
            _ => None,
        };
    }
    None
}

/// The service: a service field, the unit of a journald entry, the object of a
/// Kubernetes event, bunyan's `name` (a dotted `name` is a Python logger instead).
fn service(map: &Obj, used: &mut Vec<&str>) -> Option<String> {
    if let Some(s) = first(map, SERVICE, used) {
        return Some(s);
    }
    if let Some(unit) = lookup(map, "_SYSTEMD_UNIT").and_then(scalar) {
        used.push("_SYSTEMD_UNIT");
        return Some(unit.trim_end_matches(".service").to_string());
    }
    if map.get("kind").and_then(Value::as_str) == Some("Event") {
        return lookup(map, "involvedObject.name").and_then(scalar);
    }
    match map.get("name").and_then(scalar) {
        Some(n) if !n.contains('.') && n != "root" && n != "__main__" => {
            used.push("name");
            Some(n)
        }
        _ => None,
    }
}

/// Keeps the other scalar fields (bounded), ids among them.
fn keep_fields(map: &Obj, used: &[&str], p: &mut Parsed<'static>) {
    for (k, v) in map {
        if p.fields.len() >= MAX_FIELDS {
            break;
        }
        if used
            .iter()
            .any(|u| u == k || u.split('.').next() == Some(k.as_str()))
        {
            continue;
        }
        if k == "name" && p.logger.is_none() {
            if let Some(n) = scalar(v) {
                p.logger = Some(Cow::Owned(n));
                continue;
            }
        }
        let Some(value) = scalar(v).or_else(|| v.as_bool().map(|b| b.to_string())) else {
            continue;
        };
        if matches!(fields::classify(k), Key::Trace | Key::Span) {
            continue;
        }
        p.fields.push((Cow::Owned(k.clone()), Cow::Owned(value)));
    }
}

/// Docker's json-file driver: `{"log":"line\n","stream":"stderr","time":"…"}`. The
/// inner line is parsed again; Docker's time is used when it has none.
fn docker(map: &Obj) -> Option<Parsed<'static>> {
    let log = map.get("log")?.as_str()?;
    if !map.contains_key("stream") || map.contains_key("level") || map.contains_key("msg") {
        return None;
    }
    let inner = log.strip_suffix('\n').unwrap_or(log);
    let inner = inner.strip_suffix('\r').unwrap_or(inner);
    let mut p = parse_inner(inner).into_owned();
    if p.timestamp.as_deref().is_none_or(super::yearless) {
        if let Some(t) = map.get("time").and_then(scalar) {
            p.timestamp = Some(Cow::Owned(t));
        }
    }
    let tag = lookup(map, "attrs.tag").or_else(|| lookup(map, "attrs.name"));
    if let Some(tag) = tag.and_then(scalar) {
        p.wrapper = Some(Cow::Owned(tag));
    }
    // A line the runtime split (no newline at its end) goes on in the next entry.
    p.partial = !log.ends_with('\n');
    p.wrapped = true;
    Some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn j(line: &str) -> Parsed<'static> {
        parse(line).unwrap_or_else(|| panic!("json: {line}"))
    }

    #[test]
    fn common_fields() {
        let p = j(
            r#"{"@timestamp":"2025-11-03T20:36:40Z","log.level":"ERROR","message":"db down","service.name":"api","trace.id":"4bf92f3577b34da6a3ce929d0e0e4736","user":"u1"}"#,
        );
        assert_eq!(p.level, Level::Error);
        assert_eq!(p.message, "db down");
        assert_eq!(p.service.as_deref(), Some("api"));
        assert!(p.trace_id.is_some());
        assert_eq!(p.fields, vec![(Cow::Borrowed("user"), Cow::Borrowed("u1"))]);
        assert!(parse("{not json").is_none());
        assert!(parse("[1,2]").is_none());
    }

    #[test]
    fn nested_and_numeric() {
        let p = j(
            r#"{"@timestamp":"2025-11-03T20:36:40Z","log":{"level":"WARN","logger":"c.e.Foo"},"service":{"name":"orders"},"message":"slow"}"#,
        );
        assert_eq!(
            (p.level, p.service.as_deref()),
            (Level::Warn, Some("orders"))
        );
        assert_eq!(p.logger.as_deref(), Some("c.e.Foo"));
        let p = j(
            r#"{"level":50,"time":1762202200123,"pid":1,"hostname":"h","name":"checkout","msg":"payment failed"}"#,
        );
        assert_eq!(
            (p.level, p.service.as_deref()),
            (Level::Error, Some("checkout"))
        );
        assert_eq!(p.timestamp.as_deref(), Some("1762202200123"));
        let p = j(
            r#"{"t":{"$date":"2025-11-03T20:36:40.123+00:00"},"s":"W","c":"NETWORK","id":1,"ctx":"conn12","msg":"slow query"}"#,
        );
        assert_eq!(
            (p.level, p.logger.as_deref()),
            (Level::Warn, Some("NETWORK"))
        );
        assert_eq!(p.thread.as_deref(), Some("conn12"));
        let p = j(
            r#"{"__REALTIME_TIMESTAMP":"1762202200123456","PRIORITY":"3","SYSLOG_IDENTIFIER":"kubelet","MESSAGE":"failed"}"#,
        );
        assert_eq!(
            (p.level, p.service.as_deref()),
            (Level::Error, Some("kubelet"))
        );
    }

    #[test]
    fn docker_wraps_a_line() {
        let p = j(
            r#"{"log":"2025-11-03 20:36:37,123 - app - ERROR - boom\n","stream":"stderr","time":"2025-11-03T20:36:37.1Z"}"#,
        );
        assert_eq!((p.level, p.message.as_ref()), (Level::Error, "boom"));
        assert!(p.header);
        let p = j(
            r#"{"log":"  File \"x.py\", line 1\n","stream":"stderr","time":"2025-11-03T20:36:37.2Z"}"#,
        );
        assert!(!p.header);
    }
}
