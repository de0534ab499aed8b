//! Redis server log: `1:M 03 Nov 2025 20:36:37.123 * Ready to accept connections`.
//! The role letter (M master, S replica, C child, X sentinel) is kept as a field and
//! the mark gives the level (`.` debug, `-` verbose, `*` notice, `#` warning).

use std::borrow::Cow;

use super::{split_word, Parsed};
use crate::logs::level::{infer_level, Level};

pub(super) fn parse(line: &str) -> Option<Parsed<'_>> {
    let (pid_role, rest) = split_word(line)?;
    let (pid, role) = pid_role.split_once(':')?;
    if pid.is_empty() || !pid.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let role_name = match role {
        "M" => "redis-master",
        "S" => "redis-replica",
        "C" => "redis-child",
        "X" => "redis-sentinel",
        _ => return None,
    };
    // `03 Nov 2025 20:36:37.123`: four words.
    let mut ts_end = rest;
    for _ in 0..4 {
        ts_end = split_word(ts_end)?.1;
    }
    let ts = rest[..rest.len() - ts_end.len()].trim_end();
    let (mark, msg) = split_word(ts_end)?;
    let level = match mark {
        "." | "-" => Level::Debug,
        "*" => Level::Notice,
        "#" => Level::Warn,
        _ => return None,
    };
    // Warnings that are really errors say so; keep the worse of the two.
    let inferred = infer_level(msg);
    let level = if inferred >= Level::Warn {
        level.max(inferred)
    } else {
        level
    };
    let mut p = Parsed {
        timestamp: Some(Cow::Borrowed(ts)),
        message: Cow::Borrowed(msg),
        level,
        explicit_level: true,
        header: true,
        ..Default::default()
    };
    p.fields.push((Cow::Borrowed("pid"), Cow::Borrowed(pid)));
    p.fields
        .push((Cow::Borrowed("role"), Cow::Borrowed(role_name)));
    Some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks() {
        let p =
            parse("1:M 03 Nov 2025 20:36:37.123 * Ready to accept connections tcp").expect("redis");
        assert_eq!(p.level, Level::Notice);
        assert!(p
            .fields
            .iter()
            .any(|(k, v)| k == "role" && v == "redis-master"));
        assert_eq!(p.timestamp.as_deref(), Some("03 Nov 2025 20:36:37.123"));
        let p = parse("1:M 03 Nov 2025 20:36:37.123 # WARNING overcommit_memory is set to 0")
            .expect("redis");
        assert_eq!(p.level, Level::Warn);
        assert!(parse("1:Q 03 Nov 2025 20:36:37.123 * x").is_none());
    }
}
