//! The Markdown report: what an on-call engineer reads first. One function per section,
//! in the order they appear.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::escape::{md_block, md_code, md_text as cell};
use super::{GroupReport, Report};
use crate::triage::TriageStats;

// Writing to a String cannot fail: the results of `write!` are ignored on purpose.
// Every text that comes from a log (or from the model, which read logs) goes through
// `cell` (escaped text), `md_code` (a code span) or `md_block` (a code block).

/// Anomalies listed in the Markdown and HTML reports (all are in the JSON).
pub(super) const MAX_ANOMALIES: usize = 30;

pub(super) fn render(r: &Report) -> String {
    let mut s = String::new();
    summary(r, &mut s);
    if let Some(e) = &r.triage_error {
        let _ = writeln!(
            s,
            "\n## Triage\n\nLLM triage failed: {}. The statistics below are complete; no group has a model verdict.",
            cell(e)
        );
    }
    if let Some(t) = &r.triage {
        action_items(r, &mut s);
        triage(r, t, &mut s);
    }
    anomalies(r, &mut s);
    groups(r, &mut s);
    summarized(r, &mut s);
    accounting(r, &mut s);
    reading(r, &mut s);
    s
}

/// Title (the root cause, when one is named, then its section), totals, time range and
/// records per level.
fn summary(r: &Report, s: &mut String) {
    let a = &r.accounting;
    match r.rca.as_ref().and_then(super::rca::headline) {
        Some(h) => {
            let _ = writeln!(s, "{h}\n");
        }
        None => {
            let _ = writeln!(s, "# loglens report\n");
        }
    }
    if let Some(rca) = &r.rca {
        super::rca::markdown(rca, s);
        let _ = writeln!(s, "\n## Input\n");
    }
    let _ = writeln!(
        s,
        "{} records from {} lines in {} input(s), {} templates, analysed in {} ms.",
        a.counts.records,
        a.counts.lines,
        r.files.len(),
        r.templates,
        r.run.duration_ms
    );
    if let Some((from, to)) = &r.time_range {
        let _ = writeln!(s, "Time range: {from} to {to}.");
    }
    let _ = writeln!(s, "\n## Levels\n");
    let _ = writeln!(s, "| level | records |\n|---|---:|");
    for (l, n) in r.levels.iter().rev() {
        let _ = writeln!(s, "| {l} | {n} |");
    }
}

/// Remediation steps of the critical and high verdicts, per component, each once.
pub(super) fn action_item_steps(groups: &[GroupReport]) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for g in groups {
        let Some(v) = &g.verdict else { continue };
        if !v.verdict.severity.is_urgent() || !v.verdict.is_anomaly {
            continue;
        }
        for step in &v.verdict.remediation_steps {
            let e = out.entry(g.group.component.clone()).or_default();
            if !e.contains(step) {
                e.push(step.clone());
            }
        }
    }
    out
}

fn action_items(r: &Report, s: &mut String) {
    let actions = action_item_steps(&r.groups);
    if actions.is_empty() {
        return;
    }
    let _ = writeln!(s, "\n## Action items\n");
    for (component, steps) in &actions {
        let _ = writeln!(s, "- **{}**", cell(component));
        for step in steps {
            let _ = writeln!(s, "  - {}", cell(step));
        }
    }
}

