//! Moderators' decisions on comments, one at a time or in bulk (all or
//! nothing), each written to the audit log in the same transaction. A spam
//! or not-spam verdict also teaches the scorers and queues feedback for
//! external ones; every change queues its webhook event.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::ModerationError;
use crate::auth::{permissions, AuthUser};
use crate::cache;
use crate::db::models::{Article, Comment};
use crate::db::moderation::NewLogEntry;
use crate::db::{self, AnyConnection};
use crate::domain::{
    CommentId, CommentStatus, LogAction, StatusCounts, UserId, ValidationError, Verdict,
};
use crate::services::Services;
use crate::spam::{learned, Candidate, Prior, Spam};
use crate::telemetry::Chain;
use crate::webhooks::{self, Webhooks};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Publish.
    Approve,
    /// It is spam: hide it and teach the scorers.
    Spam,
    /// It is not spam: publish it and teach the scorers.
    NotSpam,
    /// Hide it without a spam verdict.
    Trash,
    /// Take it out of the trash, back to where it was.
    Restore,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Approve => "approve",
            Action::Spam => "spam",
            Action::NotSpam => "not_spam",
            Action::Trash => "trash",
            Action::Restore => "restore",
        }
    }

    /// How the moderation log records it.
    pub fn logged_as(self) -> LogAction {
        match self {
            Action::Approve => LogAction::Approve,
            Action::Spam => LogAction::Spam,
            Action::NotSpam => LogAction::NotSpam,
            Action::Trash => LogAction::Trash,
            Action::Restore => LogAction::Restore,
        }
    }

    fn verdict(self) -> Option<Verdict> {
        match self {
            Action::Spam => Some(Verdict::Spam),
            Action::NotSpam => Some(Verdict::Ham),
            _ => None,
        }
    }
}

/// The most ids one bulk decision may carry.
pub const MAX_BULK: usize = 500;
pub const MAX_REASON_CHARS: usize = 1000;

/// One comment's part in a decision.
struct Step {
    comment: Comment,
    article: Article,
    target: CommentStatus,
    previous_verdict: Option<Verdict>,
}

pub fn clean_reason(reason: Option<String>) -> Result<Option<String>, ValidationError> {
    let Some(reason) = reason
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty())
    else {
        return Ok(None);
    };
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(ValidationError::new(
            "reason",
            format!("must be at most {MAX_REASON_CHARS} characters"),
        ));
    }
    if reason.contains('\0') {
        return Err(ValidationError::new(
            "reason",
            "must not contain NUL characters",
        ));
    }
    Ok(Some(reason))
}

/// Decides on one comment. With `expected_version` (the `version` the
/// moderator saw), a comment changed meanwhile is a conflict, unless it
/// already is where the action would put it (then nothing happens).
pub async fn decide(
    services: &Services,
    moderator: &AuthUser,
    id: CommentId,
    action: Action,
    reason: Option<String>,
    expected_version: Option<i64>,
) -> Result<Comment, ModerationError> {
    let mut decided = apply(
        services,
        moderator,
        vec![id],
        action,
        reason,
        expected_version,
    )
    .await?;
    decided.pop().ok_or(ModerationError::CommentNotFound(id))
}

/// Decides on many comments in one transaction: all or none.
pub async fn decide_bulk(
    services: &Services,
    moderator: &AuthUser,
    ids: Vec<CommentId>,
    action: Action,
    reason: Option<String>,
) -> Result<Vec<Comment>, ModerationError> {
    permissions::require_moderator(moderator)?;
    if ids.is_empty() {
        return Err(ValidationError::new("ids", "give at least one comment id").into());
    }
    if ids.len() > MAX_BULK {
        return Err(
            ValidationError::new("ids", format!("at most {MAX_BULK} ids per request")).into(),
        );
    }
    apply(services, moderator, ids, action, reason, None).await
}

async fn apply(
    services: &Services,
    moderator: &AuthUser,
    mut ids: Vec<CommentId>,
    action: Action,
    reason: Option<String>,
    expected_version: Option<i64>,
) -> Result<Vec<Comment>, ModerationError> {
    permissions::require_moderator(moderator)?;
    let reason = clean_reason(reason)?;
    ids.sort_unstable();
    ids.dedup();
    let spam = services.spam.clone();
    let hooks = services.webhooks.clone();
    let moderator_id = moderator.id;
    let (decided, taught, public_changes) = services
        .db
        .write(move |conn| {
            let steps = plan(conn, &ids, action, expected_version)?;
            let now = db::now_millis();
            let mut decided = Vec::with_capacity(steps.len());
            let mut taught = false;
            let mut public_changes = Vec::new();
            for step in steps {
                let (comment, step_taught) = execute(
                    conn,
                    &spam,
                    &hooks,
                    moderator_id,
                    step,
                    action,
                    reason.as_deref(),
                    now,
                    &mut public_changes,
                )?;
                taught |= step_taught;
                decided.push(comment);
            }
            public_changes.sort();
            public_changes.dedup();
            for key in &public_changes {
                cache::notify_in(conn, Some(key))?;
            }
            Ok::<_, ModerationError>((decided, taught, public_changes))
        })
        .await?;
    for key in &public_changes {
        services.cache.invalidate(key);
    }
    // Committed: this instance picks up what the scorers learned at once
    // (others within spam.refresh_interval), and feedback goes out.
    if taught {
        if let Err(e) = services.spam.refresh(&services.db).await {
            tracing::warn!(error = %Chain(&e), "could not reload the spam model after a verdict; the refresher will");
        }
    }
    services.outbox.wake();
    tracing::info!(
        %moderator_id,
        action = action.as_str(),
        count = decided.len(),
        "moderation decision"
    );
    Ok(decided)
}

