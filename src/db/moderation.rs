//! The moderation log, bans, and status changes made by moderators.

use diesel::prelude::*;

use super::models::Comment;
use super::schema::{bans, comments, moderation_log};
use super::AnyConnection;
use crate::domain::CommentStatus;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = moderation_log)]
pub struct LogEntry {
    pub id: i64,
    pub comment_id: Option<i64>,
    pub moderator_id: Option<i64>,
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub reason: Option<String>,
    pub subject: Option<String>,
    pub created_at: i64,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = moderation_log)]
pub struct NewLogEntry<'a> {
    pub comment_id: Option<i64>,
    pub moderator_id: Option<i64>,
    pub action: &'a str,
    pub from_status: Option<&'a str>,
    pub to_status: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub subject: Option<&'a str>,
    pub created_at: i64,
}

pub fn log(conn: &mut AnyConnection, entry: &NewLogEntry<'_>) -> QueryResult<usize> {
    diesel::insert_into(moderation_log::table)
        .values(entry)
        .execute(conn)
}

/// A page of the log, newest first; `before` is the last id of the
/// previous page.
pub fn log_page(
    conn: &mut AnyConnection,
    moderator: Option<i64>,
    comment: Option<i64>,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<LogEntry>> {
    let mut query = moderation_log::table
        .select(LogEntry::as_select())
        .order(moderation_log::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(m) = moderator {
        query = query.filter(moderation_log::moderator_id.eq(m));
    }
    if let Some(c) = comment {
        query = query.filter(moderation_log::comment_id.eq(c));
    }
    if let Some(b) = before {
        query = query.filter(moderation_log::id.lt(b));
    }
    query.load(conn)
}

/// Every logged decision about one comment, oldest first.
pub fn log_for_comment(conn: &mut AnyConnection, comment_id: i64) -> QueryResult<Vec<LogEntry>> {
    moderation_log::table
        .filter(moderation_log::comment_id.eq(comment_id))
        .order(moderation_log::id.asc())
        .select(LogEntry::as_select())
        .load(conn)
}

/// The status a comment had before it was last put in the trash.
pub fn status_before_trash(
    conn: &mut AnyConnection,
    comment_id: i64,
) -> QueryResult<Option<String>> {
    moderation_log::table
        .filter(moderation_log::comment_id.eq(comment_id))
        .filter(moderation_log::to_status.eq(CommentStatus::Trash.as_str()))
        .order(moderation_log::id.desc())
        .select(moderation_log::from_status)
        .first::<Option<String>>(conn)
        .optional()
        .map(Option::flatten)
}

/// Sets a comment's status, and with `verdict` a moderator's verdict and
/// the text it taught the learned scorer; guarded by the comment's version.
/// `None` when the comment changed in between.
pub fn set_status(
    conn: &mut AnyConnection,
    current: &Comment,
    to: CommentStatus,
    verdict: Option<(&str, &str)>,
    now: i64,
) -> QueryResult<Option<Comment>> {
    let target = comments::table
        .filter(comments::id.eq(current.id))
        .filter(comments::version.eq(current.version));
    let (verdict, learned_text) = match verdict {
        Some((v, text)) => (Some(v), Some(text)),
        None => (current.verdict.as_deref(), current.learned_text.as_deref()),
    };
    diesel::update(target)
        .set((
            comments::status.eq(to.as_str()),
            comments::status_changed_at.eq(now),
            comments::verdict.eq(verdict),
            comments::learned_text.eq(learned_text),
            comments::version.eq(comments::version + 1),
        ))
        .get_result::<Comment>(conn)
        .optional()
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = bans)]
pub struct Ban {
    pub id: i64,
    pub kind: String,
    pub value: String,
    pub shadow: bool,
    pub reason: Option<String>,
    pub expires_at: Option<i64>,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub lifted_at: Option<i64>,
    pub lifted_by: Option<i64>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = bans)]
pub struct NewBan<'a> {
    pub kind: &'a str,
    pub value: &'a str,
    pub shadow: bool,
    pub reason: Option<&'a str>,
    pub expires_at: Option<i64>,
    pub created_by: Option<i64>,
    pub created_at: i64,
}

pub fn insert_ban(conn: &mut AnyConnection, new: &NewBan<'_>) -> QueryResult<Ban> {
    diesel::insert_into(bans::table)
        .values(new)
        .get_result::<Ban>(conn)
}

/// Bans in force at `now`.
pub fn active_bans(conn: &mut AnyConnection, now: i64) -> QueryResult<Vec<Ban>> {
    bans::table
        .filter(bans::lifted_at.is_null())
        .filter(bans::expires_at.is_null().or(bans::expires_at.gt(now)))
        .order(bans::id.asc())
        .select(Ban::as_select())
        .load(conn)
}

/// Every ban, newest first (lifted and expired ones included).
pub fn all_bans(conn: &mut AnyConnection, limit: i64) -> QueryResult<Vec<Ban>> {
    bans::table
        .order(bans::id.desc())
        .limit(limit)
        .select(Ban::as_select())
        .load(conn)
}

pub fn lift_ban(conn: &mut AnyConnection, id: i64, by: i64, now: i64) -> QueryResult<Option<Ban>> {
    diesel::update(
        bans::table
            .filter(bans::id.eq(id))
            .filter(bans::lifted_at.is_null()),
    )
    .set((bans::lifted_at.eq(now), bans::lifted_by.eq(by)))
    .get_result::<Ban>(conn)
    .optional()
}
