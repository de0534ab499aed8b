//! LLM triage: the groups the detectors flagged, most telling first and within a budget,
//! are put to the in-process model with their evidence, and its answer is decoded under
//! a JSON schema built for each request (the components and line ids it may cite are
//! enumerated), so every verdict is valid by construction. The meaning is then checked
//! against the detectors' evidence; an unusable answer falls back to the detectors'
//! verdict, flagged.

pub mod rca;

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::time::Instant;

use serde::Serialize;
use serde_json::{json, Value};

use crate::engine::{
    Constraint, Engine, EngineError, Event, EventSink, FinishReason, GenerateRequest, Input,
    Message, Usage,
};
use crate::logs::level::Level;
use crate::report::{GroupReport, Report};
use crate::store::Store;

/// Changes whenever the prompt or schema changes (it keys cached verdicts later).
pub const PROMPT_VERSION: &str = "triage-v1";

/// Categories a verdict chooses from.
pub const CATEGORIES: &[&str] = &[
    "database",
    "network",
    "storage",
    "credentials/auth",
    "resource exhaustion",
    "configuration",
    "dependency",
    "application bug",
    "hardware",
    "unknown",
];

const SEVERITIES: &[&str] = &["critical", "high", "medium", "low"];

/// Longest summary, in characters (within the 200 the report format allows).
pub const SUMMARY_CHARS: usize = 160;
/// Longest root cause (within 400).
pub const ROOT_CAUSE_CHARS: usize = 240;
/// Remediation steps at most (within 5) and their length.
pub const MAX_STEPS: usize = 3;
/// Longest remediation step.
pub const STEP_CHARS: usize = 100;

/// Budget and shape of triage.
#[derive(Debug, Clone, Copy)]
pub struct TriageConfig {
    /// Groups put to the model at most.
    pub max_groups: usize,
    /// Tokens per verdict at most.
    pub max_tokens: usize,
    /// Sample lines shown per group.
    pub samples: usize,
    /// Lines of other components from the same window.
    pub context_lines: usize,
}

impl Default for TriageConfig {
    fn default() -> Self {
        Self {
            max_groups: 8,
            // The longest answer the schema allows is ~700 characters of free text.
            max_tokens: 640,
            samples: 5,
            context_lines: 5,
        }
    }
}

/// What triage cost and did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TriageStats {
    /// The model file.
    pub model: String,
    /// [`PROMPT_VERSION`].
    pub prompt_version: String,
    /// Groups put to the model.
    pub groups: usize,
    /// Verdicts replaced by the detectors' because the answer was unusable.
    pub fallbacks: usize,
    /// Verdicts that contradict the detectors' evidence (kept, flagged).
    pub inconsistent: usize,
    /// Prompt tokens, all requests.
    pub prompt_tokens: usize,
    /// Generated tokens, all requests.
    pub completion_tokens: usize,
    /// Wall time of triage in seconds.
    pub seconds: f64,
    /// Verdicts taken from the store instead of the model.
    pub cache_hits: usize,
    /// Verdicts asked of the model (and stored).
    pub cache_misses: usize,
    /// The screening model, when triage was tiered.
    pub screen_model: Option<String>,
    /// Groups screened.
    pub screened: usize,
    /// Groups the screen dismissed (no detailed verdict asked).
    pub screened_out: usize,
    /// Tokens the screening answers cost (prompt and completion).
    pub screen_tokens: usize,
    /// Tokens tiering saved, estimated: each dismissed group's prompt plus the mean
    /// detailed answer of this run, less what screening cost (negative when screening
    /// cost more than it saved).
    pub tokens_saved: i64,
}

