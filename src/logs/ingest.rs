//! Ingest: files, directories (recursive, with include/exclude globs), gzip files and
//! standard input, read as a stream of lines with bounded memory.
//!
//! Bytes that are not UTF-8 are decoded lossily and counted; lines longer than the limit
//! are cut with a marker and counted (the rest of the line is read and dropped, never
//! held); files whose first block holds NUL bytes are skipped as binary with a warning;
//! an unreadable file is reported by name while the other inputs go on.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;
use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Serialize;

use super::LogsError;

/// Marker appended to a line cut at the length limit.
pub const TRUNCATED_MARKER: &str = " …[truncated]";

/// The default line-length limit, in bytes.
pub const DEFAULT_MAX_LINE: usize = 64 * 1024;

/// An input named on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Standard input (`-`).
    Stdin,
    /// A file (plain or gzip).
    File(PathBuf),
}

impl Source {
    /// How the source is named in reports.
    pub fn display(&self) -> String {
        match self {
            Source::Stdin => "<stdin>".into(),
            Source::File(p) => p.display().to_string(),
        }
    }
}

/// Include/exclude filters for directory walks.
#[derive(Debug, Default)]
pub struct Filters {
    include: Option<GlobSet>,
    exclude: Option<GlobSet>,
}

impl Filters {
    /// Builds filters from glob lists (matched against the path and the file name).
    pub fn new(include: &[String], exclude: &[String]) -> Result<Self, LogsError> {
        let build = |globs: &[String]| -> Result<Option<GlobSet>, LogsError> {
            if globs.is_empty() {
                return Ok(None);
            }
            let mut b = GlobSetBuilder::new();
            for g in globs {
                b.add(Glob::new(g).map_err(|e| LogsError::Glob {
                    glob: g.clone(),
                    reason: e.to_string(),
                })?);
            }
            b.build().map(Some).map_err(|e| LogsError::Glob {
                glob: globs.join(","),
                reason: e.to_string(),
            })
        };
        Ok(Self {
            include: build(include)?,
            exclude: build(exclude)?,
        })
    }

    fn accepts(&self, path: &Path) -> bool {
        let name = path.file_name().map(Path::new).unwrap_or(path);
        let hit = |set: &GlobSet| set.is_match(path) || set.is_match(name);
        self.include.as_ref().is_none_or(hit) && !self.exclude.as_ref().is_some_and(hit)
    }
}

/// Expands command-line inputs into sources: `-` is stdin, directories are walked
/// recursively in name order (filters apply there), files are taken as given.
/// Paths that do not exist come back as errors so the caller can report them.
pub fn expand(inputs: &[PathBuf], filters: &Filters) -> (Vec<Source>, Vec<(PathBuf, String)>) {
    let mut sources = Vec::new();
    let mut errors = Vec::new();
    for input in inputs {
        if input.as_os_str() == "-" {
            sources.push(Source::Stdin);
        } else if input.is_dir() {
            let walker = walkdir::WalkDir::new(input).sort_by_file_name();
            for entry in walker {
                match entry {
                    Ok(e) if e.file_type().is_file() && filters.accepts(e.path()) => {
                        sources.push(Source::File(e.into_path()));
                    }
                    Ok(_) => {}
                    Err(e) => errors.push((
                        e.path()
                            .map(Path::to_path_buf)
                            .unwrap_or_else(|| input.clone()),
                        e.to_string(),
                    )),
                }
            }
        } else if input.exists() {
            sources.push(Source::File(input.clone()));
        } else {
            errors.push((input.clone(), "no such file or directory".into()));
        }
    }
    (sources, errors)
}

/// Counters for one stream of lines.
#[derive(Debug, Default, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct LineStats {
    /// Physical lines read.
    pub lines: u64,
    /// Bytes read (after decompression).
    pub bytes: u64,
    /// Lines that held invalid UTF-8 (decoded with replacement characters).
    pub invalid_utf8: u64,
    /// Lines cut at the length limit.
    pub truncated: u64,
}

/// A line reader over any byte stream with a hard cap on line length.
pub struct LineReader<R> {
    inner: R,
    max_line: usize,
    buf: Vec<u8>,
    stats: LineStats,
}

