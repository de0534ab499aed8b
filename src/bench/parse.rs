//! `loglens bench parse`: accuracy against the Loghub ground truth (grouping accuracy,
//! parsing accuracy, lines/s) on the raw logs, formats detected as `analyze` detects
//! them, and the read + parse + join + match throughput of one log file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use crate::logs::formats::{detect, FormatSpec, Parser, DETECT_LINES};
use crate::logs::miner::{ClusterId, Miner, MinerConfig};
use crate::logs::LogsError;

/// The systems `bench parse --data` looks for, in the order they are reported.
pub const SYSTEMS: [&str; 8] = [
    "HDFS",
    "Hadoop",
    "Spark",
    "Zookeeper",
    "BGL",
    "HPC",
    "OpenSSH",
    "Apache",
];

/// Accuracy of the miner on one system.
#[derive(Debug, Clone, Serialize)]
pub struct SystemScore {
    /// System name (folder name).
    pub name: String,
    /// The format read (detected, or given for the file).
    pub format: String,
    /// Lines scored.
    pub lines: usize,
    /// Share of lines whose message equals the ground truth's `Content` (header
    /// fields split off as the ground truth splits them), after whitespace is trimmed.
    pub content_accuracy: f64,
    /// Share of lines whose predicted group holds exactly their ground-truth group.
    pub grouping_accuracy: f64,
    /// Share of lines whose template equals the ground truth (after normalisation).
    pub parsing_accuracy: f64,
    /// Mining throughput over the `Content` column.
    pub lines_per_sec: f64,
}

/// Averages over systems.
#[derive(Debug, Clone, Serialize)]
pub struct Average {
    /// Mean grouping accuracy.
    pub grouping_accuracy: f64,
    /// Mean parsing accuracy.
    pub parsing_accuracy: f64,
    /// Mean lines/s.
    pub lines_per_sec: f64,
}

/// The result of `bench parse --data`.
#[derive(Debug, Clone, Serialize)]
pub struct AccuracyReport {
    /// One entry per system found.
    pub systems: Vec<SystemScore>,
    /// Averages over `systems`.
    pub average: Average,
}

/// One labelled line.
struct Labelled {
    content: String,
    template: String,
}

/// A per-file format override for the benchmark: files whose name matches use it.
pub type FormatFor = [(globset::GlobMatcher, FormatSpec)];

/// The systems under `data`: every `<S>/<S>_2k.log` with its
/// `<S>_2k.log_structured_corrected.csv`, the eight known ones first in their order.
fn systems(data: &Path) -> Vec<String> {
    let mut found: Vec<String> = std::fs::read_dir(data)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| {
                    let d = data.join(n);
                    d.join(format!("{n}_2k.log")).is_file()
                        && d.join(format!("{n}_2k.log_structured_corrected.csv"))
                            .is_file()
                })
                .collect()
        })
        .unwrap_or_default();
    let rank = |n: &String| SYSTEMS.iter().position(|s| s == n).unwrap_or(SYSTEMS.len());
    found.sort_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| a.cmp(b)));
    found
}

/// Scores the miner on every system found under `data`, reading the raw logs with
/// detected formats (or those `format_for` gives by file name).
pub fn accuracy(
    data: &Path,
    config: MinerConfig,
    format_for: &FormatFor,
) -> Result<AccuracyReport, LogsError> {
    let mut scores = Vec::new();
    for name in systems(data) {
        let dir = data.join(&name);
        let log = dir.join(format!("{name}_2k.log"));
        let csv = dir.join(format!("{name}_2k.log_structured_corrected.csv"));
        let rows = read_labelled(&csv)?;
        let raw = std::fs::read_to_string(&log).map_err(|e| LogsError::io(&log, e))?;
        let lines: Vec<&str> = raw.lines().collect();
        let spec = format_for
            .iter()
            .find(|(g, _)| g.is_match(&log) || log.file_name().is_some_and(|f| g.is_match(f)))
            .map(|(_, s)| s.clone());
        scores.push(score_system(&name, &lines, &rows, spec, config));
    }
    if scores.is_empty() {
        return Err(LogsError::Data {
            path: data.to_path_buf(),
            reason: "no <System>/<System>_2k.log with its _structured_corrected.csv found".into(),
        });
    }
    let n = scores.len() as f64;
    let average = Average {
        grouping_accuracy: scores.iter().map(|s| s.grouping_accuracy).sum::<f64>() / n,
        parsing_accuracy: scores.iter().map(|s| s.parsing_accuracy).sum::<f64>() / n,
        lines_per_sec: scores.iter().map(|s| s.lines_per_sec).sum::<f64>() / n,
    };
    Ok(AccuracyReport {
        systems: scores,
        average,
    })
}

