//! `loglens bench ...`: runs a benchmark and prints a table or one JSON object.

use anyhow::Context;

use super::{BenchParseArgs, BenchTokensArgs, EXIT_OK};
use crate::bench::{data_dir, parse};
use crate::logs::miner::MinerConfig;

pub(super) fn parse(args: BenchParseArgs) -> anyhow::Result<i32> {
    if let Some(input) = &args.input {
        let r = parse::throughput(input, args.input_format.as_deref())
            .with_context(|| format!("benchmark on {}", input.display()))?;
        if args.json {
            println!("{}", serde_json::to_string(&r)?);
        } else {
            println!("input       {}", r.input.display());
            println!("format      {}", r.format);
            println!("lines       {}", r.lines);
            println!(
                "lines/s     {:.0} (one core, parse + timestamp + template match)",
                r.lines_per_sec
            );
            println!("templates   {}", r.templates);
            println!("timestamps  {}", r.with_timestamp);
            match r.peak_rss_mb {
                Some(m) => println!("peak RSS    {m:.1} MiB"),
                None => println!("peak RSS    unknown"),
            }
        }
        return Ok(EXIT_OK);
    }
    let data = args
        .data
        .clone()
        .unwrap_or_else(|| data_dir().join("loghub-2k"));
    let r = parse::accuracy(&data, MinerConfig::default())?;
    if args.json {
        println!("{}", serde_json::to_string(&r)?);
    } else {
        println!(
            "{:<12} {:>6} {:>9} {:>9} {:>12}",
            "system", "lines", "grouping", "parsing", "lines/s"
        );
        for s in &r.systems {
            println!(
                "{:<12} {:>6} {:>9.3} {:>9.3} {:>12.0}",
                s.name, s.lines, s.grouping_accuracy, s.parsing_accuracy, s.lines_per_sec
            );
        }
        println!(
            "{:<12} {:>6} {:>9.3} {:>9.3} {:>12.0}",
            "average",
            "",
            r.average.grouping_accuracy,
            r.average.parsing_accuracy,
            r.average.lines_per_sec
        );
    }
    Ok(EXIT_OK)
}

pub(super) fn tokens(args: BenchTokensArgs) -> anyhow::Result<i32> {
    let engine = super::generate::load(&args.model)?;
    let r = crate::bench::tokens::run(
        &engine,
        args.prompt_tokens.max(1),
        args.gen_tokens.max(2),
        &args.concurrency,
    )?;
    if args.json {
        println!("{}", serde_json::to_string(&r)?);
    } else {
        println!(
            "model        {} ({}, {:.1} MiB of weights in the file)",
            r.model, r.weight_format, r.file_weight_mb
        );
        println!(
            "prefill      {:.1} tok/s ({} tokens)",
            r.prefill_tok_s, r.prompt_tokens
        );
        println!(
            "decode       {:.1} tok/s ({} tokens)",
            r.decode_tok_s, r.gen_tokens
        );
        println!("TTFT         {:.1} ms", r.ttft_ms);
        println!(
            "ITL          p50 {:.2} ms, p99 {:.2} ms",
            r.itl_p50_ms, r.itl_p99_ms
        );
        for c in &r.concurrency {
            println!(
                "concurrency  {:>3}: {:.1} tok/s aggregate",
                c.n, c.aggregate_tok_s
            );
        }
        if let Some(m) = r.peak_rss_mb {
            println!("peak RSS     {m:.1} MiB");
        }
    }
    Ok(EXIT_OK)
}
