//! Huawei Cloud AK/SK request signing, `SDK-HMAC-SHA256`, as the official SDKs do it for IAM
//! Identity Center.
//!
//! Everything here is a pure function of its inputs (no clock, no I/O) so that the same code
//! signs on the client ([`crate::provider::huawei`]), verifies in the emulator
//! ([`crate::emulator`]'s Huawei wire) and is checked byte for byte against the vectors made by
//! the official SDK. The one rule that makes client and server agree is that the canonical
//! request and the wire request are built from the *same* encoding function: a path segment or
//! a query value is percent-encoded once ([`encode_component`]) and that exact text is used in
//! both places, with the only differences being the canonical URI's trailing `/` and nothing
//! else.

use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use sha2::{Digest, Sha256};

/// The algorithm name at the start of the `Authorization` header and the string to sign.
pub const ALGORITHM: &str = "SDK-HMAC-SHA256";

/// The header carrying the signing time, `YYYYMMDDTHHMMSSZ` in UTC.
pub const DATE_HEADER: &str = "X-Sdk-Date";

/// `strftime` format of [`DATE_HEADER`].
pub const DATE_FORMAT: &str = "%Y%m%dT%H%M%SZ";

/// How far the gateway lets `X-Sdk-Date` drift from its own clock.
pub const MAX_CLOCK_SKEW: chrono::TimeDelta = chrono::TimeDelta::minutes(15);

/// Everything but RFC 3986 unreserved characters (`A-Za-z0-9-_.~`) is escaped. This is the
/// official SDK's `quote(s, safe='~')`: in particular `/`, `+`, `=`, `%` and space are escaped,
/// so a value can never be confused with the path or query syntax around it.
const ESCAPED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

type HmacSha256 = Hmac<Sha256>;

/// Percent-encodes one path segment, query key or query value (UTF-8, upper-case hex).
pub fn encode_component(raw: &str) -> String {
    utf8_percent_encode(raw, ESCAPED).to_string()
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

/// The canonical URI: the wire path with a trailing `/` (the SDK always adds it).
pub fn canonical_uri<S: AsRef<str>>(segments: &[S]) -> String {
    canonical_uri_from_wire_path(&wire_path(segments))
}

fn canonical_uri_from_wire_path(wire: &str) -> String {
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
    let mut out = String::new();
    for (i, (k, v)) in sorted.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(&encode_component(k));
        out.push('=');
        out.push_str(&encode_component(v));
    }
    out
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
/// canonical text. Build it with [`CanonicalInput::new`] on the client side or from a received
/// request with [`verify`].
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
}

/// `SDK-HMAC-SHA256\n<date>\n<hex(sha256(canonical request))>`.
pub fn string_to_sign(canonical_request: &str, sdk_date: &str) -> String {
    format!(
        "{ALGORITHM}\n{sdk_date}\n{}",
        hex_sha256(canonical_request.as_bytes())
    )
}

/// `hex(HMAC-SHA256(SK, string to sign))`.
pub fn signature(secret_key: &str, string_to_sign: &str) -> String {
    hex::encode(hmac_sha256(
        secret_key.as_bytes(),
        string_to_sign.as_bytes(),
    ))
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    match HmacSha256::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(data);
            mac.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

/// `SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=<a;b>, Signature=<hex>`.
pub fn authorization_header(access_key: &str, signed_headers: &str, signature: &str) -> String {
    format!(
        "{ALGORITHM} Access={access_key}, SignedHeaders={signed_headers}, Signature={signature}"
    )
}

/// All the intermediate texts of one signature, so tests (and debugging) can compare each
/// step. Holds no secret: the SK only enters the HMAC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub canonical_request: String,
    pub string_to_sign: String,
    pub signature: String,
    pub authorization: String,
}

/// Signs `input` at `sdk_date` (the exact text of the `X-Sdk-Date` header, which must also be
/// among the signed headers).
pub fn sign(input: &CanonicalInput, sdk_date: &str, access_key: &str, secret_key: &str) -> Signed {
    let canonical_request = input.canonical_request();
    let string_to_sign = string_to_sign(&canonical_request, sdk_date);
    let signature = signature(secret_key, &string_to_sign);
    let authorization = authorization_header(access_key, &input.signed_headers, &signature);
    Signed {
        canonical_request,
        string_to_sign,
        signature,
        authorization,
    }
}

