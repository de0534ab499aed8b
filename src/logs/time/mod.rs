//! Timestamp normalisation: the many shapes loggers print, turned into UTC.
//!
//! A hand-written scanner rather than format strings, because it runs once per record.
//! [`scan_timestamp`] reads the longest timestamp at the start of a text and says where
//! it ends, so a header parser never swallows the words after it (`2025-11-03 20:36:40
//! ERROR 500` is a timestamp, a level and `500`, not a time with 500 ms).
//! [`parse_timestamp`] reads a whole field.
//!
//! Shapes, each tried from the start of the text:
//! - ISO-like dates with a time: `2025-11-03T20:36:40.123Z`, `2025/11/03 20:36:40`,
//!   `2025-11-03 20:36:40,123 +0100`, `2005-06-03-15.42.50.675872`, `20251103T203640Z`;
//! - two-digit years (`25/11/03 20:36:37`, log4j's `yy/MM/dd`), `081109 203615` (HDFS);
//! - day or month first with a four-digit year: `03.11.2025 20:36:40`, `11/03/2025 ...`;
//! - month names: `Nov  3 20:36:40` (syslog), `Mon Nov 03 20:36:40.123 2025`,
//!   `03 Nov 2025 20:36:37.123`, `03/Nov/2025:20:36:40 -0700`, `Nov 03, 2025 8:36:40 PM`;
//! - yearless numeric dates: `11-03 20:36:40.123` (logcat, klog);
//! - the time first: `20:36:40 UTC 11/03/2025`; the time alone (the file's date);
//! - epoch numbers, the unit decided by magnitude: seconds (with or without a fraction),
//!   milliseconds, microseconds, nanoseconds.
//!
//! Zones: `Z`, `+0000`, `-07:00`, `UTC`/`GMT` and common abbreviations; none means UTC.
//! Yearless formats take the year of their [`TimeContext`] (from `--year` or the file's
//! modification time), never a fixed one.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, TimeZone, Utc};

mod names;
use names::{month_name, weekday, zone};

/// What a timestamp that prints less than a full date takes from its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeContext {
    /// Year of timestamps that print none (syslog, klog, logcat).
    pub year: i32,
    /// Date of timestamps that print only a time of day (the file's modification day).
    pub date: Option<NaiveDate>,
}

impl TimeContext {
    /// A context with `year` and no date for time-only stamps.
    pub fn year(year: i32) -> Self {
        Self { year, date: None }
    }

    /// A context for probing whether text is a timestamp at all (format detection):
    /// every shape reads.
    pub fn probe() -> Self {
        Self {
            year: 2000,
            date: NaiveDate::from_ymd_opt(2000, 1, 1),
        }
    }

    /// A context taking both the year and the date from `date`.
    pub fn on(date: NaiveDate) -> Self {
        Self {
            year: date.year(),
            date: Some(date),
        }
    }
}

/// Parses `s` as a whole timestamp; `default_year` fills in formats that print none.
/// Times without a zone are taken as UTC. Time-only text is not a timestamp here.
pub fn parse_timestamp(s: &str, default_year: i32) -> Option<DateTime<Utc>> {
    parse_timestamp_in(s, &TimeContext::year(default_year))
}

/// Parses `s` as a whole timestamp (surrounding spaces and brackets allowed).
pub fn parse_timestamp_in(s: &str, ctx: &TimeContext) -> Option<DateTime<Utc>> {
    let s = trim_field(s);
    let (end, t) = scan_timestamp(s, ctx)?;
    s[end..].trim().is_empty().then_some(t)
}

/// A timestamp field without surrounding spaces and brackets; one that starts and ends
/// with a letter or digit (the usual case) is returned as it is.
fn trim_field(s: &str) -> &str {
    let b = s.as_bytes();
    let bare = |c: Option<&u8>| c.is_some_and(u8::is_ascii_alphanumeric);
    if bare(b.first()) && bare(b.last()) {
        return s;
    }
    s.trim().trim_matches(|c| c == '[' || c == ']')
}

