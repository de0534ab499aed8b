//! One tracing span per request (method, path, request id, then status and latency) and
//! the request id itself: taken from a well-formed `x-request-id` header or made here,
//! answered in `x-request-id`, and readable by handlers ([`current_id`]) so an internal
//! error can name it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use tower_http::trace::TraceLayer;
use tracing::{field, Span};

static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being handled, inside a handler or a task it runs in
/// [`scope`].
pub fn current_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// Runs `f` with `id` as the current request id (for tasks a handler spawns).
pub async fn scope<F: std::future::Future>(id: String, f: F) -> F::Output {
    REQUEST_ID.scope(id, f).await
}

static NEXT: AtomicU64 = AtomicU64::new(0);

fn new_id() -> String {
    // Start-time prefix: ids stay distinct across restarts of the server.
    static START: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let start = *START.get_or_init(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    });
    format!("req-{start:x}-{:x}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A client's id is kept if it is short and plain (it goes into logs and headers).
fn acceptable(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

/// Gives the request its id (in its headers and the task-local) and answers it.
async fn request_id(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map_or_else(new_id, str::to_string);
    if let Ok(v) = HeaderValue::from_str(&id) {
        req.headers_mut().insert(X_REQUEST_ID.clone(), v);
    }
    let mut resp = REQUEST_ID.scope(id.clone(), next.run(req)).await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(X_REQUEST_ID.clone(), v);
    }
    resp
}

fn make_span(req: &Request) -> Span {
    let id = req
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    tracing::info_span!(
        "request",
        method = %req.method(),
        path = %req.uri().path(),
        id = %id,
        status = field::Empty,
        latency_ms = field::Empty,
    )
}

fn on_response(resp: &Response, latency: Duration, span: &Span) {
    let ms = latency.as_secs_f64() * 1e3;
    span.record("status", resp.status().as_u16());
    span.record("latency_ms", ms);
    tracing::info!(status = resp.status().as_u16(), latency_ms = ms, "answered");
}

/// Wraps `app` in the request span and the request id (outermost: everything inside,
/// auth and limits included, is logged under the request's span).
pub fn layer(app: Router) -> Router {
    app.layer(
        TraceLayer::new_for_http()
            .make_span_with(make_span)
            .on_request(())
            .on_response(on_response)
            // Internal errors are logged with their detail by `ApiError`; no second line.
            .on_failure(()),
    )
    .layer(axum::middleware::from_fn(request_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids_are_kept_only_when_plain() {
        assert!(acceptable("abc-123_x.y:z"));
        assert!(!acceptable(""));
        assert!(!acceptable("a b"));
        assert!(!acceptable(&"a".repeat(65)));
        assert!(!acceptable("line\nbreak"));
        assert_ne!(new_id(), new_id());
    }
}
