//! Log text made safe for the Markdown and HTML reports: everything a log line carries
//! (and everything the model wrote after reading one) is data, never markup. Control
//! characters become visible symbols, Markdown text is backslash-escaped, code spans and
//! blocks get fences longer than any backtick run inside them, HTML is entity-escaped.

/// `s` with control characters shown instead of carried: C0 controls as their Unicode
/// control pictures (NUL as `␀`, ESC as `␛`), DEL as `␡`, C1 controls and the
/// bidirectional overrides that can reorder what a reader sees as `\u{..}`. Newlines
/// and tabs are kept when `keep_lines` (code blocks), else shown as `␊` / `␉`.
pub(crate) fn visible(s: &str, keep_lines: bool) -> String {
    if !s.chars().any(needs_picture) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' | '\t' if keep_lines => out.push(c),
            // The carriage return of a CRLF line ending is not worth a symbol.
            '\r' if keep_lines => {}
            '\u{0}'..='\u{1f}' => out.push(char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}')),
            '\u{7f}' => out.push('\u{2421}'),
            c if needs_picture(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

fn needs_picture(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
}

/// Text for a Markdown paragraph or table cell: one line, control characters visible,
/// and every character Markdown or HTML could read as markup backslash-escaped, so
/// `<script>` shows as text in any CommonMark viewer.
pub(crate) fn md_text(s: &str) -> String {
    let v = visible(&s.replace("\r\n", " ").replace('\n', " "), false);
    let mut out = String::with_capacity(v.len() + 8);
    for c in v.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '&' | '|' | '~' | '#' | '!'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The longest run of backticks in `s`.
fn longest_backtick_run(s: &str) -> usize {
    let (mut best, mut run) = (0, 0);
    for c in s.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        best = best.max(run);
    }
    best
}

/// A Markdown code span holding `s` literally (one line, controls visible): its fence is
/// longer than any backtick run inside. `|` is escaped so the span can sit in a table
/// cell (GitHub-flavoured tables split on it even inside code).
pub(crate) fn md_code(s: &str) -> String {
    let v = visible(&s.replace("\r\n", " ").replace('\n', " "), false).replace('|', "\\|");
    let fence = "`".repeat(longest_backtick_run(&v) + 1);
    // A span that starts or ends with a backtick needs a space between it and the fence
    // (CommonMark strips one space on each side).
    if v.starts_with('`') || v.ends_with('`') || v.is_empty() {
        format!("{fence} {v} {fence}")
    } else {
        format!("{fence}{v}{fence}")
    }
}

/// A fenced Markdown code block holding `s` literally, every line indented by `indent`
/// spaces (to sit inside a list item): the fence is longer than any backtick run in the
/// text, so no line of it can close the block early.
pub(crate) fn md_block(s: &str, indent: usize) -> String {
    let v = visible(s, true);
    let fence = "`".repeat((longest_backtick_run(&v) + 1).max(3));
    let pad = " ".repeat(indent);
    let mut out = format!("{pad}{fence}\n");
    for line in v.lines() {
        out.push_str(&pad);
        out.push_str(line);
        out.push('\n');
    }
    out.push_str(&pad);
    out.push_str(&fence);
    out
}

/// Escapes text for HTML, control characters visible.
pub(crate) fn html(s: &str, keep_lines: bool) -> String {
    let v = visible(s, keep_lines);
    let mut o = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '&' => o.push_str("&amp;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_and_control_characters_are_shown_not_carried() {
        assert_eq!(visible("a\0b\x1b[31mc\x7f", false), "a␀b␛[31mc␡");
        assert_eq!(visible("x\u{202e}y\u{85}", false), "x\\u{202e}y\\u{85}");
        assert_eq!(visible("l1\nl2\tx\r", true), "l1\nl2\tx");
        assert_eq!(visible("l1\nl2", false), "l1␊l2");
        for s in [
            md_text("\0"),
            md_code("\0"),
            md_block("\0", 2),
            html("\0", true),
        ] {
            assert!(!s.contains('\0'), "{s:?}");
            assert!(s.contains('␀'), "{s:?}");
        }
    }

    #[test]
    fn markdown_text_escapes_html_and_markup() {
        assert_eq!(
            md_text("<script>alert(1)</script> *x* [a](b) a|b"),
            "\\<script\\>alert(1)\\</script\\> \\*x\\* \\[a\\](b) a\\|b"
        );
        assert_eq!(md_text("two\nlines"), "two lines");
    }

    #[test]
    fn code_fences_are_longer_than_any_backtick_run_inside() {
        assert_eq!(md_code("a"), "`a`");
        assert_eq!(md_code("a `b` c"), "``a `b` c``");
        assert_eq!(md_code("``x"), "``` ``x ```");
        assert_eq!(md_code("a|b"), "`a\\|b`");
        let b = md_block("```\n<img src=x onerror=alert(1)>\n````", 2);
        assert!(b.starts_with("  `````\n"), "{b}");
        assert!(b.ends_with("\n  `````"), "{b}");
        assert_eq!(md_block("x", 0), "```\nx\n```");
    }

    #[test]
    fn html_escapes() {
        assert_eq!(
            html("<img src=x onerror='a'>&", false),
            "&lt;img src=x onerror=&#39;a&#39;&gt;&amp;"
        );
    }
}
