//! `loglens bench ...`: runs a benchmark and prints a table or one JSON object.

use anyhow::Context;

use super::{
    BenchDetectArgs, BenchDevicesArgs, BenchParseArgs, BenchPrefixArgs, BenchRcaArgs,
    BenchServeArgs, BenchTokensArgs, ModelArgs, EXIT_FAILED, EXIT_OK,
};
use crate::bench::{data_dir, parse};
use crate::logs::miner::MinerConfig;

pub(super) fn parse(args: BenchParseArgs) -> anyhow::Result<i32> {
    if let Some(dir) = &args.corpus {
        let r = crate::bench::corpus::score(dir)
            .with_context(|| format!("corpus {}", dir.display()))?;
        if args.json {
            println!("{}", serde_json::to_string(&r)?);
            return Ok(EXIT_OK);
        }
        println!(
            "{:<18} {:>5} {:>10} {:>9} {:>7} {:>9}  detected",
            "format", "lines", "boundaries", "timestamp", "level", "component"
        );
        let pct = |c: &crate::bench::corpus::Count| format!("{:.1}", c.rate() * 100.0);
        for f in &r.formats {
            let m = &f.metrics;
            println!(
                "{:<18} {:>5} {:>10} {:>9} {:>7} {:>9}  {}",
                f.format,
                m.boundaries.total,
                pct(&m.boundaries),
                pct(&m.timestamp),
                pct(&m.level),
                pct(&m.component),
                f.detected.join(",")
            );
        }
        let m = &r.overall;
        println!(
            "{:<18} {:>5} {:>10} {:>9} {:>7} {:>9}",
            "overall",
            r.lines,
            pct(&m.boundaries),
            pct(&m.timestamp),
            pct(&m.level),
            pct(&m.component)
        );
        return Ok(EXIT_OK);
    }
    if let Some(input) = &args.input {
        let r = parse::throughput(input, args.input_format.as_deref())
            .with_context(|| format!("benchmark on {}", input.display()))?;
        if args.json {
            println!("{}", serde_json::to_string(&r)?);
        } else {
            println!("input       {}", r.input.display());
            println!("format      {}", r.format);
            println!("lines       {}", r.lines);
            println!("records     {}", r.records);
            println!(
                "lines/s     {:.0} (one core: read, parse, join, timestamps, template match)",
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
    let format_for = super::parse::format_overrides(&args.format_for)?;
    let r = parse::accuracy(&data, MinerConfig::default(), &format_for)?;
    if args.json {
        println!("{}", serde_json::to_string(&r)?);
    } else {
        println!(
            "{:<12} {:<10} {:>6} {:>8} {:>9} {:>9} {:>12}",
            "system", "format", "lines", "content", "grouping", "parsing", "lines/s"
        );
        for s in &r.systems {
            println!(
                "{:<12} {:<10} {:>6} {:>8.3} {:>9.3} {:>9.3} {:>12.0}",
                s.name,
                s.format,
                s.lines,
                s.content_accuracy,
                s.grouping_accuracy,
                s.parsing_accuracy,
                s.lines_per_sec
            );
        }
        println!(
            "{:<12} {:<10} {:>6} {:>8} {:>9.3} {:>9.3} {:>12.0}",
            "average",
            "",
            "",
            "",
            r.average.grouping_accuracy,
            r.average.parsing_accuracy,
            r.average.lines_per_sec
        );
    }
    Ok(EXIT_OK)
}

pub(super) fn prefix(args: BenchPrefixArgs) -> anyhow::Result<i32> {
    let engine = args.model.choose()?.load()?;
    if engine.prefix_stats().limit_bytes == 0 {
        anyhow::bail!("the prefix cache is off (--prefix-cache-mb 0): nothing to measure");
    }
    let r = crate::bench::prefix::run(
        &engine,
        args.prefix_tokens.max(1),
        args.suffix_tokens.max(1),
        args.batch.max(1),
        args.gen_tokens.max(1),
    )?;
    if args.json {
        println!("{}", serde_json::to_string(&r)?);
    } else {
        println!("model        {}", r.model);
        println!(
            "TTFT         {:.0} ms cold, {:.0} ms with {} tokens cached: {:.1}x sooner ({} + {} token prompts)",
            r.cold_ttft_ms,
            r.warm_ttft_ms,
            r.warm_cached_tokens,
            r.ttft_speedup,
            r.prefix_tokens,
            r.suffix_tokens
        );
        println!(
            "batch        {} requests, {} prompt tokens: {} prefilled without the cache ({:.1} s), {} with it ({:.1} s): {:.0}% fewer",
            r.batch_requests,
            r.batch_prompt_tokens,
            r.batch_prefilled_off,
            r.batch_s_off,
            r.batch_prefilled_on,
            r.batch_s_on,
            r.prefill_reduction * 100.0
        );
    }
    Ok(EXIT_OK)
}

pub(super) fn tokens(args: BenchTokensArgs) -> anyhow::Result<i32> {
    let engine = args.model.choose()?.load()?;
    let r = crate::bench::tokens::run(
        &engine,
        args.prompt_tokens.max(1),
        args.gen_tokens.max(2),
        &args.concurrency,
        args.concurrency_prompt_tokens.map(|n| n.max(1)),
    )?;
    if args.json {
        println!("{}", serde_json::to_string(&r)?);
    } else {
        println!(
            "model        {} ({}, {:.1} MiB of weights in the file)",
            r.model, r.weight_format, r.file_weight_mb
        );
        println!("matmul       {}, {} threads", r.matmul, r.threads);
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
                "concurrency  {:>3}: {:.1} tok/s aggregate, {:.1} tok/s in the decode phase",
                c.n, c.aggregate_tok_s, c.decode_tok_s
            );
        }
        if let Some(m) = r.peak_rss_mb {
            println!("peak RSS     {m:.1} MiB");
        }
    }
    Ok(EXIT_OK)
}

pub(super) fn serve(args: BenchServeArgs) -> anyhow::Result<i32> {
    use crate::bench::serve::{run, ServeBench};
    // Without --url: the model served in-process, on a free port, for this run only.
    let mut local = None;
    let (url, model_id) = match &args.url {
        Some(u) => (u.clone(), args.model_id.clone()),
        None => {
            let model = args.model.choose()?;
            let engine = model.load()?;
            let id = crate::server::model_id_for(&model.named);
            let cfg = crate::server::ServeConfig {
                addr: ([127, 0, 0, 1], 0).into(),
                api_key: args.api_key.clone(),
                scheduler: crate::engine::SchedulerConfig {
                    max_batch: args.max_batch.max(1),
                    max_queue: args.max_queue.max(1),
                    ..Default::default()
                },
                // Every client gets a connection; the queue bound is what is measured.
                max_connections: 2 * args.concurrency.iter().copied().max().unwrap_or(1) + 16,
                ..Default::default()
            };
            let (addr, rt) = crate::server::spawn_local(engine, &id, &cfg)?;
            local = Some(rt);
            (format!("http://{addr}"), Some(id))
        }
    };
    let model = match model_id {
        Some(m) => m,
        None => anyhow::bail!("--model-id is required with --url"),
    };
    let max_c = args.concurrency.iter().copied().max().unwrap_or(1).max(1);
    let cfg = ServeBench {
        url,
        api_key: args.api_key.clone(),
        model,
        concurrency: args.concurrency.clone(),
        requests: args.requests.unwrap_or(2 * max_c),
        max_tokens: args.max_tokens.max(1),
        constrained: args.constrained,
        retries: args.retries,
    };
    let levels = run(&cfg)?;
    drop(local);
    if args.json {
        println!(
            "{}",
            serde_json::json!({"url": cfg.url, "max_tokens": cfg.max_tokens, "levels": levels})
        );
        return Ok(EXIT_OK);
    }
    println!(
        "{:>4} {:<11} {:>5} {:>4} {:>5} {:>4} {:>7} {:>9} {:>9} {:>15} {:>15} {:>17} {:>9} {:>15} {:>14}",
        "conc",
        "mode",
        "reqs",
        "errs",
        "429s",
        "5xx",
        "req/s",
        "out tok/s",
        "dec tok/s",
        "TTFT p50/p99 ms",
        "ITL p50/p99 ms",
        "latency p50/p99 ms",
        "grammar %",
        "mask p50/p99 us",
        "RSS peak/end MiB"
    );
    let mib = |m: Option<f64>| m.map_or_else(|| "-".into(), |m| format!("{m:.0}"));
    for l in &levels {
        println!(
            "{:>4} {:<11} {:>5} {:>4} {:>5} {:>4} {:>7.2} {:>9.1} {:>9.1} {:>15} {:>15} {:>17} {:>9} {:>15} {:>14}",
            l.concurrency,
            if l.constrained { "json_schema" } else { "text" },
            l.requests,
            l.errors,
            l.busy_429,
            l.server_errors,
            l.requests_per_s,
            l.output_tok_per_s,
            l.decode_tok_per_s,
            format!("{:.0} / {:.0}", l.ttft_p50_ms, l.ttft_p99_ms),
            format!("{:.1} / {:.1}", l.itl_p50_ms, l.itl_p99_ms),
            format!("{:.0} / {:.0}", l.latency_p50_ms, l.latency_p99_ms),
            l.constraint_share
                .map_or_else(|| "-".into(), |s| format!("{:.2}", s * 100.0)),
            match (l.mask_p50_us, l.mask_p99_us) {
                (Some(a), Some(b)) => format!("{a:.0} / {b:.0}"),
                _ => "-".into(),
            },
            format!("{} / {}", mib(l.rss_peak_mib), mib(l.rss_end_mib)),
        );
    }
    Ok(EXIT_OK)
}

pub(super) fn detect(args: BenchDetectArgs) -> anyhow::Result<i32> {
    use crate::bench::detect;
    let dir = args.data.unwrap_or_else(|| data_dir().join("anomaly"));
    let model = args.llm.then(|| args.model.choose()).transpose()?;
    let mut scores = vec![detect::hdfs(&dir.join("HDFS_100k"))
        .with_context(|| format!("HDFS_100k under {}", dir.display()))?];
    scores.extend(
        detect::bgl(&dir.join("BGL_2k"))
            .with_context(|| format!("BGL_2k under {}", dir.display()))?,
    );
    if let Some(model) = model {
        let engine = model.load()?;
        let started = std::time::Instant::now();
        scores.extend(detect::with_llm(&dir, &engine, args.llm_items)?);
        if !args.json {
            eprintln!(
                "LLM mode with {} on a sample of {} items per dataset: {:.1} s",
                engine.path().display(),
                args.llm_items,
                started.elapsed().as_secs_f64()
            );
        }
    }
    if args.json {
        println!("{}", serde_json::json!({ "datasets": scores }));
        return Ok(EXIT_OK);
    }
    println!(
        "{:<18} {:<13} {:>9} {:>7} {:>6} {:>5} {:>5} {:>5} {:>6}",
        "dataset", "mode", "precision", "recall", "F1", "TP", "FP", "FN", "n"
    );
    for s in &scores {
        println!(
            "{:<18} {:<13} {:>9.3} {:>7.3} {:>6.3} {:>5} {:>5} {:>5} {:>6}{}",
            s.name,
            s.mode,
            s.precision,
            s.recall,
            s.f1,
            s.tp,
            s.fp,
            s.fn_,
            s.n,
            s.sample
                .as_deref()
                .map_or_else(String::new, |x| format!("  (sample: {x})"))
        );
    }
    Ok(EXIT_OK)
}

pub(super) fn rca(args: BenchRcaArgs) -> anyhow::Result<i32> {
    let engine = if args.llm {
        Some(args.model.choose()?.load()?)
    } else {
        None
    };
    let r = crate::bench::rca::run(&args.data, engine.as_ref(), args.llm_scenarios)?;
    if args.json {
        println!("{}", serde_json::to_string(&r)?);
        return Ok(EXIT_OK);
    }
    println!(
        "{:<38} {:<24} {:<5} {:<5} {:<22} {:<24}",
        "scenario", "truth", "top1", "top3", "category (truth)", "ranked"
    );
    for s in &r.results {
        println!(
            "{:<38} {:<24} {:<5} {:<5} {:<22} {}",
            s.name,
            s.truth,
            if s.top1 { "yes" } else { "no" },
            if s.top3 { "yes" } else { "no" },
            format!("{} ({})", s.category, s.truth_category),
            s.ranked
                .iter()
                .take(3)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    println!(
        "{} scenarios: top-1 {:.3}, top-3 {:.3}, category {:.3} (ranking, no model)",
        r.scenarios, r.top1, r.top3, r.category
    );
    if let (Some(rt), Some(t), Some(c)) = (r.model_ranking_top1, r.model_top1, r.model_category) {
        println!(
            "with the model's verdict on {} scenario(s): top-1 {t:.3} (ranking alone {rt:.3}), category {c:.3}; {} verdict(s) used",
            r.model_scenarios, r.model_used
        );
    }
    Ok(EXIT_OK)
}

pub(super) fn devices(args: BenchDevicesArgs) -> anyhow::Result<i32> {
    use crate::bench::devices::{run, DevicesBench};
    let reference = match &args.reference {
        Some(p) => Some(serde_json::from_str(
            &std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?,
        )?),
        None => None,
    };
    let device = args.model.choose()?.load()?;
    let base_args = ModelArgs {
        model: args.model.model.clone(),
        device: args.against.clone(),
        weight_format: args.model.weight_format.clone(),
        threads: args.model.threads,
        prefix_cache_mb: args.model.prefix_cache_mb,
    };
    let base = base_args.choose()?.load()?;
    let cfg = DevicesBench {
        tokens: args.tokens.max(1),
        tie: args.tie,
        tolerance: args.tolerance,
        reference,
    };
    let r = run(&device, &base, &args.model.device, &args.against, &cfg)?;
    if args.json {
        println!("{}", serde_json::to_string(&r)?);
    } else {
        println!(
            "{} on {} against {} ({}), near-tie {} , tolerance {}",
            r.model, r.device, r.against, r.weight_format, r.tie, r.tolerance
        );
        println!(
            "{:<40} {:>7} {:>9} {:>8} {:>10} {:>9} {:>6} {:>5}",
            "prompt", "agreed", "tie gap", "rel diff", "rel L2", "ref", "batch", "ok"
        );
        for p in &r.prompts {
            println!(
                "{:<40} {:>7} {:>9} {:>8.2e} {:>10.2e} {:>9} {:>6} {:>5}",
                p.prompt
                    .chars()
                    .take(40)
                    .collect::<String>()
                    .replace('\n', " "),
                format!("{}/{}", p.agreed, p.compared),
                p.divergence_gap
                    .map_or_else(|| "-".into(), |g| format!("{g:.3}")),
                p.rel_logit_diff,
                p.rel_l2,
                p.reference_agreed
                    .map_or_else(|| "-".into(), |n| n.to_string()),
                p.batch_agreed,
                p.ok && p.batch_ok && p.reference_ok != Some(false),
            );
        }
        println!("pass {} ({:.1} s)", r.pass, r.seconds);
    }
    Ok(if r.pass { EXIT_OK } else { EXIT_FAILED })
}
