//! Header patterns: a format is one line of configuration such as
//! `<Date> <Time> <Level> [<Process>] <Component>: <Content>`.
//!
//! `<Name>` is a field; any other text is literal, and a run of spaces matches any run
//! of whitespace. Each field takes the shortest text up to the next literal; `<Content>`
//! takes the rest of the line. Fields with a meaning: `Date`, `Time`, `Timestamp`,
//! `Month`, `Day`, `Year` (the timestamp, in that order), `Level` (or `Severity`),
//! `Component` (or `Service`, `App`, `Program`: the service), `Logger` (or `Class`),
//! `Thread`, `Content`; other names are matched and ignored.
//!
//! A line fits only when its fields do: the level must be a level, the timestamp must
//! read as one, and names carry no spaces. A pattern that matches any text is no
//! format.

use std::borrow::Cow;

use super::Parsed;
use crate::logs::LogsError;

#[derive(Debug, Clone, PartialEq)]
enum Atom {
    /// One or more whitespace characters.
    Space,
    /// Exact text.
    Text(String),
    /// A named field.
    Field(Role),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Role {
    Time(u8),
    Level,
    Service,
    Logger,
    Thread,
    Content,
    Other,
}

/// A compiled header pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct HeaderPattern {
    source: String,
    atoms: Vec<Atom>,
    time_fields: usize,
}

