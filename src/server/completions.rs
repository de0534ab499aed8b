//! `/v1/chat/completions` and `/v1/completions`, plain and streamed.
//!
//! Each choice is one engine request in the scheduler; their events arrive on one
//! channel tagged with the choice index. A client that goes away (the response future or
//! the event stream dropped) cancels every choice still generating.

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio_stream::wrappers::UnboundedReceiverStream;
use tracing::Instrument;

use crate::engine::{
    CancelToken, Constraint, Engine, Event, FinishReason, GenerateRequest, Input, Usage,
};

use super::api::{
    ChatRequest, Common, CompletionRequest, Content, TokenLogprob, TopLogprobOut, UsageOut,
};
use super::error::ApiError;
use super::{trace, AppState, KEEP_ALIVE};

/// The completion routes.
pub(super) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1/chat/completions", post(chat))
        .route("/v1/completions", post(completion))
}

/// Cancels the choices of a response when dropped before they finish.
struct CancelOnDrop(Vec<CancelToken>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        for c in &self.0 {
            c.cancel();
        }
    }
}

/// The choices of one response, running.
struct Running {
    rx: mpsc::UnboundedReceiver<(usize, Event)>,
    guard: CancelOnDrop,
    engine: Arc<Engine>,
    choices: usize,
    /// Choices per prompt.
    n: usize,
}

/// Submits `n` choices for each input (whose bytes the caller has checked), in its turn
/// to be prepared, after counting each input's tokens against the context.
async fn submit(
    state: &AppState,
    inputs: Vec<Input>,
    common: &Common,
    constraint: Option<Constraint>,
    logprobs: Option<usize>,
) -> Result<Running, ApiError> {
    let (sched, admission) = state.scheduler()?;
    let (sched, admission) = (sched.clone(), admission.clone());
    let turn = admission.turn().await;
    let (tx, rx) = mpsc::unbounded_channel();
    let cancels: Vec<CancelToken> = (0..inputs.len() * common.n)
        .map(|_| CancelToken::new())
        .collect();
    let guard = CancelOnDrop(cancels.clone());
    let choices = cancels.len();
    let engine = sched.engine().clone();
    let common_c = common.clone();
    // Counting, tokenizing and compiling grammars is CPU work: off the async threads.
    tokio::task::spawn_blocking(move || {
        let _turn = turn;
        for input in &inputs {
            let texts: Vec<&str> = match input {
                Input::Prompt(p) => vec![p.as_str()],
                Input::Messages(m) => m.iter().map(|m| m.content.as_str()).collect(),
                Input::Tokens(_) => Vec::new(),
            };
            admission.check_tokens(sched.engine(), &texts)?;
        }
        let mut cancels = cancels.into_iter();
        let mut i = 0;
        for input in inputs {
            for j in 0..common_c.n {
                let mut sampling = common_c.sampling.clone();
                // Distinct choices from one seed, still reproducible.
                sampling.seed = sampling.seed.map(|s| s.wrapping_add(j as u64));
                let req = GenerateRequest {
                    input: input.clone(),
                    sampling,
                    max_tokens: common_c.max_tokens,
                    stop: common_c.stop.clone(),
                    constraint: constraint.clone(),
                    logprobs,
                    cancel: cancels.next(),
                };
                let tx = tx.clone();
                let index = i;
                sched.submit(
                    req,
                    Box::new(move |e| {
                        if tx.send((index, e)).is_err() {
                            std::ops::ControlFlow::Break(())
                        } else {
                            std::ops::ControlFlow::Continue(())
                        }
                    }),
                )?;
                i += 1;
            }
        }
        Ok::<_, crate::engine::EngineError>(())
    })
    .await
    .map_err(|e| ApiError::internal(format!("preparing the request failed: {e}")))??;
    Ok(Running {
        rx,
        guard,
        engine,
        choices,
        n: common.n,
    })
}

/// What one choice has produced.
#[derive(Debug, Default)]
struct Choice {
    text: String,
    finish: Option<FinishReason>,
    usage: Usage,
    logprobs: Vec<TokenLogprob>,
    /// Log-probs not yet sent (streaming).
    unsent: usize,
    last_token: Option<Instant>,
}

fn token_logprob(
    engine: &Engine,
    id: u32,
    logprob: f32,
    top: &[crate::engine::TopLogprob],
    with_top: bool,
) -> TokenLogprob {
    let (token, bytes) = engine.token_piece(id);
    TokenLogprob {
        token,
        logprob,
        bytes,
        top_logprobs: with_top.then(|| {
            top.iter()
                .map(|t| {
                    let (token, bytes) = engine.token_piece(t.id);
                    TopLogprobOut {
                        token,
                        logprob: t.logprob,
                        bytes,
                    }
                })
                .collect()
        }),
    }
}

fn finish_reason(f: Option<FinishReason>) -> &'static str {
    match f {
        Some(FinishReason::Length) => "length",
        _ => "stop",
    }
}

