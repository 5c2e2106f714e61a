//! Secrets handed to clients (session tokens, guest edit tokens): 256 random
//! bits, stored only as their SHA-256.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::RngCore as _;
use sha2::{Digest, Sha256};

/// A new secret token and the hash to store for it.
pub struct IssuedToken {
    pub token: String,
    pub hash: String,
}

pub fn issue() -> IssuedToken {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash(&token);
    IssuedToken { token, hash }
}

/// The stored form of a token. Tokens carry 256 bits of entropy, so a plain
/// SHA-256 (no salt, no stretching) cannot be reversed, and lookups by hash
/// stay an index seek.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Compares two stored hashes without leaking, through timing, how many
/// leading characters matched.
pub fn hashes_equal(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The signature on outgoing requests (http scorer, webhooks):
/// `sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the shared secret>`.
/// Covering the timestamp lets receivers refuse replays of old requests.
pub fn sign(secret: &str, timestamp: &str, body: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_cover_timestamp_and_body() {
        let a = sign("s3cret", "1700000000", b"{\"x\":1}");
        assert!(a.starts_with("sha256="));
        assert_eq!(a.len(), 7 + 64);
        assert_ne!(a, sign("s3cret", "1700000001", b"{\"x\":1}"));
        assert_ne!(a, sign("s3cret", "1700000000", b"{\"x\":2}"));
        assert_ne!(a, sign("other", "1700000000", b"{\"x\":1}"));
        assert_eq!(a, sign("s3cret", "1700000000", b"{\"x\":1}"));
    }

    #[test]
    fn tokens_are_long_unique_and_hash_to_what_is_stored() {
        let a = issue();
        let b = issue();
        assert_eq!(a.token.len(), 43, "32 bytes in unpadded base64url");
        assert_ne!(a.token, b.token);
        assert_eq!(hash(&a.token), a.hash);
        assert_eq!(a.hash.len(), 64);
        assert!(hashes_equal(&a.hash, &hash(&a.token)));
        assert!(!hashes_equal(&a.hash, &b.hash));
        assert!(!hashes_equal("ab", "abc"));
    }
}
