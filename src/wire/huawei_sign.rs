//! Huawei Cloud's `SDK-HMAC-SHA256` canonicalisation, shared by the client signer
//! ([`crate::provider::huawei_sign`]) and the emulator's gateway check
//! (`crate::emulator::huawei_verify`).
//!
//! Everything here is a pure function of its inputs (no clock, no I/O). The one rule that
//! makes client and server agree is that the canonical request and the wire request are built
//! from the *same* encoding function: a path segment or a query value is percent-encoded once
//! ([`encode_component`]) and that exact text is used in both places, the canonical URI only
//! adding a trailing `/`. The output is pinned byte for byte to vectors made by the official SDK.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

pub use super::percent::{decode_query, encode_component, path_segments, wire_path};

/// The algorithm name at the start of the `Authorization` header and the string to sign.
pub const ALGORITHM: &str = "SDK-HMAC-SHA256";

/// The header carrying the signing time, `YYYYMMDDTHHMMSSZ` in UTC.
pub const DATE_HEADER: &str = "X-Sdk-Date";

/// `strftime` format of [`DATE_HEADER`].
pub const DATE_FORMAT: &str = "%Y%m%dT%H%M%SZ";

/// The header carrying the temporary credentials' token; signed like any other header.
pub const SECURITY_TOKEN_HEADER: &str = "X-Security-Token";

/// The header naming the account (domain) the call is for.
pub const DOMAIN_ID_HEADER: &str = "X-Domain-Id";

/// The keyed MAC of the signature.
pub type HmacSha256 = Hmac<Sha256>;

/// The canonical URI: the wire path with a trailing `/` (the SDK always adds it).
pub fn canonical_uri<S: AsRef<str>>(segments: &[S]) -> String {
    canonical_uri_from_wire_path(&wire_path(segments))
}

/// Adds the canonical URI's trailing `/` to an already encoded path.
pub fn canonical_uri_from_wire_path(wire: &str) -> String {
    if wire.ends_with('/') {
        wire.to_string()
    } else {
        format!("{wire}/")
    }
}

/// The query string, used both on the wire and in the canonical request: pairs sorted by raw
/// key then raw value (byte order, which is the SDK's code-point order), each side encoded with
/// [`encode_component`], joined by `&`. Empty when there are no pairs.
pub fn canonical_query<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
    let mut sorted: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_ref(), v.as_ref()))
        .collect();
    sorted.sort_unstable();
    let encoded: Vec<String> = sorted
        .iter()
        .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
        .collect();
    encoded.join("&")
}

/// Whether a header takes part in the signature: the SDK leaves out names with `_`
/// (some proxies drop them) and the `Authorization` header itself obviously cannot be signed.
pub fn is_signable_header(name: &str) -> bool {
    !name.contains('_') && !name.eq_ignore_ascii_case("authorization")
}

/// The canonical headers block and the `SignedHeaders` list for the given headers.
///
/// Names are lower-cased, values trimmed, the list sorted by name. Unsignable headers (see
/// [`is_signable_header`]) are skipped.
pub fn canonical_headers<N: AsRef<str>, V: AsRef<str>>(headers: &[(N, V)]) -> (String, String) {
    let mut lowered: Vec<(String, &str)> = headers
        .iter()
        .filter(|(n, _)| is_signable_header(n.as_ref()))
        .map(|(n, v)| (n.as_ref().to_ascii_lowercase(), v.as_ref().trim()))
        .collect();
    lowered.sort();
    let mut block = String::new();
    let mut names: Vec<&str> = Vec::with_capacity(lowered.len());
    for (name, value) in &lowered {
        block.push_str(name);
        block.push(':');
        block.push_str(value);
        block.push('\n');
        names.push(name);
    }
    (block, names.join(";"))
}

/// Lower-case hex SHA-256 of the body (of nothing, for the GETs this product makes).
pub fn hex_sha256(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// A request reduced to what the signature covers, with the path and query already in their
/// canonical text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanonicalInput {
    pub method: String,
    /// Canonical URI, trailing `/` included.
    pub uri: String,
    /// Canonical query (also the wire query).
    pub query: String,
    /// `name:value\n` for each signed header, sorted.
    pub headers: String,
    /// `a;b;c`.
    pub signed_headers: String,
    /// Hex SHA-256 of the body.
    pub body_hash: String,
}