fn usage_out(choices: &[Choice], n: usize) -> UsageOut {
    let prompt: usize = choices
        .iter()
        .step_by(n.max(1))
        .map(|c| c.usage.prompt_tokens)
        .sum();
    let completion: usize = choices.iter().map(|c| c.usage.completion_tokens).sum();
    UsageOut {
        prompt_tokens: prompt,
        completion_tokens: completion,
        total_tokens: prompt + completion,
    }
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn new_id(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    format!(
        "{prefix}-{nanos:x}{:04x}",
        NEXT_ID.fetch_add(1, Ordering::Relaxed) & 0xffff
    )
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Feeds one event into its choice; returns whether that choice just ended.
fn apply(
    state: &AppState,
    run: &Running,
    choices: &mut [Choice],
    i: usize,
    e: Event,
    with_top: bool,
) -> Result<bool, ApiError> {
    let Some(c) = choices.get_mut(i) else {
        return Ok(false);
    };
    match e {
        Event::Token { id, logprob, top } => {
            c.logprobs
                .push(token_logprob(&run.engine, id, logprob, &top, with_top));
            Ok(false)
        }
        Event::Text { text, .. } => {
            let t = Instant::now();
            if let Some(last) = c.last_token {
                state.metrics.itl.observe((t - last).as_secs_f64());
            }
            c.last_token = Some(t);
            c.text.push_str(&text);
            Ok(false)
        }
        Event::Done { finish, usage } => {
            c.finish = Some(finish);
            c.usage = usage;
            state.metrics.count_generation(&usage);
            Ok(true)
        }
        Event::Error { message, kind } => Err(ApiError::from_event(kind, message)),
    }
}

/// Waits for every choice to finish.
async fn collect(
    state: &AppState,
    run: &mut Running,
    with_top: bool,
) -> Result<Vec<Choice>, ApiError> {
    let mut choices: Vec<Choice> = (0..run.choices).map(|_| Choice::default()).collect();
    let mut done = 0;
    while done < run.choices {
        let Some((i, e)) = run.rx.recv().await else {
            return Err(ApiError::internal(
                "the engine stopped before finishing the request",
            ));
        };
        if apply(state, run, &mut choices, i, e, with_top)? {
            done += 1;
        }
    }
    Ok(choices)
}

/// `POST /v1/chat/completions`.
pub(super) async fn chat(
    State(state): State<Arc<AppState>>,
    body: Result<Json<ChatRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body?;
    state.check_model(&body.model)?;
    let common = body.sampling.common()?;
    let messages = body.messages()?;
    let constraint = body.constraint()?;
    let logprobs = body.logprobs()?;
    state.scheduler()?.1.check_bytes(chat_bytes(&body))?;
    let with_top = body.top_logprobs.is_some();
    let mut run = submit(
        &state,
        vec![Input::Messages(messages)],
        &common,
        constraint,
        logprobs,
    )
    .await?;
    let id = new_id("chatcmpl");
    let model = state.model_id().to_string();
    if common.stream {
        return Ok(stream(
            state,
            run,
            id,
            model,
            common.include_usage,
            with_top,
            true,
        ));
    }
    let choices = collect(&state, &mut run, with_top).await?;
    let usage = usage_out(&choices, run.n);
    let out: Vec<Value> = choices
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            json!({
                "index": i,
                "message": {"role": "assistant", "content": c.text, "refusal": null},
                "logprobs": logprobs.map(|_| json!({"content": c.logprobs, "refusal": null})),
                "finish_reason": finish_reason(c.finish),
            })
        })
        .collect();
    let mut v = envelope(&id, "chat.completion", now(), &model, json!(out));
    v["usage"] = json!(usage);
    Ok(Json(v).into_response())
}

/// `POST /v1/completions`.
pub(super) async fn completion(
    State(state): State<Arc<AppState>>,
    body: Result<Json<CompletionRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body?;
    state.check_model(&body.model)?;
    let common = body.sampling.common()?;
    let prompts = body.prompts()?;
    let constraint = body.constraint()?;
    if body.logprobs.is_some_and(|n| n > 20) {
        return Err(ApiError::invalid(
            "logprobs must be between 0 and 20",
            "logprobs",
        ));
    }
    let admission = state.scheduler()?.1;
    for p in &prompts {
        admission.check_bytes(p.len())?;
    }
    let mut run = submit(
        &state,
        prompts.into_iter().map(Input::Prompt).collect(),
        &common,
        constraint,
        body.logprobs,
    )
    .await?;
    let id = new_id("cmpl");
    let model = state.model_id().to_string();
    if common.stream {
        return Ok(stream(
            state,
            run,
            id,
            model,
            common.include_usage,
            true,
            false,
        ));
    }
    let choices = collect(&state, &mut run, true).await?;
    let usage = usage_out(&choices, run.n);
    let out: Vec<Value> = choices
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            json!({
                "index": i,
                "text": c.text,
                "logprobs": body.logprobs.map(|_| legacy_logprobs(&c.logprobs)),
                "finish_reason": finish_reason(c.finish),
            })
        })
        .collect();
    let mut v = envelope(&id, "text_completion", now(), &model, json!(out));
    v["usage"] = json!(usage);
    Ok(Json(v).into_response())
}

