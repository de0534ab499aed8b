//! Tests of OTLP decoding.

use super::*;

const DOC: &str = r#"{"resourceSpans":[{"resource":{"attributes":[
    {"key":"service.name","value":{"stringValue":"checkout"}},
    {"key":"k8s.pod.name","value":{"stringValue":"checkout-7d9f-abcde"}}]},
  "scopeSpans":[{"scope":{"name":"x"},"spans":[
    {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
     "parentSpanId":"","name":"POST /pay","kind":2,
     "startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000250000000",
     "status":{"code":2,"message":"upstream failed"}},
    {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b175",
     "parentSpanId":"eee19b7ec3c1b174","name":"SELECT","kind":3,
     "startTimeUnixNano":1700000000010000000,"endTimeUnixNano":1700000000200000000,
     "attributes":[{"key":"db.system","value":{"stringValue":"postgresql"}},
                   {"key":"server.address","value":{"stringValue":"orders-db"}}],
     "events":[{"name":"exception","attributes":[{"key":"exception.message","value":{"stringValue":"too many connections"}}]}],
     "status":{}}]}]}]}"#;

type Seen = (String, SpanKind, bool, Option<String>);

fn collect(input: &[u8]) -> Result<Vec<Seen>, RcaError> {
    let mut out = Vec::new();
    decode_any(input, &mut |s| {
        out.push((
            s.service.to_string(),
            s.kind,
            s.error,
            s.peer.as_ref().map(|p| p.name.to_string()),
        ))
    })?;
    Ok(out)
}

#[test]
fn json_documents_stream_spans_with_their_attributes() {
    let mut seen = Vec::new();
    let stats = decode_json(DOC.as_bytes(), &mut |s| {
        seen.push((
            s.service.to_string(),
            s.instance.map(str::to_string),
            hex(s.span_id),
            s.error,
            s.message.map(str::to_string),
            s.peer.clone().map(|p| (p.name.to_string(), p.kind)),
            s.duration_us(),
        ));
    })
    .expect("valid document");
    assert_eq!(stats.spans, 2);
    assert_eq!(seen[0].0, "checkout");
    assert_eq!(seen[0].1.as_deref(), Some("checkout-7d9f-abcde"));
    assert_eq!(seen[0].2, "eee19b7ec3c1b174");
    assert!(seen[0].3);
    assert_eq!(seen[0].4.as_deref(), Some("upstream failed"));
    assert_eq!(seen[0].6, 250_000);
    assert!(!seen[1].3, "unset status is not an error");
    assert_eq!(seen[1].4.as_deref(), Some("too many connections"));
    assert_eq!(
        seen[1].5,
        Some(("orders-db".to_string(), PeerKind::Database))
    );
}

#[test]
fn json_lines_and_concatenated_documents_read_alike() {
    let one = DOC.replace('\n', " ");
    let lines = format!("{one}\n{one}\n");
    assert_eq!(collect(lines.as_bytes()).expect("lines").len(), 4);
    let glued = format!("{one}{one}");
    assert_eq!(collect(glued.as_bytes()).expect("glued").len(), 4);
}

#[test]
fn spans_before_their_resource_get_its_service() {
    let doc = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"spanId":"0102030405060708","kind":3,
        "attributes":[{"key":"http.status_code","value":{"intValue":"503"}},
                      {"key":"url.full","value":{"stringValue":"http://payments:8080/pay"}}]}]}],
        "resource":{"attributes":[{"key":"service.name","value":{"stringValue":"web"}}]}}]}"#;
    let spans = collect(doc.as_bytes()).expect("valid");
    assert_eq!(
        spans,
        vec![(
            "web".to_string(),
            SpanKind::Client,
            true,
            Some("payments".to_string())
        )]
    );
}

#[test]
fn protobuf_round_trips_and_bad_bodies_fail_cleanly() {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    let req: ExportTraceServiceRequest = serde_json::from_str(DOC).expect("serde");
    let bytes = req.encode_to_vec();
    let spans = collect(&bytes).expect("protobuf");
    assert_eq!(spans.len(), 2);
    assert_eq!(spans[1].3.as_deref(), Some("orders-db"));
    // Cut short, garbage, and a JSON document that is not OTLP.
    assert!(collect(&bytes[..bytes.len() - 3]).is_err());
    assert!(collect(&[0xff, 0xff, 0xff]).is_err());
    assert!(collect(b"{\"resourceSpans\": 3}").is_err());
    assert!(collect(b"{\"resourceSpans\": [").is_err());
    assert_eq!(collect(b"").expect("empty").len(), 0);
    // The file exporter's length-framed form.
    let mut framed = Vec::new();
    for _ in 0..2 {
        framed.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        framed.extend_from_slice(&bytes);
    }
    assert_eq!(collect(&framed).expect("framed").len(), 4);
}

#[test]
fn sniffing_and_hosts() {
    assert!(sniff_json(DOC.as_bytes()));
    assert!(!sniff_json(b"{\"level\":\"info\",\"msg\":\"x\"}"));
    assert!(!sniff_json(b"2024-01-01 resourceSpans"));
    assert_eq!(
        url_host("https://u:p@api.example.com:443/x?y"),
        Some("api.example.com")
    );
    assert_eq!(url_host("payments:8080"), Some("payments"));
    assert_eq!(hex(&[0, 255, 16]), "00ff10");
}
