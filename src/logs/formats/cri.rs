//! Kubernetes CRI container log lines: `<RFC3339> <stdout|stderr> <F|P> <line>`, as the
//! kubelet writes them under `/var/log/containers` and `/var/log/pods`. The inner line
//! is parsed again; a `P` (partial) line goes on in the next one.

use std::borrow::Cow;

use super::{parse_inner, split_word, Parsed};

pub(crate) fn parse(line: &str) -> Option<Parsed<'_>> {
    let (ts, rest) = split_word(line)?;
    let (stream, rest) = split_word(rest)?;
    if stream != "stdout" && stream != "stderr" {
        return None;
    }
    let tb = ts.as_bytes();
    if tb.len() < 20 || tb[4] != b'-' || tb[10] != b'T' {
        return None;
    }
    let tag = rest.get(..1)?;
    if (tag != "F" && tag != "P") || !matches!(rest.as_bytes().get(1), None | Some(b' ')) {
        return None;
    }
    // The inner line starts after exactly one space following the tag.
    let inner = rest.get(2..).unwrap_or("");
    let mut p = parse_inner(inner);
    if p.timestamp.as_deref().is_none_or(super::yearless) {
        p.timestamp = Some(Cow::Borrowed(ts));
    }
    p.partial = tag == "P";
    p.wrapped = true;
    Some(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::level::Level;

    #[test]
    fn cri_line() {
        let p = parse("2025-11-03T20:36:40.060803460Z stderr F ERROR:root:boom").expect("cri line");
        assert_eq!((p.level, p.message.as_ref()), (Level::Error, "boom"));
        assert_eq!(p.logger.as_deref(), Some("root"));
        let p =
            parse("2025-11-03T20:36:40.06Z stdout P   File \"x.py\", line 3").expect("cri line");
        assert!(p.partial && !p.header && p.wrapped);
        assert!(parse("2025-11-03T20:36:40Z stdin F x").is_none());
    }
}
