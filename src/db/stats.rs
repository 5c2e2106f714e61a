//! Counts of comments per status: per commenter (kept by triggers in
//! `commenter_stats`), per article, across the site, and per day of
//! creation.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::schema::{commenter_stats, comments};
use super::{AnyConnection, Backend};
use crate::domain::{ArticleId, CommentStatus, StatusCounts, UserId};

/// A UTC day in milliseconds: days since the epoch are times divided by it.
pub const DAY_MS: i64 = 24 * 60 * 60 * 1000;

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

/// How many comments created since `since` (milliseconds) are in each
/// status now, per UTC day of creation: `(days since the epoch, status,
/// count)`. One range of the `comments_created_at` index (migration 0010),
/// which holds the status too, so no row of the table is read.
pub fn created_per_day(
    conn: &mut AnyConnection,
    since: i64,
) -> QueryResult<Vec<(i64, CommentStatus, i64)>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = BigInt)]
        day: i64,
        #[diesel(sql_type = Text)]
        status: CommentStatus,
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let sql = match conn.backend() {
        Backend::Sqlite => created_per_day_sql("?"),
        Backend::Postgres => created_per_day_sql("$1"),
    };
    diesel::sql_query(sql)
        .bind::<BigInt, _>(since)
        .load::<Row>(conn)
        .map(|rows| rows.into_iter().map(|r| (r.day, r.status, r.n)).collect())
}

/// `created_per_day`'s statement, with `since` written in. Grouping by an
/// expression beside a column is beyond diesel's query builder; the SQL is
/// the same in both dialects (a division of two integers is an integer)
/// but for how the parameter is written.
fn created_per_day_sql(since: &str) -> String {
    format!(
        "SELECT created_at / {DAY_MS} AS day, status, COUNT(*) AS n FROM comments \
         WHERE created_at >= {since} GROUP BY created_at / {DAY_MS}, status"
    )
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::comments::insert;
    use crate::db::testing::{self, comment};

    #[test]
    fn comments_are_counted_per_day_of_creation_from_the_index_alone() {
        let (_dir, mut conn) = testing::database();
        let conn = &mut conn;
        let article = testing::article(conn, "days");
        let day = 20_000;
        let created = [
            (day - 1, 5, CommentStatus::Approved),
            (day, 0, CommentStatus::Approved),
            (day, 1, CommentStatus::Pending),
            (day, 2, CommentStatus::Approved),
            (day + 1, DAY_MS - 1, CommentStatus::Spam),
        ];
        for (n, (on, at, status)) in created.into_iter().enumerate() {
            let mut new = comment(article.id, n, format!("comment {n}"), status);
            new.created_at = on * DAY_MS + at;
            insert(conn, &new).unwrap();
        }

        let mut rows = created_per_day(conn, day * DAY_MS).unwrap();
        rows.sort_by_key(|(d, s, _)| (*d, s.as_str()));
        assert_eq!(
            rows,
            vec![
                (day, CommentStatus::Approved, 2),
                (day, CommentStatus::Pending, 1),
                (day + 1, CommentStatus::Spam, 1),
            ]
        );

        #[derive(QueryableByName)]
        struct PlanRow {
            #[diesel(sql_type = Text)]
            detail: String,
        }
        let sql = created_per_day_sql(&(day * DAY_MS).to_string());
        let plan: Vec<PlanRow> = diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}"))
            .load(conn)
            .unwrap();
        let plan: Vec<String> = plan.into_iter().map(|row| row.detail).collect();
        assert!(
            plan.iter()
                .any(|step| step.contains("USING COVERING INDEX comments_created_at")),
            "{plan:?}"
        );
    }
}
