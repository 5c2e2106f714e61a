//! Votes on comments (likes and dislikes): one per voter and comment.

use std::collections::HashMap;

use diesel::prelude::*;

use super::schema::{comments, votes};
use super::AnyConnection;
use crate::domain::{ArticleId, CommentId};

/// A comment's likes and dislikes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub likes: i64,
    pub dislikes: i64,
}

impl Tally {
    /// Likes minus dislikes, what Isso sorts by (`upvotes`).
    pub fn karma(&self) -> i64 {
        self.likes - self.dislikes
    }
}

/// Stores a vote (`value` 1 or -1) unless this voter voted on this comment
/// already; returns whether it was stored.
pub fn insert(
    conn: &mut AnyConnection,
    comment_id: CommentId,
    voter: &str,
    value: i32,
    now: i64,
) -> QueryResult<bool> {
    let row = (
        votes::comment_id.eq(comment_id),
        votes::voter.eq(voter),
        votes::value.eq(value),
        votes::created_at.eq(now),
    );
    let stored = crate::per_backend!(conn, |c| diesel::insert_into(votes::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(stored == 1)
}

/// The tallies of these comments; a comment without votes is absent.
pub fn tallies(
    conn: &mut AnyConnection,
    ids: &[CommentId],
) -> QueryResult<HashMap<CommentId, Tally>> {
    let rows: Vec<(CommentId, i32, i64)> = votes::table
        .filter(votes::comment_id.eq_any(ids))
        .group_by((votes::comment_id, votes::value))
        .select((votes::comment_id, votes::value, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(collect(rows))
}

/// The tallies of every comment of an article that has votes.
pub fn tallies_of_article(
    conn: &mut AnyConnection,
    article_id: ArticleId,
) -> QueryResult<HashMap<CommentId, Tally>> {
    let rows: Vec<(CommentId, i32, i64)> = votes::table
        .inner_join(comments::table)
        .filter(comments::article_id.eq(article_id))
        .group_by((votes::comment_id, votes::value))
        .select((votes::comment_id, votes::value, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(collect(rows))
}

fn collect(rows: Vec<(CommentId, i32, i64)>) -> HashMap<CommentId, Tally> {
    let mut tallies: HashMap<CommentId, Tally> = HashMap::new();
    for (id, value, count) in rows {
        let tally = tallies.entry(id).or_default();
        if value > 0 {
            tally.likes += count;
        } else {
            tally.dislikes += count;
        }
    }
    tallies
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::models::NewArticle;
    use crate::db::testing;
    use crate::domain::CommentStatus;

    #[test]
    fn one_vote_per_voter_and_comment_counted_by_kind() {
        let (_dir, mut conn) = testing::database();
        let conn = &mut conn;
        let article = crate::db::articles::insert(
            conn,
            &NewArticle {
                key: "a",
                title: None,
                url: None,
                comments_open: true,
                created_at: 0,
                updated_at: 0,
            },
        )
        .unwrap();
        let first = crate::db::comments::insert(
            conn,
            &testing::comment(article.id, 1, "one".into(), CommentStatus::Approved),
        )
        .unwrap();
        let second = crate::db::comments::insert(
            conn,
            &testing::comment(article.id, 2, "two".into(), CommentStatus::Approved),
        )
        .unwrap();
        assert!(insert(conn, first.id, "ip:a", 1, 5).unwrap());
        assert!(
            !insert(conn, first.id, "ip:a", -1, 6).unwrap(),
            "second vote"
        );
        assert!(insert(conn, first.id, "ip:b", -1, 7).unwrap());
        assert!(insert(conn, first.id, "u:3", 1, 8).unwrap());
        assert!(insert(conn, second.id, "ip:a", -1, 9).unwrap());
        let tallies = tallies(conn, &[first.id, second.id]).unwrap();
        assert_eq!(
            tallies[&first.id],
            Tally {
                likes: 2,
                dislikes: 1
            }
        );
        assert_eq!(tallies[&second.id].karma(), -1);
        assert_eq!(tallies_of_article(conn, article.id).unwrap(), tallies);
    }
}