impl CanonicalInput {
    /// From raw (unencoded) path segments, query pairs and the headers to sign.
    pub fn new<S, K, V, N, H>(
        method: &str,
        path_segments: &[S],
        query: &[(K, V)],
        headers: &[(N, H)],
        body: &[u8],
    ) -> Self
    where
        S: AsRef<str>,
        K: AsRef<str>,
        V: AsRef<str>,
        N: AsRef<str>,
        H: AsRef<str>,
    {
        let (headers, signed_headers) = canonical_headers(headers);
        CanonicalInput {
            method: method.to_ascii_uppercase(),
            uri: canonical_uri(path_segments),
            query: canonical_query(query),
            headers,
            signed_headers,
            body_hash: hex_sha256(body),
        }
    }

    /// `METHOD\nURI\nQUERY\nHEADERS\nSIGNED_HEADERS\nBODY_HASH`. HEADERS ends in its own `\n`,
    /// hence the blank line the vectors show.
    pub fn canonical_request(&self) -> String {
        format!(
            "{}\n{}\n{}\n{}\n{}\n{}",
            self.method, self.uri, self.query, self.headers, self.signed_headers, self.body_hash
        )
    }

    /// `SDK-HMAC-SHA256\n<date>\n<hex(sha256(canonical request))>`, where `sdk_date` is the
    /// exact text of the [`DATE_HEADER`] header.
    pub fn string_to_sign(&self, sdk_date: &str) -> String {
        format!(
            "{ALGORITHM}\n{sdk_date}\n{}",
            hex_sha256(self.canonical_request().as_bytes())
        )
    }
}

/// `HMAC-SHA256(SK, string to sign)`, not yet finalized: the client turns it into hex
/// ([`signature`]), the server compares it with `verify_slice` (constant time).
pub fn signature_mac(secret_key: &str, string_to_sign: &str) -> HmacSha256 {
    // HMAC takes keys of any length: `new_from_slice` cannot fail for it.
    let mut mac =
        HmacSha256::new_from_slice(secret_key.as_bytes()).expect("HMAC accepts any key length");
    mac.update(string_to_sign.as_bytes());
    mac
}

/// `hex(HMAC-SHA256(SK, string to sign))`.
pub fn signature(secret_key: &str, string_to_sign: &str) -> String {
    hex::encode(
        signature_mac(secret_key, string_to_sign)
            .finalize()
            .into_bytes(),
    )
}

/// `SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=<a;b>, Signature=<hex>`.
pub fn authorization_header(access_key: &str, signed_headers: &str, signature: &str) -> String {
    format!(
        "{ALGORITHM} Access={access_key}, SignedHeaders={signed_headers}, Signature={signature}"
    )
}

/// Formats a time as [`DATE_HEADER`] wants it.
pub fn format_sdk_date(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format(DATE_FORMAT).to_string()
}

/// Parses a [`DATE_HEADER`] value; `None` when it is not `YYYYMMDDTHHMMSSZ`.
pub fn parse_sdk_date(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::NaiveDateTime::parse_from_str(s.trim(), DATE_FORMAT)
        .ok()
        .map(|n| n.and_utc())
}

/// The inputs of the signing vectors made with the official SDK
/// (`/work/shared/reference/huawei-signing-vectors.txt`), shared by the signer's and the
/// verifier's tests, and text that breaks naive encoders for their property tests.
#[cfg(test)]
pub(crate) mod test_vectors {
    use super::CanonicalInput;
    use proptest::prelude::*;

    pub const AK: &str = "HPUAEXAMPLEAK0000001";
    pub const SK: &str = "exampleSecretKey0123456789abcdefghijklmn";
    pub const DATE: &str = "20240101T000000Z";
    pub const HOST: &str = "identitycenter.myhuaweicloud.com";
    pub const DOMAIN: &str = "0123456789abcdef0123456789abcdef";
    pub const SEGMENTS: [&str; 5] = [
        "v1",
        "instances",
        "ins-1234567890abcdef",
        "account-assignments",
        "creation-statuses",
    ];
    pub const QUERY: [(&str, &str); 3] = [
        ("status", "IN_PROGRESS"),
        ("marker", "abc/def+g=h"),
        ("limit", "10"),
    ];
    /// Vector 1's `Authorization` header.
    pub const VECTOR_1_AUTHORIZATION: &str = "SDK-HMAC-SHA256 Access=HPUAEXAMPLEAK0000001, \
         SignedHeaders=content-type;host;x-domain-id;x-sdk-date, \
         Signature=50f5bbc6868a24972e94a29eefacb5640112442cb4abe9b55957e7bb8063750e";

