//! Errors in OpenAI's shape, `{"error":{"message","type","param","code"}}`, with the
//! status a client library acts on. Statuses are chosen from error variants and kinds,
//! never from message text; internal failures answer a generic message with the request
//! id and log the detail.

use axum::extract::rejection::JsonRejection;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::engine::{EngineError, ErrorKind};

use super::trace;

/// An error answered to an API client.
///
/// Which status each cause gets:
///
/// | cause | status | `type` | `code` |
/// |---|---|---|---|
/// | unreadable JSON, a field of the wrong type, a value out of range ([`ApiError::invalid`]), [`EngineError::InvalidRequest`], [`EngineError::Tokenizer`] | 400 | `invalid_request_error` | — |
/// | [`EngineError::ContextOverflow`], [`EngineError::PromptTooLarge`], [`EngineError::PromptOverContext`] | 400 | `invalid_request_error` | `context_length_exceeded` |
/// | missing or wrong API key | 401 | `invalid_request_error` | `invalid_api_key` |
/// | `Host` not allowed on a server without a key | 403 | `invalid_request_error` | `host_not_allowed` |
/// | unknown route, unknown model | 404 | `invalid_request_error` | — / `model_not_found` |
/// | the body did not arrive within the read timeout | 408 | `invalid_request_error` | `request_timeout` |
/// | body over the limit | 413 | `invalid_request_error` | `request_too_large` |
/// | [`EngineError::InvalidConstraint`], [`EngineError::ConstraintTooLarge`], [`EngineError::Constraint`] (while decoding) | 422 | `invalid_request_error` | `invalid_constraint` / `constraint_too_large` / `constraint_failed` |
/// | [`EngineError::Template`] (the model's chat template refuses the messages) | 422 | `invalid_request_error` | — |
/// | [`EngineError::Overloaded`] (queue full) | 429 + `Retry-After` | `rate_limit_error` | `queue_full` |
/// | request bodies in memory at their budget | 429 + `Retry-After` | `rate_limit_error` | `server_busy` |
/// | model still loading | 503 + `Retry-After` | `server_error` | `model_loading` |
/// | [`EngineError::ShuttingDown`] | 503 + `Retry-After` | `server_error` | `shutting_down` |
/// | [`EngineError::Compute`], [`EngineError::InvalidModel`], [`EngineError::ModelNotFound`], [`EngineError::Unsupported`], a failed task | 500, generic message with the request id; the detail goes to the log | `server_error` | `internal_error` |
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// What went wrong, for people.
    pub message: String,
    /// OpenAI's error type.
    pub kind: &'static str,
    /// The request field at fault.
    pub param: Option<String>,
    /// A stable code.
    pub code: Option<&'static str>,
    /// Seconds to wait before retrying (429/503).
    pub retry_after: Option<u32>,
    /// What failed inside, for the log only (internal errors).
    detail: Option<String>,
}

