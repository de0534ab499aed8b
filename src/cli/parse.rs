//! `loglens parse` (records as text or JSON lines, for scripts and for scoring parsers)
//! and `loglens formats detect` (the format chosen per file, with its hit rate).

use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use globset::{Glob, GlobMatcher};
use serde::Serialize;

use super::EXIT_OK;
use crate::logs::formats::{detect, FormatSpec, DETECT_LINES};
use crate::logs::ingest::{self, Filters, LineReader, Opened, Source};
use crate::logs::miner::Miner;
use crate::logs::reader::{read_source, ReadOptions, SourceRead};
use crate::logs::record::Record;

/// `loglens parse`.
#[derive(Debug, Args)]
pub struct ParseArgs {
    /// Files, directories (walked recursively) or `-` for standard input.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// One JSON object per record (file, line, lines, timestamp, level, component,
    /// logger, trace id, template id, template, message, ...) instead of text.
    #[arg(long)]
    pub jsonl: bool,
    /// Format override, `GLOB=FORMAT`; repeatable, first match wins.
    #[arg(long = "log-format-for", value_name = "GLOB=FORMAT")]
    pub format_for: Vec<String>,
    /// Year for timestamps that print none; default: each file's modification year.
    #[arg(long)]
    pub year: Option<i32>,
    /// Lines longer than this many bytes are cut and counted.
    #[arg(long, default_value_t = crate::logs::ingest::DEFAULT_MAX_LINE)]
    pub max_line_bytes: usize,
}

/// `loglens formats ...`.
#[derive(Debug, Subcommand)]
pub enum FormatsCommand {
    /// Prints the format detected for each file, with the share of its first lines
    /// the format reads, so a wrong choice can be seen and overridden with
    /// `--log-format-for`.
    Detect {
        /// Files, directories or `-`.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// One JSON object per file.
        #[arg(long)]
        json: bool,
    },
}

/// Parses `GLOB=FORMAT` overrides.
pub(super) fn format_overrides(specs: &[String]) -> anyhow::Result<Vec<(GlobMatcher, FormatSpec)>> {
    let mut out = Vec::new();
    for o in specs {
        let Some((glob, spec)) = o.split_once('=') else {
            bail!("--log-format-for expects GLOB=FORMAT, got {o:?}");
        };
        let glob = Glob::new(glob)
            .with_context(|| format!("invalid glob {glob:?}"))?
            .compile_matcher();
        out.push((glob, FormatSpec::parse(spec)?));
    }
    Ok(out)
}

fn sources(paths: &[PathBuf]) -> anyhow::Result<Vec<Source>> {
    let (sources, missing) = ingest::expand(paths, &Filters::default());
    for (p, reason) in &missing {
        eprintln!("loglens: {}: {reason}", p.display());
    }
    if sources.is_empty() {
        bail!("no readable input");
    }
    Ok(sources)
}

/// One record as `loglens parse --jsonl` prints it.
#[derive(Serialize)]
struct RecordLine<'a> {
    file: &'a str,
    template_id: String,
    template: String,
    #[serde(flatten)]
    record: &'a Record,
}

