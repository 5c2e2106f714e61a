//! Persistence: the connection pool, the write path, migrations, the schema,
//! row types and the queries, grouped by table.
//!
//! Every call here blocks, so [`Db::read`] and [`Db::write`] run it on
//! a fixed set of database threads, one per pooled connection (`workers.rs`),
//! never on an HTTP worker.

pub mod articles;
pub mod backup;
pub mod bans;
pub mod comments;
mod connection;
pub mod erasure;
pub mod keys;
pub mod models;
pub mod moderation;
pub mod outbox;
pub mod queue;
pub mod ratelimit;
pub mod schema;
pub mod spam;
pub mod stats;
#[cfg(test)]
mod testing;
pub mod transfer;
pub mod users;
pub mod votes;
mod workers;
mod writer;

use std::sync::Arc;
use std::time::Duration;

use diesel::r2d2::Pool;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::{Connection, RunQueryDsl};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub use crate::config::DatabaseUrl;
pub use connection::{connect_postgres, AnyConnection, Backend, ConnectionManager};

use crate::config::DatabaseSettings;
use workers::Workers;
use writer::Writer;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// What made a database call fail, kept for the log. Shared, so a batch
/// commit's failure can be handed to every caller in the batch.
pub type Cause = Arc<dyn std::error::Error + Send + Sync>;

/// Errors of the persistence layer. Services wrap it; `error.rs` maps
/// `Unavailable` to 503 and everything else to an opaque 500, and logs the
/// cause chain.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DbError {
    /// The database cannot be reached, is locked for too long, or the pool
    /// has no free connection in time.
    #[error("database unavailable: {what}")]
    Unavailable {
        what: String,
        #[source]
        cause: Option<Cause>,
    },
    /// A query failed for a reason that is not about availability.
    #[error("database query failed")]
    Query(#[source] Cause),
    /// A blocking task did not complete (it panicked or was cancelled).
    #[error("database task failed: {0}")]
    Task(&'static str),
    #[error("migration failed")]
    Migration(#[source] Cause),
}

impl DbError {
    /// Unavailable, for a reason this code found rather than an error it got.
    pub fn unavailable(what: impl Into<String>) -> Self {
        DbError::Unavailable {
            what: what.into(),
            cause: None,
        }
    }

    /// Unavailable because of `cause`.
    pub fn unavailable_because(
        what: impl Into<String>,
        cause: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        DbError::Unavailable {
            what: what.into(),
            cause: Some(Arc::new(cause)),
        }
    }

    /// A failed query whose cause is a finding of this code (a stored value
    /// that does not parse, say) rather than an error from below.
    pub fn query_failed(what: impl Into<String>) -> Self {
        let cause: Box<dyn std::error::Error + Send + Sync> = what.into().into();
        DbError::Query(Arc::from(cause))
    }
}

impl From<DieselError> for DbError {
    fn from(e: DieselError) -> Self {
        let what = match &e {
            DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => {
                "the connection was closed"
            }
            DieselError::BrokenTransactionManager => "the connection's transaction state is lost",
            DieselError::DatabaseError(_, info) if is_lock_timeout(info.message()) => {
                "locked for longer than the busy timeout"
            }
            _ => return DbError::Query(Arc::new(e)),
        };
        DbError::unavailable_because(what, e)
    }
}

/// SQLite reports a lock held past `busy_timeout` as an ordinary error;
/// to a client it is the database being busy, not a bug.
fn is_lock_timeout(message: &str) -> bool {
    message.contains("database is locked") || message.contains("database table is locked")
}

impl From<diesel::r2d2::Error> for DbError {
    fn from(e: diesel::r2d2::Error) -> Self {
        match e {
            diesel::r2d2::Error::ConnectionError(c) => {
                DbError::unavailable_because("cannot connect", c)
            }
            diesel::r2d2::Error::QueryError(q) => DbError::from(q),
        }
    }
}

impl From<diesel::r2d2::PoolError> for DbError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        DbError::unavailable_because("no pooled connection", e)
    }
}

/// The database handle shared by the whole application.
#[derive(Clone)]
pub struct Db {
    backend: Backend,
    /// Threads running reads (and, on PostgreSQL, writes) on pooled
    /// connections.
    workers: Workers,
    /// SQLite only: the single writer thread (see `writer.rs`).
    writer: Option<Writer>,
    /// Opens connections outside the pool, for work that holds one long
    /// (an export streamed to a slow client).
    manager: ConnectionManager,
}

