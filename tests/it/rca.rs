//! Root-cause analysis end to end: the shipped example with and without the model,
//! traces given with `--traces` (protobuf) and met in a walked folder (JSON), a bad
//! trace file reported in place, the ranking on a synthetic incident with traps, and
//! `bench rca`.

use std::path::Path;
use std::process::Command;

use loglens::logs::level::Level;
use loglens::rca::otlp::{Peer, PeerKind, SpanKind, SpanRecord};
use loglens::rca::{self, Collector, LogEvent};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use serde_json::Value;

fn loglens() -> Command {
    Command::new(env!("CARGO_BIN_EXE_loglens"))
}

fn report(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("report.json")).expect("report.json");
    serde_json::from_str(&text).expect("json")
}

#[test]
fn the_example_names_minio_first_without_the_model() {
    let out = tempfile::tempdir().expect("temp dir");
    let status = loglens()
        .args(["analyze", "--no-llm", "--quiet", "-o"])
        .arg(out.path())
        .arg(super::examples_dir())
        .status()
        .expect("runs");
    assert!(status.success());
    let md = std::fs::read_to_string(out.path().join("report.md")).expect("md");
    let first = md.lines().next().unwrap_or_default();
    assert!(
        first.contains("minio") && first.contains("storage"),
        "{first}"
    );
    let r = report(out.path());
    let top = &r["rca"]["candidates"][0];
    assert_eq!(top["service"], "minio");
    assert_eq!(top["category"], "storage");
    assert_eq!(top["propagation_path"][0], "minio");
    assert!(top["evidence"]
        .as_array()
        .is_some_and(|e| e.iter().any(|e| e["location"]
            .as_str()
            .is_some_and(|l| l.contains("compose.log:")))));
    // The OTLP file in the walked folder was read as traces, not as a log.
    let files = r["files"].as_array().expect("files");
    let traces = files
        .iter()
        .find(|f| {
            f["path"]
                .as_str()
                .is_some_and(|p| p.ends_with("traces.json"))
        })
        .expect("the trace file is listed");
    assert_eq!(traces["format"], "otlp-json");
    assert_eq!(traces["records"], 0);
    assert!(r["rca"]["stats"]["spans"].as_u64().is_some_and(|n| n > 100));
    let graph_has = |name: &str| {
        r["rca"]["graph"]["nodes"]
            .as_array()
            .is_some_and(|n| n.iter().any(|x| x["name"] == name))
    };
    assert!(graph_has("minio") && graph_has("spark-worker"));
    let dot = std::fs::read_to_string(out.path().join("report.dot")).expect("dot");
    assert!(
        dot.starts_with("digraph") && dot.contains("\"minio\""),
        "{dot}"
    );
    let html = std::fs::read_to_string(out.path().join("report.html")).expect("html");
    assert!(html.contains("<svg") && html.contains("Service graph") && !html.contains("<script"));
}

#[test]
fn the_example_names_minio_first_with_the_model() {
    let out = tempfile::tempdir().expect("temp dir");
    let state = tempfile::tempdir().expect("state dir");
    let o = loglens()
        .args(["analyze", "--quiet", "--llm-max-groups", "1", "-o"])
        .arg(out.path())
        .arg("--state-dir")
        .arg(state.path())
        .arg("--model")
        .arg(super::model_path())
        .arg(super::examples_dir())
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let md = std::fs::read_to_string(out.path().join("report.md")).expect("md");
    let first = md.lines().next().unwrap_or_default();
    assert!(first.contains("minio"), "{first}");
    let r = report(out.path());
    let v = &r["rca"]["verdict"];
    assert!(v["meta"]["used"].is_boolean(), "{v}");
    if v["meta"]["used"] == true {
        assert_eq!(v["root_cause_service"], "minio");
    } else {
        assert!(v["meta"]["reason"].is_string());
    }
    // The incident is remembered in the state directory.
    assert!(state.path().join("incidents.json").exists());
}

/// An OTLP request with one span per (service, kind, parent, peer, error).
/// (service, span id, parent id, kind, peer, failed, start ns).
type TestSpan<'a> = (&'a str, u8, u8, i32, Option<&'a str>, bool, u64);

