//! Input accounting through the whole pipeline: every line is counted somewhere.

use std::io::Write;

use loglens::logs::level::Level;
use loglens::logs::pipeline::{analyze, PipelineConfig};
use loglens::report::FileStatus;

fn run(
    inputs: Vec<std::path::PathBuf>,
    tweak: impl FnOnce(&mut PipelineConfig),
) -> loglens::report::Report {
    let mut config = PipelineConfig {
        inputs,
        min_level: Level::Trace,
        ..PipelineConfig::default()
    };
    tweak(&mut config);
    analyze(&config, &|_| {}).expect("analysis runs")
}

#[test]
fn malformed_input_is_counted_not_lost() {
    let dir = tempfile::tempdir().expect("temp dir");
    let p = dir.path();
    // Invalid UTF-8, a huge line, CRLF, blank lines, a traceback.
    let mut bad = Vec::new();
    bad.extend_from_slice(b"2025-11-03 20:36:37,123 - app - INFO - start\r\n");
    bad.extend_from_slice(b"2025-11-03 20:36:38,123 - app - ERROR - bad bytes \xff\xfe here\n");
    bad.extend_from_slice(b"\n");
    bad.extend_from_slice(b"2025-11-03 20:36:39,123 - app - WARNING - ");
    bad.extend_from_slice(&vec![b'x'; 200_000]);
    bad.extend_from_slice(b"\n2025-11-03 20:36:40,123 - app - ERROR - crash\nTraceback (most recent call last):\n  File \"a.py\", line 1\nKeyError: 'k'\n");
    std::fs::write(p.join("app.log"), &bad).expect("write");
    // A binary file and a gzip file.
    std::fs::write(p.join("core.bin"), [0u8, 1, 2, 3, 0, 0, 255]).expect("write");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(
        b"Dec 10 06:55:46 host sshd[1]: Failed password for root from 1.2.3.4 port 22 ssh2\n",
    )
    .expect("gzip");
    std::fs::write(p.join("auth.log.gz"), gz.finish().expect("gzip")).expect("write");
    let missing = p.join("missing.log");

    let r = run(vec![p.to_path_buf(), missing], |c| c.year = Some(2025));
    let a = &r.accounting;
    assert!(a.balanced(), "{a:?}");
    assert_eq!(a.files_read, 2);
    assert_eq!(a.files_binary, 1);
    assert_eq!(a.files_failed, 1);
    assert_eq!(a.lines, 9);
    assert_eq!(a.blank_lines, 1);
    assert_eq!(a.continuation_lines, 3);
    assert_eq!(a.records, 5);
    assert_eq!(a.invalid_utf8_lines, 1);
    assert_eq!(a.truncated_lines, 1);
    let missing = r
        .files
        .iter()
        .find(|f| f.path.ends_with("missing.log"))
        .expect("missing file reported");
    assert_eq!(missing.status, FileStatus::Error);
    let gz = r
        .files
        .iter()
        .find(|f| f.path.ends_with("auth.log.gz"))
        .expect("gz read");
    assert_eq!((gz.format.as_str(), gz.records), ("syslog", 1));
    // The traceback stayed with its record.
    let crash = r
        .groups
        .iter()
        .find(|g| g.template == "crash")
        .expect("crash group");
    assert!(
        crash.samples[0].text.contains("KeyError"),
        "{:?}",
        crash.samples
    );
    assert!(crash.samples[0].file.ends_with("app.log"));
    assert_eq!(crash.samples[0].line, 5);
}

#[test]
fn globs_filter_directory_walks() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(dir.path().join("sub")).expect("mkdir");
    std::fs::write(dir.path().join("a.log"), "ERROR one\n").expect("write");
    std::fs::write(dir.path().join("sub/b.log"), "ERROR two\n").expect("write");
    std::fs::write(dir.path().join("sub/c.txt"), "ERROR three\n").expect("write");
    let r = run(vec![dir.path().to_path_buf()], |c| {
        c.include = vec!["*.log".into()];
        c.exclude = vec!["a.*".into()];
    });
    assert_eq!(r.files.len(), 1);
    assert!(r.files[0].path.ends_with("b.log"));
}

#[test]
fn yearless_timestamps_take_the_given_year() {
    let dir = tempfile::tempdir().expect("temp dir");
    let f = dir.path().join("auth.log");
    std::fs::write(
        &f,
        "Dec 10 06:55:46 host sshd[1]: error: maximum authentication attempts exceeded\n",
    )
    .expect("write");
    let r = run(vec![f], |c| c.year = Some(2019));
    assert_eq!(
        r.groups[0].first_seen.as_deref(),
        Some("2019-12-10T06:55:46.000Z")
    );
}
