//! Timestamp normalisation: the many shapes loggers print, turned into UTC.
//!
//! A hand-written scanner rather than format strings, because it runs once per line:
//! the text is split into numbers, a month name and a zone offset, and the shape of
//! those parts picks the reading. Yearless formats (syslog, some log4j) take the year
//! given by the caller (from `--year` or the file's modification time), never a fixed one.

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};

/// Parses `s` as a timestamp; `default_year` fills in formats that print none.
/// Times without a zone are taken as UTC.
pub fn parse_timestamp(s: &str, default_year: i32) -> Option<DateTime<Utc>> {
    let s = s.trim().trim_matches(|c| c == '[' || c == ']');
    let b = s.as_bytes();
    if b.is_empty() || b.len() > 64 {
        return None;
    }
    let mut nums: [(u64, u8); 8] = [(0, 0); 8];
    let mut n = 0;
    let mut month_name = None;
    let mut offset_secs: Option<i32> = None;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() {
            let st = i;
            let mut v: u64 = 0;
            while i < b.len() && b[i].is_ascii_digit() && i - st < 18 {
                v = v * 10 + u64::from(b[i] - b'0');
                i += 1;
            }
            if n == nums.len() {
                return None;
            }
            nums[n] = (v, (i - st) as u8);
            n += 1;
            continue;
        }
        if c.is_ascii_alphabetic() {
            let st = i;
            while i < b.len() && b[i].is_ascii_alphabetic() {
                i += 1;
            }
            let w = &s[st..i];
            if let Some(m) = month_from_name(w) {
                month_name = Some(m);
            } else if w == "Z" || w == "UTC" || w == "GMT" {
                offset_secs = Some(0);
            }
            continue;
        }
        if (c == b'+' || c == b'-') && n >= 5 {
            // Zone offset after the time part: +0000, -07:00.
            let rest = &b[i + 1..];
            let digits: Vec<u8> = rest
                .iter()
                .take(5)
                .filter(|d| d.is_ascii_digit())
                .map(|d| d - b'0')
                .collect();
            if digits.len() >= 4 && rest.first().is_some_and(u8::is_ascii_digit) {
                let h = i32::from(digits[0] * 10 + digits[1]);
                let m = i32::from(digits[2] * 10 + digits[3]);
                let sign = if c == b'-' { -1 } else { 1 };
                offset_secs = Some(sign * (h * 3600 + m * 60));
                break;
            }
        }
        i += 1;
    }
    let nums = &nums[..n];
    let (y, mo, d, h, mi, sec, frac) = if let Some(mo) = month_name {
        // Day, optional year, then h m s: `Dec 10 06:55:46`, `03 Nov 2025 20:36:37.123`,
        // `Sun Dec 04 04:47:44 2005`, `10/Oct/2000:13:55:36 -0700`.
        let year_pos = nums.iter().position(|&(_, w)| w == 4);
        let rest: Vec<(u64, u8)> = nums
            .iter()
            .enumerate()
            .filter(|(k, _)| Some(*k) != year_pos)
            .map(|(_, v)| *v)
            .collect();
        if rest.len() < 4 {
            return None;
        }
        let y = year_pos.map_or(default_year, |p| nums[p].0 as i32);
        let frac = rest.get(4).copied();
        (y, mo, rest[0].0, rest[1].0, rest[2].0, rest[3].0, frac)
    } else if nums.len() == 1 && (nums[0].1 == 10 || nums[0].1 == 13) {
        // Epoch seconds or milliseconds.
        let (secs, nanos) = if nums[0].1 == 13 {
            (nums[0].0 / 1000, (nums[0].0 % 1000) * 1_000_000)
        } else {
            (nums[0].0, 0)
        };
        return Utc.timestamp_opt(secs as i64, nanos as u32).single();
    } else if nums.len() >= 2 && nums[0].1 == 6 && nums[1].1 == 6 {
        // HDFS: 081109 203615.
        let (d, t) = (nums[0].0, nums[1].0);
        (
            2000 + (d / 10000) as i32,
            (d / 100 % 100) as u32,
            d % 100,
            t / 10000,
            t / 100 % 100,
            t % 100,
            None,
        )
    } else if nums.len() >= 6 && nums[0].1 == 4 {
        // ISO-like: 2025-11-03T20:36:40.060803460Z, 2005-06-03-15.42.50.675872.
        (
            nums[0].0 as i32,
            nums[1].0 as u32,
            nums[2].0,
            nums[3].0,
            nums[4].0,
            nums[5].0,
            nums.get(6).copied(),
        )
    } else if nums.len() >= 6 && nums[0].1 == 2 && nums[2].1 == 2 {
        // Two-digit year first: 25/11/03 20:36:37 (Spark), or day first 03/11/2025.
        if nums[2].1 == 4 {
            (
                nums[2].0 as i32,
                nums[1].0 as u32,
                nums[0].0,
                nums[3].0,
                nums[4].0,
                nums[5].0,
                nums.get(6).copied(),
            )
        } else {
            (
                2000 + nums[0].0 as i32,
                nums[1].0 as u32,
                nums[2].0,
                nums[3].0,
                nums[4].0,
                nums[5].0,
                nums.get(6).copied(),
            )
        }
    } else if nums.len() >= 6 && nums[0].1 == 2 && nums[2].1 == 4 {
        (
            nums[2].0 as i32,
            nums[1].0 as u32,
            nums[0].0,
            nums[3].0,
            nums[4].0,
            nums[5].0,
            nums.get(6).copied(),
        )
    } else {
        return None;
    };
    let nanos = frac.map_or(0, |(v, w)| {
        let w = u32::from(w.min(9));
        (v % 10u64.pow(w)) as u32 * 10u32.pow(9 - w)
    });
    let naive = NaiveDate::from_ymd_opt(y, mo, u32::try_from(d).ok()?)?.and_hms_nano_opt(
        u32::try_from(h).ok()?,
        u32::try_from(mi).ok()?,
        u32::try_from(sec).ok()?,
        nanos,
    )?;
    let offset = FixedOffset::east_opt(offset_secs.unwrap_or(0))?;
    let local = offset.from_local_datetime(&naive).single()?;
    Some(local.with_timezone(&Utc))
}

