//! `loglens bench rca`: root-cause accuracy on a folder of incident scenarios (each with
//! `logs/`, optional `traces/` and `truth.json`, as `benches/rca/generate.py` writes
//! them). Each scenario is analysed as `loglens analyze` would (the truth is read only to
//! score): top-1 and top-3 service accuracy and category accuracy, from the ranking
//! alone and, with a model, after its verdict.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use crate::engine::Engine;
use crate::logs::pipeline::{analyze_observed, PipelineConfig};
use crate::rca::{self, names, Category, Rca, RcaObserver};

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
    /// With the model: the service and category the report leads with.
    pub with_model: Option<(String, String, bool, bool)>,
    /// The traps of the scenario.
    pub traps: Vec<String>,
    /// Seconds to analyse.
    pub seconds: f64,
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
    /// With the model's verdict: top-1 and category accuracy, when run.
    pub model_top1: Option<f64>,
    /// Category accuracy with the model.
    pub model_category: Option<f64>,
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
pub fn analyze_scenario(dir: &Path) -> Result<Rca, crate::logs::LogsError> {
    let mut observer = RcaObserver::new();
    let traces = dir.join("traces");
    if traces.is_dir() {
        for (file, result) in observer.read_traces(&traces) {
            if let Err(e) = result {
                tracing::warn!(file = %file, cause = %e, "trace file skipped");
            }
        }
    }
    let config = PipelineConfig {
        inputs: vec![dir.join("logs")],
        samples: 1,
        ..PipelineConfig::default()
    };
    analyze_observed(&config, &|_| {}, &mut observer)?;
    Ok(rca::analyze(observer.collector, &rca::RcaConfig::default()))
}

/// Runs the benchmark over every scenario folder under `data`.
pub fn run(data: &Path, engine: Option<&Engine>) -> Result<RcaBench, BenchRcaError> {
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
        let mut r = match analyze_scenario(&dir) {
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
        let with_model = match engine {
            Some(e) => {
                if let Err(err) = crate::triage::rca::verdict(&mut r, e) {
                    tracing::warn!(scenario = %name, cause = %err, "verdict failed");
                }
                let (svc, cat) = led_with(&r);
                Some((
                    svc.clone(),
                    cat.to_string(),
                    same(&svc, &truth.root_cause_service),
                    Some(cat) == truth_cat,
                ))
            }
            None => None,
        };
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
    Ok(RcaBench {
        scenarios: results.len(),
        top1: share(&|r| r.top1),
        top3: share(&|r| r.top3),
        category: share(&|r| r.category_ok),
        model_top1: engine.map(|_| share(&|r| r.with_model.as_ref().is_some_and(|m| m.2))),
        model_category: engine.map(|_| share(&|r| r.with_model.as_ref().is_some_and(|m| m.3))),
        results,
    })
}

/// The service and category a report leads with: the model's when its verdict was used,
/// else the ranking's.
pub fn led_with(r: &Rca) -> (String, Category) {
    let top = r.top().map(|c| (c.service.clone(), c.category));
    let used = r
        .verdict
        .as_ref()
        .filter(|v| v["meta"]["used"] == serde_json::json!(true));
    if let Some(v) = used {
        if let Some(s) = v["root_cause_service"].as_str() {
            let cat = r
                .candidates
                .iter()
                .find(|c| c.service == s)
                .map_or(Category::Unknown, |c| c.category);
            return (s.to_string(), cat);
        }
    }
    top.unwrap_or_else(|| ("unknown".into(), Category::Unknown))
}
