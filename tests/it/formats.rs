//! Each format on good and malformed lines, through the public parser.

use loglens::logs::formats::{FormatSpec, Parser};
use loglens::logs::level::Level;
use loglens::logs::multiline::component_of;

/// Header flag, level, the component the line names itself, message.
fn parse(spec: &str, line: &str) -> (bool, Level, Option<String>, String) {
    let p = Parser::new(FormatSpec::parse(spec).expect("known format"));
    let r = p.parse_line(line);
    (
        r.header,
        r.level,
        component_of(&r).map(|c| c.0.to_string()),
        r.message.into_owned(),
    )
}

#[test]
fn every_format_reads_its_lines_and_survives_garbage() {
    let cases: &[(&str, &str, Level, Option<&str>, &str)] = &[
        (
            "compose",
            "minio-1  | 2025-11-03 20:36:37,123 - s3 - ERROR - drive full",
            Level::Error,
            Some("minio-1"),
            "drive full",
        ),
        (
            "airflow",
            "[2025-11-03T20:36:40.123+0000] {taskinstance.py:2905} ERROR - Task failed",
            Level::Error,
            None,
            "Task failed",
        ),
        (
            "python",
            "2025-11-03 20:36:37,123 - feature_api - WARNING - slow",
            Level::Warn,
            Some("feature_api"),
            "slow",
        ),
        (
            "python",
            "CRITICAL:root:out of memory",
            Level::Critical,
            None,
            "out of memory",
        ),
        (
            "log4j",
            "25/11/03 20:36:37 WARN NativeCodeLoader: Unable to load",
            Level::Warn,
            None,
            "Unable to load",
        ),
        (
            "redis",
            "1:M 03 Nov 2025 20:36:37.123 # Warning: no config file",
            Level::Warn,
            None,
            "Warning: no config file",
        ),
        (
            "json",
            r#"{"ts":"2025-11-03T20:36:40Z","lvl":"error","msg":"timeout","logger":"db-pool"}"#,
            Level::Error,
            Some("db-pool"),
            "timeout",
        ),
        (
            "logfmt",
            r#"ts=2025-11-03T20:36:40Z level=info msg="started" service=api"#,
            Level::Info,
            Some("api"),
            "started",
        ),
        (
            "syslog",
            "Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user test from 1.2.3.4",
            Level::Info,
            Some("sshd"),
            "Invalid user test from 1.2.3.4",
        ),
        (
            "syslog",
            "<27>1 2025-11-03T20:36:40Z host app 1 - - disk error",
            Level::Error,
            Some("app"),
            "disk error",
        ),
        (
            "access",
            r#"10.0.0.1 - - [03/Nov/2025:20:36:40 +0000] "POST /v1/x HTTP/1.1" 502 12 "-" "curl""#,
            Level::Error,
            None,
            "POST /v1/x HTTP/1.1\" 502",
        ),
        (
            "cri",
            "2025-11-03T20:36:40.1Z stdout F 2025-11-03 20:36:37,123 - w - INFO - ok",
            Level::Info,
            None,
            "ok",
        ),
        (
            "hdfs",
            "081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 terminating",
            Level::Info,
            None,
            "PacketResponder 1 terminating",
        ),
        (
            "<Date> <Time> <Level> <Component>: <Content>",
            "2025-11-03 20:36:37 FATAL db: gone",
            Level::Critical,
            Some("db"),
            "gone",
        ),
        (
            "generic",
            "2025-11-03T20:36:37Z ERROR something broke",
            Level::Error,
            None,
            "something broke",
        ),
    ];
    for (spec, line, level, component, message) in cases {
        let (header, l, c, m) = parse(spec, line);
        assert!(header, "{spec}: {line}");
        assert_eq!(l, *level, "{spec}: {line}");
        assert_eq!(c.as_deref(), *component, "{spec}: {line}");
        assert_eq!(m, *message, "{spec}: {line}");
    }
    let garbage = [
        "",
        "   ",
        "\u{0}\u{1}\u{2}",
        "{",
        "[",
        "<",
        "|",
        "1:M",
        "[2025",
        "{\"a\":",
        "a=b c",
        "\u{fffd}\u{fffd}",
        "<999999999>1 x",
        "x | y | z",
        "2025-13-99 99:99:99 - a - INFO - b",
    ];
    for spec in [
        "compose", "airflow", "python", "log4j", "redis", "json", "logfmt", "syslog", "access",
        "cri", "klog", "logcat", "postgres", "minio", "hdfs", "bgl", "text", "text+1",
    ] {
        let p = Parser::new(FormatSpec::parse(spec).expect("known format"));
        for g in garbage {
            let r = p.parse_line(g);
            // Garbage never panics and never loses its text.
            assert!(
                g.trim().is_empty() || !r.message.is_empty() || r.header,
                "{spec}: {g:?}"
            );
        }
        let long = "x".repeat(100_000);
        let _ = p.parse_line(&long);
    }
}

