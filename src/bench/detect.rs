//! `loglens bench detect`: precision, recall and F1 of the detectors on labelled data.
//!
//! - HDFS_100k, block level: the next-event model is fitted on the normal blocks of the
//!   train split only and scores the test split; a block is anomalous when it holds a
//!   surprising event.
//! - BGL_2k, line level and fixed windows of 20 lines (anomalous when a line in it is an
//!   alert): lines are read in order with their label field blanked, the baseline
//!   (templates and their counts) is fitted on the first 60% without labels, and the rest
//!   is scored: a line is anomalous when its template is new or rare in the baseline, or
//!   its level is error or worse.
//!
//! Labels are read only to score. Parameters are fixed in the code, not tuned on the
//! scored part.

use std::path::Path;

use serde::Serialize;

use crate::detect::lines::{Baseline, Flag};
use crate::detect::session::NextEventModel;
use crate::engine::{
    Constraint, Engine, EngineError, FinishReason, GenerateRequest, Input, Message,
};
use crate::logs::formats::{FormatSpec, Parser};
use crate::logs::miner::{Miner, MinerConfig};
use crate::logs::LogsError;

/// History length of the next-event model (the session detector's).
pub const ORDER: usize = crate::detect::session::ORDER;
/// Times a history must have been seen to be trusted.
pub const MIN_SUPPORT: u32 = crate::detect::session::MIN_SUPPORT;
/// Baseline share of BGL.
pub const FIT_SHARE: f64 = 0.6;
/// Templates seen fewer times in the baseline are rare.
pub const RARE: u64 = 2;
/// BGL window length in lines.
pub const WINDOW: usize = 20;

/// Scores of one dataset and mode.
#[derive(Debug, Clone, Serialize)]
pub struct Score {
    /// `HDFS_100k/block`, `BGL_2k/line`, `BGL_2k/window20`.
    pub name: String,
    /// `detectors` or `detectors+llm`.
    pub mode: String,
    /// Precision.
    pub precision: f64,
    /// Recall.
    pub recall: f64,
    /// F1.
    pub f1: f64,
    /// True positives.
    pub tp: u64,
    /// False positives.
    pub fp: u64,
    /// False negatives.
    #[serde(rename = "fn")]
    pub fn_: u64,
    /// Items scored.
    pub n: u64,
    /// Set when only a sample was scored (LLM mode, to fit the time budget): which and
    /// how many of how many.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample: Option<String>,
}

/// Counts predictions against truth.
#[derive(Debug, Default, Clone, Copy)]
pub struct Confusion {
    tp: u64,
    fp: u64,
    fn_: u64,
    n: u64,
}

impl Confusion {
    /// One item.
    pub fn add(&mut self, predicted: bool, actual: bool) {
        self.n += 1;
        match (predicted, actual) {
            (true, true) => self.tp += 1,
            (true, false) => self.fp += 1,
            (false, true) => self.fn_ += 1,
            (false, false) => {}
        }
    }

    /// The scores.
    pub fn score(&self, name: &str, mode: &str) -> Score {
        let p = if self.tp + self.fp == 0 {
            0.0
        } else {
            self.tp as f64 / (self.tp + self.fp) as f64
        };
        let r = if self.tp + self.fn_ == 0 {
            0.0
        } else {
            self.tp as f64 / (self.tp + self.fn_) as f64
        };
        Score {
            name: name.into(),
            mode: mode.into(),
            precision: p,
            recall: r,
            f1: if p + r == 0.0 {
                0.0
            } else {
                2.0 * p * r / (p + r)
            },
            tp: self.tp,
            fp: self.fp,
            fn_: self.fn_,
            n: self.n,
            sample: None,
        }
    }
}

