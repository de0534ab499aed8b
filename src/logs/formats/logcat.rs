//! Android logcat: `threadtime` (`11-03 20:36:40.123  1234  5678 E Tag: msg`, the
//! default of `adb logcat`, with or without the year) and `brief` (`E/Tag( 1234): msg`).
//! The priority letter is the level (V, D, I, W, E, F/A); the tag is the logger.

use std::borrow::Cow;

use super::{split_word, Parsed};
use crate::logs::level::Level;
use crate::logs::time::{scan_timestamp, TimeContext};

fn priority(c: &str) -> Option<Level> {
    Some(match c {
        "V" => Level::Trace,
        "D" => Level::Debug,
        "I" => Level::Info,
        "W" => Level::Warn,
        "E" => Level::Error,
        "F" | "A" => Level::Critical,
        _ => return None,
    })
}

pub(super) fn parse(line: &str) -> Option<Parsed<'_>> {
    if line.as_bytes().first()?.is_ascii_digit() {
        threadtime(line)
    } else {
        brief(line)
    }
}

fn threadtime(line: &str) -> Option<Parsed<'_>> {
    let (len, _) = scan_timestamp(line, &TimeContext::probe())?;
    let (pid, rest) = split_word(&line[len..])?;
    let (tid, rest) = split_word(rest)?;
    if !pid.bytes().all(|c| c.is_ascii_digit()) || !tid.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let (letter, rest) = split_word(rest)?;
    let level = priority(letter)?;
    let (tag, msg) = rest
        .split_once(": ")
        .or_else(|| rest.strip_suffix(':').map(|t| (t, "")))?;
    let mut p = Parsed {
        timestamp: Some(Cow::Borrowed(&line[..len])),
        level,
        explicit_level: true,
        logger: Some(Cow::Borrowed(tag.trim_end())),
        message: Cow::Borrowed(msg),
        header: true,
        ..Default::default()
    };
    p.fields.push((Cow::Borrowed("pid"), Cow::Borrowed(pid)));
    p.thread = Some(Cow::Borrowed(tid));
    Some(p)
}

fn brief(line: &str) -> Option<Parsed<'_>> {
    let (letter, rest) = line.split_once('/')?;
    let level = priority(letter)?;
    let open = rest.find('(')?;
    let close = rest[open..].find("): ")? + open;
    let pid = rest[open + 1..close].trim();
    if !pid.bytes().all(|c| c.is_ascii_digit()) || pid.is_empty() {
        return None;
    }
    let mut p = Parsed {
        level,
        explicit_level: true,
        logger: Some(Cow::Borrowed(rest[..open].trim_end())),
        message: Cow::Borrowed(&rest[close + 3..]),
        header: true,
        ..Default::default()
    };
    p.fields.push((Cow::Borrowed("pid"), Cow::Borrowed(pid)));
    Some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let p = parse("11-03 20:36:40.123  1234  5678 E AndroidRuntime: FATAL EXCEPTION: main")
            .expect("threadtime");
        assert_eq!(
            (p.level, p.logger.as_deref()),
            (Level::Error, Some("AndroidRuntime"))
        );
        assert_eq!(p.message, "FATAL EXCEPTION: main");
        let p = parse("W/ActivityManager(  612): Slow operation").expect("brief");
        assert_eq!(p.level, Level::Warn);
        assert!(parse("11-03 20:36:40.123 x y Z tag: m").is_none());
    }
}
