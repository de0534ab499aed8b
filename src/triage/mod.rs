//! LLM triage: the groups the detectors flagged, most telling first and within a budget,
//! are put to the in-process model with their evidence ([`prompt`]), and its answer is
//! decoded under a JSON schema built for each request from the verdict types
//! ([`verdict`]; the components and line ids it may cite are enumerated), so every
//! answer parses. Its meaning is then checked against the detectors' evidence
//! ([`check`]); an unusable answer gives way to the detectors' verdict, flagged. Triage
//! returns verdicts and their cost ([`Triage`]); it never touches a report. It is the
//! pipeline's only client of the engine. The root-cause ranking gets a verdict of its
//! own ([`rca`]), under a schema whose root cause is one of the candidates.

pub(crate) mod check;
pub mod prompt;
pub mod rca;
pub mod verdict;

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::time::Instant;

use serde::Serialize;

use crate::analysis::Analysis;
use crate::engine::{
    Constraint, Engine, EngineError, Event, EventSink, FinishReason, GenerateRequest, Input, Usage,
};
pub use prompt::PROMPT_VERSION;
use prompt::{case, Case, Shown, DETAIL_ASK, SCREEN_ASK};
pub use rca::RcaJudgement;
pub use verdict::{
    Category, Culprit, GroupVerdict, RcaVerdict, ScreenVerdict, Severity, Tier, Verdict,
    VerdictMeta, MAX_STEPS, ROOT_CAUSE_CHARS, STEP_CHARS, SUMMARY_CHARS,
};

/// Longest screening answer in tokens (the schema's longest answer is ~30).
pub const SCREEN_TOKENS: usize = 48;

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
    /// Groups the model could not judge (the request failed, or the evidence did not
    /// fit its context); each has the detectors' verdict, with the reason, and counts
    /// among the fallbacks.
    pub failed: usize,
    /// Tokens the screening answers cost (prompt and completion).
    pub screen_tokens: usize,
    /// Tokens tiering saved, estimated: each dismissed group's prompt plus the mean
    /// detailed answer of this run, less what screening cost (negative when screening
    /// cost more than it saved).
    pub tokens_saved: i64,
}

/// What triage concluded: a verdict per group it judged (by the group's rank in the
/// analysis), the root-cause verdict, and what it cost.
#[derive(Debug, Clone, Default)]
pub struct Triage {
    /// Group rank -> verdict.
    pub verdicts: BTreeMap<usize, GroupVerdict>,
    /// The model's verdict on the root-cause ranking, when there were candidates.
    pub rca: Option<RcaJudgement>,
    /// Totals.
    pub stats: TriageStats,
}

/// Where verdicts asked before are kept, so the same evidence is not put to the model
/// twice. The store implements it; a cache that fails is only a lost shortcut.
pub trait VerdictCache {
    /// The verdict kept under `key`; `None` when there is none or it cannot be read.
    fn get(&self, key: &str) -> Option<GroupVerdict>;
    /// Keeps `verdict` under `key`, replacing any before it.
    fn put(
        &self,
        key: &str,
        verdict: &GroupVerdict,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>>;
}

/// A question's answer: its text, why it ended, what it cost.
pub type Answer = (String, Option<FinishReason>, Usage);

/// One triage run: its inputs, and what it has concluded so far.
struct Run<'a> {
    analysis: &'a Analysis,
    cfg: &'a TriageConfig,
    cache: Option<&'a dyn VerdictCache>,
    /// The models' identity in cache keys (tiered and untiered verdicts are kept apart).
    model_key: String,
    out: Triage,
}

