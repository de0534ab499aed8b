//! The model's verdict on root-cause analysis: the top candidates and their evidence are
//! put to the in-process model, whose answer is decoded under a schema where
//! `root_cause_service` is one of the candidates (or `unknown`), `category` one of the
//! categories, `propagation_path` items nodes of the graph and `evidence_ids` ids that
//! were shown. The ranking is algorithmic; the model explains it. An answer that is
//! unusable, or that names another service against strong evidence, is kept in the
//! report but not used, and the report says why.

use serde_json::{json, Value};

use crate::engine::{
    Constraint, Engine, EngineError, FinishReason, GenerateRequest, Input, Message,
};
use crate::rca::{Category, Rca};

/// Changes whenever the prompt or schema changes.
pub const PROMPT_VERSION: &str = "rca-v1";
/// Candidates shown to the model.
pub const SHOWN: usize = 3;
/// Longest answer in tokens.
pub const MAX_TOKENS: usize = 512;

fn confidence_steps() -> Vec<f64> {
    (0..=20)
        .map(|i| (f64::from(i) * 5.0).round() / 100.0)
        .collect()
}

/// The schema of an answer, built from what was shown.
pub fn schema(services: &[String], nodes: &[String], ids: &[String]) -> Value {
    let mut choices: Vec<&str> = services.iter().map(String::as_str).collect();
    choices.push("unknown");
    let categories: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
    json!({
        "type": "object",
        "properties": {
            "root_cause_service": {"enum": choices},
            "category": {"enum": categories},
            "summary": {"type": "string", "minLength": 1, "maxLength": 200},
            "propagation_path": {"type": "array", "items": {"enum": nodes}, "minItems": 1, "maxItems": 6},
            "evidence_ids": {"type": "array", "items": {"enum": ids}, "minItems": 1, "maxItems": ids.len().clamp(1, 5)},
            "remediation_steps": {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 100}, "maxItems": 3},
            "confidence": {"enum": confidence_steps()}
        },
        "required": ["root_cause_service", "category", "summary", "propagation_path", "evidence_ids", "remediation_steps", "confidence"],
        "additionalProperties": false
    })
}

/// The question: the candidates with their scores, paths, explanations and evidence.
fn prompt(rca: &Rca) -> String {
    let mut p = String::from(
        "loglens ranked the services that may have started an incident, from logs and traces. \
         Each candidate has a score, a fault category, where it first departed from its \
         baseline, the path its failure took to the user-facing services, and evidence.\n\n",
    );
    for (i, c) in rca.candidates.iter().take(SHOWN).enumerate() {
        p.push_str(&format!(
            "Candidate {}: {} (score {:.2}, category {}, onset {}, path {})\n",
            i + 1,
            c.service,
            c.score,
            c.category,
            c.onset.as_deref().unwrap_or("?"),
            c.propagation_path.join(" -> ")
        ));
        for w in &c.explanation {
            p.push_str(&format!("  - {w}\n"));
        }
        for e in &c.evidence {
            p.push_str(&format!(
                "  [{}] {} {}: {} ({})\n",
                e.id,
                e.service,
                e.time.as_deref().unwrap_or(""),
                crate::rca::collect::clip(&e.text, 240),
                e.why
            ));
        }
        p.push('\n');
    }
    p.push_str(
        "Name the service that started the incident, its fault category, the propagation \
         path, a one-sentence summary, the ids of the evidence that supports it, up to 3 \
         remediation steps, and your confidence.",
    );
    p
}