/// The schema of one verdict: `components` and `ids` are the values it may cite.
pub fn verdict_schema(components: &[String], ids: &[String]) -> Value {
    let confidence = confidence_steps();
    json!({
        "type": "object",
        "properties": {
            "is_anomaly": {"type": "boolean"},
            "severity": {"enum": SEVERITIES},
            "category": {"enum": CATEGORIES},
            "summary": {"type": "string", "minLength": 1, "maxLength": SUMMARY_CHARS},
            "root_cause": {"type": "string", "minLength": 1, "maxLength": ROOT_CAUSE_CHARS},
            "affected_components": {"type": "array", "items": {"enum": components}, "minItems": 1, "maxItems": components.len().max(1)},
            "remediation_steps": {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": STEP_CHARS}, "maxItems": MAX_STEPS},
            "evidence_line_ids": {"type": "array", "items": {"enum": ids}, "minItems": 1, "maxItems": ids.len().max(1)},
            "confidence": {"enum": confidence}
        },
        "required": ["is_anomaly", "severity", "category", "summary", "root_cause", "affected_components", "remediation_steps", "evidence_line_ids", "confidence"],
        "additionalProperties": false
    })
}

/// What the detailed verdict asks for.
const DETAIL_ASK: &str =
    "Decide whether this is a real problem, how severe it is, its category, a \
    one-sentence summary, the probable root cause, the affected components, up to 5 remediation \
    steps, the ids of the lines that support your answer, and your confidence.";

/// What the screening verdict asks for.
const SCREEN_ASK: &str =
    "Decide only whether this is a real problem, how severe it is, and your confidence.";

/// Longest screening answer in tokens (the schema's longest answer is ~30).
pub const SCREEN_TOKENS: usize = 48;

/// The schema of a screening verdict.
pub fn screen_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "is_anomaly": {"type": "boolean"},
            "severity": {"enum": SEVERITIES},
            "confidence": {"enum": confidence_steps()}
        },
        "required": ["is_anomaly", "severity", "confidence"],
        "additionalProperties": false
    })
}

fn confidence_steps() -> Vec<f64> {
    (0..=20)
        .map(|i| f64::from(i) * 0.05)
        .map(|x| (x * 100.0).round() / 100.0)
        .collect()
}

/// One group's question.
struct Case {
    rank: usize,
    /// The evidence, without the question.
    body: String,
    components: Vec<String>,
    ids: Vec<String>,
    /// The text each id stands for, in the same order.
    evidence: Vec<String>,
    findings: Vec<String>,
}