fn read_labelled(path: &Path) -> Result<Vec<Labelled>, LogsError> {
    let bad = |reason: String| LogsError::Data {
        path: path.to_path_buf(),
        reason,
    };
    let mut rdr = csv::Reader::from_path(path).map_err(|e| bad(e.to_string()))?;
    let headers = rdr.headers().map_err(|e| bad(e.to_string()))?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| bad(format!("no {name} column")))
    };
    let (content, template) = (col("Content")?, col("EventTemplate")?);
    let mut rows = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| bad(e.to_string()))?;
        rows.push(Labelled {
            content: rec.get(content).unwrap_or_default().to_string(),
            template: rec.get(template).unwrap_or_default().to_string(),
        });
    }
    Ok(rows)
}

/// Each raw line is one labelled message (as Loghub labels them): it is parsed on its
/// own with the file's format, and its message mined.
fn score_system(
    name: &str,
    lines: &[&str],
    rows: &[Labelled],
    spec: Option<FormatSpec>,
    config: MinerConfig,
) -> SystemScore {
    let start = Instant::now();
    let detection = detect(lines.iter().copied().take(DETECT_LINES));
    let parser = match spec {
        Some(s) => Parser::new(s),
        None => Parser::detected(&detection),
    };
    let mut miner = Miner::new(config);
    let n = lines.len().min(rows.len());
    let mut content_ok = 0usize;
    let mut predicted: Vec<ClusterId> = Vec::with_capacity(n);
    for (line, row) in lines.iter().zip(rows) {
        let p = parser.parse_line(line);
        content_ok += usize::from(p.message.trim() == row.content.trim());
        predicted.push(miner.add(&p.message));
    }
    let secs = start.elapsed().as_secs_f64().max(1e-9);
    let predicted: Vec<ClusterId> = predicted.into_iter().map(|c| miner.canonical(c)).collect();
    let truth: Vec<&str> = rows[..n].iter().map(|r| r.template.as_str()).collect();
    let templates: HashMap<ClusterId, String> = miner
        .clusters()
        .map(|(id, c)| (id, normalize_template(&c.template())))
        .collect();
    let pa = rows
        .iter()
        .zip(&predicted)
        .filter(|(r, p)| {
            templates
                .get(p)
                .is_some_and(|t| *t == normalize_template(&r.template))
        })
        .count();
    let denom = n.max(1) as f64;
    SystemScore {
        name: name.to_string(),
        format: parser.spec().name(),
        lines: n,
        content_accuracy: content_ok as f64 / denom,
        grouping_accuracy: grouping_accuracy(&predicted, &truth),
        parsing_accuracy: pa as f64 / denom,
        lines_per_sec: n as f64 / secs,
    }
}

/// Grouping accuracy: a line is correct when the set of lines in its predicted group
/// equals the set of lines in its true group.
pub fn grouping_accuracy<P, T>(predicted: &[P], truth: &[T]) -> f64
where
    P: std::hash::Hash + Eq,
    T: std::hash::Hash + Eq,
{
    let mut by_pred: HashMap<&P, Vec<usize>> = HashMap::new();
    for (i, p) in predicted.iter().enumerate() {
        by_pred.entry(p).or_default().push(i);
    }
    let mut by_truth: HashMap<&T, Vec<usize>> = HashMap::new();
    for (i, t) in truth.iter().enumerate() {
        by_truth.entry(t).or_default().push(i);
    }
    let mut correct = 0;
    for lines in by_pred.values() {
        let t = &truth[lines[0]];
        if by_truth.get(t).is_some_and(|tl| tl == lines) {
            correct += lines.len();
        }
    }
    correct as f64 / predicted.len().max(1) as f64
}

