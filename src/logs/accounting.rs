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
    /// Not read on purpose (see `error` for why): a named pipe, socket or device met
    /// while walking a directory, a symbolic link that loops or points nowhere.
    Skipped,
    /// Changed while it was read (it shrank: truncated or rewritten); what was read
    /// before is kept and counted (see `error`).
    Changed,
}

/// Where the lines of one input (or of all) went. Invariant: `lines = records +
/// continuation_lines + blank_lines` (`unparsed_records` is a subset of `records`).
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct LineCounts {
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

impl LineCounts {
    /// Whether every line is accounted for.
    pub fn balanced(&self) -> bool {
        self.lines == self.records + self.continuation_lines + self.blank_lines
    }
}

impl std::ops::AddAssign for LineCounts {
    fn add_assign(&mut self, o: Self) {
        self.lines += o.lines;
        self.bytes += o.bytes;
        self.records += o.records;
        self.unparsed_records += o.unparsed_records;
        self.continuation_lines += o.continuation_lines;
        self.continuation_dropped += o.continuation_dropped;
        self.blank_lines += o.blank_lines;
        self.invalid_utf8_lines += o.invalid_utf8_lines;
        self.truncated_lines += o.truncated_lines;
    }
}

/// Accounting for one input.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FileReport {
    /// The input's name.
    pub path: String,
    /// Format used (detected or overridden).
    pub format: String,
    /// How reading ended.
    pub status: FileStatus,
    /// Why, when `status` is not `ok`: the error, or why the input was skipped.
    pub error: Option<String>,
    /// Where its lines went.
    #[serde(flatten)]
    pub counts: LineCounts,
}

impl FileReport {
    /// An input about to be read.
    pub(crate) fn new(path: String) -> Self {
        Self {
            path,
            format: String::new(),
            status: FileStatus::Ok,
            error: None,
            counts: LineCounts::default(),
        }
    }

    /// An input that could not be read.
    pub(crate) fn failed(path: String, error: String) -> Self {
        Self {
            status: FileStatus::Error,
            error: Some(error),
            ..Self::new(path)
        }
    }

    /// An input skipped (binary).
    pub(crate) fn skipped(path: String, status: FileStatus) -> Self {
        Self {
            status,
            ..Self::new(path)
        }
    }

    /// An entry of a walked directory not read, and why.
    pub(crate) fn passed_over(path: String, why: String) -> Self {
        Self {
            status: FileStatus::Skipped,
            error: Some(why),
            ..Self::new(path)
        }
    }

    /// Counts one line by what the multi-line joiner made of it.
    pub(crate) fn count(&mut self, kind: LineKind) {
        let c = &mut self.counts;
        match kind {
            LineKind::Record => c.records += 1,
            LineKind::Unparsed => {
                c.records += 1;
                c.unparsed_records += 1;
            }
            LineKind::Continuation => c.continuation_lines += 1,
            LineKind::Dropped => {
                c.continuation_lines += 1;
                c.continuation_dropped += 1;
            }
            LineKind::Blank => c.blank_lines += 1,
        }
    }

    /// Takes the reader's totals, and the failure if reading stopped.
    pub(crate) fn finish(&mut self, stats: LineStats, error: Option<String>) {
        self.counts.lines = stats.lines;
        self.counts.bytes = stats.bytes;
        self.counts.invalid_utf8_lines = stats.invalid_utf8;
        self.counts.truncated_lines = stats.truncated;
        if let Some(e) = error {
            self.status = if stats.changed {
                FileStatus::Changed
            } else {
                FileStatus::Error
            };
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
    /// Walked entries not read on purpose (pipes, sockets, devices, looping or broken
    /// links).
    pub files_skipped: u64,
    /// Inputs that changed while they were read (read up to the change).
    pub files_changed: u64,
    /// Where their lines went, summed.
    #[serde(flatten)]
    pub counts: LineCounts,
}

impl Accounting {
    /// The totals of `files`.
    pub(crate) fn from_files(files: &[FileReport]) -> Self {
        let mut a = Accounting::default();
        for f in files {
            match f.status {
                FileStatus::Ok => a.files_read += 1,
                FileStatus::Binary => a.files_binary += 1,
                FileStatus::Error => a.files_failed += 1,
                FileStatus::Skipped => a.files_skipped += 1,
                FileStatus::Changed => a.files_changed += 1,
            }
            a.counts += f.counts;
        }
        a
    }
}
