//! The prompt-prefix cache, on tiny models and the default model: requests that share
//! a beginning reuse its keys and values (counted in their usage and the engine's
//! stats) and produce exactly the tokens they produce without it, alone, batched, through
//! the scheduler and over chat turns; memory stays within its bound.

use std::ops::ControlFlow;
use std::sync::{mpsc, Arc};

use loglens::engine::{
    Engine, Event, GenerateRequest, Input, Message, Scheduler, SchedulerConfig, Usage, WeightFormat,
};

use super::tiny::{load, write_tiny, Tiny};

/// A tiny model with room for long prompts.
fn tiny_engine(dir: &std::path::Path, t: Tiny) -> Engine {
    let path = dir.join("tiny.gguf");
    write_tiny(&path, &Tiny { context: 1024, ..t }, 31);
    load(&path, WeightFormat::F32)
}

/// `shared` tokens every prompt begins with, then a tail of `tail` tokens of its own.
fn prompt(shared: usize, tail: usize, which: u32) -> Vec<u32> {
    (0..shared as u32)
        .map(|i| (i * 7 + 3) % 250)
        .chain((0..tail as u32).map(|i| (i * 11 + which * 37 + 1) % 250))
        .collect()
}

fn request(ids: Vec<u32>, max: usize) -> GenerateRequest {
    let mut r = GenerateRequest::new(Input::Tokens(ids), max);
    // Keep the end token out so every request runs to its budget.
    r.sampling.logit_bias = vec![(261, -1e9)];
    r
}

fn tokens(e: &Engine, r: &GenerateRequest) -> (Vec<u32>, Usage) {
    let mut out = Vec::new();
    let usage = e
        .generate(r, &mut |ev| {
            if let Event::Text { token, .. } = ev {
                out.push(token);
            }
            ControlFlow::Continue(())
        })
        .expect("runs");
    (out, usage)
}

/// Runs requests together, returning each one's tokens and usage.
fn batch(e: &Engine, reqs: &[GenerateRequest]) -> Vec<(Vec<u32>, Usage)> {
    let mut outs: Vec<Vec<u32>> = vec![Vec::new(); reqs.len()];
    let usages = {
        let mut sinks: Vec<_> = outs
            .iter_mut()
            .map(|o| {
                move |ev| {
                    if let Event::Text { token, .. } = ev {
                        o.push(token);
                    }
                    ControlFlow::Continue(())
                }
            })
            .collect();
        let b = reqs
            .iter()
            .zip(sinks.iter_mut())
            .map(|(r, s)| (r, s as &mut dyn FnMut(Event) -> ControlFlow<()>))
            .collect();
        e.generate_many(b).expect("runs batched")
    };
    outs.into_iter().zip(usages).collect()
}

#[test]
fn a_repeated_prefix_is_reused_and_changes_no_token() {
    let dir = tempfile::tempdir().expect("temp dir");
    let e = tiny_engine(dir.path(), Tiny::default());
    let off = tiny_engine(dir.path(), Tiny::default());
    off.set_prefix_cache_limit(0);
    let (a, b) = (
        request(prompt(300, 20, 1), 8),
        request(prompt(300, 25, 2), 8),
    );
    let (ta, ua) = tokens(&e, &a);
    assert_eq!(ua.cached_tokens, 0);
    let (tb, ub) = tokens(&e, &b);
    // The 300 shared tokens come from the first request's cache.
    assert_eq!(ub.cached_tokens, 300);
    assert_eq!(ta, tokens(&off, &a).0);
    assert_eq!(tb, tokens(&off, &b).0);
    // The same request again: everything but its last prompt token.
    let (tb2, ub2) = tokens(&e, &b);
    assert_eq!(tb2, tb);
    assert_eq!(ub2.cached_tokens, 324);
    let s = e.prefix_stats();
    assert_eq!((s.lookups, s.hits, s.reused_tokens), (3, 2, 624));
    assert!(s.entries >= 1 && s.bytes <= s.limit_bytes);
    let s = off.prefix_stats();
    assert_eq!((s.hits, s.entries, s.limit_bytes), (0, 0, 0));
}

/// Eight requests submitted together with one shared beginning: the first prefills it,
/// the others wait for it and take it from the cache, and their tokens are those of an
/// engine without the cache.
#[test]
fn a_batch_prefills_its_shared_prefix_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let e = tiny_engine(dir.path(), Tiny::default());
    let off = tiny_engine(dir.path(), Tiny::default());
    off.set_prefix_cache_limit(0);
    let reqs: Vec<GenerateRequest> = (0..8)
        .map(|i| request(prompt(200, 30 + i as usize * 3, i), 6))
        .collect();
    let with = batch(&e, &reqs);
    let without = batch(&off, &reqs);
    for (i, ((tw, uw), (to, uo))) in with.iter().zip(&without).enumerate() {
        assert_eq!(tw, to, "request {i}");
        assert_eq!(uo.cached_tokens, 0);
        assert_eq!(
            uw.cached_tokens,
            if i == 0 { 0 } else { 200 },
            "request {i}"
        );
    }
    let prefilled: usize = with
        .iter()
        .map(|(_, u)| u.prompt_tokens - u.cached_tokens)
        .sum();
    let total: usize = with.iter().map(|(_, u)| u.prompt_tokens).sum();
    assert_eq!(total - prefilled, 7 * 200);
}

