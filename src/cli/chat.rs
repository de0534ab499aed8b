//! `loglens chat`: an interactive conversation with the local model. Lines from standard
//! input are user turns; the answer streams to standard output. `/reset` forgets the
//! conversation, `/system TEXT` sets the system message, `/exit` (or end of input) ends.
//! When the conversation outgrows the context, the oldest turns are dropped, and the
//! user is told.

use std::io::{BufRead, IsTerminal, Write};
use std::ops::ControlFlow;

use anyhow::Context;

use super::{ChatArgs, EXIT_OK};
use crate::engine::{Engine, EngineError, Event, GenerateRequest, Input, Message, SamplingParams};

pub(super) fn run(args: ChatArgs) -> anyhow::Result<i32> {
    let engine = args.model.choose()?.load()?;
    let interactive = std::io::stdin().is_terminal();
    if interactive {
        eprintln!(
            "loglens chat with {} — /system TEXT, /reset, /exit",
            engine.path().display()
        );
    }
    let mut system = args.system.clone();
    let mut turns: Vec<Message> = Vec::new();
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    loop {
        if interactive {
            eprint!("> ");
            let _ = std::io::stderr().flush();
        }
        let Some(line) = lines.next() else { break };
        let line = line.context("reading standard input")?;
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        match text {
            "/exit" | "/quit" => break,
            "/reset" => {
                turns.clear();
                eprintln!("(conversation cleared)");
                continue;
            }
            _ => {}
        }
        if let Some(s) = text.strip_prefix("/system") {
            system = Some(s.trim().to_string()).filter(|s| !s.is_empty());
            eprintln!(
                "(system message {})",
                if system.is_some() { "set" } else { "cleared" }
            );
            continue;
        }
        turns.push(Message::new("user", text));
        let reply = answer(&engine, &args, system.as_deref(), &mut turns)?;
        turns.push(Message::new("assistant", reply));
    }
    Ok(EXIT_OK)
}

/// Streams one answer; drops the oldest turns while the conversation does not fit.
fn answer(
    engine: &Engine,
    args: &ChatArgs,
    system: Option<&str>,
    turns: &mut Vec<Message>,
) -> anyhow::Result<String> {
    let mut dropped = 0;
    loop {
        let mut messages: Vec<Message> = system
            .map(|s| Message::new("system", s))
            .into_iter()
            .collect();
        messages.extend(turns.iter().cloned());
        let req = GenerateRequest {
            sampling: SamplingParams {
                temperature: args.temperature,
                top_p: args.top_p,
                seed: args.seed,
                ..SamplingParams::default()
            },
            ..GenerateRequest::new(Input::Messages(messages), args.max_tokens)
        };
        let mut out = std::io::stdout().lock();
        let mut reply = String::new();
        let result = engine.generate(&req, &mut |e| {
            if let Event::Text { text, .. } = e {
                reply.push_str(&text);
                if out
                    .write_all(text.as_bytes())
                    .and_then(|()| out.flush())
                    .is_err()
                {
                    return ControlFlow::Break(());
                }
            }
            ControlFlow::Continue(())
        });
        match result {
            Ok(_) => {
                let _ = writeln!(out);
                if dropped > 0 {
                    eprintln!("(dropped {dropped} earlier turn(s) to fit the context)");
                }
                return Ok(reply);
            }
            // Keep the latest user turn; drop the oldest exchange and try again.
            Err(EngineError::ContextOverflow { .. }) if turns.len() > 1 => {
                let n = if turns.len() > 2 { 2 } else { 1 };
                turns.drain(..n);
                dropped += n;
            }
            Err(e) => return Err(e).context("generating"),
        }
    }
}
