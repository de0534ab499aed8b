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

mod shapes;
use shapes::{is_ipv6, is_mac, is_path, is_unit, is_whole_variable, judge_word, Word};

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
        self.whole_var
            .push(is_wildcard(&self.text.as_bytes()[start..end]));
        self.tokens.push((start as u32, end as u32));
        self.text.push(' ');
    }
}

/// Byte classes read by the token scan: where a token ends and whether it can hold a
/// variable at all (one table lookup per byte, or eight bytes at a time in `swar`).
const WS: u8 = 1;
const DIGIT: u8 = 2;
const SLASH: u8 = 4;
const AT: u8 = 8;
/// Any byte that is neither whitespace nor a digit.
const OTHER: u8 = 32;
/// Classes that make a token worth judging; a token with none of them is literal.
const SPECIAL: u8 = DIGIT | SLASH | AT;

const CLASS: [u8; 256] = {
    let mut t = [OTHER; 256];
    // The bytes `u8::is_ascii_whitespace` accepts.
    t[b' ' as usize] = WS;
    t[b'\t' as usize] = WS;
    t[b'\n' as usize] = WS;
    t[0x0c] = WS;
    t[b'\r' as usize] = WS;
    let mut d = b'0';
    while d <= b'9' {
        t[d as usize] = DIGIT;
        d += 1;
    }
    t[b'/' as usize] = SLASH | OTHER;
    t[b'@' as usize] = AT | OTHER;
    t
};

/// Whether a token is exactly `<*>`, compared inline (a slice comparison calls
/// `memcmp`, which costs more than three bytes are worth).
fn is_wildcard(t: &[u8]) -> bool {
    matches!(t, [b'<', b'*', b'>'])
}

/// Masks `message` into `out` (cleared first).
pub fn mask_into(message: &str, out: &mut Masked) {
    out.clear();
    let bytes = message.as_bytes();
    let mut i = 0;
    let mut prev_was_number = false;
    // Literal tokens separated by single spaces are copied as one run, not one by one:
    // most tokens are literal words.
    let mut run = LiteralRun::default();
    while i < bytes.len() {
        while i < bytes.len() && CLASS[bytes[i] as usize] & WS != 0 {
            i += 1;
        }
        if i >= bytes.len() {
            break;
        }
        let start = i;
        let (end, seen) = scan_token(bytes, i);
        i = end;
        let tok = &message[start..i];
        // A unit token right after a number-only token joins that variable (the number
        // was no literal, so no run is open).
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
        if seen & SPECIAL == 0 {
            // A plain word (no digit, slash or @) is literal whatever else it holds.
            run.push(message, start, i, out);
            prev_was_number = false;
            continue;
        }
        run.flush(message, out);
        let t0 = out.text.len();
        if seen == DIGIT {
            // Digits alone: a number, the commonest variable, judged without the rules.
            out.text.push_str(WILDCARD);
            out.params.push((start as u32, i as u32));
            prev_was_number = true;
        } else {
            prev_was_number = mask_token(message, start, i, seen, out);
        }
        out.push_token(t0);
    }
    run.flush(message, out);
    if out.text.ends_with(' ') {
        out.text.pop();
    }
}

/// Where the token starting at `i` ends (the next whitespace byte or the end) and the
/// classes of its bytes. Eight bytes at a time: tokens are found and classified without
/// a branch per byte.
fn scan_token(b: &[u8], mut i: usize) -> (usize, u8) {
    let mut seen = 0u8;
    while let Some(chunk) = b.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        let ws = swar::whitespace(x);
        // Bytes before the first whitespace byte belong to the token.
        let within = if ws == 0 {
            u64::MAX
        } else {
            (ws & ws.wrapping_neg()) - 1
        };
        let flag = |m: u64, class: u8| if m & within != 0 { class } else { 0 };
        let digits = swar::digits(x);
        // Colons are looked for only in tokens judged further (see `mask_token`).
        seen |= flag(digits, DIGIT)
            | flag(!digits & swar::HI, OTHER)
            | flag(swar::equal(x, b'/'), SLASH)
            | flag(swar::equal(x, b'@'), AT);
        if ws != 0 {
            return (i + (ws.trailing_zeros() / 8) as usize, seen);
        }
        i += 8;
    }
    while i < b.len() {
        let c = CLASS[b[i] as usize];
        if c & WS != 0 {
            break;
        }
        seen |= c;
        i += 1;
    }
    (i, seen)
}

/// Byte tests on eight bytes at once (a `u64`, first byte lowest): each returns the
/// high bit of every byte that passes, exactly (no false positives from carries).
mod swar {
    const LO: u64 = 0x0101_0101_0101_0101;
    pub(super) const HI: u64 = 0x8080_8080_8080_8080;
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;

    /// Bytes equal to `v`.
    #[inline]
    pub(super) fn equal(x: u64, v: u8) -> u64 {
        let y = x ^ (LO * u64::from(v));
        !(((y & LOW7) + LOW7) | y) & HI
    }

    /// ASCII bytes below `n` (at most 128).
    #[inline]
    fn below(x: u64, n: u8) -> u64 {
        (LO * (127 + u64::from(n))).wrapping_sub(x & LOW7) & !x & HI
    }

    /// ASCII digits.
    #[inline]
    pub(super) fn digits(x: u64) -> u64 {
        // Below '9' + 1 and above '0' - 1.
        below(x, b'9' + 1) & ((x & LOW7) + LO * (127 - u64::from(b'0' - 1))) & HI
    }

    /// The bytes `u8::is_ascii_whitespace` accepts: space, tab, line feed, form feed
    /// and carriage return.
    #[inline]
    pub(super) fn whitespace(x: u64) -> u64 {
        // Control bytes are rare: without one, the bytes up to a space are the spaces.
        if below(x, b' ') == 0 {
            return below(x, b' ' + 1);
        }
        equal(x, b' ') | equal(x, b'\t') | equal(x, b'\n') | equal(x, 0x0c) | equal(x, b'\r')
    }
}

