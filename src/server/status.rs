//! `/health`, `/ready` and `/metrics`: what probes and Prometheus read, without a key.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use super::AppState;

/// The status routes.
pub(super) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics_text))
}

async fn health() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

async fn ready(State(state): State<Arc<AppState>>) -> Response {
    match state.scheduler() {
        Ok((s, _)) => Json(json!({
            "status": "ready",
            "model": state.model_id,
            "queued": s.queued(),
            "running": s.running(),
        }))
        .into_response(),
        Err(e) => e.into_response(),
    }
}

async fn metrics_text(State(state): State<Arc<AppState>>) -> Response {
    let sched = state.sched.get();
    let mut body = state.metrics.render(
        sched.map_or(0, |s| s.queued()),
        sched.map_or(0, |s| s.running()),
        sched.map(|s| &s.engine().mask_hist),
    );
    // Zeros before the model is loaded, so the series exist from the start.
    let prefix = sched.map(|s| s.engine().prefix_stats()).unwrap_or_default();
    super::metrics::Metrics::render_prefix(&mut body, &prefix);
    body.push_str(&process_metrics());
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// The process' resident memory and open file descriptors, under Prometheus' standard
/// names (Linux; nothing elsewhere).
fn process_metrics() -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    if let Some(kib) = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
    {
        let _ = writeln!(
            out,
            "# HELP process_resident_memory_bytes Resident memory size in bytes.\n\
             # TYPE process_resident_memory_bytes gauge\n\
             process_resident_memory_bytes {}",
            kib * 1024
        );
    }
    if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
        let _ = writeln!(
            out,
            "# HELP process_open_fds Number of open file descriptors.\n\
             # TYPE process_open_fds gauge\n\
             process_open_fds {}",
            fds.count()
        );
    }
    out
}