/// Why an answer cannot be used, if it cannot.
fn unusable(rca: &Rca, v: &Value) -> Option<String> {
    let service = v["root_cause_service"].as_str()?;
    if service == "unknown" {
        return Some("the model could not decide".into());
    }
    let chosen = rca.candidates.iter().find(|c| c.service == service)?;
    let own: Vec<&str> = chosen.evidence.iter().map(|e| e.id.as_str()).collect();
    let cited: Vec<&str> = v["evidence_ids"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if !cited.iter().any(|id| own.contains(id)) {
        return Some(format!(
            "it names {service} but cites none of {service}'s evidence"
        ));
    }
    let summary = v["summary"].as_str().unwrap_or("");
    if summary
        .split_whitespace()
        .filter(|w| w.chars().filter(|c| c.is_alphabetic()).count() >= 2)
        .count()
        < 3
    {
        return Some("its summary does not read as a sentence".into());
    }
    let top = rca.top()?;
    if service != top.service {
        let sure = v["confidence"].as_f64().unwrap_or(0.0);
        if rca.confidence.level != "low" {
            return Some(format!(
                "it names {service}, against the ranking's {} confidence in {}",
                rca.confidence.level, top.service
            ));
        }
        if sure < 0.8 || cited.iter().filter(|id| own.contains(id)).count() < 2 {
            return Some(format!(
                "it names {service} over the ranking's top candidate {} without strong support",
                top.service
            ));
        }
    }
    None
}

/// Asks the model for its verdict and records it (used or not, with the reason) in
/// `rca.verdict`. Does nothing without candidates.
pub fn verdict(rca: &mut Rca, engine: &Engine) -> Result<(), EngineError> {
    if rca.candidates.is_empty() {
        return Ok(());
    }
    let shown = &rca.candidates[..rca.candidates.len().min(SHOWN)];
    let services: Vec<String> = shown.iter().map(|c| c.service.clone()).collect();
    let ids: Vec<String> = shown
        .iter()
        .flat_map(|c| c.evidence.iter().map(|e| e.id.clone()))
        .collect();
    let mut nodes: Vec<String> = rca.graph.nodes.iter().map(|n| n.name.clone()).collect();
    for c in shown {
        for n in &c.propagation_path {
            if !nodes.contains(n) {
                nodes.push(n.clone());
            }
        }
    }
    if ids.is_empty() {
        return Ok(());
    }
    let messages = vec![
        Message::new(
            "system",
            "You are a site reliability engineer finding the root cause of an incident on an \
             air-gapped machine. Judge only from the evidence given. Answer in JSON.",
        ),
        Message::new("user", prompt(rca)),
    ];
    let mut req = GenerateRequest::new(Input::Messages(messages), MAX_TOKENS);
    req.sampling.repetition_penalty = 1.2;
    req.constraint = Some(Constraint::JsonSchema(schema(&services, &nodes, &ids)));
    let started = std::time::Instant::now();
    let out = super::run_batch(engine, std::slice::from_ref(&req))?;
    let Some((text, finish, usage)) = out.into_iter().next() else {
        return Ok(());
    };
    let parsed = (finish == Some(FinishReason::Stop))
        .then(|| serde_json::from_str::<Value>(&text).ok())
        .flatten();
    let (mut v, reason) = match parsed {
        Some(v) => {
            let why = unusable(rca, &v);
            (v, why)
        }
        None => (
            json!({}),
            Some("the answer was cut short or is not JSON".to_string()),
        ),
    };
    v["meta"] = json!({
        "used": reason.is_none(),
        "reason": reason,
        "model": engine.path().display().to_string(),
        "prompt_version": PROMPT_VERSION,
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "seconds": started.elapsed().as_secs_f64(),
    });
    rca.verdict = Some(v);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_enumerates_candidates_nodes_and_ids() {
        let s = schema(
            &["minio".into()],
            &["minio".into(), "spark".into()],
            &["E1".into(), "E2".into()],
        );
        assert_eq!(
            s["properties"]["root_cause_service"]["enum"],
            json!(["minio", "unknown"])
        );
        assert_eq!(
            s["properties"]["evidence_ids"]["items"]["enum"],
            json!(["E1", "E2"])
        );
        assert_eq!(
            s["properties"]["propagation_path"]["items"]["enum"],
            json!(["minio", "spark"])
        );
        assert!(s["properties"]["category"]["enum"]
            .as_array()
            .is_some_and(|a| a.contains(&json!("storage"))));
    }
}
