//! Text logs of any layout: the format for logs loglens has no parser for.
//!
//! Most text loggers print a header of a few fields, then the message: a timestamp, a
//! level word, a pid, bracketed thread, logger or MDC groups, a logger name followed by
//! a separator (`: `, ` - `, ` : `, a tab, a column gap). This parser walks that header
//! field by field, deciding what each field is by its shape, and stops at the first
//! word that is not a header field; the rest is the message. It reads, among others:
//!
//! - Spring Boot (`2025-11-03T20:36:40.123Z  INFO 1 --- [app] [main] o.s.b.App : msg`),
//!   logback/log4j2 patterns with thread and MDC groups, Python's default format,
//!   Zookeeper, Kafka (`[ts] INFO [ctx] msg (kafka.Logger)`), Elasticsearch
//!   (`[ts][WARN ][o.e.Logger] [node] msg`), Envoy, MySQL, gunicorn, nginx and Apache
//!   error logs, Windows CBS columns, zap's console encoder, Ruby's Logger;
//! - lines that start with a level and carry no timestamp (`INFO:     msg`,
//!   `[ERROR] plugin/errors: msg`, `error: msg {"service":"x"}`).
//!
//! A line is a header only when its timestamp parses or it leads with a level field.
//! Words after the header are never read as header fields, so `... ERROR 500` keeps
//! `500` as its message.

use std::borrow::Cow;

use super::fields::{self, looks_like_logger, strip_line_number};
use super::Parsed;
use crate::logs::level::Level;
use crate::logs::time::{scan, TimeContext};

mod groups;
use groups::{group, matching, resolve_plain, undo_group, Group};

/// Most header fields walked before the message must start.
const MAX_FIELDS: usize = 12;

/// Parses `line`; `prefix_words` words (a file name, a label) may stand before the
/// timestamp, as learnt from the head of the file. None when the line has no header.
pub(super) fn parse(line: &str, prefix_words: u8) -> Option<Parsed<'_>> {
    let b = line.as_bytes();
    if b.first().is_none_or(u8::is_ascii_whitespace) {
        return None;
    }
    let mut p = Parsed::default();
    let mut pos = 0;
    // Ruby's Logger repeats the severity as one letter first: `E, [ts #pid] ERROR -- :`.
    if b.len() > 4 && b"DIWEFAU".contains(&b[0]) && b[1] == b',' && b[2] == b' ' && b[3] == b'[' {
        pos = 3;
    }
    let mut level_first = false;
    if pos == 0 && prefix_words == 0 {
        if let Some((level, end)) = leading_level(line) {
            set_level(&mut p, level);
            pos = skip_spaces(b, end);
            level_first = true;
        }
    }
    for _ in 0..prefix_words {
        let end = word_end(b, pos);
        if end == pos || word_level(&line[pos..end], true).is_some() {
            return None;
        }
        p.fields
            .push((Cow::Borrowed("prefix"), Cow::Borrowed(&line[pos..end])));
        pos = skip_spaces(b, end);
    }
    let mut have_ts = false;
    // After prefix words a bare time of day is too weak a sign: a date is required.
    if let Some(end) = timestamp_at(line, pos, &mut p, prefix_words == 0) {
        have_ts = true;
        pos = end;
    }
    if !have_ts && !level_first {
        return None;
    }
    let pos = walk_fields(line, pos, &mut p, have_ts || level_first);
    finish(line, pos, p)
}

/// Sets an explicit level.
fn set_level(p: &mut Parsed<'_>, level: Level) {
    p.level = level;
    p.explicit_level = true;
}

