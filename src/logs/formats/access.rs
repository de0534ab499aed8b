//! Apache / nginx access logs, common and combined:
//! `127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 200 2326 "ref" "ua"`.
//! The status code gives the level (5xx error, 4xx warn).

use std::borrow::Cow;

use super::{split_word, Parsed};
use crate::logs::level::Level;

pub(super) fn parse(line: &str) -> Option<Parsed<'_>> {
    let (_client, rest) = split_word(line)?;
    let (_ident, rest) = split_word(rest)?;
    let open = rest.find('[')?;
    if rest[..open].contains(' ') && !rest[..open].trim_end().chars().all(|c| c != ' ') {
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
        component: Some(Cow::Borrowed("http")),
        message: Cow::Borrowed(&line[msg_start..msg_end]),
        level: Level::from_http_status(code),
        explicit_level: true,
        header: true,
        trace_id: None,
    })
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
}