/// Algorithm name of the derived-key variant (`V11-HMAC-SHA256`), which some Huawei services
/// require instead of [`ALGORITHM`]. IAM Identity Center's official client uses
/// `SDK-HMAC-SHA256`; the variant is implemented so that a service switching to it is a
/// one-line change, and it is pinned by the shared test vector 3.
pub const DERIVED_ALGORITHM: &str = "V11-HMAC-SHA256";

/// The derived signing key of `V11-HMAC-SHA256`: HKDF-SHA256 with the SK as input key
/// material, the AK as salt and `info` (`YYYYMMDD/region/service`) as info, 32 bytes, in
/// lower-case hex. The SDK then uses that hex *text* as the HMAC key.
pub fn derived_signing_key(access_key: &str, secret_key: &str, info: &str) -> String {
    let prk = hmac_sha256(access_key.as_bytes(), secret_key.as_bytes());
    let mut block = info.as_bytes().to_vec();
    block.push(1);
    hex::encode(hmac_sha256(&prk, &block))
}

/// Signs with the derived-key variant for `region` and `service`; the texts in the result
/// follow that variant (four-line string to sign, `Credential=AK/info` in the header).
pub fn sign_derived(
    input: &CanonicalInput,
    sdk_date: &str,
    access_key: &str,
    secret_key: &str,
    region: &str,
    service: &str,
) -> Signed {
    let day = sdk_date.get(..8).unwrap_or(sdk_date);
    let info = format!("{day}/{region}/{service}");
    let canonical_request = input.canonical_request();
    let string_to_sign = format!(
        "{DERIVED_ALGORITHM}\n{sdk_date}\n{info}\n{}",
        hex_sha256(canonical_request.as_bytes())
    );
    let key = derived_signing_key(access_key, secret_key, &info);
    let signature = signature(&key, &string_to_sign);
    let authorization = format!(
        "{DERIVED_ALGORITHM} Credential={access_key}/{info}, SignedHeaders={}, Signature={signature}",
        input.signed_headers
    );
    Signed {
        canonical_request,
        string_to_sign,
        signature,
        authorization,
    }
}

/// The `Host` header value for a URL's host and port, as HTTP clients send it: the port only
/// when it is not the scheme's default.
pub fn host_header(host: &str, port: Option<u16>) -> String {
    match port {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    }
}

/// Formats a time as `X-Sdk-Date` wants it.
pub fn format_sdk_date(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format(DATE_FORMAT).to_string()
}

/// Parses an `X-Sdk-Date` value; `None` when it is not `YYYYMMDDTHHMMSSZ`.
pub fn parse_sdk_date(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::NaiveDateTime::parse_from_str(s.trim(), DATE_FORMAT)
        .ok()
        .map(|n| n.and_utc())
}

/// The parts of an `SDK-HMAC-SHA256` Authorization header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedAuthorization {
    pub access_key: String,
    /// Lower-case header names, in the order given.
    pub signed_headers: Vec<String>,
    pub signature: String,
}

/// Parses `SDK-HMAC-SHA256 Access=..., SignedHeaders=..., Signature=...` (order of the three
/// fields is not fixed; spaces after commas optional).
pub fn parse_authorization(value: &str) -> Result<ParsedAuthorization, VerifyError> {
    let value = value.trim();
    let rest = value
        .strip_prefix(ALGORITHM)
        .ok_or(VerifyError::UnsupportedAlgorithm)?;
    if !rest.starts_with(' ') {
        return Err(VerifyError::UnsupportedAlgorithm);
    }
    let mut access_key = None;
    let mut signed_headers = None;
    let mut sig = None;
    for part in rest.split(',') {
        let part = part.trim();
        let (key, val) = part
            .split_once('=')
            .ok_or(VerifyError::MalformedAuthorization)?;
        match key.trim() {
            "Access" => access_key = Some(val.trim().to_string()),
            "SignedHeaders" => {
                signed_headers = Some(
                    val.trim()
                        .split(';')
                        .filter(|s| !s.is_empty())
                        .map(|s| s.to_ascii_lowercase())
                        .collect::<Vec<_>>(),
                )
            }
            "Signature" => sig = Some(val.trim().to_ascii_lowercase()),
            _ => return Err(VerifyError::MalformedAuthorization),
        }
    }
    match (access_key, signed_headers, sig) {
        (Some(access_key), Some(signed_headers), Some(signature))
            if !access_key.is_empty() && !signed_headers.is_empty() && !signature.is_empty() =>
        {
            Ok(ParsedAuthorization {
                access_key,
                signed_headers,
                signature,
            })
        }
        _ => Err(VerifyError::MalformedAuthorization),
    }
}