/// The message and what can still be read from it: a trailing `(logger)`, trailing
/// JSON fields, an HTTP status when no level field was found.
fn finish<'a>(line: &'a str, pos: usize, mut p: Parsed<'a>) -> Option<Parsed<'a>> {
    let mut message = line[pos.min(line.len())..].trim_start();
    if p.logger.is_none() {
        if let Some((rest, logger)) = trailing_logger(message) {
            p.logger = Some(Cow::Borrowed(logger));
            message = rest;
        }
    }
    if message.ends_with('}') {
        message = fields::trailing_json(&mut p, message);
    }
    if !p.explicit_level {
        if let Some(level) = super::access::status_level(message) {
            set_level(&mut p, level);
        }
    }
    p.message = Cow::Borrowed(message);
    p.header = true;
    if !p.explicit_level {
        p.level = crate::logs::level::infer_level(message);
    }
    Some(p)
}

/// Walks the header fields after the timestamp; returns where the message starts.
fn walk_fields<'a>(line: &'a str, mut pos: usize, p: &mut Parsed<'a>, anchored: bool) -> usize {
    let b = line.as_bytes();
    let mut after_dashes = false;
    let mut plain: Vec<&'a str> = Vec::new();
    let mut logger_done = false;
    for _ in 0..MAX_FIELDS {
        let (next, dashes) = skip_separators(b, pos);
        after_dashes |= dashes;
        pos = next;
        if pos >= b.len() {
            break;
        }
        if matches!(b[pos], b'[' | b'{') {
            let Some(close) = matching(b, pos) else { break };
            if !matches!(
                b.get(close + 1),
                None | Some(b' ' | b'\t' | b'[' | b':' | b'{')
            ) {
                break;
            }
            let kind = group(p, &line[pos + 1..close], b[pos], &mut plain);
            if logger_done && !matches!(kind, Group::Ids | Group::Fields | Group::Empty) {
                // After the logger only MDC groups belong to the header.
                undo_group(p, kind, &mut plain);
                break;
            }
            pos = close + 1;
            if b.get(pos) == Some(&b':') {
                pos += 1;
            }
            continue;
        }
        // A timestamp after the level or thread (Cassandra: `INFO  [main] 2025-… msg`).
        if p.timestamp.is_none() && !logger_done && b[pos].is_ascii_digit() {
            if let Some(after) = timestamp_at(line, pos, p, false) {
                pos = after;
                continue;
            }
        }
        let end = word_end(b, pos);
        let tok = &line[pos..end];
        if !p.explicit_level {
            if let Some(level) = word_level(tok, anchored) {
                set_level(p, level);
                pos = end;
                continue;
            }
        }
        if logger_done {
            break;
        }
        if let Some(after) = pid_field(line, pos, end, p) {
            pos = after;
            continue;
        }
        if p.logger.is_some() {
            // A logger read from a group already: `word:` after it is message text.
            break;
        }
        if let Some((logger, after)) = logger_at(line, pos, end) {
            p.logger = Some(Cow::Borrowed(strip_line_number(logger)));
            logger_done = true;
            pos = after;
            // A colon ends the header; `name - LEVEL - msg` (Python) goes on for the level.
            if line[..after].trim_end().ends_with(':') {
                break;
            }
            continue;
        }
        break;
    }
    resolve_plain(p, &plain, after_dashes);
    pos
}

/// A pid or thread number in the header (`148 INFO`, `12345 ---`, `0 [Warning]`), or
/// nginx's `1234#1234:`. A number is a header field only when another header field
/// follows it, so `ERROR 500` keeps its `500`.
fn pid_field<'a>(line: &'a str, pos: usize, end: usize, p: &mut Parsed<'a>) -> Option<usize> {
    let tok = &line[pos..end];
    let b = line.as_bytes();
    if let Some((pid, tid)) = tok.strip_suffix(':').and_then(|t| t.split_once('#')) {
        if !pid.is_empty() && pid.bytes().chain(tid.bytes()).all(|c| c.is_ascii_digit()) {
            p.fields.push((Cow::Borrowed("pid"), Cow::Borrowed(pid)));
            p.fields.push((Cow::Borrowed("tid"), Cow::Borrowed(tid)));
            return Some(end);
        }
    }
    let digits = tok.strip_prefix('#').unwrap_or(tok);
    if digits.is_empty() || digits.len() > 10 || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let next = skip_spaces(b, end);
    let following = &line[next..word_end(b, next)];
    let header_follows = following.starts_with("---")
        || following.starts_with('[')
        || (!p.explicit_level && word_level(following, true).is_some())
        || (!following.is_empty() && following.bytes().all(|c| c.is_ascii_digit()) && {
            let n2 = skip_spaces(b, next + following.len());
            matches!(b.get(n2), Some(b'['))
                || word_level(&line[n2..word_end(b, n2)], true).is_some()
        });
    if !header_follows || next == end {
        return None;
    }
    let key = if p.fields.iter().any(|(k, _)| k == "pid") {
        "tid"
    } else {
        "pid"
    };
    p.fields.push((Cow::Borrowed(key), Cow::Borrowed(digits)));
    Some(end)
}

