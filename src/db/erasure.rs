//! Erasure: what an account's deletion, the retention policy and the
//! expiry of client data remove or anonymize.

use diesel::prelude::*;

use super::schema::comments;
use super::AnyConnection;
use crate::domain::{CommentStatus, UserId};

/// Removes the author's identity from their comments, keeping the text.
pub fn anonymize_user(conn: &mut AnyConnection, user_id: UserId, now: i64) -> QueryResult<usize> {
    diesel::update(comments::table.filter(comments::user_id.eq(user_id)))
        .set((
            comments::user_id.eq(None::<i64>),
            comments::author_name.eq("Deleted user"),
            comments::author_email.eq(None::<String>),
            comments::author_url.eq(None::<String>),
            comments::ip.eq(None::<String>),
            comments::user_agent.eq(None::<String>),
            comments::referrer.eq(None::<String>),
            comments::status_changed_at.eq(now),
            comments::version.eq(comments::version + 1),
        ))
        .execute(conn)
}

/// Deletes the author's comments (erasing their text; rows with replies
/// stay as placeholders) and removes their identity.
pub fn delete_user_comments(
    conn: &mut AnyConnection,
    user_id: UserId,
    now: i64,
) -> QueryResult<usize> {
    diesel::update(comments::table.filter(comments::user_id.eq(user_id)))
        .set((
            comments::status.eq(CommentStatus::Deleted),
            comments::body.eq(""),
            comments::html.eq(""),
            comments::spam_report.eq(None::<String>),
            comments::status_changed_at.eq(now),
            comments::version.eq(comments::version + 1),
        ))
        .execute(conn)?;
    anonymize_user(conn, user_id, now)
}

/// Removes a guest's identity from the comments they wrote under `email`
/// (lower-cased), keeping the text.
pub fn anonymize_guest(conn: &mut AnyConnection, email: &str, now: i64) -> QueryResult<usize> {
    diesel::update(
        comments::table
            .filter(comments::user_id.is_null())
            .filter(comments::author_email.eq(email)),
    )
    .set((
        comments::author_name.eq("Deleted user"),
        comments::author_email.eq(None::<String>),
        comments::author_url.eq(None::<String>),
        comments::ip.eq(None::<String>),
        comments::user_agent.eq(None::<String>),
        comments::referrer.eq(None::<String>),
        comments::status_changed_at.eq(now),
        comments::version.eq(comments::version + 1),
    ))
    .execute(conn)
}

/// Deletes a guest's comments under `email` (replies keep placeholders)
/// and removes their identity.
pub fn delete_guest_comments(
    conn: &mut AnyConnection,
    email: &str,
    now: i64,
) -> QueryResult<usize> {
    diesel::update(
        comments::table
            .filter(comments::user_id.is_null())
            .filter(comments::author_email.eq(email)),
    )
    .set((
        comments::status.eq(CommentStatus::Deleted),
        comments::body.eq(""),
        comments::html.eq(""),
        comments::spam_report.eq(None::<String>),
        comments::status_changed_at.eq(now),
        comments::version.eq(comments::version + 1),
    ))
    .execute(conn)?;
    anonymize_guest(conn, email, now)
}

/// Deletes comments of `status` that have been so since before `before`.
pub fn purge_status(
    conn: &mut AnyConnection,
    status: CommentStatus,
    before: i64,
) -> QueryResult<usize> {
    diesel::delete(
        comments::table
            .filter(comments::status.eq(status))
            .filter(comments::status_changed_at.lt(before)),
    )
    .execute(conn)
}

/// Erases IP addresses, user agents and referrers of comments written
/// before `before`.
pub fn erase_client_data(conn: &mut AnyConnection, before: i64) -> QueryResult<usize> {
    diesel::update(
        comments::table
            .filter(comments::created_at.lt(before))
            .filter(
                comments::ip
                    .is_not_null()
                    .or(comments::user_agent.is_not_null())
                    .or(comments::referrer.is_not_null()),
            ),
    )
    .set((
        comments::ip.eq(None::<String>),
        comments::user_agent.eq(None::<String>),
        comments::referrer.eq(None::<String>),
    ))
    .execute(conn)
}
