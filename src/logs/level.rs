//! Severity levels: parsing explicit level fields, mapping HTTP status codes, and the
//! keyword heuristic used only when a record has no level of its own.

use serde::{Deserialize, Serialize};

/// Severity of a record, ordered from least to most severe.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Finest detail.
    Trace,
    /// Debugging detail.
    Debug,
    /// Normal operation.
    #[default]
    Info,
    /// Normal but significant (syslog notice).
    Notice,
    /// Something unexpected that did not fail.
    Warn,
    /// A failure.
    Error,
    /// A failure that stops a component (fatal, critical, panic, emergency).
    Critical,
}

impl Level {
    /// All levels, least severe first.
    pub const ALL: [Level; 7] = [
        Level::Trace,
        Level::Debug,
        Level::Info,
        Level::Notice,
        Level::Warn,
        Level::Error,
        Level::Critical,
    ];

    /// Lower-case name as used in reports and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Notice => "notice",
            Level::Warn => "warn",
            Level::Error => "error",
            Level::Critical => "critical",
        }
    }

    /// Parses a level word as loggers write it (`WARN`, `warning`, `E`, `crit`, `SEVERE`,
    /// .NET's `fail`/`dbug`, MySQL's `Note`/`System`, postgres's `LOG`), surrounding
    /// brackets and colons allowed. Numbers are read by [`Level::from_number`].
    pub fn parse(s: &str) -> Option<Level> {
        // A bare word (the usual case) has nothing to trim.
        let bare = |c: Option<&u8>| c.is_some_and(u8::is_ascii_alphabetic);
        let s = if bare(s.as_bytes().first()) && bare(s.as_bytes().last()) {
            s
        } else {
            s.trim_matches(|c: char| c == '[' || c == ']' || c == ':' || c.is_whitespace())
        };
        if s.is_empty() || s.len() > 13 {
            return None;
        }
        let mut buf = [0u8; 13];
        for (d, c) in buf.iter_mut().zip(s.bytes()) {
            *d = c.to_ascii_lowercase();
        }
        Some(match &buf[..s.len()] {
            b"trace" | b"t" | b"trce" | b"finest" | b"finer" | b"v" => Level::Trace,
            b"debug" | b"d" | b"dbg" | b"dbug" | b"fine" | b"verbose" => Level::Debug,
            b"info" | b"i" | b"inf" | b"information" | b"informational" | b"config" | b"note"
            | b"system" | b"log" => Level::Info,
            b"notice" | b"n" => Level::Notice,
            b"warn" | b"w" | b"wrn" | b"warning" => Level::Warn,
            b"error" | b"e" | b"err" | b"eror" | b"severe" | b"failure" | b"fail" => Level::Error,
            b"critical" | b"crit" | b"c" | b"fatal" | b"f" | b"ftl" | b"panic" | b"emerg"
            | b"emergency" | b"alert" | b"a" => Level::Critical,
            _ => return None,
        })
    }

    /// Level of a numeric severity field, by its range: syslog severities 0-7 (journald
    /// `PRIORITY`, GELF), pino/bunyan levels 10-60, OpenTelemetry severity numbers 1-24
    /// when `otel` says the field is one.
    pub fn from_number(n: i64, otel: bool) -> Option<Level> {
        if otel {
            return Some(match n {
                1..=4 => Level::Trace,
                5..=8 => Level::Debug,
                9..=12 => Level::Info,
                13..=16 => Level::Warn,
                17..=20 => Level::Error,
                21..=24 => Level::Critical,
                _ => return None,
            });
        }
        Some(match n {
            0..=7 => Self::from_syslog_severity(n as u8),
            10 => Level::Trace,
            20 => Level::Debug,
            30 => Level::Info,
            40 => Level::Warn,
            50 => Level::Error,
            60 => Level::Critical,
            _ => return None,
        })
    }

    /// Level of a syslog severity (0 emergency ... 7 debug).
    pub fn from_syslog_severity(severity: u8) -> Level {
        match severity {
            0..=2 => Level::Critical,
            3 => Level::Error,
            4 => Level::Warn,
            5 => Level::Notice,
            6 => Level::Info,
            _ => Level::Debug,
        }
    }

    /// Level of an HTTP access-log line from its status code.
    pub fn from_http_status(status: u16) -> Level {
        match status {
            500..=599 => Level::Error,
            400..=499 => Level::Warn,
            _ => Level::Info,
        }
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Level {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Level::parse(s).ok_or_else(|| {
            format!("unknown level {s:?} (trace, debug, info, notice, warn, error, critical)")
        })
    }
}

