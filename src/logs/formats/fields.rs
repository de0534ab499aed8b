//! What a field means, by its key or its shape, shared by every format: trace and span
//! ids, service, logger and thread keys (logfmt, JSON, `[key=value]` MDC groups), a
//! trailing JSON object of fields (zap console, winston), and what reads as a logger.

use std::borrow::Cow;

use super::Parsed;
use crate::logs::record::{SpanId, TraceId};

/// The meaning of a field key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Key {
    Time,
    Level,
    Message,
    Service,
    Logger,
    Thread,
    Trace,
    Span,
    Other,
}

/// Classifies a key as logfmt, JSON and MDC writers name them (case-insensitive, `_`,
/// `.` and `-` ignored: `trace_id`, `traceId`, `trace.id` and `X-B3-TraceId` alike).
pub(crate) fn classify(key: &str) -> Key {
    let mut buf = [0u8; 24];
    let mut n = 0;
    for c in key.bytes() {
        if matches!(c, b'_' | b'.' | b'-' | b'@') {
            continue;
        }
        if n == buf.len() {
            return Key::Other;
        }
        buf[n] = c.to_ascii_lowercase();
        n += 1;
    }
    match &buf[..n] {
        b"time" | b"timestamp" | b"ts" | b"datetime" | b"t" | b"date" | b"asctime" => Key::Time,
        b"level" | b"lvl" | b"severity" | b"loglevel" | b"levelname" | b"severitytext" | b"l" => {
            Key::Level
        }
        b"msg" | b"message" | b"m" | b"mt" => Key::Message,
        b"service" | b"servicename" | b"svc" | b"app" | b"application" | b"appname" => Key::Service,
        b"logger" | b"loggername" | b"loglogger" | b"logname" | b"caller" | b"module" => {
            Key::Logger
        }
        b"thread" | b"threadname" | b"processthreadname" | b"goroutine" | b"ctx" => Key::Thread,
        b"traceid" | b"trace" | b"ddtraceid" | b"xb3traceid" | b"oteltraceid" | b"awstraceid" => {
            Key::Trace
        }
        b"spanid" | b"span" | b"ddspanid" | b"xb3spanid" | b"otelspanid" => Key::Span,
        _ => Key::Other,
    }
}

/// Sets a trace or span id from its text (hex, or decimal for Datadog's keys); an id
/// that is neither stays a plain field. Returns false when `key` is not an id key.
pub(crate) fn set_id<'a>(p: &mut Parsed<'a>, key: &'a str, value: Cow<'a, str>) -> bool {
    let decimal = key.starts_with("dd.");
    match classify(key) {
        Key::Trace => {
            let id = if decimal {
                TraceId::parse_decimal(&value)
            } else {
                TraceId::parse(trace_text(&value))
            };
            match id {
                Some(t) => p.trace_id = Some(t),
                None => p.fields.push((Cow::Borrowed(key), value)),
            }
            true
        }
        Key::Span => {
            let id = if decimal {
                SpanId::parse_decimal(&value)
            } else {
                SpanId::parse(&value)
            };
            match id {
                Some(s) => p.span_id = Some(s),
                None => p.fields.push((Cow::Borrowed(key), value)),
            }
            true
        }
        _ => false,
    }
}

/// The hex part of trace ids written with a prefix (`projects/p/traces/<hex>`,
/// `Root=1-5759e988-bd862e3fe1be46a994272793`).
fn trace_text(v: &str) -> &str {
    let v = v.rsplit('/').next().unwrap_or(v);
    let v = v.strip_prefix("Root=").unwrap_or(v);
    if let Some(rest) = v.strip_prefix("1-") {
        // AWS X-Ray: 1-<8 hex time>-<24 hex>: the 32 digits without the dash.
        if rest.len() == 33 && rest.as_bytes()[8] == b'-' {
            return rest;
        }
    }
    v
}

/// Applies one `key=value` field with its meaning: ids, service, logger, thread; the
/// rest is kept as a field.
pub(crate) fn apply<'a>(p: &mut Parsed<'a>, key: &'a str, value: Cow<'a, str>) {
    if value.is_empty() {
        return;
    }
    if set_id(p, key, value.clone()) {
        return;
    }
    match classify(key) {
        Key::Service if p.service.is_none() => p.service = Some(value),
        Key::Logger if p.logger.is_none() => p.logger = Some(value),
        Key::Thread if p.thread.is_none() => p.thread = Some(value),
        _ => p.fields.push((Cow::Borrowed(key), value)),
    }
}

/// A trailing JSON object of fields after a message (zap console, winston's simple
/// format): its keys are applied and it is cut from the message.
pub(crate) fn trailing_json<'a>(p: &mut Parsed<'a>, message: &'a str) -> &'a str {
    let m = message.trim_end();
    if !m.ends_with('}') {
        return message;
    }
    let Some(open) = m.find(" {").or_else(|| m.find("\t{")) else {
        return message;
    };
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str(&m[open + 1..]) else {
        return message;
    };
    for (k, v) in map {
        let value = match v {
            serde_json::Value::String(s) => s,
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::Bool(b) => b.to_string(),
            _ => continue,
        };
        let key: Cow<'a, str> = Cow::Owned(k);
        apply_owned(p, key, Cow::Owned(value));
    }
    m[..open].trim_end()
}

