//! Connections: the accept loop with a cap on open connections, and the timeouts that
//! keep a hostile or broken client from holding one forever.
//!
//! - at most `max_connections` are served at once; more wait in the listen backlog
//!   until one closes (mini-redis' habit);
//! - a request's headers must arrive within the read timeout, and a keep-alive
//!   connection idle that long is closed (hyper's header timer covers both);
//! - its body must arrive within the read timeout too (408 otherwise); a body over the
//!   limit is 413 without reading the rest, and bodies held in memory at once are
//!   bounded by a budget ([`BodyGate`]; 429 when it is spent);
//! - a client that accepts no bytes of a response for that long is dropped (a stalled
//!   reader would otherwise pin its connection and the response's buffers).
//!
//! On shutdown the loop stops accepting, asks every connection to finish its current
//! response and close, and returns when all have.

use std::future::Future;
use std::io;
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::time::Sleep;

use super::error::ApiError;

/// Limits on connections and how long they may stall.
#[derive(Debug, Clone, Copy)]
pub struct ConnLimits {
    /// Connections served at once.
    pub max_connections: usize,
    /// Time for a request's headers, then for its body; idle keep-alive connections and
    /// clients that read nothing of a response are closed after it too.
    pub read_timeout: Duration,
    /// Largest request body in bytes.
    pub body_limit: usize,
}

impl Default for ConnLimits {
    fn default() -> Self {
        Self {
            max_connections: 256,
            read_timeout: Duration::from_secs(30),
            body_limit: 8 << 20,
        }
    }
}

/// Serves `app` on `listener` until `stop` completes, then drains (see the module
/// docs).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnLimits,
    stop: impl Future<Output = ()>,
) {
    let max = limits.max_connections.clamp(1, Semaphore::MAX_PERMITS);
    let slots = Arc::new(Semaphore::new(max));
    // Dropped to ask every connection to finish and close.
    let (close_tx, close_rx) = watch::channel(());
    let mut stop = pin!(stop);
    let mut warned = false;
    loop {
        let slot = tokio::select! {
            s = slots.clone().acquire_owned() => match s {
                Ok(s) => s,
                Err(_) => break,
            },
            () = &mut stop => break,
        };
        if slots.available_permits() == 0 && !warned {
            tracing::warn!(max, "connection limit reached; new connections wait");
            warned = true;
        }
        let (tcp, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let _ = tcp.set_nodelay(true);
        let io = TokioIo::new(StallGuard::new(tcp, limits.read_timeout));
        let svc = TowerToHyperService::new(app.clone());
        let mut close = close_rx.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let mut b = hyper::server::conn::http1::Builder::new();
            b.timer(TokioTimer::new())
                .header_read_timeout(limits.read_timeout)
                .keep_alive(true);
            let mut conn = pin!(b.serve_connection(io, svc));
            let r = tokio::select! {
                r = conn.as_mut() => r,
                _ = close.changed() => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = r {
                tracing::debug!(%peer, error = %e, "connection ended");
            }
        });
    }
    drop(close_tx);
    // Every connection holds a slot until it closes.
    let _ = slots.acquire_many(max as u32).await;
}

/// Request bodies held in memory at once, in bytes: this many times the body limit.
pub const BODY_BUDGET_BODIES: usize = 8;

/// What [`read_body`] enforces: the limits, and the budget of body bytes all requests
/// together may hold.
#[derive(Debug, Clone)]
pub struct BodyGate {
    limits: ConnLimits,
    budget: Arc<Semaphore>,
    total: usize,
}

impl BodyGate {
    /// A gate with a budget of [`BODY_BUDGET_BODIES`] bodies of the largest size.
    pub fn new(limits: ConnLimits) -> Self {
        let total = limits
            .body_limit
            .max(1)
            .saturating_mul(BODY_BUDGET_BODIES)
            .min(u32::MAX as usize);
        Self {
            limits,
            budget: Arc::new(Semaphore::new(total)),
            total,
        }
    }
}

/// Reads the whole body within the read timeout and the body limit, before any handler
/// sees the request (408 and 413 otherwise; a declared length over the limit is refused
/// before reading). The bytes it will hold are reserved from the gate's budget first
/// (the declared length, or the limit for a chunked body) and given back once the
/// handler has answered; a request that finds no room within a second is answered 429.
pub(super) async fn read_body(State(gate): State<BodyGate>, req: Request, next: Next) -> Response {
    let limits = gate.limits;
    let (parts, body) = req.into_parts();
    let declared = parts
        .headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limits.body_limit as u64) {
        return ApiError::too_large(limits.body_limit).into_response();
    }
    let want = declared
        .map_or(limits.body_limit, |n| n as usize)
        .clamp(1, gate.total);
    let reserve = gate.budget.clone().acquire_many_owned(want as u32);
    let _reserved = match tokio::time::timeout(Duration::from_secs(1), reserve).await {
        Ok(Ok(p)) => p,
        _ => return ApiError::bodies_full().into_response(),
    };
    let bytes =
        match tokio::time::timeout(limits.read_timeout, collect(body, limits.body_limit)).await {
            Ok(Ok(b)) => b,
            Ok(Err(e)) => return e.into_response(),
            Err(_) => return ApiError::body_timeout(limits.read_timeout.as_secs()).into_response(),
        };
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// The body's bytes, up to `limit`.
async fn collect(mut body: Body, limit: usize) -> Result<Vec<u8>, ApiError> {
    use http_body_util::BodyExt;
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            ApiError::invalid(format!("could not read the request body: {e}"), "body")
        })?;
        if let Ok(data) = frame.into_data() {
            if out.len() + data.len() > limit {
                return Err(ApiError::too_large(limit));
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(out)
}

/// A socket whose writes fail with `TimedOut` once they have made no progress for the
/// timeout (the peer stopped reading). Reads are untouched: a client waiting for a long
/// answer sends nothing, legitimately.
struct StallGuard<T> {
    inner: T,
    timeout: Duration,
    stalled: Option<Pin<Box<Sleep>>>,
}

impl<T> StallGuard<T> {
    fn new(inner: T, timeout: Duration) -> Self {
        Self {
            inner,
            timeout,
            stalled: None,
        }
    }

    /// Turns a pending write into an error once the stall has lasted the timeout.
    fn on_pending<R>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<R>> {
        let timeout = self.timeout;
        let sleep = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client read nothing of the response",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for StallGuard<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for StallGuard<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write(cx, buf) {
            Poll::Pending => self.on_pending(cx),
            ready => {
                self.stalled = None;
                ready
            }
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write_vectored(cx, bufs) {
            Poll::Pending => self.on_pending(cx),
            ready => {
                self.stalled = None;
                ready
            }
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match Pin::new(&mut self.inner).poll_flush(cx) {
            Poll::Pending => self.on_pending(cx),
            ready => {
                self.stalled = None;
                ready
            }
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
