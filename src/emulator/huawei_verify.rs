//! The emulator's API-gateway check of Huawei's `SDK-HMAC-SHA256` signatures: parses the
//! `Authorization` header, checks the access key and the `X-Sdk-Date` window, rebuilds the
//! canonical request from what was received with the shared canonicalisation in
//! [`crate::wire::huawei_sign`], and compares the MAC in constant time
//! ([`hmac::Mac::verify_slice`]).
//!
//! Only the emulator verifies; the product only signs (see `crate::provider::huawei_sign`).

use hmac::Mac;

use crate::wire::huawei_sign::{
    ALGORITHM, CanonicalInput, DATE_HEADER, SECURITY_TOKEN_HEADER, canonical_headers,
    canonical_query, canonical_uri_from_wire_path, decode_query, encode_component, hex_sha256,
    parse_sdk_date, path_segments, signature_mac,
};
use crate::wire::percent::decode_component;

/// How far the gateway lets `X-Sdk-Date` drift from its own clock.
pub const MAX_CLOCK_SKEW: chrono::TimeDelta = chrono::TimeDelta::minutes(15);

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

/// Canonical URI from a wire path, segment by segment: each segment is decoded and re-encoded,
/// so an escaped `/` inside a segment (`%2F`) stays inside it.
fn canonical_uri_segmentwise(raw_path: &str) -> String {
    let segments = path_segments(raw_path);
    if segments.len() == 1 && segments[0].is_empty() {
        return "/".to_string();
    }
    let encoded: Vec<String> = segments.iter().map(|s| encode_component(s)).collect();
    canonical_uri_from_wire_path(&format!("/{}", encoded.join("/")))
}

/// Canonical URI the way the official Python SDK computes it: the whole path is decoded first
/// and then split on `/`, so a `%2F` inside a segment becomes a separator. Only differs from
/// [`canonical_uri_segmentwise`] for segments containing `/`; accepted too so that clients
/// with that quirk still verify.
fn canonical_uri_sdk_style(raw_path: &str) -> String {
    let decoded = decode_component(raw_path);
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
/// [`DATE_HEADER`] against `now` (±[`MAX_CLOCK_SKEW`]), rebuilds the canonical request from the
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
    // The access key is not a secret (every request carries it in clear): a plain comparison.
    if auth.access_key != access_key {
        return Err(VerifyError::UnknownAccessKey(crate::sanitize::clean_text(
            &auth.access_key,
        )));
    }
    if !auth
        .signed_headers
        .iter()
        .any(|h| h.eq_ignore_ascii_case(DATE_HEADER))
    {
        return Err(VerifyError::MissingDate);
    }
    let date_text = req.header(DATE_HEADER).ok_or(VerifyError::MissingDate)?;
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
    // A signature that is not hex cannot match anything.
    let presented = hex::decode(&auth.signature).map_err(|_| VerifyError::SignatureMismatch)?;
    for candidate in candidates {
        let sts = candidate.string_to_sign(date_text.trim());
        if signature_mac(secret_key, &sts)
            .verify_slice(&presented)
            .is_ok()
        {
            return Ok(Verified {
                access_key: auth.access_key,
                sdk_date,
                security_token: req.header(SECURITY_TOKEN_HEADER).map(str::to_string),
            });
        }
    }
    Err(VerifyError::SignatureMismatch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::huawei_sign::test_vectors::{
        AK, DATE, QUERY, SEGMENTS, SK, VECTOR_1_AUTHORIZATION, vector_headers, vector_input,
    };
    use crate::wire::huawei_sign::{authorization_header, signature, wire_path};

    /// The parts of a signature the verifier needs from a client.
    struct Signed {
        authorization: String,
    }

    fn sign(input: &CanonicalInput, date: &str, ak: &str, sk: &str) -> Signed {
        let sig = signature(sk, &input.string_to_sign(date));
        Signed {
            authorization: authorization_header(ak, &input.signed_headers, &sig),
        }
    }

    /// Vector 1's Authorization header (made by the official SDK) verifies.
    #[test]
    fn verify_accepts_the_sdk_vector_signature() {
        let wire = format!("{}?{}", wire_path(&SEGMENTS), canonical_query(&QUERY));
        let signed = Signed {
            authorization: VECTOR_1_AUTHORIZATION.to_string(),
        };
        let input = vector_input(None);
        let got = received_for(&input, &signed, &wire, &vector_headers(None), |r| {
            verify(r, AK, SK, vector_now())
        });
        assert_eq!(got.map(|v| v.access_key), Ok(AK.to_string()));
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

    fn vector_now() -> chrono::DateTime<chrono::Utc> {
        parse_sdk_date(DATE).unwrap_or_default()
    }

    #[test]
    fn verify_accepts_the_vector_request() {
        let input = vector_input(None);
        let signed = sign(&input, DATE, AK, SK);
        let wire = format!("{}?{}", wire_path(&SEGMENTS), canonical_query(&QUERY));
        let got = received_for(&input, &signed, &wire, &vector_headers(None), |r| {
            verify(r, AK, SK, vector_now() + chrono::TimeDelta::minutes(14))
        });
        assert_eq!(got.map(|v| v.access_key), Ok(AK.to_string()));
    }

    #[test]
    fn verify_rejects_wrong_secret_tampering_and_skew() {
        let input = vector_input(None);
        let signed = sign(&input, DATE, AK, SK);
        let wire = format!("{}?{}", wire_path(&SEGMENTS), canonical_query(&QUERY));
        let h = vector_headers(None);
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

    mod properties {
        use super::super::*;
        use super::sign;
        use crate::wire::huawei_sign::test_vectors::{key, nasty};
        use crate::wire::huawei_sign::wire_path;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

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
