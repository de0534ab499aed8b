//! Kubernetes CRI container log lines: `<RFC3339> <stdout|stderr> <F|P> <line>`.

use std::borrow::Cow;

use super::{parse_inner, split_word, Parsed};

pub(super) fn parse(line: &str) -> Option<Parsed<'_>> {
    let (ts, rest) = split_word(line)?;
    let (stream, rest) = split_word(rest)?;
    if stream != "stdout" && stream != "stderr" {
        return None;
    }
    let (tag, _) = split_word(rest)?;
    if tag != "F" && tag != "P" {
        return None;
    }
    if ts.len() < 20 || ts.as_bytes()[4] != b'-' || ts.as_bytes()[10] != b'T' {
        return None;
    }
    // The inner line starts after exactly one space following the tag.
    let inner_start = line.find(&format!(" {tag} ")).map(|i| i + 3)?;
    let inner = line.get(inner_start..).unwrap_or("");
    let mut p = parse_inner(inner);
    if p.timestamp.is_none() {
        p.timestamp = Some(Cow::Borrowed(ts));
    }
    p.header = true;
    Some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cri_line() {
        let p = parse("2025-11-03T20:36:40.060803460Z stderr F ERROR:root:boom").expect("cri line");
        assert_eq!(p.message, "boom");
        assert_eq!(p.component.as_deref(), Some("root"));
        assert!(parse("2025-11-03T20:36:40Z stdin F x").is_none());
    }
}