/// Puts the groups the detectors flagged to the model, then the root-cause ranking when
/// it has candidates, and returns the verdicts and the totals. With a cache, group
/// verdicts asked before for the same evidence are reused and new ones are kept.
///
/// With a `screen` engine (which may be the same model), triage is tiered: each group
/// first gets a short screening question; the detailed one is asked only when the
/// screen says anomalous, its answer is unusable, or the evidence is strong (error
/// level, an error burst: a screen never waves those through).
pub fn triage(
    analysis: &Analysis,
    engine: &Engine,
    screen: Option<&Engine>,
    cfg: &TriageConfig,
    cache: Option<&dyn VerdictCache>,
) -> Result<Triage, EngineError> {
    let started = Instant::now();
    let model_key = match screen {
        Some(se) => format!("{}|screen:{}", model_key(engine), model_key(se)),
        None => model_key(engine),
    };
    let mut run = Run {
        analysis,
        cfg,
        cache,
        model_key,
        out: Triage::default(),
    };
    run.out.stats = TriageStats {
        model: engine.path().display().to_string(),
        prompt_version: PROMPT_VERSION.into(),
        screen_model: screen.map(|e| e.path().display().to_string()),
        ..TriageStats::default()
    };
    // Every question must fit each model that will read it, with room for its answer.
    let mut readers = vec![(engine, DETAIL_ASK, cfg.max_tokens)];
    if let Some(se) = screen {
        readers.push((se, SCREEN_ASK, SCREEN_TOKENS));
    }
    let cases = run.ask_cache(flagged_ranks(analysis, cfg.max_groups), &readers);
    let (detailed, dismissed) = match screen {
        Some(se) => run.screen(se, &cases),
        None => (cases.iter().map(|c| (c, None)).collect(), Vec::new()),
    };
    let mean_detail = run.detail(engine, &detailed);
    run.dismiss(dismissed, mean_detail);
    if let Some(found) = &analysis.rca {
        run.out.rca = rca::judge(found, engine);
    }
    run.out.stats.seconds = started.elapsed().as_secs_f64();
    Ok(run.out)
}

/// Ranks of the listed groups the detectors flagged, most telling first, `max` at most.
fn flagged_ranks(analysis: &Analysis, max: usize) -> Vec<usize> {
    let mut ranks = Vec::new();
    for r in analysis.anomalies.iter().filter_map(|a| a.group_rank) {
        if !ranks.contains(&r) {
            ranks.push(r);
        }
    }
    ranks.truncate(max);
    ranks
}

