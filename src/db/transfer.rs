//! Imports and exports: where imported comments came from
//! (`import_sources`), inserting a comment with every column given,
//! the site's id, one transaction for a whole run, and the pages an export
//! reads.

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::prelude::*;

use super::bans::Ban;
use super::models::{Article, Comment, User};
use super::schema::{articles, bans, comments, import_sources, spam_words, users};
use super::{AnyConnection, Backend};
use crate::domain::{ArticleId, CommentId, CommentStatus, UserId, Verdict};

/// A comment with every column an import or a restore may set.
#[derive(Debug, Insertable)]
#[diesel(table_name = comments)]
pub struct ImportedComment<'a> {
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

/// Inserts a comment with the id given (a restore), or one the database
/// chooses. Two statements rather than an optional column, so each is
/// prepared once and reused for every comment.
pub fn insert_comment(
    conn: &mut AnyConnection,
    id: Option<CommentId>,
    new: &ImportedComment<'_>,
) -> QueryResult<CommentId> {
    match id {
        Some(id) => diesel::insert_into(comments::table)
            .values((comments::id.eq(id), new))
            .returning(comments::id)
            .get_result(conn),
        None => diesel::insert_into(comments::table)
            .values(new)
            .returning(comments::id)
            .get_result(conn),
    }
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

/// Pages SQLite keeps in memory on an import's connection (64 MiB): a
/// transaction larger than its cache writes its pages to the WAL and reads
/// them back, which the default 2 MiB made most of an import's time.
const BULK_CACHE_KIB: i64 = 64 * 1024;

/// Sets up an import's own connection for one large transaction.
pub fn prepare_bulk(conn: &mut AnyConnection) -> QueryResult<()> {
    if conn.backend() == Backend::Sqlite {
        diesel::sql_query(format!("PRAGMA cache_size = -{BULK_CACHE_KIB}")).execute(conn)?;
    }
    Ok(())
}

/// SQLite's search index of comments (migration 0007) during an import.
/// Kept up to date row by row, by the trigger on every insert, it took
/// more than half of an import's time; instead, inside the import's
/// transaction, the trigger is dropped, and the new rows are indexed in
/// one statement at the end, with the index's merging paused meanwhile,
/// before the trigger is created again from its own stored SQL. All of it
/// commits or rolls back with the import. Nothing to do on PostgreSQL,
/// whose trigram index is kept by the table itself.
pub struct SearchIndex {
    /// The trigger's `CREATE TRIGGER` statement, and the largest comment
    /// id before the import (every comment it writes is above it, or the
    /// database was empty).
    deferred: Option<(String, i64)>,
}

impl SearchIndex {
    const TRIGGER: &'static str = "comments_search_insert";

    pub fn defer(conn: &mut AnyConnection) -> QueryResult<SearchIndex> {
        #[derive(QueryableByName)]
        struct Sql {
            #[diesel(sql_type = diesel::sql_types::Text)]
            sql: String,
        }
        if conn.backend() != Backend::Sqlite {
            return Ok(SearchIndex { deferred: None });
        }
        let Some(trigger) =
            diesel::sql_query("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?")
                .bind::<diesel::sql_types::Text, _>(Self::TRIGGER)
                .get_result::<Sql>(conn)
                .optional()?
        else {
            return Ok(SearchIndex { deferred: None });
        };
        let before: Option<i64> = comments::table
            .select(diesel::dsl::max(comments::id))
            .first::<Option<CommentId>>(conn)?
            .map(|id| id.0);
        diesel::sql_query(format!("DROP TRIGGER {}", Self::TRIGGER)).execute(conn)?;
        Ok(SearchIndex {
            deferred: Some((trigger.sql, before.unwrap_or(0))),
        })
    }

    pub fn catch_up(self, conn: &mut AnyConnection) -> QueryResult<()> {
        let Some((trigger, before)) = self.deferred else {
            return Ok(());
        };
        let merges = |conn: &mut AnyConnection, level: i64| {
            diesel::sql_query(format!(
                "INSERT INTO comments_search (comments_search, rank) VALUES ('automerge', {level})"
            ))
            .execute(conn)
        };
        merges(conn, 0)?;
        diesel::sql_query(
            "INSERT INTO comments_search (rowid, body, author_name, author_email, author_url) \
             SELECT id, body, author_name, author_email, author_url FROM comments WHERE id > ?",
        )
        .bind::<diesel::sql_types::BigInt, _>(before)
        .execute(conn)?;
        // FTS5's default, which migration 0007 left as it is.
        merges(conn, 4)?;
        diesel::sql_query(trigger).execute(conn)?;
        Ok(())
    }
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
    run_in(conn, begin, f)
}

/// Runs `f` reading one consistent snapshot of the database (an export
/// taken while the server writes), and ends the transaction without
/// changing anything.
pub fn in_snapshot<T, E>(
    conn: &mut AnyConnection,
    f: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    let begin = match conn.backend() {
        // WAL: the snapshot is taken at the first read and kept.
        Backend::Sqlite => "BEGIN DEFERRED",
        Backend::Postgres => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
    };
    run_in(conn, begin, |conn| f(conn).map(|value| (value, false)))
}

fn run_in<T, E>(
    conn: &mut AnyConnection,
    begin: &str,
    f: impl FnOnce(&mut AnyConnection) -> Result<(T, bool), E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
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

/// This site's id (made on first use): names the site in its exports.
pub fn site_id(conn: &mut AnyConnection, now: i64) -> QueryResult<String> {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    super::keys::get_or_create(conn, SITE_ID, &hex::encode(bytes), now)
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

pub fn bans_page(conn: &mut AnyConnection, after: i64, limit: i64) -> QueryResult<Vec<Ban>> {
    bans::table
        .filter(bans::id.gt(after))
        .order(bans::id.asc())
        .limit(limit)
        .select(Ban::as_select())
        .load(conn)
}

/// An article with its id and times given (a restore).
#[derive(Debug, Insertable)]
#[diesel(table_name = articles)]
pub struct RestoredArticle<'a> {
    pub id: ArticleId,
    pub key: &'a str,
    pub title: Option<&'a str>,
    pub url: Option<&'a str>,
    pub comments_open: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

pub fn insert_article(conn: &mut AnyConnection, new: &RestoredArticle<'_>) -> QueryResult<()> {
    diesel::insert_into(articles::table)
        .values(new)
        .execute(conn)
        .map(|_| ())
}

/// An account with every column given; `id: None` lets the database
/// choose (a merge).
#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct RestoredUser<'a> {
    pub id: Option<UserId>,
    pub email: &'a str,
    pub name: &'a str,
    pub password_hash: &'a str,
    pub role: crate::domain::Role,
    pub trusted: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

pub fn insert_user(conn: &mut AnyConnection, new: &RestoredUser<'_>) -> QueryResult<UserId> {
    diesel::insert_into(users::table)
        .values(new)
        .returning(users::id)
        .get_result(conn)
}

#[derive(Debug, Insertable)]
#[diesel(table_name = bans)]
pub struct RestoredBan<'a> {
    pub id: Option<crate::domain::BanId>,
    pub kind: crate::domain::BanKind,
    pub value: &'a str,
    pub shadow: bool,
    pub reason: Option<&'a str>,
    pub expires_at: Option<i64>,
    pub created_by: Option<UserId>,
    pub created_at: i64,
    pub lifted_at: Option<i64>,
    pub lifted_by: Option<UserId>,
}

/// Inserts the ban unless one of the same kind, value and time is stored;
/// whether it did.
pub fn insert_ban(conn: &mut AnyConnection, new: &RestoredBan<'_>) -> QueryResult<bool> {
    let exists: bool = diesel::select(diesel::dsl::exists(
        bans::table
            .filter(bans::kind.eq(new.kind))
            .filter(bans::value.eq(new.value))
            .filter(bans::created_at.eq(new.created_at)),
    ))
    .get_result(conn)?;
    if exists {
        return Ok(false);
    }
    diesel::insert_into(bans::table).values(new).execute(conn)?;
    Ok(true)
}

#[derive(Debug, Insertable)]
#[diesel(table_name = spam_words)]
pub struct RestoredWord<'a> {
    pub id: Option<crate::domain::WordId>,
    pub list: crate::domain::WordList,
    pub kind: crate::domain::WordKind,
    pub pattern: &'a str,
    pub note: Option<&'a str>,
    pub created_at: i64,
}

/// Inserts the entry unless the list holds it already; whether it did.
pub fn insert_word(conn: &mut AnyConnection, new: &RestoredWord<'_>) -> QueryResult<bool> {
    let inserted = crate::per_backend!(conn, |c| diesel::insert_into(spam_words::table)
        .values(new)
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(inserted > 0)
}

/// Whether a comment with this id is stored.
pub fn comment_exists(conn: &mut AnyConnection, id: CommentId) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(comments::table.find(id))).get_result(conn)
}
