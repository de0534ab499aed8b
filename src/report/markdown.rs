//! The Markdown report: what an on-call engineer reads first.

use std::fmt::Write;

use super::Report;

/// Escapes text for a Markdown table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Anomalies listed in the Markdown and HTML reports (all are in the JSON).
pub(super) const MAX_ANOMALIES: usize = 30;

pub(super) fn render(r: &Report) -> String {
    let mut s = String::new();
    let a = &r.accounting;
    // Writing to a String cannot fail; the results are ignored on purpose.
    match r.rca.as_ref().and_then(super::rca::headline) {
        Some(h) => {
            let _ = writeln!(s, "{h}\n");
        }
        None => {
            let _ = writeln!(s, "# loglens report\n");
        }
    }
    if let Some(rca) = &r.rca {
        super::rca::markdown(rca, &mut s);
        let _ = writeln!(s, "\n## Input\n");
    }
    let _ = writeln!(
        s,
        "{} records from {} lines in {} input(s), {} templates, analysed in {} ms.",
        a.records,
        a.lines,
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
    if let Some(t) = &r.triage {
        verdicts(r, t, &mut s);
    }
    if !r.anomalies.is_empty() || r.sessions.is_some() {
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
                a.anomaly.window_start.as_deref().unwrap_or("-"),
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
    let _ = writeln!(s, "\n## Groups (level {} and above)\n", r.run.min_level);
    if r.groups.is_empty() {
        let _ = writeln!(s, "Nothing at or above this level.");
    } else {
        let _ = writeln!(s, "| # | level | component | count | first seen | last seen | template |\n|---:|---|---|---:|---|---|---|");
        for g in &r.groups {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | `{}` |",
                g.rank,
                g.level,
                cell(&g.component),
                g.count,
                g.first_seen.as_deref().unwrap_or("-"),
                g.last_seen.as_deref().unwrap_or("-"),
                cell(&g.template).replace('`', "'")
            );
        }
        let _ = writeln!(s, "\n### Samples\n");
        for g in &r.groups {
            let _ = writeln!(
                s,
                "**#{} {} {}** — `{}`\n",
                g.rank,
                g.level,
                cell(&g.component),
                cell(&g.template).replace('`', "'")
            );
            for smp in &g.samples {
                let _ = writeln!(s, "- {}:{}", smp.file, smp.line);
                let _ = writeln!(s, "  ```\n{}\n  ```", indent(&smp.text));
            }
            let _ = writeln!(s);
        }
    }
    if !r.summarized.is_empty() {
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
    let _ = writeln!(s, "\n## Input accounting\n");
    let _ = writeln!(s, "| file | format | status | lines | records | continuation | blank | invalid UTF-8 | truncated |\n|---|---|---|---:|---:|---:|---:|---:|---:|");
    for f in &r.files {
        let status = match &f.error {
            Some(e) => format!("{:?}: {}", f.status, cell(e)),
            None => format!("{:?}", f.status),
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            cell(&f.path),
            cell(&f.format),
            status,
            f.lines,
            f.records,
            f.continuation_lines,
            f.blank_lines,
            f.invalid_utf8_lines,
            f.truncated_lines
        );
    }
    let _ = writeln!(
        s,
        "\nEvery line is accounted for: {} lines = {} records + {} continuation + {} blank{}.",
        a.lines,
        a.records,
        a.continuation_lines,
        a.blank_lines,
        if a.balanced() { "" } else { " (MISMATCH)" }
    );
    s
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn verdicts(r: &Report, t: &crate::triage::TriageStats, s: &mut String) {
    let actions = crate::triage::action_items(r);
    if !actions.is_empty() {
        let _ = writeln!(s, "\n## Action items\n");
        for (component, steps) in &actions {
            let _ = writeln!(s, "- **{}**", cell(component));
            for step in steps {
                let _ = writeln!(s, "  - {}", cell(step));
            }
        }
    }
    let _ = writeln!(s, "\n## Triage\n");
    let _ = writeln!(
        s,
        "{} group(s) triaged with `{}` (prompt {}; {} from the verdict cache, {} asked): {} prompt + {} generated tokens in {:.1} s; {} answer(s) unusable (detector verdict used), {} at odds with the detectors.\n",
        t.groups,
        t.model,
        t.prompt_version,
        t.cache_hits,
        t.cache_misses,
        t.prompt_tokens,
        t.completion_tokens,
        t.seconds,
        t.fallbacks,
        t.inconsistent
    );
    if let Some(screen) = &t.screen_model {
        let _ = writeln!(
            s,
            "Tiered: {} group(s) screened with `{}` ({} tokens), {} dismissed without a detailed verdict; tiering saved an estimated {} tokens.\n",
            t.screened, screen, t.screen_tokens, t.screened_out, t.tokens_saved
        );
    }
    for g in &r.groups {
        let Some(v) = &g.verdict else { continue };
        let flag = if v["meta"]["fallback"] == serde_json::json!(true) {
            " (detector verdict: the model's answer was unusable)"
        } else if v["meta"]["tier"] == serde_json::json!("screen") {
            " (screened out: no detailed verdict)"
        } else if v["meta"]["consistent_with_detectors"] == serde_json::json!(false) {
            " (at odds with the detectors)"
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "- **#{} {}** — {} / {} / confidence {}{}: {}",
            g.rank,
            cell(&g.component),
            v["severity"].as_str().unwrap_or("?"),
            v["category"].as_str().unwrap_or("?"),
            v["confidence"],
            flag,
            cell(v["summary"].as_str().unwrap_or(""))
        );
        if let Some(rc) = v["root_cause"].as_str().filter(|x| !x.is_empty()) {
            let _ = writeln!(s, "  - root cause: {}", cell(rc));
        }
        let ids: Vec<&str> = v["evidence_line_ids"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|x| x.as_str())
            .collect();
        if !ids.is_empty() {
            let _ = writeln!(s, "  - evidence: {}", ids.join(", "));
        }
    }
}
