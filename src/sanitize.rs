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

/// Header and field names whose values are credentials: signed requests carry them, and trace
/// logging of the HTTP layers prints them.
const SECRET_NAMES: &str = r"authorization|x-amz-security-token|x-security-token|x-amz-signature|security[_-]?token|session[_-]?token|secret[_-]?(?:access[_-]?)?key";

/// Replaces credentials in log text with `<redacted>`: the values of [`SECRET_NAMES`] in every
/// form the SDKs print them (`name: value`, `"name": "value"`, a Debug `HeaderValue`, a
/// canonical request's `name:value`), and SigV4 / Huawei `Signature=` values wherever they
/// appear. The value ends at a quote, an escaped or real line break, or the end of the text.
pub fn redact_secrets(text: &str) -> std::borrow::Cow<'_, str> {
    static PATTERNS: std::sync::LazyLock<[(regex::Regex, &str); 2]> = std::sync::LazyLock::new(
        || {
            let named = format!(
                r#"(?i)((?:{SECRET_NAMES})"?\s*[:=]\s*(?:HeaderValue \{{ _private: H\d\()?"?)[^"\\\r\n]*"#
            );
            [
                (
                    regex::Regex::new(&named).expect("a valid pattern"),
                    "${1}<redacted>",
                ),
                (
                    regex::Regex::new(r"(?i)(signature=)[0-9a-z]+").expect("a valid pattern"),
                    "${1}<redacted>",
                ),
            ]
        },
    );
    let mut out = std::borrow::Cow::Borrowed(text);
    for (pattern, replacement) in PATTERNS.iter() {
        if let std::borrow::Cow::Owned(changed) = pattern.replace_all(&out, *replacement) {
            out = std::borrow::Cow::Owned(changed);
        }
    }
    out
}

/// Shows control characters (other than line breaks and tabs) and bidi overrides as `\u{..}`
/// escapes, so that `cat`ting a log that quotes hostile API text cannot drive the terminal.
pub fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    let is_risky = |c: char| {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !text.chars().any(is_risky) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_risky(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A writer for the log file that passes text through [`redact_secrets`] and
/// [`escape_controls`]: whatever a dependency logs at whatever level, no credential reaches the
/// disk and no escape sequence reaches the terminal of whoever reads the log. Each `write` must
/// carry whole lines, which holds for the tracing writers (one event, one write).
pub struct RedactingWriter<W> {
    inner: W,
}

impl<W: std::io::Write> RedactingWriter<W> {
    pub fn new(inner: W) -> Self {
        RedactingWriter { inner }
    }
}

impl<W: std::io::Write> std::io::Write for RedactingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let redacted = redact_secrets(&text);
        self.inner
            .write_all(escape_controls(&redacted).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
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
    use proptest::prelude::Strategy;

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
    fn secrets_are_redacted_in_every_form_the_sdks_log_them() {
        let cases = [
            r#"headers: {"authorization": HeaderValue { _private: H0("AWS4-HMAC-SHA256 Credential=AKIA/x, SignedHeaders=host, Signature=abc123") }, "x-amz-security-token": HeaderValue { _private: H0("TOKEN42") }}"#,
            "canonical_request=POST\n/\nhost:x\nx-amz-security-token:TOKEN42\nx-amz-target:y",
            "Authorization: SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;x-sdk-date, Signature=abc123",
            "X-Security-Token: TOKEN42",
            "aws_session_token = TOKEN42",
            r#"{"secret_access_key":"TOKEN42"}"#,
            "string to sign ... Signature=abc123 done",
        ];
        for case in cases {
            let out = redact_secrets(case);
            assert!(
                !out.contains("TOKEN42") && !out.contains("abc123"),
                "{case} -> {out}"
            );
            assert!(out.contains("<redacted>"), "{out}");
        }
        // What is not a secret stays, so the log is still useful.
        let out = redact_secrets(
            r#""x-amz-target": HeaderValue { _private: H0("SWBExternalService.ListInstances") }"#,
        );
        assert!(out.contains("SWBExternalService.ListInstances"), "{out}");
    }

    #[test]
    fn the_redacting_writer_redacts_what_passes_through() {
        use std::io::Write;
        let mut w = RedactingWriter::new(Vec::new());
        let line = b"x-amz-security-token: TOKEN42\n";
        assert_eq!(w.write(line).ok(), Some(line.len()));
        let written = String::from_utf8_lossy(&w.inner).into_owned();
        assert_eq!(written, "x-amz-security-token: <redacted>\n");
    }

    #[test]
    fn the_log_writer_escapes_control_characters() {
        use std::io::Write;
        let mut w = RedactingWriter::new(Vec::new());
        let line = "reason=a\u{1b}]0;pwned\u{7}b\u{202e}c\u{9b}d\tok\n";
        assert!(w.write(line.as_bytes()).is_ok());
        let written = String::from_utf8_lossy(&w.inner).into_owned();
        assert_eq!(
            written,
            "reason=a\\u{1b}]0;pwned\\u{7}b\\u{202e}c\\u{9b}d\tok\n"
        );
    }

    proptest::proptest! {
        /// Whatever the input, nothing that a terminal interprets survives: no control
        /// character (C0, DEL, C1) and no bidirectional override.
        #[test]
        fn no_control_character_survives(input in proptest::prelude::any::<String>()) {
            let cleaned = clean_text(&input);
            for c in cleaned.chars() {
                proptest::prop_assert!(!c.is_control(), "{:?} in {:?}", c, cleaned);
                proptest::prop_assert!(
                    !matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'),
                    "{:?} in {:?}", c, cleaned
                );
            }
        }

        /// The same for text built from the pieces attacks are made of, which random strings
        /// rarely hit.
        #[test]
        fn no_control_character_survives_escape_soup(
            parts in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::prelude::Just("\u{1b}".to_string()),
                    proptest::prelude::Just("\u{1b}[".to_string()),
                    proptest::prelude::Just("\u{1b}]".to_string()),
                    proptest::prelude::Just("\u{9b}".to_string()),
                    proptest::prelude::Just("\u{9d}".to_string()),
                    proptest::prelude::Just("\u{7}".to_string()),
                    proptest::prelude::Just("\u{202e}".to_string()),
                    "[ -~]{0,4}",
                    proptest::prelude::any::<char>().prop_map(String::from),
                ],
                0..40,
            )
        ) {
            let input: String = parts.concat();
            let cleaned = clean_text(&input);
            proptest::prop_assert!(cleaned.chars().all(|c| !c.is_control()), "{:?}", cleaned);
        }
    }

    #[test]
    fn empty_optional_becomes_none() {
        assert_eq!(clean_opt(Some("\u{1b}[0m")), None);
        assert_eq!(clean_opt(Some("ok")), Some("ok".to_string()));
        assert_eq!(clean_opt(None), None);
    }
}