    /// The vectors' headers, with a security token for vector 2.
    pub fn vector_headers(token: Option<&'static str>) -> Vec<(&'static str, &'static str)> {
        let mut headers = vec![
            ("Content-Type", "application/json"),
            ("Host", HOST),
            ("X-Domain-Id", DOMAIN),
            ("X-Sdk-Date", DATE),
        ];
        if let Some(t) = token {
            headers.push(("X-Security-Token", t));
        }
        headers
    }

    pub fn vector_input(token: Option<&'static str>) -> CanonicalInput {
        CanonicalInput::new("GET", &SEGMENTS, &QUERY, &vector_headers(token), b"")
    }

    /// Text mixing the characters that break naive encoders: separators of the path and
    /// query syntax, `%` itself, spaces and non-ASCII (Latin, CJK, emoji).
    pub fn nasty() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just(" ".to_string()),
                Just("/".to_string()),
                Just("+".to_string()),
                Just("=".to_string()),
                Just("%".to_string()),
                Just("&".to_string()),
                Just("?".to_string()),
                Just("%2F".to_string()),
                Just("ü".to_string()),
                Just("名前".to_string()),
                Just("🙂".to_string()),
                "[A-Za-z0-9._~-]{1,4}",
            ],
            1..6,
        )
        .prop_map(|parts| parts.concat())
    }

    /// A query key: plain or nasty.
    pub fn key() -> impl Strategy<Value = String> {
        prop_oneof!["[a-z_]{1,8}", nasty()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_with_underscores_are_not_signed() {
        let (block, names) =
            canonical_headers(&[("X_Custom", "1"), ("Host", " h "), ("X-Sdk-Date", "d")]);
        assert_eq!(block, "host:h\nx-sdk-date:d\n");
        assert_eq!(names, "host;x-sdk-date");
    }

    #[test]
    fn sdk_date_round_trip() {
        let t = parse_sdk_date("20240229T235959Z");
        assert!(t.is_some());
        assert_eq!(t.map(format_sdk_date).as_deref(), Some("20240229T235959Z"));
        assert_eq!(parse_sdk_date("2024-02-29T23:59:59Z"), None);
    }

    mod properties {
        use super::super::test_vectors::{key, nasty};
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            /// The canonical request carries exactly the wire path (plus `/`) and the wire
            /// query, byte for byte, and decoding the wire gives the raw values back.
            #[test]
            fn canonical_and_wire_encode_the_same(
                segments in proptest::collection::vec(nasty(), 1..5),
                query in proptest::collection::vec((key(), nasty()), 0..5),
            ) {
                let wire = wire_path(&segments);
                let input = CanonicalInput::new(
                    "GET", &segments, &query, &[("Host", "h"), ("X-Sdk-Date", "20240101T000000Z")], b"");
                prop_assert_eq!(&input.uri, &format!("{wire}/"));
                prop_assert_eq!(&input.query, &canonical_query(&query));
                let request = input.canonical_request();
                let mut lines = request.lines();
                lines.next();
                prop_assert_eq!(lines.next(), Some(input.uri.as_str()));
                prop_assert_eq!(lines.next(), Some(input.query.as_str()));
                // Only unreserved characters and escapes reach the wire.
                for c in wire.chars().chain(input.query.chars()) {
                    prop_assert!(c.is_ascii_alphanumeric() || "-_.~%/&=".contains(c), "{:?}", c);
                }
                // Each wire segment decodes to exactly the raw segment.
                prop_assert_eq!(&path_segments(&wire), &segments);
                let mut raw_sorted = query.clone();
                raw_sorted.sort();
                let mut back = decode_query(&input.query);
                back.sort();
                prop_assert_eq!(back, raw_sorted);
            }
        }
    }
}
