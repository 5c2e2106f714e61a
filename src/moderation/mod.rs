//! Moderators at work: the queue, decisions (one or in bulk, and undoing
//! them) with their audit log, correcting a comment's text, the activity
//! of recent days, bans, commenters (trust, roles, their own data), and the
//! retention job that purges old spam and trash.

pub mod bans;
pub mod commenters;
pub mod data;
pub mod decisions;
pub mod edits;
pub mod queue;
pub mod retention;

use crate::auth::AuthError;
use crate::db::DbError;
use crate::domain::{CommentId, CommentStatus, ValidationError};

#[derive(Debug, thiserror::Error)]
pub enum ModerationError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("comment {0} not found")]
    CommentNotFound(CommentId),
    #[error("not found")]
    NotFound,
    /// Someone else changed the comment since the caller looked at it.
    #[error("comment {id} was changed meanwhile; it is now {current}")]
    Conflict {
        id: CommentId,
        current: CommentStatus,
    },
    /// The action makes no sense for the comment's current state.
    #[error("{0}")]
    NotActionable(String),
    /// An undo found no decision of the moderator's left to take back.
    #[error("no decision left to undo")]
    NothingToUndo,
    #[error("internal error: {0}")]
    Internal(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for ModerationError {
    fn from(e: diesel::result::Error) -> Self {
        ModerationError::Db(DbError::from(e))
    }
}
