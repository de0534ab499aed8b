//! Kubernetes klog and Google glog: `I1103 20:36:37.123456       1 controller.go:123] msg`
//! (`Lmmdd hh:mm:ss.uuuuuu threadid file:line] msg`; glog may print the year,
//! `I20251103 …`). The letter is the level (I, W, E, F); the year comes from the file.

use std::borrow::Cow;

use super::{split_word, Parsed};
use crate::logs::level::Level;

pub(crate) fn parse(line: &str) -> Option<Parsed<'_>> {
    let b = line.as_bytes();
    let level = match b.first()? {
        b'I' => Level::Info,
        b'W' => Level::Warn,
        b'E' => Level::Error,
        b'F' => Level::Critical,
        _ => return None,
    };
    let (date, rest) = split_word(&line[1..])?;
    if !(date.len() == 4 || date.len() == 8) || !date.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let (time, rest) = split_word(rest)?;
    let tb = time.as_bytes();
    if tb.len() < 8 || tb[2] != b':' || tb[5] != b':' {
        return None;
    }
    let (thread, rest) = split_word(rest)?;
    if !thread.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let close = rest
        .find("] ")
        .or_else(|| rest.strip_suffix(']').map(|r| r.len()))?;
    let source = &rest[..close];
    if source.contains(' ') || !source.contains(':') {
        return None;
    }
    let message = rest.get(close + 2..).unwrap_or("");
    let timestamp = if date.len() == 4 {
        format!("{}-{} {time}", &date[..2], &date[2..])
    } else {
        format!("{}-{}-{} {time}", &date[..4], &date[4..6], &date[6..])
    };
    let logger = source.rsplit_once(':').map_or(source, |(f, _)| f);
    Some(Parsed {
        timestamp: Some(Cow::Owned(timestamp)),
        level,
        explicit_level: true,
        logger: Some(Cow::Borrowed(logger)),
        thread: Some(Cow::Borrowed(thread)),
        message: Cow::Borrowed(message),
        header: true,
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn klog_line() {
        let p = parse(
            "E1103 20:36:37.123456       1 reflector.go:147] \"Failed to watch\" err=\"forbidden\"",
        )
        .expect("klog");
        assert_eq!(p.level, Level::Error);
        assert_eq!(p.timestamp.as_deref(), Some("11-03 20:36:37.123456"));
        assert_eq!(p.logger.as_deref(), Some("reflector.go"));
        assert_eq!(p.message, "\"Failed to watch\" err=\"forbidden\"");
        assert!(parse("Error: 1103 x").is_none());
        assert!(parse("I1103 nope").is_none());
    }
}