/// Reads the longest timestamp at the start of `s`: the byte length it covers and its
/// value. The timestamp must end at a word boundary.
pub fn scan_timestamp(s: &str, ctx: &TimeContext) -> Option<(usize, DateTime<Utc>)> {
    scan(s, ctx).map(|(end, t, _)| (end, t))
}

/// [`scan_timestamp`], also saying whether the value took anything from `ctx` (a year
/// or a date the text does not print).
pub fn scan(s: &str, ctx: &TimeContext) -> Option<(usize, DateTime<Utc>, bool)> {
    let b = s.as_bytes();
    let first = *b.first()?;
    let found = if first.is_ascii_digit() {
        numeric_first(b, ctx)
    } else if first.is_ascii_alphabetic() {
        name_first(b, ctx)
    } else {
        None
    }?;
    let (end, stamp) = found;
    if b.get(end).is_some_and(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    Some((end, stamp.resolve()?, stamp.from_context))
}

/// Reads `s` as a whole timestamp that needs no context: `None` when it is no
/// timestamp, `Some(None)` when it is one that prints no year or no date (its value
/// depends on the file), `Some(Some(t))` otherwise. Parsers use it to check a timestamp
/// field and keep its value in one pass.
pub fn parse_complete(s: &str) -> Option<Option<DateTime<Utc>>> {
    let s = trim_field(s);
    match scan(s, &TimeContext::probe()) {
        Some((end, t, from_context)) if s[end..].trim().is_empty() => {
            Some((!from_context).then_some(t))
        }
        _ => None,
    }
}

/// A timestamp read but not yet checked.
struct Stamp {
    date: NaiveDate,
    time: Clock,
    offset: i32,
    /// Whether the year or the date came from the context.
    from_context: bool,
}

impl Stamp {
    fn resolve(&self) -> Option<DateTime<Utc>> {
        let naive = self.date.and_hms_nano_opt(
            self.time.h,
            self.time.m,
            self.time.s.min(59),
            self.time.nanos,
        )?;
        if self.offset == 0 {
            return Some(naive.and_utc());
        }
        let offset = FixedOffset::east_opt(self.offset)?;
        Some(
            offset
                .from_local_datetime(&naive)
                .single()?
                .with_timezone(&Utc),
        )
    }
}

/// A time of day.
#[derive(Debug, Clone, Copy)]
struct Clock {
    h: u32,
    m: u32,
    s: u32,
    nanos: u32,
}

/// A number read at a position: value, digit count, end.
#[derive(Debug, Clone, Copy)]
struct Num {
    v: u32,
    w: usize,
    end: usize,
}

fn num(b: &[u8], i: usize, min: usize, max: usize) -> Option<Num> {
    let mut j = i;
    let mut v: u32 = 0;
    while j < b.len() && b[j].is_ascii_digit() && j - i < max {
        // Long digit runs (epochs) are read again by `epoch`; saturate here.
        v = v.saturating_mul(10).saturating_add(u32::from(b[j] - b'0'));
        j += 1;
    }
    let w = j - i;
    if w < min || b.get(j).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    Some(Num { v, w, end: j })
}

fn byte_is(b: &[u8], i: usize, set: &[u8]) -> bool {
    b.get(i).is_some_and(|c| set.contains(c))
}

/// Skips spaces (at most a few, as in `Nov  3`).
fn spaces(b: &[u8], mut i: usize) -> usize {
    let s = i;
    while i < b.len() && b[i] == b' ' && i - s < 4 {
        i += 1;
    }
    i
}

/// Shapes that start with a digit.
fn numeric_first(b: &[u8], ctx: &TimeContext) -> Option<(usize, Stamp)> {
    let lead = num(b, 0, 1, 20)?;
    match (lead.w, b.get(lead.end).copied()) {
        (4, Some(b'-' | b'/' | b'.')) => iso_date(b, lead),
        (8, Some(b'T' | b'-' | b' ' | b'_')) => compact_date(b, lead),
        (6, Some(b' ')) => hdfs(b, lead).or_else(|| epoch(b, lead)),
        (1 | 2, Some(b':')) => time_first(b, ctx),
        (1 | 2, Some(b'-' | b'/' | b'.')) => short_date(b, lead, ctx),
        (1 | 2, Some(b' ')) => day_month_name(b, lead),
        _ => epoch(b, lead),
    }
}

/// `2025-11-03T20:36:40.123Z`, `2025/11/03 20:36:40`, `2005-06-03-15.42.50.675872`.
fn iso_date(b: &[u8], y: Num) -> Option<(usize, Stamp)> {
    let sep = b[y.end];
    let m = num(b, y.end + 1, 1, 2)?;
    if b.get(m.end) != Some(&sep) {
        return None;
    }
    let d = num(b, m.end + 1, 1, 2)?;
    let date = NaiveDate::from_ymd_opt(y.v as i32, m.v, d.v)?;
    let i = match b.get(d.end) {
        Some(b'T' | b'_' | b'-') => d.end + 1,
        Some(b' ') => spaces(b, d.end),
        _ => return None,
    };
    let (time, i) = clock(b, i)?;
    Some(zoned(b, i, date, time))
}

/// `20251103T203640Z`, `20171223-22:15:29:606`.
fn compact_date(b: &[u8], d: Num) -> Option<(usize, Stamp)> {
    let date = NaiveDate::from_ymd_opt((d.v / 10000) as i32, d.v / 100 % 100, d.v % 100)?;
    let i = d.end + 1;
    let (time, i) = match num(b, i, 6, 6) {
        Some(t) => {
            let time = Clock {
                h: t.v / 10000,
                m: t.v / 100 % 100,
                s: t.v % 100,
                nanos: 0,
            };
            let (nanos, end) = fraction(b, t.end);
            (Clock { nanos, ..time }, end)
        }
        None => clock(b, i)?,
    };
    Some(zoned(b, i, date, time))
}

/// A stamp printed with its date, then its zone (if any) read at `i`; returns where
/// the zone ended.
fn zoned(b: &[u8], i: usize, date: NaiveDate, time: Clock) -> (usize, Stamp) {
    let (offset, i) = zone(b, i);
    (
        i,
        Stamp {
            date,
            time,
            offset: offset.unwrap_or(0),
            from_context: false,
        },
    )
}

/// HDFS: `081109 203615` (yyMMdd HHmmss).
fn hdfs(b: &[u8], d: Num) -> Option<(usize, Stamp)> {
    let t = num(b, d.end + 1, 6, 6)?;
    let date = NaiveDate::from_ymd_opt(2000 + (d.v / 10000) as i32, d.v / 100 % 100, d.v % 100)?;
    let time = Clock {
        h: t.v / 10000,
        m: t.v / 100 % 100,
        s: t.v % 100,
        nanos: 0,
    };
    Some((
        t.end,
        Stamp {
            date,
            time,
            offset: 0,
            from_context: false,
        },
    ))
}

/// Two numbers and a separator first: `25/11/03 20:36:37` (yy/MM/dd),
/// `03.11.2025 20:36:40`, `11/03/2025 20:36:40` (month first with `/`), `11-03
/// 20:36:40.123` (yearless), `03/Nov/2025:20:36:40 -0700`.
fn short_date(b: &[u8], a: Num, ctx: &TimeContext) -> Option<(usize, Stamp)> {
    let sep = b[a.end];
    let i = a.end + 1;
    if b.get(i).is_some_and(u8::is_ascii_alphabetic) {
        return day_name_year(b, a, sep);
    }
    let m = num(b, i, 1, 2)?;
    let yearless = b.get(m.end) != Some(&sep);
    let (date, after) = if !yearless {
        let c = num(b, m.end + 1, 2, 4)?;
        let date = match c.w {
            4 => {
                // Day first unless that cannot be (`11/03/2025` with `/` reads as US).
                let (mo, d) = if a.v > 12 || (sep != b'/' && m.v <= 12) {
                    (m.v, a.v)
                } else {
                    (a.v, m.v)
                };
                NaiveDate::from_ymd_opt(c.v as i32, mo, d)?
            }
            2 if a.w == 2 => NaiveDate::from_ymd_opt(2000 + a.v as i32, m.v, c.v)?,
            _ => return None,
        };
        (date, c.end)
    } else {
        // Yearless month and day.
        (NaiveDate::from_ymd_opt(ctx.year, a.v, m.v)?, m.end)
    };
    let i = match b.get(after) {
        Some(b' ') => spaces(b, after),
        Some(b'T' | b'-' | b':') => after + 1,
        _ => return None,
    };
    let (time, i) = clock(b, i)?;
    let (offset, i) = zone(b, i);
    Some((
        i,
        Stamp {
            date,
            time,
            offset: offset.unwrap_or(0),
            from_context: yearless,
        },
    ))
}

/// `03/Nov/2025:20:36:40 -0700` (access logs), `03-Nov-2025 20:36:40.123` (Tomcat).
fn day_name_year(b: &[u8], d: Num, sep: u8) -> Option<(usize, Stamp)> {
    let (mo, i) = month_name(b, d.end + 1)?;
    if b.get(i) != Some(&sep) {
        return None;
    }
    let y = num(b, i + 1, 4, 4)?;
    let date = NaiveDate::from_ymd_opt(y.v as i32, mo, d.v)?;
    let i = match b.get(y.end) {
        Some(b':') => y.end + 1,
        Some(b' ') => spaces(b, y.end),
        _ => return None,
    };
    let (time, i) = clock(b, i)?;
    Some(zoned(b, i, date, time))
}

/// `03 Nov 2025 20:36:37.123` (Redis, RFC 2822 without the weekday).
fn day_month_name(b: &[u8], d: Num) -> Option<(usize, Stamp)> {
    let i = spaces(b, d.end);
    let (mo, i) = month_name(b, i)?;
    let i = spaces(b, i);
    let y = num(b, i, 4, 4)?;
    let date = NaiveDate::from_ymd_opt(y.v as i32, mo, d.v)?;
    let i = spaces(b, y.end);
    let (time, i) = clock(b, i)?;
    Some(zoned(b, i, date, time))
}

/// The time first: `20:36:40 UTC 11/03/2025` (MinIO), or the time alone, which takes
/// the context's date.
fn time_first(b: &[u8], ctx: &TimeContext) -> Option<(usize, Stamp)> {
    let (time, i) = clock(b, 0)?;
    let (offset, end) = zone(b, i);
    let j = spaces(b, end);
    if j > end {
        if let Some(a) = num(b, j, 1, 2) {
            if byte_is(b, a.end, b"/-.") {
                let sep = b[a.end];
                let m = num(b, a.end + 1, 1, 2)?;
                let y = num(b, m.end + 1, 4, 4).filter(|_| b.get(m.end) == Some(&sep))?;
                let (mo, d) = if sep == b'/' && a.v <= 12 {
                    (a.v, m.v)
                } else {
                    (m.v, a.v)
                };
                let date = NaiveDate::from_ymd_opt(y.v as i32, mo, d)?;
                return Some((
                    y.end,
                    Stamp {
                        date,
                        time,
                        offset: offset.unwrap_or(0),
                        from_context: false,
                    },
                ));
            }
        }
    }
    let date = ctx.date?;
    Some((
        end,
        Stamp {
            date,
            time,
            offset: offset.unwrap_or(0),
            from_context: true,
        },
    ))
}

/// Shapes that start with a word: a weekday, then a month name.
/// `Nov  3 20:36:40`, `Mon Nov 03 20:36:40.123456 2025`, `Mon, 03 Nov 2025 20:36:40 GMT`,
/// `Nov 03, 2025 8:36:40 PM`.
fn name_first(b: &[u8], ctx: &TimeContext) -> Option<(usize, Stamp)> {
    let mut i = 0;
    if let Some(after) = weekday(b, 0) {
        i = after;
        if b.get(i) == Some(&b',') {
            i += 1;
        }
        i = spaces(b, i);
        if i == after {
            return None;
        }
        if let Some(d) = num(b, i, 1, 2) {
            return day_month_name(b, d);
        }
    }
    let (mo, j) = month_name(b, i)?;
    let j = spaces(b, j);
    let d = num(b, j, 1, 2)?;
    let mut k = d.end;
    if b.get(k) == Some(&b',') {
        k += 1;
    }
    k = spaces(b, k);
    // A year before the time (`Nov 03, 2025 8:36:40 PM`).
    let mut year = None;
    if let Some(y) = num(b, k, 4, 4) {
        if b.get(y.end) == Some(&b' ') {
            year = Some(y.v as i32);
            k = spaces(b, y.end);
        }
    }
    let (time, k) = clock(b, k)?;
    let (offset, mut end) = zone(b, k);
    // A year after the time (`ctime`: `Mon Nov 03 20:36:40 2025`).
    if year.is_none() {
        let j = spaces(b, end);
        if let Some(y) = num(b, j, 4, 4).filter(|_| j > end) {
            year = Some(y.v as i32);
            end = y.end;
        }
    }
    let date = NaiveDate::from_ymd_opt(year.unwrap_or(ctx.year), mo, d.v)?;
    Some((
        end,
        Stamp {
            date,
            time,
            offset: offset.unwrap_or(0),
            from_context: year.is_none(),
        },
    ))
}

/// Epoch numbers: the unit by the number of digits (10 seconds, 13 milliseconds, 16
/// microseconds, 19 nanoseconds, give or take one); seconds may carry a fraction.
/// Only instants between 1990 and 2100 count, so ids and counters are not read as times.
fn epoch(b: &[u8], lead: Num) -> Option<(usize, Stamp)> {
    let mut end = lead.end;
    while end < b.len() && b[end].is_ascii_digit() {
        end += 1;
    }
    let digits = &b[..end];
    if digits.len() > 19 {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        v = v * 10 + u64::from(c - b'0');
    }
    let (secs, mut nanos) = match digits.len() {
        9 | 10 => (v, 0),
        12 | 13 => (v / 1_000, (v % 1_000) * 1_000_000),
        15 | 16 => (v / 1_000_000, (v % 1_000_000) * 1_000),
        18 | 19 => (v / 1_000_000_000, v % 1_000_000_000),
        _ => return None,
    };
    if digits.len() <= 10 && b.get(end) == Some(&b'.') {
        let (n, e) = fraction(b, end);
        if e > end {
            nanos = u64::from(n);
            end = e;
        }
    }
    // 1990-01-01 .. 2100-01-01.
    if !(631_152_000..4_102_444_800).contains(&secs) {
        return None;
    }
    let t = DateTime::from_timestamp(secs as i64, nanos as u32)?.naive_utc();
    Some((
        end,
        Stamp {
            date: t.date(),
            time: Clock {
                h: chrono::Timelike::hour(&t),
                m: chrono::Timelike::minute(&t),
                s: chrono::Timelike::second(&t),
                nanos: nanos as u32,
            },
            offset: 0,
            from_context: false,
        },
    ))
}

/// `hh:mm:ss` (or with dots, as in `15.42.50`), an optional fraction (`.123`, `,123`,
/// `:606`), an optional `AM`/`PM`.
fn clock(b: &[u8], i: usize) -> Option<(Clock, usize)> {
    let h = num(b, i, 1, 2)?;
    let sep = *b.get(h.end)?;
    if sep != b':' && sep != b'.' {
        return None;
    }
    let m = num(b, h.end + 1, 2, 2)?;
    if b.get(m.end) != Some(&sep) {
        return None;
    }
    let s = num(b, m.end + 1, 2, 2)?;
    let (mut nanos, mut end) = fraction(b, s.end);
    if end == s.end && sep == b':' && b.get(end) == Some(&b':') {
        // `22:15:29:606`: milliseconds after a third colon.
        if let Some(ms) = num(b, end + 1, 3, 3) {
            nanos = ms.v * 1_000_000;
            end = ms.end;
        }
    }
    let mut h = h.v;
    let j = spaces(b, end);
    if j > end {
        let upper = |k: usize| b.get(k).map(u8::to_ascii_uppercase);
        if matches!(upper(j), Some(b'A' | b'P'))
            && upper(j + 1) == Some(b'M')
            && !b.get(j + 2).is_some_and(u8::is_ascii_alphanumeric)
        {
            if h > 12 {
                return None;
            }
            h = (h % 12) + if upper(j) == Some(b'P') { 12 } else { 0 };
            end = j + 2;
        }
    }
    if h > 23 || m.v > 59 || s.v > 60 {
        return None;
    }
    Some((
        Clock {
            h,
            m: m.v,
            s: s.v,
            nanos,
        },
        end,
    ))
}

/// A fraction of a second right after the seconds: `.123456`, `,123`.
fn fraction(b: &[u8], i: usize) -> (u32, usize) {
    if !byte_is(b, i, b".,") || !b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        return (0, i);
    }
    let mut j = i + 1;
    let mut nanos: u32 = 0;
    let mut w = 0;
    while j < b.len() && b[j].is_ascii_digit() {
        if w < 9 {
            nanos = nanos * 10 + u32::from(b[j] - b'0');
            w += 1;
        }
        j += 1;
    }
    (nanos * 10u32.pow(9 - w), j)
}

