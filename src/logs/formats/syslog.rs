//! Syslog: RFC 3164 (`<34>Oct 11 22:14:15 host app[12]: msg`, the `<PRI>` optional, any
//! timestamp shape, so journald's `short-iso` output reads too) and RFC 5424
//! (`<34>1 2025-11-03T20:36:40Z host app 12 ID47 [sd] msg`). The app name is the
//! service; the severity comes from `<PRI>`, unless the message carries a level field
//! of its own (a klog line from kubelet, `error: …`), which then wins.

use std::borrow::Cow;

use super::{fields, klog, split_word, text, Parsed};
use crate::logs::level::Level;
use crate::logs::time::{scan_timestamp, TimeContext};

pub(super) fn parse(line: &str) -> Option<Parsed<'_>> {
    let (pri, rest) = match line.strip_prefix('<') {
        Some(r) => {
            let close = r.find('>').filter(|&c| c <= 3)?;
            let pri: u16 = r[..close].parse().ok()?;
            (Some(pri).filter(|&p| p < 192), &r[close + 1..])
        }
        None => (None, line),
    };
    if line.starts_with('<') && pri.is_none() {
        return None;
    }
    let p = match rest.strip_prefix("1 ") {
        Some(r) => parse_5424(r)?,
        None => parse_3164(rest)?,
    };
    Some(with_level(p, pri))
}

/// `Mmm dd hh:mm:ss host tag[pid]: msg`, or an RFC 3339 timestamp first (rsyslog's
/// high-precision format, journald's `short-iso`).
fn parse_3164(rest: &str) -> Option<Parsed<'_>> {
    let first = *rest.as_bytes().first()?;
    let (len, _) = scan_timestamp(rest, &TimeContext::probe())?;
    let ts = &rest[..len];
    let classic = first.is_ascii_alphabetic();
    let rfc3339 = first.is_ascii_digit() && ts.as_bytes().get(10) == Some(&b'T');
    if !classic && !rfc3339 {
        return None;
    }
    let (host, after) = split_word(&rest[len..])?;
    if Level::parse(host).is_some() {
        return None;
    }
    let (tag, msg) = after
        .split_once(": ")
        .or_else(|| after.strip_suffix(':').map(|t| (t, "")))?;
    if tag.is_empty() || tag.contains([' ', '=', '"']) || host.contains(['[', '=']) {
        return None;
    }
    let app = tag.split('[').next().unwrap_or(tag);
    let mut p = Parsed {
        timestamp: Some(Cow::Borrowed(ts)),
        service: (!app.is_empty()).then_some(Cow::Borrowed(app)),
        message: Cow::Borrowed(msg),
        header: true,
        ..Default::default()
    };
    if let Some(pid) = tag
        .strip_suffix(']')
        .and_then(|t| t.split_once('['))
        .map(|(_, p)| p)
    {
        p.fields.push((Cow::Borrowed("pid"), Cow::Borrowed(pid)));
    }
    p.fields.push((Cow::Borrowed("host"), Cow::Borrowed(host)));
    Some(p)
}

fn parse_5424(rest: &str) -> Option<Parsed<'_>> {
    let (ts, rest) = split_word(rest)?;
    let (host, rest) = split_word(rest)?;
    let (app, rest) = split_word(rest)?;
    let (procid, rest) = split_word(rest)?;
    let (_msgid, rest) = split_word(rest)?;
    let mut p = Parsed {
        timestamp: (ts != "-").then_some(Cow::Borrowed(ts)),
        service: (app != "-").then_some(Cow::Borrowed(app)),
        header: true,
        ..Default::default()
    };
    if procid != "-" {
        p.fields.push((Cow::Borrowed("pid"), Cow::Borrowed(procid)));
    }
    if host != "-" {
        p.fields.push((Cow::Borrowed("host"), Cow::Borrowed(host)));
    }
    let msg = if let Some(r) = rest.strip_prefix('-') {
        r.trim_start()
    } else if rest.starts_with('[') {
        let end = structured_data(rest, &mut p);
        rest[end..].trim_start()
    } else {
        rest
    };
    p.message = Cow::Borrowed(msg.trim_start_matches('\u{feff}'));
    Some(p)
}