/// Why a received request's signature was refused. The emulator turns each into the gateway's
/// 401 body; the texts never include the secret key or the expected signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the Authorization header is missing")]
    MissingAuthorization,
    #[error("the Authorization header is not SDK-HMAC-SHA256")]
    UnsupportedAlgorithm,
    #[error("the Authorization header is malformed")]
    MalformedAuthorization,
    #[error("ak {0} not exist")]
    UnknownAccessKey(String),
    #[error("the signed header {0} is missing from the request")]
    MissingSignedHeader(String),
    #[error("the X-Sdk-Date header is missing or not signed")]
    MissingDate,
    #[error("the X-Sdk-Date header is not YYYYMMDDTHHMMSSZ")]
    BadDate,
    #[error("the X-Sdk-Date is more than 15 minutes off the server time")]
    DateOutOfRange,
    #[error("verify aksk signature fail")]
    SignatureMismatch,
}

/// A request as a server received it, before any decoding.
#[derive(Debug, Clone, Copy)]
pub struct ReceivedRequest<'a> {
    pub method: &'a str,
    /// The path exactly as on the wire (still percent-encoded), without the query.
    pub raw_path: &'a str,
    /// The query exactly as on the wire, without the `?`.
    pub raw_query: Option<&'a str>,
    /// Every received header (name in any case, value as received; duplicates allowed: the
    /// first one wins).
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
}

impl ReceivedRequest<'_> {
    fn header(&self, lower_name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(lower_name))
            .map(|(_, v)| *v)
    }
}

/// Decodes a wire query into raw pairs. `+` is kept as a literal `+`: signers in this protocol
/// escape spaces as `%20` and plus signs as `%2B`, so a bare `+` can only be a plus.
pub fn decode_query(raw_query: &str) -> Vec<(String, String)> {
    raw_query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode_lossy(k), decode_lossy(v))
        })
        .collect()
}

fn decode_lossy(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// Canonical URI from a wire path, segment by segment: each segment is decoded and re-encoded,
/// so an escaped `/` inside a segment (`%2F`) stays inside it.
fn canonical_uri_segmentwise(raw_path: &str) -> String {
    let segments: Vec<String> = raw_path.split('/').skip(1).map(decode_lossy).collect();
    if segments.is_empty() || (segments.len() == 1 && segments[0].is_empty()) {
        return "/".to_string();
    }
    let mut uri = String::new();
    for s in &segments {
        uri.push('/');
        uri.push_str(&encode_component(s));
    }
    canonical_uri_from_wire_path(&uri)
}

/// Canonical URI the way the official Python SDK computes it: the whole path is decoded first
/// and then split on `/`, so a `%2F` inside a segment becomes a separator. Only differs from
/// [`canonical_uri_segmentwise`] for segments containing `/`; accepted too so that clients
/// with that quirk still verify.
fn canonical_uri_sdk_style(raw_path: &str) -> String {
    let decoded = decode_lossy(raw_path);
    let encoded: Vec<String> = decoded.split('/').map(encode_component).collect();
    canonical_uri_from_wire_path(&encoded.join("/"))
}

/// What a successful verification established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub access_key: String,
    pub sdk_date: chrono::DateTime<chrono::Utc>,
    /// `X-Security-Token`, when the request carried one.
    pub security_token: Option<String>,
}

