//! A moderator correcting a comment's text: a typo fixed in an approved
//! comment, an insult or a link taken out of one held for review. Unlike an
//! author's edit (`comments::edit`) there is no edit window and no spam
//! scoring, the moderator vouches for the text, and the status stays as it
//! is. Guarded by the comment's version like a decision, and written to the
//! audit log.

use super::decisions::clean_reason;
use super::ModerationError;
use crate::auth::{permissions, AuthUser};
use crate::cache;
use crate::comments::render;
use crate::db;
use crate::db::comments::BodyUpdate;
use crate::db::models::Comment;
use crate::db::moderation::NewLogEntry;
use crate::domain::{CommentBody, CommentId, CommentStatus, LogAction};
use crate::services::Services;

/// Replaces a comment's text with `body`, rendered as every comment is.
/// With `expected_version` (the `version` the moderator saw), a comment
/// changed meanwhile is a conflict. A deleted comment has no text left to
/// edit: not found.
#[tracing::instrument(skip_all, fields(moderator_id = %moderator.id, comment_id = %id))]
pub async fn edit_body(
    services: &Services,
    moderator: &AuthUser,
    id: CommentId,
    body: &str,
    reason: Option<String>,
    expected_version: Option<i64>,
) -> Result<Comment, ModerationError> {
    permissions::require_moderator(moderator)?;
    let reason = clean_reason(reason)?;
    let body = CommentBody::parse(body, services.settings.comments.max_body_bytes)?;
    let current = services
        .db
        .read(move |conn| {
            db::comments::find(conn, id)?
                .filter(|c| c.status != CommentStatus::Deleted)
                .ok_or(ModerationError::CommentNotFound(id))
        })
        .await?;
    if expected_version.is_some_and(|v| v != current.version) {
        return Err(ModerationError::Conflict {
            id,
            current: current.status,
        });
    }
    let fingerprint = body.fingerprint();
    let (body, html) = render::on_pool(&services.cpu, body)
        .await
        .map_err(|e| ModerationError::Internal(e.to_string()))?;
    let moderator_id = moderator.id;
    let now = db::now_millis();
    let (updated, public_article) = services
        .db
        .write(move |conn| {
            let update = BodyUpdate {
                body: &body,
                html: &html,
                fingerprint: &fingerprint.hash,
                rescored: None,
                at: now,
            };
            let Some(updated) = db::comments::update_body(conn, &current, &update)? else {
                // Changed since it was read: an author's edit, a decision.
                let status = db::comments::find(conn, id)?.map_or(current.status, |c| c.status);
                return Err(ModerationError::Conflict {
                    id,
                    current: status,
                });
            };
            db::moderation::log(
                conn,
                &NewLogEntry {
                    comment_id: Some(id),
                    moderator_id: Some(moderator_id),
                    action: LogAction::Edit,
                    from_status: Some(updated.status),
                    to_status: Some(updated.status),
                    reason: reason.as_deref(),
                    subject: None,
                    created_at: now,
                    from_verdict: None,
                },
            )?;
            // Readers see the new text only where the comment is public.
            let public_article = if updated.status == CommentStatus::Approved {
                let key = db::articles::find(conn, updated.article_id)?
                    .map(|a| a.key)
                    .ok_or(ModerationError::CommentNotFound(id))?;
                cache::notify_in(conn, Some(&key))?;
                Some(key)
            } else {
                None
            };
            Ok::<_, ModerationError>((updated, public_article))
        })
        .await?;
    if let Some(key) = public_article {
        services.cache.invalidate(&key);
    }
    tracing::info!(status = %updated.status, "comment edited by a moderator");
    Ok(updated)
}
