//! `loglens analyze`: validated settings, a progress bar, the analysis, LLM triage, the
//! reports.

use std::io::IsTerminal;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

use super::settings::{AnalyzeSettings, Screen, TriageSettings};
use super::{AnalyzeArgs, EXIT_FAILED, EXIT_FAIL_ON, EXIT_OK};
use crate::analysis::{analyze_with, Analysis};
use crate::report::{write_reports, Report};
use crate::store::Store;
use crate::triage::{triage, Triage, VerdictCache};

pub(super) fn run(args: AnalyzeArgs) -> anyhow::Result<i32> {
    let settings = AnalyzeSettings::from_args(&args)?;
    let config = &settings.pipeline;
    let total: u64 = config
        .inputs
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum();
    let bar = if !settings.quiet && std::io::stderr().is_terminal() && total > 0 {
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
    let analysis = analyze_with(config, &settings.rca, &progress).context("analysis failed")?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let candidates = analysis
        .rca
        .as_ref()
        .is_some_and(|r| !r.candidates.is_empty());
    // The statistics exist from here on: whatever happens to triage, the report is
    // written, with the failure in it.
    let (triaged, triage_error) = match &settings.triage {
        Some(t) if !analysis.anomalies.is_empty() || candidates => match run_triage(&analysis, t) {
            Ok(t) => (Some(t), None),
            Err(e) => {
                tracing::error!(
                    error = format!("{e:#}"),
                    "LLM triage failed; writing the report without verdicts"
                );
                (None, Some(format!("{e:#}")))
            }
        },
        _ => (None, None),
    };
    let mut report = Report::assemble(analysis, triaged);
    report.triage_error = triage_error;
    let written = write_reports(&report, &settings.output_dir, &settings.formats)?;
    if !settings.quiet {
        summary(&report, &written);
    }
    Ok(exit_status(&report, &settings))
}

/// The exit status of a run whose report was written: `--fail-on` first (a record at or
/// above its level, or an input that could not be read), then a triage that failed.
fn exit_status(report: &Report, settings: &AnalyzeSettings) -> i32 {
    if let Some(threshold) = settings.fail_on {
        // An input that could not be read (or changed under the reader) may hold
        // exactly what the threshold is for.
        let a = &report.accounting;
        if a.files_failed + a.files_changed > 0 {
            return EXIT_FAIL_ON;
        }
        if report.worst_level().is_some_and(|w| w >= threshold) {
            return EXIT_FAIL_ON;
        }
    }
    if report.triage_error.is_some() {
        return EXIT_FAILED;
    }
    EXIT_OK
}

/// Loads the models and puts the flagged groups to them.
fn run_triage(analysis: &Analysis, t: &TriageSettings) -> anyhow::Result<Triage> {
    let engine = t.model.load().context(
        "LLM triage needs the model (fetch it with models/fetch-default.sh, or pass --no-llm)",
    )?;
    let store = t
        .state_dir
        .as_deref()
        .and_then(|dir| match Store::open(dir) {
            Ok(s) => Some(s),
            Err(e) => {
                // The cache is a shortcut; without it triage still runs.
                eprintln!("loglens: verdict cache unavailable ({e}); asking the model");
                None
            }
        });
    let other = match &t.screen {
        Screen::Other(m) => Some(m.load().context("loading the screening model")?),
        Screen::Same | Screen::Off => None,
    };
    let screen = match (&t.screen, &other) {
        (_, Some(e)) => Some(e),
        (Screen::Same, None) => Some(&engine),
        _ => None,
    };
    let cache = store.as_ref().map(|s| s as &dyn VerdictCache);
    triage(analysis, &engine, screen, &t.config, cache).context("LLM triage failed")
}

/// The run's summary on stderr.
fn summary(report: &Report, written: &[std::path::PathBuf]) {
    let a = &report.accounting;
    eprintln!(
        "loglens: {} records ({} lines, {} files, {} failed) -> {} templates, {} groups listed",
        a.counts.records,
        a.counts.lines,
        a.files_read,
        a.files_failed,
        report.templates,
        report.groups.len()
    );
    if let Some(r) = &report.rca {
        let lead = r.lead.as_ref().map_or_else(
            || r.ranking.summary.clone(),
            |l| format!("root cause {} ({}, by the {})", l.service, l.category, l.by),
        );
        eprintln!(
            "loglens: {lead}; {} services, {} abnormal, {} spans",
            r.ranking.stats.services, r.ranking.stats.abnormal, r.ranking.stats.collected.spans
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
    if let Some(e) = &report.triage_error {
        eprintln!("loglens: LLM triage failed ({e}); the report has the statistics only");
    }
    if a.files_skipped + a.files_changed > 0 {
        eprintln!(
            "loglens: {} input(s) changed while read, {} walked entries not read (see the input accounting)",
            a.files_changed, a.files_skipped
        );
    }
    for p in written {
        eprintln!("  wrote {}", p.display());
    }
}
