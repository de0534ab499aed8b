//! PostgreSQL server log, whatever `log_line_prefix` holds: the prefix (timestamp,
//! `[pid]`, `user@db` …) then `SEVERITY:  message` with two spaces. `DETAIL`, `HINT`,
//! `STATEMENT`, `CONTEXT`, `QUERY` and `LOCATION` lines belong to the message before
//! them. `LOG` is info; `FATAL` and `PANIC` are critical.

use std::borrow::Cow;

use super::Parsed;
use crate::logs::level::Level;
use crate::logs::time::{scan_timestamp, TimeContext};

/// Where the prefix may end at the latest.
const MAX_PREFIX: usize = 160;

pub(super) fn parse(line: &str) -> Option<Parsed<'_>> {
    let head = &line[..floor_boundary(line, MAX_PREFIX + 12)];
    let colon = memchr::memmem::find(head.as_bytes(), b":  ")?;
    let before = &line[..colon];
    let word_start = before.rfind(' ').map_or(0, |i| i + 1);
    let word = &before[word_start..];
    let (level, continues) = match word {
        "LOG" | "INFO" => (Level::Info, false),
        "NOTICE" => (Level::Notice, false),
        "WARNING" => (Level::Warn, false),
        "ERROR" => (Level::Error, false),
        "FATAL" | "PANIC" => (Level::Critical, false),
        "DETAIL" | "HINT" | "STATEMENT" | "CONTEXT" | "QUERY" | "LOCATION" => (Level::Info, true),
        w if w.starts_with("DEBUG") && w.len() == 6 => (Level::Debug, false),
        _ => return None,
    };
    let prefix = &line[..word_start];
    let ts = scan_timestamp(prefix, &TimeContext::probe()).map(|(n, _)| &prefix[..n]);
    if ts.is_none() && !prefix.is_empty() {
        return None;
    }
    let mut p = Parsed {
        timestamp: ts.map(Cow::Borrowed),
        level,
        explicit_level: !continues,
        // A continuation keeps its keyword (`DETAIL:  …`), a record its text alone.
        message: Cow::Borrowed(if continues {
            &line[word_start..]
        } else {
            &line[colon + 3..]
        }),
        header: !continues,
        continues,
        ..Default::default()
    };
    if let Some(open) = prefix.find('[') {
        if let Some(close) = prefix[open..].find(']') {
            let pid = &prefix[open + 1..open + close];
            if !pid.is_empty() && pid.bytes().all(|c| c.is_ascii_digit() || c == b'-') {
                p.fields.push((Cow::Borrowed("pid"), Cow::Borrowed(pid)));
            }
        }
    }
    Some(p)
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_and_detail_lines() {
        let p = parse("2025-11-03 20:36:40.123 UTC [123] ERROR:  duplicate key value violates unique constraint \"users_pkey\"")
            .expect("postgres");
        assert_eq!(p.level, Level::Error);
        assert_eq!(p.timestamp.as_deref(), Some("2025-11-03 20:36:40.123 UTC"));
        let p = parse("2025-11-03 20:36:40.123 UTC [123] DETAIL:  Key (id)=(1) already exists.")
            .expect("detail");
        assert!(p.continues && !p.header);
        let p = parse("2025-11-03 20:36:41 UTC [7] LOG:  checkpoint starting: time").expect("log");
        assert_eq!(p.level, Level::Info);
        assert!(parse("some text:  with spaces").is_none());
        assert!(parse("ERROR:  bare").is_some_and(|p| p.level == Level::Error));
    }
}