/// [`apply`] for keys that are not borrowed from the line.
pub(crate) fn apply_owned<'a>(p: &mut Parsed<'a>, key: Cow<'a, str>, value: Cow<'a, str>) {
    if value.is_empty() {
        return;
    }
    let decimal = key.starts_with("dd.");
    match classify(&key) {
        Key::Trace => match if decimal {
            TraceId::parse_decimal(&value)
        } else {
            TraceId::parse(trace_text(&value))
        } {
            Some(t) => p.trace_id = Some(t),
            None => p.fields.push((key, value)),
        },
        Key::Span => match if decimal {
            SpanId::parse_decimal(&value)
        } else {
            SpanId::parse(&value)
        } {
            Some(s) => p.span_id = Some(s),
            None => p.fields.push((key, value)),
        },
        Key::Service if p.service.is_none() => p.service = Some(value),
        Key::Logger if p.logger.is_none() => p.logger = Some(value),
        Key::Thread if p.thread.is_none() => p.thread = Some(value),
        _ => p.fields.push((key, value)),
    }
}

/// Whether a token reads as a logger or class name: `com.example.Foo`, `o.s.b.App`,
/// `dfs.DataNode$PacketResponder`, `NativeCodeLoader`, `plugin/errors`, `main.go:42`,
/// `feature_api`, `api`. Capitalised English words (`Failed`, `Starting`) are not.
pub(crate) fn looks_like_logger(tok: &str) -> bool {
    let b = tok.as_bytes();
    if b.is_empty() || b.len() > 160 {
        return false;
    }
    if !(b[0].is_ascii_alphanumeric() || b[0] == b'_' || b[0] == b'$') {
        return false;
    }
    let allowed = |c: u8| c.is_ascii_alphanumeric() || b"._$/:@#<>-".contains(&c);
    if !b.iter().all(|&c| allowed(c)) {
        return false;
    }
    if b.iter().any(|c| b"._$/".contains(c)) || (b.contains(&b'-') && b.len() > 2) {
        return true;
    }
    let upper = b.iter().filter(|c| c.is_ascii_uppercase()).count();
    let lower = b.iter().filter(|c| c.is_ascii_lowercase()).count();
    // CamelCase class names, or all lower-case names.
    (upper >= 2 && lower >= 1 && b[0].is_ascii_uppercase()) || (upper == 0 && lower >= 2)
}

/// Whether a logger name reads as the name of a service: lower-case words joined by `-`
/// or `_` (`payment-service`, `feature_api`), as services are named. Single words
/// (`agent`, `db`, `http`) name a part of a program as often as a service, and classes,
/// modules, files and library loggers (`com.x.Foo`, `NativeCodeLoader`, `main.go`,
/// `uvicorn.error`) never do.
pub fn names_service(logger: &str) -> bool {
    let b = logger.as_bytes();
    if b.len() < 3 || b.len() > 64 || !b[0].is_ascii_lowercase() {
        return false;
    }
    if !b
        .iter()
        .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'_')
    {
        return false;
    }
    let words = logger.split(['-', '_']).filter(|w| !w.is_empty()).count();
    words >= 2 && !logger.starts_with("__")
}

/// Strips a source line number from a logger (`OrderService:88`, `main.go:42`).
pub(crate) fn strip_line_number(logger: &str) -> &str {
    match logger.rsplit_once(':') {
        Some((name, n))
            if !name.is_empty() && !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit()) =>
        {
            name
        }
        _ => logger,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_by_meaning() {
        assert_eq!(classify("traceId"), Key::Trace);
        assert_eq!(classify("trace.id"), Key::Trace);
        assert_eq!(classify("X-B3-SpanId"), Key::Span);
        assert_eq!(classify("service.name"), Key::Service);
        assert_eq!(classify("log.logger"), Key::Logger);
        assert_eq!(classify("logger_name"), Key::Logger);
        assert_eq!(classify("user_id"), Key::Other);
    }

    #[test]
    fn loggers_and_services() {
        for l in [
            "com.example.Foo",
            "o.s.b.App",
            "NativeCodeLoader",
            "plugin/errors",
            "main.go:42",
            "feature_api",
            "api",
        ] {
            assert!(looks_like_logger(l), "{l}");
        }
        for w in ["Failed", "Starting", "\"quoted\"", "a b", "x"] {
            assert!(!looks_like_logger(w), "{w}");
        }
        assert!(names_service("payment-service"));
        assert!(names_service("feature_api"));
        assert!(!names_service("agent"));
        assert!(!names_service("__main__"));
        assert!(!names_service("uvicorn.error"));
        assert!(!names_service("NativeCodeLoader"));
        assert!(!names_service("root"));
        assert_eq!(strip_line_number("OrderService:88"), "OrderService");
        assert_eq!(strip_line_number("a:b"), "a:b");
    }

    #[test]
    fn trailing_fields() {
        let mut p = Parsed::default();
        let m = trailing_json(
            &mut p,
            r#"payment failed {"service":"billing","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","amount":3}"#,
        );
        assert_eq!(m, "payment failed");
        assert_eq!(p.service.as_deref(), Some("billing"));
        assert!(p.trace_id.is_some());
        assert_eq!(p.fields.len(), 1);
    }
}
