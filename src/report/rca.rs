//! The root-cause section of the reports: the Markdown lead (the root cause in one
//! sentence, then the path, the evidence and the ranking), the HTML service graph laid
//! out by loglens as inline SVG (root cause, path and victims coloured) with a
//! per-service timeline aligned on the incident, and `report.dot` for Graphviz.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::escape::{md_code, md_text as cell};
use super::html::esc;
use super::RcaReport;
use crate::rca::{Candidate, GraphNode, Rca};
use crate::triage::RcaJudgement;

/// The report's first line when a root cause is named.
pub(super) fn headline(r: &RcaReport) -> Option<String> {
    let lead = r.lead.as_ref()?;
    Some(format!(
        "# Root cause: {} ({})",
        cell(&lead.service),
        lead.category
    ))
}

/// Gives the graph's roles to another root cause than the ranking's top: `service` and
/// its propagation path.
pub(super) fn recolour(r: &mut Rca, service: &str) {
    let path: Vec<String> = r
        .candidates
        .iter()
        .find(|c| c.service == service)
        .map(|c| c.propagation_path.clone())
        .unwrap_or_default();
    for n in &mut r.graph.nodes {
        n.role = if n.name == service {
            "root_cause"
        } else if path.contains(&n.name) {
            "path"
        } else if n.abnormal {
            "victim"
        } else {
            "healthy"
        };
    }
}

/// The Markdown section that leads the report.
pub(super) fn markdown(report: &RcaReport, s: &mut String) {
    let r = &report.ranking;
    let Some(top) = report
        .lead
        .as_ref()
        .and_then(|l| r.candidates.iter().find(|c| c.service == l.service))
    else {
        let _ = writeln!(s, "## Root cause\n\n{}\n", cell(&r.summary));
        return;
    };
    if top.service == r.top().map_or("", |t| t.service.as_str()) {
        let _ = writeln!(s, "{}\n", cell(&r.summary));
    }
    if let Some(settle) = &r.confidence.settle {
        let _ = writeln!(
            s,
            "The top two candidates are close (margin {:.2}); what would settle it: {settle}.\n",
            r.confidence.margin
        );
    }
    if let Some(seen) = &r.seen_before {
        let _ = writeln!(
            s,
            "Seen before: {} earlier incident(s) with the same root cause and category, the latest from {}.\n",
            seen.count, seen.last
        );
    }
    if let Some(v) = &report.verdict {
        verdict_md(v, r, s);
    }
    let _ = writeln!(s, "## Root cause analysis\n");
    let _ = writeln!(
        s,
        "Propagation path: {}\n",
        cell(&top.propagation_path.join(" → "))
    );
    let _ = writeln!(s, "Why {}:\n", cell(&top.service));
    for w in &top.explanation {
        let _ = writeln!(s, "- {}", cell(w));
    }
    let _ = writeln!(s, "\nEvidence:\n");
    evidence_md(top, s);
    let _ = writeln!(
        s,
        "\n| # | service | score | category | onset | origin | onset | coverage | blame | signature | partial |\n|---:|---|---:|---|---|---:|---:|---:|---:|---:|---:|"
    );
    for (i, c) in r.candidates.iter().enumerate() {
        let f = &c.factors;
        let _ = writeln!(
            s,
            "| {} | {} | {:.3} | {} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
            i + 1,
            cell(&c.service),
            c.score,
            c.category,
            c.onset.as_deref().unwrap_or("-"),
            f.origin,
            f.onset,
            f.coverage,
            f.blame,
            f.signature,
            f.partial
        );
    }
    let _ = writeln!(
        s,
        "\nService graph: {} services ({} abnormal), {} edges; {} spans read.",
        r.stats.services, r.stats.abnormal, r.stats.edges, r.stats.collected.spans
    );
}

fn evidence_md(c: &Candidate, s: &mut String) {
    for e in &c.evidence {
        let at = if e.location.is_empty() {
            String::new()
        } else {
            format!(" {}", md_code(&e.location))
        };
        let _ = writeln!(
            s,
            "- [{}] {} {}{} {}: {} — {}",
            e.id,
            e.kind,
            cell(&e.service),
            at,
            e.time.as_deref().unwrap_or(""),
            md_code(&e.text),
            cell(&e.why)
        );
    }
}

fn verdict_md(j: &RcaJudgement, r: &Rca, s: &mut String) {
    let model = j.meta.model.as_str();
    match (&j.verdict, j.meta.used) {
        (Some(v), true) => {
            let named = v.root_cause_service.service().unwrap_or("unknown");
            let agrees = r.top().is_some_and(|t| t.service == named);
            let _ = writeln!(
                s,
                "Model verdict ({model}, confidence {}){}: {named} — {}\n",
                serde_json::Value::from(v.confidence),
                if agrees {
                    ", agreeing with the ranking"
                } else {
                    ", over the ranking's top candidate"
                },
                cell(&v.summary)
            );
            for st in &v.remediation_steps {
                let _ = writeln!(s, "- {}", cell(st));
            }
            if !v.remediation_steps.is_empty() {
                s.push('\n');
            }
        }
        _ => {
            let _ = writeln!(
                s,
                "The model's verdict ({model}) was not used: {}. The ranking stands.\n",
                j.meta.reason.as_deref().unwrap_or("unusable")
            );
        }
    }
}