fn month_from_name(w: &str) -> Option<u32> {
    if w.len() < 3 {
        return None;
    }
    let p = w.as_bytes();
    let k = [
        p[0].to_ascii_lowercase(),
        p[1].to_ascii_lowercase(),
        p[2].to_ascii_lowercase(),
    ];
    Some(match &k {
        b"jan" => 1,
        b"feb" => 2,
        b"mar" => 3,
        b"apr" => 4,
        b"may" => 5,
        b"jun" => 6,
        b"jul" => 7,
        b"aug" => 8,
        b"sep" => 9,
        b"oct" => 10,
        b"nov" => 11,
        b"dec" => 12,
        _ => return None,
    })
}

/// RFC 3339 text of a UTC time, with milliseconds.
pub fn rfc3339(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> String {
        parse_timestamp(s, 2024)
            .map(|t| rfc3339(&t))
            .unwrap_or_else(|| "none".into())
    }

    #[test]
    fn shapes() {
        assert_eq!(
            p("2025-11-03T20:36:40.060803460Z"),
            "2025-11-03T20:36:40.060Z"
        );
        assert_eq!(
            p("2025-11-03T20:36:40.123+0100"),
            "2025-11-03T19:36:40.123Z"
        );
        assert_eq!(p("2025-11-03 20:36:37,123"), "2025-11-03T20:36:37.123Z");
        assert_eq!(p("25/11/03 20:36:37"), "2025-11-03T20:36:37.000Z");
        assert_eq!(p("081109 203615"), "2008-11-09T20:36:15.000Z");
        assert_eq!(p("03 Nov 2025 20:36:37.123"), "2025-11-03T20:36:37.123Z");
        assert_eq!(p("Sun Dec 04 04:47:44 2005"), "2005-12-04T04:47:44.000Z");
        assert_eq!(p("10/Oct/2000:13:55:36 -0700"), "2000-10-10T20:55:36.000Z");
        assert_eq!(p("1117838570"), "2005-06-03T22:42:50.000Z");
        assert_eq!(p("2005-06-03-15.42.50.675872"), "2005-06-03T15:42:50.675Z");
    }

    #[test]
    fn yearless_takes_the_given_year() {
        assert_eq!(p("Dec 10 06:55:46"), "2024-12-10T06:55:46.000Z");
        assert_eq!(
            parse_timestamp("Dec 10 06:55:46", 2019)
                .map(|t| rfc3339(&t))
                .as_deref(),
            Some("2019-12-10T06:55:46.000Z")
        );
    }

    #[test]
    fn garbage_is_none() {
        for s in [
            "",
            "hello",
            "99/99/99 99:99:99",
            "2025-13-45T99:00:00",
            "1:2",
            "\u{0}",
        ] {
            assert_eq!(p(s), "none", "{s}");
        }
    }
}
