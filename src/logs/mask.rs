//! Variable masking: turns a log message into a sequence of tokens where the
//! variable parts (numbers, addresses, ids, paths, URLs, durations, sizes, embedded
//! timestamps) are replaced by `<*>`, and collects the values it replaced.
//!
//! The masker is the hot path of the template miner, so it works on bytes with no
//! regular expressions and no allocation per token: callers reuse one [`Masked`].
//!
//! Rules, in order, for each whitespace-separated token (surrounding brackets and
//! quotes are kept as literals):
//! - whole-token variables: URLs, file paths, e-mail addresses, UUIDs, IPv6 addresses,
//!   dates and times;
//! - otherwise the token is split into words at punctuation (`=:,;()[]{}<>'"/@#|`) and
//!   each word is judged alone: numbers (with sign, decimals, exponent, a short unit
//!   such as `ms`, `KB`, `%`), hex values, ids whose `_`-separated parts hold a number
//!   (`blk_-123`, `attempt_1445_0020_m_000001_0`), dotted or dashed numbers (IPv4,
//!   versions, `R02-M1-N0` locations) become `<*>`; short identifiers that carry a digit
//!   (`ssh2`, `eth0`, `r24`, `metrics2`) stay literal.
//! - a size or duration unit that follows a number as its own token (`21.5 KB`) joins
//!   the number's `<*>`.

/// The marker written in place of a variable.
pub const WILDCARD: &str = "<*>";

/// A masked message: tokens (literal or `<*>`-bearing) and the extracted values.
#[derive(Debug, Default, Clone)]
pub struct Masked {
    /// Masked tokens joined by single spaces.
    text: String,
    /// Byte ranges of each token inside `text`.
    tokens: Vec<(u32, u32)>,
    /// Whether each token is exactly `<*>` (a whole-token variable).
    whole_var: Vec<bool>,
    /// Byte ranges, in the original message, of each extracted value.
    params: Vec<(u32, u32)>,
}

impl Masked {
    /// An empty buffer, to be reused across calls to [`mask_into`].
    pub fn new() -> Self {
        Self::default()
    }

    /// The masked message, tokens separated by one space.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// True when the message had no tokens.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// Token `i` of the masked message.
    pub fn token(&self, i: usize) -> &str {
        let (s, e) = self.tokens[i];
        &self.text[s as usize..e as usize]
    }

    /// Iterator over the masked tokens.
    pub fn tokens(&self) -> impl Iterator<Item = &str> + '_ {
        self.tokens
            .iter()
            .map(move |&(s, e)| &self.text[s as usize..e as usize])
    }

    /// True when token `i` is a whole-token variable.
    pub fn is_whole_var(&self, i: usize) -> bool {
        self.whole_var[i]
    }

    /// The extracted values, as slices of the message that was masked.
    pub fn params<'a>(&'a self, message: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.params
            .iter()
            .map(move |&(s, e)| &message[s as usize..e as usize])
    }

    fn clear(&mut self) {
        self.text.clear();
        self.tokens.clear();
        self.whole_var.clear();
        self.params.clear();
    }

    fn push_token(&mut self, start: usize) {
        let end = self.text.len();
        if end == start {
            return;
        }
        self.whole_var.push(&self.text[start..end] == WILDCARD);
        self.tokens.push((start as u32, end as u32));
        self.text.push(' ');
    }
}

/// Masks `message` into `out` (cleared first).
pub fn mask_into(message: &str, out: &mut Masked) {
    out.clear();
    let bytes = message.as_bytes();
    let mut i = 0;
    let mut prev_was_number = false;
    while i < bytes.len() {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= bytes.len() {
            break;
        }
        let start = i;
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let tok = &message[start..i];
        // A unit token right after a number-only token joins that variable.
        if prev_was_number && is_unit(tok) {
            let unit_len = tok.trim_end_matches([',', ')', ';', ']']).len();
            if let Some(last) = out.params.last_mut() {
                last.1 = (start + unit_len) as u32;
            }
            // Keep the punctuation that followed the unit on the number's token.
            out.text.pop();
            out.text.push_str(&tok[unit_len..]);
            if let Some(t) = out.tokens.last_mut() {
                t.1 = out.text.len() as u32;
            }
            out.text.push(' ');
            prev_was_number = false;
            continue;
        }
        let t0 = out.text.len();
        prev_was_number = mask_token(message, start, i, out);
        out.push_token(t0);
    }
    if out.text.ends_with(' ') {
        out.text.pop();
    }
}

