//! The API against hostile and broken clients: schemas that are huge, deep or recursive,
//! prompts larger than the context, idle and stalled connections, more connections than
//! the server serves, foreign `Host` headers, keys from files; error statuses from
//! variants, request ids and spans; and the memory an adversarial request costs.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use loglens::server::ServeConfig;
use serde_json::{json, Map, Value};
use tower::ServiceExt;

use super::{app, app_with, chat_body, error_of, send, start_server_with, MODEL};

/// An app that takes bodies up to `mib` MiB.
fn app_taking(mib: usize, api_key: Option<&str>) -> axum::Router {
    app_with(ServeConfig {
        addr: "127.0.0.1:0".parse().expect("addr"),
        api_key: api_key.map(str::to_string),
        body_limit: mib << 20,
        ..ServeConfig::default()
    })
}

fn schema_body(schema: Value, max_tokens: u32) -> String {
    chat_body(json!({
        "max_tokens": max_tokens,
        "response_format": {"type": "json_schema", "json_schema": {"name": "t", "schema": schema}},
    }))
}

fn properties(n: usize, required: bool) -> Value {
    let props: Map<String, Value> = (0..n)
        .map(|i| (format!("field_{i:04}"), json!({"type": "string"})))
        .collect();
    let names: Vec<String> = props.keys().cloned().collect();
    let mut s = json!({"type": "object", "properties": props});
    if required {
        s["required"] = json!(names);
    }
    s
}

#[tokio::test]
async fn schema_with_5000_properties_does_not_overflow_the_stack() {
    // The request is prepared on the runtime's blocking pool (2 MiB stacks), where the
    // grammar compiler used to overflow; it now compiles on a thread of its own.
    let app = app_taking(1, None);
    let (s, _, b) = send(
        &app,
        "POST",
        "/v1/chat/completions",
        None,
        Some(&schema_body(properties(5000, true), 8)),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let v: Value = serde_json::from_str(&b).expect("json");
    let content = v["choices"][0]["message"]["content"].as_str().unwrap_or("");
    assert!(content.starts_with("{\"field_0000\":"), "{content}");
    // All optional: wider than the parser handles; a clean 422, no 5xx.
    let (s, _, b) = send(
        &app,
        "POST",
        "/v1/chat/completions",
        None,
        Some(&schema_body(properties(5000, false), 8)),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(error_of(&b)["param"], "response_format");
    let (s, _, _) = send(&app, "GET", "/health", None, None).await;
    assert_eq!(s, StatusCode::OK);
}

#[test]
fn generate_with_a_5000_property_schema_answers_or_says_why() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (required, ok) in [(true, true), (false, false)] {
        let path = dir.path().join("schema.json");
        std::fs::write(&path, properties(5000, required).to_string()).expect("writes");
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_loglens"))
            .args([
                "generate",
                "--prompt",
                "Give JSON",
                "--max-tokens",
                "8",
                "--model",
            ])
            .arg(super::model_path())
            .arg("--schema")
            .arg(&path)
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(if ok { 0 } else { 1 }), "{stderr}");
        if ok {
            assert!(String::from_utf8_lossy(&out.stdout).starts_with("{\"field_0000\":"));
        } else {
            assert!(
                stderr.contains("constraint") && !stderr.contains("<"),
                "{stderr}"
            );
        }
    }
}

