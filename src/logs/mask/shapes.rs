//! The rules that judge one token or word of a message: whole-token shapes (paths,
//! addresses, UUIDs, times) and the word verdicts (numbers, hex values, ids with a
//! number, short identifiers that stay literal).

/// What a word of a token is.
pub(super) enum Word {
    Literal,
    Variable {
        number: bool,
    },
    /// Literal stem of this many bytes followed by a variable part.
    Prefixed(usize),
}

/// Classes of bytes inside a word, as `judge_word` counts them.
const W_DIGIT: u8 = 1;
const W_ALPHA: u8 = 2;
const W_SEP: u8 = 4;
const W_UNDERSCORE: u8 = 8;

const WORD_CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = if b.is_ascii_digit() {
            W_DIGIT
        } else if b.is_ascii_alphabetic() {
            W_ALPHA
        } else if b == b'_' {
            W_SEP | W_UNDERSCORE
        } else if matches!(b, b'-' | b'.' | b'+') {
            W_SEP
        } else {
            0
        };
        c += 1;
    }
    t
};

pub(super) fn judge_word(w: &str) -> Word {
    let b = w.as_bytes();
    // One pass, without a branch per byte, for what the shape checks below need.
    let (mut digits, mut letters, mut any) = (0usize, 0usize, 0u8);
    for &c in b {
        let t = WORD_CLASS[c as usize];
        digits += usize::from(t & W_DIGIT);
        letters += usize::from((t & W_ALPHA) >> 1);
        any |= t;
    }
    let (has_sep, underscore) = (any & W_SEP != 0, any & W_UNDERSCORE != 0);
    if digits == 0 {
        return Word::Literal;
    }
    if is_number(b) {
        return Word::Variable { number: true };
    }
    if is_hex_value(b) {
        return Word::Variable { number: false };
    }
    // Ids whose underscore-separated parts hold a number: blk_-123, attempt_1_2_m_3.
    if underscore && b.split(|&c| c == b'_').any(is_number) {
        return Word::Variable { number: false };
    }
    // Dotted or dashed compositions of numbers and short codes: 10.0.0.1, 1.2.3,
    // R02-M1-N0-C, 2005-06-03-15.42.50.675872.
    if !has_sep {
        return judge_identifier(b, digits, letters);
    }
    let parts_with_digits = w
        .split(['-', '.', '_', '+'])
        .filter(|p| p.bytes().any(|c| c.is_ascii_digit()))
        .count();
    if parts_with_digits >= 2 {
        return Word::Variable { number: false };
    }
    // A literal stem ending in '.' followed by a number: core.2275.
    if let Some(dot) = w.rfind('.') {
        let (stem, rest) = (&w[..dot], &w[dot + 1..]);
        if !stem.is_empty()
            && !stem.bytes().any(|c| c.is_ascii_digit())
            && !rest.is_empty()
            && rest.bytes().all(|c| c.is_ascii_digit())
        {
            return Word::Prefixed(dot + 1);
        }
    }
    // A literal stem ending in '-' followed by a number or code: node-246, jetty-6.1.
    if let Some(dash) = w.rfind('-') {
        let (stem, rest) = (&w[..dash], &w[dash + 1..]);
        if !stem.is_empty()
            && !stem.bytes().any(|c| c.is_ascii_digit())
            && !rest.is_empty()
            && rest.bytes().any(|c| c.is_ascii_digit())
        {
            return Word::Prefixed(dash + 1);
        }
    }
    judge_identifier(b, digits, letters)
}

/// Short identifiers that carry a digit stay literal: ssh2, eth0, Inet4Address;
/// a name ending in a run of two or more digits is numbered (bglio78, J16).
fn judge_identifier(b: &[u8], digits: usize, letters: usize) -> Word {
    let trailing = b.iter().rev().take_while(|c| c.is_ascii_digit()).count();
    if letters >= 1 && digits <= 2 && trailing < 2 && b[0].is_ascii_alphabetic() {
        return Word::Literal;
    }
    Word::Variable { number: false }
}

