//! Imports and exports: where imported comments came from
//! (`import_sources`), inserting a comment with every column given,
//! the site's id, one transaction for a whole run, and the pages an export
//! reads.

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::prelude::*;

use super::models::{Article, Comment, User};
use super::schema::{articles, comments, import_sources, spam_words, users};
use super::{AnyConnection, Backend};
use crate::domain::{ArticleId, CommentId, CommentStatus, UserId, Verdict};

/// A comment with every column an import or a restore may set. `id:
/// None` lets the database choose.
#[derive(Debug, Insertable)]
#[diesel(table_name = comments)]
pub struct ImportedComment<'a> {
    pub id: Option<CommentId>,
    pub article_id: ArticleId,
    pub parent_id: Option<CommentId>,
    pub user_id: Option<UserId>,
    pub author_name: &'a str,
    pub author_email: Option<&'a str>,
    pub author_url: Option<&'a str>,
    pub body: &'a str,
    pub html: &'a str,
    pub status: CommentStatus,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub referrer: Option<&'a str>,
    pub created_at: i64,
    pub edited_at: Option<i64>,
    pub status_changed_at: i64,
    pub version: i64,
    pub spam_score: Option<f64>,
    pub spam_report: Option<&'a str>,
    pub verdict: Option<Verdict>,
    pub learned_text: Option<&'a str>,
    pub fingerprint: Option<&'a str>,
}

pub fn insert_comment(
    conn: &mut AnyConnection,
    new: &ImportedComment<'_>,
) -> QueryResult<CommentId> {
    diesel::insert_into(comments::table)
        .values(new)
        .returning(comments::id)
        .get_result(conn)
}

/// What an earlier import of `(source, source_id)` left: `None` when it
/// was never imported, `Some(None)` when its comment was removed since.
pub fn find_source(
    conn: &mut AnyConnection,
    source: &str,
    source_id: &str,
) -> QueryResult<Option<Option<CommentId>>> {
    import_sources::table
        .find((source, source_id))
        .select(import_sources::comment_id)
        .first::<Option<CommentId>>(conn)
        .optional()
}

/// Records where a comment came from; a pair recorded already is left as
/// it is.
pub fn record_source(
    conn: &mut AnyConnection,
    source: &str,
    source_id: &str,
    comment: CommentId,
    now: i64,
) -> QueryResult<()> {
    let row = (
        import_sources::source.eq(source),
        import_sources::source_id.eq(source_id),
        import_sources::comment_id.eq(Some(comment)),
        import_sources::imported_at.eq(now),
    );
    crate::per_backend!(conn, |c| diesel::insert_into(import_sources::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(())
}

/// The sources of these comments, as `(comment, source, source_id)`.
pub fn sources_of(
    conn: &mut AnyConnection,
    ids: &[CommentId],
) -> QueryResult<Vec<(Option<CommentId>, String, String)>> {
    import_sources::table
        .filter(import_sources::comment_id.eq_any(ids.iter().map(|id| Some(*id))))
        .order((import_sources::source, import_sources::source_id))
        .select((
            import_sources::comment_id,
            import_sources::source,
            import_sources::source_id,
        ))
        .load(conn)
}

pub fn comment_article(conn: &mut AnyConnection, id: CommentId) -> QueryResult<Option<ArticleId>> {
    comments::table
        .find(id)
        .select(comments::article_id)
        .first(conn)
        .optional()
}

pub fn set_parent(
    conn: &mut AnyConnection,
    id: CommentId,
    parent: CommentId,
) -> QueryResult<usize> {
    diesel::update(comments::table.find(id))
        .set(comments::parent_id.eq(Some(parent)))
        .execute(conn)
}

/// Whether the database holds nothing a restore could collide with: no
/// article, comment, account, ban or word-list entry.
pub fn is_empty(conn: &mut AnyConnection) -> QueryResult<bool> {
    use super::schema::bans;
    let any = |n: i64| n > 0;
    Ok(!(any(articles::table.count().get_result(conn)?)
        || any(comments::table.count().get_result(conn)?)
        || any(users::table.count().get_result(conn)?)
        || any(bans::table.count().get_result(conn)?)
        || any(spam_words::table.count().get_result(conn)?)))
}

/// After rows were inserted with their ids given: PostgreSQL's identity
/// sequences move past the largest id, so the next row the database
/// numbers does not collide. (SQLite numbers past the largest id anyway.)
pub fn sync_sequences(conn: &mut AnyConnection) -> QueryResult<()> {
    if conn.backend() != Backend::Postgres {
        return Ok(());
    }
    for table in ["articles", "comments", "users", "bans", "spam_words"] {
        diesel::sql_query(format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
             GREATEST((SELECT MAX(id) FROM {table}), 1), \
             (SELECT MAX(id) FROM {table}) IS NOT NULL)"
        ))
        .execute(conn)?;
    }
    Ok(())
}