/// Reads every comment and works out where it goes, failing the whole
/// decision if any cannot take the action.
fn plan(
    conn: &mut AnyConnection,
    ids: &[CommentId],
    action: Action,
    expected_version: Option<i64>,
) -> Result<Vec<Step>, ModerationError> {
    let comments = db::comments::find_many(conn, ids)?;
    if let Some(missing) = ids.iter().find(|id| !comments.iter().any(|c| c.id == **id)) {
        return Err(ModerationError::CommentNotFound(*missing));
    }
    let mut steps = Vec::with_capacity(comments.len());
    for comment in comments {
        let current = comment.status;
        if current == CommentStatus::Deleted {
            return Err(ModerationError::NotActionable(format!(
                "comment {} was deleted; there is nothing left to moderate",
                comment.id
            )));
        }
        let target = match action {
            Action::Approve | Action::NotSpam => CommentStatus::Approved,
            Action::Spam => CommentStatus::Spam,
            Action::Trash => CommentStatus::Trash,
            Action::Restore if current == CommentStatus::Trash => {
                db::moderation::status_before_trash(conn, comment.id)?
                    .filter(|s| *s != CommentStatus::Trash && *s != CommentStatus::Deleted)
                    .unwrap_or(CommentStatus::Pending)
            }
            Action::Restore => {
                return Err(ModerationError::NotActionable(format!(
                    "comment {} is not in the trash",
                    comment.id
                )))
            }
        };
        if let Some(expected) = expected_version {
            let already_done =
                current == target && action.verdict().is_none_or(|v| comment.verdict == Some(v));
            if expected != comment.version && !already_done {
                return Err(ModerationError::Conflict {
                    id: comment.id,
                    current,
                });
            }
        }
        let article = db::articles::find(conn, comment.article_id)?
            .ok_or(ModerationError::CommentNotFound(comment.id))?;
        steps.push(Step {
            previous_verdict: comment.verdict,
            comment,
            article,
            target,
        });
    }
    Ok(steps)
}

/// Carries out one comment's part; returns the comment as it now is and
/// whether a verdict was taught to the scorers.
#[allow(clippy::too_many_arguments)]
fn execute(
    conn: &mut AnyConnection,
    spam: &Arc<Spam>,
    hooks: &Arc<Webhooks>,
    moderator_id: UserId,
    step: Step,
    action: Action,
    reason: Option<&str>,
    now: i64,
    public_changes: &mut Vec<String>,
) -> Result<(Comment, bool), ModerationError> {
    let Step {
        comment,
        article,
        target,
        previous_verdict,
    } = step;
    let from = comment.status;
    let verdict = action.verdict();
    let verdict_changes = verdict.is_some_and(|v| Some(v) != previous_verdict);
    if from == target && !verdict_changes {
        // Already so: nothing to change, nothing to log twice.
        return Ok((comment, false));
    }
    let candidate = Candidate::of_stored(&comment, &article, StatusCounts::default());
    let learned_text = learned::text_of(&candidate);
    let stored_verdict = verdict
        .filter(|_| verdict_changes)
        .map(|v| (v, learned_text.as_str()));
    let Some(updated) = db::moderation::set_status(conn, &comment, target, stored_verdict, now)?
    else {
        // Changed by someone else since it was read (possible on
        // PostgreSQL, where decisions run side by side). If it now is where
        // this action would put it, the two agreed: nothing to do.
        let fresh = db::comments::find(conn, comment.id)?
            .ok_or(ModerationError::CommentNotFound(comment.id))?;
        let agreed = fresh.status == target && verdict.is_none_or(|v| fresh.verdict == Some(v));
        if agreed {
            return Ok((fresh, false));
        }
        return Err(ModerationError::Conflict {
            id: comment.id,
            current: fresh.status,
        });
    };
    db::moderation::log(
        conn,
        &NewLogEntry {
            comment_id: Some(comment.id),
            moderator_id: Some(moderator_id),
            action: action.logged_as(),
            from_status: Some(from),
            to_status: Some(target),
            reason,
            subject: None,
            created_at: now,
            from_verdict: previous_verdict,
        },
    )?;
    let mut taught = false;
    if let (Some(v), true) = (verdict, verdict_changes) {
        // What an earlier verdict taught is taken back: the text it was
        // taught with, whatever the comment says now.
        let prior = previous_verdict.map(|verdict| Prior {
            verdict,
            text: comment
                .learned_text
                .clone()
                .unwrap_or_else(|| learned_text.clone()),
        });
        spam.pipeline
            .record_verdict(conn, &candidate, v, prior.as_ref())?;
        taught = true;
    }
    if from != target && (from == CommentStatus::Approved || target == CommentStatus::Approved) {
        public_changes.push(article.key.clone());
    }
    if from != target {
        if let Some(event) = webhooks::event_for(target) {
            hooks.enqueue(conn, event, webhooks::comment_data(&updated, &article.key))?;
        }
    }
    Ok((updated, taught))
}
