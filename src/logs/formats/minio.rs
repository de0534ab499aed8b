//! MinIO's console error blocks:
//!
//! ```text
//! API: PutObject(bucket=warehouse, object=part-0001.parquet)
//! Time: 20:36:40 UTC 11/03/2025
//! DeploymentID: 6faeded5-5cf3-4133-8a37-07c5d500207c
//! RequestID: 1791B9B4E0A9C2D1
//! Error: Storage resources are insufficient for the write operation (cmd.InsufficientWriteQuorum)
//!        3: internal/logger/logger.go:258:logger.LogIf()
//! ```
//!
//! `API:` starts a record; the lines after it belong to it, `Time:` giving its
//! timestamp and `Error:` its level.

use std::borrow::Cow;

use super::Parsed;
use crate::logs::level::Level;

const KEYS: &[&str] = &[
    "DeploymentID: ",
    "RequestID: ",
    "RemoteHost: ",
    "Host: ",
    "UserAgent: ",
    "Bucket: ",
    "Object: ",
];

pub(super) fn parse(line: &str) -> Option<Parsed<'_>> {
    if let Some(api) = line.strip_prefix("API: ") {
        if api.starts_with("http://") || api.starts_with("https://") {
            // The startup banner's endpoint list, not an error block.
            return None;
        }
        return Some(Parsed {
            message: Cow::Borrowed(api),
            header: true,
            ..Default::default()
        });
    }
    let mut p = Parsed {
        message: Cow::Borrowed(line),
        continues: true,
        ..Default::default()
    };
    if let Some(t) = line.strip_prefix("Time: ") {
        p.timestamp = Some(Cow::Borrowed(t.trim()));
        return Some(p);
    }
    if line.starts_with("Error: ") {
        p.level = Level::Error;
        p.explicit_level = true;
        return Some(p);
    }
    if KEYS.iter().any(|k| line.starts_with(k)) {
        return Some(p);
    }
    // Stack frames: `       3: internal/logger/logger.go:258:logger.LogIf()`.
    let t = line.trim_start();
    let frame = t.len() < line.len()
        && t.split_once(": ").is_some_and(|(n, rest)| {
            n.bytes().all(|c| c.is_ascii_digit()) && rest.contains(".go:")
        });
    frame.then_some(p)
}

/// The first line of an error block where any format may come (inside a container
/// runtime's wrapper): `API: Name(...)` or `API: SYSTEM...`, never a line that merely
/// starts with `API: `.
pub(super) fn block_start(line: &str) -> Option<Parsed<'_>> {
    let api = line.strip_prefix("API: ")?;
    let name = api.split(['(', ' ']).next().unwrap_or("");
    let call = api[name.len()..].starts_with('(') || (name.starts_with("SYSTEM") && name == api);
    let word = !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.')
        && name.as_bytes()[0].is_ascii_uppercase();
    (call && word).then(|| parse(line)).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_lines() {
        assert!(parse("API: SYSTEM()").is_some_and(|p| p.header));
        let t = parse("Time: 20:36:40 UTC 11/03/2025").expect("time");
        assert!(t.continues && t.timestamp.is_some());
        assert_eq!(
            parse("Error: drive offline (*errors.errorString)").map(|p| p.level),
            Some(Level::Error)
        );
        assert!(parse("       3: internal/logger/logger.go:258:logger.LogIf()").is_some());
        assert!(parse("Status: 4 Online").is_none());
    }

    #[test]
    fn block_starts_among_other_formats() {
        for start in [
            "API: PutObject(bucket=warehouse, object=objects/fd9b0e7f10a7.bin)",
            "API: SYSTEM()",
            "API: SYSTEM.grid",
        ] {
            assert!(block_start(start).is_some_and(|p| p.header), "{start}");
        }
        for other in [
            "API: http://10.0.3.4:9000  http://127.0.0.1:9000",
            "API: listening on :8080",
            "API: ready",
            "Time: 20:36:40 UTC 11/03/2025",
        ] {
            assert!(block_start(other).is_none(), "{other}");
        }
    }
}