/// Triage totals, then one line per verdict.
fn triage(r: &Report, t: &TriageStats, s: &mut String) {
    let _ = writeln!(s, "\n## Triage\n");
    let _ = writeln!(
        s,
        "{} group(s) triaged with {} (prompt {}; {} from the verdict cache, {} asked): {} prompt + {} generated tokens in {:.1} s; {} answer(s) unusable (detector verdict used), {} at odds with the detectors.\n",
        t.groups,
        md_code(&t.model),
        t.prompt_version,
        t.cache_hits,
        t.cache_misses,
        t.prompt_tokens,
        t.completion_tokens,
        t.seconds,
        t.fallbacks,
        t.inconsistent
    );
    if t.prefix_cached_tokens > 0 {
        let _ = writeln!(
            s,
            "{} request(s) started from a cached prompt prefix: {} prompt tokens not prefilled again.\n",
            t.prefix_hits, t.prefix_cached_tokens
        );
    }
    if let Some(screen) = &t.screen_model {
        let _ = writeln!(
            s,
            "Tiered: {} group(s) screened with {} ({} tokens), {} dismissed without a detailed verdict; tiering saved an estimated {} tokens.\n",
            t.screened, md_code(screen), t.screen_tokens, t.screened_out, t.tokens_saved
        );
    }
    for g in &r.groups {
        let Some(gv) = &g.verdict else { continue };
        let (v, meta) = (&gv.verdict, &gv.meta);
        let failed;
        let flag = if let Some(e) = &meta.error {
            failed = format!(" (detector verdict: {})", cell(e));
            failed.as_str()
        } else if meta.fallback {
            " (detector verdict: the model's answer was unusable)"
        } else if meta.tier == crate::triage::Tier::Screen {
            " (screened out: no detailed verdict)"
        } else if !meta.consistent_with_detectors {
            " (at odds with the detectors)"
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "- **#{} {}** — {} / {} / confidence {}{}: {}",
            g.group.rank,
            cell(&g.group.component),
            v.severity,
            v.category,
            // As JSON writes it (1.0, not 1).
            serde_json::Value::from(v.confidence),
            flag,
            cell(&v.summary)
        );
        if !v.root_cause.is_empty() {
            let _ = writeln!(s, "  - root cause: {}", cell(&v.root_cause));
        }
        if !v.evidence_line_ids.is_empty() {
            let _ = writeln!(s, "  - evidence: {}", cell(&v.evidence_line_ids.join(", ")));
        }
    }
}

/// The detectors' findings, the most telling first, [`MAX_ANOMALIES`] at most.
fn anomalies(r: &Report, s: &mut String) {
    if r.anomalies.is_empty() && r.sessions.is_none() {
        return;
    }
    let _ = writeln!(s, "\n## Anomalies\n");
    if let Some(sessions) = &r.sessions {
        let _ = writeln!(s, "{}\n", cell(&sessions.line()));
    }
    let _ = writeln!(
        s,
        "| detector | score | component | group | window | what |\n|---|---:|---|---:|---|---|"
    );
    for a in r.anomalies.iter().take(MAX_ANOMALIES) {
        let _ = writeln!(
            s,
            "| {} | {:.1} | {} | {} | {} | {} |",
            a.anomaly.detector,
            a.anomaly.score,
            cell(&a.anomaly.component),
            a.group_rank.map_or_else(|| "-".into(), |r| format!("#{r}")),
            cell(a.anomaly.window_start.as_deref().unwrap_or("-")),
            cell(&a.anomaly.summary)
        );
    }
    if r.anomalies.len() > MAX_ANOMALIES {
        let _ = writeln!(
            s,
            "\n{} more in report.json.",
            r.anomalies.len() - MAX_ANOMALIES
        );
    }
}

/// The listed groups, then their samples.
fn groups(r: &Report, s: &mut String) {
    let _ = writeln!(s, "\n## Groups (level {} and above)\n", r.run.min_level);
    if r.groups.is_empty() {
        let _ = writeln!(s, "Nothing at or above this level.");
        return;
    }
    let _ = writeln!(s, "| # | level | component | count | first seen | last seen | template |\n|---:|---|---|---:|---|---|---|");
    for g in r.groups.iter().map(|g| &g.group) {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} |",
            g.rank,
            g.level,
            cell(&g.component),
            g.count,
            cell(g.first_seen.as_deref().unwrap_or("-")),
            cell(g.last_seen.as_deref().unwrap_or("-")),
            md_code(&g.template)
        );
    }
    let _ = writeln!(s, "\n### Samples\n");
    for g in r.groups.iter().map(|g| &g.group) {
        let _ = writeln!(
            s,
            "**#{} {} {}** — {}\n",
            g.rank,
            g.level,
            cell(&g.component),
            md_code(&g.template)
        );
        for smp in &g.samples {
            let _ = writeln!(s, "- {}", md_code(&format!("{}:{}", smp.file, smp.line)));
            let _ = writeln!(s, "{}", md_block(&smp.text, 2));
        }
        let _ = writeln!(s);
    }
}

