//! OTLP trace decoding shared by `analyze --traces` and the live receiver: OTLP/JSON
//! (`ExportTraceServiceRequest` / `TracesData`, as the OTel Collector's file exporter and
//! OTLP/HTTP write it: one document, or one document per line) and OTLP protobuf.
//!
//! Decoding streams: a JSON document is walked resource by resource and span by span
//! (never held whole), and a protobuf body is read one `ResourceSpans` at a time, so a
//! file of a million spans costs the memory of one resource's spans at most. Each span is
//! handed to a sink as a [`SpanRecord`] that borrows from the decoded message and carries
//! the semantic-convention attributes RCA needs (service, instance, peer, status).

use std::fmt;
use std::io::{BufRead, Read};

use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, Span};
use prost::Message;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::RcaError;

/// The role of a span, from OTLP's `SpanKind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanKind {
    /// Work inside one service.
    Internal,
    /// The handling of a request from a caller.
    Server,
    /// A request to another service or system.
    Client,
    /// A message sent to a broker.
    Producer,
    /// A message received from a broker.
    Consumer,
}

impl SpanKind {
    fn from_otlp(kind: i32) -> Self {
        match kind {
            2 => SpanKind::Server,
            3 => SpanKind::Client,
            4 => SpanKind::Producer,
            5 => SpanKind::Consumer,
            _ => SpanKind::Internal,
        }
    }

    /// Whether the span calls out of its service (client or producer).
    pub fn is_outgoing(self) -> bool {
        matches!(self, SpanKind::Client | SpanKind::Producer)
    }
}

/// What a span's peer is, from the attributes that named it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PeerKind {
    /// Another service (`peer.service`, an HTTP/RPC server address).
    Service,
    /// A database (`db.system`).
    Database,
    /// A message broker (`messaging.system`).
    Broker,
}

/// The callee a client or producer span names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer<'a> {
    /// The callee's name as the attributes give it (a service, a host, a database).
    pub name: &'a str,
    /// What kind of system it is.
    pub kind: PeerKind,
}

/// One span, borrowed from the decoded message, with the attributes RCA uses.
#[derive(Debug, Clone)]
pub struct SpanRecord<'a> {
    /// `service.name` of the span's resource (`unknown_service` when absent).
    pub service: &'a str,
    /// The replica: `service.instance.id`, `k8s.pod.name`, `container.name` or `host.name`.
    pub instance: Option<&'a str>,
    /// The zone or node: `cloud.availability_zone`, `k8s.node.name`.
    pub zone: Option<&'a str>,
    /// Trace id bytes (16 when valid).
    pub trace_id: &'a [u8],
    /// Span id bytes (8 when valid).
    pub span_id: &'a [u8],
    /// Parent span id bytes (empty for a root span).
    pub parent_span_id: &'a [u8],
    /// Operation name.
    pub name: &'a str,
    /// Role.
    pub kind: SpanKind,
    /// Start, Unix nanoseconds.
    pub start_ns: u64,
    /// End, Unix nanoseconds.
    pub end_ns: u64,
    /// Whether the span failed: status ERROR, or an HTTP status of 500 or more on a
    /// server span (429 and 5xx on a client span) when the status was left unset.
    pub error: bool,
    /// Status message, or the first exception event's `exception.message`.
    pub message: Option<&'a str>,
    /// The callee, for client and producer spans that name one.
    pub peer: Option<Peer<'a>>,
    /// HTTP response status code, when the span carries one.
    pub http_status: Option<i64>,
}

impl SpanRecord<'_> {
    /// Duration in microseconds (0 when the end precedes the start).
    pub fn duration_us(&self) -> u64 {
        self.end_ns.saturating_sub(self.start_ns) / 1_000
    }
}

/// Counts of one decoding run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct DecodeStats {
    /// Spans handed to the sink.
    pub spans: u64,
    /// Resource blocks read.
    pub resources: u64,
}

/// Whether the first bytes of a file look like OTLP/JSON traces: a JSON object whose
/// text names `resourceSpans` (or `resource_spans`) near its start.
pub fn sniff_json(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head);
    let t = text.trim_start_matches('\u{feff}').trim_start();
    t.starts_with('{') && (t.contains("\"resourceSpans\"") || t.contains("\"resource_spans\""))
}