/// Bytes of a chat prompt before the template (templates commonly trim each message,
/// so trimmed lengths keep the bound on the safe side).
fn chat_bytes(body: &ChatRequest) -> usize {
    body.messages
        .iter()
        .map(|m| match &m.content {
            None => 0,
            Some(Content::Text(t)) => t.trim().len(),
            Some(Content::Parts(parts)) => parts
                .iter()
                .filter_map(|p| p.text.as_deref())
                .map(str::len)
                .sum(),
        })
        .sum()
}

/// The fields every response and chunk carries around its choices.
fn envelope(id: &str, object: &str, created: u64, model: &str, choices: Value) -> Value {
    json!({
        "id": id,
        "object": object,
        "created": created,
        "model": model,
        "system_fingerprint": fingerprint(),
        "choices": choices,
    })
}

fn fingerprint() -> String {
    format!("loglens-{}", env!("CARGO_PKG_VERSION"))
}

/// `/v1/completions`' log-probability layout.
fn legacy_logprobs(lps: &[TokenLogprob]) -> Value {
    let mut offset = 0;
    let mut offsets = Vec::new();
    for t in lps {
        offsets.push(offset);
        offset += t.token.len();
    }
    json!({
        "tokens": lps.iter().map(|t| &t.token).collect::<Vec<_>>(),
        "token_logprobs": lps.iter().map(|t| t.logprob).collect::<Vec<_>>(),
        "top_logprobs": lps.iter().map(|t| {
            t.top_logprobs.iter().flatten().map(|a| (a.token.clone(), json!(a.logprob))).collect::<serde_json::Map<_, _>>()
        }).collect::<Vec<_>>(),
        "text_offset": offsets,
    })
}

/// Streams the response as server-sent events ending in `data: [DONE]`.
fn stream(
    state: Arc<AppState>,
    mut run: Running,
    id: String,
    model: String,
    include_usage: bool,
    with_top: bool,
    chat: bool,
) -> Response {
    let (tx, rx) = mpsc::unbounded_channel::<Result<SseEvent, Infallible>>();
    let created = now();
    let object = if chat {
        "chat.completion.chunk"
    } else {
        "text_completion"
    };
    let chunk = move |choices: Value, usage: Option<UsageOut>| -> SseEvent {
        let mut v = envelope(&id, object, created, &model, choices);
        if include_usage {
            v["usage"] = json!(usage);
        }
        SseEvent::default().data(v.to_string())
    };
    let request_id = trace::current_id().unwrap_or_default();
    let task = async move {
        let mut choices: Vec<Choice> = (0..run.choices).map(|_| Choice::default()).collect();
        if chat {
            for i in 0..run.choices {
                let first = json!([{"index": i, "delta": {"role": "assistant", "content": ""}, "logprobs": null, "finish_reason": null}]);
                if tx.send(Ok(chunk(first, None))).is_err() {
                    return;
                }
            }
        }
        let mut done = 0;
        while done < run.choices {
            let next = tokio::select! {
                next = run.rx.recv() => next,
                // The client went away: `run` drops here and cancels the rest.
                () = tx.closed() => return,
            };
            let Some((i, e)) = next else {
                break;
            };
            let text = match &e {
                Event::Text { text, .. } => Some(text.clone()),
                _ => None,
            };
            let ended = match apply(&state, &run, &mut choices, i, e, with_top) {
                Ok(ended) => ended,
                Err(err) => {
                    err.log();
                    let _ = tx.send(Ok(SseEvent::default().data(err.body().to_string())));
                    break;
                }
            };
            let Some(c) = choices.get_mut(i) else {
                continue;
            };
            let piece = if let Some(text) = text {
                let (start, end) = (c.unsent, c.logprobs.len());
                c.unsent = end;
                let lps = &c.logprobs[start..end];
                Some(if chat {
                    let lp = (!lps.is_empty()).then(|| json!({"content": lps}));
                    json!([{"index": i, "delta": {"content": text}, "logprobs": lp, "finish_reason": null}])
                } else {
                    let lp = (!lps.is_empty()).then(|| legacy_logprobs(lps));
                    json!([{"index": i, "text": text, "logprobs": lp, "finish_reason": null}])
                })
            } else if ended {
                done += 1;
                Some(if chat {
                    json!([{"index": i, "delta": {}, "logprobs": null, "finish_reason": finish_reason(c.finish)}])
                } else {
                    json!([{"index": i, "text": "", "logprobs": null, "finish_reason": finish_reason(c.finish)}])
                })
            } else {
                None
            };
            if let Some(p) = piece {
                if tx.send(Ok(chunk(p, None))).is_err() {
                    // The client went away: `run` drops here and cancels the rest.
                    return;
                }
            }
        }
        if done == run.choices && include_usage {
            let usage = usage_out(&choices, run.n);
            let _ = tx.send(Ok(chunk(json!([]), Some(usage))));
        }
        let _ = tx.send(Ok(SseEvent::default().data("[DONE]")));
        drop(run.guard);
    };
    // The stream outlives the handler: it keeps the request's id and span.
    tokio::spawn(trace::scope(request_id, task).instrument(tracing::Span::current()));
    Sse::new(UnboundedReceiverStream::new(rx))
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response()
}