pub(super) fn run(args: ParseArgs) -> anyhow::Result<i32> {
    let overrides = format_overrides(&args.format_for)?;
    if args.max_line_bytes < 64 {
        bail!("--max-line-bytes must be at least 64");
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for source in sources(&args.paths)? {
        let name = source.display();
        let format = match &source {
            Source::File(p) => overrides
                .iter()
                .find(|(g, _)| g.is_match(p))
                .map(|(_, f)| f.clone()),
            Source::Stdin => None,
        };
        let opts = ReadOptions {
            format,
            year: args.year,
            max_line_bytes: args.max_line_bytes,
        };
        // Templates are final only once the whole file is mined: a file is read twice
        // (standard input once, with the templates known at each record).
        let mut miner = Miner::default();
        if let Source::File(_) = source {
            read_source(
                &source,
                &opts,
                &mut |r| {
                    miner.add(&r.message);
                },
                &|_| {},
            )
            .with_context(|| format!("reading {name}"))?;
        }
        let mut failed = None;
        let read = read_source(
            &source,
            &opts,
            &mut |r| {
                if failed.is_some() {
                    return;
                }
                let added = miner.add(&r.message);
                let id = miner.canonical(added);
                let cluster = miner.cluster(id);
                let written = if args.jsonl {
                    let line = RecordLine {
                        file: &name,
                        template_id: cluster.template_id(),
                        template: cluster.template(),
                        record: &r,
                    };
                    serde_json::to_writer(&mut out, &line)
                        .map_err(std::io::Error::from)
                        .and_then(|()| out.write_all(b"\n"))
                } else {
                    writeln!(out, "{}", text_line(&name, &r, &cluster.template()))
                };
                if let Err(e) = written {
                    failed = Some(e);
                }
            },
            &|_| {},
        )
        .with_context(|| format!("reading {name}"))?;
        if let Some(e) = failed {
            // A closed pipe (`| head`) ends the output quietly.
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return Ok(EXIT_OK);
            }
            return Err(e).context("writing records");
        }
        match read {
            SourceRead::Binary => eprintln!("loglens: {name}: binary file skipped"),
            SourceRead::Text(s) => {
                if let Some(e) = s.error {
                    eprintln!(
                        "loglens: {name}: read error after {} lines: {e}",
                        s.lines.lines
                    );
                }
            }
        }
    }
    out.flush().or_else(|e| {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            Ok(())
        } else {
            Err(e)
        }
    })?;
    Ok(EXIT_OK)
}

fn text_line(file: &str, r: &Record, template: &str) -> String {
    let ts = match (&r.timestamp, r.timestamp_inferred) {
        (Some(t), false) => crate::logs::time::rfc3339(t),
        (Some(t), true) => format!("~{}", crate::logs::time::rfc3339(t)),
        (None, _) => "-".into(),
    };
    let lines = if r.lines > 1 {
        format!(" (+{} lines)", r.lines - 1)
    } else {
        String::new()
    };
    format!(
        "{file}:{} {ts} {:<8} {} {}{lines}",
        r.line,
        r.level.as_str(),
        r.component,
        template
    )
}

/// What `formats detect` says about one file.
#[derive(Serialize)]
struct Detected {
    path: String,
    format: String,
    lines: usize,
    hits: usize,
    hit_rate: f64,
    multi_line: bool,
    runner_up: Option<String>,
}

pub(super) fn formats(cmd: FormatsCommand) -> anyhow::Result<i32> {
    let FormatsCommand::Detect { paths, json } = cmd;
    for source in sources(&paths)? {
        let name = source.display();
        let stream = match ingest::open(&source) {
            Ok(Opened::Text(s)) => s,
            Ok(Opened::Binary) => {
                eprintln!("loglens: {name}: binary file skipped");
                continue;
            }
            Err(e) => {
                eprintln!("loglens: {name}: {e}");
                continue;
            }
        };
        let mut reader = LineReader::new(stream, ingest::DEFAULT_MAX_LINE);
        let mut head = Vec::new();
        let mut line = String::new();
        while head.len() < DETECT_LINES && reader.next_line(&mut line).unwrap_or(false) {
            head.push(line.clone());
        }
        let d = detect(head.iter().map(String::as_str));
        let row = Detected {
            path: name,
            format: d.spec.name(),
            lines: d.lines,
            hits: d.hits,
            hit_rate: d.hit_rate(),
            multi_line: d.headers,
            runner_up: d.runner_up.map(|(n, h)| format!("{n} ({h}/{})", d.lines)),
        };
        if json {
            println!("{}", serde_json::to_string(&row)?);
        } else {
            println!(
                "{}\t{}\t{}/{} lines ({:.0}%){}",
                row.path,
                row.format,
                row.hits,
                row.lines,
                row.hit_rate * 100.0,
                row.runner_up
                    .map(|r| format!("\trunner-up {r}"))
                    .unwrap_or_default()
            );
        }
    }
    Ok(EXIT_OK)
}
