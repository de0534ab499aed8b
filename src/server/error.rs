//! Errors in OpenAI's shape, `{"error":{"message","type","param","code"}}`, with the
//! status a client library acts on.

use axum::extract::rejection::JsonRejection;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::engine::EngineError;

/// An error answered to an API client.
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
        }
    }

    /// 400 about one field.
    pub fn invalid(message: impl Into<String>, param: &str) -> Self {
        let mut e = Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", message);
        e.param = Some(param.to_string());
        e
    }

    /// 401.
    pub fn unauthorized() -> Self {
        let mut e = Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            "invalid or missing API key (send Authorization: Bearer <key>)",
        );
        e.code = Some("invalid_api_key");
        e
    }

    /// 404 for a model this server does not serve.
    pub fn unknown_model(model: &str, served: &str) -> Self {
        let mut e = Self::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            format!("the model {model:?} does not exist here (this server serves {served:?})"),
        );
        e.param = Some("model".into());
        e.code = Some("model_not_found");
        e
    }

    /// 404 for a route.
    pub fn not_found(path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            format!("no such endpoint: {path}"),
        )
    }

    /// 503 while the model loads.
    pub fn loading() -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "server_error",
            "the model is still loading",
        );
        e.code = Some("model_loading");
        e.retry_after = Some(2);
        e
    }

    /// 500.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", message)
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        let message = e.to_string();
        match e {
            EngineError::ContextOverflow { .. } => {
                let mut a = Self::invalid(message, "messages");
                a.code = Some("context_length_exceeded");
                a
            }
            EngineError::InvalidRequest(_) | EngineError::Tokenizer(_) => {
                let mut a = Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", message);
                if a.message.contains("constraint") || a.message.contains("regex") {
                    a.status = StatusCode::UNPROCESSABLE_ENTITY;
                    a.param = Some("response_format".into());
                }
                a
            }
            EngineError::Template(_) => {
                let mut a = Self::invalid(message, "messages");
                a.status = StatusCode::UNPROCESSABLE_ENTITY;
                a
            }
            EngineError::Overloaded { .. } => {
                let mut a = Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limit_error", message);
                a.code = Some("queue_full");
                a.retry_after = Some(1);
                a
            }
            EngineError::ShuttingDown => {
                let mut a = Self::new(StatusCode::SERVICE_UNAVAILABLE, "server_error", message);
                a.retry_after = Some(5);
                a
            }
            _ => Self::internal(message),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        let status = r.status();
        let message = r.body_text();
        match status {
            StatusCode::PAYLOAD_TOO_LARGE => {
                let mut a = Self::new(status, "invalid_request_error", message);
                a.code = Some("request_too_large");
                a
            }
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Self::new(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                "the body must be JSON with Content-Type: application/json",
            ),
            // Syntax errors and fields of the wrong type or missing: OpenAI answers 400.
            _ => Self::new(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                format!("could not parse the JSON body: {message}"),
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({
            "error": {
                "message": self.message,
                "type": self.kind,
                "param": self.param,
                "code": self.code,
            }
        });
        let mut r = (self.status, axum::Json(body)).into_response();
        if let Some(s) = self.retry_after {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        r
    }
}