/// Masks one token `message[start..end]`, appending to `out.text`. Returns true when
/// the token was a bare number (so a following unit joins it).
fn mask_token(message: &str, start: usize, end: usize, out: &mut Masked) -> bool {
    let tok = &message[start..end];
    let b = tok.as_bytes();
    // Fast path: a plain word (no digit, slash or @) is literal whatever else it holds.
    let (mut special, mut colon) = (false, false);
    for &c in b {
        special |= c.is_ascii_digit() || c == b'/' || c == b'@';
        colon |= c == b':';
    }
    if !special {
        out.text.push_str(tok);
        return false;
    }
    let (lo, hi) = literal_edges(b);
    if lo >= hi {
        out.text.push_str(tok);
        return false;
    }
    if colon && mask_url(tok, start, hi, out) {
        return false;
    }
    let core = &tok[lo..hi];
    if is_whole_variable(core) {
        push_variable(out, tok, start, lo, hi);
        return false;
    }
    if !core.bytes().any(|c| c.is_ascii_digit()) {
        out.text.push_str(tok);
        return false;
    }
    let (bare_number, words) = mask_words(tok, start, colon, out);
    bare_number && words == 1 && lo == 0 && hi == b.len()
}

/// The brackets and quotes around a token, and the punctuation after it, are literal:
/// the value lies in `tok[lo..hi]`. Every edge byte is ASCII, so both are char
/// boundaries.
fn literal_edges(b: &[u8]) -> (usize, usize) {
    let mut lo = 0;
    while lo < b.len() && matches!(b[lo], b'(' | b'[' | b'{' | b'<' | b'\'' | b'"' | b'`') {
        lo += 1;
    }
    let mut hi = b.len();
    while hi > lo
        && matches!(
            b[hi - 1],
            b')' | b']'
                | b'}'
                | b'>'
                | b'\''
                | b'"'
                | b'`'
                | b','
                | b';'
                | b'.'
                | b':'
                | b'!'
                | b'?'
        )
    {
        hi -= 1;
    }
    (lo, hi)
}

/// Writes `tok[..lo]`, one `<*>` for `tok[lo..hi]`, then `tok[hi..]`.
fn push_variable(out: &mut Masked, tok: &str, start: usize, lo: usize, hi: usize) {
    out.text.push_str(&tok[..lo]);
    out.text.push_str(WILDCARD);
    out.params.push(((start + lo) as u32, (start + hi) as u32));
    out.text.push_str(&tok[hi..]);
}

/// A URL inside a token is one value from its scheme on, whatever precedes it
/// (`:[akka.tcp://…`, `«https://…»`). Returns false when the token holds none.
fn mask_url(tok: &str, start: usize, hi: usize, out: &mut Masked) -> bool {
    let b = tok.as_bytes();
    let Some(p) = memchr::memmem::find(b, b"://") else {
        return false;
    };
    // The scheme is the run of ASCII letters, digits, `+`, `.` and `-` before `://`;
    // counting bytes back from `p` stops on an ASCII byte, so `scheme` is a char
    // boundary even after multi-byte characters or replaced invalid bytes.
    let mut scheme = p;
    while scheme > 0
        && (b[scheme - 1].is_ascii_alphanumeric() || matches!(b[scheme - 1], b'+' | b'.' | b'-'))
    {
        scheme -= 1;
    }
    if scheme == p || p >= hi {
        return false;
    }
    push_variable(out, tok, start, scheme, hi);
    true
}

