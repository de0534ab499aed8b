//! The OpenAI-compatible server: routes through `Router::oneshot` (errors, auth, limits,
//! completions on the real default model) and one real `loglens serve` process on port
//! 0 (streaming, client disconnect, SIGTERM drain). `limits` holds the hostile clients.

mod limits;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use loglens::engine::{Scheduler, SchedulerConfig};
use loglens::server::{router, AppState, ServeConfig};
use serde_json::{json, Value};
use tower::ServiceExt;

use super::engine::engine;
use super::model_path;

const MODEL: &str = "SmolLM2-135M-Instruct.Q4_1";

fn config(api_key: Option<&str>) -> ServeConfig {
    ServeConfig {
        addr: "127.0.0.1:0".parse().expect("addr"),
        api_key: api_key.map(str::to_string),
        body_limit: 64 * 1024,
        ..ServeConfig::default()
    }
}

/// An app with the default model loaded.
fn app(api_key: Option<&str>) -> axum::Router {
    app_with(config(api_key))
}

/// An app with the default model loaded, configured as `cfg` says.
fn app_with(cfg: ServeConfig) -> axum::Router {
    let state = AppState::new(MODEL, cfg.api_key.clone());
    state.set_ready(Arc::new(Scheduler::new(
        engine().clone(),
        SchedulerConfig::default(),
    )));
    router(state, &cfg)
}

async fn send(
    app: &axum::Router,
    method: &str,
    uri: &str,
    key: Option<&str>,
    body: Option<&str>,
) -> (StatusCode, Option<String>, String) {
    let mut b = Request::builder().method(method).uri(uri);
    if let Some(k) = key {
        b = b.header("authorization", format!("Bearer {k}"));
    }
    if body.is_some() {
        b = b.header("content-type", "application/json");
    }
    let req = b
        .body(body.map_or_else(Body::empty, |s| Body::from(s.to_string())))
        .expect("request");
    let resp = app.clone().oneshot(req).await.expect("response");
    let status = resp.status();
    let retry = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 24)
        .await
        .expect("body");
    (status, retry, String::from_utf8_lossy(&bytes).into_owned())
}

fn error_of(body: &str) -> Value {
    let v: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    let err = v["error"].clone();
    assert!(err["message"].is_string(), "{body}");
    assert!(err["type"].is_string(), "{body}");
    assert!(
        err.get("param").is_some() && err.get("code").is_some(),
        "{body}"
    );
    err
}

fn chat_body(extra: Value) -> String {
    let mut b = json!({
        "model": MODEL,
        "messages": [{"role": "user", "content": "Say hello."}],
        "max_tokens": 8,
        "temperature": 0,
    });
    if let (Some(o), Some(e)) = (b.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            o.insert(k.clone(), v.clone());
        }
    }
    b.to_string()
}

