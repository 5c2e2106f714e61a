//! Counts of comments per status: per commenter (kept by triggers in
//! `commenter_stats`), per article, and across the site.

use diesel::prelude::*;

use super::schema::{commenter_stats, comments};
use super::AnyConnection;
use crate::domain::{ArticleId, CommentStatus, StatusCounts, UserId};

/// How many of the commenter's comments are in each status: by account, or
/// by email for a guest (one lookup in the stats the triggers keep).
pub fn history(
    conn: &mut AnyConnection,
    user_id: Option<UserId>,
    email: Option<&str>,
) -> QueryResult<StatusCounts> {
    let Some(key) = author_key(user_id, email) else {
        return Ok(StatusCounts::default());
    };
    Ok(commenter_stats::table
        .find(key)
        .select(CommenterStats::as_select())
        .first(conn)
        .optional()?
        .map(|stats| stats.counts())
        .unwrap_or_default())
}

/// Comment counts per article and status.
pub fn counts_by_article(
    conn: &mut AnyConnection,
) -> QueryResult<Vec<(ArticleId, CommentStatus, i64)>> {
    comments::table
        .group_by((comments::article_id, comments::status))
        .select((
            comments::article_id,
            comments::status,
            diesel::dsl::count_star(),
        ))
        .load(conn)
}

/// Comment counts per status, across all articles.
pub fn counts_by_status(conn: &mut AnyConnection) -> QueryResult<StatusCounts> {
    comments::table
        .group_by(comments::status)
        .select((comments::status, diesel::dsl::count_star()))
        .load(conn)
        .map(StatusCounts::from_rows)
}

/// A commenter's counts by status, kept by triggers (see the
/// `commenter_stats` migration).
#[derive(Debug, Clone, Default, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = commenter_stats)]
pub struct CommenterStats {
    pub author_key: String,
    pub approved: i64,
    pub pending: i64,
    pub spam: i64,
    pub trash: i64,
    pub deleted: i64,
    pub first_seen: i64,
    pub last_seen: i64,
}

impl CommenterStats {
    pub fn counts(&self) -> StatusCounts {
        StatusCounts {
            pending: self.pending,
            approved: self.approved,
            spam: self.spam,
            trash: self.trash,
            deleted: self.deleted,
        }
    }
}

/// The key a commenter's stats are kept under: their account, or their
/// email as a guest; `None` for an anonymous guest.
pub fn author_key(user_id: Option<UserId>, email: Option<&str>) -> Option<String> {
    match (user_id, email) {
        (Some(id), _) => Some(format!("u:{id}")),
        (None, Some(email)) => Some(format!("e:{email}")),
        (None, None) => None,
    }
}

pub fn stats_of(conn: &mut AnyConnection, keys: &[String]) -> QueryResult<Vec<CommenterStats>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    commenter_stats::table
        .filter(commenter_stats::author_key.eq_any(keys))
        .select(CommenterStats::as_select())
        .load(conn)
}
