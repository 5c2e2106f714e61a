//! The server's secret key and what is derived from it: keyed avatar
//! hashes, guests' author tokens, sign-in device tokens, the signed edit
//! cookies of Isso's client, the keyed names of voters and the console's
//! CSRF tokens.
//!
//! One random 256-bit key, made on first start and kept in the database
//! (`server_keys`), so every instance on the same database derives the
//! same values and they survive restarts. Each use is a separate HMAC
//! domain (`purpose`), so a value made for one use is worthless for another.

use crate::domain::{CommentId, UserId};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::RngCore as _;
use sha2::Sha256;

use crate::db::{self, Db, DbError};

/// The row of `server_keys` holding the key.
const KEY_NAME: &str = "hmac";

pub struct Keyring {
    key: [u8; 32],
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keyring(..)")
    }
}

impl Keyring {
    /// Loads the key from the database, making it on first start.
    pub async fn load(db: &Db) -> Result<Keyring, DbError> {
        let mut fresh = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut fresh);
        let fresh = hex::encode(fresh);
        let now = db::now_millis();
        let stored = db
            .write(move |conn| {
                db::keys::get_or_create(conn, KEY_NAME, &fresh, now).map_err(DbError::from)
            })
            .await?;
        let mut key = [0u8; 32];
        hex::decode_to_slice(stored.trim(), &mut key).map_err(|e| {
            DbError::query_failed(format!(
                "server_keys.{KEY_NAME} is not 32 bytes of hex: {e}"
            ))
        })?;
        Ok(Keyring { key })
    }

    /// A keyring with a given key (tests, tools).
    pub fn from_key(key: [u8; 32]) -> Keyring {
        Keyring { key }
    }

    fn mac(&self, purpose: &str, parts: &[&[u8]]) -> [u8; 32] {
        let mut mac = match Hmac::<Sha256>::new_from_slice(&self.key) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC takes keys of any length"),
        };
        mac.update(purpose.as_bytes());
        for part in parts {
            // Length-prefixed, so ("ab", "c") and ("a", "bc") differ.
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }

    /// The avatar key for an email: stable for one address, and useless for
    /// confirming a guessed address without the server's key.
    pub fn avatar(&self, email: &str) -> String {
        hex::encode(self.mac("avatar", &[normal_email(email).as_bytes()]))
    }

    /// The token that proves a guest is the one who first used `email`
    /// here: given to them with their comment, sent back with the next.
    /// Strangers who know the address cannot make it.
    pub fn author_token(&self, email: &str) -> String {
        URL_SAFE_NO_PAD.encode(self.mac("author", &[normal_email(email).as_bytes()]))
    }

    pub fn is_author_token(&self, email: &str, token: &str) -> bool {
        constant_time_eq(self.author_token(email).as_bytes(), token.trim().as_bytes())
    }

    /// A token naming a device that signed in to `user_id` before:
    /// `<nonce>.<mac>`. Sign-in attempts presenting it are counted apart
    /// from everyone else's, so guessing at an account from elsewhere does
    /// not lock its owner out.
    pub fn device_token(&self, user_id: UserId) -> String {
        let mut nonce = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let nonce = URL_SAFE_NO_PAD.encode(nonce);
        let mac = self.mac("device", &[&user_id.0.to_be_bytes(), nonce.as_bytes()]);
        format!("{nonce}.{}", URL_SAFE_NO_PAD.encode(mac))
    }

    /// The console's CSRF token for one session (by its stored hash): every
    /// form of the session carries it, and a page on another site cannot
    /// learn it.
    pub fn csrf_token(&self, session_hash: &str) -> String {
        URL_SAFE_NO_PAD.encode(self.mac("csrf", &[session_hash.as_bytes()]))
    }

    pub fn is_csrf_token(&self, session_hash: &str, presented: &str) -> bool {
        constant_time_eq(
            self.csrf_token(session_hash).as_bytes(),
            presented.as_bytes(),
        )
    }

    /// The device token's nonce, when it was made for `user_id`.
    pub fn device_of<'t>(&self, user_id: UserId, token: &'t str) -> Option<&'t str> {
        let (nonce, mac) = token.split_once('.')?;
        if nonce.len() > 64 {
            return None;
        }
        let expected = self.mac("device", &[&user_id.0.to_be_bytes(), nonce.as_bytes()]);
        constant_time_eq(URL_SAFE_NO_PAD.encode(expected).as_bytes(), mac.as_bytes())
            .then_some(nonce)
    }

    /// A cookie value carrying a guest's edit token for one comment until
    /// `expires_at` (Unix seconds): `<id>.<expires>.<token>.<mac>`. Only
    /// this server can make one, and [`Keyring::open_edit_cookie`] refuses
    /// it for another comment or once expired, whatever the browser keeps.
    pub fn edit_cookie(&self, comment_id: CommentId, expires_at: i64, edit_token: &str) -> String {
        let mac = self.edit_cookie_mac(comment_id, expires_at, edit_token);
        format!("{comment_id}.{expires_at}.{edit_token}.{mac}")
    }

    /// The edit token an edit cookie carries, when this server made it for
    /// `comment_id` and it has not expired at `now` (Unix seconds).
    pub fn open_edit_cookie(&self, comment_id: CommentId, value: &str, now: i64) -> Option<String> {
        if value.len() > 256 {
            return None;
        }
        let mut parts = value.split('.');
        let (id, expires, token, mac) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || id.parse::<i64>().ok()? != comment_id.0 {
            return None;
        }
        let expires: i64 = expires.parse().ok()?;
        let expected = self.edit_cookie_mac(comment_id, expires, token);
        (constant_time_eq(expected.as_bytes(), mac.as_bytes()) && now < expires)
            .then(|| token.to_string())
    }

    fn edit_cookie_mac(&self, comment_id: CommentId, expires_at: i64, token: &str) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(
            "edit-cookie",
            &[
                &comment_id.0.to_be_bytes(),
                &expires_at.to_be_bytes(),
                token.as_bytes(),
            ],
        ))
    }

    /// The value of the cookie a page's script may see to know that it
    /// holds the edit cookie of `comment_id` until `expires_at`: signed,
    /// but carrying nothing that edits or deletes.
    pub fn edit_marker(&self, comment_id: CommentId, expires_at: i64) -> String {
        let mac = self.mac(
            "edit-marker",
            &[&comment_id.0.to_be_bytes(), &expires_at.to_be_bytes()],
        );
        format!("{expires_at}.{}", URL_SAFE_NO_PAD.encode(mac))
    }

    /// The name a client address votes under: the same for one address,
    /// and not the address (votes outlive `retention.ip_days`).
    pub fn voter(&self, address: &str) -> String {
        hex::encode(self.mac("voter", &[address.as_bytes()]))
    }
}