fn data_err(path: &Path, reason: impl Into<String>) -> LogsError {
    LogsError::Data {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// One HDFS block.
struct Block {
    anomaly: bool,
    train: bool,
    events: Vec<u32>,
}

fn read_hdfs(path: &Path) -> Result<Vec<Block>, LogsError> {
    let mut rdr = csv::Reader::from_path(path).map_err(|e| data_err(path, e.to_string()))?;
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| data_err(path, e.to_string()))?;
        let (Some(label), Some(split), Some(seq)) = (rec.get(1), rec.get(2), rec.get(3)) else {
            return Err(data_err(path, "expected BlockId,Label,Split,EventSequence"));
        };
        let events = seq
            .split_whitespace()
            .map(|t| {
                t.trim_start_matches('T')
                    .parse()
                    .map_err(|_| data_err(path, format!("bad event {t:?}")))
            })
            .collect::<Result<Vec<u32>, _>>()?;
        out.push(Block {
            anomaly: label == "1",
            train: split == "train",
            events,
        });
    }
    Ok(out)
}

/// The next-event model fitted on the normal blocks of the train split only.
fn fit_normal(blocks: &[Block]) -> NextEventModel {
    let mut model = NextEventModel::new(ORDER, MIN_SUPPORT);
    for b in blocks.iter().filter(|b| b.train && !b.anomaly) {
        model.fit(&b.events);
    }
    model
}

/// HDFS_100k at block level.
pub fn hdfs(dir: &Path) -> Result<Score, LogsError> {
    let blocks = read_hdfs(&dir.join("hdfs_100k_blocks.csv"))?;
    let model = fit_normal(&blocks);
    let mut c = Confusion::default();
    for b in blocks.iter().filter(|b| !b.train) {
        c.add(!model.surprises(&b.events, true).is_empty(), b.anomaly);
    }
    Ok(c.score("HDFS_100k/block", "detectors"))
}

/// A BGL line as the detectors see it (label blanked) and its label.
#[derive(Debug, Clone)]
pub struct LabelledLine {
    /// The line with its label field replaced by `-`.
    pub text: String,
    /// Whether it is an alert (used only to score).
    pub alert: bool,
}

/// Reads `BGL_2k.log`, separating each line's label from what the detectors see.
pub fn read_bgl(path: &Path) -> Result<Vec<LabelledLine>, LogsError> {
    let text = std::fs::read_to_string(path).map_err(|e| data_err(path, e.to_string()))?;
    Ok(text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let (label, rest) = l.split_once(' ').unwrap_or((l, ""));
            LabelledLine {
                text: format!("- {rest}"),
                alert: label != "-",
            }
        })
        .collect())
}

/// Flags of each line of the scored part of BGL, after fitting the baseline on the
/// first part; returns where the scored part starts.
pub fn bgl_flags(lines: &[LabelledLine]) -> Result<(usize, Vec<Vec<Flag>>), LogsError> {
    let spec = FormatSpec::parse("bgl")?;
    let parser = Parser::new(spec);
    let mut miner = Miner::new(MinerConfig::default());
    let fit = (lines.len() as f64 * FIT_SHARE) as usize;
    let mut baseline = Baseline::new(RARE);
    let mut flags = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let p = parser.parse_line(&l.text);
        let cluster = miner.add(&p.message);
        if i < fit {
            baseline.fit(miner.canonical(cluster));
        } else {
            flags.push(baseline.flags(miner.canonical(cluster), p.level));
        }
    }
    Ok((fit, flags))
}