/// RFC 3339 text of a UTC time, with milliseconds.
pub fn rfc3339(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// RFC 3339 text of a UTC time with as many fraction digits as it holds (0, 3, 6 or 9).
pub fn rfc3339_exact(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> String {
        parse_timestamp(s, 2024)
            .map(|t| rfc3339_exact(&t))
            .unwrap_or_else(|| "none".into())
    }

    #[test]
    fn shapes() {
        for (text, want) in [
            (
                "2025-11-03T20:36:40.060803460Z",
                "2025-11-03T20:36:40.060803460Z",
            ),
            ("2025-11-03T20:36:40.123+0100", "2025-11-03T19:36:40.123Z"),
            ("2025-11-03T20:36:40.123-05:00", "2025-11-04T01:36:40.123Z"),
            ("2025-11-03 20:36:37,123", "2025-11-03T20:36:37.123Z"),
            ("2025-11-03 20:36:40 +0000", "2025-11-03T20:36:40Z"),
            ("2025-11-03 20:36:40.123 UTC", "2025-11-03T20:36:40.123Z"),
            ("2025-11-03 21:36:40 CET", "2025-11-03T20:36:40Z"),
            ("2025/11/03 20:36:40", "2025-11-03T20:36:40Z"),
            ("25/11/03 20:36:37", "2025-11-03T20:36:37Z"),
            ("081109 203615", "2008-11-09T20:36:15Z"),
            ("03 Nov 2025 20:36:37.123", "2025-11-03T20:36:37.123Z"),
            ("Sun Dec 04 04:47:44 2005", "2005-12-04T04:47:44Z"),
            (
                "Mon Nov 03 20:36:40.123456 2025",
                "2025-11-03T20:36:40.123456Z",
            ),
            ("Mon, 03 Nov 2025 20:36:40 GMT", "2025-11-03T20:36:40Z"),
            ("10/Oct/2000:13:55:36 -0700", "2000-10-10T20:55:36Z"),
            ("03/Nov/2025 20:36:40", "2025-11-03T20:36:40Z"),
            ("03-Nov-2025 20:36:40.123", "2025-11-03T20:36:40.123Z"),
            ("Nov 03, 2025 8:36:40 PM", "2025-11-03T20:36:40Z"),
            ("03.11.2025 20:36:40", "2025-11-03T20:36:40Z"),
            ("11/03/2025 20:36:40", "2025-11-03T20:36:40Z"),
            ("20:36:40 UTC 11/03/2025", "2025-11-03T20:36:40Z"),
            ("2005-06-03-15.42.50.675872", "2005-06-03T15:42:50.675872Z"),
            ("20171223-22:15:29:606", "2017-12-23T22:15:29.606Z"),
            ("20251103T203640Z", "2025-11-03T20:36:40Z"),
        ] {
            assert_eq!(p(text), want, "{text}");
        }
    }

    #[test]
    fn epochs_by_magnitude() {
        assert_eq!(p("1117838570"), "2005-06-03T22:42:50Z");
        assert_eq!(p("1762202200.5"), "2025-11-03T20:36:40.500Z");
        assert_eq!(p("1762202200123"), "2025-11-03T20:36:40.123Z");
        assert_eq!(p("1762202200123456"), "2025-11-03T20:36:40.123456Z");
        assert_eq!(p("1762202200123456789"), "2025-11-03T20:36:40.123456789Z");
        // Counters and ids are not times.
        assert_eq!(p("42"), "none");
        assert_eq!(p("12345678901"), "none");
        assert_eq!(p("99999999999999"), "none");
    }

    #[test]
    fn yearless_and_time_only_take_the_context() {
        assert_eq!(p("Dec 10 06:55:46"), "2024-12-10T06:55:46Z");
        assert_eq!(p("11-03 20:36:40.123"), "2024-11-03T20:36:40.123Z");
        assert_eq!(
            parse_timestamp("Dec 10 06:55:46", 2019).map(|t| rfc3339(&t)),
            Some("2019-12-10T06:55:46.000Z".into())
        );
        assert_eq!(p("20:36:40.123"), "none", "no date to put it on");
        let ctx = TimeContext::on(NaiveDate::from_ymd_opt(2025, 11, 3).expect("date"));
        assert_eq!(
            parse_timestamp_in("20:36:40.123", &ctx).map(|t| rfc3339(&t)),
            Some("2025-11-03T20:36:40.123Z".into())
        );
    }

    #[test]
    fn complete_timestamps_need_no_context() {
        assert!(parse_complete("2025-11-03T20:36:40Z").is_some_and(|t| t.is_some()));
        assert_eq!(parse_complete("Dec 10 06:55:46"), Some(None));
        assert_eq!(parse_complete("11-03 20:36:40.123"), Some(None));
        assert_eq!(parse_complete("20:36:40"), Some(None));
        assert!(parse_complete("Sun Dec 04 04:47:44 2005").is_some_and(|t| t.is_some()));
        assert_eq!(parse_complete("banana"), None);
    }

    #[test]
    fn a_prefix_stops_where_the_timestamp_ends() {
        fn len(s: &str) -> Option<&str> {
            scan_timestamp(s, &TimeContext::year(2025)).map(|(n, _)| &s[..n])
        }
        // The words after a timestamp are never read into it (a level and a status
        // code are not 500 ms).
        assert_eq!(
            len("2025-11-03 20:36:40 ERROR 500"),
            Some("2025-11-03 20:36:40")
        );
        assert_eq!(
            len("2025-11-03T20:36:40Z ERROR exit 137"),
            Some("2025-11-03T20:36:40Z")
        );
        assert_eq!(
            len("2025-11-03 20:36:40.123 UTC [12] LOG:  x"),
            Some("2025-11-03 20:36:40.123 UTC")
        );
        assert_eq!(
            len("2016-09-28 04:30:30, Info  CBS"),
            Some("2016-09-28 04:30:30")
        );
        assert_eq!(
            len("Nov  3 20:36:40 host sshd[1]: x"),
            Some("Nov  3 20:36:40")
        );
        assert_eq!(len("1762202200123 WARN x"), Some("1762202200123"));
        assert_eq!(
            len("2025-11-03T20:36:40.123456 #12345]"),
            Some("2025-11-03T20:36:40.123456")
        );
        assert_eq!(len("2025-11-03T20:36:40Zulu"), None);
        assert_eq!(len("November rain"), None);
    }

    #[test]
    fn garbage_is_none() {
        for s in [
            "",
            "hello",
            "99/99/99 99:99:99",
            "2025-13-45T99:00:00",
            "2025-11-03T25:00:00",
            "1:2",
            "\u{0}",
            "Mon",
            "Dec 10",
            "2025-11-03",
            "é 2025",
        ] {
            assert_eq!(p(s), "none", "{s}");
        }
    }
}