#[tokio::test]
async fn recursive_and_cyclic_refs_are_422_without_parser_state() {
    let app = app(None);
    for schema in [
        json!({"$ref": "#"}),
        json!({"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"allOf": [{"$ref": "#/$defs/a"}]}}, "$ref": "#/$defs/a"}),
        json!({"type": "object", "properties": {"x": {"$ref": "#/$defs/a"}}, "$defs": {"a": {"$ref": "#/$defs/a"}}}),
    ] {
        let (s, _, b) = send(
            &app,
            "POST",
            "/v1/chat/completions",
            None,
            Some(&schema_body(schema.clone(), 8)),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{schema}: {b}");
        let err = error_of(&b);
        assert_eq!(err["code"], "invalid_constraint", "{b}");
        let msg = err["message"].as_str().unwrap_or("");
        assert!(msg.contains("$ref"), "{msg}");
        for leak in ["<state>", "Parser:", "Tokens:", "grm_prefix"] {
            assert!(!b.contains(leak), "{leak} in {b}");
        }
    }
    // Recursion through a property is a tree, and fine.
    let tree = json!({"type": "object", "properties": {"name": {"type": "string", "maxLength": 10}, "child": {"$ref": "#"}}, "required": ["name"]});
    let (s, _, b) = send(
        &app,
        "POST",
        "/v1/chat/completions",
        None,
        Some(&schema_body(tree, 24)),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
}

#[tokio::test]
async fn oversized_schemas_are_422_before_compiling() {
    let app = app_taking(1, None);
    let mut deep = json!({"type": "string"});
    for _ in 0..70 {
        deep = json!({"type": "array", "items": deep});
    }
    let defs: Map<String, Value> = (0..1001)
        .map(|i| (format!("d{i}"), json!({"type": "integer"})))
        .collect();
    let refs: Map<String, Value> = (0..1001)
        .map(|i| (format!("p{i}"), json!({"$ref": format!("#/$defs/d{i}")})))
        .collect();
    let many_refs = json!({"type": "object", "$defs": defs, "properties": refs});
    for (schema, what) in [
        (properties(5001, false), "properties"),
        (deep, "nesting"),
        (many_refs, "$refs"),
    ] {
        let (s, _, b) = send(
            &app,
            "POST",
            "/v1/chat/completions",
            None,
            Some(&schema_body(schema, 8)),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{what}: {b}");
        let err = error_of(&b);
        assert_eq!(err["code"], "constraint_too_large", "{b}");
        assert!(
            err["message"].as_str().unwrap_or("").contains(what),
            "{what}: {b}"
        );
    }
}

#[tokio::test]
async fn prompts_over_the_context_are_refused_before_they_are_tokenized() {
    let app = app_taking(9, None);
    // 7.5 MB: over what any prompt that fits can weigh; refused from its length.
    let huge = "disk full on node-17 ".repeat(7_500_000 / 21);
    let body = chat_body(json!({"messages": [{"role": "user", "content": huge}]}));
    let (s, _, b) = send(&app, "POST", "/v1/chat/completions", None, Some(&body)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{}", &b[..b.len().min(300)]);
    let err = error_of(&b);
    assert_eq!(err["code"], "context_length_exceeded");
    assert!(
        err["message"].as_str().unwrap_or("").contains("bytes"),
        "{b}"
    );
    // 1 MB: under that bound, so its tokens are counted, a chunk at a time.
    let big = "disk full on node-17 ".repeat(1_000_000 / 21);
    let body = json!({"model": MODEL, "prompt": [big.as_str(), "ok"], "max_tokens": 4}).to_string();
    let (s, _, b) = send(&app, "POST", "/v1/completions", None, Some(&body)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{}", &b[..b.len().min(300)]);
    let err = error_of(&b);
    assert_eq!(err["code"], "context_length_exceeded");
    assert!(
        err["message"].as_str().unwrap_or("").contains("at least"),
        "{b}"
    );
}

/// `VmRSS` and `VmHWM` (peak) of a process, in KiB.
fn rss_kib(pid: u32) -> (u64, u64) {
    let field = |name| crate::proc_status_kib(pid, name).unwrap_or(0);
    (field("VmRSS:"), field("VmHWM:"))
}

/// The figure README.md states for adversarial prompts (4 clients at once sending the
/// largest body, refused by length, and prompts just under the length bound, refused
/// after counting).
const PROMPT_STAGE_BOUND_MIB: u64 = 160;

#[test]
fn adversarial_prompts_keep_peak_memory_under_the_stated_bound() {
    let server = start_server_with(&["--max-body-mib", "8"], &[]);
    let pid = server.child.id();
    // One ordinary request first: what every served request allocates once.
    let ok = super::http(
        server.port,
        "POST",
        "/v1/chat/completions",
        &chat_body(json!({"max_tokens": 2})),
    );
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    let (before, _) = rss_kib(pid);
    let refused = |size: usize| {
        let text = "ERROR disk full on node-17, evicting pods ".repeat(size / 42);
        let body = chat_body(json!({"messages": [{"role": "user", "content": text}]}));
        move || super::http(server.port, "POST", "/v1/chat/completions", &body)
    };
    for size in [7_800_000, 2_500_000] {
        let handles: Vec<_> = (0..4).map(|_| std::thread::spawn(refused(size))).collect();
        for h in handles {
            let answer = h.join().expect("client");
            assert!(
                answer.starts_with("HTTP/1.1 400"),
                "{}",
                &answer[..answer.len().min(300)]
            );
            assert!(answer.contains("context_length_exceeded"));
        }
    }
    let (_, peak) = rss_kib(pid);
    let grew = peak.saturating_sub(before) / 1024;
    println!(
        "adversarial prompts: RSS {} MiB before, peak {} MiB",
        before / 1024,
        peak / 1024
    );
    assert!(
        grew < PROMPT_STAGE_BOUND_MIB,
        "peak RSS grew {grew} MiB over {} MiB (bound {PROMPT_STAGE_BOUND_MIB} MiB)",
        before / 1024
    );
}

/// Reads until the server closes the connection; what it sent before.
fn until_closed(s: &mut TcpStream) -> String {
    // A bound on the test, not a timing assertion: the server closes long before.
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut out = Vec::new();
    match s.read_to_end(&mut out) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(e) => panic!("the server did not close the connection: {e}"),
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn idle_partial_header_and_stalled_body_connections_are_closed() {
    let server = start_server_with(&["--read-timeout-secs", "1"], &[]);
    let connect = || TcpStream::connect(("127.0.0.1", server.port)).expect("connects");
    // Connected, nothing sent.
    let mut idle = connect();
    assert_eq!(until_closed(&mut idle), "");
    // Half a request head.
    let mut partial = connect();
    partial
        .write_all(b"POST /v1/chat/completions HTTP/1.1\r\nhost: localhost\r\ncontent-ty")
        .expect("writes");
    assert_eq!(until_closed(&mut partial), "");
    // A whole head, a tenth of the body it announces.
    let mut stalled = connect();
    stalled
        .write_all(b"POST /v1/chat/completions HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"model\":")
        .expect("writes");
    let answer = until_closed(&mut stalled);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request_timeout"), "{answer}");
    // A keep-alive connection after its answer.
    let mut kept = connect();
    kept.write_all(b"GET /health HTTP/1.1\r\nhost: localhost\r\n\r\n")
        .expect("writes");
    let answer = until_closed(&mut kept);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[test]
fn connections_over_the_cap_wait_for_a_free_slot() {
    let server = start_server_with(&["--max-connections", "2"], &[]);
    let connect = || TcpStream::connect(("127.0.0.1", server.port)).expect("connects");
    let held = vec![connect(), connect()];
    let mut third = connect();
    third
        .write_all(b"GET /health HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n")
        .expect("writes");
    third
        .set_read_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    let mut buf = [0u8; 64];
    let early = third.read(&mut buf);
    assert!(
        matches!(&early, Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut)),
        "answered while both slots were held: {early:?}"
    );
    drop(held);
    let answer = until_closed(&mut third);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

async fn with_host(app: &axum::Router, path: &str, host: &str, key: Option<&str>) -> StatusCode {
    let mut b = Request::builder()
        .method("GET")
        .uri(path)
        .header("host", host);
    if let Some(k) = key {
        b = b.header("authorization", format!("Bearer {k}"));
    }
    let resp = app
        .clone()
        .oneshot(b.body(Body::empty()).expect("request"))
        .await
        .expect("response");
    resp.status()
}

#[tokio::test]
async fn keyless_servers_refuse_foreign_host_headers() {
    let keyless = app(None);
    for host in [
        "localhost:8080",
        "127.0.0.1:8080",
        "[::1]:8080",
        "LOCALHOST",
    ] {
        assert_eq!(
            with_host(&keyless, "/v1/models", host, None).await,
            StatusCode::OK,
            "{host}"
        );
    }
    for host in [
        "attacker.example:8080",
        "127.0.0.1.nip.io",
        "localhost.attacker.example",
    ] {
        assert_eq!(
            with_host(&keyless, "/v1/models", host, None).await,
            StatusCode::FORBIDDEN,
            "{host}"
        );
        assert_eq!(
            with_host(&keyless, "/metrics", host, None).await,
            StatusCode::FORBIDDEN
        );
    }
    // Probes answer any name; a named host can be allowed.
    assert_eq!(
        with_host(&keyless, "/health", "10.0.0.7:8080", None).await,
        StatusCode::OK
    );
    let named = app_with(ServeConfig {
        addr: "127.0.0.1:0".parse().expect("addr"),
        allowed_hosts: vec!["llm.internal".into()],
        ..ServeConfig::default()
    });
    assert_eq!(
        with_host(&named, "/v1/models", "llm.internal:8080", None).await,
        StatusCode::OK
    );
    // With a key, the key is the check.
    let keyed = app(Some("k1"));
    assert_eq!(
        with_host(&keyed, "/v1/models", "attacker.example", Some("k1")).await,
        StatusCode::OK
    );
}

#[test]
fn api_key_comes_from_a_file_and_help_warns_about_ps() {
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_loglens"))
        .args(["serve", "--help"])
        .output()
        .expect("runs");
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("`ps`") && help.contains("--api-key-file"),
        "{help}"
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let empty = dir.path().join("empty.key");
    std::fs::write(&empty, "\n").expect("writes");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_loglens"))
        .args(["serve", "--port", "0", "--api-key-file"])
        .arg(&empty)
        .output()
        .expect("runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("empty"));

    let keyfile = dir.path().join("api.key");
    std::fs::write(&keyfile, "s3cret-from-file\n").expect("writes");
    let path = keyfile.to_string_lossy().into_owned();
    let server = start_server_with(&["--api-key-file", &path], &[]);
    let models = |key: &str| {
        let mut s = TcpStream::connect(("127.0.0.1", server.port)).expect("connects");
        write!(s, "GET /v1/models HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer {key}\r\nconnection: close\r\n\r\n").expect("writes");
        let mut line = String::new();
        BufReader::new(s).read_line(&mut line).expect("reads");
        line
    };
    assert!(models("wrong").starts_with("HTTP/1.1 401"));
    assert!(models("s3cret-from-file").starts_with("HTTP/1.1 200"));
    drop(server);
    // And from the environment.
    let server = start_server_with(&[], &[("LOGLENS_API_KEY", "s3cret-from-env")]);
    let mut s = TcpStream::connect(("127.0.0.1", server.port)).expect("connects");
    write!(
        s,
        "GET /v1/models HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n"
    )
    .expect("writes");
    let mut line = String::new();
    BufReader::new(s).read_line(&mut line).expect("reads");
    assert!(line.starts_with("HTTP/1.1 401"), "{line}");
}

/// A tracing writer the test reads back.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut v) = self.0.lock() {
            v.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn requests_get_an_id_and_a_span_with_status_and_latency() {
    let log = Captured::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    // Other tests' threads may have met the server's callsites first, with no
    // subscriber of theirs interested: recompute what every callsite is interested in
    // now that this thread's subscriber exists.
    tracing::callsite::rebuild_interest_cache();
    let app = app(None);
    let req = Request::builder()
        .uri("/v1/models")
        .header("host", "localhost")
        .body(Body::empty())
        .expect("request");
    let resp = app.clone().oneshot(req).await.expect("response");
    assert_eq!(resp.status(), StatusCode::OK);
    let id = resp
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .expect("x-request-id")
        .to_string();
    // A client's own id is kept.
    let req = Request::builder()
        .uri("/v1/nothing")
        .header("x-request-id", "client-42")
        .body(Body::empty())
        .expect("request");
    let resp = app.clone().oneshot(req).await.expect("response");
    assert_eq!(resp.headers()["x-request-id"], "client-42");
    let text = String::from_utf8_lossy(&log.0.lock().expect("log")).into_owned();
    let line = text
        .lines()
        .find(|l| l.contains(&id))
        .unwrap_or_else(|| panic!("no line for {id}: {text}"));
    for field in ["method=GET", "path=/v1/models", "status=200", "latency_ms="] {
        assert!(line.contains(field), "{field} in {line}");
    }
    assert!(
        text.lines()
            .any(|l| l.contains("id=client-42") && l.contains("status=404")),
        "{text}"
    );
}

#[tokio::test]
async fn error_statuses_come_from_variants() {
    let app = app(None);
    // The request's fault in a field named like a constraint: still a 400.
    let (s, _, b) = send(
        &app,
        "POST",
        "/v1/chat/completions",
        None,
        Some(&chat_body(json!({"logit_bias": {"99999999": 1}}))),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    // A bad pattern or grammar: 422 with its code.
    for format in [
        json!({"type": "regex", "pattern": "("}),
        json!({"type": "grammar", "grammar": "start: nowhere"}),
        json!({"type": "choice", "choices": []}),
    ] {
        let (s, _, b) = send(
            &app,
            "POST",
            "/v1/chat/completions",
            None,
            Some(&chat_body(json!({"response_format": format}))),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{format}: {b}");
        assert_eq!(error_of(&b)["code"], "invalid_constraint", "{b}");
    }
}
