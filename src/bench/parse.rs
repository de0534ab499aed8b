//! `loglens bench parse`: template-mining accuracy against the Loghub ground truth
//! (grouping accuracy, parsing accuracy, lines/s), and raw parse + match throughput of
//! one log file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use crate::logs::formats::{FormatSpec, Parser};
use crate::logs::miner::{ClusterId, Miner, MinerConfig};
use crate::logs::time::parse_timestamp;
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
    /// Lines scored.
    pub lines: usize,
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

/// One labelled message.
struct Labelled {
    content: String,
    template: String,
}

/// Scores the miner on every known system found under `data`.
pub fn accuracy(data: &Path, config: MinerConfig) -> Result<AccuracyReport, LogsError> {
    let mut systems = Vec::new();
    for name in SYSTEMS {
        let csv = data
            .join(name)
            .join(format!("{name}_2k.log_structured_corrected.csv"));
        if !csv.exists() {
            continue;
        }
        let rows = read_labelled(&csv)?;
        systems.push(score_system(name, &rows, config));
    }
    if systems.is_empty() {
        return Err(LogsError::Data {
            path: data.to_path_buf(),
            reason: "no <System>/<System>_2k.log_structured_corrected.csv found".into(),
        });
    }
    let n = systems.len() as f64;
    let average = Average {
        grouping_accuracy: systems.iter().map(|s| s.grouping_accuracy).sum::<f64>() / n,
        parsing_accuracy: systems.iter().map(|s| s.parsing_accuracy).sum::<f64>() / n,
        lines_per_sec: systems.iter().map(|s| s.lines_per_sec).sum::<f64>() / n,
    };
    Ok(AccuracyReport { systems, average })
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

fn score_system(name: &str, rows: &[Labelled], config: MinerConfig) -> SystemScore {
    let mut miner = Miner::new(config);
    let start = Instant::now();
    let predicted: Vec<ClusterId> = rows.iter().map(|r| miner.add(&r.content)).collect();
    let secs = start.elapsed().as_secs_f64().max(1e-9);
    let predicted: Vec<ClusterId> = predicted.into_iter().map(|c| miner.canonical(c)).collect();
    let truth: Vec<&str> = rows.iter().map(|r| r.template.as_str()).collect();
    let templates: HashMap<ClusterId, String> = miner
        .clusters()
        .map(|(id, c)| (id, normalize_template(&c.template())))
        .collect();
    let pa = rows
        .iter()
        .zip(&predicted)
        .filter(|(r, p)| templates[p] == normalize_template(&r.template))
        .count();
    let n = rows.len().max(1) as f64;
    SystemScore {
        name: name.to_string(),
        lines: rows.len(),
        grouping_accuracy: grouping_accuracy(&predicted, &truth),
        parsing_accuracy: pa as f64 / n,
        lines_per_sec: rows.len() as f64 / secs,
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
    /// Lines parsed.
    pub lines: u64,
    /// Parse + template match rate on one core.
    pub lines_per_sec: f64,
    /// Templates found.
    pub templates: usize,
    /// Format used.
    pub format: String,
    /// Lines whose timestamp was normalised.
    pub with_timestamp: u64,
    /// Peak resident set size of the process, in MiB, where the OS reports it.
    pub peak_rss_mb: Option<f64>,
}

/// Times reading, header parsing, timestamp normalisation and template matching of
/// every line of `input` on one thread, streaming as `analyze` does (so peak RSS is the
/// pipeline's, not a copy of the file).
pub fn throughput(input: &Path, format: Option<&str>) -> Result<ThroughputReport, LogsError> {
    use crate::logs::ingest::{open, LineReader, Opened, Source, DEFAULT_MAX_LINE};
    let source = Source::File(input.to_path_buf());
    let stream = match open(&source)? {
        Opened::Text(s) => s,
        Opened::Binary => {
            return Err(LogsError::Data {
                path: input.to_path_buf(),
                reason: "binary file".into(),
            })
        }
    };
    let mut reader = LineReader::new(stream, DEFAULT_MAX_LINE);
    let io = |e| LogsError::io(input, e);
    let start = Instant::now();
    let mut head = Vec::new();
    let mut line = String::new();
    while head.len() < 64 && reader.next_line(&mut line).map_err(io)? {
        head.push(line.clone());
    }
    let spec = match format {
        Some(f) => FormatSpec::parse(f)?,
        None => FormatSpec::detect(head.iter().map(String::as_str)),
    };
    let parser = Parser::new(spec);
    let mut miner = Miner::default();
    let mut with_time = 0u64;
    let mut one = |line: &str, miner: &mut Miner| {
        let rec = parser.parse_line(line);
        // Timestamp normalisation is part of parsing.
        if rec
            .timestamp
            .as_deref()
            .and_then(|t| parse_timestamp(t, 2000))
            .is_some()
        {
            with_time += 1;
        }
        miner.add(&rec.message);
    };
    for l in &head {
        one(l, &mut miner);
    }
    while reader.next_line(&mut line).map_err(io)? {
        one(&line, &mut miner);
    }
    let secs = start.elapsed().as_secs_f64().max(1e-9);
    let lines = reader.stats().lines;
    Ok(ThroughputReport {
        input: input.to_path_buf(),
        lines,
        lines_per_sec: lines as f64 / secs,
        templates: miner.len(),
        format: parser.spec().name(),
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
