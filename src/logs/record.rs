//! The record: one log event as loglens reads it, whatever the format it came in.
//!
//! A record has its own timestamp (or one inherited from the record before it, marked
//! `timestamp_inferred`), a level, the component (service) it belongs to and where that
//! name came from, the logger, thread, trace and span ids and any other fields the
//! format carried, the message of its first line and its continuation lines. Trace and
//! span ids are typed (16 and 8 bytes, as W3C trace context and OTLP carry them) so
//! records join traces by id.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};

use super::level::Level;

/// A trace id: 16 bytes, written as 32 lower-case hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TraceId(pub [u8; 16]);

/// A span id: 8 bytes, written as 16 lower-case hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SpanId(pub [u8; 8]);

/// Reads `N` bytes of hex, right-aligned (a shorter id is left-padded with zeros, as
/// OTLP does with 64-bit trace ids); all-zero ids are invalid.
fn hex_id<const N: usize>(s: &str, min_digits: usize) -> Option<[u8; N]> {
    let s = s.trim();
    let s = s.strip_prefix("0x").unwrap_or(s);
    if s.len() < min_digits || s.len() > 2 * N || !s.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = [0u8; N];
    let digits = s.as_bytes();
    for (k, &c) in digits.iter().rev().enumerate() {
        let v = (c as char).to_digit(16)? as u8;
        let byte = N - 1 - k / 2;
        out[byte] |= if k % 2 == 0 { v } else { v << 4 };
    }
    out.iter().any(|&b| b != 0).then_some(out)
}

fn write_hex(bytes: &[u8], f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    for b in bytes {
        write!(f, "{b:02x}")?;
    }
    Ok(())
}

impl TraceId {
    /// Parses 32 hex digits, or 16 (a 64-bit id, left-padded).
    pub fn parse(s: &str) -> Option<Self> {
        hex_id::<16>(s, 16).map(TraceId)
    }

    /// A decimal 64-bit trace id (as Datadog writes them).
    pub fn parse_decimal(s: &str) -> Option<Self> {
        let v: u64 = s.trim().parse().ok()?;
        let mut out = [0u8; 16];
        out[8..].copy_from_slice(&v.to_be_bytes());
        (v != 0).then_some(TraceId(out))
    }
}

impl SpanId {
    /// Parses 16 hex digits.
    pub fn parse(s: &str) -> Option<Self> {
        hex_id::<8>(s, 16).map(SpanId)
    }

    /// A decimal 64-bit span id.
    pub fn parse_decimal(s: &str) -> Option<Self> {
        let v: u64 = s.trim().parse().ok()?;
        (v != 0).then_some(SpanId(v.to_be_bytes()))
    }
}

impl std::fmt::Display for TraceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write_hex(&self.0, f)
    }
}

impl std::fmt::Display for SpanId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write_hex(&self.0, f)
    }
}

impl Serialize for TraceId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl Serialize for SpanId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Where a record's component name came from, most telling first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ComponentSource {
    /// The record's own service field (`service.name`, syslog app name, Spring's
    /// application name, a header pattern's `<Component>`).
    Field,
    /// What wraps the line: a compose or `kubectl logs --prefix` prefix, or the
    /// Kubernetes container of the file's path.
    Wrapper,
    /// The logger name, when it reads as a service name (`api`, `payment-service`).
    Logger,
    /// The file name (`payment-service.log` -> `payment-service`).
    File,
    /// Nothing names it (standard input with no service field).
    #[default]
    None,
}

/// One record.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Record {
    /// First physical line (1-based) in its source.
    pub line: u64,
    /// Physical lines it spans (continuation lines included, kept or not).
    pub lines: u32,
    /// When it happened, in UTC (RFC 3339 in JSON, with the precision it was printed
    /// with).
    #[serde(serialize_with = "serialize_time")]
    pub timestamp: Option<DateTime<Utc>>,
    /// True when the record printed no timestamp and took the one of the record before it.
    pub timestamp_inferred: bool,
    /// Severity.
    pub level: Level,
    /// True when the level came from a level field; false when inferred from words.
    pub level_explicit: bool,
    /// The service the record belongs to (shared by the records that carry it).
    #[serde(serialize_with = "serialize_name")]
    pub component: Arc<str>,
    /// Where `component` came from.
    pub component_source: ComponentSource,
    /// Logger or class name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logger: Option<String>,
    /// Thread (or goroutine, context) name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thread: Option<String>,
    /// Trace id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<TraceId>,
    /// Span id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub span_id: Option<SpanId>,
    /// Other fields the format carried (MDC values, pid, request ids, JSON attributes).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<(String, String)>,
    /// The message of the first line (the header removed).
    pub message: String,
    /// Continuation lines kept (stack traces, tracebacks, DETAIL lines).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub continuation: Vec<String>,
    /// False when the first line had no recognised header.
    pub header: bool,
}

fn serialize_name<S: Serializer>(name: &Arc<str>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(name)
}

fn serialize_time<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&super::time::rfc3339_exact(t)),
        None => s.serialize_none(),
    }
}

impl Record {
    /// The full text: message then continuation lines.
    pub fn text(&self) -> String {
        let mut s = self.message.clone();
        for c in &self.continuation {
            s.push('\n');
            s.push_str(c);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_hex_and_padded() {
        let t = TraceId::parse("4bf92f3577b34da6a3ce929d0e0e4736").expect("w3c id");
        assert_eq!(t.to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
        let short = TraceId::parse("a3ce929d0e0e4736").expect("64-bit id");
        assert_eq!(short.to_string(), "0000000000000000a3ce929d0e0e4736");
        assert_eq!(
            SpanId::parse("00F067AA0BA902B7").map(|s| s.to_string()),
            Some("00f067aa0ba902b7".into())
        );
        assert!(TraceId::parse("00000000000000000000000000000000").is_none());
        assert!(TraceId::parse("req-1234").is_none());
        assert!(TraceId::parse("abc").is_none());
        assert!(SpanId::parse("4bf92f3577b34da6a3ce929d0e0e4736").is_none());
        assert_eq!(
            TraceId::parse_decimal("1234567890").map(|t| t.to_string()),
            Some("000000000000000000000000499602d2".into())
        );
        assert_eq!(
            serde_json::to_string(&t).ok().as_deref(),
            Some("\"4bf92f3577b34da6a3ce929d0e0e4736\"")
        );
    }
}