/// A logger name followed by a separator: `name: `, `name : `, `name - `, `name\t`, or
/// `NAME` then a column gap of two or more spaces. Returns the name and where the
/// message starts.
fn logger_at(line: &str, pos: usize, end: usize) -> Option<(&str, usize)> {
    let b = line.as_bytes();
    let tok = &line[pos..end];
    if let Some(name) = tok.strip_suffix(':') {
        if name.ends_with(':') || name.is_empty() {
            return None;
        }
        return (looks_like_logger(name) && word_level(name, true).is_none())
            .then_some((name, end));
    }
    if word_level(tok, true).is_some() {
        return None;
    }
    let gap = skip_spaces(b, end) - end;
    let after = skip_spaces(b, end);
    let sep = b.get(after).copied();
    let next = b.get(after + 1).copied();
    let ends_sep = |n: Option<u8>| n.is_none_or(|c| c == b' ' || c == b'\t');
    let is_logger = looks_like_logger(tok);
    // Tab-separated headers (zap's console encoder) separate the logger with a tab too.
    if b.get(end) == Some(&b'\t') && is_logger && line[..pos].contains('\t') {
        return Some((tok, end + 1));
    }
    if gap >= 1 && sep == Some(b':') && ends_sep(next) && is_logger {
        return Some((tok, after + 1));
    }
    if gap >= 1 && sep == Some(b'-') && ends_sep(next) && is_logger {
        return Some((tok, after + 1));
    }
    let caps = tok.len() >= 2
        && tok
            .bytes()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    if gap >= 2 && sep.is_some_and(|c| c.is_ascii_alphanumeric()) && (is_logger || caps) {
        return Some((tok, after));
    }
    // A dotted logger, then a bracketed context (`nova.api.wsgi [req-… - -] msg`, the
    // oslo.log and `%c [%X{…}] %m` layouts).
    if gap == 1 && sep == Some(b'[') && is_logger && tok.contains('.') {
        return Some((tok, after));
    }
    None
}

/// A level word in the header, as loggers print them: upper case (`INFO`, `WARN:`,
/// `LOG`), capitalised or lower case for the common words (`Info`, `error`), logrus's
/// `INFO[0000]`. Lower-case and capitalised words need `anchored` (a timestamp before).
fn word_level(tok: &str, anchored: bool) -> Option<Level> {
    let core = tok.strip_suffix(':').unwrap_or(tok);
    let core = match core.find('[') {
        // logrus without colours: `INFO[0000]`.
        Some(i)
            if core.ends_with(']')
                && core[i + 1..core.len() - 1]
                    .bytes()
                    .all(|c| c.is_ascii_digit()) =>
        {
            &core[..i]
        }
        Some(_) => return None,
        None => core,
    };
    if core.len() < 3 || core.len() > 11 || !core.bytes().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let upper = core.bytes().all(|c| c.is_ascii_uppercase());
    if upper {
        return Level::parse(core);
    }
    if !anchored {
        return None;
    }
    let lower: String = core.to_ascii_lowercase();
    let common = matches!(
        lower.as_str(),
        "trace"
            | "debug"
            | "info"
            | "notice"
            | "warn"
            | "warning"
            | "error"
            | "err"
            | "fatal"
            | "critical"
            | "crit"
            | "severe"
            | "verbose"
            | "dbug"
            | "trce"
            | "fail"
            | "emerg"
    );
    let capitalised = core.as_bytes()[0].is_ascii_uppercase()
        && core[1..].bytes().all(|c| c.is_ascii_lowercase());
    let all_lower = core.bytes().all(|c| c.is_ascii_lowercase());
    if common && (capitalised || all_lower) {
        return Level::parse(core);
    }
    None
}