fn case(report: &Report, g: &GroupReport, cfg: &TriageConfig) -> Case {
    let findings: Vec<String> = report
        .anomalies
        .iter()
        .filter(|a| {
            a.group_rank == Some(g.rank)
                || (a.group_rank.is_none() && a.anomaly.component == g.component)
        })
        .map(|a| format!("{}: {}", a.anomaly.detector, a.anomaly.summary))
        .collect();
    let mut ids = Vec::new();
    let mut evidence = Vec::new();
    let mut text = format!(
        "A log group flagged by loglens' detectors.\ncomponent: {}\nlevel: {}\ntemplate: {}\nrecords: {}, first seen {}, last seen {}\n",
        g.component,
        g.level,
        g.template,
        g.count,
        g.first_seen.as_deref().unwrap_or("?"),
        g.last_seen.as_deref().unwrap_or("?")
    );
    text.push_str("detector findings:\n");
    for f in &findings {
        text.push_str(&format!("- {f}\n"));
    }
    text.push_str("sample lines:\n");
    for (i, s) in g.samples.iter().take(cfg.samples).enumerate() {
        let id = format!("L{}", i + 1);
        let line = clip(&s.text, 400);
        text.push_str(&format!("[{id}] {line}\n"));
        ids.push(id);
        evidence.push(line);
    }
    // Other components' lines near this group's first record.
    let mut components = vec![g.component.clone()];
    let mut context = Vec::new();
    if let Some(t0) = g
        .first_seen
        .as_deref()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
    {
        for o in report.groups.iter().filter(|o| o.component != g.component) {
            for s in &o.samples {
                let near = s
                    .timestamp
                    .as_deref()
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                    .is_some_and(|t| (t - t0).num_seconds().abs() <= 120);
                if near && context.len() < cfg.context_lines {
                    context.push((o.component.clone(), s.text.clone()));
                }
            }
        }
    }
    if !context.is_empty() {
        text.push_str("lines from other components in the same minutes:\n");
        for (i, (c, t)) in context.iter().enumerate() {
            let id = format!("C{}", i + 1);
            let line = format!("{c}: {}", clip(t, 300));
            text.push_str(&format!("[{id}] {line}\n"));
            ids.push(id);
            evidence.push(line);
            if !components.contains(c) {
                components.push(c.clone());
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
    }
}

impl Case {
    /// The conversation for one tier's question.
    fn messages(&self, ask: &str) -> Vec<Message> {
        vec![
            Message::new(
                "system",
                "You are a site reliability engineer triaging logs on an air-gapped machine. \
                 Judge only from the evidence given. Answer in JSON.",
            ),
            Message::new("user", format!("{}{ask}", self.body)),
        ]
    }
}

fn clip(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// The detectors' own verdict for a group, used when the model's is unusable.
fn fallback(g: &GroupReport, findings: &[String]) -> Value {
    let severity = match g.level {
        Level::Critical => "critical",
        Level::Error => "high",
        Level::Warn => "medium",
        _ => "low",
    };
    json!({
        "is_anomaly": true,
        "severity": severity,
        "category": "unknown",
        "summary": clip(findings.first().map_or("flagged by the detectors", String::as_str), 200),
        "root_cause": "",
        "affected_components": [g.component],
        "remediation_steps": [],
        "evidence_line_ids": [],
        "confidence": 0.0,
    })
}

/// Whether a verdict agrees with what the detectors saw: a group at error level or worse,
/// or in an error burst, is not dismissed as normal or low.
fn consistent(g: &GroupReport, findings: &[String], v: &Value) -> bool {
    !(strong(g, findings) && (v["is_anomaly"] == json!(false) || v["severity"] == json!("low")))
}

/// Whether a screening answer ends a group's triage: it says "not anomalous" in the
/// screen schema's terms, and the detectors' evidence is not strong.
fn dismisses(answer: &Value, strong: bool) -> bool {
    answer["is_anomaly"] == json!(false) && answer["severity"].is_string() && !strong
}

/// Evidence no screen may wave through: error level or worse, or an error burst.
fn strong(g: &GroupReport, findings: &[String]) -> bool {
    g.level >= Level::Error || findings.iter().any(|f| f.starts_with("error_burst"))
}

/// What a verdict is keyed by in the store: the group, the model, the prompt version and
/// the evidence shown.
fn cache_key(g: &GroupReport, c: &Case, model: &str) -> String {
    let mut k = format!(
        "{}\x1f{}\x1f{}\x1f{}",
        g.component, g.template_id, model, PROMPT_VERSION
    );
    for (id, text) in c.ids.iter().zip(&c.evidence) {
        k.push_str(&format!("\x1f{id}={text}"));
    }
    crate::logs::miner::template_id(&k)
}

/// The model's identity for cache keys: file name and size.
fn model_key(engine: &Engine) -> String {
    let size = std::fs::metadata(engine.path()).map_or(0, |m| m.len());
    let name = engine
        .path()
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    format!("{name}:{size}")
}

/// Puts the flagged groups to the model, stores each verdict in its group and the stats
/// in the report (which then says LLM triage ran). With a store, verdicts asked before
/// for the same evidence are reused and new ones are saved.
///
/// With a `screen` engine (which may be the same model), triage is tiered: each group
/// first gets a short screening question; the detailed one is asked only when the
/// screen says anomalous, its answer is unusable, or the evidence is at error level or
/// in an error burst (a screen never waves those through).
pub fn triage(
    report: &mut Report,
    engine: &Engine,
    screen: Option<&Engine>,
    cfg: &TriageConfig,
    store: Option<&Store>,
) -> Result<TriageStats, EngineError> {
    let started = Instant::now();
    let mut ranks = Vec::new();
    for a in &report.anomalies {
        if let Some(r) = a.group_rank {
            if !ranks.contains(&r) {
                ranks.push(r);
            }
        }
    }
    ranks.truncate(cfg.max_groups);
    // Tiered and untiered verdicts are cached apart.
    let model = match screen {
        Some(se) => format!("{}|screen:{}", model_key(engine), model_key(se)),
        None => model_key(engine),
    };
    let mut stats = TriageStats {
        model: engine.path().display().to_string(),
        prompt_version: PROMPT_VERSION.into(),
        screen_model: screen.map(|e| e.path().display().to_string()),
        ..TriageStats::default()
    };
    let mut cases: Vec<Case> = Vec::new();
    let mut hits: Vec<(usize, Value)> = Vec::new();
    for g in ranks.iter().filter_map(|r| report.groups.get(r - 1)) {
        let c = case(report, g, cfg);
        let key = cache_key(g, &c, &model);
        // A store that cannot be read is only a lost shortcut: ask the model.
        match store.and_then(|s| s.verdict(&key).ok().flatten()) {
            Some(mut v) => {
                v["meta"]["cached"] = json!(true);
                hits.push((c.rank, v));
            }
            None => cases.push(c),
        }
    }
    stats.cache_hits = hits.len();
    stats.groups = hits.len();
    for (rank, v) in hits {
        if let Some(g) = report.groups.get_mut(rank - 1) {
            g.verdict = Some(v);
        }
    }
    // Tier one: a short screening answer per group; only groups the screen calls
    // anomalous, whose screen answer is unusable, or whose evidence is strong go on.
    let mut detailed: Vec<(&Case, Option<Value>)> = Vec::new();
    let mut dismissed: Vec<(&Case, Value, Usage)> = Vec::new();
    if let Some(se) = screen {
        let requests: Vec<GenerateRequest> = cases
            .iter()
            .map(|c| {
                let mut r =
                    GenerateRequest::new(Input::Messages(c.messages(SCREEN_ASK)), SCREEN_TOKENS);
                r.constraint = Some(Constraint::JsonSchema(screen_schema()));
                r
            })
            .collect();
        for (c, (text, finish, usage)) in cases.iter().zip(run_batch(se, &requests)?) {
            stats.screened += 1;
            stats.screen_tokens += usage.prompt_tokens + usage.completion_tokens;
            let answer = (finish == Some(FinishReason::Stop))
                .then(|| serde_json::from_str::<Value>(&text).ok())
                .flatten();
            let strong = report
                .groups
                .get(c.rank - 1)
                .is_some_and(|g| strong(g, &c.findings));
            match answer {
                Some(v) if dismisses(&v, strong) => dismissed.push((c, v, usage)),
                other => detailed.push((c, other)),
            }
        }
    } else {
        detailed = cases.iter().map(|c| (c, None)).collect();
    }
    // Tier two: the detailed verdict.
    let requests: Vec<GenerateRequest> = detailed
        .iter()
        .map(|(c, _)| {
            let mut r =
                GenerateRequest::new(Input::Messages(c.messages(DETAIL_ASK)), cfg.max_tokens);
            // Greedy with a repetition penalty: small models otherwise repeat a phrase
            // until the string's length bound.
            r.sampling.repetition_penalty = 1.2;
            r.constraint = Some(Constraint::JsonSchema(verdict_schema(
                &c.components,
                &c.ids,
            )));
            r
        })
        .collect();
    let outputs = run_batch(engine, &requests)?;
    stats.groups += cases.len();
    stats.cache_misses = cases.len();
    let mut detail_completion = 0;
    for ((c, screen_answer), (text, finish, usage)) in detailed.iter().zip(outputs) {
        stats.prompt_tokens += usage.prompt_tokens;
        stats.completion_tokens += usage.completion_tokens;
        detail_completion += usage.completion_tokens;
        let Some(g) = report.groups.get_mut(c.rank - 1) else {
            continue;
        };
        let parsed = (finish == Some(FinishReason::Stop))
            .then(|| serde_json::from_str::<Value>(&text).ok())
            .flatten()
            .filter(|v| cites_only(v, &c.ids, &c.components))
            .map(drop_unreadable_steps)
            .filter(|v| reads_as_prose(&v["summary"]) && reads_as_prose(&v["root_cause"]));
        let (verdict, used_fallback) = match parsed {
            Some(v) => (v, false),
            None => (fallback(g, &c.findings), true),
        };
        let agrees = used_fallback || consistent(g, &c.findings, &verdict);
        stats.fallbacks += usize::from(used_fallback);
        stats.inconsistent += usize::from(!agrees);
        let how = json!({
            "model": stats.model,
            "fallback": used_fallback,
            "consistent_with_detectors": agrees,
            "tier": "detail",
            "screen": screen_answer,
        });
        settle(g, c, verdict, how, &usage, store, &model);
    }
    // Groups the screen dismissed keep its answer as their verdict, said to be the
    // screen's.
    let mean_detail = if detailed.is_empty() {
        cfg.max_tokens / 2
    } else {
        detail_completion / detailed.len()
    };
    let mut avoided = 0;
    for (c, answer, usage) in dismissed {
        stats.screened_out += 1;
        avoided += usage.prompt_tokens + mean_detail;
        let Some(g) = report.groups.get_mut(c.rank - 1) else {
            continue;
        };
        let verdict = json!({
            "is_anomaly": false,
            "severity": answer["severity"],
            "category": "unknown",
            "summary": "Screened as not a problem; no detailed verdict was asked.",
            "root_cause": "",
            "affected_components": [g.component],
            "remediation_steps": [],
            "evidence_line_ids": [],
            "confidence": answer["confidence"],
        });
        let how = json!({
            "model": stats.screen_model,
            "fallback": false,
            "consistent_with_detectors": true,
            "tier": "screen",
            "screen": answer,
        });
        settle(g, c, verdict, how, &usage, store, &model);
    }
    if screen.is_some() {
        stats.tokens_saved = avoided as i64 - stats.screen_tokens as i64;
    }
    stats.seconds = started.elapsed().as_secs_f64();
    report.run.llm = true;
    report.triage = Some(stats.clone());
    Ok(stats)
}

/// Records how a verdict was made (`how`, plus its cost and the evidence shown), stores
/// it under its cache key, and puts it in its group.
fn settle(
    g: &mut GroupReport,
    c: &Case,
    mut verdict: Value,
    how: Value,
    usage: &Usage,
    store: Option<&Store>,
    model: &str,
) {
    let mut meta = json!({
        "prompt_version": PROMPT_VERSION,
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "seconds": usage.total_s,
        "evidence": c.ids.iter().zip(&c.evidence).map(|(id, t)| (id.clone(), json!(t))).collect::<serde_json::Map<_, _>>(),
        "cached": false,
    });
    if let (Some(m), Value::Object(extra)) = (meta.as_object_mut(), how) {
        m.extend(extra);
    }
    verdict["meta"] = meta;
    if let Some(s) = store {
        if let Err(e) = s.put_verdict(&cache_key(g, c, model), &verdict) {
            tracing::warn!(error = %e, "verdict not cached");
        }
    }
    g.verdict = Some(verdict);
}

/// Runs requests together on one engine; each one's text, finish and usage.
pub(crate) fn run_batch(
    engine: &Engine,
    requests: &[GenerateRequest],
) -> Result<Vec<(String, Option<FinishReason>, Usage)>, EngineError> {
    if requests.is_empty() {
        return Ok(Vec::new());
    }
    let mut outputs: Vec<(String, Option<FinishReason>)> =
        vec![(String::new(), None); requests.len()];
    let usages = {
        let mut sinks: Vec<Box<dyn FnMut(Event) -> ControlFlow<()> + '_>> = outputs
            .iter_mut()
            .map(|o| {
                Box::new(move |e: Event| {
                    match e {
                        Event::Text { text, .. } => o.0.push_str(&text),
                        Event::Done { finish, .. } => o.1 = Some(finish),
                        Event::Token { .. } | Event::Error { .. } => {}
                    }
                    ControlFlow::Continue(())
                }) as Box<dyn FnMut(Event) -> ControlFlow<()> + '_>
            })
            .collect();
        let batch: Vec<(&GenerateRequest, &mut EventSink<'_>)> = requests
            .iter()
            .zip(sinks.iter_mut())
            .map(|(r, s)| (r, &mut **s))
            .collect();
        engine.generate_many(batch)?
    };
    Ok(outputs
        .into_iter()
        .zip(usages)
        .map(|((text, finish), usage)| (text, finish, usage))
        .collect())
}

/// Whether a text reads as a sentence rather than markup or noise: at least three words
/// of letters, and mostly letters and spaces. Small models sometimes fill a string with
/// markup or digits; such an answer is not shown to an on-call engineer as a verdict.
fn reads_as_prose(v: &Value) -> bool {
    let Some(s) = v.as_str() else {
        return false;
    };
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

/// Removes remediation steps that do not read as prose.
fn drop_unreadable_steps(mut v: Value) -> Value {
    if let Some(steps) = v["remediation_steps"].as_array_mut() {
        steps.retain(reads_as_prose);
    }
    v
}

/// Every cited id and component exists (the schema already enforces it; checked again
/// so a verdict never points at nothing).
fn cites_only(v: &Value, ids: &[String], components: &[String]) -> bool {
    let all_in = |key: &str, allowed: &[String]| {
        v[key].as_array().is_some_and(|a| {
            a.iter()
                .all(|x| x.as_str().is_some_and(|s| allowed.iter().any(|i| i == s)))
        })
    };
    all_in("evidence_line_ids", ids) && all_in("affected_components", components)
}

/// Remediation steps of critical and high verdicts, per component.
pub fn action_items(report: &Report) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for g in &report.groups {
        let Some(v) = &g.verdict else { continue };
        if !matches!(v["severity"].as_str(), Some("critical" | "high"))
            || v["is_anomaly"] != json!(true)
        {
            continue;
        }
        for step in v["remediation_steps"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            let e = out.entry(g.component.clone()).or_default();
            if !e.iter().any(|s| s == step) {
                e.push(step.to_string());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_enumerates_what_may_be_cited() {
        let s = verdict_schema(&["db".into(), "api".into()], &["L1".into(), "C1".into()]);
        assert_eq!(
            s["properties"]["evidence_line_ids"]["items"]["enum"],
            json!(["L1", "C1"])
        );
        assert_eq!(
            s["properties"]["affected_components"]["items"]["enum"],
            json!(["db", "api"])
        );
        let conf = s["properties"]["confidence"]["enum"]
            .as_array()
            .expect("enum");
        assert_eq!(conf.len(), 21);
        assert_eq!(conf[1], json!(0.05));
        assert_eq!(conf[20], json!(1.0));
    }

    #[test]
    fn screens_dismiss_only_weak_evidence() {
        let no = json!({"is_anomaly": false, "severity": "low", "confidence": 0.8});
        let yes = json!({"is_anomaly": true, "severity": "high", "confidence": 0.8});
        assert!(dismisses(&no, false));
        assert!(
            !dismisses(&no, true),
            "error-level evidence always gets a detailed verdict"
        );
        assert!(!dismisses(&yes, false));
        assert!(
            !dismisses(&json!({"is_anomaly": false}), false),
            "an incomplete answer escalates"
        );
        let schema = screen_schema();
        assert_eq!(schema["required"].as_array().map(Vec::len), Some(3));
        assert_eq!(schema["properties"]["confidence"]["enum"][1], json!(0.05));
    }

    #[test]
    fn citations_are_checked() {
        let ids = vec!["L1".to_string()];
        let comps = vec!["db".to_string()];
        let ok = json!({"evidence_line_ids": ["L1"], "affected_components": ["db"]});
        let bad = json!({"evidence_line_ids": ["L9"], "affected_components": ["db"]});
        assert!(cites_only(&ok, &ids, &comps));
        assert!(!cites_only(&bad, &ids, &comps));
        assert_eq!(clip("héllo", 2), "h…");
        assert!(reads_as_prose(&json!("The disk of node-3 is full.")));
        assert!(!reads_as_prose(&json!(
            "<pre><code>1. Error: 408</description></p>"
        )));
        assert!(!reads_as_prose(&json!("2483769-DKMVFBZSXPWYLJNUA")));
        assert!(!reads_as_prose(&json!(3)));
        let v =
            drop_unreadable_steps(json!({"remediation_steps": ["Free space on /data", "{{#3}}"]}));
        assert_eq!(v["remediation_steps"], json!(["Free space on /data"]));
    }
}
