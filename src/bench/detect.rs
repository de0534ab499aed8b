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

use crate::logs::detect::lines::{Baseline, Flag};
use crate::logs::detect::session::NextEventModel;
use crate::logs::formats::{FormatSpec, Parser};
use crate::logs::miner::{Miner, MinerConfig};
use crate::logs::LogsError;

/// History length of the next-event model.
pub const ORDER: usize = 3;
/// Times a history must have been seen to be trusted.
pub const MIN_SUPPORT: u32 = 3;
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

/// HDFS_100k at block level.
pub fn hdfs(dir: &Path) -> Result<Score, LogsError> {
    let blocks = read_hdfs(&dir.join("hdfs_100k_blocks.csv"))?;
    let mut model = NextEventModel::new(ORDER, MIN_SUPPORT);
    for b in blocks.iter().filter(|b| b.train && !b.anomaly) {
        model.fit(&b.events);
    }
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
}