/// Collapses runs of `<*>` (with or without spaces between them) and of whitespace, so
/// templates compare by their literal parts and variable positions.
pub fn normalize_template(t: &str) -> String {
    let mut out = String::with_capacity(t.len());
    let mut rest = t.trim();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("<*>") {
            if !out.ends_with("<*>") {
                out.push_str("<*>");
            }
            rest = r;
            continue;
        }
        let Some(c) = rest.chars().next() else { break };
        rest = &rest[c.len_utf8()..];
        if c.is_whitespace() {
            if rest.trim_start().starts_with("<*>") && out.ends_with("<*>") {
                continue;
            }
            if !out.ends_with(' ') {
                out.push(' ');
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The result of `bench parse --input`.
#[derive(Debug, Clone, Serialize)]
pub struct ThroughputReport {
    /// The file measured.
    pub input: PathBuf,
    /// Lines read.
    pub lines: u64,
    /// Records they formed.
    pub records: u64,
    /// Read + parse + join + timestamp + template match rate on one core.
    pub lines_per_sec: f64,
    /// Templates found.
    pub templates: usize,
    /// Format used.
    pub format: String,
    /// Records with a timestamp of their own, normalised.
    pub with_timestamp: u64,
    /// Peak resident set size of the process, in MiB, where the OS reports it.
    pub peak_rss_mb: Option<f64>,
}

/// Times what `analyze` does to every line of `input` before grouping, on one thread:
/// reading, format detection, header parsing, multi-line joining, timestamp
/// normalisation, records, template matching. Streams as `analyze` does (so peak RSS is
/// the pipeline's, not a copy of the file).
pub fn throughput(input: &Path, format: Option<&str>) -> Result<ThroughputReport, LogsError> {
    use crate::logs::ingest::Source;
    use crate::logs::reader::{read_source, ReadOptions, SourceRead};
    let opts = ReadOptions {
        format: format.map(FormatSpec::parse).transpose()?,
        year: Some(2000),
        ..ReadOptions::default()
    };
    let mut miner = Miner::default();
    let (mut records, mut with_time) = (0u64, 0u64);
    let start = Instant::now();
    let read = read_source(
        &Source::File(input.to_path_buf()),
        &opts,
        &mut |r| {
            records += 1;
            with_time += u64::from(r.timestamp.is_some() && !r.timestamp_inferred);
            miner.add(&r.message);
        },
        &|_| {},
    )?;
    let secs = start.elapsed().as_secs_f64().max(1e-9);
    let summary = match read {
        SourceRead::Text(s) => s,
        SourceRead::Binary => {
            return Err(LogsError::Data {
                path: input.to_path_buf(),
                reason: "binary file".into(),
            })
        }
    };
    Ok(ThroughputReport {
        input: input.to_path_buf(),
        lines: summary.lines.lines,
        records,
        lines_per_sec: summary.lines.lines as f64 / secs,
        templates: miner.len(),
        format: summary.detection.spec.name(),
        with_timestamp: with_time,
        peak_rss_mb: super::peak_rss_mb(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_collapses_wildcards_and_space() {
        assert_eq!(normalize_template("a <*> <*>  b"), "a <*> b");
        assert_eq!(normalize_template("a <*><*>:<*> b "), "a <*>:<*> b");
        assert_eq!(normalize_template("  x\ty"), "x y");
    }

    #[test]
    fn grouping_accuracy_counts_exact_groups() {
        // Group {0,1} is exact, group {2,3} mixes two true groups.
        let pred = [1, 1, 2, 2];
        let truth = ["a", "a", "b", "c"];
        assert!((grouping_accuracy(&pred, &truth) - 0.5).abs() < 1e-9);
        assert!((grouping_accuracy(&[1, 2], &["a", "b"]) - 1.0).abs() < 1e-9);
    }
}
