//! Comments: inserting, reading threads, the author's own changes, and the
//! duplicate guard's lookups.

use diesel::prelude::*;

use super::models::{Article, Comment, NewComment};
use super::queue::AuthorFilter;
use super::schema::{articles, comments};
use super::AnyConnection;
use crate::domain::{ArticleId, CommentBody, CommentId, CommentStatus, SortOrder, UserId};

pub fn insert(conn: &mut AnyConnection, new: &NewComment) -> QueryResult<Comment> {
    diesel::insert_into(comments::table)
        .values(new)
        .get_result::<Comment>(conn)
}

pub fn find(conn: &mut AnyConnection, id: CommentId) -> QueryResult<Option<Comment>> {
    comments::table
        .find(id)
        .select(Comment::as_select())
        .first(conn)
        .optional()
}

/// One page of an article's public thread: approved comments, plus deleted
/// ones that still have public replies (shown as placeholders so the thread
/// holds together). Keyset-paginated on `id`: `after` is the last id of the
/// previous page, so each page costs the same however deep it is.
pub fn public_page(
    conn: &mut AnyConnection,
    article_id: ArticleId,
    order: SortOrder,
    after: Option<CommentId>,
    limit: i64,
) -> QueryResult<Vec<Comment>> {
    let replies = diesel::alias!(comments as replies);
    let has_public_reply = diesel::dsl::exists(
        replies
            .filter(
                replies
                    .field(comments::parent_id)
                    .eq(comments::id.nullable()),
            )
            .filter(
                replies
                    .field(comments::status)
                    .eq_any([CommentStatus::Approved, CommentStatus::Deleted]),
            ),
    );
    let mut query = comments::table
        .filter(comments::article_id.eq(article_id))
        .filter(
            comments::status
                .eq(CommentStatus::Approved)
                .or(comments::status
                    .eq(CommentStatus::Deleted)
                    .and(has_public_reply)),
        )
        .select(Comment::as_select())
        .limit(limit)
        .into_boxed();
    query = match (order, after) {
        (SortOrder::Oldest, Some(id)) => query.filter(comments::id.gt(id)),
        (SortOrder::Newest, Some(id)) => query.filter(comments::id.lt(id)),
        (_, None) => query,
    };
    query = match order {
        SortOrder::Oldest => query.order(comments::id.asc()),
        SortOrder::Newest => query.order(comments::id.desc()),
    };
    query.load(conn)
}

/// One comment of a thread without its text: `(id, parent, status,
/// created_at)`.
pub type OutlineRow = (CommentId, Option<CommentId>, CommentStatus, i64);

/// The shape of an article's thread as readers may see it: every approved
/// or deleted comment, without their text, in no particular order (sorting
/// two index ranges cost SQLite a third of the read on 10,000 comments).
/// Which deleted ones are shown (those with a reply shown) is for the
/// caller to work out.
pub fn outline(conn: &mut AnyConnection, article_id: ArticleId) -> QueryResult<Vec<OutlineRow>> {
    comments::table
        .filter(comments::article_id.eq(article_id))
        .filter(comments::status.eq_any([CommentStatus::Approved, CommentStatus::Deleted]))
        .select((
            comments::id,
            comments::parent_id,
            comments::status,
            comments::created_at,
        ))
        .load(conn)
}

/// Whether a comment has a reply readers see (approved, or itself a
/// deleted placeholder): a deleted comment with one stays in the thread.
pub fn has_public_reply(conn: &mut AnyConnection, id: CommentId) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        comments::table
            .filter(comments::parent_id.eq(id))
            .filter(comments::status.eq_any([CommentStatus::Approved, CommentStatus::Deleted])),
    ))
    .get_result(conn)
}

/// An article's newest approved comments, newest first.
pub fn newest_approved(
    conn: &mut AnyConnection,
    article_id: ArticleId,
    limit: i64,
) -> QueryResult<Vec<Comment>> {
    comments::table
        .filter(comments::article_id.eq(article_id))
        .filter(comments::status.eq(CommentStatus::Approved))
        .order(comments::id.desc())
        .limit(limit)
        .select(Comment::as_select())
        .load(conn)
}

/// The newest approved comments of every article, newest first, each with
/// its article's key.
pub fn newest_approved_anywhere(
    conn: &mut AnyConnection,
    limit: i64,
) -> QueryResult<Vec<(Comment, String)>> {
    comments::table
        .inner_join(articles::table)
        .filter(comments::status.eq(CommentStatus::Approved))
        .order(comments::id.desc())
        .limit(limit)
        .select((Comment::as_select(), articles::key))
        .load(conn)
}

/// An edit's new text, and the verdict on it when it was scored.
#[derive(Debug)]
pub struct BodyUpdate<'a> {
    pub body: &'a CommentBody,
    pub html: &'a str,
    pub fingerprint: &'a str,
    /// `None` keeps the comment's status and spam report: a moderator's
    /// correction is not scored.
    pub rescored: Option<Rescored<'a>>,
    pub at: i64,
}

/// What the spam pipeline made of an author's edit.
#[derive(Debug)]
pub struct Rescored<'a> {
    pub status: CommentStatus,
    pub spam_score: f64,
    pub spam_report: &'a str,
}