fn str_value(v: &AnyValue) -> Option<&str> {
    match &v.value {
        Some(any_value::Value::StringValue(s)) => Some(s.as_str()),
        _ => None,
    }
}

fn int_value(v: &AnyValue) -> Option<i64> {
    match &v.value {
        Some(any_value::Value::IntValue(i)) => Some(*i),
        Some(any_value::Value::StringValue(s)) => s.parse().ok(),
        Some(any_value::Value::DoubleValue(d)) => Some(*d as i64),
        _ => None,
    }
}

fn attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a AnyValue> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
}

fn attr_str<'a>(attrs: &'a [KeyValue], keys: &[&str]) -> Option<&'a str> {
    keys.iter()
        .find_map(|k| attr(attrs, k).and_then(str_value))
        .filter(|s| !s.is_empty())
}

/// The host of a URL (`scheme://host:port/path` → `host`).
fn url_host(url: &str) -> Option<&str> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = host.split(':').next().unwrap_or(host);
    (!host.is_empty()).then_some(host)
}

/// The callee a span's attributes name, most specific first.
fn peer<'a>(attrs: &'a [KeyValue]) -> Option<Peer<'a>> {
    let kind = if attr_str(attrs, &["db.system", "db.system.name"]).is_some() {
        PeerKind::Database
    } else if attr_str(attrs, &["messaging.system"]).is_some() {
        PeerKind::Broker
    } else {
        PeerKind::Service
    };
    let name = attr_str(attrs, &["peer.service"])
        .or_else(|| {
            attr_str(
                attrs,
                &["server.address", "net.peer.name", "network.peer.address"],
            )
        })
        .or_else(|| attr_str(attrs, &["url.full", "http.url"]).and_then(url_host))
        .or_else(|| match kind {
            PeerKind::Database => attr_str(attrs, &["db.namespace", "db.name", "db.system"]),
            PeerKind::Broker => attr_str(attrs, &["messaging.system"]),
            PeerKind::Service => attr_str(attrs, &["rpc.service"]),
        })?;
    Some(Peer { name, kind })
}

/// The resource's attributes RCA keeps.
struct ResourceInfo<'a> {
    service: &'a str,
    instance: Option<&'a str>,
    zone: Option<&'a str>,
}

fn resource_info(resource: Option<&Resource>) -> ResourceInfo<'_> {
    let attrs: &[KeyValue] = resource.map_or(&[], |r| r.attributes.as_slice());
    ResourceInfo {
        service: attr_str(attrs, &["service.name"]).unwrap_or("unknown_service"),
        instance: attr_str(
            attrs,
            &[
                "service.instance.id",
                "k8s.pod.name",
                "container.name",
                "host.name",
            ],
        ),
        zone: attr_str(
            attrs,
            &["cloud.availability_zone", "k8s.node.name", "cloud.region"],
        ),
    }
}

/// Builds the record of one span of a resource.
fn record<'a>(res: &ResourceInfo<'a>, span: &'a Span) -> SpanRecord<'a> {
    let kind = SpanKind::from_otlp(span.kind);
    let attrs = span.attributes.as_slice();
    let http_status = attr(attrs, "http.response.status_code")
        .or_else(|| attr(attrs, "http.status_code"))
        .and_then(int_value);
    let status = span.status.as_ref();
    // Status code 2 is ERROR; 1 (OK) overrides any HTTP-based judgement.
    let code = status.map_or(0, |s| s.code);
    let http_failed = http_status.is_some_and(|c| match kind {
        SpanKind::Server => c >= 500,
        _ => c >= 500 || c == 429,
    });
    let error = code == 2 || (code == 0 && http_failed);
    let exception = span
        .events
        .iter()
        .filter(|e| e.name == "exception")
        .find_map(|e| attr_str(&e.attributes, &["exception.message", "exception.type"]));
    let message = status
        .map(|s| s.message.as_str())
        .filter(|m| !m.is_empty())
        .or(exception);
    SpanRecord {
        service: res.service,
        instance: res.instance,
        zone: res.zone,
        trace_id: &span.trace_id,
        span_id: &span.span_id,
        parent_span_id: &span.parent_span_id,
        name: &span.name,
        kind,
        start_ns: span.start_time_unix_nano,
        end_ns: span.end_time_unix_nano,
        error,
        message,
        peer: if kind.is_outgoing() {
            peer(attrs)
        } else {
            None
        },
        http_status,
    }
}