#[tokio::test]
async fn loading_auth_and_request_errors() {
    // Not loaded yet: alive, not ready, completions say so with Retry-After.
    let state = AppState::new(MODEL, Some("k1".into()));
    let app = router(state, &config(Some("k1")));
    let (s, _, b) = send(&app, "GET", "/health", None, None).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, retry, b) = send(&app, "GET", "/ready", None, None).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(error_of(&b)["code"], "model_loading");
    assert!(retry.is_some());
    let (s, retry, _) = send(
        &app,
        "POST",
        "/v1/chat/completions",
        Some("k1"),
        Some(&chat_body(json!({}))),
    )
    .await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    assert!(retry.is_some());

    // Auth on /v1/* only.
    let (s, _, b) = send(&app, "GET", "/v1/models", None, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(error_of(&b)["code"], "invalid_api_key");
    let (s, _, _) = send(&app, "GET", "/v1/models", Some("k2"), None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _, b) = send(&app, "GET", "/v1/models", Some("k1"), None).await;
    assert_eq!(s, StatusCode::OK);
    let v: Value = serde_json::from_str(&b).expect("json");
    assert_eq!(v["data"][0]["id"], MODEL);
    let (s, _, _) = send(
        &app,
        "GET",
        &format!("/v1/models/{MODEL}"),
        Some("k1"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _, b) = send(&app, "GET", "/v1/models/gpt-4o", Some("k1"), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(error_of(&b)["code"], "model_not_found");

    // Bad bodies.
    let (s, _, b) = send(
        &app,
        "POST",
        "/v1/chat/completions",
        Some("k1"),
        Some("{\"model\":"),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    error_of(&b);
    let (s, _, b) = send(
        &app,
        "POST",
        "/v1/chat/completions",
        Some("k1"),
        Some("{\"model\":\"x\"}"),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "missing messages: {b}");
    let big = chat_body(json!({"messages": [{"role": "user", "content": "x".repeat(100_000)}]}));
    let (s, _, b) = send(&app, "POST", "/v1/chat/completions", Some("k1"), Some(&big)).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    error_of(&b);
    let (s, _, b) = send(
        &app,
        "POST",
        "/v1/chat/completions",
        Some("k1"),
        Some(&chat_body(json!({"model": "nope"}))),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(error_of(&b)["param"], "model");
    for (extra, param) in [
        (json!({"temperature": 3}), "temperature"),
        (json!({"n": 0}), "n"),
        (json!({"max_tokens": 0}), "max_tokens"),
        (json!({"top_logprobs": 2}), "top_logprobs"),
        (json!({"logit_bias": {"abc": 1}}), "logit_bias"),
        (
            json!({"messages": [{"role": "robot", "content": "hi"}]}),
            "messages",
        ),
        (
            json!({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}),
            "messages",
        ),
    ] {
        let (s, _, b) = send(
            &app,
            "POST",
            "/v1/chat/completions",
            Some("k1"),
            Some(&chat_body(extra.clone())),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{extra}: {b}");
        assert_eq!(error_of(&b)["param"], param, "{extra}");
    }
    let (s, _, b) = send(&app, "GET", "/v2/nothing", None, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    error_of(&b);
    let (s, _, b) = send(&app, "GET", "/metrics", None, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        b.contains("loglens_requests_total{route=\"/v1/models\",status=\"401\"} 2"),
        "{b}"
    ); // The engine's prompt-prefix cache is reported with the server's figures.
    assert!(
        b.contains("# TYPE loglens_prefix_cache_reused_tokens_total counter"),
        "{b}"
    );
}

#[tokio::test]
async fn chat_and_completions_on_the_default_model() {
    let app = app(None);
    // Unknown fields are ignored, as OpenAI does.
    let (s, _, b) = send(
        &app,
        "POST",
        "/v1/chat/completions",
        None,
        Some(&chat_body(
            json!({"user": "u1", "tools": [], "parallel_tool_calls": false}),
        )),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let v: Value = serde_json::from_str(&b).expect("json");
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(v["choices"][0]["message"]["role"], "assistant");
    assert_eq!(v["choices"][0]["finish_reason"], "length");
    assert_eq!(v["usage"]["completion_tokens"], 8);
    let greedy = v["choices"][0]["message"]["content"].clone();
    assert!(!greedy.as_str().unwrap_or("").is_empty());

    // Same seed, same output; n choices.
    let body = chat_body(json!({"temperature": 1.0, "seed": 7, "n": 2, "max_tokens": 12}));
    let (_, _, a) = send(&app, "POST", "/v1/chat/completions", None, Some(&body)).await;
    let (_, _, b2) = send(&app, "POST", "/v1/chat/completions", None, Some(&body)).await;
    let (a, b2): (Value, Value) = (
        serde_json::from_str(&a).expect("json"),
        serde_json::from_str(&b2).expect("json"),
    );
    assert_eq!(a["choices"].as_array().map(Vec::len), Some(2));
    assert_eq!(a["choices"], b2["choices"]);
    assert_eq!(a["usage"]["completion_tokens"], 24);

    // Structured output.
    let schema = json!({"type": "object", "properties": {"level": {"enum": ["info", "warn", "error"]}, "component": {"type": "string", "maxLength": 30}}, "required": ["level", "component"], "additionalProperties": false});
    let body = chat_body(
        json!({"max_tokens": 100, "response_format": {"type": "json_schema", "json_schema": {"name": "t", "schema": schema, "strict": true}}}),
    );
    let (s, _, b) = send(&app, "POST", "/v1/chat/completions", None, Some(&body)).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let v: Value = serde_json::from_str(&b).expect("json");
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    let content: Value =
        serde_json::from_str(v["choices"][0]["message"]["content"].as_str().unwrap_or(""))
            .expect("content is JSON");
    assert!(
        ["info", "warn", "error"].contains(&content["level"].as_str().unwrap_or("")),
        "{content}"
    );

    // A schema that cannot be compiled is 422; a prompt over the context is 400.
    let body = chat_body(json!({"response_format": {"type": "regex", "pattern": "("}}));
    let (s, _, b) = send(&app, "POST", "/v1/chat/completions", None, Some(&body)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    let body = chat_body(json!({"max_tokens": 9000}));
    let (s, _, b) = send(&app, "POST", "/v1/chat/completions", None, Some(&body)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(error_of(&b)["code"], "context_length_exceeded");

    // Streaming: role first, content deltas, finish, usage, [DONE].
    let body = chat_body(json!({"stream": true, "stream_options": {"include_usage": true}}));
    let (s, _, b) = send(&app, "POST", "/v1/chat/completions", None, Some(&body)).await;
    assert_eq!(s, StatusCode::OK);
    let events: Vec<&str> = b.lines().filter_map(|l| l.strip_prefix("data: ")).collect();
    assert_eq!(events.last(), Some(&"[DONE]"), "{b}");
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str(e).expect("chunk"))
        .collect();
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(
        json!(text),
        greedy,
        "streamed text equals the plain response"
    );
    let usage = &chunks[chunks.len() - 1];
    assert_eq!(usage["choices"].as_array().map(Vec::len), Some(0));
    assert_eq!(usage["usage"]["completion_tokens"], 8);
    assert_eq!(
        chunks[chunks.len() - 2]["choices"][0]["finish_reason"],
        "length"
    );

    // Text completions: two prompts, two choices each.
    let body = json!({"model": MODEL, "prompt": ["The capital of France is", "1, 2, 3,"], "n": 2, "max_tokens": 4, "temperature": 0, "logprobs": 2}).to_string();
    let (s, _, b) = send(&app, "POST", "/v1/completions", None, Some(&body)).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let v: Value = serde_json::from_str(&b).expect("json");
    let choices = v["choices"].as_array().expect("choices");
    assert_eq!(choices.len(), 4);
    assert_eq!(
        choices[0]["text"], choices[1]["text"],
        "greedy choices agree"
    );
    assert!(
        choices[0]["text"].as_str().unwrap_or("").contains("Paris"),
        "{b}"
    );
    assert_eq!(
        choices[0]["logprobs"]["tokens"].as_array().map(Vec::len),
        Some(4)
    );
    assert_eq!(v["usage"]["completion_tokens"], 16);
}

/// A `loglens serve` process, killed when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server() -> Server {
    start_server_with(&[], &[])
}

/// `loglens serve` on a free port with these extra arguments and environment, once
/// ready.
fn start_server_with(args: &[&str], env: &[(&str, &str)]) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_loglens"))
        .args(["serve", "--port", "0", "--model"])
        .arg(model_path())
        .args(args)
        .env_remove("LOGLENS_API_KEY")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("prints its address");
    let port = line
        .trim()
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("address line: {line:?}"));
    let s = Server { child, port };
    let t = Instant::now();
    while !http(s.port, "GET", "/ready", "").starts_with("HTTP/1.1 200") {
        assert!(t.elapsed() < Duration::from_secs(120), "never ready");
        std::thread::sleep(Duration::from_millis(100));
    }
    s
}

/// Sends one request (connection closed after the answer).
fn send_raw(port: u16, method: &str, path: &str, body: &str) -> std::io::Result<TcpStream> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    let req = format!(
        "{method} {path} HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes())?;
    Ok(s)
}

/// The whole answer as text; empty when the server cannot be reached.
fn http(port: u16, method: &str, path: &str, body: &str) -> String {
    let mut out = String::new();
    if let Ok(mut s) = send_raw(port, method, path, body) {
        let _ = s.read_to_string(&mut out);
    }
    out
}

/// Starts a streamed completion and reads up to its first data event.
fn first_event(port: u16, body: &str) -> BufReader<TcpStream> {
    let s = send_raw(port, "POST", "/v1/completions", body).expect("sends");
    let mut r = BufReader::new(s);
    let mut line = String::new();
    while !line.starts_with("data: {") {
        line.clear();
        r.read_line(&mut line).expect("stream");
    }
    r
}

fn running(port: u16) -> u64 {
    let r = http(port, "GET", "/ready", "");
    let body = r.split("\r\n\r\n").nth(1).unwrap_or("");
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v["running"].as_u64())
        .unwrap_or(u64::MAX)
}

#[test]
fn real_server_cancels_on_disconnect_and_drains_on_sigterm() {
    let mut server = start_server();
    let long = json!({"model": MODEL, "prompt": "Count from one to one thousand:", "max_tokens": 4000, "temperature": 0, "stream": true}).to_string();

    // A client that goes away mid-stream frees its slot.
    let r = first_event(server.port, &long);
    assert_eq!(running(server.port), 1);
    drop(r);
    let t = Instant::now();
    while running(server.port) != 0 {
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "generation was not cancelled"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // SIGTERM while a stream is running: it finishes, then the process exits cleanly.
    let short = json!({"model": MODEL, "prompt": "Count from one to one thousand:", "max_tokens": 60, "temperature": 0, "stream": true}).to_string();
    let mut r = first_event(server.port, &short);
    let killed = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let mut rest = String::new();
    r.read_to_string(&mut rest).expect("rest of stream");
    assert!(rest.contains("\"finish_reason\":\"length\""), "{rest}");
    assert!(rest.contains("data: [DONE]"), "{rest}");
    let status = server.child.wait().expect("exits");
    assert!(status.success(), "{status:?}");
}
