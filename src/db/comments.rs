//! Comments: inserting, reading threads, and the author's own changes.

use diesel::prelude::*;

use super::models::{Comment, NewComment};
use super::schema::comments;
use super::AnyConnection;
use crate::domain::CommentStatus;

pub fn insert(conn: &mut AnyConnection, new: &NewComment) -> QueryResult<Comment> {
    diesel::insert_into(comments::table)
        .values(new)
        .get_result::<Comment>(conn)
}

pub fn find(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<Comment>> {
    comments::table
        .find(id)
        .select(Comment::as_select())
        .first(conn)
        .optional()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    OldestFirst,
    NewestFirst,
}

/// One page of an article's public thread: approved comments, plus deleted
/// ones that still have public replies (shown as placeholders so the thread
/// holds together). Keyset-paginated on `id`: `after` is the last id of the
/// previous page, so each page costs the same however deep it is.
pub fn public_page(
    conn: &mut AnyConnection,
    article_id: i64,
    order: Order,
    after: Option<i64>,
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
            .filter(replies.field(comments::status).eq_any([
                CommentStatus::Approved.as_str(),
                CommentStatus::Deleted.as_str(),
            ])),
    );
    let mut query = comments::table
        .filter(comments::article_id.eq(article_id))
        .filter(
            comments::status
                .eq(CommentStatus::Approved.as_str())
                .or(comments::status
                    .eq(CommentStatus::Deleted.as_str())
                    .and(has_public_reply)),
        )
        .select(Comment::as_select())
        .limit(limit)
        .into_boxed();
    query = match (order, after) {
        (Order::OldestFirst, Some(id)) => query.filter(comments::id.gt(id)),
        (Order::NewestFirst, Some(id)) => query.filter(comments::id.lt(id)),
        (_, None) => query,
    };
    query = match order {
        Order::OldestFirst => query.order(comments::id.asc()),
        Order::NewestFirst => query.order(comments::id.desc()),
    };
    query.load(conn)
}

/// Replaces the text of `current` and sets its status. Guarded by the
/// version read with it: returns `None` when the comment changed in between.
pub fn update_body(
    conn: &mut AnyConnection,
    current: &Comment,
    body: &str,
    html: &str,
    status: CommentStatus,
    spam: (f64, &str),
    now: i64,
) -> QueryResult<Option<Comment>> {
    let status_changed_at = if current.status() == status {
        current.status_changed_at
    } else {
        now
    };
    diesel::update(
        comments::table
            .filter(comments::id.eq(current.id))
            .filter(comments::version.eq(current.version)),
    )
    .set((
        comments::body.eq(body),
        comments::html.eq(html),
        comments::status.eq(status.as_str()),
        comments::edited_at.eq(now),
        comments::status_changed_at.eq(status_changed_at),
        comments::spam_score.eq(spam.0),
        comments::spam_report.eq(spam.1),
        comments::version.eq(comments::version + 1),
    ))
    .get_result::<Comment>(conn)
    .optional()
}

/// Marks a comment deleted and erases what it said. The row stays, so
/// replies keep their parent and the thread its shape.
pub fn mark_deleted(conn: &mut AnyConnection, id: i64, now: i64) -> QueryResult<usize> {
    diesel::update(comments::table.find(id))
        .set((
            comments::status.eq(CommentStatus::Deleted.as_str()),
            comments::body.eq(""),
            comments::html.eq(""),
            comments::edit_token_hash.eq(None::<String>),
            comments::status_changed_at.eq(now),
            comments::version.eq(comments::version + 1),
        ))
        .execute(conn)
}

/// When this IP address last commented, if ever.
pub fn latest_from_ip(conn: &mut AnyConnection, ip: &str) -> QueryResult<Option<i64>> {
    comments::table
        .filter(comments::ip.eq(ip))
        .select(diesel::dsl::max(comments::created_at))
        .first(conn)
}

/// When this account last commented, if ever.
pub fn latest_from_user(conn: &mut AnyConnection, user_id: i64) -> QueryResult<Option<i64>> {
    comments::table
        .filter(comments::user_id.eq(user_id))
        .select(diesel::dsl::max(comments::created_at))
        .first(conn)
}

/// Whether the same author already left exactly this text on the article.
pub fn duplicate_exists(
    conn: &mut AnyConnection,
    article_id: i64,
    user_id: Option<i64>,
    email: Option<&str>,
    author_name: &str,
    body: &str,
) -> QueryResult<bool> {
    let same_text = comments::table
        .filter(comments::article_id.eq(article_id))
        .filter(comments::body.eq(body))
        .filter(comments::status.ne(CommentStatus::Deleted.as_str()))
        .into_boxed();
    let same_author = match (user_id, email) {
        (Some(id), _) => same_text.filter(comments::user_id.eq(id)),
        (None, Some(email)) => same_text
            .filter(comments::user_id.is_null())
            .filter(comments::author_email.eq(email)),
        (None, None) => same_text
            .filter(comments::user_id.is_null())
            .filter(comments::author_email.is_null())
            .filter(comments::author_name.eq(author_name)),
    };
    let found: Option<i64> = same_author.select(comments::id).first(conn).optional()?;
    Ok(found.is_some())
}

/// How many of the commenter's comments are in each status: by account, or
/// by email for a guest.
pub fn history(
    conn: &mut AnyConnection,
    user_id: Option<i64>,
    email: Option<&str>,
) -> QueryResult<Vec<(String, i64)>> {
    let query = comments::table
        .group_by(comments::status)
        .select((comments::status, diesel::dsl::count_star()))
        .into_boxed();
    match (user_id, email) {
        (Some(id), _) => query.filter(comments::user_id.eq(id)).load(conn),
        (None, Some(email)) => query
            .filter(comments::user_id.is_null())
            .filter(comments::author_email.eq(email))
            .load(conn),
        (None, None) => Ok(Vec::new()),
    }
}