/// BGL_2k at line level and in windows of [`WINDOW`] lines: all detectors together
/// (`detectors`), then each alone.
pub fn bgl(dir: &Path) -> Result<Vec<Score>, LogsError> {
    let lines = read_bgl(&dir.join("BGL_2k.log"))?;
    let (fit, flags) = bgl_flags(&lines)?;
    let scored = &lines[fit..];
    type Predicate<'a> = &'a dyn Fn(&[Flag]) -> bool;
    let modes: [(&str, Predicate<'_>); 4] = [
        ("detectors", &|f: &[Flag]| !f.is_empty()),
        ("error_level", &|f: &[Flag]| f.contains(&Flag::ErrorLevel)),
        ("new_template", &|f: &[Flag]| f.contains(&Flag::NewTemplate)),
        ("rare_template", &|f: &[Flag]| {
            f.contains(&Flag::RareTemplate)
        }),
    ];
    let mut out = Vec::new();
    for (mode, pred) in modes {
        let mut line = Confusion::default();
        for (l, f) in scored.iter().zip(&flags) {
            line.add(pred(f), l.alert);
        }
        let mut window = Confusion::default();
        for (ls, fs) in scored.chunks(WINDOW).zip(flags.chunks(WINDOW)) {
            window.add(fs.iter().any(|f| pred(f)), ls.iter().any(|l| l.alert));
        }
        out.push(line.score("BGL_2k/line", mode));
        out.push(window.score(&format!("BGL_2k/window{WINDOW}"), mode));
    }
    Ok(out)
}

/// Which of `n` items an LLM-mode run scores: `k` of them, spread by a fixed-seed
/// shuffle so both classes are represented as they occur (the same sample every run).
pub fn sample(n: usize, k: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..n).collect();
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in (1..n).rev() {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let j = (state >> 33) as usize % (i + 1);
        idx.swap(i, j);
    }
    idx.truncate(k);
    idx.sort_unstable();
    idx
}

/// Asks the model about each piece of evidence (the screening question of triage,
/// decoded under its schema); `None` where the answer was unusable.
fn ask(engine: &Engine, evidence: &[String]) -> Result<Vec<Option<bool>>, EngineError> {
    let mut out = Vec::with_capacity(evidence.len());
    for chunk in evidence.chunks(16) {
        let requests: Vec<GenerateRequest> = chunk
            .iter()
            .map(|e| {
                let mut r = GenerateRequest::new(
                    Input::Messages(vec![
                        Message::new(
                            "system",
                            "You are a site reliability engineer triaging logs. Judge only from \
                             the evidence given. Answer in JSON.",
                        ),
                        Message::new(
                            "user",
                            format!("Log evidence:\n{e}\nDecide only whether this is a real problem, how severe it is, and your confidence."),
                        ),
                    ]),
                    crate::triage::SCREEN_TOKENS,
                );
                r.constraint = Some(Constraint::JsonSchema(crate::triage::screen_schema()));
                r
            })
            .collect();
        for (text, finish, _) in crate::triage::run_batch(engine, &requests)? {
            let v = (finish == Some(FinishReason::Stop))
                .then(|| serde_json::from_str::<serde_json::Value>(&text).ok())
                .flatten();
            out.push(v.and_then(|v| v["is_anomaly"].as_bool()));
        }
    }
    Ok(out)
}

