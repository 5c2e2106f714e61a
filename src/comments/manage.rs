//! An author changing their own comment: editing within the edit window,
//! deleting at any time. Moderators may delete any comment.

use std::net::IpAddr;
use std::sync::Arc;

use super::guards::{Action, Actor, Guards};
use super::{render, ClientInfo, CommentError};
use crate::auth::{permissions, token, AuthUser};
use crate::cache;
use crate::db::comments::{BodyUpdate, Rescored, Writer};
use crate::db::models::{Article, Comment};
use crate::db::moderation::NewLogEntry;
use crate::db::{self, Db};
use crate::domain::{CommentBody, CommentId, CommentStatus, LogAction, StatusCounts};
use crate::services::Services;
use crate::spam::{AccountFacts, Candidate, Policy};
use crate::webhooks;

/// How the caller proves they may change a comment.
pub struct EditAuth<'a> {
    pub viewer: Option<&'a AuthUser>,
    /// A guest's edit token, from the `X-Edit-Token` header.
    pub edit_token: Option<&'a str>,
}

impl EditAuth<'_> {
    pub(super) fn is_author(&self, comment: &Comment) -> bool {
        if permissions::is_account_author(self.viewer, comment) {
            return true;
        }
        match (self.edit_token, &comment.edit_token_hash) {
            (Some(presented), Some(stored)) => token::hashes_equal(&token::hash(presented), stored),
            _ => false,
        }
    }
}

async fn load(db: &Db, id: CommentId) -> Result<Comment, CommentError> {
    db.read(move |conn| db::comments::find(conn, id).map_err(CommentError::from))
        .await?
        .filter(|c| c.status != CommentStatus::Deleted)
        .ok_or(CommentError::NotFound)
}

/// A comment that is not deleted, with its article.
async fn load_with_article(db: &Db, id: CommentId) -> Result<(Comment, Article), CommentError> {
    db.read(move |conn| {
        let Some(comment) =
            db::comments::find(conn, id)?.filter(|c| c.status != CommentStatus::Deleted)
        else {
            return Err(CommentError::NotFound);
        };
        let article: Article =
            db::articles::find(conn, comment.article_id)?.ok_or(CommentError::NotFound)?;
        Ok((comment, article))
    })
    .await
}

/// Whether the caller wrote `comment`: signed in as its author, holding its
/// edit token, or (while the comment still keeps it, see
/// `retention.ip_days`) writing from the address it came from.
pub(super) fn wrote(auth: &EditAuth<'_>, comment: &Comment, ip: Option<IpAddr>) -> bool {
    let same_address = match (ip, comment.ip.as_deref()) {
        (Some(ip), Some(stored)) => stored.parse::<IpAddr>().ok() == Some(ip),
        _ => false,
    };
    auth.is_author(comment) || same_address
}

/// The edit window's end for a comment made at `created_at` (ms).
fn editable_until(services: &Services, created_at: i64) -> i64 {
    let window =
        i64::try_from(services.settings.comments.edit_window.as_millis()).unwrap_or(i64::MAX);
    created_at.saturating_add(window)
}

/// A comment as its author may read it back (to edit it, or to see whether
/// a moderator has let it through), whatever its status but deleted: the
/// author's proof is checked as for an edit.
pub async fn own(
    services: &Services,
    auth: EditAuth<'_>,
    id: CommentId,
) -> Result<KeyedComment, CommentError> {
    let (comment, article) = load_with_article(&services.db, id).await?;
    if auth.is_author(&comment) {
        Ok(KeyedComment {
            comment,
            article_key: article.key,
        })
    } else {
        Err(CommentError::NotAuthor)
    }
}

/// Who wrote a comment, as seen from one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Authorship {
    /// The caller wrote it (see [`wrote`]).
    pub by_caller: bool,
    /// Its author may still edit it (`comments.edit_window`).
    pub editable: bool,
}

