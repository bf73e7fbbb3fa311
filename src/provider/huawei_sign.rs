//! The client side of Huawei Cloud's `SDK-HMAC-SHA256` AK/SK signing: turns one GET of the
//! provider into the URL and headers to send, signed as the official SDKs sign for IAM Identity
//! Center.
//!
//! The canonicalisation itself is shared with the emulator's gateway check and lives in
//! [`crate::wire::huawei_sign`]; the vectors below, made by the official SDK, pin the whole
//! chain byte for byte.

use chrono::{DateTime, Utc};
use reqwest::Url;

use crate::provider::huawei_credentials::HuaweiCredentials;
use crate::wire::huawei_sign::{
    self as canon, CanonicalInput, DATE_HEADER, DOMAIN_ID_HEADER, SECURITY_TOKEN_HEADER,
};

/// All the intermediate texts of one signature, so tests (and debugging) can compare each
/// step. Holds no secret: the SK only enters the HMAC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub canonical_request: String,
    pub string_to_sign: String,
    pub signature: String,
    pub authorization: String,
}

/// Signs `input` at `sdk_date` (the exact text of the [`DATE_HEADER`] header, which must also
/// be among the signed headers).
pub fn sign(input: &CanonicalInput, sdk_date: &str, access_key: &str, secret_key: &str) -> Signed {
    let string_to_sign = input.string_to_sign(sdk_date);
    let signature = canon::signature(secret_key, &string_to_sign);
    let authorization = canon::authorization_header(access_key, &input.signed_headers, &signature);
    Signed {
        canonical_request: input.canonical_request(),
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

/// A GET ready to send: the URL exactly as signed, and every header including `Authorization`.
#[derive(Clone, PartialEq, Eq)]
pub struct SignedGet {
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
}

/// Shows the URL and header names only: the headers carry the signature and maybe a token.
impl std::fmt::Debug for SignedGet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| *n).collect();
        f.debug_struct("SignedGet")
            .field("url", &self.url)
            .field("headers", &names)
            .finish()
    }
}

/// Signs a GET of `segments` (raw, unencoded; appended to the endpoint's own path, as a proxy
/// may mount the API under a prefix) with `query`, stamped `now`.
///
/// The URL is built by hand rather than with `Url::join`/`set_path` so the path and query reach
/// the wire exactly as they were signed (the URL parser keeps `%XX` escapes as they are).
pub fn sign_get(
    endpoint: &Url,
    segments: &[&str],
    query: &[(&str, String)],
    credentials: &HuaweiCredentials,
    now: DateTime<Utc>,
) -> SignedGet {
    let mut all_segments: Vec<String> = canon::path_segments(endpoint.path());
    all_segments.retain(|s| !s.is_empty());
    all_segments.extend(segments.iter().map(|s| s.to_string()));
    let host = endpoint
        .host_str()
        .map(|h| host_header(h, endpoint.port()))
        .unwrap_or_default();
    let date = canon::format_sdk_date(now);
    let mut headers: Vec<(&'static str, String)> = vec![
        ("Content-Type", "application/json".to_string()),
        ("Host", host.clone()),
        (DATE_HEADER, date.clone()),
    ];
    if let Some(domain) = credentials.domain_id() {
        headers.push((DOMAIN_ID_HEADER, domain.to_string()));
    }
    if let Some(token) = credentials.security_token() {
        headers.push((SECURITY_TOKEN_HEADER, token.to_string()));
    }
    let input = CanonicalInput::new("GET", &all_segments, query, &headers, b"");
    let signed = sign(
        &input,
        &date,
        credentials.access_key(),
        credentials.secret_key(),
    );
    let mut url = format!(
        "{}://{}{}",
        endpoint.scheme(),
        host,
        canon::wire_path(&all_segments)
    );
    if !input.query.is_empty() {
        url.push('?');
        url.push_str(&input.query);
    }
    headers.push(("Authorization", signed.authorization));
    SignedGet { url, headers }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::huawei_sign::test_vectors::{
        AK, DATE, DOMAIN, HOST, QUERY, SEGMENTS, SK, VECTOR_1_AUTHORIZATION, vector_input,
    };
    use crate::wire::huawei_sign::{canonical_query, wire_path};

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

    /// The provider's request for vector 1 is vector 1: same headers, same URL, same signature.
    #[test]
    fn sign_get_sends_vector_1() {
        let endpoint = Url::parse(&format!("https://{HOST}")).expect("static URL");
        let credentials = HuaweiCredentials::new(AK, SK).with_domain_id(Some(DOMAIN.into()));
        let query: Vec<(&str, String)> = QUERY.iter().map(|(k, v)| (*k, v.to_string())).collect();
        let now = canon::parse_sdk_date(DATE).expect("vector date");
        let get = sign_get(&endpoint, &SEGMENTS, &query, &credentials, now);
        assert_eq!(
            get.url,
            format!(
                "https://{HOST}/v1/instances/ins-1234567890abcdef/account-assignments/\
                 creation-statuses?limit=10&marker=abc%2Fdef%2Bg%3Dh&status=IN_PROGRESS"
            )
        );
        let authorization = get
            .headers
            .iter()
            .find(|(n, _)| *n == "Authorization")
            .map(|(_, v)| v.as_str());
        assert_eq!(authorization, Some(VECTOR_1_AUTHORIZATION));
        assert!(!format!("{get:?}").contains("Signature="), "{get:?}");
    }

    #[test]
    fn sign_get_keeps_the_endpoint_prefix() {
        let endpoint = Url::parse("http://127.0.0.1:8080/gw%20x/").expect("static URL");
        let credentials = HuaweiCredentials::new(AK, SK);
        let get = sign_get(
            &endpoint,
            &["v1", "instances"],
            &[],
            &credentials,
            Utc::now(),
        );
        assert_eq!(get.url, "http://127.0.0.1:8080/gw%20x/v1/instances");
    }
}