#[test]
fn explicit_levels_win_and_keywords_respect_word_boundaries() {
    let (_, l, _, _) = parse(
        "python",
        "2025-11-03 20:36:37,123 - app - INFO - 3 errors retried, exception handled",
    );
    assert_eq!(
        l,
        Level::Info,
        "an explicit level is not overridden by keywords"
    );
    let (_, l, _, _) = parse("generic", "batch finished with 0 errors");
    assert_eq!(l, Level::Info);
    let (_, l, _, _) = parse("generic", "error_count=0 warnings_total=0");
    assert_eq!(l, Level::Info);
    let (_, l, _, _) = parse("generic", "java.lang.OutOfMemoryError: Java heap space");
    assert_eq!(l, Level::Error);
}

#[test]
fn detection_per_file() {
    let lines =
        std::fs::read_to_string(super::examples_dir().join("compose.log")).expect("example log");
    assert_eq!(FormatSpec::detect(lines.lines()), FormatSpec::Compose);
    let lines = std::fs::read_to_string(super::examples_dir().join("feature-api.log"))
        .expect("example log");
    assert_eq!(FormatSpec::detect(lines.lines()), FormatSpec::Python);
    let syslog =
        ["Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186"; 3];
    assert_eq!(FormatSpec::detect(syslog), FormatSpec::Syslog);
    let access = [r#"1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 2326"#; 3];
    assert_eq!(FormatSpec::detect(access), FormatSpec::Access);
}

/// Random lines built from pieces that parsers look for (brackets, bars, colons, digits,
/// dates, level words, multi-byte characters) never panic any parser or the miner.
#[test]
fn random_lines_never_panic() {
    use loglens::logs::miner::Miner;
    let pieces = [
        " ",
        "  ",
        "\t",
        "|",
        "[",
        "]",
        "{",
        "}",
        "<",
        ">",
        ":",
        "=",
        "\"",
        "'",
        "/",
        "-",
        ".",
        ",",
        "0",
        "7",
        "42",
        "2025-11-03",
        "20:36:40",
        "T",
        "Z",
        "+0000",
        "Dec",
        "10",
        "ERROR",
        "INFO",
        "WARN",
        " - ",
        "1:M",
        "*",
        "#",
        "blk_",
        "0x1f",
        "é",
        "€",
        "𝄞",
        "ü",
        "\u{fffd}",
        "a",
        "host",
        "sshd[1]:",
        "stdout",
        "F",
        "<34>1",
        "GET",
        "HTTP/1.1\"",
        "200",
        "::",
        "10.0.0.1",
        ":8080",
        "..",
        "...",
        "_",
        "\\",
        "%",
        "ms",
        "KB",
        "user=",
        "(",
        ")",
        "Traceback",
        "  File",
    ];
    let specs = [
        "compose",
        "klog",
        "logcat",
        "postgres",
        "minio",
        "text+2",
        "airflow",
        "python",
        "log4j",
        "redis",
        "json",
        "logfmt",
        "syslog",
        "access",
        "cri",
        "hdfs",
        "hadoop",
        "spark",
        "zookeeper",
        "bgl",
        "hpc",
        "openssh",
        "apache",
        "generic",
    ];
    let parsers: Vec<Parser> = specs
        .iter()
        .map(|s| Parser::new(FormatSpec::parse(s).expect("known format")))
        .collect();
    let mut miner = Miner::default();
    let mut seed = 0x1234_5678_9abc_def0u64;
    for _ in 0..20_000 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let n = 1 + (seed % 24) as usize;
        let mut line = String::new();
        let mut s = seed;
        for _ in 0..n {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            line.push_str(pieces[(s >> 33) as usize % pieces.len()]);
        }
        for p in &parsers {
            let r = p.parse_line(&line);
            miner.add(&r.message);
        }
        let _ = FormatSpec::detect([line.as_str()]);
        let _ = loglens::logs::time::parse_timestamp(&line, 2025);
    }
    assert!(miner.len() > 10);
}

