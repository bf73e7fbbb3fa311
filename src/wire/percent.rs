//! Percent-encoding of path segments and query pairs, written once for the client and the
//! server.
//!
//! Everything but RFC 3986 unreserved characters (`A-Za-z0-9-_.~`) is escaped, as the official
//! Huawei SDK's `quote(s, safe='~')` does: `/`, `+`, `=`, `%` and space are escaped, so a value
//! can never be confused with the path or query syntax around it. Decoding is lossy on invalid
//! UTF-8 (a server must answer something, and a replacement character never matches an id).

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

const ESCAPED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes one path segment, query key or query value (UTF-8, upper-case hex).
pub fn encode_component(raw: &str) -> String {
    utf8_percent_encode(raw, ESCAPED).to_string()
}

/// Decodes one path segment, query key or query value.
pub fn decode_component(encoded: &str) -> String {
    percent_decode_str(encoded).decode_utf8_lossy().into_owned()
}

/// The path as sent on the wire: `/` + encoded segments joined by `/`, no trailing `/`.
///
/// Segments are the *raw* (unencoded) values, so an id containing `/` stays one segment.
pub fn wire_path<S: AsRef<str>>(segments: &[S]) -> String {
    let mut out = String::new();
    for segment in segments {
        out.push('/');
        out.push_str(&encode_component(segment.as_ref()));
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// The decoded segments of a wire path (`/a/b%2Fc` gives `["a", "b/c"]`): split first, then
/// decoded, so an escaped `/` stays inside its segment. Empty segments are kept (`/` gives
/// `[""]`, `/a/` gives `["a", ""]`): a signature covers the path exactly as sent, and callers
/// that do not care drop them.
pub fn path_segments(raw_path: &str) -> Vec<String> {
    raw_path
        .strip_prefix('/')
        .unwrap_or(raw_path)
        .split('/')
        .map(decode_component)
        .collect()
}

/// Decodes a wire query into raw pairs. `+` is kept as a literal `+`: signers in this protocol
/// escape spaces as `%20` and plus signs as `%2B`, so a bare `+` can only be a plus.
pub fn decode_query(raw_query: &str) -> Vec<(String, String)> {
    raw_query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode_component(k), decode_component(v))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_round_trip_through_the_wire_path() {
        let raw = ["v1", "ins 名+=/%", "r1"];
        let wire = wire_path(&raw);
        assert_eq!(wire, "/v1/ins%20%E5%90%8D%2B%3D%2F%25/r1");
        assert_eq!(path_segments(&wire), raw);
        assert_eq!(
            path_segments("/v1//instances/"),
            ["v1", "", "instances", ""]
        );
        assert_eq!(path_segments("/"), [""]);
        assert_eq!(wire_path::<&str>(&[]), "/");
    }

    #[test]
    fn query_plus_is_literal() {
        assert_eq!(
            decode_query("a=x+y&b=%20&c"),
            [
                ("a".to_string(), "x+y".to_string()),
                ("b".to_string(), " ".to_string()),
                ("c".to_string(), String::new())
            ]
        );
    }
}
