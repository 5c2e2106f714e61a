//! Articles and their comment threads: submitting, reading, editing and
//! deleting comments, and the articles they hang under.

pub mod articles;
pub mod guards;
mod manage;
pub mod outline;
pub mod render;
mod submit;
mod thread;
pub mod votes;

pub use manage::{authorship, delete, edit, own, Authorship, EditAuth, KeyedComment};
pub use render::preview;
pub use submit::{submit, ArticleHint, ClientInfo, GuestAuthor, Submission, Submitted};
pub use thread::{counts, public_page, ThreadPage, ThreadRequest, MAX_COUNT_KEYS};

use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::auth::keyring::Keyring;
use crate::auth::AuthError;
use crate::config::AvatarScheme;
use crate::db::DbError;
use crate::domain::ValidationError;

#[derive(Debug, thiserror::Error)]
pub enum CommentError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error("article not found")]
    ArticleNotFound,
    #[error("comment not found")]
    NotFound,
    #[error("comments are closed")]
    Closed,
    #[error("guests may not comment")]
    GuestsNotAllowed,
    #[error("not the author")]
    NotAuthor,
    #[error("edit window closed")]
    EditWindowClosed,
    #[error("comment not editable")]
    NotEditable,
    #[error("concurrent change")]
    Conflict,
    #[error("duplicate comment")]
    Duplicate,
    #[error("too many comments in a short time")]
    Flood { retry_after_secs: u64 },
    #[error("internal error: {0}")]
    Internal(String),
    #[error("banned")]
    Banned { until: Option<i64> },
    #[error("rate limited")]
    RateLimited { retry_after_secs: u64 },
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for CommentError {
    fn from(e: diesel::result::Error) -> Self {
        CommentError::Db(DbError::from(e))
    }
}

/// The public avatar key of commenters, as `comments.avatars` says.
pub struct Avatars {
    scheme: AvatarScheme,
    keyring: Arc<Keyring>,
}

impl Avatars {
    pub fn new(scheme: AvatarScheme, keyring: Arc<Keyring>) -> Self {
        Avatars { scheme, keyring }
    }

    pub fn of(&self, email: Option<&str>) -> Option<String> {
        let email = email?;
        Some(match self.scheme {
            AvatarScheme::Keyed => self.keyring.avatar(email),
            AvatarScheme::Gravatar => gravatar_hash(email),
        })
    }
}

/// SHA-256 of the trimmed, lower-cased address: the key Gravatar and
/// Libravatar look avatars up by.
fn gravatar_hash(email: &str) -> String {
    hex::encode(Sha256::digest(email.trim().to_lowercase().as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gravatar_keys_are_gravatars_sha256_form() {
        // Gravatar's documented example address and its SHA-256.
        let avatars = Avatars::new(AvatarScheme::Gravatar, Arc::new(Keyring::from_key([0; 32])));
        assert_eq!(
            avatars.of(Some(" MyEmailAddress@example.com ")).unwrap(),
            "84059b07d4be67b806386c0aad8070a23f18836bbaae342275dc0a83414c32ee"
        );
        assert_eq!(avatars.of(None), None);
    }

    #[test]
    fn keyed_avatars_are_not_the_gravatar_hash() {
        let keyring = Arc::new(Keyring::from_key([0; 32]));
        let avatars = Avatars::new(AvatarScheme::Keyed, keyring.clone());
        let key = avatars.of(Some("a@example.com")).unwrap();
        assert_eq!(key, keyring.avatar("a@example.com"));
        assert_ne!(key, gravatar_hash("a@example.com"));
    }
}
