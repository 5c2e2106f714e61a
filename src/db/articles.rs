//! Articles: the pages comments belong to.

use diesel::prelude::*;

use super::models::{Article, ArticleUpdate, NewArticle};
use super::schema::{articles, comments};
use super::AnyConnection;
use crate::domain::{ArticleId, CommentStatus};

pub fn find_by_key(conn: &mut AnyConnection, key: &str) -> QueryResult<Option<Article>> {
    articles::table
        .filter(articles::key.eq(key))
        .select(Article::as_select())
        .first(conn)
        .optional()
}

pub fn find(conn: &mut AnyConnection, id: ArticleId) -> QueryResult<Option<Article>> {
    articles::table
        .find(id)
        .select(Article::as_select())
        .first(conn)
        .optional()
}

pub fn insert(conn: &mut AnyConnection, new: &NewArticle<'_>) -> QueryResult<Article> {
    diesel::insert_into(articles::table)
        .values(new)
        .get_result::<Article>(conn)
}

/// Inserts the article unless one with its key exists, and returns the row
/// either way. Safe against a concurrent insert of the same key: the losing
/// insert rolls back to its savepoint and the winner's row is read.
pub fn find_or_insert(
    conn: &mut AnyConnection,
    new: &NewArticle<'_>,
) -> QueryResult<(Article, bool)> {
    if let Some(found) = find_by_key(conn, new.key)? {
        return Ok((found, false));
    }
    match conn.transaction(|c| insert(c, new)) {
        Ok(article) => Ok((article, true)),
        Err(e) if super::is_unique_violation(&e) => {
            find_by_key(conn, new.key)?.map(|a| (a, false)).ok_or(e)
        }
        Err(e) => Err(e),
    }
}

pub fn update(
    conn: &mut AnyConnection,
    id: ArticleId,
    changes: &ArticleUpdate,
) -> QueryResult<Article> {
    diesel::update(articles::table.find(id))
        .set(changes)
        .get_result::<Article>(conn)
}

/// Approved-comment counts for the articles with these keys. Keys with no
/// article are absent from the answer.
pub fn approved_counts(
    conn: &mut AnyConnection,
    keys: &[String],
) -> QueryResult<Vec<(String, i64)>> {
    articles::table
        .left_join(
            comments::table.on(comments::article_id
                .eq(articles::id)
                .and(comments::status.eq(CommentStatus::Approved))),
        )
        .filter(articles::key.eq_any(keys))
        .group_by(articles::key)
        .select((articles::key, diesel::dsl::count(comments::id.nullable())))
        .load(conn)
}

pub fn approved_count(conn: &mut AnyConnection, article_id: ArticleId) -> QueryResult<i64> {
    comments::table
        .filter(comments::article_id.eq(article_id))
        .filter(comments::status.eq(CommentStatus::Approved))
        .count()
        .get_result(conn)
}

pub fn find_many(conn: &mut AnyConnection, ids: &[ArticleId]) -> QueryResult<Vec<Article>> {
    articles::table
        .filter(articles::id.eq_any(ids))
        .select(Article::as_select())
        .load(conn)
}