/// Integer or decimal, optional sign, exponent and short unit suffix (`12ms`, `3.5s`,
/// `10KB`, `99%`).
fn is_number(b: &[u8]) -> bool {
    let mut i = 0;
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        i += 1;
    }
    let ds = i;
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.' || b[i] == b',') {
        i += 1;
    }
    if i == ds || !b[ds].is_ascii_digit() {
        return false;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') && i + 1 < b.len() {
        let mut j = i + 1;
        if b[j] == b'-' || b[j] == b'+' {
            j += 1;
        }
        if j < b.len() && b[j..].iter().all(|c| c.is_ascii_digit()) {
            return true;
        }
    }
    let unit = &b[i..];
    unit.is_empty() || (unit.len() <= 3 && is_unit_bytes(unit))
}

pub(super) fn is_unit(tok: &str) -> bool {
    let t = tok.trim_end_matches([',', ')', ';', ']']);
    // A bare `B` or `s` after a number is too ambiguous unless punctuation closes it.
    is_unit_bytes(t.as_bytes()) && (t.len() >= 2 || t.len() != tok.len())
}

fn is_unit_bytes(u: &[u8]) -> bool {
    matches!(
        u,
        b"B" | b"KB"
            | b"MB"
            | b"GB"
            | b"TB"
            | b"KiB"
            | b"MiB"
            | b"GiB"
            | b"TiB"
            | b"k"
            | b"K"
            | b"M"
            | b"G"
            | b"ms"
            | b"us"
            | b"ns"
            | b"s"
            | b"m"
            | b"h"
            | b"%"
            | b"b"
            | b"kb"
            | b"mb"
            | b"gb"
    )
}

/// `0x1f`, or a run of at least 6 hex digits with both a digit and a letter a-f, or
/// a long all-digit/hex string.
fn is_hex_value(b: &[u8]) -> bool {
    if b.len() > 2 && b[0] == b'0' && (b[1] == b'x' || b[1] == b'X') {
        return b[2..].iter().all(|c| c.is_ascii_hexdigit());
    }
    b.len() >= 6 && b.iter().all(|c| c.is_ascii_hexdigit())
}

/// Tokens that are one variable whatever their inner punctuation.
pub(super) fn is_whole_variable(core: &str) -> bool {
    let b = core.as_bytes();
    if b.len() < 2 {
        return false;
    }
    // One pass over the bytes decides which of the shape checks can apply at all.
    let (mut digits, mut dots, mut colons, mut slashes, mut dashes, mut at) = (0, 0, 0, 0, 0, 0);
    for &c in b {
        match c {
            b'0'..=b'9' => digits += 1,
            b'.' => dots += 1,
            b':' => colons += 1,
            b'/' | b'\\' => slashes += 1,
            b'-' => dashes += 1,
            b'@' => at += 1,
            _ => {}
        }
    }
    if slashes > 0 && is_path(b) {
        return true;
    }
    if digits > 0
        && dots == 3
        && colons <= 1
        && is_ipv4_port(core.strip_prefix('/').unwrap_or(core))
    {
        return true;
    }
    if colons >= 5 && is_mac(b) {
        return true;
    }
    if colons >= 1 && digits > 0 && is_host_port(core) {
        return true;
    }
    if dots >= 2 && digits > 0 && is_numbered_fqdn(core) {
        return true;
    }
    if at == 1 && is_email(b) {
        return true;
    }
    if dashes == 4 && is_uuid(b) {
        return true;
    }
    colons >= 2 && digits > 0 && (is_ipv6(core) || is_clock_time(b))
}

pub(super) fn is_path(b: &[u8]) -> bool {
    let starts =
        b[0] == b'/' || b.starts_with(b"./") || b.starts_with(b"~/") || b.starts_with(b"../");
    let slashes = if starts {
        b.iter().filter(|&&c| c == b'/').count()
    } else {
        0
    };
    if starts
        && b.len() > 1
        && (slashes >= 2 || b[1].is_ascii_alphabetic() || b[1] == b'.' || b[1] == b'_')
    {
        // `/10.0.0.1:50010` is an address, judged word by word.
        return !(b[0] == b'/' && slashes == 1 && b[1].is_ascii_digit());
    }
    // Windows paths: C:\dir
    b.len() > 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && b[2] == b'\\'
}