fn request(spans: &[TestSpan<'_>]) -> ExportTraceServiceRequest {
    let mut resources = Vec::new();
    for &(service, id, parent, kind, peer, error, t) in spans {
        let attrs = peer
            .map(|p| format!(r#"[{{"key":"peer.service","value":{{"stringValue":"{p}"}}}}]"#))
            .unwrap_or_else(|| "[]".into());
        let parent = if parent == 0 {
            String::new()
        } else {
            format!("{:016x}", u64::from(parent))
        };
        resources.push(format!(
            r#"{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"{service}"}}}}]}},
               "scopeSpans":[{{"spans":[{{"traceId":"{:032x}","spanId":"{:016x}","parentSpanId":"{parent}","name":"op","kind":{kind},
               "startTimeUnixNano":"{t}","endTimeUnixNano":"{}","attributes":{attrs},"status":{{"code":{}}}}}]}}]}}"#,
            t,
            u64::from(id),
            t + 5_000_000,
            if error { 2 } else { 0 }
        ));
    }
    serde_json::from_str(&format!(r#"{{"resourceSpans":[{}]}}"#, resources.join(",")))
        .expect("valid OTLP")
}

#[test]
fn traces_given_as_protobuf_are_read_and_bad_files_reported_in_place() {
    let dir = tempfile::tempdir().expect("temp dir");
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).expect("mkdir");
    let mut lines = String::new();
    for m in 0..40u64 {
        let ok = m < 25;
        lines.push_str(&format!(
            "2025-01-01 10:{m:02}:00,000 - checkout - {} - {}\n",
            if ok { "INFO" } else { "ERROR" },
            if ok {
                "order placed".to_string()
            } else {
                format!("payment failed: ledger returned 503 for order {m}")
            }
        ));
    }
    std::fs::write(logs.join("checkout.log"), lines).expect("write");
    // checkout calls ledger; from minute 25 ledger's own spans fail.
    let base = 1_735_725_600_000_000_000u64; // 2025-01-01T10:00:00Z
    let mut spans = Vec::new();
    for m in 0..40u64 {
        let t = base + m * 60_000_000_000;
        let id = (m as u8).wrapping_mul(2).wrapping_add(1);
        spans.push(("checkout", id, 0, 3, Some("ledger"), m >= 25, t));
        spans.push((
            "ledger",
            id.wrapping_add(1),
            id,
            2,
            None,
            m >= 25,
            t + 1_000_000,
        ));
    }
    let body = request(&spans).encode_to_vec();
    let traces = dir.path().join("export.pb");
    std::fs::write(&traces, body).expect("write");
    let bad = dir.path().join("broken.json");
    std::fs::write(&bad, "{\"resourceSpans\": [ {\"scopeSpans\": 7").expect("write");
    let out = dir.path().join("out");
    let o = loglens()
        .args([
            "analyze", "--no-llm", "--quiet", "--format", "json,md", "-o",
        ])
        .arg(&out)
        .arg("--traces")
        .arg(&traces)
        .arg(&logs)
        .arg(&bad)
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r = report(&out);
    assert_eq!(r["rca"]["stats"]["spans"], 80);
    assert_eq!(
        r["rca"]["candidates"][0]["service"], "ledger",
        "{}",
        r["rca"]
    );
    let broken = r["files"]
        .as_array()
        .and_then(|f| {
            f.iter().find(|x| {
                x["path"]
                    .as_str()
                    .is_some_and(|p| p.ends_with("broken.json"))
            })
        })
        .expect("listed");
    assert_eq!(broken["status"], "error");
    assert!(
        broken["error"].as_str().is_some_and(|e| e.contains("OTLP")),
        "{broken}"
    );
}

fn log(c: &mut Collector, service: &str, minute: i64, level: Level, template: u64, message: &str) {
    c.add_log(&LogEvent {
        component: Some(service),
        file: "compose.log",
        multiplexed: true,
        line: 1,
        time: chrono::DateTime::from_timestamp(1_735_725_600 + minute * 60 + 7, 0),
        level,
        template,
        message,
        trace_id: None,
    });
}

#[allow(clippy::too_many_arguments)]
fn span(
    c: &mut Collector,
    service: &str,
    id: u64,
    parent: u64,
    kind: SpanKind,
    peer: Option<Peer<'_>>,
    error: bool,
    minute: u64,
) {
    let (sid, pid) = (id.to_be_bytes(), parent.to_be_bytes());
    let start = (1_735_725_600 + minute * 60 + 3) * 1_000_000_000;
    c.add_span(&SpanRecord {
        service,
        instance: None,
        zone: None,
        trace_id: &[9; 16],
        span_id: &sid,
        parent_span_id: if parent == 0 { &[] } else { &pid },
        name: "op",
        kind,
        start_ns: start,
        end_ns: start + 20_000_000,
        error,
        message: error.then_some("connection refused"),
        peer,
        http_status: None,
    });
}

#[test]
fn a_quiet_database_behind_a_loud_victim_and_an_early_hourly_error_is_ranked_first() {
    let mut c = Collector::new();
    let mut id = 1u64;
    for m in 0..60i64 {
        let down = m >= 40;
        // web -> api -> orders-db (not instrumented: only a peer of api's client spans).
        for _ in 0..5 {
            span(&mut c, "web", id, 0, SpanKind::Server, None, down, m as u64);
            span(
                &mut c,
                "api",
                id + 1,
                id,
                SpanKind::Server,
                None,
                down,
                m as u64,
            );
            let db = Peer {
                name: "orders-db",
                kind: PeerKind::Database,
            };
            span(
                &mut c,
                "api",
                id + 2,
                id + 1,
                SpanKind::Client,
                Some(db),
                down,
                m as u64,
            );
            id += 3;
        }
        log(&mut c, "api", m, Level::Info, 1, "handled request");
        if down {
            log(
                &mut c,
                "api",
                m,
                Level::Error,
                2,
                "query failed: connection to orders-db:5432 refused",
            );
            // The loudest service is a victim: fifty errors a minute.
            for _ in 0..50 {
                log(
                    &mut c,
                    "web",
                    m,
                    Level::Error,
                    3,
                    "upstream api returned 500",
                );
            }
            // The database itself only notes it is starting (no ERROR).
            log(
                &mut c,
                "orders-db",
                m,
                Level::Info,
                4,
                "database system is starting up",
            );
        }
        // An hourly job's error, the first ERROR in the data.
        if m == 2 || m == 32 {
            log(
                &mut c,
                "report-job",
                m,
                Level::Error,
                5,
                "report export failed: quota",
            );
        }
    }
    let r = rca::analyze(c, &rca::RcaConfig::default());
    let names: Vec<&str> = r.candidates.iter().map(|c| c.service.as_str()).collect();
    assert_eq!(
        names.first(),
        Some(&"orders-db"),
        "{names:?}\n{:#?}",
        r.candidates
    );
    let top = &r.candidates[0];
    assert_eq!(top.category, rca::Category::Database);
    assert_eq!(top.propagation_path, vec!["orders-db", "api", "web"]);
    assert!(top
        .evidence
        .iter()
        .any(|e| e.kind == "calls" || e.kind == "span"));
    assert!(
        !names.contains(&"report-job"),
        "the hourly job is not a candidate: {names:?}"
    );
    // Deterministic: the same input ranks the same way.
    assert!(r.summary.contains("orders-db"));
}

#[test]
fn bench_rca_scores_a_scenario_folder() {
    let data = tempfile::tempdir().expect("temp dir");
    let scenario = data.path().join("000-mlops");
    std::fs::create_dir_all(scenario.join("logs")).expect("mkdir");
    std::fs::create_dir_all(scenario.join("traces")).expect("mkdir");
    let ex = super::examples_dir();
    for f in ["compose.log", "feature-api.log", "node-syslog.log"] {
        std::fs::copy(ex.join(f), scenario.join("logs").join(f)).expect("copy");
    }
    std::fs::copy(
        ex.join("otel/traces.json"),
        scenario.join("traces/traces.json"),
    )
    .expect("copy");
    let truth = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/rca/mlops-truth.json");
    std::fs::copy(truth, scenario.join("truth.json")).expect("copy");
    let o = loglens()
        .args(["bench", "rca", "--json", "--data"])
        .arg(data.path())
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r: Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(r["scenarios"], 1);
    assert_eq!(r["top1"], 1.0);
    assert_eq!(r["category"], 1.0);
    let empty = tempfile::tempdir().expect("temp dir");
    let o = loglens()
        .args(["bench", "rca", "--data"])
        .arg(empty.path())
        .output()
        .expect("runs");
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("generate.py"));
}
