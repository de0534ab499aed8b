//! `loglens generate`: one completion from the local model, streamed to stdout.

use std::io::Write;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use anyhow::Context;
use candle_core::DType;

use super::{GenerateArgs, EXIT_OK};
use crate::engine::{Constraint, Event, GenerateRequest, Input, Message, SamplingParams};

pub(super) fn run(args: GenerateArgs) -> anyhow::Result<i32> {
    let model = args.model.choose()?;
    let constraint = constraint(&args)?;
    let engine = model.load()?;
    let input = if args.raw {
        Input::Prompt(args.prompt.clone())
    } else {
        let mut messages = Vec::new();
        if let Some(s) = &args.system {
            messages.push(Message::new("system", s.clone()));
        }
        messages.push(Message::new("user", args.prompt.clone()));
        Input::Messages(messages)
    };
    let req = GenerateRequest {
        input,
        sampling: SamplingParams {
            temperature: args.temperature,
            top_p: args.top_p,
            top_k: args.top_k,
            seed: args.seed,
            ..SamplingParams::default()
        },
        max_tokens: args.max_tokens,
        stop: args.stop.clone(),
        constraint,
        logprobs: None,
        cancel: None,
    };
    let mut out = std::io::stdout().lock();
    let mut failed = None;
    engine.generate(&req, &mut |e| {
        if let Event::Text { text, .. } = e {
            if let Err(err) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
                failed = Some(err);
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    })?;
    if let Some(e) = failed {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(e).context("writing to stdout");
        }
    }
    let _ = writeln!(out);
    Ok(EXIT_OK)
}

fn constraint(args: &GenerateArgs) -> anyhow::Result<Option<Constraint>> {
    Ok(if let Some(path) = &args.schema {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the schema {}", path.display()))?;
        let schema = serde_json::from_str(&text)
            .with_context(|| format!("{} is not JSON", path.display()))?;
        Some(Constraint::JsonSchema(schema))
    } else if args.json {
        Some(Constraint::JsonObject)
    } else if let Some(rx) = &args.regex {
        Some(Constraint::Regex(rx.clone()))
    } else if !args.choice.is_empty() {
        Some(Constraint::Choice(args.choice.clone()))
    } else {
        None
    })
}

/// `loglens models convert`.
pub(super) fn convert(input: &Path, out: &Path, dtype: &str) -> anyhow::Result<i32> {
    let dtype = match dtype.to_ascii_lowercase().as_str() {
        "f16" | "float16" => DType::F16,
        "bf16" | "bfloat16" => DType::BF16,
        "f32" | "float32" => DType::F32,
        other => anyhow::bail!("unknown dtype {other:?} (f16, bf16, f32)"),
    };
    let done = crate::engine::convert::gguf_to_hf(input, out, dtype)
        .with_context(|| format!("converting {}", input.display()))?;
    println!(
        "wrote {} ({} tensors, {:.1} MB of weights)",
        done.dir.display(),
        done.tensors,
        done.weight_bytes as f64 / 1e6
    );
    Ok(EXIT_OK)
}

/// `loglens models random`: prints what it wrote as one JSON line.
pub(super) fn random(out: &Path, shape: &str, seed: u64, dtype: &str) -> anyhow::Result<i32> {
    use crate::engine::random::{shape as named, write_random, RandomDtype};
    let s = named(shape)?;
    let dtype: RandomDtype = dtype.parse().map_err(anyhow::Error::msg)?;
    let started = std::time::Instant::now();
    let done = write_random(out, shape, &s, seed, dtype)
        .with_context(|| format!("writing a random {shape} model to {}", out.display()))?;
    let mut line = serde_json::to_value(&done)?;
    line["shape"] = shape.into();
    line["seed"] = seed.into();
    line["seconds"] = started.elapsed().as_secs_f64().into();
    println!("{line}");
    Ok(EXIT_OK)
}

/// `loglens models list`: every `.gguf` file and HF directory in the model directory,
/// and the files, directories and cached repository ids in `extra`.
pub(super) fn list_models(extra: &[PathBuf], json: bool) -> anyhow::Result<i32> {
    let dir = crate::engine::locate::model_dir();
    let mut files = Vec::new();
    let default_dir = dir.is_dir().then_some(&dir);
    for p in default_dir.into_iter().chain(extra) {
        if p.is_dir() && !p.join("config.json").exists() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("reading {}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| {
                    f.extension().is_some_and(|e| e == "gguf") || f.join("config.json").exists()
                })
                .collect();
            found.sort();
            files.extend(found);
        } else {
            match crate::engine::resolve_model(p) {
                Ok(found) => files.push(found),
                Err(e) => eprintln!("loglens: skipping {}: {e}", p.display()),
            }
        }
    }
    if !json {
        println!(
            "{:<44} {:<8} {:>8} {:<6} {:>7} {:>9}",
            "model", "arch", "params", "quant", "context", "size"
        );
    }
    for f in files {
        match crate::engine::summarize(&f) {
            Ok(m) if json => println!("{}", serde_json::to_string(&m)?),
            Ok(m) => println!(
                "{:<44} {:<8} {:>7.1}M {:<6} {:>7} {:>7.1}MB",
                m.name.clone().unwrap_or_else(|| f.display().to_string()),
                m.architecture,
                m.parameters as f64 / 1e6,
                m.quantization,
                m.context_length
                    .map_or_else(|| "-".into(), |c| c.to_string()),
                m.size_bytes as f64 / 1e6
            ),
            Err(e) => eprintln!("loglens: skipping {}: {e}", f.display()),
        }
    }
    Ok(EXIT_OK)
}
