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
use std::time::{Duration, Instant};

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

/// Command-line inputs expanded into what to read, what could not be found or walked,
/// and what was skipped on purpose.
#[derive(Debug, Default)]
pub struct Expanded {
    /// Sources to read, each real file once, in the order found.
    pub sources: Vec<Source>,
    /// Inputs that do not exist or could not be walked, with why.
    pub failed: Vec<(PathBuf, String)>,
    /// Entries of walked directories that were not read, with why: named pipes,
    /// sockets and devices, symbolic links that loop or point nowhere.
    pub skipped: Vec<(PathBuf, String)>,
}

/// Expands command-line inputs into sources: `-` is stdin, directories are walked
/// recursively in name order (filters apply there), files are taken as given.
/// Paths that do not exist come back as errors so the caller can report them.
pub fn expand(inputs: &[PathBuf], filters: &Filters) -> (Vec<Source>, Vec<(PathBuf, String)>) {
    let e = expand_inputs(inputs, filters);
    (e.sources, e.failed)
}

/// Expands command-line inputs: `-` is stdin; directories are walked recursively in
/// name order, following symbolic links (each real file is read once, however many
/// links lead to it; a link back to a directory being walked is skipped, not
/// followed round); files (and named pipes) are taken as given. A file named twice, or
/// reached again through a link, is read once.
pub fn expand_inputs(inputs: &[PathBuf], filters: &Filters) -> Expanded {
    let mut out = Expanded::default();
    let mut seen = Seen::default();
    for input in inputs {
        if input.as_os_str() == "-" {
            if !out.sources.contains(&Source::Stdin) {
                out.sources.push(Source::Stdin);
            }
        } else if input.is_dir() {
            walk(input, filters, &mut seen, &mut out);
        } else if input.exists() {
            if seen.first_time(input) {
                out.sources.push(Source::File(input.clone()));
            } else {
                tracing::info!(path = %input.display(), "named again: read once");
            }
        } else if input.is_symlink() {
            out.failed.push((
                input.clone(),
                "symbolic link to nothing (broken link)".into(),
            ));
        } else {
            out.failed
                .push((input.clone(), "no such file or directory".into()));
        }
    }
    out
}

fn walk(dir: &Path, filters: &Filters, seen: &mut Seen, out: &mut Expanded) {
    let walker = walkdir::WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name();
    for entry in walker {
        match entry {
            Ok(e) if e.file_type().is_dir() => {}
            Ok(e) if !filters.accepts(e.path()) => {}
            Ok(e) if e.file_type().is_file() => {
                if seen.first_time(e.path()) {
                    out.sources.push(Source::File(e.into_path()));
                } else {
                    tracing::debug!(path = %e.path().display(), "reached again: read once");
                }
            }
            Ok(e) => out
                .skipped
                .push((e.path().to_path_buf(), not_regular(&e.file_type()))),
            Err(e) => {
                let path = e
                    .path()
                    .map_or_else(|| dir.to_path_buf(), Path::to_path_buf);
                if let Some(ancestor) = e.loop_ancestor() {
                    let why = format!(
                        "symbolic link loops back to {} (not followed)",
                        ancestor.display()
                    );
                    out.skipped.push((path, why));
                } else if path.is_symlink() && !path.exists() {
                    out.skipped
                        .push((path, "symbolic link to nothing (broken link)".into()));
                } else {
                    out.failed.push((path, e.to_string()));
                }
            }
        }
    }
}

/// Why a walked entry that is neither a file nor a directory is not read.
fn not_regular(t: &std::fs::FileType) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let what = if t.is_fifo() {
            "a named pipe"
        } else if t.is_socket() {
            "a socket"
        } else if t.is_block_device() || t.is_char_device() {
            "a device"
        } else {
            "not a regular file"
        };
        format!("{what}: not read when walking a directory (name it to read it)")
    }
    #[cfg(not(unix))]
    {
        let _ = t;
        "not a regular file: not read when walking a directory".into()
    }
}

