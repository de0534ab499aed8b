//! The fallback format: a timestamp and a level near the start of the line, if any.

use std::borrow::Cow;

use super::Parsed;
use crate::logs::level::{infer_level, Level};
use crate::logs::time::parse_timestamp;

/// Looks for a timestamp in the first one to four words and a level right after it
/// (or at the very start). Lines with neither are bare messages.
pub(super) fn parse(line: &str) -> Parsed<'_> {
    let trimmed = line.trim_start();
    let mut ts_end = 0;
    // Try the longest prefix of up to 4 words that reads as a timestamp.
    let mut ends = Vec::with_capacity(4);
    let mut in_word = false;
    for (i, c) in trimmed.char_indices() {
        if c.is_whitespace() {
            if in_word {
                ends.push(i);
                if ends.len() == 4 {
                    break;
                }
            }
            in_word = false;
        } else {
            in_word = true;
        }
    }
    if in_word && ends.len() < 4 {
        ends.push(trimmed.len());
    }
    for &e in ends.iter().rev() {
        // A timestamp ends in a digit, a zone letter or a bracket, never in a word.
        let last = trimmed.as_bytes()[e - 1];
        if (last.is_ascii_digit() || matches!(last, b'Z' | b']'))
            && trimmed[..e].bytes().any(|c| c.is_ascii_digit())
            && parse_timestamp(&trimmed[..e], 2000).is_some()
        {
            ts_end = e;
            break;
        }
    }
    let timestamp = (ts_end > 0).then(|| Cow::Borrowed(trimmed[..ts_end].trim_matches(['[', ']'])));
    let rest = trimmed[ts_end..].trim_start();
    let (level, message) = match super::split_word(rest) {
        Some((w, after)) => match Level::parse(w.trim_end_matches(':')) {
            Some(l) if w.len() >= 3 || w.ends_with(':') => (Some(l), after),
            _ => (None, rest),
        },
        None => (None, rest),
    };
    let header = timestamp.is_some() || level.is_some();
    // Without a header the line is kept as written, indentation included.
    let message = if header { message } else { line };
    Parsed {
        header,
        timestamp,
        explicit_level: level.is_some(),
        level: level.unwrap_or_else(|| infer_level(message)),
        component: None,
        message: Cow::Borrowed(message),
        trace_id: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_and_level() {
        let p = parse("2025-11-03 20:36:37 ERROR disk full");
        assert!(p.header);
        assert_eq!(p.level, Level::Error);
        assert_eq!(p.message, "disk full");
        assert_eq!(p.timestamp.as_deref(), Some("2025-11-03 20:36:37"));
    }

    #[test]
    fn bare_lines() {
        let p = parse("    at com.example.Foo.bar(Foo.java:12)");
        assert!(!p.header);
        let p = parse("something failed with an Exception");
        assert_eq!(p.level, Level::Error);
        assert!(!p.header);
    }
}