/// A level at the very start of a line: `[ERROR]`, `INFO:`, `WARNING `, `error: `,
/// `INFO[0000]`. Returns the level and where it ends.
fn leading_level(line: &str) -> Option<(Level, usize)> {
    let b = line.as_bytes();
    if b[0] == b'[' || b[0] == b'<' {
        let close = b
            .iter()
            .position(|&c| c == if b[0] == b'[' { b']' } else { b'>' })?;
        let word = &line[1..close];
        let level = Level::parse(word).filter(|_| word.trim().len() >= 3)?;
        let mut end = close + 1;
        if b.get(end) == Some(&b':') {
            end += 1;
        }
        return b
            .get(end)
            .is_none_or(u8::is_ascii_whitespace)
            .then_some((level, end));
    }
    let end = word_end(b, 0);
    let tok = &line[..end];
    let level = word_level(tok, true)?;
    let upper = tok
        .bytes()
        .filter(|c| c.is_ascii_alphabetic())
        .all(|c| c.is_ascii_uppercase());
    // Lower-case words lead a header only with a colon (`info: msg`), capitalised ones
    // never (`Error: boom` is a JavaScript error, not a level).
    if upper || (tok.ends_with(':') && tok.bytes().next().is_some_and(|c| c.is_ascii_lowercase())) {
        return Some((level, end));
    }
    None
}

/// A timestamp at `pos`, bare or in brackets (`[2025-11-03 20:36:40,123]`,
/// `[2025-11-03T20:36:40.123456 #1234]`). Returns where the header goes on.
fn timestamp_at<'a>(
    line: &'a str,
    pos: usize,
    p: &mut Parsed<'a>,
    time_only: bool,
) -> Option<usize> {
    let b = line.as_bytes();
    let ctx = if time_only {
        TimeContext::probe()
    } else {
        TimeContext::year(2000)
    };
    let open = b.get(pos).copied();
    if matches!(open, Some(b'[' | b'(')) {
        let close_char = if open == Some(b'[') { b']' } else { b')' };
        let start = pos + 1;
        let (len, t, from_context) = scan(&line[start..], &ctx)?;
        let close = start + b[start..].iter().position(|&c| c == close_char)?;
        if close < start + len {
            return None;
        }
        p.timestamp = Some(Cow::Borrowed(&line[start..start + len]));
        p.time = (!from_context).then_some(t);
        let rest = line[start + len..close].trim().trim_start_matches('#');
        if !rest.is_empty() {
            p.fields.push((Cow::Borrowed("pid"), Cow::Borrowed(rest)));
        }
        let mut end = close + 1;
        if b.get(end) == Some(&b':') {
            end += 1;
        }
        return Some(end);
    }
    let (len, t, from_context) = scan(&line[pos..], &ctx)?;
    p.timestamp = Some(Cow::Borrowed(&line[pos..pos + len]));
    p.time = (!from_context).then_some(t);
    let mut end = pos + len;
    if b.get(end) == Some(&b',') || b.get(end) == Some(&b'|') {
        end += 1;
    }
    Some(end)
}

/// `message (kafka.server.KafkaServer)`: a dotted logger in parentheses at the end.
fn trailing_logger(message: &str) -> Option<(&str, &str)> {
    let m = message.trim_end();
    let inner = m.strip_suffix(')')?;
    let open = inner.rfind(" (")?;
    let name = &inner[open + 2..];
    (name.contains('.') && !name.contains(' ') && looks_like_logger(name))
        .then(|| (m[..open].trim_end(), name))
}

