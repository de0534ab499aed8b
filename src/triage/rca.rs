//! The model's verdict on root-cause analysis. The ranking is algorithmic; the model
//! explains it. The top candidates and their evidence are put to the in-process model,
//! whose answer is decoded under [`RcaVerdict::schema`] (its `root_cause_service` one of
//! the candidates shown or `unknown`, its path nodes of the service graph, its evidence
//! ids those shown). An answer that is unusable, or that names another service against
//! the ranking's evidence, is kept but not used, and says why ([`RcaJudgement`]).

use serde::Serialize;

use super::check::reads_as_prose;
use super::verdict::{Culprit, RcaVerdict};
use crate::engine::{Constraint, Engine, FinishReason, GenerateRequest, Input, Message};
use crate::rca::{Candidate, Category as FaultCategory, Rca};

/// Changes whenever the root-cause prompt or schema changes.
pub const RCA_PROMPT_VERSION: &str = "rca-v2";
/// Candidates shown to the model.
pub const SHOWN: usize = 3;
/// Longest answer in tokens (the schema's longest answer is ~350).
pub const MAX_TOKENS: usize = 512;
/// Confidence below which the model may not overrule a ranking that is itself unsure.
pub const OVERRULE_CONFIDENCE: f64 = 0.8;

/// The system message of the root-cause question.
const SYSTEM: &str = "You are a site reliability engineer finding the root cause of an \
     incident on an air-gapped machine. Judge only from the evidence given. Answer in JSON.";

/// The model's root-cause verdict and whether the report uses it.
#[derive(Debug, Clone, Serialize)]
pub struct RcaJudgement {
    /// The answer, when it parsed.
    #[serde(flatten)]
    pub verdict: Option<RcaVerdict>,
    /// How it was made and whether it is used.
    pub meta: RcaJudgementMeta,
}

/// How a root-cause verdict was made.
#[derive(Debug, Clone, Serialize)]
pub struct RcaJudgementMeta {
    /// The report leads with it.
    pub used: bool,
    /// Why not, when it is not used.
    pub reason: Option<String>,
    /// The model.
    pub model: String,
    /// [`RCA_PROMPT_VERSION`].
    pub prompt_version: String,
    /// Tokens of the question.
    pub prompt_tokens: usize,
    /// Tokens of the answer.
    pub completion_tokens: usize,
    /// Wall time, seconds.
    pub seconds: f64,
}

impl RcaJudgement {
    /// The service the verdict names, when it is used.
    pub fn chosen(&self) -> Option<&str> {
        self.meta
            .used
            .then(|| self.verdict.as_ref()?.root_cause_service.service())
            .flatten()
    }
}

/// The question: what was shown, and what the answer may cite.
struct Question {
    text: String,
    services: Vec<String>,
    nodes: Vec<String>,
    ids: Vec<String>,
}

/// The root-cause question about `rca`'s first `count` candidates, if one of them has
/// evidence to show.
fn question(rca: &Rca, count: usize) -> Option<Question> {
    let shown = &rca.candidates[..rca.candidates.len().min(count)];
    let ids: Vec<String> = shown
        .iter()
        .flat_map(|c| c.evidence.iter().map(|e| e.id.clone()))
        .collect();
    if ids.is_empty() {
        return None;
    }
    let mut nodes: Vec<String> = rca.graph.nodes.iter().map(|n| n.name.clone()).collect();
    for n in shown.iter().flat_map(|c| &c.propagation_path) {
        if !nodes.contains(n) {
            nodes.push(n.clone());
        }
    }
    let mut text = String::from(
        "loglens ranked the services that may have started an incident, from logs and traces. \
         Each candidate has a score, a fault category, where it first departed from its \
         baseline, the path its failure took to the user-facing services, and evidence.\n\n",
    );
    for (i, c) in shown.iter().enumerate() {
        describe(i + 1, c, &mut text);
    }
    text.push_str(
        "Name the service that started the incident, its fault category, the propagation \
         path, a one-sentence summary, the ids of the evidence that supports it, up to 3 \
         remediation steps, and your confidence.",
    );
    Some(Question {
        text,
        services: shown.iter().map(|c| c.service.clone()).collect(),
        nodes,
        ids,
    })
}

/// One candidate as the question shows it.
fn describe(n: usize, c: &Candidate, out: &mut String) {
    out.push_str(&format!(
        "Candidate {n}: {} (score {:.2}, category {}, onset {}, path {})\n",
        c.service,
        c.score,
        c.category,
        c.onset.as_deref().unwrap_or("?"),
        c.propagation_path.join(" -> ")
    ));
    for w in &c.explanation {
        out.push_str(&format!("  - {w}\n"));
    }
    for e in &c.evidence {
        out.push_str(&format!(
            "  [{}] {} {}: {} ({})\n",
            e.id,
            e.service,
            e.time.as_deref().unwrap_or(""),
            super::prompt::clip(&e.text, 240),
            e.why
        ));
    }
    out.push('\n');
}