/// Colour of a node by its role.
fn fill(n: &GraphNode) -> &'static str {
    match n.role {
        "root_cause" => "#d32f2f",
        "path" => "#f57c00",
        "victim" => "#fbc02d",
        _ if n.abnormal => "#fbc02d",
        _ => "#e0e4ea",
    }
}

/// Layers: callers left of their callees (longest path from a node without callers).
fn layout(r: &Rca, shown: &[&GraphNode]) -> BTreeMap<String, (usize, usize)> {
    let names: Vec<&str> = shown.iter().map(|n| n.name.as_str()).collect();
    let edges: Vec<(&str, &str)> = r
        .graph
        .edges
        .iter()
        .filter(|e| names.contains(&e.from.as_str()) && names.contains(&e.to.as_str()))
        .map(|e| (e.from.as_str(), e.to.as_str()))
        .collect();
    let mut layer: BTreeMap<&str, usize> = names.iter().map(|n| (*n, 0)).collect();
    // Relax at most |nodes| times: cycles stop growing there.
    for _ in 0..names.len() {
        let mut changed = false;
        for (f, t) in &edges {
            let lf = layer.get(f).copied().unwrap_or(0);
            if layer.get(t).copied().unwrap_or(0) < lf + 1 && lf + 1 < names.len() {
                layer.insert(t, lf + 1);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let mut rows: BTreeMap<usize, usize> = BTreeMap::new();
    let mut out = BTreeMap::new();
    for n in &names {
        let l = layer.get(n).copied().unwrap_or(0);
        let row = rows.entry(l).or_insert(0);
        out.insert(n.to_string(), (l, *row));
        *row += 1;
    }
    out
}

/// The service graph as inline SVG, then the per-service timeline.
pub(super) fn html(report: &RcaReport, s: &mut String) {
    let r = &report.ranking;
    let lead = report
        .lead
        .as_ref()
        .and_then(|l| r.candidates.iter().find(|c| c.service == l.service));
    let title = match (&report.lead, lead) {
        (Some(l), Some(_)) if l.by == "model" => format!(
            "Root cause: {} ({}), named by the model's verdict; the ranking's summary: {}",
            l.service, l.category, r.summary
        ),
        _ => r.summary.clone(),
    };
    let _ = write!(s, "<h2>Root cause</h2><p><b>{}</b></p>", esc(&title));
    if let Some(top) = lead {
        let _ = write!(
            s,
            "<p>Path: {}</p><ul>",
            esc(&top.propagation_path.join(" → "))
        );
        for e in &top.evidence {
            let _ = write!(
                s,
                "<li>[{}] {} <b>{}</b> <code>{}</code> {}: <code>{}</code> — {}</li>",
                esc(&e.id),
                esc(e.kind),
                esc(&e.service),
                esc(&e.location),
                esc(e.time.as_deref().unwrap_or("")),
                esc(&e.text),
                esc(&e.why)
            );
        }
        s.push_str("</ul>");
    }
    let mut shown: Vec<&GraphNode> = r
        .graph
        .nodes
        .iter()
        .filter(|n| n.role != "healthy")
        .collect();
    for n in r.graph.nodes.iter().filter(|n| n.role == "healthy") {
        let touches = r.graph.edges.iter().any(|e| {
            (e.from == n.name || e.to == n.name)
                && shown.iter().any(|x| x.name == e.from || x.name == e.to)
        });
        if touches && shown.len() < 40 {
            shown.push(n);
        }
    }
    shown.truncate(40);
    if shown.is_empty() {
        return;
    }
    let pos = layout(r, &shown);
    let (w, h) = (180.0, 56.0);
    let xy = |name: &str| {
        pos.get(name)
            .map(|&(l, row)| (20.0 + l as f64 * w, 20.0 + row as f64 * h))
    };
    let width = 20.0 + (pos.values().map(|p| p.0).max().unwrap_or(0) + 1) as f64 * w;
    let height = 20.0 + (pos.values().map(|p| p.1).max().unwrap_or(0) + 1) as f64 * h;
    let _ = write!(
        s,
        "<h2>Service graph</h2><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-size=\"11\"><defs><marker id=\"a\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"6\" markerHeight=\"6\" orient=\"auto\"><path d=\"M0,0L10,5L0,10z\" fill=\"#667\"/></marker></defs>"
    );
    for e in &r.graph.edges {
        let (Some((x1, y1)), Some((x2, y2))) = (xy(&e.from), xy(&e.to)) else {
            continue;
        };
        let colour = if e.errors > 0 { "#c62828" } else { "#99a" };
        let dash = if e.source == "logs" {
            " stroke-dasharray=\"4 3\""
        } else {
            ""
        };
        let _ = write!(
            s,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{colour}\"{dash} marker-end=\"url(#a)\"><title>{} → {}: {} calls, {} errors ({})</title></line>",
            x1 + 140.0, y1 + 17.0, x2, y2 + 17.0,
            esc(&e.from), esc(&e.to), e.calls, e.errors, e.source
        );
    }
    for n in &shown {
        let Some((x, y)) = xy(&n.name) else { continue };
        let text = if n.role == "root_cause" {
            "#fff"
        } else {
            "#1d2430"
        };
        let _ = write!(
            s,
            "<g><rect x=\"{x}\" y=\"{y}\" width=\"140\" height=\"34\" rx=\"6\" fill=\"{}\" stroke=\"#556\"/><text x=\"{}\" y=\"{}\" fill=\"{text}\">{}</text><text x=\"{}\" y=\"{}\" fill=\"{text}\" font-size=\"9\">{} · {}</text><title>{}: {} ({}), {} records, {} spans, {} errors</title></g>",
            fill(n), x + 6.0, y + 14.0, esc(&n.name), x + 6.0, y + 28.0, n.kind, n.role,
            esc(&n.name), n.role, n.kind, n.records, n.spans, n.errors
        );
    }
    s.push_str("</svg><p>Red: root cause; orange: on its propagation path; yellow: other abnormal services; dashed edges come from log messages naming a service.</p>");
    timeline_html(r, s);
}

fn timeline_html(r: &Rca, s: &mut String) {
    let Some(t) = &r.timeline else { return };
    let bins = t.services.iter().map(|x| x.errors.len()).max().unwrap_or(0);
    if bins == 0 {
        return;
    }
    let cw = (720.0_f64 / bins as f64).clamp(2.0, 12.0);
    let row = 22.0;
    let width = 170.0 + cw * bins as f64;
    let height = 10.0 + row * t.services.len() as f64;
    let _ = write!(
        s,
        "<h2>Per-service timeline</h2><p>From {} in {}-minute bins; the line marks the incident start.</p><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-size=\"11\">",
        esc(&t.start),
        t.bin_minutes
    );
    for (i, svc) in t.services.iter().enumerate() {
        let y = 5.0 + i as f64 * row;
        let _ = write!(
            s,
            "<text x=\"0\" y=\"{}\">{}</text>",
            y + 13.0,
            esc(&svc.service)
        );
        let max = svc
            .errors
            .iter()
            .zip(&svc.warnings)
            .map(|(e, w)| e + w)
            .max()
            .unwrap_or(0)
            .max(1);
        for (b, (e, w)) in svc.errors.iter().zip(&svc.warnings).enumerate() {
            let x = 170.0 + b as f64 * cw;
            let he = f64::from(*e) / f64::from(max) * (row - 4.0);
            let hw = f64::from(*w) / f64::from(max) * (row - 4.0);
            if *e > 0 {
                let _ = write!(s, "<rect x=\"{x}\" y=\"{}\" width=\"{}\" height=\"{he}\" fill=\"#c62828\"><title>{e} errors</title></rect>", y + row - 4.0 - he, cw - 0.5);
            }
            if *w > 0 {
                let _ = write!(s, "<rect x=\"{x}\" y=\"{}\" width=\"{}\" height=\"{hw}\" fill=\"#f9a825\"><title>{w} warnings</title></rect>", y + row - 4.0 - he - hw, cw - 0.5);
            }
        }
        if let Some(o) = svc.onset_bin {
            let _ = write!(s, "<circle cx=\"{}\" cy=\"{}\" r=\"3\" fill=\"#1d2430\"><title>onset</title></circle>", 170.0 + o as f64 * cw, y + row - 2.0);
        }
    }
    if let Some(ib) = t.incident_bin {
        let x = 170.0 + ib as f64 * cw;
        let _ = write!(s, "<line x1=\"{x}\" y1=\"0\" x2=\"{x}\" y2=\"{height}\" stroke=\"#1d2430\" stroke-dasharray=\"3 3\"/>");
    }
    s.push_str("</svg>");
}

fn dot_id(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The service graph for Graphviz.
pub(super) fn dot(r: &Rca) -> String {
    let mut s = String::from("digraph services {\n  rankdir=LR;\n  node [shape=box, style=\"rounded,filled\", fontname=\"sans-serif\"];\n");
    for n in &r.graph.nodes {
        let _ = writeln!(
            s,
            "  {} [fillcolor=\"{}\", tooltip=\"{} {}, {} errors\"];",
            dot_id(&n.name),
            fill(n),
            n.kind,
            n.role,
            n.errors
        );
    }
    for e in &r.graph.edges {
        let style = if e.source == "logs" {
            ", style=dashed"
        } else {
            ""
        };
        let colour = if e.errors > 0 { "#c62828" } else { "#888888" };
        let _ = writeln!(
            s,
            "  {} -> {} [label=\"{}/{}\", color=\"{colour}\"{style}];",
            dot_id(&e.from),
            dot_id(&e.to),
            e.errors,
            e.calls
        );
    }
    s.push_str("}\n");
    s
}
