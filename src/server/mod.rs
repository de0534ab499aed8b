//! The OpenAI-compatible HTTP server (`loglens serve`): chat and text completions
//! (streaming too), models, health, readiness and Prometheus metrics, on the in-process
//! engine through its [`Scheduler`].
//!
//! The listener opens before the model is loaded: `/health` answers at once, `/ready`
//! and `/v1/*` answer 503 with `Retry-After` until the model is in memory.

pub mod api;
mod completions;
pub mod error;
mod metrics;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{DefaultBodyLimit, MatchedPath, Path, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use subtle::ConstantTimeEq;
use tokio::net::TcpListener;

use crate::engine::{Engine, Scheduler, SchedulerConfig};
use api::ModelCard;
use error::ApiError;
pub use metrics::Metrics;

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Address to bind (127.0.0.1 unless told otherwise).
    pub addr: SocketAddr,
    /// Required bearer token on `/v1/*`, if set.
    pub api_key: Option<String>,
    /// Origins allowed by CORS; none means no CORS headers.
    pub cors_origins: Vec<String>,
    /// Largest request body in bytes.
    pub body_limit: usize,
    /// Batching limits.
    pub scheduler: SchedulerConfig,
}

/// What the handlers share.
#[derive(Debug)]
pub struct AppState {
    sched: OnceLock<Arc<Scheduler>>,
    model_id: String,
    api_key: Option<String>,
    created: u64,
    /// Counters and histograms for `/metrics`.
    pub metrics: Metrics,
}

impl AppState {
    /// State for a model that is still loading; call [`AppState::set_ready`] once it is.
    pub fn new(model_id: impl Into<String>, api_key: Option<String>) -> Arc<Self> {
        Arc::new(Self {
            sched: OnceLock::new(),
            model_id: model_id.into(),
            api_key: api_key.filter(|k| !k.is_empty()),
            created: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            metrics: Metrics::default(),
        })
    }

    /// Marks the model loaded.
    pub fn set_ready(&self, sched: Arc<Scheduler>) {
        let _ = self.sched.set(sched);
    }

    /// The scheduler, or 503 while the model loads.
    fn scheduler(&self) -> Result<&Arc<Scheduler>, ApiError> {
        self.sched.get().ok_or_else(ApiError::loading)
    }

    /// The id clients use for the model.
    pub fn model_id(&self) -> &str {
        &self.model_id
    }

    fn check_model(&self, model: &str) -> Result<(), ApiError> {
        if model == self.model_id || model.eq_ignore_ascii_case(&self.model_id) {
            Ok(())
        } else {
            Err(ApiError::unknown_model(model, &self.model_id))
        }
    }

    fn card(&self) -> ModelCard {
        ModelCard {
            id: self.model_id.clone(),
            object: "model",
            created: self.created,
            owned_by: "loglens",
        }
    }
}

/// The id of a model file: its name without `.gguf`.
pub fn model_id_for(path: &std::path::Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().trim_end_matches(".gguf").to_string())
        .unwrap_or_else(|| "loglens".into())
}

/// The routes, with auth, metrics, body limit and (if asked) CORS.
pub fn router(state: Arc<AppState>, cfg: &ServeConfig) -> Router {
    let v1 = Router::new()
        .route("/v1/chat/completions", post(completions::chat))
        .route("/v1/completions", post(completions::completion))
        .route("/v1/models", get(list_models))
        .route("/v1/models/{*id}", get(get_model))
        .route_layer(middleware::from_fn_with_state(state.clone(), auth));
    let mut app = Router::new()
        .merge(v1)
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics_text))
        .fallback(fallback)
        .layer(middleware::from_fn_with_state(state.clone(), count))
        .layer(DefaultBodyLimit::max(cfg.body_limit))
        .with_state(state);
    if !cfg.cors_origins.is_empty() {
        let origins: Vec<HeaderValue> = cfg
            .cors_origins
            .iter()
            .filter_map(|o| HeaderValue::from_str(o).ok())
            .collect();
        app = app.layer(
            tower_http::cors::CorsLayer::new()
                .allow_origin(origins)
                .allow_methods([Method::GET, Method::POST])
                .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE]),
        );
    }
    app
}

