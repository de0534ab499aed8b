//! The words of a timestamp: zones after the time (`Z`, `+0100`, `-07:00`, `UTC`,
//! `CET`, `UTC+8`), month names and weekday names in English, short or long.

use super::num;

/// A zone after the time: `Z`, `+0100`, `-07:00`, ` +0000`, ` UTC`, ` CET`. Returns the
/// offset in seconds east and where the zone ends (the start when there is none).
pub(super) fn zone(b: &[u8], i: usize) -> (Option<i32>, usize) {
    if b.get(i) == Some(&b'Z') && !b.get(i + 1).is_some_and(u8::is_ascii_alphanumeric) {
        return (Some(0), i + 1);
    }
    if let Some(r) = numeric_offset(b, i) {
        return r;
    }
    if b.get(i) == Some(&b' ') {
        if let Some(r) = numeric_offset(b, i + 1) {
            return r;
        }
        let j = i + 1;
        let mut k = j;
        while k < b.len() && b[k].is_ascii_uppercase() && k - j < 5 {
            k += 1;
        }
        if k > j && !b.get(k).is_some_and(u8::is_ascii_alphanumeric) {
            if let Some(off) = named_zone(&b[j..k]) {
                // `UTC+8`, `GMT-05:00`.
                if let Some((Some(extra), e)) = numeric_offset(b, k) {
                    return (Some(off + extra), e);
                }
                return (Some(off), k);
            }
        }
    }
    (None, i)
}

fn numeric_offset(b: &[u8], i: usize) -> Option<(Option<i32>, usize)> {
    let sign = match b.get(i) {
        Some(b'+') => 1,
        Some(b'-') => -1,
        _ => return None,
    };
    let h = num(b, i + 1, 2, 4)?;
    let (hours, mins, end) = match h.w {
        4 => (h.v / 100, h.v % 100, h.end),
        2 if b.get(h.end) == Some(&b':') => {
            let m = num(b, h.end + 1, 2, 2)?;
            (h.v, m.v, m.end)
        }
        2 => (h.v, 0, h.end),
        _ => return None,
    };
    if hours > 14 || mins > 59 {
        return None;
    }
    Some((Some(sign * (hours * 3600 + mins * 60) as i32), end))
}

fn named_zone(w: &[u8]) -> Option<i32> {
    const H: i32 = 3600;
    Some(match w {
        b"Z" | b"UTC" | b"GMT" | b"UT" | b"WET" => 0,
        b"BST" | b"CET" | b"WEST" => H,
        b"CEST" | b"EET" => 2 * H,
        b"EEST" | b"MSK" => 3 * H,
        b"SGT" | b"HKT" | b"AWST" => 8 * H,
        b"JST" | b"KST" => 9 * H,
        b"AEST" => 10 * H,
        b"AEDT" => 11 * H,
        b"EST" | b"CDT" => -5 * H,
        b"EDT" => -4 * H,
        b"CST" | b"MDT" => -6 * H,
        b"MST" | b"PDT" => -7 * H,
        b"PST" => -8 * H,
        _ => return None,
    })
}

/// The alphabetic word at `i`, at most 10 letters, and where it ends.
fn word_at(b: &[u8], i: usize) -> Option<(&[u8], usize)> {
    let mut j = i;
    while j < b.len() && b[j].is_ascii_alphabetic() {
        j += 1;
        if j - i > 10 {
            return None;
        }
    }
    (j - i >= 3).then(|| (&b[i..j], j))
}

/// Whether `w` names `full` (its first three letters or all of it; `Sept` too).
fn names(w: &[u8], full: &[u8]) -> bool {
    let eq = |n: usize| {
        w.len() == n
            && w.iter()
                .zip(full)
                .all(|(a, b)| a.to_ascii_lowercase() == *b)
    };
    eq(3) || eq(full.len()) || (full == b"september" && eq(4))
}

pub(super) fn month_name(b: &[u8], i: usize) -> Option<(u32, usize)> {
    const NAMES: [&[u8]; 12] = [
        b"january",
        b"february",
        b"march",
        b"april",
        b"may",
        b"june",
        b"july",
        b"august",
        b"september",
        b"october",
        b"november",
        b"december",
    ];
    let (w, j) = word_at(b, i)?;
    let k = NAMES.iter().position(|n| names(w, n))?;
    Some((k as u32 + 1, j))
}

pub(super) fn weekday(b: &[u8], i: usize) -> Option<usize> {
    const DAYS: [&[u8]; 7] = [
        b"monday",
        b"tuesday",
        b"wednesday",
        b"thursday",
        b"friday",
        b"saturday",
        b"sunday",
    ];
    let (w, j) = word_at(b, i)?;
    DAYS.iter().any(|d| names(w, d)).then_some(j)
}
