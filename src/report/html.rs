//! The HTML report: one self-contained page (inline CSS and SVG, no script, no
//! network) with a per-component timeline of errors and warnings and the group table.

use std::collections::BTreeMap;
use std::fmt::Write;

use chrono::DateTime;

use super::Report;
use crate::logs::level::Level;
use crate::triage::Tier;

/// Escapes one-line text for HTML, control characters visible.
pub(crate) fn esc(s: &str) -> String {
    super::escape::html(s, false)
}

/// Escapes multi-line text for a `<pre>`, control characters visible.
fn esc_pre(s: &str) -> String {
    super::escape::html(s, true)
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:24px;color:#1d2430;background:#fafbfc}\
h1{font-size:22px}h2{font-size:17px;margin-top:28px}\
table{border-collapse:collapse;width:100%;font-size:13px;background:#fff}\
th,td{border:1px solid #dde2e8;padding:4px 8px;text-align:left;vertical-align:top}\
th{background:#eef1f5}td.n{text-align:right}code,pre{font-family:ui-monospace,monospace;font-size:12px}\
pre{white-space:pre-wrap;margin:4px 0;background:#f4f6f8;padding:6px}\
.critical{color:#fff;background:#8b0000}.error{color:#fff;background:#c62828}.warn{background:#f9a825}\
.notice,.info{background:#e3f2fd}.debug,.trace{background:#eceff1}\
span.lv{padding:1px 6px;border-radius:3px;font-size:12px}\
.cards{display:flex;gap:12px;flex-wrap:wrap}.card{background:#fff;border:1px solid #dde2e8;padding:10px 14px;border-radius:6px}\
.card b{display:block;font-size:20px}details summary{cursor:pointer}";

pub(super) fn render(r: &Report) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>loglens report</title><style>{STYLE}</style></head><body>"
    );
    cards(r, &mut s);
    if let Some((from, to)) = &r.time_range {
        let _ = write!(s, "<p>Time range: {} to {}</p>", esc(from), esc(to));
    }
    if let Some(rca) = &r.rca {
        super::rca::html(rca, &mut s);
    }
    timeline(r, &mut s);
    if let Some(e) = &r.triage_error {
        let _ = write!(
            s,
            "<p><b>LLM triage failed:</b> {}. The statistics below are complete; no group has a model verdict.</p>",
            esc(e)
        );
    }
    if let Some(sessions) = &r.sessions {
        let _ = write!(s, "<p>{}</p>", esc(&sessions.line()));
    }
    anomalies(r, &mut s);
    groups(r, &mut s);
    summarized(r, &mut s);
    accounting(r, &mut s);
    reading(r, &mut s);
    let _ = write!(
        s,
        "<p><small>loglens {} · report schema {} · started {}</small></p></body></html>",
        esc(&r.run.version),
        r.schema_version,
        esc(&r.run.started_at)
    );
    s
}

/// The title and the headline counts.
fn cards(r: &Report, s: &mut String) {
    let a = &r.accounting;
    let level = |l: Level| r.levels.get(&l).copied().unwrap_or(0).to_string();
    let _ = write!(s, "<h1>loglens report</h1><div class=\"cards\">");
    for (label, value) in [
        ("records", a.counts.records.to_string()),
        ("lines", a.counts.lines.to_string()),
        ("templates", r.templates.to_string()),
        ("critical", level(Level::Critical)),
        ("errors", level(Level::Error)),
        ("warnings", level(Level::Warn)),
    ] {
        let _ = write!(s, "<div class=\"card\"><b>{value}</b>{label}</div>");
    }
    let _ = write!(s, "</div>");
}

/// The detectors' findings, the most telling first.
fn anomalies(r: &Report, s: &mut String) {
    if r.anomalies.is_empty() {
        return;
    }
    let _ = write!(s, "<h2>Anomalies</h2><table><tr><th>detector</th><th>score</th><th>component</th><th>group</th><th>window</th><th>what</th></tr>");
    for a in r.anomalies.iter().take(super::markdown::MAX_ANOMALIES) {
        let _ = write!(
            s,
            "<tr><td>{}</td><td class=\"num\">{:.1}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            a.anomaly.detector,
            a.anomaly.score,
            esc(&a.anomaly.component),
            a.group_rank.map_or_else(|| "-".into(), |r| format!("#{r}")),
            esc(a.anomaly.window_start.as_deref().unwrap_or("-")),
            esc(&a.anomaly.summary)
        );
    }
    let _ = write!(s, "</table>");
}

/// The listed groups with their samples and verdicts.
fn groups(r: &Report, s: &mut String) {
    let _ = write!(s, "<h2>Groups (level {} and above)</h2>", r.run.min_level);
    let _ = write!(s, "<table><tr><th>#</th><th>level</th><th>component</th><th>count</th><th>first seen</th><th>last seen</th><th>template and samples</th></tr>");
    for gr in &r.groups {
        let g = &gr.group;
        let _ = write!(
            s,
            "<tr><td class=\"n\">{}</td><td><span class=\"lv {lv}\">{lv}</span></td><td>{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td><td><code>{}</code><details><summary>{} sample(s)</summary>",
            g.rank,
            esc(&g.component),
            g.count,
            esc(g.first_seen.as_deref().unwrap_or("-")),
            esc(g.last_seen.as_deref().unwrap_or("-")),
            esc(&g.template),
            g.samples.len(),
            lv = g.level,
        );
        for smp in &g.samples {
            let _ = write!(
                s,
                "<div>{}:{}</div><pre>{}</pre>",
                esc(&smp.file),
                smp.line,
                esc_pre(&smp.text)
            );
        }
        let _ = write!(s, "</details>");
        if let Some(v) = &gr.verdict {
            let failed;
            let how = if let Some(e) = &v.meta.error {
                failed = format!("detector verdict ({})", esc(e));
                failed.as_str()
            } else if v.meta.fallback {
                "detector verdict (the model's answer was unusable)"
            } else if v.meta.tier == Tier::Screen {
                "screening verdict (no detailed verdict asked)"
            } else {
                "model verdict"
            };
            let _ = write!(
                s,
                "<p><b>{}</b> / {} — {}: {}</p>",
                esc(v.verdict.severity.as_str()),
                esc(v.verdict.category.as_str()),
                how,
                esc(&v.verdict.summary)
            );
        }
        let _ = write!(s, "</td></tr>");
    }
    let _ = write!(s, "</table>");
}

/// Groups below the listing level, per (component, level).
fn summarized(r: &Report, s: &mut String) {
    if r.summarized.is_empty() {
        return;
    }
    let _ = write!(s, "<h2>Below {} (summarised)</h2><table><tr><th>component</th><th>level</th><th>templates</th><th>records</th></tr>", r.run.min_level);
    for row in &r.summarized {
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(&row.component),
            row.level,
            row.templates,
            row.count
        );
    }
    let _ = write!(s, "</table>");
}

/// Where every line of every input went.
fn accounting(r: &Report, s: &mut String) {
    let _ = write!(s, "<h2>Input accounting</h2><table><tr><th>file</th><th>format</th><th>status</th><th>lines</th><th>records</th><th>continuation</th><th>blank</th><th>invalid UTF-8</th><th>truncated</th></tr>");
    for f in &r.files {
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{:?}{}</td>",
            esc(&f.path),
            esc(&f.format),
            f.status,
            f.error
                .as_deref()
                .map(|e| format!(": {}", esc(e)))
                .unwrap_or_default(),
        );
        for n in super::counted(&f.counts) {
            let _ = write!(s, "<td class=\"n\">{n}</td>");
        }
        let _ = write!(s, "</tr>");
    }
    let _ = write!(s, "</table>");
}

/// Per file: the format it was read with, what its records lacked, and the first lines
/// no format explained.
fn reading(r: &Report, s: &mut String) {
    let _ = write!(s, "<h2>How each file was read</h2><table><tr><th>file</th><th>format (head lines read)</th><th>records</th><th>no timestamp</th><th>timestamp inferred</th><th>no level field</th><th>component from the file name</th></tr>");
    let pct = |n: u64, of: u64| {
        if of == 0 {
            "-".to_string()
        } else {
            format!("{:.1}%", n as f64 * 100.0 / of as f64)
        }
    };
    for f in r.files.iter().filter(|f| f.counts.records > 0) {
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{} ({:.0}%)</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(&f.path),
            esc(&f.format),
            f.reading.format_hit_rate * 100.0,
            f.counts.records,
            pct(f.reading.records_without_timestamp, f.counts.records),
            pct(f.reading.records_inferred_timestamp, f.counts.records),
            pct(f.reading.records_without_level, f.counts.records),
            pct(f.reading.records_without_component, f.counts.records)
        );
    }
    let _ = write!(s, "</table>");
    let mut first = true;
    for f in &r.files {
        for (n, t) in &f.reading.unparsed_samples {
            if first {
                let _ = write!(s, "<p>Lines no format explained (the first few per file; override with <code>--log-format-for</code>):</p><ul>");
                first = false;
            }
            let _ = write!(
                s,
                "<li><code>{}:{n}</code> <code>{}</code></li>",
                esc(&f.path),
                esc(t)
            );
        }
    }
    if !first {
        let _ = write!(s, "</ul>");
    }
}

/// An SVG strip per component: errors (red, up) and warnings (amber, down) per time bucket.
fn timeline(r: &Report, s: &mut String) {
    let mut per: BTreeMap<&str, BTreeMap<i64, (u64, u64)>> = BTreeMap::new();
    let (mut lo, mut hi) = (i64::MAX, i64::MIN);
    for g in r.groups.iter().map(|g| &g.group) {
        if g.level < Level::Warn {
            continue;
        }
        for (t, n) in &g.per_minute {
            let Ok(t) = DateTime::parse_from_rfc3339(t) else {
                continue;
            };
            let m = t.timestamp() / 60;
            lo = lo.min(m);
            hi = hi.max(m);
            let e = per
                .entry(g.component.as_str())
                .or_default()
                .entry(m)
                .or_default();
            if g.level >= Level::Error {
                e.0 += n;
            } else {
                e.1 += n;
            }
        }
    }
    let _ = write!(s, "<h2>Timeline of errors and warnings</h2>");
    if per.is_empty() {
        let _ = write!(s, "<p>No timestamped errors or warnings.</p>");
        return;
    }
    let buckets = 120i64;
    let span = (hi - lo + 1).max(1);
    let width_per = (span + buckets - 1) / buckets;
    let nb = (span + width_per - 1) / width_per;
    let (w, row_h, label_w) = (900.0f64, 44.0f64, 150.0f64);
    let bw = (w - label_w) / nb as f64;
    let max = per
        .values()
        .flat_map(|m| m.values())
        .map(|(e, wn)| (*e).max(*wn))
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let h = row_h * per.len() as f64 + 24.0;
    let _ = write!(s, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"errors and warnings per component over time\" style=\"background:#fff;border:1px solid #dde2e8\">");
    for (i, (comp, mins)) in per.iter().enumerate() {
        let y0 = i as f64 * row_h + row_h / 2.0;
        let _ = write!(s, "<text x=\"6\" y=\"{:.1}\" font-size=\"12\">{}</text><line x1=\"{label_w}\" x2=\"{w}\" y1=\"{y0:.1}\" y2=\"{y0:.1}\" stroke=\"#dde2e8\"/>", y0 + 4.0, esc(comp));
        let mut agg: BTreeMap<i64, (u64, u64)> = BTreeMap::new();
        for (m, (e, wn)) in mins {
            let b = (m - lo) / width_per;
            let x = agg.entry(b).or_default();
            x.0 += e;
            x.1 += wn;
        }
        for (b, (e, wn)) in agg {
            let x = label_w + b as f64 * bw;
            let half = row_h / 2.0 - 4.0;
            if e > 0 {
                let hgt = (e as f64 / max).sqrt() * half;
                let _ = write!(s, "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{hgt:.1}\" fill=\"#c62828\"><title>{} errors</title></rect>", y0 - hgt, bw.max(1.0), e);
            }
            if wn > 0 {
                let hgt = (wn as f64 / max).sqrt() * half;
                let _ = write!(s, "<rect x=\"{x:.1}\" y=\"{y0:.1}\" width=\"{:.1}\" height=\"{hgt:.1}\" fill=\"#f9a825\"><title>{} warnings</title></rect>", bw.max(1.0), wn);
            }
        }
    }
    let fmt = |m: i64| {
        DateTime::from_timestamp(m * 60, 0)
            .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default()
    };
    let _ = write!(s, "<text x=\"{label_w}\" y=\"{:.1}\" font-size=\"11\">{}</text><text x=\"{w}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\">{} UTC</text></svg>", h - 6.0, fmt(lo), h - 6.0, fmt(hi));
    let _ = write!(s, "<p><small>Red above the line: errors and worse; amber below: warnings. Bucket: {width_per} minute(s).</small></p>");
}