/// Groups below the listing level, per (component, level).
fn summarized(r: &Report, s: &mut String) {
    if r.summarized.is_empty() {
        return;
    }
    let _ = writeln!(s, "## Below {} (summarised)\n", r.run.min_level);
    let _ = writeln!(
        s,
        "| component | level | templates | records |\n|---|---|---:|---:|"
    );
    for row in &r.summarized {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} |",
            cell(&row.component),
            row.level,
            row.templates,
            row.count
        );
    }
}

/// Where every line of every input went.
fn accounting(r: &Report, s: &mut String) {
    let a = &r.accounting;
    let _ = writeln!(s, "\n## Input accounting\n");
    let _ = writeln!(s, "| file | format | status | lines | records | continuation | blank | invalid UTF-8 | truncated |\n|---|---|---|---:|---:|---:|---:|---:|---:|");
    for f in &r.files {
        let status = match &f.error {
            Some(e) => format!("{:?}: {}", f.status, cell(e)),
            None => format!("{:?}", f.status),
        };
        let _ = write!(
            s,
            "| {} | {} | {} |",
            md_code(&f.path),
            cell(&f.format),
            status
        );
        for n in super::counted(&f.counts) {
            let _ = write!(s, " {n} |");
        }
        let _ = writeln!(s);
    }
    let c = &a.counts;
    let _ = writeln!(
        s,
        "\nEvery line is accounted for: {} lines = {} records + {} continuation + {} blank{}.",
        c.lines,
        c.records,
        c.continuation_lines,
        c.blank_lines,
        if c.balanced() { "" } else { " (MISMATCH)" }
    );
}

/// Per file: the format it was read with, what its records lacked, and the first lines
/// no format explained.
fn reading(r: &Report, s: &mut String) {
    let _ = writeln!(s, "\n## How each file was read\n");
    let _ = writeln!(s, "| file | format (head lines read) | records | no timestamp | timestamp inferred | no level field | component from the file name |\n|---|---|---:|---:|---:|---:|---:|");
    let pct = |n: u64, of: u64| {
        if of == 0 {
            "-".to_string()
        } else {
            format!("{:.1}%", n as f64 * 100.0 / of as f64)
        }
    };
    for f in r.files.iter().filter(|f| f.counts.records > 0) {
        let (g, n) = (&f.reading, f.counts.records);
        let _ = writeln!(
            s,
            "| {} | {} ({:.0}%) | {} | {} | {} | {} | {} |",
            md_code(&f.path),
            cell(&f.format),
            g.format_hit_rate * 100.0,
            n,
            pct(g.records_without_timestamp, n),
            pct(g.records_inferred_timestamp, n),
            pct(g.records_without_level, n),
            pct(g.records_without_component, n)
        );
    }
    let unparsed: Vec<_> = r
        .files
        .iter()
        .flat_map(|f| {
            f.reading
                .unparsed_samples
                .iter()
                .map(move |(n, t)| (f, n, t))
        })
        .collect();
    if !unparsed.is_empty() {
        let _ = writeln!(
            s,
            "\nLines no format explained (the first few per file; override with `--log-format-for`):\n"
        );
        for (f, n, t) in unparsed {
            let _ = writeln!(
                s,
                "- {} {}",
                md_code(&format!("{}:{n}", f.path)),
                md_code(t)
            );
        }
    }
}
