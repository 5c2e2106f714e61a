//! Imports and exports: where imported comments came from
//! (`import_sources`), inserting a comment with every column given,
//! the site's id, one transaction for a whole run, and the pages an export
//! reads.

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::prelude::*;

use super::bans::{Ban, NewBan};
use super::models::{Article, Comment, NewArticle, User};
use super::schema::{articles, bans, comments, import_sources, spam_words, users};
use super::{AnyConnection, Backend};
use crate::domain::{ArticleId, CommentId, CommentStatus, UserId, Verdict};

/// A comment with every column an import or a restore sets, its id
/// included. `None` is written as NULL rather than left to the column's
/// default, which lets SQLite take many rows in one statement.
#[derive(Debug, Insertable)]
#[diesel(table_name = comments, treat_none_as_default_value = false)]
pub struct ImportedComment<'a> {
    pub id: CommentId,
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

/// Rows written per statement: 22 columns each stays far below either
/// database's limit of bound values (32,766 on SQLite, 65,535 on
/// PostgreSQL).
pub const ROWS_PER_STATEMENT: usize = 256;

/// Inserts comments, many to a statement.
pub fn insert_comments(conn: &mut AnyConnection, rows: &[ImportedComment<'_>]) -> QueryResult<()> {
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        crate::per_backend!(&mut *conn, |c| diesel::insert_into(comments::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(())
}

/// Ids for comments about to be written, taken before they are written,
/// so a batch's replies can name their parents in the same statement.
/// On SQLite the import holds the write lock, and the ids follow the
/// largest one ever used (the table is `AUTOINCREMENT`); on PostgreSQL
/// they come from the table's sequence, a batch's worth per round trip,
/// like those of any other writer (an import that ends leaves the rest of
/// its last batch unused).
#[derive(Default)]
pub struct CommentIds {
    /// SQLite: the next id, once known.
    next: Option<i64>,
    /// PostgreSQL: ids taken from the sequence and not used yet.
    taken: std::collections::VecDeque<CommentId>,
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
}

impl CommentIds {
    pub fn next(&mut self, conn: &mut AnyConnection) -> QueryResult<CommentId> {
        match conn.backend() {
            Backend::Sqlite => {
                let next = match self.next {
                    Some(next) => next,
                    None => {
                        diesel::sql_query(
                            "SELECT MAX(COALESCE((SELECT MAX(id) FROM comments), 0), \
                             COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'comments'), 0)) \
                             + 1 AS id",
                        )
                        .get_result::<Id>(conn)?
                        .id
                    }
                };
                self.next = Some(next + 1);
                Ok(CommentId(next))
            }
            Backend::Postgres => {
                if self.taken.is_empty() {
                    let ids: Vec<Id> = diesel::sql_query(
                        "SELECT nextval(pg_get_serial_sequence('comments', 'id')) AS id \
                         FROM generate_series(1, $1)",
                    )
                    .bind::<diesel::sql_types::BigInt, _>(ROWS_PER_STATEMENT as i64)
                    .load(conn)?;
                    self.taken
                        .extend(ids.into_iter().map(|row| CommentId(row.id)));
                }
                self.taken
                    .pop_front()
                    .ok_or(diesel::result::Error::NotFound)
            }
        }
    }
}

/// What earlier imports of these records of `source` left: by source id,
/// the comment (`None` when it was removed since). Records never imported
/// are not in the answer.
pub fn find_sources(
    conn: &mut AnyConnection,
    source: &str,
    source_ids: &[&str],
) -> QueryResult<Vec<(String, Option<CommentId>)>> {
    let mut found = Vec::new();
    for chunk in source_ids.chunks(ROWS_PER_STATEMENT * 4) {
        found.extend(
            import_sources::table
                .filter(import_sources::source.eq(source))
                .filter(import_sources::source_id.eq_any(chunk))
                .select((import_sources::source_id, import_sources::comment_id))
                .load::<(String, Option<CommentId>)>(conn)?,
        );
    }
    Ok(found)
}

/// The articles of these comments, for those that exist.
pub fn articles_of(
    conn: &mut AnyConnection,
    ids: &[CommentId],
) -> QueryResult<Vec<(CommentId, ArticleId)>> {
    let mut found = Vec::new();
    for chunk in ids.chunks(ROWS_PER_STATEMENT * 4) {
        found.extend(
            comments::table
                .filter(comments::id.eq_any(chunk))
                .select((comments::id, comments::article_id))
                .load::<(CommentId, ArticleId)>(conn)?,
        );
    }
    Ok(found)
}

/// Where a comment came from: one row of `import_sources`.
#[derive(Debug, Insertable)]
#[diesel(table_name = import_sources, treat_none_as_default_value = false)]
pub struct ImportSource<'a> {
    pub source: &'a str,
    pub source_id: &'a str,
    pub comment_id: Option<CommentId>,
    pub imported_at: i64,
}

/// Records where comments came from, many to a statement; a pair
/// recorded already is left as it is.
pub fn record_sources(conn: &mut AnyConnection, rows: &[ImportSource<'_>]) -> QueryResult<()> {
    for chunk in rows.chunks(ROWS_PER_STATEMENT * 4) {
        crate::per_backend!(&mut *conn, |c| diesel::insert_into(import_sources::table)
            .values(chunk)
            .on_conflict_do_nothing()
            .execute(c))?;
    }
    Ok(())
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

/// PostgreSQL: brings the planner's statistics of `import_sources` up to
/// date, the import's own uncommitted rows included. Planned from
/// statistics taken when the table was nearly empty, the batches' lookup
/// read every row of the import's source instead of looking its ids up in
/// the primary key, and grew slower with every batch. (The lookup of
/// comments by id takes the primary key whatever the statistics say, and
/// SQLite's planner takes it for both.)
pub fn refresh_statistics(conn: &mut AnyConnection) -> QueryResult<()> {
    if conn.backend() == Backend::Postgres {
        diesel::sql_query("ANALYZE import_sources").execute(conn)?;
    }
    Ok(())
}

/// Pages SQLite keeps in memory on an import's connection (64 MiB): a
/// transaction larger than its cache writes its pages to the WAL and reads
/// them back, which the default 2 MiB made most of an import's time.
const BULK_CACHE_KIB: i64 = 64 * 1024;

/// Sets up an import's own connection for one large transaction.
pub fn prepare_bulk(conn: &mut AnyConnection) -> QueryResult<()> {
    match conn.backend() {
        Backend::Sqlite => set_cache_kib(conn, BULK_CACHE_KIB)?,
        // The lookups of each batch are prepared statements, and after a
        // few runs PostgreSQL plans them once for all: when the import
        // started, with `import_sources` nearly empty, by reading it
        // whole, which it then did for every batch as the table grew.
        // Planned for each run, they use the primary key.
        Backend::Postgres => {
            diesel::sql_query("SET plan_cache_mode = force_custom_plan").execute(conn)?;
        }
    }
    Ok(())
}

/// SQLite: the connection's page cache, in KiB.
fn set_cache_kib(conn: &mut AnyConnection, kib: i64) -> QueryResult<()> {
    diesel::sql_query(format!("PRAGMA cache_size = -{kib}")).execute(conn)?;
    Ok(())
}

/// What SQLite keeps up to date row by row, done in bulk during a large
/// import instead: the search index (migration 0007), the commenter
/// statistics (migration 0004) and, once the run proves large, the
/// `comments` table's secondary indexes. Their triggers and indexes are
/// dropped inside the import's transaction and made again at the end from
/// their own stored SQL. Meanwhile each batch of rows is indexed for
/// search by one statement, with the index's merging paused (the writer
/// does it while the reader prepares the next batch); the statistics of
/// the new rows are counted in one grouped statement at the end, and each
/// index is built by one sort. All of it commits or rolls back with the
/// import. Nothing is put off on PostgreSQL, where dropping a trigger or
/// an index would lock the table against the server's readers for the
/// whole import.
pub struct Deferred {
    /// The comments written before the import end at this id: every row
    /// the import writes is above it (SQLite hands out ids past the
    /// largest ever used, and a restore starts from an empty database).
    before: i64,
    /// How many comments the table held before the import.
    held: u64,
    /// The search index's insert trigger, to create again.
    search: Option<String>,
    /// The statistics' insert trigger, to create again.
    stats: Option<String>,
    /// The dropped indexes' `CREATE INDEX` statements.
    indexes: Vec<String>,
    dropped_indexes: bool,
}

#[derive(QueryableByName)]
struct Sql {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    sql: String,
}

impl Deferred {
    const SEARCH_TRIGGER: &'static str = "comments_search_insert";
    const STATS_TRIGGER: &'static str = "commenter_stats_insert";

    /// Drops the two insert triggers (SQLite).
    pub fn start(conn: &mut AnyConnection) -> QueryResult<Deferred> {
        let mut deferred = Deferred {
            before: 0,
            held: 0,
            search: None,
            stats: None,
            indexes: Vec::new(),
            dropped_indexes: false,
        };
        if conn.backend() != Backend::Sqlite {
            return Ok(deferred);
        }
        deferred.before = comments::table
            .select(diesel::dsl::max(comments::id))
            .first::<Option<CommentId>>(conn)?
            .map_or(0, |id| id.0);
        deferred.held = comments::table
            .count()
            .get_result::<i64>(conn)?
            .unsigned_abs();
        for trigger in Self::schema(conn, "trigger")? {
            let slot = match trigger.name.as_str() {
                Self::SEARCH_TRIGGER => &mut deferred.search,
                Self::STATS_TRIGGER => &mut deferred.stats,
                _ => continue,
            };
            diesel::sql_query(format!("DROP TRIGGER {}", trigger.name)).execute(conn)?;
            *slot = Some(trigger.sql);
        }
        if deferred.search.is_some() {
            search_merging(conn, 0)?;
        }
        Ok(deferred)
    }

    /// Indexes these new comments for search, if the import took that on.
    pub fn index_for_search(&self, conn: &mut AnyConnection, ids: &[CommentId]) -> QueryResult<()> {
        if self.search.is_none() || ids.is_empty() {
            return Ok(());
        }
        let ids: Vec<String> = ids.iter().map(|id| id.0.to_string()).collect();
        diesel::sql_query(format!(
            "INSERT INTO comments_search (rowid, body, author_name, author_email, author_url) \
             SELECT id, body, author_name, author_email, author_url FROM comments \
             WHERE id IN ({})",
            ids.join(",")
        ))
        .execute(conn)?;
        Ok(())
    }

    /// The `comments` table's triggers or indexes (those made by a
    /// statement: not the primary key's).
    fn schema(conn: &mut AnyConnection, kind: &str) -> QueryResult<Vec<Sql>> {
        diesel::sql_query(
            "SELECT name, sql FROM sqlite_master \
             WHERE type = ? AND tbl_name = 'comments' AND sql IS NOT NULL ORDER BY name",
        )
        .bind::<diesel::sql_types::Text, _>(kind)
        .load(conn)
    }

    /// Whether the secondary indexes are worth dropping now that `written`
    /// rows were written: once the import has written as many rows as the
    /// table held before it (and a good many), building every index anew
    /// at the end costs less than keeping it row by row.
    pub fn indexes_worth_dropping(&self, conn: &AnyConnection, written: u64) -> bool {
        conn.backend() == Backend::Sqlite
            && !self.dropped_indexes
            && written >= BULK_INDEX_MIN_ROWS
            && written >= self.held
    }

    /// Drops the secondary indexes of `comments`, to build at the end.
    pub fn drop_indexes(&mut self, conn: &mut AnyConnection) -> QueryResult<()> {
        for index in Self::schema(conn, "index")? {
            diesel::sql_query(format!("DROP INDEX {}", index.name)).execute(conn)?;
            self.indexes.push(index.sql);
        }
        self.dropped_indexes = true;
        Ok(())
    }

    /// Builds what was put off, and creates the triggers again.
    pub fn finish(self, conn: &mut AnyConnection, mut stage: impl FnMut(&str)) -> QueryResult<()> {
        if conn.backend() != Backend::Sqlite {
            return Ok(());
        }
        // Building an index and counting the statistics each sort what
        // they read, holding as much in memory as the page cache may: with
        // the import's 64 MiB that doubled its peak, so they get a quarter.
        set_cache_kib(conn, BULK_CACHE_KIB / 4)?;
        if !self.indexes.is_empty() {
            stage("building the indexes");
            for sql in &self.indexes {
                diesel::sql_query(sql).execute(conn)?;
            }
        }
        if let Some(trigger) = self.stats {
            stage("counting the commenters' comments");
            diesel::sql_query(COUNT_NEW_COMMENTERS)
                .bind::<diesel::sql_types::BigInt, _>(self.before)
                .execute(conn)?;
            diesel::sql_query(trigger).execute(conn)?;
        }
        set_cache_kib(conn, BULK_CACHE_KIB)?;
        if let Some(trigger) = self.search {
            // FTS5's default, which migration 0007 left as it is.
            search_merging(conn, 4)?;
            diesel::sql_query(trigger).execute(conn)?;
        }
        Ok(())
    }
}

/// How much merging of its segments FTS5 does as rows are written
/// (`automerge`; 0 pauses it).
fn search_merging(conn: &mut AnyConnection, level: i64) -> QueryResult<()> {
    diesel::sql_query(format!(
        "INSERT INTO comments_search (comments_search, rank) VALUES ('automerge', {level})"
    ))
    .execute(conn)?;
    Ok(())
}

/// Below this many rows an import keeps the indexes as it goes: building
/// eleven indexes is not worth it for a small file.
const BULK_INDEX_MIN_ROWS: u64 = 20_000;

/// What the statistics' insert trigger (migration 0004) would have added
/// for every comment above `?`, added in one statement.
const COUNT_NEW_COMMENTERS: &str = "\
INSERT INTO commenter_stats (author_key, approved, pending, spam, trash, deleted, first_seen, last_seen)
SELECT CASE WHEN user_id IS NOT NULL THEN 'u:' || user_id ELSE 'e:' || author_email END,
       SUM(status = 'approved'), SUM(status = 'pending'), SUM(status = 'spam'),
       SUM(status = 'trash'), SUM(status = 'deleted'), MIN(created_at), MAX(created_at)
FROM comments
WHERE id > ? AND (user_id IS NOT NULL OR author_email IS NOT NULL)
GROUP BY 1
ON CONFLICT (author_key) DO UPDATE SET
    approved = approved + excluded.approved,
    pending = pending + excluded.pending,
    spam = spam + excluded.spam,
    trash = trash + excluded.trash,
    deleted = deleted + excluded.deleted,
    first_seen = MIN(first_seen, excluded.first_seen),
    last_seen = MAX(last_seen, excluded.last_seen)";

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

/// An article with its id given (a restore).
#[derive(Debug, Insertable)]
#[diesel(table_name = articles)]
pub struct RestoredArticle<'a> {
    pub id: ArticleId,
    #[diesel(embed)]
    pub article: NewArticle<'a>,
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

/// A ban with its id (a restore) and whether it was lifted; `id: None`
/// lets the database choose (a merge).
#[derive(Debug, Insertable)]
#[diesel(table_name = bans)]
pub struct RestoredBan<'a> {
    pub id: Option<crate::domain::BanId>,
    #[diesel(embed)]
    pub ban: NewBan<'a>,
    pub lifted_at: Option<i64>,
    pub lifted_by: Option<UserId>,
}

/// Inserts the ban unless one of the same kind, value and time is stored;
/// whether it did.
pub fn insert_ban(conn: &mut AnyConnection, new: &RestoredBan<'_>) -> QueryResult<bool> {
    let exists: bool = diesel::select(diesel::dsl::exists(
        bans::table
            .filter(bans::kind.eq(new.ban.kind))
            .filter(bans::value.eq(new.ban.value))
            .filter(bans::created_at.eq(new.ban.created_at)),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::comments::insert;
    use crate::db::testing::{self, comment};

    /// The `comments` table's indexes and triggers, as made.
    fn schema(conn: &mut AnyConnection) -> Vec<(String, String)> {
        #[derive(QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Text)]
            name: String,
            #[diesel(sql_type = diesel::sql_types::Text)]
            sql: String,
        }
        diesel::sql_query(
            "SELECT name, sql FROM sqlite_master \
             WHERE tbl_name = 'comments' AND sql IS NOT NULL ORDER BY name",
        )
        .load::<Row>(conn)
        .unwrap()
        .into_iter()
        .map(|r| (r.name, r.sql))
        .collect()
    }

    /// A commenter's key, approved and pending counts, and first comment.
    type Counts = Vec<(String, i64, i64, i64)>;

    /// The commenters' counts: as kept, and as the migration works them
    /// out from the comments.
    fn counts(conn: &mut AnyConnection) -> (Counts, Counts) {
        use crate::db::schema::commenter_stats as s;
        #[derive(QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Text)]
            key: String,
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            approved: i64,
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            pending: i64,
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            first: i64,
        }
        let kept = s::table
            .order(s::author_key)
            .select((s::author_key, s::approved, s::pending, s::first_seen))
            .load(conn)
            .unwrap();
        let counted = diesel::sql_query(
            "SELECT 'e:' || author_email AS key, SUM(status = 'approved') AS approved, \
             SUM(status = 'pending') AS pending, MIN(created_at) AS first \
             FROM comments GROUP BY 1 ORDER BY 1",
        )
        .load::<Row>(conn)
        .unwrap()
        .into_iter()
        .map(|r| (r.key, r.approved, r.pending, r.first))
        .collect();
        (kept, counted)
    }

    #[test]
    fn a_large_import_builds_the_indexes_counts_and_search_it_put_off_as_they_were() {
        let (_dir, mut conn) = testing::database();
        let conn = &mut conn;
        let article = testing::article(conn, "bulk");
        for n in 0..3 {
            let body = format!("held before {n}");
            insert(conn, &comment(article.id, n, body, CommentStatus::Approved)).unwrap();
        }
        let before = schema(conn);
        assert!(before.len() > 10, "{before:?}");

        let mut deferred = Deferred::start(conn).unwrap();
        assert!(schema(conn)
            .iter()
            .all(|(name, _)| name != "commenter_stats_insert" && name != "comments_search_insert"));
        let mut ids = CommentIds::default();
        let mut written = 0u64;
        let bodies: Vec<String> = (0..BULK_INDEX_MIN_ROWS + 10)
            .map(|n| format!("bulk text {n}"))
            .collect();
        let emails: Vec<String> = (0..50).map(|n| format!("a{n}@example.com")).collect();
        for chunk in bodies.chunks(1000) {
            assert_eq!(
                deferred.indexes_worth_dropping(conn, written),
                written >= BULK_INDEX_MIN_ROWS,
                "after {written} rows"
            );
            if deferred.indexes_worth_dropping(conn, written) {
                deferred.drop_indexes(conn).unwrap();
                assert!(schema(conn)
                    .iter()
                    .all(|(_, sql)| !sql.starts_with("CREATE INDEX")));
            }
            let rows: Vec<ImportedComment> = chunk
                .iter()
                .map(|body| {
                    let id = ids.next(conn).unwrap();
                    ImportedComment {
                        id,
                        article_id: article.id,
                        parent_id: None,
                        user_id: None,
                        author_name: "Bulk",
                        author_email: Some(&emails[id.0 as usize % emails.len()]),
                        author_url: None,
                        body,
                        html: body,
                        status: if id.0 % 3 == 0 {
                            CommentStatus::Pending
                        } else {
                            CommentStatus::Approved
                        },
                        ip: None,
                        user_agent: None,
                        referrer: None,
                        created_at: id.0,
                        edited_at: None,
                        status_changed_at: 0,
                        version: 1,
                        spam_score: None,
                        spam_report: None,
                        verdict: None,
                        learned_text: None,
                        fingerprint: None,
                    }
                })
                .collect();
            insert_comments(conn, &rows).unwrap();
            let ids: Vec<CommentId> = rows.iter().map(|row| row.id).collect();
            deferred.index_for_search(conn, &ids).unwrap();
            written += rows.len() as u64;
        }
        assert!(
            !deferred.indexes_worth_dropping(conn, written),
            "dropped once"
        );
        let mut stages = Vec::new();
        deferred
            .finish(conn, |stage| stages.push(stage.to_string()))
            .unwrap();

        assert_eq!(
            stages,
            ["building the indexes", "counting the commenters' comments"]
        );
        assert_eq!(schema(conn), before, "every index and trigger is back");
        let (kept, counted) = counts(conn);
        assert_eq!(kept, counted);
        assert_eq!(kept.len(), 50);
        #[derive(QueryableByName)]
        struct Found {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        // The comments the index finds holding every trigram of the text,
        // and holding the text.
        let found = |conn: &mut AnyConnection, text: &str| {
            let trigrams = crate::db::queue::trigram_query(Backend::Sqlite, text).unwrap();
            diesel::sql_query(format!(
                "SELECT COUNT(*) AS n FROM comments WHERE id IN \
                 (SELECT rowid FROM comments_search WHERE comments_search MATCH ?) \
                 AND body LIKE '%{text}%'"
            ))
            .bind::<diesel::sql_types::Text, _>(trigrams)
            .get_result::<Found>(conn)
            .unwrap()
            .n
        };
        assert_eq!(found(conn, "bulk text 20009"), 1);
        assert_eq!(found(conn, "held before"), 3);
        diesel::sql_query(
            "INSERT INTO comments_search (comments_search) VALUES ('integrity-check')",
        )
        .execute(conn)
        .unwrap();
        // The triggers keep what comes next as before.
        insert(
            conn,
            &comment(
                article.id,
                7,
                "after the import".into(),
                CommentStatus::Pending,
            ),
        )
        .unwrap();
        assert_eq!(found(conn, "after the import"), 1);
        let (kept, counted) = counts(conn);
        assert_eq!(kept, counted);
    }
}