/// The real files met so far, by identity (device and inode), so a file reached by
/// two names is read once.
#[derive(Default)]
struct Seen(std::collections::HashSet<(u64, u64)>);

impl Seen {
    fn first_time(&mut self, path: &Path) -> bool {
        match identity(path) {
            Some(id) => self.0.insert(id),
            // No identity to compare: read it.
            None => true,
        }
    }
}

#[cfg(unix)]
fn identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn identity(_path: &Path) -> Option<(u64, u64)> {
    None
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
    /// The input changed while it was read (it shrank): reading stopped there.
    pub changed: bool,
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
                Err(e) => {
                    self.stats.changed |= e
                        .get_ref()
                        .is_some_and(|i| i.downcast_ref::<ChangedWhileRead>().is_some());
                    return Err(e);
                }
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
        // The line becomes `out` without a copy; `out`'s old buffer is the next line's.
        let line = std::mem::take(&mut self.buf);
        self.buf = match String::from_utf8(line) {
            Ok(s) => std::mem::replace(out, s).into_bytes(),
            Err(e) => {
                self.stats.invalid_utf8 += 1;
                let bytes = e.into_bytes();
                out.clear();
                out.push_str(&String::from_utf8_lossy(&bytes));
                bytes
            }
        };
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

/// How long reading a named pipe waits for a writer before it is reported, not read.
pub const FIFO_WRITER_WAIT: Duration = Duration::from_secs(10);

/// Opens a source: gzip is detected by its magic bytes, binary by NUL bytes in the
/// first 8 KiB. A named pipe is opened without blocking and waits at most
/// [`FIFO_WRITER_WAIT`] for a writer; a regular file is watched while it is read, and a
/// file that shrinks under the reader ends with a [`ChangedWhileRead`] error.
pub fn open(source: &Source) -> Result<Opened, LogsError> {
    let (path, raw): (PathBuf, Box<dyn Read + Send>) = match source {
        Source::Stdin => (PathBuf::from("-"), Box::new(io::stdin())),
        Source::File(p) => (p.clone(), open_file(p)?),
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

/// A file named as an input: a named pipe, or a file watched while it is read.
fn open_file(p: &Path) -> Result<Box<dyn Read + Send>, LogsError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
        let meta = std::fs::metadata(p).map_err(|e| LogsError::io(p, e))?;
        if meta.file_type().is_fifo() {
            // Opening a pipe for reading blocks until a writer opens it; without
            // blocking, a read returns end of input while there is no writer.
            let f = std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(p)
                .map_err(|e| LogsError::io(p, e))?;
            return Ok(Box::new(PipeReader::new(f, FIFO_WRITER_WAIT)));
        }
    }
    let f = File::open(p).map_err(|e| LogsError::io(p, e))?;
    Ok(Box::new(WatchedFile::new(f)))
}

/// The error a file that shrank while it was read ends with: what was read before is
/// kept, and the input is reported `changed` (see [`LineStats::changed`]).
#[derive(Debug, thiserror::Error)]
#[error("changed while read: the file shrank to {now} bytes after {read} bytes were read (truncated or rewritten)")]
pub struct ChangedWhileRead {
    /// Bytes read before the change was seen.
    pub read: u64,
    /// The file's size then.
    pub now: u64,
}

/// A regular file that notices when it shrinks under the reader (truncated by log
/// rotation with copytruncate, or rewritten): its size is checked at every read, and a
/// size below what was read already is an error rather than a silent early end.
struct WatchedFile {
    file: File,
    read: u64,
    /// Whether the size means anything: pseudo-files (`/proc`, `/sys`) say 0 and
    /// still have content.
    sized: bool,
}

impl WatchedFile {
    fn new(file: File) -> Self {
        let sized = file.metadata().is_ok_and(|m| m.is_file() && m.len() > 0);
        Self {
            file,
            read: 0,
            sized,
        }
    }
}

impl Read for WatchedFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read(buf)?;
        self.read += n as u64;
        // One fstat per 64 KiB block: cheap next to the read itself.
        if let (true, Ok(m)) = (self.sized, self.file.metadata()) {
            if m.len() < self.read {
                return Err(io::Error::other(ChangedWhileRead {
                    read: self.read,
                    now: m.len(),
                }));
            }
        }
        Ok(n)
    }
}

