//! Apache / nginx access logs, common and combined:
//! `127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 200 2326 "ref" "ua"`.
//! The status code gives the level (5xx error, 4xx warn), here and in any message that
//! carries an access-log request and status (Envoy, HAProxy, Django's runserver).

use std::borrow::Cow;

use super::{split_word, Parsed};
use crate::logs::level::Level;

pub(super) fn parse(line: &str) -> Option<Parsed<'_>> {
    let (_client, rest) = split_word(line)?;
    let (_ident, rest) = split_word(rest)?;
    let open = rest.find('[')?;
    // Only the user name may stand between the ident and the bracket.
    if rest[..open].trim_end().contains(' ') {
        return None;
    }
    let close = rest[open..].find(']')? + open;
    let ts = &rest[open + 1..close];
    let rest = rest[close + 1..].trim_start().strip_prefix('"')?;
    let end = rest.find('"')?;
    let request = &rest[..end];
    let rest = rest[end + 1..].trim_start();
    let (status, _) = split_word(rest)?;
    let code: u16 = status.parse().ok()?;
    if !(100..=599).contains(&code) {
        return None;
    }
    // The request line and status form the message, so templates group by route.
    let msg_end = status.as_ptr() as usize + status.len() - line.as_ptr() as usize;
    let msg_start = request.as_ptr() as usize - line.as_ptr() as usize;
    Some(Parsed {
        timestamp: Some(Cow::Borrowed(ts)),
        message: Cow::Borrowed(&line[msg_start..msg_end]),
        level: Level::from_http_status(code),
        explicit_level: true,
        header: true,
        ..Default::default()
    })
}

/// The level of a message that reads as an access-log entry: a quoted request line
/// followed by its status (`"GET / HTTP/1.1" 503`), or HAProxy's timers followed by the
/// status (`0/0/1/25/26 503`).
pub(crate) fn status_level(message: &str) -> Option<Level> {
    status_after_request(message)
        .or_else(|| status_after_timers(message))
        .map(Level::from_http_status)
}

fn status_code(word: &str) -> Option<u16> {
    let code: u16 = (word.len() == 3).then(|| word.parse().ok()).flatten()?;
    (100..=599).contains(&code).then_some(code)
}

fn status_after_request(m: &str) -> Option<u16> {
    let q = m.find('"')?;
    let rest = &m[q + 1..];
    let end = rest.find('"')?;
    let request = &rest[..end];
    let (method, rest_req) = request.split_once(' ')?;
    if method.len() < 3
        || !method.bytes().all(|c| c.is_ascii_uppercase())
        || !rest_req.contains("HTTP/")
    {
        return None;
    }
    status_code(rest[end + 1..].split_whitespace().next()?)
}

fn status_after_timers(m: &str) -> Option<u16> {
    let mut words = m.split_whitespace();
    while let Some(w) = words.next() {
        let parts = w.split('/').count();
        if (4..=5).contains(&parts)
            && w.split('/').all(|p| {
                !p.is_empty()
                    && p.trim_start_matches(['-', '+'])
                        .bytes()
                        .all(|c| c.is_ascii_digit())
            })
        {
            return status_code(words.next()?);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combined() {
        let p = parse(r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 503 2326 "http://x/" "Mozilla""#)
            .expect("access");
        assert_eq!(p.level, Level::Error);
        assert_eq!(p.timestamp.as_deref(), Some("10/Oct/2000:13:55:36 -0700"));
        assert_eq!(p.message, "GET /a.gif HTTP/1.0\" 503");
        assert!(parse("a b [x] \"GET\" abc").is_none());
    }

    #[test]
    fn status_in_other_messages() {
        assert_eq!(
            status_level(r#""GET /api HTTP/1.1" 503 UF 0 91 25 - "10.0.0.1""#),
            Some(Level::Error)
        );
        assert_eq!(
            status_level(
                r#"10.0.0.1:56789 [03/Nov/2025:20:36:40.123] fe be/srv1 0/0/1/25/26 404 512 - - ---- 1/1/0/0/0 0/0 "GET /x HTTP/1.1""#
            ),
            Some(Level::Warn)
        );
        assert_eq!(status_level("served 3 files in 200 ms"), None);
    }
}