/// Detectors then the model on a sample of `k` items of each dataset: an item the
/// detectors flag is kept only if the model agrees (an unusable answer keeps the
/// detectors' call). Both modes are scored on the same sample. BGL windows are not
/// scored in this mode (a window would need every flagged line asked).
pub fn with_llm(dir: &Path, engine: &Engine, k: usize) -> Result<Vec<Score>, LogsError> {
    let llm_err = |e: EngineError| data_err(dir, format!("model: {e}"));
    let mut out = Vec::new();
    // HDFS_100k: test blocks, shown as their event templates in order.
    let hdfs = dir.join("HDFS_100k");
    let blocks = read_hdfs(&hdfs.join("hdfs_100k_blocks.csv"))?;
    let templates = read_templates(&hdfs.join("hdfs_100k_templates.csv"))?;
    let model = fit_normal(&blocks);
    let test: Vec<&Block> = blocks.iter().filter(|b| !b.train).collect();
    let picked = sample(test.len(), k);
    let flagged: Vec<bool> = picked
        .iter()
        .map(|&i| !model.surprises(&test[i].events, true).is_empty())
        .collect();
    let evidence: Vec<String> = picked
        .iter()
        .zip(&flagged)
        .filter(|(_, f)| **f)
        .map(|(&i, _)| {
            test[i]
                .events
                .iter()
                .take(40)
                .map(|e| templates.get(e).map_or("?", String::as_str))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect();
    let mut answers = ask(engine, &evidence).map_err(llm_err)?.into_iter();
    let (mut det, mut both) = (Confusion::default(), Confusion::default());
    for (&i, &f) in picked.iter().zip(&flagged) {
        let truth = test[i].anomaly;
        det.add(f, truth);
        let confirmed = if f {
            answers.next().flatten().unwrap_or(true)
        } else {
            false
        };
        both.add(confirmed, truth);
    }
    let note = format!("{} of {} test blocks", picked.len(), test.len());
    for (c, mode) in [(det, "detectors"), (both, "detectors+llm")] {
        let mut sc = c.score("HDFS_100k/block", mode);
        sc.sample = Some(note.clone());
        out.push(sc);
    }
    // BGL_2k: scored lines.
    let lines = read_bgl(&dir.join("BGL_2k").join("BGL_2k.log"))?;
    let (fit, flags) = bgl_flags(&lines)?;
    let scored = &lines[fit..];
    let picked = sample(scored.len(), k);
    let evidence: Vec<String> = picked
        .iter()
        .filter(|&&i| !flags[i].is_empty())
        .map(|&i| scored[i].text.clone())
        .collect();
    let mut answers = ask(engine, &evidence).map_err(llm_err)?.into_iter();
    let (mut det, mut both) = (Confusion::default(), Confusion::default());
    for &i in &picked {
        let f = !flags[i].is_empty();
        det.add(f, scored[i].alert);
        let confirmed = if f {
            answers.next().flatten().unwrap_or(true)
        } else {
            false
        };
        both.add(confirmed, scored[i].alert);
    }
    let note = format!("{} of {} scored lines", picked.len(), scored.len());
    for (c, mode) in [(det, "detectors"), (both, "detectors+llm")] {
        let mut sc = c.score("BGL_2k/line", mode);
        sc.sample = Some(note.clone());
        out.push(sc);
    }
    Ok(out)
}

fn read_templates(path: &Path) -> Result<std::collections::HashMap<u32, String>, LogsError> {
    let mut rdr = csv::Reader::from_path(path).map_err(|e| data_err(path, e.to_string()))?;
    let mut out = std::collections::HashMap::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| data_err(path, e.to_string()))?;
        let (Some(id), Some(t)) = (rec.get(0), rec.get(1)) else {
            return Err(data_err(path, "expected TemplateId,EventTemplate"));
        };
        let id = id
            .trim_start_matches('T')
            .parse()
            .map_err(|_| data_err(path, format!("bad template id {id:?}")))?;
        out.insert(id, t.to_string());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confusion_scores() {
        let mut c = Confusion::default();
        for (p, a) in [
            (true, true),
            (true, false),
            (false, true),
            (false, false),
            (true, true),
        ] {
            c.add(p, a);
        }
        let s = c.score("x", "detectors");
        assert_eq!((s.tp, s.fp, s.fn_, s.n), (2, 1, 1, 5));
        assert!((s.precision - 2.0 / 3.0).abs() < 1e-9);
        assert!((s.f1 - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(Confusion::default().score("x", "d").f1, 0.0);
    }

    #[test]
    fn samples_are_fixed_distinct_and_in_range() {
        let a = sample(1000, 50);
        assert_eq!(a, sample(1000, 50));
        assert_eq!(a.len(), 50);
        assert!(a.windows(2).all(|w| w[0] < w[1]) && a[49] < 1000);
        assert!(a[49] > 500, "spread over the range: {a:?}");
        assert_eq!(sample(3, 10), vec![0, 1, 2]);
    }
}
