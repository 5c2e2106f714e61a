//! The moderation log, bans, and status changes made by moderators.

use diesel::prelude::*;

use super::models::Comment;
use super::schema::{comments, moderation_log};
use super::AnyConnection;
use crate::domain::{CommentId, CommentStatus, LogAction, LogEntryId, UserId, Verdict};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = moderation_log)]
pub struct LogEntry {
    pub id: LogEntryId,
    pub comment_id: Option<CommentId>,
    pub moderator_id: Option<UserId>,
    pub action: LogAction,
    pub from_status: Option<CommentStatus>,
    pub to_status: Option<CommentStatus>,
    pub reason: Option<String>,
    pub subject: Option<String>,
    pub created_at: i64,
    /// The comment's verdict before a decision (decisions only).
    pub from_verdict: Option<Verdict>,
    /// When an undo reverted this decision.
    pub undone_at: Option<i64>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = moderation_log)]
pub struct NewLogEntry<'a> {
    pub comment_id: Option<CommentId>,
    pub moderator_id: Option<UserId>,
    pub action: LogAction,
    pub from_status: Option<CommentStatus>,
    pub to_status: Option<CommentStatus>,
    pub reason: Option<&'a str>,
    pub subject: Option<&'a str>,
    pub created_at: i64,
    /// The comment's verdict before a decision, which an undo puts back.
    pub from_verdict: Option<Verdict>,
}

pub fn log(conn: &mut AnyConnection, entry: &NewLogEntry<'_>) -> QueryResult<usize> {
    diesel::insert_into(moderation_log::table)
        .values(entry)
        .execute(conn)
}

/// Which entries a page of the log holds.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogQuery {
    pub moderator: Option<UserId>,
    pub comment: Option<CommentId>,
    pub action: Option<LogAction>,
    /// The last id of the previous page.
    pub before: Option<LogEntryId>,
    pub limit: i64,
}

/// A page of the log, newest first.
pub fn log_page(conn: &mut AnyConnection, query: &LogQuery) -> QueryResult<Vec<LogEntry>> {
    let mut statement = moderation_log::table
        .select(LogEntry::as_select())
        .order(moderation_log::id.desc())
        .limit(query.limit)
        .into_boxed();
    if let Some(m) = query.moderator {
        statement = statement.filter(moderation_log::moderator_id.eq(m));
    }
    if let Some(c) = query.comment {
        statement = statement.filter(moderation_log::comment_id.eq(c));
    }
    if let Some(a) = query.action {
        statement = statement.filter(moderation_log::action.eq(a));
    }
    if let Some(b) = query.before {
        statement = statement.filter(moderation_log::id.lt(b));
    }
    statement.load(conn)
}

/// The entries of a moderator's latest decision that no undo has reverted
/// yet, by comment; empty when there is none. A decision writes all its
/// entries with one time, which tells them from the ones before. A ban that
/// trashed its commenter's comments logged them as trash decisions at the
/// ban's time: those go with the ban and are no decision of their own.
pub fn last_decision(conn: &mut AnyConnection, moderator: UserId) -> QueryResult<Vec<LogEntry>> {
    let undoable = || {
        moderation_log::table
            .filter(moderation_log::moderator_id.eq(moderator))
            .filter(moderation_log::action.eq_any(LogAction::DECISIONS))
            .filter(moderation_log::comment_id.is_not_null())
            .filter(moderation_log::undone_at.is_null())
    };
    let at_once = diesel::alias!(moderation_log as at_once);
    let made_by_a_ban = diesel::dsl::exists(
        at_once
            .filter(at_once.field(moderation_log::moderator_id).eq(moderator))
            .filter(at_once.field(moderation_log::action).eq(LogAction::Ban))
            .filter(
                at_once
                    .field(moderation_log::created_at)
                    .eq(moderation_log::created_at),
            ),
    );
    let Some(at) = undoable()
        .filter(diesel::dsl::not(made_by_a_ban))
        .order(moderation_log::id.desc())
        .select(moderation_log::created_at)
        .first::<i64>(conn)
        .optional()?
    else {
        return Ok(Vec::new());
    };
    undoable()
        .filter(moderation_log::created_at.eq(at))
        .order(moderation_log::comment_id.asc())
        .select(LogEntry::as_select())
        .load(conn)
}

/// Whether anything still in effect was logged about the comment after
/// `entry`: a decision an undo took back and the undo itself cancel out.
pub fn acted_on_after(
    conn: &mut AnyConnection,
    comment_id: CommentId,
    entry: LogEntryId,
) -> QueryResult<bool> {
    moderation_log::table
        .filter(moderation_log::comment_id.eq(comment_id))
        .filter(moderation_log::id.gt(entry))
        .filter(moderation_log::action.ne(LogAction::Undo))
        .filter(moderation_log::undone_at.is_null())
        .select(moderation_log::id)
        .first::<LogEntryId>(conn)
        .optional()
        .map(|later| later.is_some())
}

/// Marks decisions' entries as reverted by an undo at `at`.
pub fn mark_undone(conn: &mut AnyConnection, ids: &[LogEntryId], at: i64) -> QueryResult<usize> {
    diesel::update(moderation_log::table.filter(moderation_log::id.eq_any(ids)))
        .set(moderation_log::undone_at.eq(at))
        .execute(conn)
}

/// Every logged decision about one comment, oldest first.
pub fn log_for_comment(
    conn: &mut AnyConnection,
    comment_id: CommentId,
) -> QueryResult<Vec<LogEntry>> {
    moderation_log::table
        .filter(moderation_log::comment_id.eq(comment_id))
        .order(moderation_log::id.asc())
        .select(LogEntry::as_select())
        .load(conn)
}

/// The status a comment had before it was last put in the trash.
pub fn status_before_trash(
    conn: &mut AnyConnection,
    comment_id: CommentId,
) -> QueryResult<Option<CommentStatus>> {
    moderation_log::table
        .filter(moderation_log::comment_id.eq(comment_id))
        .filter(moderation_log::to_status.eq(CommentStatus::Trash))
        .order(moderation_log::id.desc())
        .select(moderation_log::from_status)
        .first::<Option<CommentStatus>>(conn)
        .optional()
        .map(Option::flatten)
}

/// Sets a comment's status, and with `verdict` the moderator's verdict and
/// the text it taught the learned scorer (`Some(None)` clears both, `None`
/// keeps them); guarded by the comment's version. `None` when the comment
/// changed in between.
pub fn set_status(
    conn: &mut AnyConnection,
    current: &Comment,
    to: CommentStatus,
    verdict: Option<Option<(Verdict, &str)>>,
    now: i64,
) -> QueryResult<Option<Comment>> {
    let target = comments::table
        .filter(comments::id.eq(current.id))
        .filter(comments::version.eq(current.version));
    let (verdict, learned_text) = match verdict {
        Some(Some((v, text))) => (Some(v), Some(text)),
        Some(None) => (None, None),
        None => (current.verdict, current.learned_text.as_deref()),
    };
    diesel::update(target)
        .set((
            comments::status.eq(to),
            comments::status_changed_at.eq(now),
            comments::verdict.eq(verdict),
            comments::learned_text.eq(learned_text),
            comments::version.eq(comments::version + 1),
        ))
        .get_result::<Comment>(conn)
        .optional()
}