/// A named pipe opened without blocking: it waits (in short sleeps) up to `wait` for a
/// writer to show up, then reads until the writers close it. Data waiting in the pipe
/// or a read that would block shows a writer is there.
struct PipeReader {
    file: File,
    wait: Duration,
    opened: Instant,
    writer_seen: bool,
}

impl PipeReader {
    fn new(file: File, wait: Duration) -> Self {
        Self {
            file,
            wait,
            opened: Instant::now(),
            writer_seen: false,
        }
    }
}

/// Pause between polls of a named pipe with nothing to read.
const PIPE_POLL: Duration = Duration::from_millis(10);

impl Read for PipeReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.file.read(buf) {
                Ok(0) if self.writer_seen => return Ok(0),
                Ok(0) if self.opened.elapsed() >= self.wait => {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!(
                            "named pipe: no writer opened it within {} s (not read)",
                            self.wait.as_secs()
                        ),
                    ))
                }
                Ok(0) => std::thread::sleep(PIPE_POLL),
                Ok(n) => {
                    self.writer_seen = true;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.writer_seen = true;
                    std::thread::sleep(PIPE_POLL);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
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

    fn names(e: &Expanded) -> Vec<String> {
        e.sources
            .iter()
            .map(|s| match s {
                Source::File(p) => p
                    .file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
                Source::Stdin => "-".into(),
            })
            .collect()
    }

    #[cfg(unix)]
    #[test]
    fn symlinked_files_in_a_walked_directory_are_read_once_each() {
        use std::os::unix::fs::symlink;
        // /var/log/containers: every entry a link into /var/log/pods.
        let dir = tempfile::tempdir().expect("tempdir");
        let pods = dir.path().join("pods");
        let containers = dir.path().join("containers");
        std::fs::create_dir_all(pods.join("api")).expect("mkdir");
        std::fs::create_dir_all(&containers).expect("mkdir");
        for name in ["0.log", "1.log"] {
            std::fs::write(pods.join("api").join(name), "x\n").expect("write");
            symlink(
                pods.join("api").join(name),
                containers.join(format!("api_{name}")),
            )
            .expect("link");
        }
        let only_links = expand_inputs(std::slice::from_ref(&containers), &Filters::default());
        assert_eq!(names(&only_links), ["api_0.log", "api_1.log"]);
        // Both trees, and one file named again: each real file once.
        let both = expand_inputs(
            &[dir.path().to_path_buf(), pods.join("api").join("0.log")],
            &Filters::default(),
        );
        assert_eq!(both.sources.len(), 2, "{:?}", both.sources);
        assert!(both.failed.is_empty() && both.skipped.is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn symlink_loops_and_broken_links_are_skipped_with_a_reason() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().expect("tempdir");
        let logs = dir.path().join("logs");
        std::fs::create_dir_all(&logs).expect("mkdir");
        std::fs::write(logs.join("app.log"), "x\n").expect("write");
        symlink(&logs, logs.join("again")).expect("loop link");
        symlink(logs.join("gone.log"), logs.join("dead.log")).expect("dangling link");
        let e = expand_inputs(std::slice::from_ref(&logs), &Filters::default());
        assert_eq!(names(&e), ["app.log"]);
        assert!(e.failed.is_empty(), "{:?}", e.failed);
        let why: Vec<&str> = e.skipped.iter().map(|(_, w)| w.as_str()).collect();
        assert_eq!(why.len(), 2, "{why:?}");
        assert!(why.iter().any(|w| w.contains("loops back")), "{why:?}");
        assert!(why.iter().any(|w| w.contains("broken link")), "{why:?}");
    }

    #[test]
    fn a_path_given_twice_is_read_once_and_a_missing_one_fails() {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = dir.path().join("a.log");
        std::fs::write(&f, "x\n").expect("write");
        let missing = dir.path().join("typo.log");
        let e = expand_inputs(&[f.clone(), missing.clone(), f], &Filters::default());
        assert_eq!(names(&e), ["a.log"]);
        assert_eq!(e.failed.len(), 1);
        assert_eq!(e.failed[0].0, missing);
    }

    /// Makes a named pipe with mkfifo(1).
    #[cfg(unix)]
    fn mkfifo(path: &Path) {
        let ok = std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .expect("mkfifo runs");
        assert!(ok.success());
    }

    #[cfg(unix)]
    #[test]
    fn fifos_in_a_walked_directory_are_skipped() {
        let dir = tempfile::tempdir().expect("tempdir");
        mkfifo(&dir.path().join("pipe.log"));
        std::fs::write(dir.path().join("app.log"), "x\n").expect("write");
        let e = expand_inputs(&[dir.path().to_path_buf()], &Filters::default());
        assert_eq!(names(&e), ["app.log"]);
        assert_eq!(e.skipped.len(), 1);
        assert!(e.skipped[0].1.contains("named pipe"), "{:?}", e.skipped);
    }

    #[cfg(unix)]
    #[test]
    fn a_named_fifo_without_a_writer_ends_with_an_error_instead_of_blocking() {
        use std::os::unix::fs::OpenOptionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = dir.path().join("pipe");
        mkfifo(&fifo);
        let f = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&fifo)
            .expect("opens without a writer");
        // No writer ever comes: the read gives up after the wait, whatever the timing.
        let mut r = PipeReader::new(f, Duration::from_millis(50));
        let err = r.read(&mut [0u8; 16]).expect_err("no writer");
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(err.to_string().contains("no writer"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn a_named_fifo_with_a_writer_is_read_to_the_end() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = dir.path().join("pipe");
        mkfifo(&fifo);
        let path = fifo.clone();
        // Opening for writing blocks until the reader has opened the pipe.
        let writer = std::thread::spawn(move || {
            std::fs::write(&path, "one\ntwo\nthree\n").expect("writes");
        });
        let Ok(Opened::Text(stream)) = open(&Source::File(fifo)) else {
            panic!("the pipe opens as text");
        };
        let mut r = LineReader::new(stream, 1024);
        let mut line = String::new();
        let mut got = Vec::new();
        while r.next_line(&mut line).expect("reads") {
            got.push(line.clone());
        }
        writer.join().expect("writer");
        assert_eq!(got, ["one", "two", "three"]);
    }

    #[test]
    fn a_file_truncated_while_read_is_reported_changed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("app.log");
        let line = "2025-11-03 20:36:40 INFO a line of some length to fill the file\n";
        std::fs::write(&path, line.repeat(10_000)).expect("write");
        let Ok(Opened::Text(stream)) = open(&Source::File(path.clone())) else {
            panic!("opens as text");
        };
        let mut r = LineReader::new(stream, 1024);
        let mut s = String::new();
        assert!(r.next_line(&mut s).expect("first line"));
        // Log rotation with copytruncate empties the file under the reader.
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_len(0))
            .expect("truncates");
        let err = loop {
            match r.next_line(&mut s) {
                Ok(true) => {}
                Ok(false) => panic!("a shrunk file must not end as if complete"),
                Err(e) => break e,
            }
        };
        assert!(err.to_string().contains("changed while read"), "{err}");
        assert!(r.stats().changed);
        assert!(r.stats().lines < 10_000);
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
