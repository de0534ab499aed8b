//! What triage checks in an answer before it becomes a verdict: it cites only what was
//! shown, its text reads as prose, and it does not dismiss what the detectors found
//! strong. An unusable answer gives way to the detectors' own verdict.

use super::prompt::{clip, Case};
use super::verdict::{Category, ScreenVerdict, Severity, Verdict};
use crate::analysis::ListedGroup;

/// The answer as a verdict, if it is usable: it parses, cites only the ids and
/// components shown, and its summary and root cause read as prose (remediation steps
/// that do not are dropped).
pub(crate) fn usable(text: &str, c: &Case) -> Option<Verdict> {
    let mut v = Verdict::parse(text)?;
    if !cites_only(&v, &c.ids, &c.components) {
        return None;
    }
    v.remediation_steps.retain(|s| reads_as_prose(s));
    (reads_as_prose(&v.summary) && reads_as_prose(&v.root_cause)).then_some(v)
}

/// Every cited id and component exists (the schema already enforces it; checked again
/// so a verdict never points at nothing).
fn cites_only(v: &Verdict, ids: &[String], components: &[String]) -> bool {
    let all_in = |cited: &[String], allowed: &[String]| cited.iter().all(|x| allowed.contains(x));
    all_in(&v.evidence_line_ids, ids) && all_in(&v.affected_components, components)
}

/// Whether a text reads as a sentence rather than markup or noise: at least three words
/// of letters, and mostly letters and spaces. Small models sometimes fill a string with
/// markup or digits; such an answer is not shown to an on-call engineer as a verdict.
pub(crate) fn reads_as_prose(s: &str) -> bool {
    let words = s
        .split_whitespace()
        .filter(|w| w.chars().filter(|c| c.is_alphabetic()).count() >= 2)
        .count();
    let total = s.chars().count().max(1);
    let prose = s
        .chars()
        .filter(|c| c.is_alphabetic() || c.is_whitespace() || ".,'-:;()".contains(*c))
        .count();
    words >= 3 && prose * 10 >= total * 8
}

/// Whether a verdict agrees with what the detectors saw: strong evidence (error level or
/// worse, an error burst) is not dismissed as normal or low.
pub(crate) fn consistent(c: &Case, v: &Verdict) -> bool {
    !(c.strong && (!v.is_anomaly || v.severity == Severity::Low))
}

/// Whether a screening answer ends a group's triage: it says "not anomalous", and the
/// detectors' evidence is not strong.
pub(crate) fn dismisses(answer: &ScreenVerdict, strong: bool) -> bool {
    !answer.is_anomaly && !strong
}

/// The detectors' own verdict for a group, used when the model's is unusable.
pub(crate) fn fallback(g: &ListedGroup, c: &Case) -> Verdict {
    Verdict {
        is_anomaly: true,
        severity: Severity::of_level(g.level),
        category: Category::Unknown,
        summary: clip(
            c.findings
                .first()
                .map_or("flagged by the detectors", String::as_str),
            200,
        ),
        root_cause: String::new(),
        affected_components: vec![g.component.clone()],
        remediation_steps: Vec::new(),
        evidence_line_ids: Vec::new(),
        confidence: 0.0,
    }
}

/// The verdict of a group the screen dismissed: its answer, said to be the screen's.
pub(crate) fn screened_out(g: &ListedGroup, answer: &ScreenVerdict) -> Verdict {
    Verdict {
        is_anomaly: false,
        severity: answer.severity,
        category: Category::Unknown,
        summary: "Screened as not a problem; no detailed verdict was asked.".into(),
        root_cause: String::new(),
        affected_components: vec![g.component.clone()],
        remediation_steps: Vec::new(),
        evidence_line_ids: Vec::new(),
        confidence: answer.confidence,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(strong: bool) -> Case {
        Case {
            rank: 1,
            body: String::new(),
            components: vec!["db".into()],
            ids: vec!["L1".into()],
            evidence: vec!["x".into()],
            findings: vec!["error_level: 3 record(s) at level error".into()],
            strong,
        }
    }

    fn answer(ids: &str, steps: &str) -> String {
        format!(
            r#"{{"is_anomaly":true,"severity":"high","category":"storage","summary":"The disk of node-3 is full.","root_cause":"Old logs filled the data volume.","affected_components":["db"],"remediation_steps":{steps},"evidence_line_ids":{ids},"confidence":0.8}}"#
        )
    }

    #[test]
    fn answers_must_cite_what_was_shown_and_read_as_prose() {
        let c = case(false);
        let v = usable(
            &answer(r#"["L1"]"#, r#"["Free space on /data", "{{#3}}"]"#),
            &c,
        )
        .expect("usable");
        assert_eq!(v.remediation_steps, ["Free space on /data"]);
        assert!(usable(&answer(r#"["L9"]"#, "[]"), &c).is_none());
        assert!(usable(
            &answer(r#"["L1"]"#, "[]").replace(
                "The disk of node-3 is full.",
                "<pre><code>1. Error: 408</description></p>"
            ),
            &c
        )
        .is_none());
        assert!(usable("{not json", &c).is_none());
        assert!(reads_as_prose("The disk of node-3 is full."));
        assert!(!reads_as_prose("2483769-DKMVFBZSXPWYLJNUA"));
    }

    #[test]
    fn screens_dismiss_only_weak_evidence_and_verdicts_agree_with_it() {
        let no = ScreenVerdict {
            is_anomaly: false,
            severity: Severity::Low,
            confidence: 0.8,
        };
        let yes = ScreenVerdict {
            is_anomaly: true,
            severity: Severity::High,
            confidence: 0.8,
        };
        assert!(dismisses(&no, false));
        assert!(
            !dismisses(&no, true),
            "error-level evidence always gets a detailed verdict"
        );
        assert!(!dismisses(&yes, false));
        let v = usable(&answer(r#"["L1"]"#, "[]"), &case(true)).expect("usable");
        assert!(consistent(&case(true), &v));
        let low = Verdict {
            severity: Severity::Low,
            ..v
        };
        assert!(!consistent(&case(true), &low) && consistent(&case(false), &low));
    }
}