/// Skips spaces, tabs and separator words (`-`, `--`, `---`, `|`, `:`, `,`); says
/// whether Spring's `---` was among them.
fn skip_separators(b: &[u8], mut pos: usize) -> (usize, bool) {
    let mut dashes = false;
    loop {
        let start = pos;
        pos = skip_spaces(b, pos);
        let end = word_end(b, pos);
        let w = &b[pos..end];
        let sep = !w.is_empty()
            && w.len() <= 3
            && w.iter().all(|c| matches!(c, b'-' | b'|' | b':' | b','));
        if sep {
            dashes |= w == b"---";
            pos = end;
        } else if pos == start {
            return (pos, dashes);
        }
    }
}

fn skip_spaces(b: &[u8], mut pos: usize) -> usize {
    while pos < b.len() && (b[pos] == b' ' || b[pos] == b'\t') {
        pos += 1;
    }
    pos
}

fn word_end(b: &[u8], mut pos: usize) -> usize {
    while pos < b.len() && !b[pos].is_ascii_whitespace() {
        pos += 1;
    }
    pos
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(line: &str) -> Parsed<'_> {
        parse(line, 0).unwrap_or_else(|| panic!("header expected: {line}"))
    }

    #[test]
    fn status_words_after_the_level_stay_in_the_message() {
        let p = t("2025-11-03 20:36:40 ERROR 500");
        assert_eq!((p.level, p.message.as_ref()), (Level::Error, "500"));
        assert_eq!(p.timestamp.as_deref(), Some("2025-11-03 20:36:40"));
        let p = t("2025-11-03T20:36:40Z ERROR exit 137");
        assert_eq!((p.level, p.message.as_ref()), (Level::Error, "exit 137"));
    }

    #[test]
    fn spring_boot_and_logback() {
        let p = t("2025-11-03T20:36:40.123Z  INFO 1 --- [orders] [nio-8080-exec-1] [4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7] c.e.o.OrderController   : Order 42 placed");
        assert_eq!(p.service.as_deref(), Some("orders"));
        assert_eq!(p.thread.as_deref(), Some("nio-8080-exec-1"));
        assert_eq!(p.logger.as_deref(), Some("c.e.o.OrderController"));
        assert!(p.trace_id.is_some() && p.span_id.is_some());
        assert_eq!(p.message, "Order 42 placed");
        let p = t("2025-11-03 20:36:40.123  WARN 12345 --- [           main] o.s.b.StartupInfoLogger  : slow start");
        assert_eq!(p.thread.as_deref(), Some("main"));
        assert_eq!(p.service, None);
        assert_eq!(p.level, Level::Warn);
        let p = t("2025-11-03 20:36:40.123 [http-nio-8080-exec-1] ERROR c.e.PaymentService - [4bf92f3577b34da6a3ce929d0e0e4736,00f067aa0ba902b7] charge declined");
        assert_eq!(p.level, Level::Error);
        assert_eq!(p.logger.as_deref(), Some("c.e.PaymentService"));
        assert!(p.trace_id.is_some());
        assert_eq!(p.message, "charge declined");
    }

    #[test]
    fn bracketed_layouts() {
        let p = t("[2025-11-03 20:36:40,123] ERROR [ReplicaFetcher replicaId=1, leaderId=2] Error for partition orders-0 (kafka.server.ReplicaFetcherThread)");
        assert_eq!(
            p.logger.as_deref(),
            Some("kafka.server.ReplicaFetcherThread")
        );
        assert_eq!(p.message, "Error for partition orders-0");
        let p = t("[2025-11-03T20:36:40,123][WARN ][o.e.c.r.a.DiskThresholdMonitor] [node-1] high disk watermark [90%] exceeded");
        assert_eq!(p.level, Level::Warn);
        assert_eq!(p.logger.as_deref(), Some("o.e.c.r.a.DiskThresholdMonitor"));
        assert_eq!(p.message, "high disk watermark [90%] exceeded");
        let p = t("2025-11-03 20:36:40,123 [myid:1] - INFO  [main:QuorumPeerMain@123] - Starting quorum peer");
        assert_eq!(p.logger.as_deref(), Some("QuorumPeerMain"));
        assert_eq!(p.message, "Starting quorum peer");
        let p = t("[Mon Nov 03 20:36:40.123456 2025] [proxy:error] [pid 1234:tid 140] (111)Connection refused: AH00957");
        assert_eq!(p.level, Level::Error);
        assert_eq!(p.message, "(111)Connection refused: AH00957");
        let p = t("2025/11/03 20:36:40 [error] 1234#1234: *5 connect() failed");
        assert_eq!(
            (p.level, p.message.as_ref()),
            (Level::Error, "*5 connect() failed")
        );
        let p = t("[2025-11-03 20:36:40 +0000] [7] [INFO] Booting worker with pid: 7");
        assert_eq!(p.message, "Booting worker with pid: 7");
    }

    #[test]
    fn python_log4j_and_columns() {
        let p = t("2025-11-03 20:36:37,123 - feature_api - WARNING - slow");
        assert_eq!(
            (p.level, p.logger.as_deref()),
            (Level::Warn, Some("feature_api"))
        );
        assert_eq!(p.message, "slow");
        let p = t(
            "081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 terminating",
        );
        assert_eq!(p.logger.as_deref(), Some("dfs.DataNode$PacketResponder"));
        assert_eq!(p.message, "PacketResponder 1 terminating");
        let p = t("2016-09-28 04:30:30, Info                  CBS    Loaded Servicing Stack v6.1");
        assert_eq!((p.level, p.logger.as_deref()), (Level::Info, Some("CBS")));
        assert_eq!(p.message, "Loaded Servicing Stack v6.1");
        let p = t("2025-11-03T20:36:40.123Z\tERROR\thttp/server.go:42\trequest failed\t{\"path\": \"/x\"}");
        assert_eq!(p.logger.as_deref(), Some("http/server.go"));
        assert_eq!(p.message, "request failed");
        let p = t("E, [2025-11-03T20:36:40.123456 #4242] ERROR -- : boom");
        assert_eq!((p.level, p.message.as_ref()), (Level::Error, "boom"));
    }

    #[test]
    fn level_first_lines() {
        let p = t("INFO:     Started server process [1]");
        assert_eq!(
            (p.level, p.message.as_ref()),
            (Level::Info, "Started server process [1]")
        );
        let p = t("[ERROR] plugin/errors: 2 example.org. A: i/o timeout");
        assert_eq!(p.logger.as_deref(), Some("plugin/errors"));
        let p = t("error: payment failed {\"service\":\"billing\"}");
        assert_eq!(p.service.as_deref(), Some("billing"));
        assert!(parse("Error: boom", 0).is_none());
        assert!(parse("ValueError: bad", 0).is_none());
        assert!(parse("\tat com.x.Foo(Foo.java:1)", 0).is_none());
        assert!(parse("just some words", 0).is_none());
    }

    #[test]
    fn dotted_logger_then_context() {
        let p = t("2017-05-16 00:00:00.008 25746 INFO nova.osapi_compute.wsgi.server [req-38101a0b 113d3a99 - - -] 10.11.10.1 \"GET /v2 HTTP/1.1\" status: 200");
        assert_eq!(p.logger.as_deref(), Some("nova.osapi_compute.wsgi.server"));
        assert_eq!(p.message, "10.11.10.1 \"GET /v2 HTTP/1.1\" status: 200");
        let p =
            t("2017-05-16 00:00:00.008 25746 INFO nova.compute.manager [-] Running periodic task");
        assert_eq!(p.message, "Running periodic task");
    }

    #[test]
    fn prefix_words_before_the_timestamp() {
        let p = parse(
            "nova-api.log.1 2017-05-16 00:00:00.008 25746 INFO nova.api [req-1] GET /",
            1,
        )
        .expect("header after one word");
        assert_eq!(p.level, Level::Info);
        assert!(parse("nova-api.log.1 2017-05-16 00:00:00.008 INFO x", 0).is_none());
    }
}