fn normal_email(email: &str) -> String {
    email.trim().to_lowercase()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyring(byte: u8) -> Keyring {
        Keyring::from_key([byte; 32])
    }

    #[test]
    fn avatars_are_stable_per_address_and_depend_on_the_key() {
        let k = keyring(1);
        assert_eq!(k.avatar("Ada@Example.com "), k.avatar("ada@example.com"));
        assert_eq!(k.avatar("ada@example.com").len(), 64);
        assert_ne!(k.avatar("ada@example.com"), k.avatar("bob@example.com"));
        assert_ne!(
            k.avatar("ada@example.com"),
            keyring(2).avatar("ada@example.com")
        );
    }

    #[test]
    fn author_tokens_prove_an_address_and_only_with_this_key() {
        let k = keyring(1);
        let token = k.author_token("ada@example.com");
        assert!(k.is_author_token("ADA@example.com", &token));
        assert!(!k.is_author_token("bob@example.com", &token));
        assert!(!keyring(2).is_author_token("ada@example.com", &token));
        assert!(!k.is_author_token("ada@example.com", ""));
        // Different purposes never share values.
        assert_ne!(
            token,
            URL_SAFE_NO_PAD.encode(hex::decode(k.avatar("ada@example.com")).unwrap())
        );
    }

    #[test]
    fn edit_cookies_open_for_their_comment_until_they_expire() {
        let k = keyring(1);
        let cookie = k.edit_cookie(CommentId(7), 1_000, "the-edit-token");
        assert_eq!(
            k.open_edit_cookie(CommentId(7), &cookie, 999).as_deref(),
            Some("the-edit-token")
        );
        assert_eq!(
            k.open_edit_cookie(CommentId(7), &cookie, 1_000),
            None,
            "expired"
        );
        assert_eq!(
            k.open_edit_cookie(CommentId(8), &cookie, 0),
            None,
            "another comment"
        );
        assert_eq!(keyring(2).open_edit_cookie(CommentId(7), &cookie, 0), None);
        // A longer life or another token breaks the signature.
        let longer = cookie.replacen("1000", "9000", 1);
        assert_eq!(k.open_edit_cookie(CommentId(7), &longer, 0), None);
        let other = cookie.replacen("the-edit-token", "another-token", 1);
        assert_eq!(k.open_edit_cookie(CommentId(7), &other, 0), None);
        for junk in ["", "7", "7.1000", "7.x.t.m", "7.1000.t.m.extra"] {
            assert_eq!(k.open_edit_cookie(CommentId(7), junk, 0), None, "{junk}");
        }
        // The script-visible marker is no edit cookie.
        let marker = format!("7.{}", k.edit_marker(CommentId(7), 1_000));
        assert_eq!(k.open_edit_cookie(CommentId(7), &marker, 0), None);
    }

    #[test]
    fn voters_are_named_by_a_keyed_hash_of_their_address() {
        let k = keyring(1);
        assert_eq!(k.voter("192.0.2.1"), k.voter("192.0.2.1"));
        assert_ne!(k.voter("192.0.2.1"), k.voter("192.0.2.2"));
        assert_ne!(k.voter("192.0.2.1"), keyring(2).voter("192.0.2.1"));
        assert!(!k.voter("192.0.2.1").contains("192"));
    }

    #[test]
    fn device_tokens_belong_to_one_account() {
        let k = keyring(1);
        let token = k.device_token(UserId(7));
        let nonce = k
            .device_of(UserId(7), &token)
            .expect("valid for its account");
        assert!(token.starts_with(nonce));
        assert!(k.device_of(UserId(8), &token).is_none());
        assert!(keyring(2).device_of(UserId(7), &token).is_none());
        assert!(k.device_of(UserId(7), "nonce.forged").is_none());
        assert!(k.device_of(UserId(7), "no-dot").is_none());
        assert_ne!(
            k.device_token(UserId(7)),
            token,
            "each sign-in makes a new one"
        );
    }
}