/// Hands every span of one `ResourceSpans` to the sink.
fn emit_resource(
    rs: &ResourceSpans,
    sink: &mut dyn FnMut(&SpanRecord<'_>),
    stats: &mut DecodeStats,
) {
    let res = resource_info(rs.resource.as_ref());
    stats.resources += 1;
    for ss in &rs.scope_spans {
        for span in &ss.spans {
            sink(&record(&res, span));
            stats.spans += 1;
        }
    }
}

/// Decodes an OTLP protobuf body (`ExportTraceServiceRequest` or `TracesData`, which
/// share their wire form; several concatenated bodies read as one), one `ResourceSpans`
/// at a time. Bodies of other messages fail with a clear error.
pub fn decode_protobuf(
    input: impl BufRead,
    sink: &mut dyn FnMut(&SpanRecord<'_>),
) -> Result<DecodeStats, RcaError> {
    decode_protobuf_into(input, sink, DecodeStats::default())
}

/// The file exporter's `format: proto`: each message preceded by its length as a 4-byte
/// big-endian integer (a plain body starts with the tag byte 0x0a instead of 0).
fn decode_framed(
    mut input: impl BufRead,
    sink: &mut dyn FnMut(&SpanRecord<'_>),
) -> Result<DecodeStats, RcaError> {
    let mut stats = DecodeStats::default();
    let mut buf = Vec::new();
    loop {
        let mut len = [0u8; 4];
        match input.read(&mut len[..1]) {
            Ok(0) => return Ok(stats),
            Ok(_) => {}
            Err(e) => return Err(RcaError::otlp(format!("read error: {e}"))),
        }
        input
            .read_exact(&mut len[1..])
            .map_err(|e| RcaError::otlp(format!("framed protobuf cut short: {e}")))?;
        let n = u64::from(u32::from_be_bytes(len));
        if n > MAX_PROTOBUF_FIELD {
            return Err(RcaError::otlp(format!(
                "framed message of {n} bytes is too large"
            )));
        }
        buf.resize(n as usize, 0);
        input
            .read_exact(&mut buf)
            .map_err(|e| RcaError::otlp(format!("framed protobuf cut short: {e}")))?;
        stats = decode_protobuf_into(buf.as_slice(), sink, stats)?;
    }
}

fn decode_protobuf_into(
    mut input: impl BufRead,
    sink: &mut dyn FnMut(&SpanRecord<'_>),
    mut stats: DecodeStats,
) -> Result<DecodeStats, RcaError> {
    let mut buf = Vec::new();
    loop {
        let Some(tag) = read_varint(&mut input)? else {
            return Ok(stats);
        };
        let (field, wire) = (tag >> 3, tag & 7);
        match wire {
            // Length-delimited: field 1 is a ResourceSpans; anything else is skipped.
            2 => {
                let len = read_varint(&mut input)?
                    .ok_or_else(|| RcaError::otlp("protobuf body ends inside a field"))?;
                if len > MAX_PROTOBUF_FIELD {
                    return Err(RcaError::otlp(format!(
                        "protobuf field of {len} bytes is larger than the {MAX_PROTOBUF_FIELD}-byte limit"
                    )));
                }
                buf.resize(len as usize, 0);
                input
                    .read_exact(&mut buf)
                    .map_err(|e| RcaError::otlp(format!("protobuf body cut short: {e}")))?;
                if field == 1 {
                    let rs = ResourceSpans::decode(buf.as_slice())
                        .map_err(|e| RcaError::otlp(format!("not an OTLP trace protobuf: {e}")))?;
                    emit_resource(&rs, sink, &mut stats);
                }
            }
            0 => {
                read_varint(&mut input)?;
            }
            1 => skip(&mut input, 8)?,
            5 => skip(&mut input, 4)?,
            _ => {
                return Err(RcaError::otlp(format!(
                    "not an OTLP trace protobuf (wire type {wire} at the top level)"
                )))
            }
        }
    }
}

/// Largest single `ResourceSpans` accepted in a protobuf body.
pub const MAX_PROTOBUF_FIELD: u64 = 256 * 1024 * 1024;

fn skip(input: &mut impl Read, n: usize) -> Result<(), RcaError> {
    let mut b = [0u8; 8];
    input
        .read_exact(&mut b[..n])
        .map_err(|e| RcaError::otlp(format!("protobuf body cut short: {e}")))
}

/// Reads a varint; `None` at a clean end of input.
fn read_varint(input: &mut impl Read) -> Result<Option<u64>, RcaError> {
    let mut value = 0u64;
    for i in 0..10 {
        let mut b = [0u8; 1];
        let n = input
            .read(&mut b)
            .map_err(|e| RcaError::otlp(format!("read error: {e}")))?;
        if n == 0 {
            return if i == 0 {
                Ok(None)
            } else {
                Err(RcaError::otlp("protobuf body ends inside a varint"))
            };
        }
        value |= u64::from(b[0] & 0x7f) << (7 * i);
        if b[0] & 0x80 == 0 {
            return Ok(Some(value));
        }
    }
    Err(RcaError::otlp("malformed protobuf varint"))
}

/// Decodes OTLP/JSON: one document, or several one after the other (the file exporter
/// writes one per line). Streams resource by resource; ids are hex, as OTLP/JSON has them.
pub fn decode_json(
    mut input: impl BufRead,
    sink: &mut dyn FnMut(&SpanRecord<'_>),
) -> Result<DecodeStats, RcaError> {
    let mut stats = DecodeStats::default();
    let mut documents = 0u64;
    loop {
        // Skip whitespace (and a byte-order mark) between documents.
        loop {
            let buf = input
                .fill_buf()
                .map_err(|e| RcaError::otlp(format!("read error: {e}")))?;
            if buf.is_empty() {
                return Ok(stats);
            }
            let skip = buf
                .iter()
                .take_while(|b| b.is_ascii_whitespace() || matches!(b, 0xef | 0xbb | 0xbf))
                .count();
            let all = skip == buf.len();
            input.consume(skip);
            if !all {
                break;
            }
        }
        documents += 1;
        // A document ends at its closing brace: serde_json reads no byte past it.
        let mut de = serde_json::Deserializer::from_reader(&mut input);
        DocumentSeed {
            sink: &mut *sink,
            stats: &mut stats,
        }
        .deserialize(&mut de)
        .map_err(|e| RcaError::otlp(format!("OTLP/JSON document {documents}: {e}")))?;
    }
}

/// Decodes a trace file by content: OTLP/JSON when it starts with `{`, protobuf
/// otherwise.
pub fn decode_any(
    mut input: impl BufRead,
    sink: &mut dyn FnMut(&SpanRecord<'_>),
) -> Result<DecodeStats, RcaError> {
    let head = input
        .fill_buf()
        .map_err(|e| RcaError::otlp(format!("read error: {e}")))?;
    let first = head
        .iter()
        .copied()
        .find(|b| !b.is_ascii_whitespace() && !matches!(b, 0xef | 0xbb | 0xbf));
    let framed = head.first() == Some(&0);
    if first == Some(b'{') {
        decode_json(input, sink)
    } else if framed {
        decode_framed(input, sink)
    } else {
        decode_protobuf(input, sink)
    }
}

/// The top-level object: `resourceSpans` is streamed, other keys are skipped.
struct DocumentSeed<'s, 'f> {
    sink: &'s mut (dyn FnMut(&SpanRecord<'_>) + 'f),
    stats: &'s mut DecodeStats,
}

impl<'de> DeserializeSeed<'de> for DocumentSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for DocumentSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an OTLP ExportTraceServiceRequest object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if key == "resourceSpans" || key == "resource_spans" {
                map.next_value_seed(ListSeed {
                    sink: &mut *self.sink,
                    stats: &mut *self.stats,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// The `resourceSpans` array: each element is one resource's spans.
struct ListSeed<'s, 'f> {
    sink: &'s mut (dyn FnMut(&SpanRecord<'_>) + 'f),
    stats: &'s mut DecodeStats,
}

impl<'de> DeserializeSeed<'de> for ListSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ListSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of ResourceSpans")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(ResourceSeed {
                sink: &mut *self.sink,
                stats: &mut *self.stats,
            })?
            .is_some()
        {}
        Ok(())
    }
}

/// One `ResourceSpans`: the resource, then its scopes' spans one at a time (spans met
/// before the resource are held until it arrives).
struct ResourceSeed<'s, 'f> {
    sink: &'s mut (dyn FnMut(&SpanRecord<'_>) + 'f),
    stats: &'s mut DecodeStats,
}

impl<'de> DeserializeSeed<'de> for ResourceSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ResourceSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a ResourceSpans object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut resource: Option<Resource> = None;
        let mut early: Vec<Span> = Vec::new();
        self.stats.resources += 1;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "resource" => {
                    resource = map.next_value::<Option<Resource>>()?;
                    let info = resource_info(resource.as_ref());
                    for span in early.drain(..) {
                        (self.sink)(&record(&info, &span));
                        self.stats.spans += 1;
                    }
                }
                "scopeSpans" | "scope_spans" | "instrumentationLibrarySpans" => {
                    map.next_value_seed(ScopesSeed {
                        resource: resource.as_ref(),
                        early: &mut early,
                        sink: &mut *self.sink,
                        stats: &mut *self.stats,
                    })?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        // No resource at all: the spans belong to an unnamed service.
        let info = resource_info(resource.as_ref());
        for span in early.drain(..) {
            (self.sink)(&record(&info, &span));
            self.stats.spans += 1;
        }
        Ok(())
    }
}

/// The `scopeSpans` array of one resource.
struct ScopesSeed<'s, 'r, 'f> {
    resource: Option<&'r Resource>,
    early: &'s mut Vec<Span>,
    sink: &'s mut (dyn FnMut(&SpanRecord<'_>) + 'f),
    stats: &'s mut DecodeStats,
}

