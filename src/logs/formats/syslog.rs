//! Syslog: RFC 3164 (`<34>Oct 11 22:14:15 host app[12]: msg`, the `<PRI>` optional) and
//! RFC 5424 (`<34>1 2025-11-03T20:36:40Z host app 12 ID47 [sd] msg`).

use std::borrow::Cow;

use super::{split_word, Parsed};
use crate::logs::level::Level;

fn severity(pri: u16) -> Level {
    match pri % 8 {
        0..=2 => Level::Critical,
        3 => Level::Error,
        4 => Level::Warn,
        5 => Level::Notice,
        6 => Level::Info,
        _ => Level::Debug,
    }
}

pub(super) fn parse(line: &str) -> Option<Parsed<'_>> {
    let (pri, rest) = match line.strip_prefix('<') {
        Some(r) => {
            let close = r.find('>')?;
            let pri: u16 = r[..close].parse().ok()?;
            (Some(pri), &r[close + 1..])
        }
        None => (None, line),
    };
    if let Some(r) = rest.strip_prefix("1 ") {
        return parse_5424(pri, r);
    }
    // RFC 3164: `Mmm dd hh:mm:ss host tag: msg`.
    let b = rest.as_bytes();
    if b.len() < 16
        || !b[0].is_ascii_uppercase()
        || b[3] != b' '
        || b[9] != b':'
        || b[12] != b':'
        || !rest.is_char_boundary(15)
    {
        return None;
    }
    let ts = &rest[..15];
    let (host, after) = split_word(&rest[15..])?;
    let colon = after.find(": ")?;
    let tag = &after[..colon];
    if tag.contains(' ') || host.is_empty() {
        return None;
    }
    let app = tag.split('[').next().unwrap_or(tag);
    let p = Parsed {
        timestamp: Some(Cow::Borrowed(ts)),
        component: Some(Cow::Borrowed(app)),
        message: Cow::Borrowed(&after[colon + 2..]),
        header: true,
        ..Default::default()
    };
    Some(match pri {
        Some(pri) => Parsed {
            level: severity(pri),
            explicit_level: true,
            ..p
        },
        None => p.with_level(None),
    })
}

fn parse_5424(pri: Option<u16>, rest: &str) -> Option<Parsed<'_>> {
    let (ts, rest) = split_word(rest)?;
    let (_host, rest) = split_word(rest)?;
    let (app, rest) = split_word(rest)?;
    let (_procid, rest) = split_word(rest)?;
    let (_msgid, rest) = split_word(rest)?;
    let msg = if rest.starts_with('-') {
        rest.get(1..).unwrap_or("").trim_start()
    } else if rest.starts_with('[') {
        // Skip structured data elements.
        let mut depth = 0;
        let mut end = rest.len();
        let mut prev = ' ';
        for (i, c) in rest.char_indices() {
            match c {
                '[' if prev != '\\' => depth += 1,
                ']' if prev != '\\' => {
                    depth -= 1;
                    if depth == 0 && !rest[i + 1..].starts_with('[') {
                        end = i + 1;
                        break;
                    }
                }
                _ => {}
            }
            prev = c;
        }
        rest[end..].trim_start()
    } else {
        rest
    };
    let p = Parsed {
        timestamp: (ts != "-").then_some(Cow::Borrowed(ts)),
        component: (app != "-").then_some(Cow::Borrowed(app)),
        message: Cow::Borrowed(msg.trim_start_matches('\u{feff}')),
        header: true,
        ..Default::default()
    };
    Some(match pri {
        Some(pri) => Parsed {
            level: severity(pri),
            explicit_level: true,
            ..p
        },
        None => p.with_level(None),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3164() {
        let p =
            parse("Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186")
                .expect("3164");
        assert_eq!(p.component.as_deref(), Some("sshd"));
        assert_eq!(p.message, "Invalid user webmaster from 173.234.31.186");
        let p = parse("<11>Oct 11 22:14:15 mymachine su: 'su root' failed").expect("3164");
        assert_eq!(p.level, Level::Error);
    }

    #[test]
    fn rfc5424() {
        let p = parse(r#"<165>1 2025-11-03T22:14:15.003Z host.example evntslog - ID47 [exampleSDID@32473 iut="3"] An application event"#)
            .expect("5424");
        assert_eq!(p.level, Level::Notice);
        assert_eq!(p.component.as_deref(), Some("evntslog"));
        assert_eq!(p.message, "An application event");
        assert!(parse("<x>1 a").is_none());
    }
}