/// Reads the structured-data elements (`[id k="v" …][…]`) into fields; returns where
/// they end.
fn structured_data<'a>(rest: &'a str, p: &mut Parsed<'a>) -> usize {
    let b = rest.as_bytes();
    let mut i = 0;
    while i < b.len() && b[i] == b'[' {
        // The element id, then params until the unescaped `]`.
        let mut j = i + 1;
        while j < b.len() && !matches!(b[j], b' ' | b']') {
            j += 1;
        }
        while j < b.len() && b[j] != b']' {
            while j < b.len() && b[j] == b' ' {
                j += 1;
            }
            let ks = j;
            while j < b.len() && !matches!(b[j], b'=' | b']' | b' ') {
                j += 1;
            }
            if j + 1 >= b.len() || b[j] != b'=' || b[j + 1] != b'"' {
                break;
            }
            let key = &rest[ks..j];
            j += 2;
            let vs = j;
            while j < b.len() && !(b[j] == b'"' && b[j - 1] != b'\\') {
                j += 1;
            }
            fields::apply(p, key, Cow::Borrowed(&rest[vs..j.min(b.len())]));
            j += 1;
        }
        while j < b.len() && b[j] != b']' {
            j += 1;
        }
        i = (j + 1).min(b.len());
    }
    i
}

/// The level: the message's own level field when it has one, else `<PRI>`'s severity,
/// else words.
fn with_level(mut p: Parsed<'_>, pri: Option<u16>) -> Parsed<'_> {
    let msg: &str = match &p.message {
        Cow::Borrowed(m) => m,
        Cow::Owned(_) => "",
    };
    if let Some(inner) = klog::parse(msg) {
        p.level = inner.level;
        p.explicit_level = true;
        p.logger = inner.logger;
        p.thread = inner.thread;
        p.message = inner.message;
        return p;
    }
    if let Some(inner) = text::parse(msg, 0).filter(|i| i.explicit_level) {
        p.level = inner.level;
        p.explicit_level = true;
        return p;
    }
    let severity = pri.map(|pri| Level::from_syslog_severity((pri % 8) as u8));
    // Access-log entries (HAProxy) are sent at the transport's routine severity whatever
    // their status: the status is their level unless the severity says worse.
    let status = super::access::status_level(&p.message);
    let level = match (severity, status) {
        (Some(s), Some(st)) if s <= Level::Notice => Some(st),
        (Some(s), _) => Some(s),
        (None, st) => st,
    };
    match level {
        Some(l) => {
            p.level = l;
            p.explicit_level = true;
        }
        None => p.level = crate::logs::level::infer_level(&p.message),
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3164() {
        let p =
            parse("Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186")
                .expect("3164");
        assert_eq!(p.service.as_deref(), Some("sshd"));
        assert_eq!(p.message, "Invalid user webmaster from 173.234.31.186");
        let p = parse("<11>Oct 11 22:14:15 mymachine su: 'su root' failed").expect("3164");
        assert_eq!(p.level, Level::Error);
        let p = parse("2025-11-03T20:36:40+0000 node1 kubelet[1234]: E1103 20:36:40.123456    1234 pod_workers.go:1298] \"Error syncing pod\"")
            .expect("short-iso with klog");
        assert_eq!(
            (p.level, p.service.as_deref()),
            (Level::Error, Some("kubelet"))
        );
        assert_eq!(p.logger.as_deref(), Some("pod_workers.go"));
    }

    #[test]
    fn rfc5424() {
        let p = parse(r#"<165>1 2025-11-03T22:14:15.003Z host.example evntslog - ID47 [exampleSDID@32473 iut="3" trace_id="4bf92f3577b34da6a3ce929d0e0e4736"] An application event"#)
            .expect("5424");
        assert_eq!(p.level, Level::Notice);
        assert_eq!(p.service.as_deref(), Some("evntslog"));
        assert_eq!(p.message, "An application event");
        assert!(p.trace_id.is_some());
        assert!(parse("<x>1 a").is_none());
    }
}