impl HeaderPattern {
    /// Compiles a pattern; it must contain `<Content>` exactly once, at the end.
    pub fn compile(pattern: &str) -> Result<Self, LogsError> {
        let bad = |reason: &str| LogsError::FormatSpec {
            spec: pattern.to_string(),
            reason: reason.to_string(),
        };
        let mut atoms = Vec::new();
        let mut rest = pattern;
        while !rest.is_empty() {
            if let Some(r) = rest.strip_prefix('<') {
                let end = r.find('>').ok_or_else(|| bad("unclosed <"))?;
                let name = &r[..end];
                if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    return Err(bad("field names are letters, digits and _"));
                }
                let role = match name.to_ascii_lowercase().as_str() {
                    "year" => Role::Time(0),
                    "month" => Role::Time(1),
                    "date" => Role::Time(2),
                    "day" => Role::Time(3),
                    "time" => Role::Time(4),
                    "timestamp" => Role::Time(5),
                    "level" | "severity" => Role::Level,
                    "component" | "service" | "app" | "program" => Role::Service,
                    "logger" | "class" => Role::Logger,
                    "thread" => Role::Thread,
                    "content" | "message" => Role::Content,
                    _ => Role::Other,
                };
                if matches!(atoms.last(), Some(Atom::Field(_))) {
                    return Err(bad("two fields need a literal between them"));
                }
                atoms.push(Atom::Field(role));
                rest = &r[end + 1..];
            } else if rest.starts_with(char::is_whitespace) {
                atoms.push(Atom::Space);
                rest = rest.trim_start();
            } else {
                let end = rest
                    .find(|c: char| c == '<' || c.is_whitespace())
                    .unwrap_or(rest.len());
                let text = rest[..end].replace('\\', "");
                atoms.push(Atom::Text(text));
                rest = &rest[end..];
            }
        }
        let contents = atoms
            .iter()
            .filter(|a| **a == Atom::Field(Role::Content))
            .count();
        if contents != 1 || atoms.last() != Some(&Atom::Field(Role::Content)) {
            return Err(bad("the pattern must end with <Content>"));
        }
        let time_fields = atoms
            .iter()
            .filter(|a| matches!(a, Atom::Field(Role::Time(_))))
            .count();
        Ok(Self {
            source: pattern.to_string(),
            atoms,
            time_fields,
        })
    }

    /// The pattern as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Matches a line; `header` is false when it does not fit the pattern.
    pub fn parse<'a>(&self, line: &'a str) -> Parsed<'a> {
        self.try_parse(line).unwrap_or_else(|| Parsed::bare(line))
    }

    /// Matches a line; None when it does not fit the pattern.
    pub(crate) fn try_parse<'a>(&self, line: &'a str) -> Option<Parsed<'a>> {
        let mut pos = 0;
        let b = line.as_bytes();
        let mut times: [Option<&'a str>; 6] = [None; 6];
        // Byte span covering the time fields, and whether only time fields and literals
        // lie inside it (then the span is the timestamp as printed, no copy needed).
        let mut span: Option<(usize, usize)> = None;
        let mut span_clean = true;
        let mut times_seen = 0;
        let mut level = None;
        let mut names: [Option<&'a str>; 3] = [None; 3];
        let mut content = "";
        let mut k = 0;
        while k < self.atoms.len() {
            match &self.atoms[k] {
                Atom::Space => {
                    let s = pos;
                    while pos < b.len() && b[pos].is_ascii_whitespace() {
                        pos += 1;
                    }
                    if pos == s {
                        return None;
                    }
                }
                Atom::Text(t) => {
                    if !text_at(b, pos, t) {
                        return None;
                    }
                    pos += t.len();
                }
                Atom::Field(Role::Content) => {
                    content = &line[pos..];
                }
                Atom::Field(role) => {
                    let end = self.field_end(line, pos, k + 1)?;
                    let value = &line[pos..end];
                    if value.is_empty() {
                        return None;
                    }
                    match role {
                        Role::Time(i) => {
                            // Distinct time fields seen (a repeated one counts once).
                            times_seen += usize::from(times[*i as usize].is_none());
                            times[*i as usize] = Some(value);
                            span = Some(span.map_or((pos, end), |(s, _)| (s, end)));
                        }
                        Role::Level => level = Some(value),
                        Role::Service | Role::Logger | Role::Thread => {
                            if value.bytes().any(|c| c.is_ascii_whitespace()) {
                                return None;
                            }
                            let slot = match role {
                                Role::Service => 0,
                                Role::Logger => 1,
                                _ => 2,
                            };
                            names[slot] = Some(value);
                        }
                        _ => {}
                    }
                    if !matches!(role, Role::Time(_))
                        && span.is_some()
                        && times_seen < self.time_fields
                    {
                        span_clean = false;
                    }
                    pos = end;
                }
            }
            k += 1;
        }
        let full = |t: &str| {
            crate::logs::time::parse_timestamp_in(t, &crate::logs::time::TimeContext::probe())
                .is_some()
        };
        let timestamp = match (times[4], times[5], span) {
            (_, _, Some((s, e))) if span_clean && self.time_fields > 1 && times[5].is_none() => {
                Some(Cow::Borrowed(&line[s..e]))
            }
            (Some(t), _, _) if full(t) => Some(Cow::Borrowed(t)),
            (_, Some(t), _) if full(t) => Some(Cow::Borrowed(t)),
            _ => {
                let parts: Vec<&str> = times.iter().flatten().copied().collect();
                match parts.len() {
                    0 => None,
                    1 => Some(Cow::Borrowed(parts[0])),
                    _ => {
                        // Month and day before the date and time they qualify.
                        let mut ordered = Vec::with_capacity(parts.len());
                        for i in [1usize, 3, 2, 0, 4, 5] {
                            if let Some(t) = times[i] {
                                ordered.push(t);
                            }
                        }
                        Some(Cow::Owned(ordered.join(" ")))
                    }
                }
            }
        };
        // The fields must mean what they say: a level that is no level, or a time that
        // is no time, is a line of another format.
        // A level field is a bare word: brackets around it belong in the pattern.
        let level = match level {
            Some(l) if l.bytes().all(|c| c.is_ascii_alphabetic()) => {
                Some(crate::logs::level::Level::parse(l)?)
            }
            Some(_) => return None,
            None => None,
        };
        let time = match &timestamp {
            Some(t) => crate::logs::time::parse_complete(t)?,
            None => None,
        };
        let mut p = Parsed {
            timestamp,
            time,
            service: names[0].map(Cow::Borrowed),
            logger: names[1].map(Cow::Borrowed),
            thread: names[2].map(Cow::Borrowed),
            message: Cow::Borrowed(content),
            header: true,
            ..Default::default()
        };
        match level {
            Some(l) => {
                p.level = l;
                p.explicit_level = true;
            }
            None => p.level = crate::logs::level::infer_level(content),
        }
        Some(p)
    }

    /// End of a field starting at `pos`: the first place where the literal atoms after
    /// it match.
    fn field_end(&self, line: &str, pos: usize, next: usize) -> Option<usize> {
        let b = line.as_bytes();
        let mut i = pos + 1;
        // Jump straight to places where the first literal atom can start.
        let first: Option<u8> = match self.atoms.get(next) {
            Some(Atom::Text(t)) => t.bytes().next(),
            _ => None,
        };
        let space_next = matches!(self.atoms.get(next), Some(Atom::Space));
        while i <= b.len() {
            if let (Some(f), false) = (first, space_next) {
                // Straight to the next place the literal can start.
                match b.get(i..).and_then(|rest| memchr::memchr(f, rest)) {
                    Some(at) => i += at,
                    None => return None,
                }
            }
            let candidate = if space_next {
                i < b.len() && b[i].is_ascii_whitespace()
            } else if let Some(f) = first {
                i < b.len() && b[i] == f
            } else {
                true
            };
            if candidate && line.is_char_boundary(i) && self.literals_match_at(line, i, next) {
                return Some(i);
            }
            i += 1;
        }
        None
    }

    fn literals_match_at(&self, line: &str, mut pos: usize, mut k: usize) -> bool {
        let b = line.as_bytes();
        let mut matched_any = false;
        while let Some(atom) = self.atoms.get(k) {
            match atom {
                Atom::Space => {
                    let s = pos;
                    while pos < b.len() && b[pos].is_ascii_whitespace() {
                        pos += 1;
                    }
                    if pos == s {
                        return false;
                    }
                }
                Atom::Text(t) => {
                    if !text_at(b, pos, t) {
                        return false;
                    }
                    pos += t.len();
                }
                Atom::Field(_) => return matched_any,
            }
            matched_any = true;
            k += 1;
        }
        matched_any
    }
}

