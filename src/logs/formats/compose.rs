//! Lines prefixed with the service that wrote them: `docker compose logs`
//! (`service-1  | line`, optionally with the timestamp docker adds with `--timestamps`)
//! and `kubectl logs --prefix` (`[pod/name/container] line`). The prefix names the
//! component and the inner line is parsed again by the line-level formats.

use std::borrow::Cow;

use super::{parse_inner, Parsed};

pub(super) fn parse(line: &str) -> Option<Parsed<'_>> {
    let (name, inner) = compose_prefix(line).or_else(|| kubectl_prefix(line))?;
    let mut inner = inner;
    // Docker's own timestamp: RFC 3339 with nanoseconds, then one space.
    let mut docker_ts = None;
    if let Some((first, rest)) = inner.split_once(' ') {
        let fb = first.as_bytes();
        if fb.len() >= 20 && first.ends_with('Z') && fb[4] == b'-' && fb[10] == b'T' {
            docker_ts = Some(first);
            inner = rest;
        }
    }
    let mut p = parse_inner(inner);
    p.wrapper = Some(Cow::Borrowed(name));
    if docker_ts.is_some() && p.timestamp.as_deref().is_none_or(super::yearless) {
        p.timestamp = docker_ts.map(Cow::Borrowed);
    }
    // The prefix marks a new physical line of that service; whether it starts a record
    // is the inner line's business (a traceback line has no header of its own).
    p.wrapped = true;
    Some(p)
}

/// `name  | inner`.
fn compose_prefix(line: &str) -> Option<(&str, &str)> {
    let bar = line.find('|')?;
    let name = line[..bar].trim_end();
    if name.is_empty()
        || name.len() == bar && !line[bar + 1..].starts_with(' ')
        || !name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
    {
        return None;
    }
    let inner = &line[bar + 1..];
    Some((name, inner.strip_prefix(' ').unwrap_or(inner)))
}

/// `[pod/api-7d9f/api] inner`: the container is the last part.
fn kubectl_prefix(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix("[pod/")?;
    let close = rest.find("] ")?;
    let path = &rest[..close];
    let container = path.rsplit('/').next()?;
    (!container.is_empty() && !path.contains(' ')).then(|| (container, &rest[close + 2..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::level::Level;

    #[test]
    fn prefix_and_inner_line() {
        let p = parse("airflow-1  | 2025-11-03T20:36:40.060803460Z [2025-11-03T20:36:40.123+0000] {taskinstance.py:2905} ERROR - Task failed")
            .expect("compose line");
        assert_eq!(p.wrapper.as_deref(), Some("airflow-1"));
        assert_eq!(p.level, Level::Error);
        assert_eq!(p.message, "Task failed");
        let p = parse("redis-1  | 1:M 03 Nov 2025 20:36:37.123 # Warning: no config")
            .expect("compose line");
        assert_eq!(p.level, Level::Warn);
        let p = parse("airflow-1  |     raise ValueError(\"x\")").expect("compose line");
        assert!(!p.header);
        assert_eq!(p.wrapper.as_deref(), Some("airflow-1"));
        let p = parse("[pod/api-7d9f/api] 2025-11-03T20:36:40Z ERROR boom").expect("kubectl");
        assert_eq!(p.wrapper.as_deref(), Some("api"));
        assert!(parse("no bar here").is_none());
        assert!(parse("a b | c").is_none());
    }
}