/// Guesses a level from message words, for records that carry none. Words are matched
/// whole: `0 errors` and `error_count=0` are not errors; `Exception`, `IOError`,
/// `Traceback`, `FATAL` and `panic:` are.
pub fn infer_level(message: &str) -> Level {
    let mut level = Level::Info;
    let bytes = message.as_bytes();
    let mut i = 0;
    let mut prev_word: &str = "";
    while i < bytes.len() {
        if !bytes[i].is_ascii_alphanumeric() && bytes[i] != b'_' {
            i += 1;
            continue;
        }
        let s = i;
        while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
            i += 1;
        }
        let word = &message[s..i];
        let negated = prev_word == "0" || prev_word.eq_ignore_ascii_case("no");
        prev_word = word;
        if negated || word.contains('_') {
            continue;
        }
        let next = bytes.get(i).copied();
        let found = if word.eq_ignore_ascii_case("fatal")
            || word.eq_ignore_ascii_case("critical")
            || (word == "panic" && next == Some(b':'))
        {
            Level::Critical
        } else if word.eq_ignore_ascii_case("error")
            || word.eq_ignore_ascii_case("exception")
            || word == "Traceback"
            || (word.len() > 5
                && word.as_bytes()[0].is_ascii_uppercase()
                && (word.ends_with("Exception") || word.ends_with("Error")))
        {
            Level::Error
        } else if word.eq_ignore_ascii_case("warn") || word.eq_ignore_ascii_case("warning") {
            Level::Warn
        } else {
            continue;
        };
        level = level.max(found);
        if level == Level::Critical {
            break;
        }
    }
    level
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_levels() {
        assert_eq!(Level::parse("WARNING"), Some(Level::Warn));
        assert_eq!(Level::parse("[error]"), Some(Level::Error));
        assert_eq!(Level::parse("FATAL"), Some(Level::Critical));
        assert_eq!(Level::parse("notice"), Some(Level::Notice));
        assert_eq!(Level::parse("banana"), None);
        assert_eq!(Level::parse("fail"), Some(Level::Error));
        assert_eq!(Level::parse("[Note]"), Some(Level::Info));
    }

    #[test]
    fn numeric_levels() {
        assert_eq!(Level::from_number(50, false), Some(Level::Error));
        assert_eq!(Level::from_number(30, false), Some(Level::Info));
        assert_eq!(Level::from_number(3, false), Some(Level::Error));
        assert_eq!(Level::from_number(6, false), Some(Level::Info));
        assert_eq!(Level::from_number(17, true), Some(Level::Error));
        assert_eq!(Level::from_number(35, false), None);
    }

    #[test]
    fn keywords_on_word_boundaries() {
        assert_eq!(infer_level("finished with 0 errors"), Level::Info);
        assert_eq!(infer_level("error_count=0 ok"), Level::Info);
        assert_eq!(infer_level("0 error"), Level::Info);
        assert_eq!(infer_level("terrorist detection"), Level::Info);
        assert_eq!(
            infer_level("java.io.IOException: broken pipe"),
            Level::Error
        );
        assert_eq!(
            infer_level("Traceback (most recent call last):"),
            Level::Error
        );
        assert_eq!(infer_level("panic: runtime error"), Level::Critical);
        assert_eq!(infer_level("FATAL disk gone"), Level::Critical);
        assert_eq!(infer_level("Warning: low memory"), Level::Warn);
    }

    #[test]
    fn http_status() {
        assert_eq!(Level::from_http_status(503), Level::Error);
        assert_eq!(Level::from_http_status(404), Level::Warn);
        assert_eq!(Level::from_http_status(200), Level::Info);
    }
}