/// Whether the literal `t` stands at `pos`, compared byte by byte: literals are a few
/// bytes, shorter than a call to `memcmp`. A match of whole characters that starts on a
/// character boundary ends on one.
fn text_at(b: &[u8], pos: usize, t: &str) -> bool {
    let t = t.as_bytes();
    b.len() >= pos + t.len() && b[pos..pos + t.len()].iter().zip(t).all(|(x, y)| x == y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::level::Level;

    #[test]
    fn hdfs_header() {
        let p = HeaderPattern::compile("<Date> <Time> <Pid> <Level> <Component>: <Content>")
            .expect("valid pattern");
        let r = p.parse("081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_1 terminating");
        assert!(r.header);
        assert_eq!(r.level, Level::Info);
        assert_eq!(r.service.as_deref(), Some("dfs.DataNode$PacketResponder"));
        assert_eq!(r.message, "PacketResponder 1 for block blk_1 terminating");
        assert_eq!(r.timestamp.as_deref(), Some("081109 203615"));
        assert!(!p.parse("garbage").header);
        // A level that is not one, or a time that is not one, is another format.
        assert!(!p.parse("081109 203615 148 BANANA dfs.X: y").header);
        assert!(
            !p.parse("2025-11-03 20:36:40.123  INFO 1 --- [main] o.s.App : x")
                .header
        );
    }

    #[test]
    fn literal_brackets_and_spaces_inside_fields() {
        let p = HeaderPattern::compile("[<Time>] [<Level>] <Content>").expect("valid pattern");
        let r =
            p.parse("[Sun Dec 04 04:47:44 2005] [error] mod_jk child workerEnv in error state 6");
        assert_eq!(r.timestamp.as_deref(), Some("Sun Dec 04 04:47:44 2005"));
        assert_eq!(r.level, Level::Error);
        assert_eq!(r.message, "mod_jk child workerEnv in error state 6");
    }

    #[test]
    fn invalid_patterns() {
        assert!(HeaderPattern::compile("<Date> <Time>").is_err());
        assert!(HeaderPattern::compile("<Date><Time> <Content>").is_err());
        assert!(HeaderPattern::compile("<Date <Content>").is_err());
    }
}