/// Whether the caller wrote comment `id` (not deleted), and whether it is
/// still in its edit window: what a rule against replying to oneself
/// needs.
pub async fn authorship(
    services: &Services,
    auth: EditAuth<'_>,
    id: CommentId,
    ip: Option<IpAddr>,
) -> Result<Authorship, CommentError> {
    let comment = load(&services.db, id).await?;
    Ok(Authorship {
        by_caller: wrote(&auth, &comment, ip),
        editable: db::now_millis() <= editable_until(services, comment.created_at),
    })
}

/// A comment and the key of its article.
pub struct KeyedComment {
    pub comment: Comment,
    pub article_key: String,
}

/// Edits a comment's text. The new text is scored like a new comment
/// (spammers post something clean and edit the links in later); an edit can
/// move a comment towards review or spam, never back. Edits pass the same
/// guards as new comments (flood, rate limits, duplicates, bans).
#[tracing::instrument(skip_all, fields(comment_id = %id))]
pub async fn edit(
    services: &Services,
    auth: EditAuth<'_>,
    id: CommentId,
    body: &str,
    client: ClientInfo,
) -> Result<KeyedComment, CommentError> {
    let settings = services.settings.as_ref();
    let body = CommentBody::parse(body, settings.comments.max_body_bytes)?;
    let fingerprint = body.fingerprint();
    let (current, article) = load_with_article(&services.db, id).await?;
    if !auth.is_author(&current) {
        return Err(CommentError::NotAuthor);
    }
    if current.status == CommentStatus::Trash {
        return Err(CommentError::NotEditable);
    }
    let now = db::now_millis();
    if now > editable_until(services, current.created_at) {
        return Err(CommentError::EditWindowClosed);
    }
    let viewer = auth.viewer.filter(|v| current.user_id == Some(v.id));
    let trusted = viewer.is_some_and(|v| v.trusted || v.role.can_moderate());
    let writer = match (current.user_id, &current.author_email) {
        (Some(user), _) => Writer::Account(user),
        (None, Some(email)) => Writer::Guest(email.clone()),
        (None, None) => Writer::Anonymous(current.author_name.clone()),
    };
    let guards = Guards::new(
        settings,
        Action::Edit,
        &Actor {
            writer: &writer,
            trusted,
            ip: client.ip,
        },
        &fingerprint,
        Some(current.id),
        now,
    );
    let (history, ban) = {
        let (user_id, email, article_id) = (
            current.user_id,
            current.author_email.clone(),
            current.article_id,
        );
        let guards = guards.clone();
        services
            .db
            .read(move |conn| {
                // A guest's edit token proves this comment is theirs, not
                // that every comment under its email is.
                let history = match user_id {
                    Some(_) => db::stats::history(conn, user_id, email.as_deref())?,
                    None => StatusCounts::default(),
                };
                let ban = db::bans::find_active(conn, user_id, email.as_deref(), client.ip, now)?;
                if ban.as_ref().is_none_or(|b| b.shadow) {
                    guards.peek(conn, Some(article_id), now)?;
                }
                Ok::<_, CommentError>((history, ban))
            })
            .await?
    };
    if let Some(ban) = ban.as_ref().filter(|b| !b.shadow) {
        return Err(CommentError::Banned {
            until: ban.expires_at,
        });
    }

    let mut candidate = Candidate::of_stored(&current, &article, history);
    candidate.body = body.as_str().to_string();
    candidate.is_edit = true;
    if let Some(viewer) = viewer {
        candidate.account = Some(AccountFacts {
            id: viewer.id,
            role: viewer.role,
            trusted,
            created_at: viewer.created_at,
        });
    }
    let policy = Policy {
        mode: settings.moderation.mode,
        trusted,
        // The comment being edited counts: an approved comment's typo fix
        // is not a first comment.
        approved_before: history.approved > 0 || current.status == CommentStatus::Approved,
    };
    let decision = services
        .spam
        .pipeline
        .evaluate(Arc::new(candidate), policy)
        .await;
    let mut status = more_severe(current.status, decision.status);
    if ban.is_some() {
        // Shadow-banned: whatever they write stays out of sight.
        status = CommentStatus::Spam;
    }
    let report = serde_json::to_string(&decision.report)
        .map_err(|e| CommentError::Internal(e.to_string()))?;
    let score = decision.report.score;
    let (body, html) = render::on_pool(&services.cpu, body)
        .await
        .map_err(|e| CommentError::Internal(e.to_string()))?;

    let hooks = services.webhooks.clone();
    let article_key = article.key.clone();
    let current_was_public = current.status == CommentStatus::Approved;
    let updated = services
        .db
        .write(move |conn| {
            guards.count(conn, now)?;
            guards.check_duplicate(conn, Some(current.article_id))?;
            let update = BodyUpdate {
                body: &body,
                html: &html,
                fingerprint: &fingerprint.hash,
                rescored: Some(Rescored {
                    status,
                    spam_score: score,
                    spam_report: &report,
                }),
                at: now,
            };
            let Some(updated) = db::comments::update_body(conn, &current, &update)? else {
                return Ok(None);
            };
            // An edit that sends a comment to review or spam is announced
            // like any other move.
            if updated.status != current.status {
                if let Some(event) = webhooks::event_for(updated.status) {
                    hooks.enqueue(conn, event, webhooks::comment_data(&updated, &article_key))?;
                }
            }
            if current.status == CommentStatus::Approved {
                cache::notify_in(conn, Some(&article_key))?;
            }
            Ok::<_, CommentError>(Some(updated))
        })
        .await?
        .ok_or(CommentError::Conflict)?;
    if updated.status == CommentStatus::Approved || current_was_public {
        services.cache.invalidate(&article.key);
    }
    services.outbox.wake();
    tracing::info!(status = %updated.status, score, "comment edited");
    Ok(KeyedComment {
        comment: updated,
        article_key: article.key,
    })
}