/// Through the scheduler, with prompts prefilled in small chunks: later requests wait
/// for the first one's shared part, then reuse it.
#[test]
fn scheduled_requests_share_a_prefix() {
    let dir = tempfile::tempdir().expect("temp dir");
    let e = Arc::new(tiny_engine(dir.path(), Tiny::default()));
    let off = tiny_engine(dir.path(), Tiny::default());
    off.set_prefix_cache_limit(0);
    let reqs: Vec<GenerateRequest> = (0..4)
        .map(|i| request(prompt(400, 10 + i as usize, i), 5))
        .collect();
    let sched = Scheduler::new(
        e.clone(),
        SchedulerConfig {
            max_batch: 4,
            max_queue: 8,
            step_tokens: 64,
        },
    );
    let (tx, rx) = mpsc::channel();
    for (i, r) in reqs.iter().enumerate() {
        let tx = tx.clone();
        sched
            .submit(
                r.clone(),
                Box::new(move |ev| {
                    let _ = tx.send((i, ev));
                    ControlFlow::Continue(())
                }),
            )
            .expect("submitted");
    }
    drop(tx);
    let mut got = vec![Vec::new(); reqs.len()];
    let mut cached = vec![0; reqs.len()];
    for (i, ev) in rx {
        match ev {
            Event::Text { token, .. } => got[i].push(token),
            Event::Done { usage, .. } => cached[i] = usage.cached_tokens,
            Event::Error { message, .. } => panic!("{message}"),
            Event::Token { .. } => {}
        }
    }
    sched.shutdown();
    for (i, r) in reqs.iter().enumerate() {
        assert_eq!(got[i], tokens(&off, r).0, "request {i}");
    }
    // All but the first reuse the 400 shared tokens (or more, from a finished one).
    assert_eq!(cached[0], 0);
    assert!(cached[1..].iter().all(|&c| c >= 400), "{cached:?}");
}

/// A model with a sliding window: positions it dropped are never reused, tokens stay
/// the same.
#[test]
fn sliding_window_models_stay_exact() {
    let dir = tempfile::tempdir().expect("temp dir");
    let t = || Tiny {
        sliding_window: Some(64),
        ..Tiny::default()
    };
    let e = tiny_engine(dir.path(), t());
    let off = tiny_engine(dir.path(), t());
    off.set_prefix_cache_limit(0);
    let mut cached = Vec::new();
    for (shared, tail) in [(40, 10), (40, 12), (200, 10), (200, 11)] {
        let r = request(prompt(shared, tail, tail as u32), 6);
        let (got, usage) = tokens(&e, &r);
        assert_eq!(got, tokens(&off, &r).0, "{shared}+{tail}");
        cached.push(usage.cached_tokens);
    }
    // The short sequences fit the window and were stored; the long ones were not (the
    // last would otherwise reuse 200 tokens), so they only reuse the 40 they share with
    // the short ones.
    assert_eq!(cached, vec![0, 40, 40, 40]);
}

#[test]
fn memory_stays_within_the_bound() {
    let dir = tempfile::tempdir().expect("temp dir");
    let e = tiny_engine(dir.path(), Tiny::default());
    // Room for a few sequences of this tiny model (2 layers, 2 kv heads of 16).
    let limit = 3 * 2 * 2 * 256 * 2 * 16 * 4;
    e.set_prefix_cache_limit(limit);
    for i in 0..10 {
        let r = request(prompt(0, 100, i), 4);
        tokens(&e, &r);
        assert!(e.prefix_stats().bytes <= limit);
    }
    let s = e.prefix_stats();
    assert!(s.evicted > 0 && s.entries > 0, "{s:?}");
}

/// The default model: a second chat turn starts from the first turn's prompt and
/// answer, and gives the answer it gives without the cache.
#[test]
fn a_second_chat_turn_reuses_the_first() {
    let e = super::engine::engine();
    let system = Message::new(
        "system",
        "You are a site reliability engineer. Answer in one short sentence.",
    );
    let first = vec![system.clone(), Message::new("user", "What is a 502 error?")];
    let r1 = GenerateRequest::new(Input::Messages(first.clone()), 24);
    let (answer, _, u1) = e.generate_text(&r1).expect("first turn");
    let mut second = first;
    second.push(Message::new("assistant", answer.clone()));
    second.push(Message::new("user", "And a 504?"));
    let r2 = GenerateRequest::new(Input::Messages(second), 24);
    let (with, _, u2) = e.generate_text(&r2).expect("second turn");
    assert!(
        u2.cached_tokens >= u1.prompt_tokens,
        "{} cached of a first prompt of {}",
        u2.cached_tokens,
        u1.prompt_tokens
    );
    let fresh = Engine::load(&loglens::engine::ModelSpec::cpu(super::model_path())).expect("model");
    fresh.set_prefix_cache_limit(0);
    assert_eq!(fresh.generate_text(&r2).expect("runs").0, with);
}