impl Db {
    /// Opens the database, creating the SQLite file and its directory if
    /// needed, applies pending migrations and starts the write path.
    pub fn connect(settings: &DatabaseSettings) -> Result<Db, DbError> {
        let url = &settings.url;
        let backend = Backend::of(url);
        if let DatabaseUrl::Sqlite(path) = url {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| {
                    DbError::unavailable_because(format!("cannot create {}", dir.display()), e)
                })?;
            }
            if !path.exists() && path.is_relative() {
                // A service started from another directory than usual
                // would quietly begin again with an empty database.
                let cwd = std::env::current_dir().unwrap_or_default();
                tracing::warn!(
                    path = %cwd.join(path).display(),
                    "creating a new, empty SQLite database at a path relative to the working \
                     directory; if the server should have found an existing one, give \
                     database.url as sqlite:///absolute/path"
                );
            }
        }
        let manager = ConnectionManager::new(url.clone(), settings.sqlite.clone());

        // Migrate on a connection of its own before anything else touches
        // the schema.
        let mut conn = manager.establish().map_err(DbError::from)?;
        run_migrations(&mut conn)?;
        if backend == Backend::Postgres && !has_search_index(&mut conn)? {
            tracing::warn!(
                "the moderation queue search is not indexed: pg_trgm could not be \
                 created; docs/PERFORMANCE.md shows how to add the index"
            );
        }
        drop(conn);

        let pool = Pool::builder()
            .max_size(settings.max_connections)
            // Keep none idle-open beyond need, but never wait to open the
            // first one at start-up: fail fast if the database is down.
            .min_idle(Some(1))
            .connection_timeout(settings.acquire_timeout)
            .idle_timeout(Some(Duration::from_secs(600)))
            // A PostgreSQL connection may have died with its server: check
            // it before use. A SQLite connection is a file handle that does
            // not break, and the check would cost a query on every call.
            .test_on_check_out(backend == Backend::Postgres)
            .build(manager.clone())
            .map_err(DbError::from)?;
        let workers = Workers::start(
            pool,
            settings.max_connections as usize,
            settings.acquire_timeout,
        )?;

        let writer = match backend {
            Backend::Sqlite => Some(Writer::start(manager.clone())?),
            Backend::Postgres => None,
        };
        tracing::info!(database = %url, "database ready");
        Ok(Db {
            backend,
            workers,
            writer,
            manager,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Runs read-only work on a pooled connection, off the async workers.
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        self.workers.run(f).await?
    }

    /// Runs `f` in a transaction that is committed (durably) before this
    /// resolves; on SQLite, through the group-commit writer.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + From<DieselError> + Send + 'static,
    {
        if let Some(writer) = &self.writer {
            return writer.write(f).await;
        }
        self.workers.run(|conn| conn.transaction(f)).await?
    }

    /// A connection of its own, outside the pool and the database
    /// threads, for work that holds it long (an export streamed to a slow
    /// client must not take a pooled connection from everyone else).
    /// Blocking: call it off the async workers.
    pub fn dedicated(&self) -> Result<AnyConnection, DbError> {
        self.manager.establish().map_err(DbError::from)
    }

    /// True when a connection can be had and answers a trivial query.
    pub async fn ping(&self) -> Result<(), DbError> {
        self.read(|conn| {
            use diesel::connection::SimpleConnection;
            conn.batch_execute("SELECT 1").map_err(DbError::from)
        })
        .await
    }
}

/// Applies every pending migration for the connection's backend; returns the
/// versions applied.
pub fn run_migrations(conn: &mut AnyConnection) -> Result<Vec<String>, DbError> {
    let applied = match conn {
        AnyConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS),
        AnyConnection::Postgresql(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS),
    };
    applied
        .map(|versions| versions.iter().map(|v| v.to_string()).collect())
        .map_err(|e| DbError::Migration(Arc::from(e)))
}

/// Whether migration 0007 could build the trigram index of the queue
/// search (on PostgreSQL it needs the pg_trgm extension).
fn has_search_index(conn: &mut AnyConnection) -> Result<bool, DbError> {
    #[derive(diesel::QueryableByName)]
    struct Present {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        present: bool,
    }
    diesel::sql_query("SELECT to_regclass('comments_search') IS NOT NULL AS present")
        .get_result::<Present>(conn)
        .map(|row| row.present)
        .map_err(DbError::from)
}

/// Serializes writers that act for the same people: on PostgreSQL, takes a
/// transaction-scoped advisory lock per key (in sorted order, so two
/// writers never wait on each other in a circle), held until the caller's
/// transaction ends; on SQLite, writes already run one at a time on the
/// writer thread. Checks made after this inside the transaction (flood,
/// duplicates) see every earlier writer's commit.
pub fn lock_keys(conn: &mut AnyConnection, keys: &[String]) -> Result<(), DbError> {
    if conn.backend() != Backend::Postgres {
        return Ok(());
    }
    let mut ids: Vec<i64> = keys.iter().map(|k| lock_id(k)).collect();
    ids.sort_unstable();
    ids.dedup();
    for id in ids {
        diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
            .bind::<diesel::sql_types::BigInt, _>(id)
            .execute(conn)?;
    }
    Ok(())
}

/// A 64-bit lock id for a key; a collision only makes two unrelated
/// writers take turns.
fn lock_id(key: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("moderato:{key}").as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

/// Milliseconds since the Unix epoch: how every time is stored.
pub use crate::domain::now_millis;

/// Whether a diesel error is a unique-constraint violation (a conflict the
/// caller should answer with 409, not a failure).
pub fn is_unique_violation(e: &DieselError) -> bool {
    matches!(
        e,
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)
    )
}