/// The name this site's id is kept under in `server_keys` (not a secret:
/// it names the site in its exports, so an import knows its own records).
pub const SITE_ID: &str = "site_id";

pub fn set_site_id(conn: &mut AnyConnection, site: &str, now: i64) -> QueryResult<()> {
    use super::schema::server_keys;
    diesel::delete(server_keys::table.find(SITE_ID)).execute(conn)?;
    diesel::insert_into(server_keys::table)
        .values((
            server_keys::name.eq(SITE_ID),
            server_keys::value.eq(site),
            server_keys::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Runs `f` in one transaction and commits it if `f` says so (a dry run
/// says not), rolls it back otherwise or on error. On SQLite the write
/// lock is taken at the start (`BEGIN IMMEDIATE`), so the run never fails
/// half-way for want of it.
pub fn in_one_transaction<T, E>(
    conn: &mut AnyConnection,
    f: impl FnOnce(&mut AnyConnection) -> Result<(T, bool), E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    let begin = match conn.backend() {
        Backend::Sqlite => "BEGIN IMMEDIATE",
        Backend::Postgres => "BEGIN",
    };
    crate::per_backend!(&mut *conn, |c| {
        AnsiTransactionManager::begin_transaction_sql(c, begin)
    })?;
    let outcome = f(conn);
    let end = |commit: bool, conn: &mut AnyConnection| {
        crate::per_backend!(conn, |c| if commit {
            AnsiTransactionManager::commit_transaction(c)
        } else {
            AnsiTransactionManager::rollback_transaction(c)
        })
    };
    match outcome {
        Ok((value, true)) => match end(true, conn) {
            Ok(()) => Ok(value),
            Err(e) => {
                let _ = end(false, conn);
                Err(e.into())
            }
        },
        Ok((value, false)) => {
            end(false, conn)?;
            Ok(value)
        }
        Err(e) => {
            let _ = end(false, conn);
            Err(e)
        }
    }
}

/// A page of articles after `after`, by id.
pub fn articles_page(
    conn: &mut AnyConnection,
    after: i64,
    only: Option<ArticleId>,
    limit: i64,
) -> QueryResult<Vec<Article>> {
    let mut query = articles::table
        .filter(articles::id.gt(after))
        .order(articles::id.asc())
        .limit(limit)
        .select(Article::as_select())
        .into_boxed();
    if let Some(id) = only {
        query = query.filter(articles::id.eq(id));
    }
    query.load(conn)
}

/// A page of comments after `after`, by id (every status).
pub fn comments_page(
    conn: &mut AnyConnection,
    after: i64,
    only: Option<ArticleId>,
    limit: i64,
) -> QueryResult<Vec<Comment>> {
    let mut query = comments::table
        .filter(comments::id.gt(after))
        .order(comments::id.asc())
        .limit(limit)
        .select(Comment::as_select())
        .into_boxed();
    if let Some(id) = only {
        query = query.filter(comments::article_id.eq(id));
    }
    query.load(conn)
}

pub fn users_page(conn: &mut AnyConnection, after: i64, limit: i64) -> QueryResult<Vec<User>> {
    users::table
        .filter(users::id.gt(after))
        .order(users::id.asc())
        .limit(limit)
        .select(User::as_select())
        .load(conn)
}
