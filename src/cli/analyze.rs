//! `loglens analyze`: arguments to [`PipelineConfig`], a progress bar, the reports.

use std::io::IsTerminal;

use anyhow::{bail, Context};
use globset::Glob;
use indicatif::{ProgressBar, ProgressStyle};

use super::{AnalyzeArgs, EXIT_FAIL_ON, EXIT_OK};
use crate::logs::formats::FormatSpec;
use crate::logs::pipeline::{analyze_observed, FormatOverride, PipelineConfig};
use crate::report::{write_reports, OutputFormat};
use crate::store::{default_state_dir, Store};
use crate::triage::{triage, TriageConfig};

fn config(args: &AnalyzeArgs) -> anyhow::Result<PipelineConfig> {
    let mut overrides = Vec::new();
    for o in &args.format_for {
        let Some((glob, spec)) = o.split_once('=') else {
            bail!("--log-format-for expects GLOB=FORMAT, got {o:?}");
        };
        overrides.push(FormatOverride {
            glob: Glob::new(glob)
                .with_context(|| format!("invalid glob {glob:?}"))?
                .compile_matcher(),
            format: FormatSpec::parse(spec)?,
        });
    }
    if args.max_line_bytes < 64 {
        bail!("--max-line-bytes must be at least 64");
    }
    let session_key = args
        .session_key
        .as_deref()
        .map(|k| {
            let pattern = crate::detect::session::preset_key(k).unwrap_or(k);
            regex::Regex::new(pattern).with_context(|| format!("invalid --session-key {k:?}"))
        })
        .transpose()?;
    Ok(PipelineConfig {
        session_key,
        session_state: args.session_state.clone(),
        inputs: args.paths.clone(),
        include: args.include.clone(),
        exclude: args.exclude.clone(),
        overrides,
        year: args.year,
        max_line_bytes: args.max_line_bytes,
        min_level: args.min_level,
        miner_state: args.miner_state.clone(),
        samples: args.samples.max(1),
        ..PipelineConfig::default()
    })
}

pub(super) fn run(args: AnalyzeArgs) -> anyhow::Result<i32> {
    let formats = args
        .format
        .iter()
        .map(|f| f.parse::<OutputFormat>().map_err(anyhow::Error::msg))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let config = config(&args)?;
    let total: u64 = config
        .inputs
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum();
    let bar = if !args.quiet && std::io::stderr().is_terminal() && total > 0 {
        let b = ProgressBar::new(total);
        b.set_style(
            ProgressStyle::with_template("{spinner} {bytes}/{total_bytes} {bar:30} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Some(b)
    } else {
        None
    };
    let progress = |bytes: u64| {
        if let Some(b) = &bar {
            b.set_position(bytes);
        }
    };
    let mut observer = crate::rca::RcaObserver::new();
    for t in &args.traces {
        if !t.exists() {
            bail!("--traces {}: no such file or directory", t.display());
        }
        for (file, result) in observer.read_traces(t) {
            if let Err(e) = result {
                // One bad trace file is reported; the others and the logs go on.
                eprintln!("loglens: traces {file} skipped: {e}");
            }
        }
    }
    let mut report =
        analyze_observed(&config, &progress, &mut observer).context("analysis failed")?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let trace_files = observer.trace_files.len();
    let mut rca = crate::rca::analyze(observer.collector, &crate::rca::RcaConfig::default());
    let remember =
        args.state_dir.is_some() || std::env::var_os("LOGLENS_STATE_DIR").is_some() || !args.no_llm;
    if remember {
        let dir = args.state_dir.clone().unwrap_or_else(default_state_dir);
        let ids = rca
            .top()
            .map(|t| t.evidence.iter().map(|e| e.location.clone()).collect())
            .unwrap_or_default();
        if let Err(e) = crate::rca::knowledge::remember(&dir, &mut rca, ids) {
            // Memory of past incidents is a convenience; the analysis stands without it.
            eprintln!("loglens: incident memory unavailable ({e})");
        }
    }
    report.rca = Some(rca);
    let wants_rca_verdict = report
        .rca
        .as_ref()
        .is_some_and(|r| !r.candidates.is_empty());
    if !args.no_llm && (!report.anomalies.is_empty() || wants_rca_verdict) {
        let engine = super::generate::load(&args.model).context(
            "LLM triage needs the model (fetch it with models/fetch-default.sh, or pass --no-llm)",
        )?;
        let cfg = TriageConfig {
            max_groups: args.llm_max_groups,
            ..TriageConfig::default()
        };
        let store = if args.no_cache {
            None
        } else {
            let dir = args.state_dir.clone().unwrap_or_else(default_state_dir);
            match Store::open(&dir) {
                Ok(s) => Some(s),
                Err(e) => {
                    // The cache is a shortcut; without it triage still runs.
                    eprintln!("loglens: verdict cache unavailable ({e}); asking the model");
                    None
                }
            }
        };
        let main_path = super::generate::model_path(&args.model);
        let other_screen = match &args.screen_model {
            Some(p) if *p != main_path => Some(
                super::generate::load_path(&args.model, p.clone())
                    .context("loading the screening model")?,
            ),
            _ => None,
        };
        let screen = match (&other_screen, args.screen || args.screen_model.is_some()) {
            (Some(e), _) => Some(e),
            (None, true) => Some(&engine),
            (None, false) => None,
        };
        triage(&mut report, &engine, screen, &cfg, store.as_ref()).context("LLM triage failed")?;
        if let Some(rca) = report.rca.as_mut() {
            crate::triage::rca::verdict(rca, &engine).context("root-cause verdict failed")?;
        }
    }
    let written = write_reports(&report, &args.output_dir, &formats)?;
    if !args.quiet {
        let a = &report.accounting;
        eprintln!(
            "loglens: {} records ({} lines, {} files, {} failed) -> {} templates, {} groups listed",
            a.records,
            a.lines,
            a.files_read,
            a.files_failed,
            report.templates,
            report.groups.len()
        );
        if let Some(r) = &report.rca {
            eprintln!(
                "loglens: {} ({} services, {} abnormal, {} spans from {} trace file(s))",
                r.summary, r.stats.services, r.stats.abnormal, r.stats.collected.spans, trace_files
            );
        }
        if let Some(t) = &report.triage {
            eprintln!(
                "loglens: triage of {} group(s) ({} from the cache): {} tokens generated in {:.1} s, {} fallback(s)",
                t.groups, t.cache_hits, t.completion_tokens, t.seconds, t.fallbacks
            );
            if t.screen_model.is_some() {
                eprintln!(
                    "loglens: screening: {} screened, {} dismissed, {} tokens saved (estimated)",
                    t.screened, t.screened_out, t.tokens_saved
                );
            }
        }
        for p in &written {
            eprintln!("  wrote {}", p.display());
        }
    }
    if let (Some(threshold), Some(worst)) = (args.fail_on, report.worst_level()) {
        if worst >= threshold {
            return Ok(EXIT_FAIL_ON);
        }
    }
    Ok(EXIT_OK)
}
