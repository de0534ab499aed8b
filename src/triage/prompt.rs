//! The questions triage asks: one [`Case`] per flagged group (its template, counts,
//! the detectors' findings, sample lines and lines of other components from the same
//! minutes, each with an id the verdict may cite), and the conversation for each tier.

use crate::analysis::{Analysis, ListedGroup};
use crate::engine::Message;

/// Changes whenever the prompt or schema changes (it keys cached verdicts).
pub const PROMPT_VERSION: &str = "triage-v1";

/// What the detailed verdict asks for.
pub(crate) const DETAIL_ASK: &str =
    "Decide whether this is a real problem, how severe it is, its category, a \
    one-sentence summary, the probable root cause, the affected components, up to 5 remediation \
    steps, the ids of the lines that support your answer, and your confidence.";

/// What the screening verdict asks for.
pub(crate) const SCREEN_ASK: &str =
    "Decide only whether this is a real problem, how severe it is, and your confidence.";

/// The system message of every triage question.
pub(crate) const SYSTEM: &str =
    "You are a site reliability engineer triaging logs on an air-gapped machine. \
     Judge only from the evidence given. Answer in JSON.";

/// One group's question.
#[derive(Debug, Clone)]
pub(crate) struct Case {
    /// The group's rank in the analysis.
    pub(crate) rank: usize,
    /// The evidence, without the question.
    pub(crate) body: String,
    /// Components the verdict may name.
    pub(crate) components: Vec<String>,
    /// Line ids the verdict may cite.
    pub(crate) ids: Vec<String>,
    /// The text each id stands for, in the same order.
    pub(crate) evidence: Vec<String>,
    /// The detectors' findings, as `detector: summary` lines.
    pub(crate) findings: Vec<String>,
    /// A detector whose evidence no screen may dismiss flagged the group.
    pub(crate) strong: bool,
}

/// How much of a group a case shows at most: the bounds every field of the prompt is
/// cut to, so a prompt's size is bounded by construction whatever the logs hold.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shown {
    /// Sample lines of the group.
    pub(crate) samples: usize,
    /// Lines of other components from the same minutes.
    pub(crate) context_lines: usize,
    /// Bytes of each sample line, of the template and of each finding; context lines
    /// get three quarters of it.
    pub(crate) line_bytes: usize,
    /// Detector findings.
    pub(crate) findings: usize,
}

impl Shown {
    /// The evidence shown when it fits: `samples` and `context_lines` as configured.
    pub(crate) fn full(samples: usize, context_lines: usize) -> Self {
        Self {
            samples,
            context_lines,
            line_bytes: 400,
            findings: 6,
        }
    }

    /// Smaller and smaller cuts of `self`, itself first: fewer samples, fewer context
    /// lines, shorter lines. The last one shows one short sample and no context.
    pub(crate) fn cuts(self) -> impl Iterator<Item = Shown> {
        [
            self,
            Shown {
                samples: self.samples.min(3),
                context_lines: self.context_lines.min(2),
                line_bytes: self.line_bytes.min(200),
                findings: self.findings.min(3),
            },
            Shown {
                samples: self.samples.min(1),
                context_lines: 0,
                line_bytes: self.line_bytes.min(100),
                findings: self.findings.min(2),
            },
            Shown {
                samples: self.samples.min(1),
                context_lines: 0,
                line_bytes: self.line_bytes.min(48),
                findings: self.findings.min(1),
            },
        ]
        .into_iter()
    }
}

/// Bytes of a component name shown.
const COMPONENT_BYTES: usize = 120;

/// The question about group `g` of `analysis`.
pub(crate) fn case(analysis: &Analysis, g: &ListedGroup, shown: Shown) -> Case {
    let found: Vec<_> = analysis.findings_for(g).collect();
    let findings: Vec<String> = found
        .iter()
        .map(|a| format!("{}: {}", a.anomaly.detector, a.anomaly.summary))
        .collect();
    let mut text = format!(
        "A log group flagged by loglens' detectors.\ncomponent: {}\nlevel: {}\ntemplate: {}\nrecords: {}, first seen {}, last seen {}\n",
        clip(&g.component, COMPONENT_BYTES),
        g.level,
        clip(&g.template, shown.line_bytes),
        g.count,
        g.first_seen.as_deref().unwrap_or("?"),
        g.last_seen.as_deref().unwrap_or("?")
    );
    text.push_str("detector findings:\n");
    for f in findings.iter().take(shown.findings) {
        text.push_str(&format!("- {}\n", clip(f, shown.line_bytes)));
    }
    let mut ids = Vec::new();
    let mut evidence = Vec::new();
    text.push_str("sample lines:\n");
    for (i, s) in g.samples.iter().take(shown.samples).enumerate() {
        let id = format!("L{}", i + 1);
        let line = clip(&s.text, shown.line_bytes);
        text.push_str(&format!("[{id}] {line}\n"));
        ids.push(id);
        evidence.push(line);
    }
    // Clipped like the prompt: the names the answer may give are the names shown.
    let mut components = vec![clip(&g.component, COMPONENT_BYTES)];
    let context = context(analysis, g, shown.context_lines);
    if !context.is_empty() {
        text.push_str("lines from other components in the same minutes:\n");
        for (i, (c, t)) in context.iter().enumerate() {
            let id = format!("C{}", i + 1);
            let line = format!(
                "{}: {}",
                clip(c, COMPONENT_BYTES),
                clip(t, shown.line_bytes * 3 / 4)
            );
            text.push_str(&format!("[{id}] {line}\n"));
            ids.push(id);
            evidence.push(line);
            let c = clip(c, COMPONENT_BYTES);
            if !components.contains(&c) {
                components.push(c);
            }
        }
    }
    Case {
        rank: g.rank,
        body: text,
        components,
        ids,
        evidence,
        findings,
        // The error-level detector's rule is applied to the group itself too, so a group
        // at error level is strong evidence even if its finding is linked elsewhere.
        strong: found.iter().any(|a| a.anomaly.detector.is_strong())
            || g.level >= crate::detect::error_level::MIN_LEVEL,
    }
}

/// Up to `max` sample lines of other components within two minutes of the group's
/// first record, as (component, text).
fn context(analysis: &Analysis, g: &ListedGroup, max: usize) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let Some(t0) = g
        .first_seen
        .as_deref()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
    else {
        return out;
    };
    for o in analysis
        .groups
        .iter()
        .filter(|o| o.component != g.component)
    {
        for s in &o.samples {
            let near = s
                .timestamp
                .as_deref()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .is_some_and(|t| (t - t0).num_seconds().abs() <= 120);
            if near && out.len() < max {
                out.push((o.component.clone(), s.text.clone()));
            }
        }
    }
    out
}

impl Case {
    /// The conversation for one tier's question.
    pub(crate) fn messages(&self, ask: &str) -> Vec<Message> {
        vec![
            Message::new("system", SYSTEM),
            Message::new("user", format!("{}{ask}", self.body)),
        ]
    }
}

/// `s` cut to at most `max` bytes at a character boundary, marked with `…` when cut.
pub(crate) fn clip(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clips_at_character_boundaries() {
        assert_eq!(clip("héllo", 2), "h…");
        assert_eq!(clip("short", 10), "short");
    }
}