/// Binds, loads the model in the background and serves until SIGTERM or Ctrl-C, then
/// stops accepting, lets in-flight requests finish and drains the engine. Prints
/// `listening on http://ADDR` on stdout once bound (port 0 picks a free port).
pub async fn serve(
    cfg: ServeConfig,
    model_path: PathBuf,
    load: impl FnOnce() -> anyhow::Result<Engine> + Send + 'static,
) -> anyhow::Result<()> {
    let state = AppState::new(model_id_for(&model_path), cfg.api_key.clone());
    let app = router(state.clone(), &cfg);
    let listener = TcpListener::bind(cfg.addr).await?;
    let addr = listener.local_addr()?;
    println!("listening on http://{addr}");
    tracing::info!(%addr, model = %state.model_id, "listening");
    // A model that fails to load stops the server with that error.
    let (fail_tx, fail_rx) = tokio::sync::oneshot::channel::<anyhow::Error>();
    {
        let state = state.clone();
        let sched_cfg = cfg.scheduler;
        tokio::task::spawn_blocking(move || match load() {
            Ok(engine) => {
                state.set_ready(Arc::new(Scheduler::new(Arc::new(engine), sched_cfg)));
                tracing::info!("model loaded, ready");
            }
            Err(e) => {
                let _ = fail_tx.send(e);
            }
        });
    }
    let failed = Arc::new(std::sync::Mutex::new(None));
    let stop = {
        let failed = failed.clone();
        async move {
            tokio::select! {
                () = shutdown_signal() => {},
                e = fail_rx => match e {
                    Ok(e) => {
                        if let Ok(mut f) = failed.lock() {
                            *f = Some(e);
                        }
                    }
                    // Loaded: wait for a signal.
                    Err(_) => shutdown_signal().await,
                },
            }
        }
    };
    axum::serve(listener, app)
        .with_graceful_shutdown(stop)
        .await?;
    if let Some(e) = failed.lock().ok().and_then(|mut f| f.take()) {
        return Err(e);
    }
    if let Some(s) = state.sched.get() {
        let s = s.clone();
        let _ = tokio::task::spawn_blocking(move || s.shutdown()).await;
    }
    tracing::info!("stopped");
    Ok(())
}

/// Serves a loaded engine on a runtime of its own, in the background, until the runtime
/// is dropped (for benchmarks and tools that need a local API). Returns the bound address.
pub fn spawn_local(
    engine: Engine,
    model_id: &str,
    cfg: &ServeConfig,
) -> anyhow::Result<(SocketAddr, tokio::runtime::Runtime)> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .worker_threads(2)
        .thread_name("loglens-http")
        .build()?;
    let state = AppState::new(model_id, cfg.api_key.clone());
    state.set_ready(Arc::new(Scheduler::new(Arc::new(engine), cfg.scheduler)));
    let app = router(state, cfg);
    let listener = rt.block_on(TcpListener::bind(cfg.addr))?;
    let addr = listener.local_addr()?;
    rt.spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "local server stopped");
        }
    });
    Ok((addr, rt))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

/// Requires `Authorization: Bearer <key>` when a key is configured.
async fn auth(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    if let Some(key) = &state.api_key {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if !bool::from(given.as_bytes().ct_eq(key.as_bytes())) {
            return ApiError::unauthorized().into_response();
        }
    }
    next.run(req).await
}

/// Counts requests by route and status.
async fn count(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let r = next.run(req).await;
    state.metrics.count_request(&route, r.status().as_u16());
    r
}

async fn health() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

async fn ready(State(state): State<Arc<AppState>>) -> Response {
    match state.scheduler() {
        Ok(s) => Json(json!({
            "status": "ready",
            "model": state.model_id,
            "queued": s.queued(),
            "running": s.running(),
        }))
        .into_response(),
        Err(e) => e.into_response(),
    }
}

async fn list_models(State(state): State<Arc<AppState>>) -> Json<serde_json::Value> {
    Json(json!({"object": "list", "data": [state.card()]}))
}

async fn get_model(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<ModelCard>, ApiError> {
    state.check_model(&id)?;
    Ok(Json(state.card()))
}

async fn metrics_text(State(state): State<Arc<AppState>>) -> Response {
    let sched = state.sched.get();
    let mut body = state.metrics.render(
        sched.map_or(0, |s| s.queued()),
        sched.map_or(0, |s| s.running()),
        sched.map(|s| &s.engine().mask_hist),
    );
    if let Some(s) = sched {
        metrics::Metrics::render_prefix(&mut body, &s.engine().prefix_stats());
    }
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

async fn fallback(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(uri.path())
}

/// Keep-alive interval of event streams.
pub(crate) const KEEP_ALIVE: Duration = Duration::from_secs(10);
