//! `loglens bench parse --corpus`: scores the reading of logs against the labelled
//! corpus (`tests/corpus`): for every physical line, whether it starts a record,
//! continues one or is blank, and the timestamp, level and component of the record it
//! belongs to. Figures per format (the corpus's first-level directories) and overall.
//!
//! Files are read as `analyze` reads them (line reader, detection, per-line fallback,
//! joining), with yearless timestamps in 2025 and time-only ones on 2025-11-03.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::logs::ingest::LineReader;
use crate::logs::level::Level;
use crate::logs::multiline::LineKind;
use crate::logs::reader::FileParser;
use crate::logs::record::Record;
use crate::logs::time::TimeContext;
use crate::logs::LogsError;

/// Correct and total counts of one metric.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct Count {
    /// Lines right.
    pub correct: u64,
    /// Lines scored.
    pub total: u64,
}

impl Count {
    fn add(&mut self, ok: bool) {
        self.correct += u64::from(ok);
        self.total += 1;
    }

    fn merge(&mut self, o: Count) {
        self.correct += o.correct;
        self.total += o.total;
    }

    /// Share right (1 when nothing was scored).
    pub fn rate(&self) -> f64 {
        if self.total == 0 {
            1.0
        } else {
            self.correct as f64 / self.total as f64
        }
    }
}

/// The four metrics.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct Metrics {
    /// Record start / continuation / blank, per physical line.
    pub boundaries: Count,
    /// The record's timestamp (and whether it was inferred), per non-blank line.
    pub timestamp: Count,
    /// The record's level, per non-blank line.
    pub level: Count,
    /// The record's component, per non-blank line.
    pub component: Count,
}

impl Metrics {
    fn merge(&mut self, o: &Metrics) {
        self.boundaries.merge(o.boundaries);
        self.timestamp.merge(o.timestamp);
        self.level.merge(o.level);
        self.component.merge(o.component);
    }

    /// The lowest of the four rates.
    pub fn worst(&self) -> f64 {
        [self.boundaries, self.timestamp, self.level, self.component]
            .iter()
            .map(Count::rate)
            .fold(1.0, f64::min)
    }
}

/// Figures of one format.
#[derive(Debug, Clone, Serialize)]
pub struct FormatScore {
    /// Directory name.
    pub format: String,
    /// Files scored.
    pub files: usize,
    /// Formats loglens chose for them.
    pub detected: Vec<String>,
    /// Metrics.
    pub metrics: Metrics,
    /// Up to a few lines read wrongly: `file:line: what`.
    pub misses: Vec<String>,
}

/// The result of scoring a corpus.
#[derive(Debug, Clone, Serialize)]
pub struct CorpusReport {
    /// Per format, by name.
    pub formats: Vec<FormatScore>,
    /// All formats together.
    pub overall: Metrics,
    /// Physical lines scored.
    pub lines: u64,
}

/// Misses kept per format.
const MISSES_KEPT: usize = 8;

/// One expected line.
#[derive(Debug, Clone, PartialEq)]
enum Expected {
    Start {
        time: Option<DateTime<Utc>>,
        inferred: bool,
        level: Level,
        component: String,
    },
    Continuation,
    Blank,
}

fn parse_expected(path: &Path) -> Result<Vec<Expected>, LogsError> {
    let bad = |line: usize, reason: &str| LogsError::Data {
        path: path.to_path_buf(),
        reason: format!("line {line}: {reason}"),
    };
    let text = std::fs::read_to_string(path).map_err(|e| LogsError::io(path, e))?;
    let mut out = Vec::new();
    for (i, l) in text.lines().enumerate() {
        let f: Vec<&str> = l.split('\t').collect();
        out.push(match f.as_slice() {
            ["C"] => Expected::Continuation,
            ["B"] => Expected::Blank,
            ["S", ts, level, component] => {
                let (inferred, ts) = match ts.strip_prefix('~') {
                    Some(t) => (true, t),
                    None => (false, *ts),
                };
                let time = match ts {
                    "-" => None,
                    t => Some(
                        DateTime::parse_from_rfc3339(t)
                            .map_err(|e| bad(i + 1, &e.to_string()))?
                            .with_timezone(&Utc),
                    ),
                };
                Expected::Start {
                    time,
                    inferred,
                    level: level.parse().map_err(|e: String| bad(i + 1, &e))?,
                    component: component.to_string(),
                }
            }
            _ => {
                return Err(bad(
                    i + 1,
                    "expected S<TAB>ts<TAB>level<TAB>component, C or B",
                ))
            }
        });
    }
    Ok(out)
}

/// Every log file with an annotation under `dir`, with its format (first directory).
fn corpus_files(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .flatten()
    {
        let p = entry.path();
        let Some(name) = p.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if name.ends_with(".expected") || !entry.file_type().is_file() {
            continue;
        }
        let mut exp = p.as_os_str().to_owned();
        exp.push(".expected");
        if !Path::new(&exp).is_file() {
            continue;
        }
        let format = p
            .strip_prefix(dir)
            .ok()
            .and_then(|r| r.components().next())
            .and_then(|c| c.as_os_str().to_str())
            .unwrap_or("")
            .to_string();
        out.push((format, p.to_path_buf()));
    }
    out
}

/// What loglens made of one file: per line its kind and the record it belongs to.
struct Reading {
    detected: String,
    kinds: Vec<LineKind>,
    owners: Vec<Option<u64>>,
    records: HashMap<u64, Record>,
}