impl Run<'_> {
    /// Takes the verdicts the cache holds for these groups; returns the questions left.
    /// Each question is cut until it fits every model in `readers` (engine, question,
    /// answer tokens); a group whose evidence fits in no cut gets the detectors' verdict,
    /// with the reason.
    fn ask_cache(&mut self, ranks: Vec<usize>, readers: &[(&Engine, &str, usize)]) -> Vec<Case> {
        let mut cases = Vec::new();
        let mut hits = 0;
        for g in ranks.iter().filter_map(|r| self.analysis.group(*r)) {
            let c = match self.fitted_case(g, readers) {
                Ok(c) => c,
                Err(failed) => {
                    let (c, why) = *failed;
                    tracing::warn!(group = g.rank, reason = %why, "group not put to the model");
                    self.fail(&c, why);
                    continue;
                }
            };
            let key = cache_key(&c, g, &self.model_key);
            match self.cache.and_then(|s| s.get(&key)) {
                Some(mut v) => {
                    v.meta.cached = true;
                    hits += 1;
                    self.out.verdicts.insert(c.rank, v);
                }
                None => cases.push(c),
            }
        }
        let stats = &mut self.out.stats;
        stats.cache_hits = hits;
        stats.cache_misses = cases.len();
        stats.groups = self.out.verdicts.len() + cases.len();
        cases
    }

    /// The question about `g`, cut ([`Shown::cuts`]) until it fits every reader's
    /// context with room for the answer; the smallest cut and why when none fits.
    fn fitted_case(
        &self,
        g: &crate::analysis::ListedGroup,
        readers: &[(&Engine, &str, usize)],
    ) -> Result<Case, Box<(Case, String)>> {
        let mut last = None;
        for shown in Shown::full(self.cfg.samples, self.cfg.context_lines).cuts() {
            let c = case(self.analysis, g, shown);
            match readers.iter().find_map(|r| too_long(r, &c)) {
                None => return Ok(c),
                Some(why) => last = Some((c, why)),
            }
        }
        Err(Box::new(last.unwrap_or_else(|| {
            let c = case(
                self.analysis,
                g,
                Shown::full(self.cfg.samples, self.cfg.context_lines),
            );
            (c, "no question could be built".into())
        })))
    }

    /// The detectors' verdict for a group the model could not judge, with the reason.
    fn fail(&mut self, c: &Case, why: String) {
        let Some(g) = self.analysis.group(c.rank) else {
            return;
        };
        self.out.stats.fallbacks += 1;
        self.out.stats.failed += 1;
        let how = How {
            model: self.out.stats.model.clone(),
            fallback: true,
            consistent: true,
            tier: Tier::Detail,
            screen: None,
            error: Some(why),
        };
        self.settle(c, check::fallback(g, c), how, &Usage::default());
    }

    /// Tier one: a short screening answer per group. Returns the groups that go on to
    /// the detailed question (with their screening answer, if usable) and those the
    /// screen dismissed. A screening request that fails counts as unusable.
    #[allow(clippy::type_complexity)]
    fn screen<'c>(
        &mut self,
        engine: &Engine,
        cases: &'c [Case],
    ) -> (
        Vec<(&'c Case, Option<ScreenVerdict>)>,
        Vec<(&'c Case, ScreenVerdict, Usage)>,
    ) {
        let requests: Vec<GenerateRequest> = cases
            .iter()
            .map(|c| screen_request(c.messages(SCREEN_ASK)))
            .collect();
        let (mut detailed, mut dismissed) = (Vec::new(), Vec::new());
        for (c, answer) in cases.iter().zip(run_each(engine, &requests)) {
            let (text, finish, usage) = match answer {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(group = c.rank, error = %e, "screening request failed");
                    detailed.push((c, None));
                    continue;
                }
            };
            let stats = &mut self.out.stats;
            stats.screened += 1;
            stats.screen_tokens += usage.prompt_tokens + usage.completion_tokens;
            let answer = (finish == Some(FinishReason::Stop))
                .then(|| ScreenVerdict::parse(&text))
                .flatten();
            match answer {
                Some(v) if check::dismisses(&v, c.strong) => dismissed.push((c, v, usage)),
                other => detailed.push((c, other)),
            }
        }
        (detailed, dismissed)
    }

    /// Tier two: the detailed verdict of each group; a request that fails gives the
    /// detectors' verdict with the error. Returns the mean length of the answers, in
    /// tokens.
    fn detail(&mut self, engine: &Engine, detailed: &[(&Case, Option<ScreenVerdict>)]) -> usize {
        let requests: Vec<GenerateRequest> = detailed
            .iter()
            .map(|(c, _)| {
                let mut r = GenerateRequest::new(
                    Input::Messages(c.messages(DETAIL_ASK)),
                    self.cfg.max_tokens,
                );
                // Greedy with a repetition penalty: small models otherwise repeat a phrase
                // until the string's length bound.
                r.sampling.repetition_penalty = 1.2;
                r.constraint = Some(Constraint::JsonSchema(Verdict::schema(
                    &c.components,
                    &c.ids,
                )));
                r
            })
            .collect();
        let mut completion = 0;
        let mut answered = 0;
        for ((c, screen), answer) in detailed.iter().zip(run_each(engine, &requests)) {
            let (text, finish, usage) = match answer {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(group = c.rank, error = %e, "triage request failed");
                    self.fail(c, format!("the model could not answer: {e}"));
                    continue;
                }
            };
            self.out.stats.prompt_tokens += usage.prompt_tokens;
            self.out.stats.completion_tokens += usage.completion_tokens;
            completion += usage.completion_tokens;
            answered += 1;
            let Some(g) = self.analysis.group(c.rank) else {
                continue;
            };
            let parsed = (finish == Some(FinishReason::Stop))
                .then(|| check::usable(&text, c))
                .flatten();
            let (verdict, fallback) = match parsed {
                Some(v) => (v, false),
                None => (check::fallback(g, c), true),
            };
            let agrees = fallback || check::consistent(c, &verdict);
            self.out.stats.fallbacks += usize::from(fallback);
            self.out.stats.inconsistent += usize::from(!agrees);
            let how = How {
                model: self.out.stats.model.clone(),
                fallback,
                consistent: agrees,
                tier: Tier::Detail,
                screen: screen.clone(),
                error: None,
            };
            self.settle(c, verdict, how, &usage);
        }
        completion
            .checked_div(answered)
            .unwrap_or(self.cfg.max_tokens / 2)
    }

    /// Groups the screen dismissed keep its answer as their verdict, said to be the
    /// screen's; the tokens that saved are estimated from the detailed answers' mean.
    fn dismiss(&mut self, dismissed: Vec<(&Case, ScreenVerdict, Usage)>, mean_detail: usize) {
        let mut avoided = 0;
        for (c, answer, usage) in dismissed {
            self.out.stats.screened_out += 1;
            avoided += usage.prompt_tokens + mean_detail;
            let Some(g) = self.analysis.group(c.rank) else {
                continue;
            };
            let verdict = check::screened_out(g, &answer);
            let how = How {
                model: self.out.stats.screen_model.clone().unwrap_or_default(),
                fallback: false,
                consistent: true,
                tier: Tier::Screen,
                screen: Some(answer),
                error: None,
            };
            self.settle(c, verdict, how, &usage);
        }
        self.out.stats.tokens_saved = avoided as i64 - self.out.stats.screen_tokens as i64;
    }

    /// Records how a verdict was made (with its cost and the evidence shown), keeps it
    /// in the cache under its key (unless the model failed: that is not an answer to
    /// keep), and takes it as the group's verdict.
    fn settle(&mut self, c: &Case, verdict: Verdict, how: How, usage: &Usage) {
        let keep = how.error.is_none();
        let v = GroupVerdict {
            verdict,
            meta: VerdictMeta {
                model: how.model,
                prompt_version: PROMPT_VERSION.into(),
                prompt_tokens: usage.prompt_tokens,
                completion_tokens: usage.completion_tokens,
                seconds: usage.total_s,
                fallback: how.fallback,
                consistent_with_detectors: how.consistent,
                evidence: c
                    .ids
                    .iter()
                    .cloned()
                    .zip(c.evidence.iter().cloned())
                    .collect(),
                cached: false,
                tier: how.tier,
                screen: how.screen,
                error: how.error,
            },
        };
        if let (true, Some(cache), Some(g)) = (keep, self.cache, self.analysis.group(c.rank)) {
            if let Err(e) = cache.put(&cache_key(c, g, &self.model_key), &v) {
                tracing::warn!(error = %e, "verdict not cached");
            }
        }
        self.out.verdicts.insert(c.rank, v);
    }
}