/// Verifies a received request: parses the Authorization header, checks the access key, checks
/// `X-Sdk-Date` against `now` (±[`MAX_CLOCK_SKEW`]), rebuilds the canonical request from the
/// received method, path, query and signed headers, and compares signatures in constant time.
///
/// `now` is a parameter (not read here) so that the emulator can pass its real wall clock and
/// tests can pass anything.
pub fn verify(
    req: &ReceivedRequest<'_>,
    access_key: &str,
    secret_key: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Verified, VerifyError> {
    let auth_value = req
        .header("authorization")
        .ok_or(VerifyError::MissingAuthorization)?;
    let auth = parse_authorization(auth_value)?;
    if !constant_time_eq(auth.access_key.as_bytes(), access_key.as_bytes()) {
        return Err(VerifyError::UnknownAccessKey(crate::sanitize::clean_text(
            &auth.access_key,
        )));
    }
    if !auth.signed_headers.iter().any(|h| h == "x-sdk-date") {
        return Err(VerifyError::MissingDate);
    }
    let date_text = req.header("x-sdk-date").ok_or(VerifyError::MissingDate)?;
    let sdk_date = parse_sdk_date(date_text).ok_or(VerifyError::BadDate)?;
    if (now - sdk_date).abs() > MAX_CLOCK_SKEW {
        return Err(VerifyError::DateOutOfRange);
    }
    let mut signed: Vec<(&str, &str)> = Vec::with_capacity(auth.signed_headers.len());
    for name in &auth.signed_headers {
        let value = req
            .header(name)
            .ok_or_else(|| VerifyError::MissingSignedHeader(crate::sanitize::clean_text(name)))?;
        signed.push((name.as_str(), value));
    }
    let (headers, signed_headers) = canonical_headers(&signed);
    let query = canonical_query(&decode_query(req.raw_query.unwrap_or("")));
    let base = CanonicalInput {
        method: req.method.to_ascii_uppercase(),
        uri: canonical_uri_segmentwise(req.raw_path),
        query,
        headers,
        signed_headers,
        body_hash: hex_sha256(req.body),
    };
    let mut candidates = vec![base.clone()];
    let sdk_uri = canonical_uri_sdk_style(req.raw_path);
    if sdk_uri != base.uri {
        candidates.push(CanonicalInput {
            uri: sdk_uri,
            ..base
        });
    }
    for candidate in candidates {
        let sts = string_to_sign(&candidate.canonical_request(), date_text.trim());
        let expected = signature(secret_key, &sts);
        if constant_time_eq(expected.as_bytes(), auth.signature.as_bytes()) {
            return Ok(Verified {
                access_key: auth.access_key,
                sdk_date,
                security_token: req.header("x-security-token").map(str::to_string),
            });
        }
    }
    Err(VerifyError::SignatureMismatch)
}

/// Compares without an early exit, so the time taken does not tell how many leading bytes of
/// a guessed signature were right.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b) {
        diff |= x ^ y;
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const AK: &str = "HPUAEXAMPLEAK0000001";
    const SK: &str = "exampleSecretKey0123456789abcdefghijklmn";
    const DATE: &str = "20240101T000000Z";
    const HOST: &str = "identitycenter.myhuaweicloud.com";
    const DOMAIN: &str = "0123456789abcdef0123456789abcdef";
    const SEGMENTS: [&str; 5] = [
        "v1",
        "instances",
        "ins-1234567890abcdef",
        "account-assignments",
        "creation-statuses",
    ];
    const QUERY: [(&str, &str); 3] = [
        ("status", "IN_PROGRESS"),
        ("marker", "abc/def+g=h"),
        ("limit", "10"),
    ];

    fn vector_input(token: Option<&str>) -> CanonicalInput {
        let mut headers = vec![
            ("Content-Type", "application/json"),
            ("Host", HOST),
            ("X-Domain-Id", DOMAIN),
            ("X-Sdk-Date", DATE),
        ];
        if let Some(t) = token {
            headers.push(("X-Security-Token", t));
        }
        CanonicalInput::new("GET", &SEGMENTS, &QUERY, &headers, b"")
    }

    #[test]
    fn vector_1_permanent_credentials() {
        let input = vector_input(None);
        let signed = sign(&input, DATE, AK, SK);
        assert_eq!(
            signed.canonical_request,
            "GET\n\
             /v1/instances/ins-1234567890abcdef/account-assignments/creation-statuses/\n\
             limit=10&marker=abc%2Fdef%2Bg%3Dh&status=IN_PROGRESS\n\
             content-type:application/json\n\
             host:identitycenter.myhuaweicloud.com\n\
             x-domain-id:0123456789abcdef0123456789abcdef\n\
             x-sdk-date:20240101T000000Z\n\
             \n\
             content-type;host;x-domain-id;x-sdk-date\n\
             e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            signed.string_to_sign,
            "SDK-HMAC-SHA256\n20240101T000000Z\n\
             14c4a63332b93fcf8a655e72f0a97d87632bcb86726ca2b5efd93c690f3fffd7"
        );
        assert_eq!(
            signed.authorization,
            "SDK-HMAC-SHA256 Access=HPUAEXAMPLEAK0000001, \
             SignedHeaders=content-type;host;x-domain-id;x-sdk-date, \
             Signature=50f5bbc6868a24972e94a29eefacb5640112442cb4abe9b55957e7bb8063750e"
        );
        // The wire request of the vector.
        assert_eq!(
            format!("{}?{}", wire_path(&SEGMENTS), canonical_query(&QUERY)),
            "/v1/instances/ins-1234567890abcdef/account-assignments/creation-statuses\
             ?limit=10&marker=abc%2Fdef%2Bg%3Dh&status=IN_PROGRESS"
        );
    }

    #[test]
    fn vector_2_with_security_token() {
        let input = vector_input(Some("exampleSecurityToken=="));
        let signed = sign(&input, DATE, AK, SK);
        assert_eq!(
            signed.canonical_request,
            "GET\n\
             /v1/instances/ins-1234567890abcdef/account-assignments/creation-statuses/\n\
             limit=10&marker=abc%2Fdef%2Bg%3Dh&status=IN_PROGRESS\n\
             content-type:application/json\n\
             host:identitycenter.myhuaweicloud.com\n\
             x-domain-id:0123456789abcdef0123456789abcdef\n\
             x-sdk-date:20240101T000000Z\n\
             x-security-token:exampleSecurityToken==\n\
             \n\
             content-type;host;x-domain-id;x-sdk-date;x-security-token\n\
             e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            signed.string_to_sign,
            "SDK-HMAC-SHA256\n20240101T000000Z\n\
             ea20d445414df6e630508bc38da6ceb5e700b622c6d5297e13652ba815df2ae8"
        );
        assert_eq!(
            signed.authorization,
            "SDK-HMAC-SHA256 Access=HPUAEXAMPLEAK0000001, \
             SignedHeaders=content-type;host;x-domain-id;x-sdk-date;x-security-token, \
             Signature=db65ab6059995f0da65c341c260ec725d143754ed8ed7a89dda469e9bc947e2b"
        );
    }

    #[test]
    fn vector_3_derived_key() {
        let input = vector_input(None);
        assert_eq!(
            derived_signing_key(AK, SK, "20240101/globe/identitycenter"),
            "f90973c8291932ff70974ac39ec4ac2e0cd031aaa532383312af58d5c42cd0e4"
        );
        let signed = sign_derived(&input, DATE, AK, SK, "globe", "identitycenter");
        assert_eq!(
            signed.canonical_request,
            sign(&input, DATE, AK, SK).canonical_request,
            "the canonical request does not depend on the algorithm"
        );
        assert_eq!(
            signed.string_to_sign,
            "V11-HMAC-SHA256\n20240101T000000Z\n20240101/globe/identitycenter\n\
             14c4a63332b93fcf8a655e72f0a97d87632bcb86726ca2b5efd93c690f3fffd7"
        );
        assert_eq!(
            signed.authorization,
            "V11-HMAC-SHA256 Credential=HPUAEXAMPLEAK0000001/20240101/globe/identitycenter, \
             SignedHeaders=content-type;host;x-domain-id;x-sdk-date, \
             Signature=a8c902c0b48e2fccf00dbda293d55b17068858fd1d40b9f1440cbc67e0a8ab1f"
        );
    }

    /// Made with the official Python SDK's signer (huaweicloudsdkcore 3.1.219, `Signer.sign`)
    /// for a path segment and query values full of characters that need escaping:
    /// `SdkRequest(resource_path="/v1/instances/" + quote(seg, safe="") + "/...",
    /// query_params=[("status", ...), ("marker", "x y"), ("limit", 5)])`.
    #[test]
    fn sdk_made_vector_with_escaped_path_and_query() {
        let segments = [
            "v1",
            "instances",
            "ins 名前+=%ü",
            "account-assignments",
            "creation-status",
            "r1",
        ];
        let query = [
            ("status", "a b/c+d=e%f ü名"),
            ("marker", "x y"),
            ("limit", "5"),
        ];
        let headers = [
            ("Content-Type", "application/json"),
            ("X-Sdk-Date", DATE),
            ("X-Domain-Id", "dom"),
            ("Host", "127.0.0.1:8080"),
        ];
        let input = CanonicalInput::new("GET", &segments, &query, &headers, b"");
        assert_eq!(
            format!("{}?{}", wire_path(&segments), input.query),
            "/v1/instances/ins%20%E5%90%8D%E5%89%8D%2B%3D%25%C3%BC/account-assignments/\
             creation-status/r1?limit=5&marker=x%20y&status=a%20b%2Fc%2Bd%3De%25f%20%C3%BC%E5%90%8D"
        );
        assert_eq!(
            sign(&input, DATE, AK, SK).authorization,
            "SDK-HMAC-SHA256 Access=HPUAEXAMPLEAK0000001, \
             SignedHeaders=content-type;host;x-domain-id;x-sdk-date, \
             Signature=9fd0ba9981dbc793fc9c829b60c52756aa5e455e7d740536cdeeff8746e9c08a"
        );
    }

    fn received_for(
        input: &CanonicalInput,
        signed: &Signed,
        wire: &str,
        headers: &[(&str, &str)],
        f: impl FnOnce(&ReceivedRequest<'_>) -> Result<Verified, VerifyError>,
    ) -> Result<Verified, VerifyError> {
        let (path, query) = match wire.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (wire, None),
        };
        let mut all: Vec<(&str, &str)> = headers.to_vec();
        all.push(("Authorization", signed.authorization.as_str()));
        let req = ReceivedRequest {
            method: &input.method,
            raw_path: path,
            raw_query: query,
            headers: &all,
            body: b"",
        };
        f(&req)
    }

    fn vector_headers() -> Vec<(&'static str, &'static str)> {
        vec![
            ("Content-Type", "application/json"),
            ("Host", HOST),
            ("X-Domain-Id", DOMAIN),
            ("X-Sdk-Date", DATE),
        ]
    }

    fn vector_now() -> chrono::DateTime<chrono::Utc> {
        parse_sdk_date(DATE).unwrap_or_default()
    }

    #[test]
    fn verify_accepts_the_vector_request() {
        let input = vector_input(None);
        let signed = sign(&input, DATE, AK, SK);
        let wire = format!("{}?{}", wire_path(&SEGMENTS), canonical_query(&QUERY));
        let got = received_for(&input, &signed, &wire, &vector_headers(), |r| {
            verify(r, AK, SK, vector_now() + chrono::TimeDelta::minutes(14))
        });
        assert_eq!(got.map(|v| v.access_key), Ok(AK.to_string()));
    }

    #[test]
    fn verify_rejects_wrong_secret_tampering_and_skew() {
        let input = vector_input(None);
        let signed = sign(&input, DATE, AK, SK);
        let wire = format!("{}?{}", wire_path(&SEGMENTS), canonical_query(&QUERY));
        let h = vector_headers();
        assert_eq!(
            received_for(&input, &signed, &wire, &h, |r| verify(
                r,
                AK,
                "other",
                vector_now()
            )),
            Err(VerifyError::SignatureMismatch)
        );
        assert_eq!(
            received_for(&input, &signed, &wire, &h, |r| verify(
                r,
                "OTHERAK",
                SK,
                vector_now()
            )),
            Err(VerifyError::UnknownAccessKey(AK.to_string()))
        );
        let tampered = wire.replace("limit=10", "limit=11");
        assert_eq!(
            received_for(&input, &signed, &tampered, &h, |r| verify(
                r,
                AK,
                SK,
                vector_now()
            )),
            Err(VerifyError::SignatureMismatch)
        );
        assert_eq!(
            received_for(&input, &signed, &wire, &h, |r| {
                verify(r, AK, SK, vector_now() - chrono::TimeDelta::minutes(16))
            }),
            Err(VerifyError::DateOutOfRange)
        );
        assert_eq!(
            received_for(&input, &signed, &wire, &h, |r| {
                verify(r, AK, SK, vector_now() + chrono::TimeDelta::minutes(16))
            }),
            Err(VerifyError::DateOutOfRange)
        );
        let other_domain: Vec<(&str, &str)> = h
            .iter()
            .map(|(n, v)| {
                if *n == "X-Domain-Id" {
                    (*n, "x")
                } else {
                    (*n, *v)
                }
            })
            .collect();
        assert_eq!(
            received_for(&input, &signed, &wire, &other_domain, |r| {
                verify(r, AK, SK, vector_now())
            }),
            Err(VerifyError::SignatureMismatch)
        );
    }

    #[test]
    fn authorization_parsing() {
        let p = parse_authorization(
            "SDK-HMAC-SHA256 Access=AK1, SignedHeaders=Host;x-sdk-date, Signature=ABC",
        );
        assert_eq!(
            p,
            Ok(ParsedAuthorization {
                access_key: "AK1".into(),
                signed_headers: vec!["host".into(), "x-sdk-date".into()],
                signature: "abc".into(),
            })
        );
        assert_eq!(
            parse_authorization("AWS4-HMAC-SHA256 Credential=x"),
            Err(VerifyError::UnsupportedAlgorithm)
        );
        assert_eq!(
            parse_authorization("SDK-HMAC-SHA256 Access=AK1"),
            Err(VerifyError::MalformedAuthorization)
        );
        assert_eq!(
            parse_authorization("SDK-HMAC-SHA256 garbage"),
            Err(VerifyError::MalformedAuthorization)
        );
    }

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
        use super::super::*;
        use proptest::prelude::*;

        /// Text mixing the characters that break naive encoders: separators of the path and
        /// query syntax, `%` itself, spaces and non-ASCII (Latin, CJK, emoji).
        fn nasty() -> impl Strategy<Value = String> {
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

        fn key() -> impl Strategy<Value = String> {
            prop_oneof!["[a-z_]{1,8}", nasty()]
        }

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
                let decoded: Vec<String> = wire.split('/').skip(1)
                    .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
                    .collect();
                prop_assert_eq!(&decoded, &segments);
                let mut raw_sorted = query.clone();
                raw_sorted.sort();
                let mut back = decode_query(&input.query);
                back.sort();
                prop_assert_eq!(back, raw_sorted);
            }

            /// A verifier that only sees the wire request re-derives the client's signature.
            #[test]
            fn verifier_rederives_the_signature_from_the_wire(
                segments in proptest::collection::vec(nasty(), 1..5),
                query in proptest::collection::vec((key(), nasty()), 0..5),
                token in proptest::option::of("[A-Za-z0-9+/=]{1,40}"),
            ) {
                let date = "20240101T000000Z";
                let mut headers = vec![
                    ("Content-Type", "application/json".to_string()),
                    ("Host", "127.0.0.1:8080".to_string()),
                    ("X-Sdk-Date", date.to_string()),
                ];
                if let Some(t) = &token {
                    headers.push(("X-Security-Token", t.clone()));
                }
                let input = CanonicalInput::new("GET", &segments, &query, &headers, b"");
                let signed = sign(&input, date, "AK", "SK");
                let path = wire_path(&segments);
                let wire_query = canonical_query(&query);
                let mut received: Vec<(&str, &str)> =
                    headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
                received.push(("Authorization", &signed.authorization));
                let req = ReceivedRequest {
                    method: "GET",
                    raw_path: &path,
                    raw_query: if wire_query.is_empty() { None } else { Some(&wire_query) },
                    headers: &received,
                    body: b"",
                };
                let now = parse_sdk_date(date).unwrap_or_default();
                let verified = verify(&req, "AK", "SK", now);
                prop_assert!(verified.is_ok(), "{:?}", verified);
                prop_assert_eq!(verified.ok().and_then(|v| v.security_token), token);
                prop_assert_eq!(verify(&req, "AK", "SK2", now), Err(VerifyError::SignatureMismatch));
            }
        }
    }
}