/// Why a verdict cannot be used, if it cannot: it names no one, cites none of the named
/// candidate's evidence, does not read as a sentence, or overrules the ranking without
/// strong support (a confident ranking is never overruled).
pub(crate) fn unusable(rca: &Rca, v: &RcaVerdict) -> Option<String> {
    let Culprit::Service(service) = &v.root_cause_service else {
        return Some("the model could not decide".into());
    };
    let Some(chosen) = rca.candidates.iter().find(|c| &c.service == service) else {
        return Some(format!("it names {service}, which is not a candidate"));
    };
    let own = |id: &String| chosen.evidence.iter().any(|e| &e.id == id);
    let cited_own = v.evidence_ids.iter().filter(|id| own(id)).count();
    if cited_own == 0 {
        return Some(format!(
            "it names {service} but cites none of {service}'s evidence"
        ));
    }
    if !reads_as_prose(&v.summary) {
        return Some("its summary does not read as a sentence".into());
    }
    // A fault signature in the evidence settles the kind of fault; a model's other word
    // for it contradicts the evidence.
    let signed = !matches!(
        chosen.category,
        FaultCategory::Unknown | FaultCategory::Application | FaultCategory::Latency
    );
    if signed && v.category != chosen.category {
        return Some(format!(
            "it calls the fault {} where {service}'s evidence shows {}",
            v.category, chosen.category
        ));
    }
    let top = rca.top()?;
    if *service != top.service {
        if rca.confidence.level != "low" {
            return Some(format!(
                "it names {service}, against the ranking's {} confidence in {}",
                rca.confidence.level, top.service
            ));
        }
        if v.confidence < OVERRULE_CONFIDENCE || cited_own < 2 {
            return Some(format!(
                "it names {service} over the ranking's top candidate {} without strong support",
                top.service
            ));
        }
    }
    None
}

/// Asks the model for its root-cause verdict; `None` when there is no candidate with
/// evidence to ask about. The question shows fewer candidates until it fits the model's
/// context with room for the answer; a question that fits in no cut, or a request that
/// fails, gives a judgement that is not used, with the reason (the ranking stands).
pub fn judge(rca: &Rca, engine: &Engine) -> Option<RcaJudgement> {
    let started = std::time::Instant::now();
    let context = engine.info().context_length;
    let mut last_reason = None;
    for count in (1..=SHOWN).rev() {
        let q = question(rca, count)?;
        let req = request(&q);
        match engine.prompt_tokens(&req.input) {
            Ok(t) if t.len() + MAX_TOKENS <= context => {
                return Some(ask(rca, engine, &req, started))
            }
            Ok(t) => {
                last_reason = Some(format!(
                    "the evidence ({} prompt tokens) with room for a {MAX_TOKENS}-token answer does not fit the model's context of {context} tokens, even with one candidate",
                    t.len()
                ));
            }
            Err(e) => last_reason = Some(format!("the question could not be tokenized: {e}")),
        }
    }
    let reason = last_reason.unwrap_or_else(|| "no question could be built".into());
    tracing::warn!(reason = %reason, "root-cause question not put to the model");
    Some(not_used(engine, reason, started, 0, 0))
}

/// The request for question `q`, under the verdict schema.
fn request(q: &Question) -> GenerateRequest {
    let messages = vec![
        Message::new("system", SYSTEM),
        Message::new("user", q.text.clone()),
    ];
    let mut req = GenerateRequest::new(Input::Messages(messages), MAX_TOKENS);
    // Greedy with a repetition penalty, as for group verdicts.
    req.sampling.repetition_penalty = 1.2;
    req.constraint = Some(Constraint::JsonSchema(RcaVerdict::schema(
        &q.services,
        &q.nodes,
        &q.ids,
    )));
    req
}

/// Runs the request and judges the answer.
fn ask(
    rca: &Rca,
    engine: &Engine,
    req: &GenerateRequest,
    started: std::time::Instant,
) -> RcaJudgement {
    let answer = match super::run_each(engine, std::slice::from_ref(req)).pop() {
        Some(Ok(a)) => a,
        Some(Err(e)) => {
            tracing::warn!(error = %e, "root-cause request failed");
            return not_used(
                engine,
                format!("the model could not answer: {e}"),
                started,
                0,
                0,
            );
        }
        None => return not_used(engine, "the model gave no answer".into(), started, 0, 0),
    };
    let (text, finish, usage) = answer;
    let verdict = (finish == Some(FinishReason::Stop))
        .then(|| RcaVerdict::parse(&text))
        .flatten();
    let reason = match &verdict {
        Some(v) => unusable(rca, v),
        None => Some("the answer was cut short or is not a verdict".into()),
    };
    let mut j = not_used(
        engine,
        String::new(),
        started,
        usage.prompt_tokens,
        usage.completion_tokens,
    );
    j.verdict = verdict;
    j.meta.used = reason.is_none();
    j.meta.reason = reason;
    j
}

/// A judgement without a usable verdict, saying why.
fn not_used(
    engine: &Engine,
    reason: String,
    started: std::time::Instant,
    prompt_tokens: usize,
    completion_tokens: usize,
) -> RcaJudgement {
    RcaJudgement {
        verdict: None,
        meta: RcaJudgementMeta {
            used: false,
            reason: Some(reason),
            model: engine.path().display().to_string(),
            prompt_version: RCA_PROMPT_VERSION.into(),
            prompt_tokens,
            completion_tokens,
            seconds: started.elapsed().as_secs_f64(),
        },
    }
}
