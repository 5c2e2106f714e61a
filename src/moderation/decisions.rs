//! Moderators' decisions on comments, one at a time or in bulk (all or
//! nothing), each written to the audit log in the same transaction. A spam
//! or not-spam verdict also teaches the scorers and queues feedback for
//! external ones; every change queues its webhook event. A moderator can
//! take back their latest decision (`undo_last`), all or nothing too.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::ModerationError;
use crate::auth::{permissions, AuthUser};
use crate::cache;
use crate::db::models::{Article, Comment};
use crate::db::moderation::{LogEntry, NewLogEntry};
use crate::db::{self, AnyConnection, DbError};
use crate::domain::{
    CommentId, CommentStatus, LogAction, LogEntryId, StatusCounts, UserId, ValidationError, Verdict,
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
    let (decided, effects) = services
        .db
        .write(move |conn| {
            let steps = plan(conn, &ids, action, expected_version)?;
            let now = db::now_millis();
            let mut decided = Vec::with_capacity(steps.len());
            let mut effects = Effects::default();
            for step in steps {
                decided.push(execute(
                    conn,
                    &spam,
                    &hooks,
                    moderator_id,
                    step,
                    action,
                    reason.as_deref(),
                    now,
                    &mut effects,
                )?);
            }
            effects.notify_in(conn)?;
            Ok::<_, ModerationError>((decided, effects))
        })
        .await?;
    effects.settle(services).await;
    tracing::info!(
        %moderator_id,
        action = action.as_str(),
        count = decided.len(),
        "moderation decision"
    );
    Ok(decided)
}

/// What changing comments leaves to do besides the change itself:
/// collected inside the transaction, finished once it has committed.
#[derive(Debug, Default)]
struct Effects {
    /// The keys of articles whose public thread changed.
    public_changes: Vec<String>,
    /// Whether the scorers learned or unlearned a verdict.
    taught: bool,
}

impl Effects {
    /// A comment moved from `from` to where `moved` now is: its webhook
    /// event is queued, and its article noted when readers see the move.
    fn moved(
        &mut self,
        conn: &mut AnyConnection,
        hooks: &Webhooks,
        from: CommentStatus,
        moved: &Comment,
        article_key: &str,
    ) -> Result<(), DbError> {
        let to = moved.status;
        if from == to {
            return Ok(());
        }
        if from == CommentStatus::Approved || to == CommentStatus::Approved {
            self.public_changes.push(article_key.to_string());
        }
        if let Some(event) = webhooks::event_for(to) {
            hooks.enqueue(conn, event, webhooks::comment_data(moved, article_key))?;
        }
        Ok(())
    }

    /// Last in the transaction: tells the other instances which articles
    /// to drop from their caches, if it commits.
    fn notify_in(&mut self, conn: &mut AnyConnection) -> Result<(), DbError> {
        self.public_changes.sort();
        self.public_changes.dedup();
        for key in &self.public_changes {
            cache::notify_in(conn, Some(key))?;
        }
        Ok(())
    }

    /// Once committed: this instance drops the changed articles from its
    /// cache, picks up what the scorers learned at once (other instances
    /// within spam.refresh_interval), and the outbox sends what was queued.
    async fn settle(self, services: &Services) {
        for key in &self.public_changes {
            services.cache.invalidate(key);
        }
        if self.taught {
            if let Err(e) = services.spam.refresh(&services.db).await {
                tracing::warn!(error = %Chain(&e), "could not reload the spam model after a verdict; the refresher will");
            }
        }
        services.outbox.wake();
    }
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

/// Carries out one comment's part; returns the comment as it now is.
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
    effects: &mut Effects,
) -> Result<Comment, ModerationError> {
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
        return Ok(comment);
    }
    let candidate = Candidate::of_stored(&comment, &article, StatusCounts::default());
    let learned_text = learned::text_of(&candidate);
    let stored_verdict = verdict
        .filter(|_| verdict_changes)
        .map(|v| Some((v, learned_text.as_str())));
    let Some(updated) = db::moderation::set_status(conn, &comment, target, stored_verdict, now)?
    else {
        // Changed by someone else since it was read (possible on
        // PostgreSQL, where decisions run side by side). If it now is where
        // this action would put it, the two agreed: nothing to do.
        let fresh = db::comments::find(conn, comment.id)?
            .ok_or(ModerationError::CommentNotFound(comment.id))?;
        let agreed = fresh.status == target && verdict.is_none_or(|v| fresh.verdict == Some(v));
        if agreed {
            return Ok(fresh);
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
        effects.taught = true;
    }
    effects.moved(conn, hooks, from, &updated, &article.key)?;
    Ok(updated)
}