/// `10.0.0.1` or `10.0.0.1:50010`: an address with its port is one value.
fn is_ipv4_port(s: &str) -> bool {
    // Bytes rather than `split`: this runs on every dotted token of every message.
    let b = s.as_bytes();
    let (ip, port) = match b.iter().position(|&c| c == b':') {
        Some(i) => (&b[..i], Some(&b[i + 1..])),
        None => (b, None),
    };
    let mut n = 0;
    for o in ip.split(|&c| c == b'.') {
        n += 1;
        if o.is_empty() || o.len() > 3 || !o.iter().all(u8::is_ascii_digit) {
            return false;
        }
    }
    n == 4 && port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.iter().all(u8::is_ascii_digit))
}

/// `host:port` and `host/10.0.0.1:port` where the host name carries a digit, a dot or
/// a dash (`msra-sa-41:9000`), as Java prints socket addresses.
fn is_host_port(s: &str) -> bool {
    let Some((host, port)) = s.rsplit_once(':') else {
        return false;
    };
    if port.is_empty() || port.len() > 5 || !port.bytes().all(|c| c.is_ascii_digit()) {
        return false;
    }
    let host = match host.split_once('/') {
        Some((name, ip)) if is_ipv4_port(ip) => name,
        Some(_) => return false,
        None => host,
    };
    !host.is_empty()
        && host
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-'))
        && host
            .bytes()
            .any(|c| matches!(c, b'.' | b'-') || c.is_ascii_digit())
        && host.bytes().any(|c| c.is_ascii_alphabetic())
}

/// Host names with a digit and at least two dots: `node-7.rack2.example.com`.
fn is_numbered_fqdn(s: &str) -> bool {
    s.bytes().filter(|&c| c == b'.').count() >= 2
        && s.bytes().any(|c| c.is_ascii_digit())
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-'))
        && s.rsplit('.')
            .next()
            .is_some_and(|tld| tld.len() >= 2 && tld.bytes().all(|c| c.is_ascii_lowercase()))
}

/// Hardware addresses: at least six colon-separated pairs of hex digits.
pub(super) fn is_mac(b: &[u8]) -> bool {
    b.len() >= 17
        && b.split(|&c| c == b':')
            .all(|p| p.len() == 2 && p.iter().all(u8::is_ascii_hexdigit))
}

fn is_email(b: &[u8]) -> bool {
    match b.iter().position(|&c| c == b'@') {
        Some(at) if at > 0 => {
            let domain = &b[at + 1..];
            domain.contains(&b'.')
                && domain.len() > 2
                && domain
                    .iter()
                    .all(|c| c.is_ascii_alphanumeric() || *c == b'.' || *c == b'-')
                && b[..at]
                    .iter()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-' | b'+'))
        }
        _ => false,
    }
}

fn is_uuid(b: &[u8]) -> bool {
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

pub(super) fn is_ipv6(s: &str) -> bool {
    let colons = s.bytes().filter(|&c| c == b':').count();
    colons >= 2
        && s.bytes()
            .all(|c| c.is_ascii_hexdigit() || c == b':' || c == b'.')
        && s.bytes().any(|c| c.is_ascii_digit())
        && !s.split(':').any(|p| p.len() > 4 && !p.contains('.'))
}

/// Embedded times and dates: `20:36:40`, `20:36:40.123`, `2025-11-03T20:36:40Z`.
fn is_clock_time(b: &[u8]) -> bool {
    let digit = |i: usize| b.get(i).is_some_and(|c| c.is_ascii_digit());
    let hms = |i: usize| {
        digit(i) && digit(i + 1) && b.get(i + 2) == Some(&b':') && digit(i + 3) && digit(i + 4)
    };
    if hms(0) && b.get(5) == Some(&b':') {
        return b[5..]
            .iter()
            .all(|c| c.is_ascii_digit() || matches!(c, b':' | b'.' | b','));
    }
    // ISO date with a time part.
    b.len() >= 16
        && digit(0)
        && digit(3)
        && b[4] == b'-'
        && digit(5)
        && b[7] == b'-'
        && (b[10] == b'T' || b[10] == b'_')
        && hms(11)
}