/// `2025-11-03 20:36:40 ERROR 500` and `2025-11-03T20:36:40Z ERROR exit 137` once came
/// out as info records with empty text and timestamps `.500` / `.137`.
#[test]
fn error_records_silently_lost() {
    use loglens::analysis::analyze;
    use loglens::logs::pipeline::PipelineConfig;
    let dir = tempfile::tempdir().expect("temp dir");
    let f = dir.path().join("p.log");
    std::fs::write(
        &f,
        "2025-11-03 20:36:40 ERROR 500\n2025-11-03T20:36:41Z ERROR exit 137\n",
    )
    .expect("write");
    let r = analyze(
        &PipelineConfig {
            inputs: vec![f],
            ..PipelineConfig::default()
        },
        &|_| {},
    )
    .expect("analysis runs");
    assert_eq!(r.accounting.counts.records, 2);
    let errors: Vec<_> = r
        .groups
        .iter()
        .filter(|g| g.level == Level::Error)
        .collect();
    assert_eq!(
        errors.iter().map(|g| g.count).sum::<u64>(),
        2,
        "{:?}",
        r.groups
    );
    let texts: Vec<&str> = errors
        .iter()
        .flat_map(|g| g.samples.iter().map(|s| s.text.as_str()))
        .collect();
    assert!(
        texts.contains(&"500") && texts.contains(&"exit 137"),
        "{texts:?}"
    );
    let first = errors.iter().filter_map(|g| g.first_seen.as_deref()).min();
    assert_eq!(first, Some("2025-11-03T20:36:40.000Z"));
}

/// A non-ASCII character or an invalid byte right before `scheme://` made `analyze`
/// panic in the masker (`mask.rs:194: not a char boundary`).
#[test]
fn mask_rs_194_not_a_char_boundary() {
    use loglens::analysis::analyze;
    use loglens::logs::pipeline::PipelineConfig;
    let dir = tempfile::tempdir().expect("temp dir");
    let f = dir.path().join("p.log");
    let mut bytes = b"INFO fetched \xc2\xabhttps://example.com\xc2\xbb\n".to_vec();
    bytes.extend_from_slice("INFO 下载 →https://mirror.example.cn/a\n".as_bytes());
    bytes.extend_from_slice(b"INFO bad byte \xffhttp://example.org/x\n");
    std::fs::write(&f, bytes).expect("write");
    let r = analyze(
        &PipelineConfig {
            inputs: vec![f],
            min_level: Level::Trace,
            ..PipelineConfig::default()
        },
        &|_| {},
    )
    .expect("analysis runs");
    assert_eq!(r.accounting.counts.records, 3);
    assert!(
        r.groups.iter().all(|g| g.template.contains("<*>")),
        "{:?}",
        r.groups
    );
}