/// Splits a token into words at punctuation and judges each word; returns whether the
/// last variable was a bare number and how many words there were.
fn mask_words(tok: &str, start: usize, colon: bool, out: &mut Masked) -> (bool, usize) {
    let mut bare_number = false;
    let mut words = 0;
    let mut i = 0;
    let cb = tok.as_bytes();
    while i < cb.len() {
        // Values with inner punctuation inside a token: `chdir(/p/a/b)`, `mLp(FF:F2:..)`.
        if i > 0
            && (cb[i] == b'/' || (colon && cb[i].is_ascii_hexdigit()))
            && is_word_delim(cb[i - 1])
        {
            let j = cb[i..]
                .iter()
                .position(|c| matches!(c, b')' | b']' | b'}' | b'\'' | b'"' | b','))
                .map_or(cb.len(), |p| i + p);
            let span = &cb[i..j];
            let ipv6 = || std::str::from_utf8(span).is_ok_and(is_ipv6);
            if span.len() > 2 && ((cb[i] == b'/' && is_path(span)) || is_mac(span) || ipv6()) {
                out.text.push_str(WILDCARD);
                out.params.push(((start + i) as u32, (start + j) as u32));
                i = j;
                continue;
            }
        }
        if is_word_delim(cb[i]) {
            out.text.push(cb[i] as char);
            i += 1;
            continue;
        }
        let ws = i;
        while i < cb.len() && !is_word_delim(cb[i]) {
            // A dot leader (`processor.......0`) ends the word.
            if cb[i] == b'.' && cb.get(i + 1) == Some(&b'.') && i > ws {
                break;
            }
            i += 1;
        }
        if i == ws {
            // Only dots: a leader, kept literally.
            while i < cb.len() && cb[i] == b'.' {
                out.text.push('.');
                i += 1;
            }
            continue;
        }
        words += 1;
        if let Some(number) = mask_word(tok, start, ws, i, out) {
            bare_number = number;
        }
    }
    (bare_number, words)
}

/// Judges the word `tok[ws..we]` and writes it (literal, `<*>`, or stem and `<*>`).
/// Returns `Some(is a bare number)` when it was a whole variable.
fn mask_word(tok: &str, start: usize, ws: usize, we: usize, out: &mut Masked) -> Option<bool> {
    let cb = tok.as_bytes();
    let mut word = &tok[ws..we];
    let is_key = matches!(cb.get(we), Some(b'='));
    // Trailing sentence punctuation belongs to the text, not the value.
    let mut trail = "";
    while word.len() > 1 && matches!(word.as_bytes()[word.len() - 1], b'.' | b'-' | b'!' | b'?') {
        trail = &tok[ws + word.len() - 1..we];
        word = &word[..word.len() - 1];
    }
    let verdict = if is_key {
        Word::Literal
    } else {
        judge_word(word)
    };
    let mut whole = None;
    match verdict {
        Word::Literal => out.text.push_str(word),
        Word::Variable { number } => {
            // `/10.0.0.1`: a slash glued in front of an address is part of it.
            let mut vs = ws;
            let glued = ws == 1 || (ws > 1 && is_word_delim(cb[ws - 2]) && cb[ws - 2] != b'/');
            if glued && out.text.ends_with('/') && cb[ws - 1] == b'/' {
                out.text.pop();
                vs -= 1;
            }
            out.text.push_str(WILDCARD);
            out.params
                .push(((start + vs) as u32, (start + ws + word.len()) as u32));
            whole = Some(number);
        }
        Word::Prefixed(n) => {
            // `node-246`: a literal stem, then a number.
            out.text.push_str(&word[..n]);
            out.text.push_str(WILDCARD);
            out.params
                .push(((start + ws + n) as u32, (start + ws + word.len()) as u32));
        }
    }
    out.text.push_str(trail);
    whole
}

/// Punctuation that splits a token into words, as a lookup table (hot path).
const WORD_DELIMS: [bool; 256] = {
    let mut t = [false; 256];
    let delims = b"=:,;()[]{}<>'\"/@#|`\\";
    let mut i = 0;
    while i < delims.len() {
        t[delims[i] as usize] = true;
        i += 1;
    }
    t
};

#[inline]
fn is_word_delim(c: u8) -> bool {
    WORD_DELIMS[c as usize]
}

enum Word {
    Literal,
    Variable {
        number: bool,
    },
    /// Literal stem of this many bytes followed by a variable part.
    Prefixed(usize),
}

