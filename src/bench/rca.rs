//! `loglens bench rca`: root-cause accuracy on a folder of incident scenarios (each with
//! `logs/`, optional `traces/` and `truth.json`, as `benches/rca/generate.py` writes
//! them). Each scenario is analysed as `loglens analyze` would (the truth is read only to
//! score): top-1 and top-3 service accuracy and category accuracy, from the ranking
//! alone and, with a model, of what the report then leads with (the same analysis,
//! root-cause verdict and report section `analyze` builds).

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use crate::analysis::{analyze_with, RcaInputs};
use crate::engine::Engine;
use crate::logs::pipeline::PipelineConfig;
use crate::rca::{names, Category, Rca};
use crate::report::RcaReport;

/// Errors of the benchmark.
#[derive(Debug, thiserror::Error)]
pub enum BenchRcaError {
    /// The data folder holds no scenario.
    #[error("no scenarios (folders with logs/ and truth.json) under {0}; write some with `python3 benches/rca/generate.py --out DIR --count 24`")]
    NoScenarios(String),
    /// A scenario's truth cannot be read.
    #[error("{path}: {reason}")]
    Truth {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

/// The ground truth fields the benchmark scores.
#[derive(Debug, Clone, serde::Deserialize)]
struct Truth {
    root_cause_service: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    traps: Vec<String>,
}

/// One scenario's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioResult {
    /// Folder name.
    pub name: String,
    /// True root cause.
    pub truth: String,
    /// True category.
    pub truth_category: String,
    /// Top candidates (best first).
    pub ranked: Vec<String>,
    /// The ranking's category for its top candidate.
    pub category: String,
    /// Top-1 / top-3 / category hits of the ranking.
    pub top1: bool,
    /// Truth among the first three.
    pub top3: bool,
    /// Category of the top candidate matches.
    pub category_ok: bool,
    /// With the model: what the report leads with.
    pub with_model: Option<ModelResult>,
    /// The traps of the scenario.
    pub traps: Vec<String>,
    /// Seconds to analyse.
    pub seconds: f64,
}

/// What the report leads with once the model's verdict is in.
#[derive(Debug, Clone, Serialize)]
pub struct ModelResult {
    /// The service named.
    pub service: String,
    /// Its category.
    pub category: String,
    /// `model` when the verdict was used, `ranking` otherwise.
    pub by: String,
    /// Why the verdict was not used, if it was not.
    pub reason: Option<String>,
    /// The service is the true root cause.
    pub top1: bool,
    /// The category is the true one.
    pub category_ok: bool,
}

/// Totals.
#[derive(Debug, Clone, Serialize)]
pub struct RcaBench {
    /// Scenarios scored.
    pub scenarios: usize,
    /// Ranking: top-1, top-3 and category accuracy.
    pub top1: f64,
    /// Top-3 accuracy.
    pub top3: f64,
    /// Category accuracy (of the top candidate).
    pub category: f64,
    /// Scenarios the model was asked about (the first ones, in folder order).
    pub model_scenarios: usize,
    /// On those scenarios: the ranking's top-1, then what the report leads with after
    /// the model's verdict (top-1 and category).
    pub model_ranking_top1: Option<f64>,
    /// Top-1 with the model's verdict.
    pub model_top1: Option<f64>,
    /// Category accuracy with the model.
    pub model_category: Option<f64>,
    /// Verdicts used (the others left the ranking's answer).
    pub model_used: usize,
    /// Per scenario.
    pub results: Vec<ScenarioResult>,
}

/// Whether a candidate names the true service.
fn same(candidate: &str, truth: &str) -> bool {
    let t = names::canonical(truth);
    candidate == t || names::same_service(candidate, &t)
}

fn scenario_dirs(data: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(data)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("truth.json").is_file() && p.join("logs").is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// Analyses one scenario as `analyze` would.
pub fn analyze_scenario(dir: &Path) -> Result<Rca, String> {
    let traces = dir.join("traces");
    let inputs = RcaInputs {
        traces: if traces.is_dir() {
            vec![traces]
        } else {
            Vec::new()
        },
        ..RcaInputs::default()
    };
    // Yearless formats (syslog, klog, redis) take the year the scenario was written
    // for, as `analyze --year` gives it for logs copied from another year (a generated
    // file's modification time is the day it was generated).
    let year = std::fs::read_to_string(dir.join("manifest.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|m| m.get("year")?.as_i64())
        .and_then(|y| i32::try_from(y).ok());
    let config = PipelineConfig {
        inputs: vec![dir.join("logs")],
        samples: 1,
        year,
        ..PipelineConfig::default()
    };
    let analysis = analyze_with(&config, &inputs, &|_| {}).map_err(|e| e.to_string())?;
    analysis
        .rca
        .ok_or_else(|| "root-cause analysis did not run".to_string())
}

/// Runs the benchmark over every scenario folder under `data`; with an engine, the
/// model's verdict is asked on the first `model_max` scenarios.
pub fn run(
    data: &Path,
    engine: Option<&Engine>,
    model_max: usize,
) -> Result<RcaBench, BenchRcaError> {
    let dirs = scenario_dirs(data);
    if dirs.is_empty() {
        return Err(BenchRcaError::NoScenarios(data.display().to_string()));
    }
    let mut results = Vec::new();
    for dir in dirs {
        let path = dir.join("truth.json");
        let truth: Truth = std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
            .map_err(|reason| BenchRcaError::Truth {
                path: path.display().to_string(),
                reason,
            })?;
        let started = Instant::now();
        let name = dir
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let r = match analyze_scenario(&dir) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(scenario = %name, cause = %e, "scenario failed");
                continue;
            }
        };
        let seconds = started.elapsed().as_secs_f64();
        let truth_cat = Category::parse(&truth.category);
        let ranked: Vec<String> = r.candidates.iter().map(|c| c.service.clone()).collect();
        let category = r.top().map_or(Category::Unknown, |c| c.category);
        let asked = results
            .iter()
            .filter(|x: &&ScenarioResult| x.with_model.is_some());
        let with_model = engine
            .filter(|_| asked.count() < model_max)
            .map(|e| with_model(r.clone(), e, &name, &truth, truth_cat));
        results.push(ScenarioResult {
            top1: ranked
                .first()
                .is_some_and(|c| same(c, &truth.root_cause_service)),
            top3: ranked
                .iter()
                .take(3)
                .any(|c| same(c, &truth.root_cause_service)),
            category_ok: Some(category) == truth_cat,
            name,
            truth: truth.root_cause_service,
            truth_category: truth.category,
            category: category.to_string(),
            ranked,
            with_model,
            traps: truth.traps,
            seconds,
        });
    }
    let n = results.len().max(1) as f64;
    let share =
        |f: &dyn Fn(&ScenarioResult) -> bool| results.iter().filter(|r| f(r)).count() as f64 / n;
    let asked: Vec<&ScenarioResult> = results.iter().filter(|r| r.with_model.is_some()).collect();
    let m = asked.len().max(1) as f64;
    let on_asked =
        |f: &dyn Fn(&ScenarioResult) -> bool| asked.iter().filter(|r| f(r)).count() as f64 / m;
    let model = |f: &dyn Fn(&ModelResult) -> bool| {
        (!asked.is_empty()).then(|| on_asked(&|r| r.with_model.as_ref().is_some_and(f)))
    };
    Ok(RcaBench {
        scenarios: results.len(),
        top1: share(&|r| r.top1),
        top3: share(&|r| r.top3),
        category: share(&|r| r.category_ok),
        model_scenarios: asked.len(),
        model_ranking_top1: (!asked.is_empty()).then(|| on_asked(&|r| r.top1)),
        model_top1: model(&|m| m.top1),
        model_category: model(&|m| m.category_ok),
        model_used: asked
            .iter()
            .filter(|r| r.with_model.as_ref().is_some_and(|m| m.by == "model"))
            .count(),
        results,
    })
}

/// Asks the model's verdict on one scenario's ranking and scores what the report's
/// root-cause section then leads with.
fn with_model(
    r: Rca,
    engine: &Engine,
    name: &str,
    truth: &Truth,
    truth_cat: Option<Category>,
) -> ModelResult {
    let judgement = crate::triage::rca::judge(&r, engine);
    let reason = judgement.as_ref().and_then(|j| j.meta.reason.clone());
    if let Some(why) = &reason {
        tracing::debug!(scenario = %name, reason = %why, "verdict not used");
    }
    let section = RcaReport::new(r, judgement);
    let (service, category, by) = section.lead.map_or(
        (String::from("unknown"), Category::Unknown, "ranking"),
        |l| (l.service, l.category, l.by),
    );
    ModelResult {
        top1: same(&service, &truth.root_cause_service),
        category_ok: Some(category) == truth_cat,
        service,
        category: category.to_string(),
        by: by.into(),
        reason,
    }
}