fn read_file(path: &Path) -> Result<Reading, LogsError> {
    let file = std::fs::File::open(path).map_err(|e| LogsError::io(path, e))?;
    let mut reader = LineReader::new(
        std::io::BufReader::new(file),
        crate::logs::ingest::DEFAULT_MAX_LINE,
    );
    let mut lines = Vec::new();
    let mut line = String::new();
    while reader
        .next_line(&mut line)
        .map_err(|e| LogsError::io(path, e))?
    {
        lines.push(line.clone());
    }
    let date = NaiveDate::from_ymd_opt(2025, 11, 3).unwrap_or_default();
    let head: Vec<String> = lines
        .iter()
        .take(crate::logs::formats::DETECT_LINES)
        .cloned()
        .collect();
    let mut fp = FileParser::new(&head, None, Some(path), TimeContext::on(date));
    let mut kinds = Vec::with_capacity(lines.len());
    let mut owners = Vec::with_capacity(lines.len());
    let mut records = HashMap::new();
    for l in &lines {
        kinds.push(fp.push(l));
        owners.push(fp.current_record());
        for r in fp.drain() {
            records.insert(r.line, r);
        }
    }
    fp.finish();
    for r in fp.drain() {
        records.insert(r.line, r);
    }
    Ok(Reading {
        detected: fp.detection().spec.name(),
        kinds,
        owners,
        records,
    })
}

/// Scores one file into `m`, noting misses.
fn score_file(
    path: &Path,
    expected: &[Expected],
    got: &Reading,
    m: &mut Metrics,
    misses: &mut Vec<String>,
) {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("?");
    let mut miss = |line: usize, what: String| {
        if misses.len() < MISSES_KEPT {
            misses.push(format!("{name}:{line}: {what}"));
        }
    };
    let mut current: Option<&Expected> = None;
    for (i, exp) in expected.iter().enumerate() {
        let kind = got.kinds.get(i).copied();
        let got_class = match kind {
            Some(LineKind::Record | LineKind::Unparsed) => 'S',
            Some(LineKind::Continuation | LineKind::Dropped) => 'C',
            Some(LineKind::Blank) => 'B',
            None => '?',
        };
        let want_class = match exp {
            Expected::Start { .. } => 'S',
            Expected::Continuation => 'C',
            Expected::Blank => 'B',
        };
        m.boundaries.add(got_class == want_class);
        if got_class != want_class {
            miss(i + 1, format!("{want_class} read as {got_class}"));
        }
        if let Expected::Start { .. } = exp {
            current = Some(exp);
        }
        if want_class == 'B' {
            continue;
        }
        let Some(Expected::Start {
            time,
            inferred,
            level,
            component,
        }) = current
        else {
            continue;
        };
        let rec = got
            .owners
            .get(i)
            .copied()
            .flatten()
            .and_then(|l| got.records.get(&l));
        let (t, inf, lv, comp) = match rec {
            Some(r) => (
                r.timestamp,
                r.timestamp_inferred,
                Some(r.level),
                Some(&*r.component),
            ),
            None => (None, false, None, None),
        };
        let ts_ok = t == *time && (time.is_none() || inf == *inferred);
        m.timestamp.add(ts_ok);
        if !ts_ok {
            miss(
                i + 1,
                format!("timestamp {t:?} (inferred {inf}), want {time:?} (inferred {inferred})"),
            );
        }
        m.level.add(lv == Some(*level));
        if lv != Some(*level) {
            miss(i + 1, format!("level {lv:?}, want {level}"));
        }
        m.component.add(comp == Some(component.as_str()));
        if comp != Some(component.as_str()) {
            miss(i + 1, format!("component {comp:?}, want {component}"));
        }
    }
    if got.kinds.len() != expected.len() {
        miss(
            0,
            format!(
                "{} lines read, {} annotated",
                got.kinds.len(),
                expected.len()
            ),
        );
    }
}

/// Scores every annotated file under `dir`.
pub fn score(dir: &Path) -> Result<CorpusReport, LogsError> {
    let files = corpus_files(dir);
    if files.is_empty() {
        return Err(LogsError::Data {
            path: dir.to_path_buf(),
            reason: "no annotated log files (<file> with <file>.expected)".into(),
        });
    }
    let mut by_format: BTreeMap<String, FormatScore> = BTreeMap::new();
    for (format, path) in files {
        let mut exp_path = path.as_os_str().to_owned();
        exp_path.push(".expected");
        let expected = parse_expected(Path::new(&exp_path))?;
        let got = read_file(&path)?;
        let entry = by_format
            .entry(format.clone())
            .or_insert_with(|| FormatScore {
                format,
                files: 0,
                detected: Vec::new(),
                metrics: Metrics::default(),
                misses: Vec::new(),
            });
        entry.files += 1;
        if !entry.detected.contains(&got.detected) {
            entry.detected.push(got.detected.clone());
        }
        score_file(
            &path,
            &expected,
            &got,
            &mut entry.metrics,
            &mut entry.misses,
        );
    }
    let mut overall = Metrics::default();
    for f in by_format.values() {
        overall.merge(&f.metrics);
    }
    Ok(CorpusReport {
        lines: overall.boundaries.total,
        formats: by_format.into_values().collect(),
        overall,
    })
}