fn judge_word(w: &str) -> Word {
    let b = w.as_bytes();
    let digits = b.iter().filter(|c| c.is_ascii_digit()).count();
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
    let has_sep = b.iter().any(|&c| matches!(c, b'-' | b'.' | b'_' | b'+'));
    if has_sep && b.contains(&b'_') && b.split(|&c| c == b'_').any(is_number) {
        return Word::Variable { number: false };
    }
    // Dotted or dashed compositions of numbers and short codes: 10.0.0.1, 1.2.3,
    // R02-M1-N0-C, 2005-06-03-15.42.50.675872.
    if !has_sep {
        return judge_identifier(b, digits);
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
    judge_identifier(b, digits)
}

/// Short identifiers that carry a digit stay literal: ssh2, eth0, Inet4Address;
/// a name ending in a run of two or more digits is numbered (bglio78, J16).
fn judge_identifier(b: &[u8], digits: usize) -> Word {
    let letters = b.iter().filter(|c| c.is_ascii_alphabetic()).count();
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

fn is_unit(tok: &str) -> bool {
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
fn is_whole_variable(core: &str) -> bool {
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

fn is_path(b: &[u8]) -> bool {
    let slashes = b.iter().filter(|&&c| c == b'/').count();
    let starts =
        b[0] == b'/' || b.starts_with(b"./") || b.starts_with(b"~/") || b.starts_with(b"../");
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
fn is_mac(b: &[u8]) -> bool {
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

fn is_ipv6(s: &str) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> String {
        let mut out = Masked::new();
        mask_into(s, &mut out);
        out.text().to_string()
    }

    #[test]
    fn numbers_and_ids() {
        assert_eq!(
            m("PacketResponder 1 for block blk_-6952295868487656571 terminating"),
            "PacketResponder <*> for block <*> terminating"
        );
        assert_eq!(m("state (HWID=1973)"), "state (HWID=<*>)");
        assert_eq!(m("took 12 ms"), "took <*>");
        assert_eq!(m("size 5 B total"), "size <*> B total");
        assert_eq!(
            m("(estimated size 21.5 KB, free 17.7 GB)"),
            "(estimated size <*>, free <*>)"
        );
        assert_eq!(m("session 0x14f05578bd80001"), "session <*>");
    }

    #[test]
    fn addresses() {
        assert_eq!(m("from /10.10.34.11:45307"), "from <*>");
        assert_eq!(m("rhost=173.234.31.186 user=root"), "rhost=<*> user=root");
        assert_eq!(
            m("server: msra-sa-41:9000. Already"),
            "server: <*>. Already"
        );
        assert_eq!(m("at host-7/10.0.0.1:8030"), "at <*>");
        assert_eq!(m("[client 64.6.73.199] x"), "[client <*>] x");
        assert_eq!(m("peer fe80::1:2 ok"), "peer <*> ok");
        assert_eq!(m("GET http://a.b/c?d=1 done"), "GET <*> done");
        assert_eq!(m("addresses :[akka.tcp://sys@host:1]"), "addresses :[<*>]");
        assert_eq!(m("mLp(FF:F2:9F:16:E0:DA:00:0D), x"), "mLp(<*>), x");
        assert_eq!(m("open /etc/httpd/conf/workers2.properties"), "open <*>");
        assert_eq!(m("mail bob@example.com"), "mail <*>");
        assert_eq!(m("id 123e4567-e89b-12d3-a456-426614174000"), "id <*>");
    }

    #[test]
    fn identifiers_with_digits_stay_literal() {
        assert_eq!(m("port 22 ssh2"), "port <*> ssh2");
        assert_eq!(m("via interface alt0"), "via interface alt0");
        assert_eq!(m("node node-246 up"), "node node-<*> up");
        assert_eq!(m("generating core.2275"), "generating core.<*>");
        assert_eq!(m("r24=0x00000001"), "r24=<*>");
        assert_eq!(
            m("NFS Mount failed on bglio716, slept"),
            "NFS Mount failed on <*>, slept"
        );
        assert_eq!(
            m("auxiliary processor.........0"),
            "auxiliary processor.........<*>"
        );
    }

    #[test]
    fn params_are_extracted() {
        let msg = "Received block blk_1 of size 67108864 from /10.0.0.1";
        let mut out = Masked::new();
        mask_into(msg, &mut out);
        let p: Vec<&str> = out.params(msg).collect();
        assert_eq!(p, vec!["blk_1", "67108864", "/10.0.0.1"]);
    }

    /// A non-ASCII character or an invalid byte right before `scheme://` once cut a
    /// token inside a character (`mask.rs: not a char boundary`).
    #[test]
    fn mask_rs_194_not_a_char_boundary() {
        assert_eq!(m("fetched «https://example.com/a»"), "fetched «<*>");
        assert_eq!(m("下载→https://mirror.example.cn/x ok"), "下载→<*> ok");
        assert_eq!(m("bad\u{fffd}http://x.example/y"), "bad\u{fffd}<*>");
        assert_eq!(m("é://"), "é://");
    }

    #[test]
    fn odd_input_does_not_panic() {
        for s in [
            "",
            " ",
            "((((",
            "é 1€ 2",
            "\u{0}\u{1}",
            "-",
            "0x",
            ":::",
            "a=b=c=1",
            "...",
        ] {
            let _ = m(s);
        }
    }
}