impl<R: BufRead> LineReader<R> {
    /// Wraps a buffered reader.
    pub fn new(inner: R, max_line: usize) -> Self {
        Self {
            inner,
            max_line: max_line.max(16),
            buf: Vec::with_capacity(256),
            stats: LineStats::default(),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> LineStats {
        self.stats
    }

    /// Reads the next line into `out` (without its terminator). Returns false at end of
    /// input.
    pub fn next_line(&mut self, out: &mut String) -> io::Result<bool> {
        self.buf.clear();
        let mut truncated = false;
        let mut any = false;
        loop {
            let chunk = match self.inner.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                break;
            }
            any = true;
            let (take, done) = match memchr::memchr(b'\n', chunk) {
                Some(i) => (i + 1, true),
                None => (chunk.len(), false),
            };
            let room = self.max_line.saturating_sub(self.buf.len());
            let content = if done { take - 1 } else { take };
            if content > room {
                truncated = true;
            }
            self.buf.extend_from_slice(&chunk[..content.min(room)]);
            self.stats.bytes += take as u64;
            self.inner.consume(take);
            if done {
                break;
            }
        }
        if !any {
            return Ok(false);
        }
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        self.stats.lines += 1;
        out.clear();
        match std::str::from_utf8(&self.buf) {
            Ok(s) => out.push_str(s),
            Err(_) => {
                self.stats.invalid_utf8 += 1;
                out.push_str(&String::from_utf8_lossy(&self.buf));
            }
        }
        if truncated {
            self.stats.truncated += 1;
            // Cutting may have split a UTF-8 sequence: the lossy decode above replaced it.
            out.push_str(TRUNCATED_MARKER);
        }
        Ok(true)
    }
}

/// How an opened source turned out.
pub enum Opened {
    /// A readable text stream.
    Text(Box<dyn BufRead + Send>),
    /// The file looks binary and was not read.
    Binary,
}

/// Opens a source: gzip is detected by its magic bytes, binary by NUL bytes in the
/// first 8 KiB.
pub fn open(source: &Source) -> Result<Opened, LogsError> {
    let (path, raw): (PathBuf, Box<dyn Read + Send>) = match source {
        Source::Stdin => (PathBuf::from("-"), Box::new(io::stdin())),
        Source::File(p) => {
            let f = File::open(p).map_err(|e| LogsError::io(p, e))?;
            (p.clone(), Box::new(f))
        }
    };
    let mut reader = BufReader::with_capacity(64 * 1024, raw);
    let head = reader.fill_buf().map_err(|e| LogsError::io(&path, e))?;
    let mut stream: Box<dyn BufRead + Send> = if head.starts_with(&[0x1f, 0x8b]) {
        Box::new(BufReader::with_capacity(
            64 * 1024,
            MultiGzDecoder::new(reader),
        ))
    } else {
        Box::new(reader)
    };
    let head = stream.fill_buf().map_err(|e| LogsError::io(&path, e))?;
    let probe = &head[..head.len().min(8192)];
    if probe.contains(&0) {
        return Ok(Opened::Binary);
    }
    Ok(Opened::Text(stream))
}

/// The day `source` was last written (today for standard input).
fn source_date(source: &Source) -> chrono::NaiveDate {
    let modified = match source {
        Source::File(p) => std::fs::metadata(p).and_then(|m| m.modified()).ok(),
        Source::Stdin => None,
    };
    let t: chrono::DateTime<chrono::Utc> = modified.map_or_else(chrono::Utc::now, Into::into);
    t.date_naive()
}

/// What yearless and time-only timestamps of `source` take: `year` when given (else the
/// file's modification year), and the file's modification day.
pub fn time_context(source: &Source, year: Option<i32>) -> crate::logs::time::TimeContext {
    use chrono::Datelike;
    let date = source_date(source);
    crate::logs::time::TimeContext {
        year: year.unwrap_or_else(|| date.year()),
        date: Some(date),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], max: usize) -> (Vec<String>, LineStats) {
        let mut r = LineReader::new(input, max);
        let mut out = Vec::new();
        let mut s = String::new();
        while r.next_line(&mut s).expect("in-memory read") {
            out.push(s.clone());
        }
        (out, r.stats())
    }

    #[test]
    fn crlf_invalid_utf8_and_long_lines() {
        let (l, st) = lines(b"a\r\nb\xff\xfec\n\nlast", 1024);
        assert_eq!(l, vec!["a", "b\u{fffd}\u{fffd}c", "", "last"]);
        assert_eq!(st.lines, 4);
        assert_eq!(st.invalid_utf8, 1);
        let long = vec![b'x'; 100];
        let mut input = long.clone();
        input.extend_from_slice(b"\nnext\n");
        let (l, st) = lines(&input, 20);
        assert_eq!(l[0], format!("{}{}", "x".repeat(20), TRUNCATED_MARKER));
        assert_eq!(l[1], "next");
        assert_eq!(st.truncated, 1);
    }

    #[test]
    fn filters() {
        let f = Filters::new(&["*.log".into()], &["*debug*".into()]).expect("valid globs");
        assert!(f.accepts(Path::new("a/b/app.log")));
        assert!(!f.accepts(Path::new("a/b/app.txt")));
        assert!(!f.accepts(Path::new("a/debug.log")));
        assert!(Filters::new(&["[".into()], &[]).is_err());
    }
}