impl<'de> DeserializeSeed<'de> for ScopesSeed<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ScopesSeed<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of ScopeSpans")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let info = self.resource.map(|r| resource_info(Some(r)));
        let mut scope = ScopeState {
            info: info.as_ref(),
            early: self.early,
            sink: self.sink,
            stats: self.stats,
        };
        while seq.next_element_seed(ScopeSeed(&mut scope))?.is_some() {}
        Ok(())
    }
}

struct ScopeState<'s, 'r, 'f> {
    info: Option<&'s ResourceInfo<'r>>,
    early: &'s mut Vec<Span>,
    sink: &'s mut (dyn FnMut(&SpanRecord<'_>) + 'f),
    stats: &'s mut DecodeStats,
}

impl ScopeState<'_, '_, '_> {
    fn span(&mut self, span: Span) {
        match self.info {
            Some(info) => {
                (self.sink)(&record(info, &span));
                self.stats.spans += 1;
            }
            None => self.early.push(span),
        }
    }
}

/// One `ScopeSpans` object: its `spans` are streamed.
struct ScopeSeed<'a, 's, 'r, 'f>(&'a mut ScopeState<'s, 'r, 'f>);

impl<'de> DeserializeSeed<'de> for ScopeSeed<'_, '_, '_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ScopeSeed<'_, '_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a ScopeSpans object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if key == "spans" {
                map.next_value_seed(SpansSeed(&mut *self.0))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

struct SpansSeed<'a, 's, 'r, 'f>(&'a mut ScopeState<'s, 'r, 'f>);

impl<'de> DeserializeSeed<'de> for SpansSeed<'_, '_, '_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for SpansSeed<'_, '_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of Spans")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(span) = seq.next_element::<Span>()? {
            self.0.span(span);
        }
        Ok(())
    }
}

/// Hex form of an id (for evidence and joins with log records).
pub fn hex(id: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(id.len() * 2);
    for b in id {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

#[cfg(test)]
mod tests;