/// Stores an edit, unless the comment changed since `current` was read
/// (its version moved): then `None`, and the caller reports a conflict.
pub fn update_body(
    conn: &mut AnyConnection,
    current: &Comment,
    update: &BodyUpdate<'_>,
) -> QueryResult<Option<Comment>> {
    let rescored = update.rescored.as_ref();
    let status_changed_at = rescored
        .filter(|r| r.status != current.status)
        .map(|_| comments::status_changed_at.eq(update.at));
    diesel::update(
        comments::table
            .filter(comments::id.eq(current.id))
            .filter(comments::version.eq(current.version)),
    )
    .set((
        comments::body.eq(update.body),
        comments::html.eq(update.html),
        comments::fingerprint.eq(update.fingerprint),
        comments::edited_at.eq(update.at),
        rescored.map(|r| comments::status.eq(r.status)),
        status_changed_at,
        rescored.map(|r| comments::spam_score.eq(r.spam_score)),
        rescored.map(|r| comments::spam_report.eq(r.spam_report)),
        comments::version.eq(comments::version + 1),
    ))
    .get_result::<Comment>(conn)
    .optional()
}

/// Marks a comment deleted and erases what it said. The row stays, so
/// replies keep their parent and the thread its shape.
pub fn mark_deleted(conn: &mut AnyConnection, id: CommentId, now: i64) -> QueryResult<usize> {
    diesel::update(comments::table.find(id))
        .set((
            comments::status.eq(CommentStatus::Deleted),
            comments::body.eq(""),
            comments::html.eq(""),
            comments::edit_token_hash.eq(None::<String>),
            comments::status_changed_at.eq(now),
            comments::version.eq(comments::version + 1),
        ))
        .execute(conn)
}

/// Who wrote a comment, as the duplicate guard tells people apart: by
/// account, by email for a guest, by name for a guest who gave no email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Writer {
    Account(UserId),
    Guest(String),
    Anonymous(String),
}

/// A comment about to be stored, as the duplicate guard sees it.
#[derive(Debug, Clone)]
pub struct DuplicateProbe {
    pub fingerprint: String,
    /// `None` when the comment creates its article.
    pub article_id: Option<ArticleId>,
    pub writer: Writer,
    pub ip: Option<String>,
    /// Also a duplicate: the same text by the same writer, or from the same
    /// address, on any article since this time.
    pub across_articles_since: Option<i64>,
    /// An edit is no duplicate of the comment it edits.
    pub except_id: Option<CommentId>,
}

/// Whether a comment other than `except_id`, not deleted, with the same
/// fingerprint, is the same writer's on the same article, or (within the
/// window) the same writer's or from the same address on any article.
///
/// Each probe must be answered from the fingerprint indexes (migration
/// 0009): `(fingerprint, article_id)` and `(fingerprint, created_at)`. The
/// writer and address columns have indexes of their own, and a planner
/// without statistics may pick one of those instead, which reads every
/// comment that writer or address wrote (every guest comment, for
/// `user_id IS NULL`): the load benchmark's seeding slowed from 360
/// comments a second to 50 as the table grew to 26,000 that way. Those columns are therefore compared through an
/// expression (`|| ''`, `+ 0`) no index covers; the plans are checked by
/// `duplicate_probes_use_the_fingerprint_indexes`.
pub fn duplicate_exists(conn: &mut AnyConnection, probe: &DuplicateProbe) -> QueryResult<bool> {
    let same_text = || {
        let query = comments::table
            .filter(comments::fingerprint.eq(probe.fingerprint.clone()))
            .filter(comments::status.ne(CommentStatus::Deleted))
            .filter(comments::id.ne(probe.except_id.unwrap_or(CommentId(0))))
            .select(comments::id)
            .into_boxed();
        let user_id = comments::user_id + 0_i64;
        let email = comments::author_email.concat("");
        match &probe.writer {
            Writer::Account(id) => query.filter(user_id.eq(*id)),
            Writer::Guest(address) => query
                .filter(user_id.is_null())
                .filter(email.eq(address.clone())),
            Writer::Anonymous(name) => query
                .filter(user_id.is_null())
                .filter(email.is_null())
                .filter(comments::author_name.eq(name.clone())),
        }
    };
    if let Some(article_id) = probe.article_id {
        let here = same_text()
            .filter(comments::article_id.eq(article_id))
            .first::<i64>(conn)
            .optional()?;
        if here.is_some() {
            return Ok(true);
        }
    }
    let Some(since) = probe.across_articles_since else {
        return Ok(false);
    };
    let by_writer = same_text()
        .filter(comments::created_at.ge(since))
        .first::<i64>(conn)
        .optional()?;
    if by_writer.is_some() {
        return Ok(true);
    }
    let Some(ip) = &probe.ip else {
        return Ok(false);
    };
    let from_address = comments::table
        .filter(comments::fingerprint.eq(probe.fingerprint.clone()))
        .filter(comments::status.ne(CommentStatus::Deleted))
        .filter(comments::id.ne(probe.except_id.unwrap_or(CommentId(0))))
        .filter(comments::created_at.ge(since))
        .filter(comments::ip.concat("").eq(ip))
        .select(comments::id)
        .first::<i64>(conn)
        .optional()?;
    Ok(from_address.is_some())
}