/// Whatever the lines, every one is accounted for: records + continuation + blank.
#[test]
fn random_files_account_for_every_line() {
    use loglens::logs::multiline::LineKind;
    use loglens::logs::reader::FileParser;
    use loglens::logs::time::TimeContext;
    let pieces = [
        "2025-11-03 20:36:40 ",
        "INFO ",
        "ERROR: ",
        "  at x",
        "\t",
        "Traceback (most recent call last):",
        "{\"level\":\"warn\",\"msg\":\"m\"}",
        "app-1  | ",
        "[pod/a/b] ",
        "API: SYSTEM()",
        "Time: 20:36:40 UTC 11/03/2025",
        "DETAIL:  x",
        "2025-11-03 20:36:40.1 UTC [1] ERROR:  y",
        "I1103 20:36:40.000001 1 a.go:1] z",
        "",
        "panic: boom",
        "goroutine 1 [running]:",
        "é",
        "<34>1 - - - - - -",
        "P ",
        "2025-11-03T20:36:40Z stdout P ",
    ];
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..300 {
        let mut lines = Vec::new();
        for _ in 0..(seed % 40) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let mut l = String::new();
            for k in 0..(1 + seed % 4) {
                l.push_str(pieces[((seed >> (8 * k)) % pieces.len() as u64) as usize]);
            }
            lines.push(l);
        }
        let mut fp = FileParser::new(&lines, None, None, TimeContext::year(2025));
        let (mut records, mut cont, mut blank) = (0, 0, 0);
        for l in &lines {
            match fp.push(l) {
                LineKind::Record | LineKind::Unparsed => records += 1,
                LineKind::Continuation | LineKind::Dropped => cont += 1,
                LineKind::Blank => blank += 1,
            }
        }
        fp.finish();
        let out = fp.drain();
        assert_eq!(records + cont + blank, lines.len());
        assert_eq!(out.len(), records, "{lines:?}");
        let covered: u32 = out.iter().map(|r| r.lines).sum();
        assert_eq!(covered as usize, records + cont, "{lines:?}");
        assert!(
            out.windows(2).all(|w| w[0].line < w[1].line),
            "records in line order"
        );
    }
}

/// report.md and report.html say per file which format was read, what its records
/// lacked, and show the first lines no format explained, as text.
#[test]
fn reports_show_how_each_file_was_read() {
    use loglens::analysis::analyze;
    use loglens::logs::pipeline::PipelineConfig;
    use loglens::report::{write_reports, OutputFormat, Report};
    let dir = tempfile::tempdir().expect("temp dir");
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).expect("mkdir");
    std::fs::write(
        logs.join("checkout.log"),
        // The first line has no record before it to continue.
        "just a line <script>alert(1)</script> with `ticks`\n\
         2025-11-03 20:36:40,123 ERROR [main] c.e.Checkout - failed\n\tat c.e.Checkout.run(Checkout.java:1)\n\
         2025-11-03 20:36:41,000 INFO [main] c.e.Checkout - ok\n",
    )
    .expect("write");
    std::fs::write(
        logs.join("api.json"),
        "{\"time\":\"2025-11-03T20:36:40Z\",\"level\":\"warn\",\"msg\":\"slow\",\"service\":\"api\"}\n",
    )
    .expect("write");
    let r = analyze(
        &PipelineConfig {
            inputs: vec![logs],
            ..PipelineConfig::default()
        },
        &|_| {},
    )
    .expect("analysis runs");
    let json = r
        .files
        .iter()
        .find(|f| f.path.ends_with("api.json"))
        .expect("json file");
    assert_eq!(
        (json.format.as_str(), json.reading.records_without_component),
        ("json", 0)
    );
    let text = r
        .files
        .iter()
        .find(|f| f.path.ends_with("checkout.log"))
        .expect("text file");
    assert_eq!(text.reading.records_without_component, text.counts.records);
    assert_eq!(
        text.reading.unparsed_samples.len(),
        1,
        "{:?}",
        text.reading.unparsed_samples
    );
    let out = dir.path().join("out");
    write_reports(
        &Report::assemble(r, None),
        &out,
        &[OutputFormat::Markdown, OutputFormat::Html],
    )
    .expect("reports");
    let md = std::fs::read_to_string(out.join("report.md")).expect("md");
    assert!(md.contains("## How each file was read"), "{md}");
    assert!(md.contains("| json (100%) | 1 |"), "{md}");
    // The unparsed line is shown as code, never as live HTML.
    assert!(
        md.contains("`` just a line <script>alert(1)</script> with `ticks` ``"),
        "{md}"
    );
    let html = std::fs::read_to_string(out.join("report.html")).expect("html");
    assert!(html.contains("How each file was read"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!html.contains("<script>"));
}