/// Literal tokens not yet copied to the masked text: `message[start..end]`, to be
/// written at `at`.
#[derive(Default)]
struct LiteralRun {
    start: usize,
    end: usize,
    at: usize,
}

impl LiteralRun {
    /// Adds the literal token `message[start..end]`: the run grows when one space
    /// separates it from the run, else the run is written and a new one starts.
    fn push(&mut self, message: &str, start: usize, end: usize, out: &mut Masked) {
        let open = self.end > self.start;
        if !(open && start == self.end + 1 && message.as_bytes()[self.end] == b' ') {
            self.flush(message, out);
            self.start = start;
            self.at = out.text.len();
        }
        self.end = end;
        let s = self.at + (start - self.start);
        let e = s + (end - start);
        out.whole_var
            .push(is_wildcard(&message.as_bytes()[start..end]));
        out.tokens.push((s as u32, e as u32));
    }

    /// Writes the run (and the space after its last token).
    fn flush(&mut self, message: &str, out: &mut Masked) {
        if self.end > self.start {
            out.text.push_str(&message[self.start..self.end]);
            out.text.push(' ');
        }
        self.start = 0;
        self.end = 0;
    }
}

/// Masks one token `message[start..end]` holding a digit, slash or @ (`seen`: the
/// classes of its bytes, colons aside), appending to `out.text`. Returns true when the token was a
/// bare number (so a following unit joins it).
fn mask_token(message: &str, start: usize, end: usize, seen: u8, out: &mut Masked) -> bool {
    let tok = &message[start..end];
    let b = tok.as_bytes();
    if let Some(number) = mask_id_word(tok, start, out) {
        return number;
    }
    let colon = b.contains(&b':');
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
    // The edges are brackets and punctuation: a digit of the token is in its core.
    if seen & DIGIT == 0 {
        out.text.push_str(tok);
        return false;
    }
    let (bare_number, words) = mask_words(tok, start, colon, out);
    bare_number && words == 1 && lo == 0 && hi == b.len()
}

/// A token of letters, digits, `_` and `-` alone (`blk_-123`, `node-7`, `8080`) is one
/// word with no edges to strip and no whole-token shape but a UUID's: it is judged as a
/// word straight away, as the general path would. Returns `Some(is a bare number)` when
/// it wrote the token, None when the token needs the general path.
fn mask_id_word(tok: &str, start: usize, out: &mut Masked) -> Option<bool> {
    let b = tok.as_bytes();
    let mut dashes = 0;
    for &c in b {
        if c == b'-' {
            dashes += 1;
        } else if !(c.is_ascii_alphanumeric() || c == b'_') {
            return None;
        }
    }
    // A trailing dash is sentence punctuation, and four dashes may make a UUID.
    if dashes == 4 || b.last() == Some(&b'-') {
        return None;
    }
    match judge_word(tok) {
        Word::Literal => {
            out.text.push_str(tok);
            Some(false)
        }
        Word::Variable { number } => {
            out.text.push_str(WILDCARD);
            out.params.push((start as u32, (start + b.len()) as u32));
            Some(number)
        }
        Word::Prefixed(n) => {
            out.text.push_str(&tok[..n]);
            out.text.push_str(WILDCARD);
            out.params
                .push(((start + n) as u32, (start + b.len()) as u32));
            Some(false)
        }
    }
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
    // Tokens are short and few hold a colon: a plain scan beats building a searcher.
    let Some(p) = b.windows(3).position(|w| w == b"://") else {
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

    /// The eight-byte tests agree with the byte-at-a-time ones for every byte value at
    /// every position, whatever bytes stand around it.
    #[test]
    fn swar_tests_match_byte_tests() {
        for fill in [b'a', b' ', b'0', 0x00, 0x80, 0xff] {
            for v in 0..=255u8 {
                for k in 0..8 {
                    let mut w = [fill; 8];
                    w[k] = v;
                    let x = u64::from_le_bytes(w);
                    let expect = |f: &dyn Fn(u8) -> bool| {
                        w.iter()
                            .enumerate()
                            .filter(|(_, c)| f(**c))
                            .fold(0u64, |m, (i, _)| m | 0x80 << (8 * i))
                    };
                    assert_eq!(swar::equal(x, v), expect(&|c| c == v), "{v} at {k}");
                    assert_eq!(swar::digits(x), expect(&|c| c.is_ascii_digit()));
                    assert_eq!(
                        swar::whitespace(x),
                        expect(&|c| c.is_ascii_whitespace()),
                        "{v} at {k} in {fill}"
                    );
                }
            }
        }
    }

    #[test]
    fn tokens_split_at_every_ascii_space_and_long_tokens() {
        assert_eq!(m("took\t12\tms"), "took <*>");
        assert_eq!(m("a\u{c}b\r\nc"), "a b c");
        // A vertical tab is no separator for `is_ascii_whitespace`.
        assert_eq!(m("a\u{b}b c"), "a\u{b}b c");
        assert_eq!(
            m("abcdefghijklmnop 12345678901234567 x"),
            "abcdefghijklmnop <*> x"
        );
        assert_eq!(m("first   second\tthird"), "first second third");
        let mut out = Masked::new();
        mask_into("a <*> b 7", &mut out);
        let whole: Vec<bool> = (0..out.len()).map(|i| out.is_whole_var(i)).collect();
        assert_eq!(whole, [false, true, false, true]);
        assert_eq!(out.tokens().collect::<Vec<_>>(), ["a", "<*>", "b", "<*>"]);
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
