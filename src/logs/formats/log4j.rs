//! log4j layouts as Spark and Hadoop print them:
//! `25/11/03 20:36:37 WARN NativeCodeLoader: msg`,
//! `2015-10-18 18:01:47,978 INFO [main] org.apache.Foo: msg`.

use std::borrow::Cow;

use super::{split_word, Parsed};
use crate::logs::level::Level;

pub(super) fn parse(line: &str) -> Option<Parsed<'_>> {
    let (date, rest) = split_word(line)?;
    let (time, rest) = split_word(rest)?;
    let db = date.as_bytes();
    if db.len() < 8 || !db[0].is_ascii_digit() || !(db.contains(&b'/') || db.contains(&b'-')) {
        return None;
    }
    if !time.contains(':') {
        return None;
    }
    let (level, mut rest) = split_word(rest)?;
    // log4j prints the level as a bare upper-case word.
    if !level.bytes().all(|c| c.is_ascii_uppercase()) {
        return None;
    }
    Level::parse(level)?;
    let mut thread = None;
    if rest.starts_with('[') {
        let close = rest.find(']')?;
        thread = Some(&rest[1..close]);
        rest = rest[close + 1..].trim_start();
    }
    let colon = rest.find(": ")?;
    let component = &rest[..colon];
    if component.is_empty() || component.contains(' ') {
        return None;
    }
    let ts_len = time.as_ptr() as usize + time.len() - line.as_ptr() as usize;
    Some(
        Parsed {
            timestamp: Some(Cow::Borrowed(&line[..ts_len])),
            logger: Some(Cow::Borrowed(component)),
            thread: thread.map(Cow::Borrowed),
            message: Cow::Borrowed(&rest[colon + 2..]),
            header: true,
            ..Default::default()
        }
        .with_level(Some(level)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spark_and_hadoop() {
        let p =
            parse("25/11/03 20:36:37 WARN NativeCodeLoader: Unable to load native-hadoop library")
                .expect("log4j");
        assert_eq!(p.level, Level::Warn);
        assert_eq!(p.logger.as_deref(), Some("NativeCodeLoader"));
        assert_eq!(p.timestamp.as_deref(), Some("25/11/03 20:36:37"));
        let p = parse("2015-10-18 18:01:47,978 INFO [main] org.apache.hadoop.Foo: Created x")
            .expect("log4j");
        assert_eq!(p.logger.as_deref(), Some("org.apache.hadoop.Foo"));
        assert_eq!(p.message, "Created x");
        assert!(parse("25/11/03 20:36:37 HELLO x: y").is_none());
    }
}
