//! An author changing their own comment: editing within the edit window,
//! deleting at any time. Moderators may delete any comment.

use super::{render, CommentError};
use crate::auth::{permissions, token, AuthUser};
use crate::config::Settings;
use crate::db::models::Comment;
use crate::db::{self, Db};
use crate::domain::{CommentBody, CommentStatus};

/// How the caller proves they may change a comment.
pub struct EditAuth<'a> {
    pub viewer: Option<&'a AuthUser>,
    /// A guest's edit token, from the `X-Edit-Token` header.
    pub edit_token: Option<&'a str>,
}

impl EditAuth<'_> {
    fn is_author(&self, comment: &Comment) -> bool {
        if permissions::is_account_author(self.viewer, comment) {
            return true;
        }
        match (self.edit_token, &comment.edit_token_hash) {
            (Some(presented), Some(stored)) => token::hashes_equal(&token::hash(presented), stored),
            _ => false,
        }
    }
}

async fn load(db: &Db, id: i64) -> Result<Comment, CommentError> {
    db.read(move |conn| db::comments::find(conn, id).map_err(CommentError::from))
        .await?
        .filter(|c| c.status() != CommentStatus::Deleted)
        .ok_or(CommentError::NotFound)
}

#[tracing::instrument(skip_all, fields(comment_id = id))]
pub async fn edit(
    db: &Db,
    settings: &Settings,
    auth: EditAuth<'_>,
    id: i64,
    body: &str,
) -> Result<Comment, CommentError> {
    let body = CommentBody::parse(body, settings.comments.max_body_bytes)?;
    let current = load(db, id).await?;
    if !auth.is_author(&current) {
        return Err(CommentError::NotAuthor);
    }
    if current.status() == CommentStatus::Trash {
        return Err(CommentError::NotEditable);
    }
    let window = i64::try_from(settings.comments.edit_window.as_millis()).unwrap_or(i64::MAX);
    let now = db::now_millis();
    if now.saturating_sub(current.created_at) > window {
        return Err(CommentError::EditWindowClosed);
    }
    let html = render::markdown_to_html(body.as_str());
    let status = current.status();
    let updated = db
        .write(move |conn| {
            db::comments::update_body(conn, &current, body.as_str(), &html, status, now)
                .map_err(CommentError::from)
        })
        .await?;
    updated.ok_or(CommentError::Conflict)
}

#[tracing::instrument(skip_all, fields(comment_id = id))]
pub async fn delete(db: &Db, auth: EditAuth<'_>, id: i64) -> Result<(), CommentError> {
    let current = load(db, id).await?;
    if !auth.is_author(&current) && !permissions::is_moderator(auth.viewer) {
        return Err(CommentError::NotAuthor);
    }
    let now = db::now_millis();
    db.write(move |conn| db::comments::mark_deleted(conn, id, now).map_err(CommentError::from))
        .await?;
    tracing::info!(by_moderator = !auth.is_author(&current), "comment deleted");
    Ok(())
}
