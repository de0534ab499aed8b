//! Python `logging` defaults: `2025-11-03 20:36:37,123 - name - LEVEL - msg` and
//! `LEVEL:name:msg` (basicConfig).

use std::borrow::Cow;

use super::Parsed;
use crate::logs::level::Level;

pub(super) fn parse(line: &str) -> Option<Parsed<'_>> {
    if line.as_bytes().first()?.is_ascii_digit() {
        let mut parts = line.splitn(4, " - ");
        let (ts, name, level, msg) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        Level::parse(level)?;
        if ts.len() > 40 || name.is_empty() || name.contains(' ') {
            return None;
        }
        return Some(
            Parsed {
                timestamp: Some(Cow::Borrowed(ts)),
                logger: Some(Cow::Borrowed(name)),
                message: Cow::Borrowed(msg),
                header: true,
                ..Default::default()
            }
            .with_level(Some(level)),
        );
    }
    let (level, rest) = line.split_once(':')?;
    if !level.bytes().all(|c| c.is_ascii_uppercase()) {
        return None;
    }
    Level::parse(level)?;
    let (name, msg) = rest.split_once(':')?;
    if name.is_empty() || name.contains(' ') {
        return None;
    }
    Some(
        Parsed {
            logger: Some(Cow::Borrowed(name)),
            message: Cow::Borrowed(msg),
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
    fn both_shapes() {
        let p =
            parse("2025-11-03 20:36:37,123 - minio_client - WARNING - retrying").expect("python");
        assert_eq!(p.level, Level::Warn);
        assert_eq!(p.logger.as_deref(), Some("minio_client"));
        assert_eq!(p.message, "retrying");
        let p = parse("ERROR:root:boom: it broke").expect("python");
        assert_eq!(p.level, Level::Error);
        assert_eq!(p.message, "boom: it broke");
        assert!(parse("Error:root:x").is_none());
        assert!(parse("2025 - a - NOPE - x").is_none());
    }
}