/// Comments written before fingerprints were kept (migration 0008), in id
/// order from `after`: `(id, body)`.
pub fn without_fingerprint(
    conn: &mut AnyConnection,
    after: CommentId,
    limit: i64,
) -> QueryResult<Vec<(CommentId, String)>> {
    comments::table
        .filter(comments::id.gt(after))
        .filter(comments::fingerprint.is_null())
        .filter(comments::status.ne(CommentStatus::Deleted))
        .order(comments::id.asc())
        .select((comments::id, comments::body))
        .limit(limit)
        .load(conn)
}

pub fn set_fingerprint(
    conn: &mut AnyConnection,
    id: CommentId,
    fingerprint: &str,
) -> QueryResult<usize> {
    diesel::update(comments::table.find(id))
        .set(comments::fingerprint.eq(fingerprint))
        .execute(conn)
}

/// The ids of comments a commenter posted (by account, email or IP).
pub fn ids_by_author(
    conn: &mut AnyConnection,
    author: &AuthorFilter,
) -> QueryResult<Vec<CommentId>> {
    let query = comments::table.select(comments::id).into_boxed();
    match author {
        AuthorFilter::User(id) => query.filter(comments::user_id.eq(*id)).load(conn),
        AuthorFilter::Email(email) => query
            .filter(comments::author_email.eq(email.clone()))
            .load(conn),
        AuthorFilter::Ip(ip) => query.filter(comments::ip.eq(ip.clone())).load(conn),
    }
}

/// Every comment with an IP address, as `(id, ip)` (for matching IP ranges,
/// which SQL cannot do portably).
pub fn ids_with_ip(conn: &mut AnyConnection) -> QueryResult<Vec<(CommentId, Option<String>)>> {
    comments::table
        .filter(comments::ip.is_not_null())
        .select((comments::id, comments::ip))
        .load(conn)
}

pub fn find_many(conn: &mut AnyConnection, ids: &[CommentId]) -> QueryResult<Vec<Comment>> {
    comments::table
        .filter(comments::id.eq_any(ids))
        .order(comments::id.asc())
        .select(Comment::as_select())
        .load(conn)
}

/// All of an account's comments, oldest first (for the data export).
pub fn by_user(conn: &mut AnyConnection, user_id: UserId) -> QueryResult<Vec<(Comment, Article)>> {
    comments::table
        .inner_join(articles::table)
        .filter(comments::user_id.eq(user_id))
        .order(comments::id.asc())
        .select((Comment::as_select(), Article::as_select()))
        .load(conn)
}

/// Every comment a guest wrote under `email` (lower-cased), oldest first.
pub fn by_guest_email(
    conn: &mut AnyConnection,
    email: &str,
) -> QueryResult<Vec<(Comment, Article)>> {
    comments::table
        .inner_join(articles::table)
        .filter(comments::user_id.is_null())
        .filter(comments::author_email.eq(email))
        .order(comments::id.asc())
        .select((Comment::as_select(), Article::as_select()))
        .load(conn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::testing;

    /// Every statement the duplicate probes run, for each kind of writer,
    /// must search a fingerprint index (see `duplicate_exists`).
    #[test]
    fn duplicate_probes_use_the_fingerprint_indexes() {
        use diesel::connection::{Connection as _, InstrumentationEvent};
        use std::sync::{Arc, Mutex};

        #[derive(diesel::QueryableByName)]
        struct PlanRow {
            #[diesel(sql_type = diesel::sql_types::Text)]
            detail: String,
        }

        let (_dir, mut conn) = testing::database();
        let conn = &mut conn;
        let seen = Arc::new(Mutex::new(Vec::<String>::new()));
        let recorder = Arc::clone(&seen);
        conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
            if let InstrumentationEvent::StartQuery { query, .. } = event {
                recorder.lock().unwrap().push(query.to_string());
            }
        });
        for writer in [
            Writer::Account(UserId(7)),
            Writer::Guest("a@example.com".into()),
            Writer::Anonymous("Someone".into()),
        ] {
            let probe = DuplicateProbe {
                fingerprint: "abc".into(),
                article_id: Some(ArticleId(1)),
                writer,
                ip: Some("192.0.2.1".into()),
                across_articles_since: Some(0),
                except_id: None,
            };
            assert!(!duplicate_exists(conn, &probe).unwrap());
        }
        let statements = std::mem::take(&mut *seen.lock().unwrap());
        assert_eq!(statements.len(), 9, "three probes per writer");
        for statement in statements {
            let sql = statement.split(" -- binds").next().unwrap();
            let plan: Vec<PlanRow> = diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}"))
                .load(conn)
                .unwrap();
            let plan: Vec<String> = plan.into_iter().map(|row| row.detail).collect();
            assert!(
                plan.iter()
                    .any(|step| step.contains("USING INDEX comments_fingerprint")),
                "{sql}\n{plan:?}"
            );
        }
    }
}