/// The stricter of two statuses: approved < pending < spam.
fn more_severe(a: CommentStatus, b: CommentStatus) -> CommentStatus {
    let rank = |s: CommentStatus| match s {
        CommentStatus::Approved => 0,
        CommentStatus::Pending => 1,
        _ => 2,
    };
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

#[tracing::instrument(skip_all, fields(comment_id = %id))]
pub async fn delete(
    services: &Services,
    auth: EditAuth<'_>,
    id: CommentId,
) -> Result<(), CommentError> {
    let current = load(&services.db, id).await?;
    let by_author = auth.is_author(&current);
    if !by_author && !permissions::is_moderator(auth.viewer) {
        return Err(CommentError::NotAuthor);
    }
    // A moderator removing someone else's comment is a moderation action,
    // and goes in the audit log.
    let moderator_id = auth.viewer.filter(|_| !by_author).map(|v| v.id);
    let hooks = services.webhooks.clone();
    let now = db::now_millis();
    services
        .db
        .write(move |conn| {
            db::comments::mark_deleted(conn, id, now)?;
            if let Some(moderator_id) = moderator_id {
                db::moderation::log(
                    conn,
                    &NewLogEntry {
                        comment_id: Some(id),
                        moderator_id: Some(moderator_id),
                        action: LogAction::Delete,
                        from_status: Some(current.status),
                        to_status: Some(CommentStatus::Deleted),
                        reason: None,
                        subject: None,
                        created_at: now,
                        from_verdict: None,
                    },
                )?;
            }
            let key = db::articles::find(conn, current.article_id)?
                .map(|a| a.key)
                .unwrap_or_default();
            let mut deleted = current.clone();
            deleted.status = CommentStatus::Deleted;
            deleted.body.clear();
            deleted.html.clear();
            hooks.enqueue(
                conn,
                webhooks::COMMENT_DELETED,
                webhooks::comment_data(&deleted, &key),
            )?;
            cache::notify_in(conn, Some(&key))?;
            Ok::<_, CommentError>(key)
        })
        .await
        .map(|key| services.cache.invalidate(&key))?;
    services.outbox.wake();
    tracing::info!(by_moderator = !by_author, "comment deleted");
    Ok(())
}