impl ApiError {
    fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            kind,
            param: None,
            code: None,
            retry_after: None,
            detail: None,
        }
    }

    fn request(status: StatusCode, message: impl Into<String>) -> Self {
        Self::new(status, "invalid_request_error", message)
    }

    fn with_code(mut self, code: &'static str) -> Self {
        self.code = Some(code);
        self
    }

    fn with_param(mut self, param: &str) -> Self {
        self.param = Some(param.to_string());
        self
    }

    /// 400 about one field.
    pub fn invalid(message: impl Into<String>, param: &str) -> Self {
        Self::request(StatusCode::BAD_REQUEST, message).with_param(param)
    }

    /// 401.
    pub fn unauthorized() -> Self {
        Self::request(
            StatusCode::UNAUTHORIZED,
            "invalid or missing API key (send Authorization: Bearer <key>)",
        )
        .with_code("invalid_api_key")
    }

    /// 403 for a `Host` header a keyless server does not answer to.
    pub fn host_not_allowed(host: &str) -> Self {
        Self::request(
            StatusCode::FORBIDDEN,
            format!(
                "Host {host:?} is not allowed; start loglens serve with --allowed-host {host} or with an API key"
            ),
        )
        .with_code("host_not_allowed")
    }

    /// 404 for a model this server does not serve.
    pub fn unknown_model(model: &str, served: &str) -> Self {
        Self::request(
            StatusCode::NOT_FOUND,
            format!("the model {model:?} does not exist here (this server serves {served:?})"),
        )
        .with_param("model")
        .with_code("model_not_found")
    }

    /// 404 for a route.
    pub fn not_found(path: &str) -> Self {
        Self::request(StatusCode::NOT_FOUND, format!("no such endpoint: {path}"))
    }

    /// 408: the request body did not arrive in time.
    pub fn body_timeout(secs: u64) -> Self {
        Self::request(
            StatusCode::REQUEST_TIMEOUT,
            format!("the request body did not arrive within {secs} s"),
        )
        .with_code("request_timeout")
    }

    /// 413.
    pub fn too_large(limit: usize) -> Self {
        Self::request(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body is over the limit of {limit} bytes"),
        )
        .with_code("request_too_large")
    }

    /// 429: the server holds as many request bodies as it allows.
    pub fn bodies_full() -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limit_error",
            "the server is reading as many request bodies as it holds at once",
        )
        .with_code("server_busy");
        e.retry_after = Some(1);
        e
    }

    /// 503 while the model loads.
    pub fn loading() -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "server_error",
            "the model is still loading",
        )
        .with_code("model_loading");
        e.retry_after = Some(2);
        e
    }

    /// 500: the client is told only that it failed and the request id; `detail` is
    /// logged.
    pub fn internal(detail: impl Into<String>) -> Self {
        let mut e = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "internal error",
        )
        .with_code("internal_error");
        e.detail = Some(detail.into());
        e
    }

    /// An error the engine reported while generating (the request had been accepted).
    pub fn from_event(kind: ErrorKind, message: String) -> Self {
        match kind {
            ErrorKind::Constraint => Self::request(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("generation stopped: {}", clip(&message, 300)),
            )
            .with_param("response_format")
            .with_code("constraint_failed"),
            ErrorKind::Request => Self::request(StatusCode::BAD_REQUEST, clip(&message, 300)),
            ErrorKind::Context => {
                Self::invalid(clip(&message, 300), "messages").with_code("context_length_exceeded")
            }
            ErrorKind::Busy => Self::busy(message),
            ErrorKind::Unavailable => Self::stopping(message),
            ErrorKind::Internal => Self::internal(format!("generation failed: {message}")),
        }
    }

    fn busy(message: String) -> Self {
        let mut a = Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limit_error", message)
            .with_code("queue_full");
        a.retry_after = Some(1);
        a
    }

    fn stopping(message: String) -> Self {
        let mut a = Self::new(StatusCode::SERVICE_UNAVAILABLE, "server_error", message)
            .with_code("shutting_down");
        a.retry_after = Some(5);
        a
    }

    /// The JSON body; internal errors carry the request id so a user can find the log
    /// line.
    pub fn body(&self) -> Value {
        let message = match (&self.detail, trace::current_id()) {
            (Some(_), Some(id)) => format!(
                "{} (request id {id}; the server log has the details)",
                self.message
            ),
            _ => self.message.clone(),
        };
        json!({
            "error": {
                "message": message,
                "type": self.kind,
                "param": self.param,
                "code": self.code,
            }
        })
    }

    /// Logs what the client is not told (internal errors); call once per error.
    pub fn log(&self) {
        if let Some(d) = &self.detail {
            tracing::error!(status = self.status.as_u16(), detail = %d, "request failed");
        } else if self.status.is_server_error() {
            tracing::warn!(status = self.status.as_u16(), message = %self.message, "request refused");
        } else {
            tracing::debug!(status = self.status.as_u16(), message = %self.message, "request refused");
        }
    }
}

