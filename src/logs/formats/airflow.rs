//! Airflow task and scheduler lines:
//! `[2025-11-03T20:36:40.123+0000] {taskinstance.py:2905} ERROR - message`.

use std::borrow::Cow;

use super::Parsed;

pub(super) fn parse(line: &str) -> Option<Parsed<'_>> {
    let rest = line.strip_prefix('[')?;
    let close = rest.find(']')?;
    let ts = &rest[..close];
    if !ts.as_bytes().first()?.is_ascii_digit() {
        return None;
    }
    let rest = rest[close + 1..].trim_start().strip_prefix('{')?;
    let close = rest.find('}')?;
    let source = &rest[..close];
    let rest = rest[close + 1..].trim_start();
    let (level, message) = rest.split_once(" - ")?;
    // The logger is the module that logged (`taskinstance.py`), without its line.
    let module = source.split(':').next().unwrap_or(source);
    Some(
        Parsed {
            timestamp: Some(Cow::Borrowed(ts)),
            logger: Some(Cow::Borrowed(module)),
            message: Cow::Borrowed(message),
            header: true,
            ..Default::default()
        }
        .with_level(Some(level.trim())),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::level::Level;

    #[test]
    fn airflow_line() {
        let p = parse("[2025-11-03T20:36:40.123+0000] {taskinstance.py:2905} ERROR - Task failed with exception")
            .expect("airflow line");
        assert_eq!(p.level, Level::Error);
        assert_eq!(p.logger.as_deref(), Some("taskinstance.py"));
        assert_eq!(p.message, "Task failed with exception");
        assert!(parse("[x] {a} INFO - m").is_none());
        assert!(parse("[2025-11-03] no braces").is_none());
    }
}
