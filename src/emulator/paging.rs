//! Paging, shared by both protocols: which records a page holds, and the page tokens (AWS
//! `NextToken`, Huawei `marker`) that say where the next page starts.
//!
//! A token is a position in the kind's list in creation order (new records only ever append),
//! so a client walking pages while records arrive or change status neither repeats nor misses
//! one. It is 8 hex digits of position and 16 of an HMAC over the position and the listing it
//! belongs to, so it is only valid for that listing, a made-up one is refused like the real
//! services refuse an unknown token, and the server keeps no state that could grow or expire.
//! 24 characters also satisfy both services' rules: Huawei's fixed marker length and AWS's
//! `[-a-zA-Z0-9+=/_]*`.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Length of every token, Huawei's documented marker length.
pub const TOKEN_LEN: usize = 24;

/// Issues and checks page tokens for one emulator.
#[derive(Clone)]
pub struct PageTokens {
    key: [u8; 32],
}

impl std::fmt::Debug for PageTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PageTokens")
    }
}

impl PageTokens {
    /// Tokens keyed by the emulator's seed: the same organization issues the same tokens.
    pub fn new(seed: u64) -> Self {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&seed.to_le_bytes());
        key[8..].copy_from_slice(b"ssowatch-page-tokens-k01");
        PageTokens { key }
    }

    fn mac(&self, scope: &str, position: u32) -> Hmac<Sha256> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC accepts any key length");
        mac.update(scope.as_bytes());
        mac.update(&position.to_be_bytes());
        mac
    }

    /// The token for resuming `scope` (what is listed: instance, kind, filter) at `position`.
    pub fn encode(&self, scope: &str, position: u32) -> String {
        let tag = self.mac(scope, position).finalize().into_bytes();
        format!("{position:08x}{}", hex::encode(&tag[..8]))
    }

    /// The position a token stands for, or `None` when this server did not issue it for
    /// `scope`. The tag is compared in constant time.
    pub fn decode(&self, scope: &str, token: &str) -> Option<u32> {
        if token.len() != TOKEN_LEN || !token.is_ascii() {
            return None;
        }
        let position = u32::from_str_radix(&token[..8], 16).ok()?;
        let tag = hex::decode(&token[8..]).ok()?;
        self.mac(scope, position)
            .verify_truncated_left(&tag)
            .ok()
            .map(|_| position)
    }
}

/// One page of `records` (in creation order): from raw position `from`, those `wanted`, at
/// most `limit`. Returns them and the raw position to continue from when a wanted record may
/// remain. Costs the records it passes over, never the whole list.
pub fn page<T>(
    records: &[T],
    from: usize,
    limit: usize,
    wanted: impl Fn(&T) -> bool,
) -> (Vec<&T>, Option<usize>) {
    let mut out = Vec::with_capacity(limit.min(128));
    let mut pos = from.min(records.len());
    while pos < records.len() && out.len() < limit {
        if wanted(&records[pos]) {
            out.push(&records[pos]);
        }
        pos += 1;
    }
    let more = records[pos..].iter().any(&wanted);
    (out, more.then_some(pos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_24_chars_scoped_and_unforgeable() {
        let tokens = PageTokens::new(7);
        let t = tokens.encode("ins|creation|", 300);
        assert_eq!(t.len(), TOKEN_LEN);
        assert!(t.chars().all(|c| c.is_ascii_hexdigit()), "{t}");
        assert_eq!(tokens.decode("ins|creation|", &t), Some(300));
        assert_eq!(tokens.decode("ins|creation|FAILED", &t), None);
        assert_eq!(PageTokens::new(8).decode("ins|creation|", &t), None);
        assert_eq!(tokens.decode("ins|creation|", &"0".repeat(24)), None);
        let mut forged = t.clone();
        forged.replace_range(0..8, "00000001");
        assert_eq!(tokens.decode("ins|creation|", &forged), None);
        assert_eq!(tokens.decode("ins|creation|", "short"), None);
    }

    #[test]
    fn pages_skip_unwanted_and_stop_when_nothing_is_left() {
        let records: Vec<u32> = (0..10).collect();
        let even = |r: &u32| r.is_multiple_of(2);
        assert_eq!(page(&records, 0, 3, even), (vec![&0, &2, &4], Some(5)));
        assert_eq!(page(&records, 5, 3, even), (vec![&6, &8], None));
        assert_eq!(page(&records, 0, 100, |_| true).1, None);
        assert_eq!(page(&records, 50, 3, even), (vec![], None));
    }
}
