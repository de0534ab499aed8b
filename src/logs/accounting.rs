//! Input accounting: how reading each input ended and where every one of its lines went
//! (records, continuation lines, blank lines), and the totals over all inputs.

use serde::Serialize;

use super::ingest::LineStats;
use super::multiline::LineKind;

/// How reading one input ended.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    /// Read to the end.
    Ok,
    /// Skipped: looks binary.
    Binary,
    /// Could not be opened or read to the end (see `error`).
    Error,
}

/// Accounting for one input. Invariant: `lines = records + continuation_lines +
/// blank_lines` (`unparsed_records` is a subset of `records`).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FileReport {
    /// The input's name.
    pub path: String,
    /// Format used (detected or overridden).
    pub format: String,
    /// How reading ended.
    pub status: FileStatus,
    /// Error text when `status` is `error`.
    pub error: Option<String>,
    /// Physical lines read.
    pub lines: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Records (a header line, or a bare line with no record to continue).
    pub records: u64,
    /// Records whose first line had no recognised header.
    pub unparsed_records: u64,
    /// Lines joined to the record before them (tracebacks, stack traces).
    pub continuation_lines: u64,
    /// Continuation lines counted but not kept (record size caps).
    pub continuation_dropped: u64,
    /// Empty lines.
    pub blank_lines: u64,
    /// Lines with invalid UTF-8 (decoded lossily).
    pub invalid_utf8_lines: u64,
    /// Lines cut at the length limit.
    pub truncated_lines: u64,
}

impl FileReport {
    pub(crate) fn new(path: String) -> Self {
        Self {
            path,
            format: String::new(),
            status: FileStatus::Ok,
            error: None,
            lines: 0,
            bytes: 0,
            records: 0,
            unparsed_records: 0,
            continuation_lines: 0,
            continuation_dropped: 0,
            blank_lines: 0,
            invalid_utf8_lines: 0,
            truncated_lines: 0,
        }
    }

    pub(crate) fn failed(path: String, error: String) -> Self {
        Self {
            status: FileStatus::Error,
            error: Some(error),
            ..Self::new(path)
        }
    }

    pub(crate) fn skipped(path: String, status: FileStatus) -> Self {
        Self {
            status,
            ..Self::new(path)
        }
    }

    /// Counts one line by what the multi-line joiner made of it.
    pub(crate) fn count(&mut self, kind: LineKind) {
        match kind {
            LineKind::Record => self.records += 1,
            LineKind::Unparsed => {
                self.records += 1;
                self.unparsed_records += 1;
            }
            LineKind::Continuation => self.continuation_lines += 1,
            LineKind::Dropped => {
                self.continuation_lines += 1;
                self.continuation_dropped += 1;
            }
            LineKind::Blank => self.blank_lines += 1,
        }
    }

    pub(crate) fn finish(&mut self, stats: LineStats, error: Option<String>) {
        self.lines = stats.lines;
        self.bytes = stats.bytes;
        self.invalid_utf8_lines = stats.invalid_utf8;
        self.truncated_lines = stats.truncated;
        if let Some(e) = error {
            self.status = FileStatus::Error;
            self.error = Some(e);
        }
    }
}

/// Totals over all inputs.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Accounting {
    /// Inputs read to the end.
    pub files_read: u64,
    /// Inputs skipped as binary.
    pub files_binary: u64,
    /// Inputs that failed (missing, unreadable, read error).
    pub files_failed: u64,
    /// Physical lines read.
    pub lines: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Records.
    pub records: u64,
    /// Records without a recognised header.
    pub unparsed_records: u64,
    /// Continuation lines.
    pub continuation_lines: u64,
    /// Continuation lines counted but not kept.
    pub continuation_dropped: u64,
    /// Empty lines.
    pub blank_lines: u64,
    /// Lines with invalid UTF-8.
    pub invalid_utf8_lines: u64,
    /// Lines cut at the length limit.
    pub truncated_lines: u64,
}

impl Accounting {
    pub(crate) fn from_files(files: &[FileReport]) -> Self {
        let mut a = Accounting::default();
        for f in files {
            match f.status {
                FileStatus::Ok => a.files_read += 1,
                FileStatus::Binary => a.files_binary += 1,
                FileStatus::Error => a.files_failed += 1,
            }
            a.lines += f.lines;
            a.bytes += f.bytes;
            a.records += f.records;
            a.unparsed_records += f.unparsed_records;
            a.continuation_lines += f.continuation_lines;
            a.continuation_dropped += f.continuation_dropped;
            a.blank_lines += f.blank_lines;
            a.invalid_utf8_lines += f.invalid_utf8_lines;
            a.truncated_lines += f.truncated_lines;
        }
        a
    }

    /// Whether every line is accounted for.
    pub fn balanced(&self) -> bool {
        self.lines == self.records + self.continuation_lines + self.blank_lines
    }
}