/// Takes back the moderator's latest decision that no undo has taken back
/// yet (one `decide` or `decide_bulk`; so a second undo takes back the
/// decision before): every comment it changed goes back to its status and
/// verdict before it, and a verdict it taught is taken back from the
/// scorers (an earlier verdict it replaced is taught again). All or
/// nothing: a comment that anyone acted on since (its status moved on, or
/// the log has a later entry for it that was not undone) makes the whole
/// undo a conflict.
#[tracing::instrument(skip_all, fields(moderator_id = %moderator.id))]
pub async fn undo_last(
    services: &Services,
    moderator: &AuthUser,
) -> Result<Vec<Comment>, ModerationError> {
    permissions::require_moderator(moderator)?;
    let spam = services.spam.clone();
    let hooks = services.webhooks.clone();
    let moderator_id = moderator.id;
    let (undone, effects) = services
        .db
        .write(move |conn| {
            // Two undos by one moderator at once (a double click) take
            // turns on PostgreSQL, so the second finds the decision before
            // instead of conflicting with the first.
            db::lock_keys(conn, &[format!("undo:{moderator_id}")])?;
            let entries = db::moderation::last_decision(conn, moderator_id)?;
            if entries.is_empty() {
                return Err(ModerationError::NothingToUndo);
            }
            let entry_ids: Vec<LogEntryId> = entries.iter().map(|e| e.id).collect();
            let reversals = plan_undo(conn, entries)?;
            let now = db::now_millis();
            let mut undone = Vec::with_capacity(reversals.len());
            let mut effects = Effects::default();
            for reversal in reversals {
                undone.push(revert(
                    conn,
                    &spam,
                    &hooks,
                    moderator_id,
                    reversal,
                    now,
                    &mut effects,
                )?);
            }
            db::moderation::mark_undone(conn, &entry_ids, now)?;
            effects.notify_in(conn)?;
            Ok::<_, ModerationError>((undone, effects))
        })
        .await?;
    effects.settle(services).await;
    tracing::info!(count = undone.len(), "moderation decision undone");
    Ok(undone)
}

/// One comment's part in an undo.
struct Reversal {
    comment: Comment,
    article: Article,
    /// Where the decision found the comment.
    back_to: CommentStatus,
    /// The verdict the decision taught, if it changed the comment's.
    taught: Option<Verdict>,
    /// The comment's verdict before the decision.
    earlier_verdict: Option<Verdict>,
}

/// Reads every comment of the decision and checks that it still is where
/// the decision put it, with nothing done to it since (but for decisions
/// taken back: undoing twice walks a comment back two steps).
fn plan_undo(
    conn: &mut AnyConnection,
    entries: Vec<LogEntry>,
) -> Result<Vec<Reversal>, ModerationError> {
    let ids: Vec<CommentId> = entries.iter().filter_map(|e| e.comment_id).collect();
    let mut comments = db::comments::find_many(conn, &ids)?;
    let mut reversals = Vec::with_capacity(entries.len());
    for entry in entries {
        let (Some(id), Some(back_to), Some(decided_to)) =
            (entry.comment_id, entry.from_status, entry.to_status)
        else {
            return Err(ModerationError::Internal(format!(
                "log entry {} of a decision lacks its comment or statuses",
                entry.id
            )));
        };
        let at = comments
            .iter()
            .position(|c| c.id == id)
            .ok_or(ModerationError::CommentNotFound(id))?;
        let comment = comments.swap_remove(at);
        if comment.status != decided_to || db::moderation::acted_on_after(conn, id, entry.id)? {
            return Err(ModerationError::Conflict {
                id,
                current: comment.status,
            });
        }
        let article = db::articles::find(conn, comment.article_id)?
            .ok_or(ModerationError::CommentNotFound(id))?;
        let decided_verdict = match entry.action {
            LogAction::Spam => Some(Verdict::Spam),
            LogAction::NotSpam => Some(Verdict::Ham),
            _ => None,
        };
        reversals.push(Reversal {
            comment,
            article,
            back_to,
            taught: decided_verdict.filter(|v| entry.from_verdict != Some(*v)),
            earlier_verdict: entry.from_verdict,
        });
    }
    Ok(reversals)
}

/// Puts one comment back; returns it as it now is.
fn revert(
    conn: &mut AnyConnection,
    spam: &Arc<Spam>,
    hooks: &Arc<Webhooks>,
    moderator_id: UserId,
    reversal: Reversal,
    now: i64,
    effects: &mut Effects,
) -> Result<Comment, ModerationError> {
    let Reversal {
        comment,
        article,
        back_to,
        taught,
        earlier_verdict,
    } = reversal;
    let candidate = Candidate::of_stored(&comment, &article, StatusCounts::default());
    // An earlier verdict the decision replaced is taught again, with the
    // comment's text as it is now.
    let relearned = earlier_verdict.map(|v| (v, learned::text_of(&candidate)));
    let stored_verdict = taught.map(|_| relearned.as_ref().map(|(v, text)| (*v, text.as_str())));
    let Some(updated) = db::moderation::set_status(conn, &comment, back_to, stored_verdict, now)?
    else {
        // Changed between reading and writing (PostgreSQL runs writers
        // side by side): someone acted after all.
        let current = db::comments::find(conn, comment.id)?.map_or(comment.status, |c| c.status);
        return Err(ModerationError::Conflict {
            id: comment.id,
            current,
        });
    };
    db::moderation::log(
        conn,
        &NewLogEntry {
            comment_id: Some(comment.id),
            moderator_id: Some(moderator_id),
            action: LogAction::Undo,
            from_status: Some(comment.status),
            to_status: Some(back_to),
            reason: None,
            subject: None,
            created_at: now,
            from_verdict: comment.verdict,
        },
    )?;
    if let Some(verdict) = taught {
        let prior = Prior {
            verdict,
            text: comment
                .learned_text
                .clone()
                .unwrap_or_else(|| learned::text_of(&candidate)),
        };
        match earlier_verdict {
            Some(earlier) => {
                spam.pipeline
                    .record_verdict(conn, &candidate, earlier, Some(&prior))?
            }
            None => spam.pipeline.forget_verdict(conn, &prior)?,
        }
        effects.taught = true;
    }
    effects.moved(conn, hooks, comment.status, &updated, &article.key)?;
    Ok(updated)
}
