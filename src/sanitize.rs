//! Text from an API is untrusted: a failure reason could carry escape sequences that move the
//! cursor, retitle the terminal or write to the clipboard. Everything that came over the wire
//! passes through here before it is stored, so nothing downstream has to remember to.

/// Longest text kept from one API field. Failure reasons in the wild are a few hundred
/// characters; anything far beyond that is hostile or broken and would only slow rendering.
pub const MAX_FIELD_CHARS: usize = 4096;

/// Strips control characters and escape sequences (CSI, OSC, DCS, ...), folds newlines and tabs
/// into spaces, and caps the length.
pub fn clean_text(input: &str) -> String {
    let mut out = String::with_capacity(input.len().min(MAX_FIELD_CHARS));
    let mut chars = input.chars().peekable();
    let mut kept = 0usize;
    while let Some(c) = chars.next() {
        if kept >= MAX_FIELD_CHARS {
            out.push('…');
            break;
        }
        match c {
            '\u{1b}' => skip_escape(&mut chars),
            // C1 CSI / OSC / DCS introducers behave like ESC [ / ESC ] / ESC P on some terminals.
            '\u{9b}' => skip_csi_body(&mut chars),
            '\u{9d}' | '\u{90}' | '\u{98}' | '\u{9e}' | '\u{9f}' => skip_string_body(&mut chars),
            '\n' | '\r' | '\t' => {
                if !out.ends_with(' ') {
                    out.push(' ');
                    kept += 1;
                }
            }
            c if c.is_control() => {}
            // Bidirectional overrides can make text display differently from what it is.
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {}
            c => {
                out.push(c);
                kept += 1;
            }
        }
    }
    out
}

/// Like [`clean_text`] for an optional field; empty results become `None`.
pub fn clean_opt(input: Option<&str>) -> Option<String> {
    input.map(clean_text).filter(|s| !s.is_empty())
}

fn skip_escape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    match chars.peek().copied() {
        Some('[') => {
            chars.next();
            skip_csi_body(chars);
        }
        Some(']') | Some('P') | Some('X') | Some('^') | Some('_') => {
            chars.next();
            skip_string_body(chars);
        }
        Some(c) if ('\u{20}'..='\u{2f}').contains(&c) => {
            // ESC, intermediates, then one final byte.
            while let Some(&c) = chars.peek() {
                chars.next();
                if !('\u{20}'..='\u{2f}').contains(&c) {
                    break;
                }
            }
        }
        Some(_) => {
            chars.next();
        }
        None => {}
    }
}

fn skip_csi_body(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    for c in chars.by_ref() {
        if ('\u{40}'..='\u{7e}').contains(&c) {
            break;
        }
    }
}

/// OSC/DCS/SOS/PM/APC strings end at BEL, ST (ESC \) or the C1 ST.
fn skip_string_body(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(c) = chars.next() {
        match c {
            '\u{7}' | '\u{9c}' => break,
            '\u{1b}' => {
                if chars.peek() == Some(&'\\') {
                    chars.next();
                }
                break;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_unchanged() {
        assert_eq!(
            clean_text("Received a 404 status error"),
            "Received a 404 status error"
        );
        assert_eq!(clean_text("名前 ü"), "名前 ü");
    }

    #[test]
    fn csi_sequences_are_removed() {
        assert_eq!(clean_text("a\u{1b}[31mred\u{1b}[0m b"), "ared b");
        assert_eq!(clean_text("x\u{1b}[2J\u{1b}[Hy"), "xy");
        assert_eq!(clean_text("x\u{9b}31my"), "xy");
    }

    #[test]
    fn osc_sequences_are_removed_including_clipboard_writes() {
        assert_eq!(clean_text("a\u{1b}]0;evil title\u{7}b"), "ab");
        assert_eq!(clean_text("a\u{1b}]52;c;ZXZpbA==\u{1b}\\b"), "ab");
        assert_eq!(clean_text("a\u{1b}P1$qm\u{1b}\\b"), "ab");
    }

    #[test]
    fn control_characters_are_dropped_and_newlines_folded() {
        assert_eq!(clean_text("a\u{7}\u{8}b\u{0}c"), "abc");
        assert_eq!(clean_text("line1\r\nline2\tend"), "line1 line2 end");
        assert_eq!(clean_text("a\u{202e}b"), "ab");
    }

    #[test]
    fn huge_text_is_capped() {
        let long = "x".repeat(MAX_FIELD_CHARS * 3);
        let cleaned = clean_text(&long);
        assert_eq!(cleaned.chars().count(), MAX_FIELD_CHARS + 1);
        assert!(cleaned.ends_with('…'));
    }

    #[test]
    fn empty_optional_becomes_none() {
        assert_eq!(clean_opt(Some("\u{1b}[0m")), None);
        assert_eq!(clean_opt(Some("ok")), Some("ok".to_string()));
        assert_eq!(clean_opt(None), None);
    }
}