/// How a verdict was made, as [`Run::settle`] records it.
struct How {
    model: String,
    fallback: bool,
    consistent: bool,
    tier: Tier,
    screen: Option<ScreenVerdict>,
    /// Why the model gave no answer, when it gave none.
    error: Option<String>,
}

/// A screening question: short, under the screening schema.
pub fn screen_request(messages: Vec<crate::engine::Message>) -> GenerateRequest {
    let mut r = GenerateRequest::new(Input::Messages(messages), SCREEN_TOKENS);
    r.constraint = Some(Constraint::JsonSchema(ScreenVerdict::schema()));
    r
}

/// What a verdict is keyed by in the cache: the group, the model, the prompt version
/// and the evidence shown.
fn cache_key(c: &Case, g: &crate::analysis::ListedGroup, model: &str) -> String {
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

/// Why `case`'s question for `reader` (engine, question, answer tokens) does not fit
/// the engine's context, if it does not.
fn too_long(reader: &(&Engine, &str, usize), case: &Case) -> Option<String> {
    let (engine, ask, answer) = *reader;
    let context = engine.info().context_length;
    match engine.prompt_tokens(&Input::Messages(case.messages(ask))) {
        Ok(t) if t.len() + answer <= context => None,
        Ok(t) => Some(format!(
            "the evidence ({} prompt tokens) with room for a {answer}-token answer does not fit the model's context of {context} tokens, even cut short",
            t.len()
        )),
        Err(e) => Some(format!("the question could not be tokenized: {e}")),
    }
}

/// Runs requests together on one engine, each to its own result: when the batch fails,
/// each request is run alone, so one request that fails costs only its own answer.
pub fn run_each(engine: &Engine, requests: &[GenerateRequest]) -> Vec<Result<Answer, EngineError>> {
    match run_batch(engine, requests) {
        Ok(answers) => answers.into_iter().map(Ok).collect(),
        Err(e) if requests.len() == 1 => vec![Err(e)],
        Err(e) => {
            tracing::warn!(error = %e, "a batched request failed; running them one by one");
            requests
                .iter()
                .map(|r| {
                    run_batch(engine, std::slice::from_ref(r))?
                        .pop()
                        .ok_or_else(|| EngineError::InvalidRequest("no answer".into()))
                })
                .collect()
        }
    }
}

/// Runs requests together on one engine; each one's text, finish and usage.
pub fn run_batch(
    engine: &Engine,
    requests: &[GenerateRequest],
) -> Result<Vec<Answer>, EngineError> {
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
