//! Articles and their comment threads: submitting, reading, editing and
//! deleting comments, and the articles they hang under.

pub mod articles;
mod manage;
pub mod render;
mod submit;
mod thread;

pub use manage::{delete, edit, EditAuth, Edited};
pub use submit::{
    candidate_from, submit, ArticleHint, ClientInfo, GuestAuthor, Submission, Submitted,
};
pub use thread::{counts, public_page, Order, PageRequest, ThreadPage, MAX_COUNT_KEYS};

use sha2::{Digest, Sha256};

use crate::auth::AuthError;
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

/// The avatar key for an email: SHA-256 of the trimmed, lower-cased address,
/// which Gravatar and Libravatar both accept. It identifies the same person
/// across comments without revealing the address itself.
pub fn avatar_hash(email: &str) -> String {
    hex::encode(Sha256::digest(email.trim().to_lowercase().as_bytes()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn avatar_hash_is_gravatars_sha256_form() {
        // Gravatar's documented example address and its SHA-256.
        assert_eq!(
            super::avatar_hash(" MyEmailAddress@example.com "),
            "84059b07d4be67b806386c0aad8070a23f18836bbaae342275dc0a83414c32ee"
        );
    }
}