fn clip(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        let message = e.to_string();
        match e {
            EngineError::ContextOverflow { .. }
            | EngineError::PromptTooLarge { .. }
            | EngineError::PromptOverContext { .. } => {
                Self::invalid(message, "messages").with_code("context_length_exceeded")
            }
            EngineError::InvalidRequest(_) | EngineError::Tokenizer(_) => {
                Self::request(StatusCode::BAD_REQUEST, message)
            }
            EngineError::Template(_) => {
                Self::request(StatusCode::UNPROCESSABLE_ENTITY, message).with_param("messages")
            }
            EngineError::InvalidConstraint(_) => {
                Self::request(StatusCode::UNPROCESSABLE_ENTITY, clip(&message, 1000))
                    .with_param("response_format")
                    .with_code("invalid_constraint")
            }
            EngineError::ConstraintTooLarge { .. } => {
                Self::request(StatusCode::UNPROCESSABLE_ENTITY, message)
                    .with_param("response_format")
                    .with_code("constraint_too_large")
            }
            EngineError::Constraint(m) => Self::from_event(ErrorKind::Constraint, m),
            EngineError::Overloaded { .. } => Self::busy(message),
            EngineError::ShuttingDown => Self::stopping(message),
            EngineError::ModelNotFound(_)
            | EngineError::InvalidModel { .. }
            | EngineError::Unsupported { .. }
            | EngineError::Compute(_) => Self::internal(message),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        let status = r.status();
        let message = r.body_text();
        match status {
            StatusCode::PAYLOAD_TOO_LARGE => {
                Self::request(status, message).with_code("request_too_large")
            }
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Self::request(
                StatusCode::BAD_REQUEST,
                "the body must be JSON with Content-Type: application/json",
            ),
            // Syntax errors and fields of the wrong type or missing: OpenAI answers 400.
            _ => Self::request(
                StatusCode::BAD_REQUEST,
                format!("could not parse the JSON body: {message}"),
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.log();
        let mut r = (self.status, axum::Json(self.body())).into_response();
        if let Some(s) = self.retry_after {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_variants_not_text() {
        // A request error whose text mentions "constraint" stays a 400.
        let e = ApiError::from(EngineError::InvalidRequest(
            "the constraint of temperature".into(),
        ));
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        let e = ApiError::from(EngineError::InvalidConstraint("x".into()));
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e.code, Some("invalid_constraint"));
        let e = ApiError::from(EngineError::ConstraintTooLarge {
            what: "properties",
            found: 9,
            limit: 1,
        });
        assert_eq!(e.code, Some("constraint_too_large"));
        let e = ApiError::from(EngineError::Overloaded {
            queued: 1,
            limit: 1,
        });
        assert_eq!(
            (e.status, e.retry_after),
            (StatusCode::TOO_MANY_REQUESTS, Some(1))
        );
    }

    #[test]
    fn internal_errors_hide_the_detail() {
        let e = ApiError::from(EngineError::Compute(candle_core::Error::Msg(
            "shape mismatch in layer 3".into(),
        )));
        assert_eq!(e.status, StatusCode::INTERNAL_SERVER_ERROR);
        let body = e.body().to_string();
        assert!(!body.contains("shape mismatch"), "{body}");
        assert!(body.contains("internal error"), "{body}");
    }

    #[tokio::test]
    async fn internal_errors_name_the_request_id_and_log_the_detail() {
        use std::sync::{Arc, Mutex};
        #[derive(Clone, Default)]
        struct Log(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Log {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                if let Ok(mut v) = self.0.lock() {
                    v.extend_from_slice(b);
                }
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let log = Log::default();
        let w = log.clone();
        let sub = tracing_subscriber::fmt()
            .with_writer(move || w.clone())
            .with_ansi(false)
            .finish();
        let _g = tracing::subscriber::set_default(sub);
        // Callsites first met by other tests' threads may cache "not interested".
        tracing::callsite::rebuild_interest_cache();
        let resp = trace::scope("req-test-7".into(), async {
            let span = tracing::info_span!("request", id = "req-test-7");
            let _e = span.enter();
            ApiError::internal("tensor shape mismatch in layer 3").into_response()
        })
        .await;
        assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(resp.into_body(), 1 << 16)
            .await
            .unwrap_or_default();
        let body = String::from_utf8_lossy(&body);
        assert!(body.contains("req-test-7"), "{body}");
        assert!(!body.contains("tensor"), "{body}");
        let text = String::from_utf8_lossy(&log.0.lock().map(|v| v.clone()).unwrap_or_default())
            .into_owned();
        assert!(
            text.contains("tensor shape mismatch in layer 3") && text.contains("req-test-7"),
            "{text}"
        );
    }

    #[test]
    fn clipped_messages_end_on_a_character() {
        let s = "é".repeat(400);
        let c = clip(&s, 301);
        assert!(c.len() <= 304 && c.ends_with('…'));
    }
}
