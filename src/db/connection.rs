//! One connection type for both databases, chosen by the URL's scheme, and
//! the pool manager that opens connections with the right per-connection
//! settings.

use diesel::connection::SimpleConnection;
use diesel::r2d2::{ManageConnection, R2D2Connection};
use diesel::{Connection, PgConnection, SqliteConnection};
use secrecy::ExposeSecret;

use crate::config::{DatabaseUrl, SqliteSettings};

/// A connection to whichever database the operator configured. Queries are
/// written once against this type; diesel dispatches to the backend.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

impl AnyConnection {
    pub fn backend(&self) -> Backend {
        match self {
            AnyConnection::Postgresql(_) => Backend::Postgres,
            AnyConnection::Sqlite(_) => Backend::Sqlite,
        }
    }
}

/// Runs the same code on the concrete connection of either backend, for the
/// few statements the shared dialect cannot express (upserts, PRAGMAs,
/// migrations). The body is compiled once per backend.
#[macro_export]
macro_rules! per_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::AnyConnection::Sqlite($c) => $body,
            $crate::db::AnyConnection::Postgresql($c) => $body,
        }
    };
}

/// Connects to PostgreSQL, after setting OpenSSL up (libpq's TLS) without
/// its exit handler. Left to OpenSSL, the handler tears down its
/// per-thread state when the process exits, while the database threads
/// may still be using it: the process then crashed on its way out (SIGSEGV
/// in `OPENSSL_cleanup`, seen at the end of a test run). The setting
/// counts only if made before libpq first calls OpenSSL, so every
/// connection to PostgreSQL is made here.
pub fn connect_postgres(url: &str) -> diesel::ConnectionResult<PgConnection> {
    openssl_sys::init();
    PgConnection::establish(url)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a configured URL names.
    pub fn of(url: &DatabaseUrl) -> Backend {
        match url {
            DatabaseUrl::Sqlite(_) => Backend::Sqlite,
            DatabaseUrl::Postgres(_) => Backend::Postgres,
        }
    }
}

diesel::define_sql_function! {
    /// SQLite's `lower()` replaced, on each connection, by one that folds
    /// all of Unicode (and passes NULL through).
    #[sql_name = "lower"]
    fn unicode_lower(x: diesel::sql_types::Nullable<diesel::sql_types::Text>) -> diesel::sql_types::Nullable<diesel::sql_types::Text>;
}

/// Opens connections for the pool (and for the SQLite writer), applying the
/// per-connection settings each backend needs.
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: DatabaseUrl,
    sqlite: SqliteSettings,
}

impl ConnectionManager {
    pub fn new(url: DatabaseUrl, sqlite: SqliteSettings) -> Self {
        ConnectionManager { url, sqlite }
    }

    pub fn establish(&self) -> Result<AnyConnection, diesel::r2d2::Error> {
        match &self.url {
            DatabaseUrl::Sqlite(path) => {
                let path = path.to_string_lossy();
                let mut conn = SqliteConnection::establish(&path)
                    .map_err(diesel::r2d2::Error::ConnectionError)?;
                // foreign_keys: SQLite ignores REFERENCES without it.
                // busy_timeout: wait for another writer instead of failing.
                // WAL: readers never block the writer, nor it them.
                // synchronous: FULL by default, so an acknowledged comment is
                // on disk (see database.sqlite.synchronous).
                let pragmas = format!(
                    "PRAGMA busy_timeout = {};\
                     PRAGMA journal_mode = WAL;\
                     PRAGMA synchronous = {};\
                     PRAGMA foreign_keys = ON;",
                    self.sqlite.busy_timeout.as_millis(),
                    self.sqlite.synchronous.as_pragma(),
                );
                conn.batch_execute(&pragmas)
                    .map_err(diesel::r2d2::Error::QueryError)?;
                // SQLite's own lower() folds ASCII only; searches must find
                // "Zürich" when asked for "zürich", as PostgreSQL does.
                unicode_lower_utils::register_impl(&mut conn, |text: Option<String>| {
                    text.map(|t| t.to_lowercase())
                })
                .map_err(diesel::r2d2::Error::QueryError)?;
                Ok(AnyConnection::Sqlite(conn))
            }
            DatabaseUrl::Postgres(url) => {
                let mut conn = connect_postgres(url.expose_secret())
                    .map_err(diesel::r2d2::Error::ConnectionError)?;
                // Times are stored as epoch milliseconds, so the session time
                // zone matters only to an operator reading rows by hand.
                conn.batch_execute("SET TIME ZONE 'UTC'")
                    .map_err(diesel::r2d2::Error::QueryError)?;
                Ok(AnyConnection::Postgresql(conn))
            }
        }
    }
}

impl ManageConnection for ConnectionManager {
    type Connection = AnyConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<AnyConnection, Self::Error> {
        self.establish()
    }

    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), Self::Error> {
        conn.ping().map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut AnyConnection) -> bool {
        conn.is_broken()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_scheme_names_the_backend() {
        let backend = |url: &str| Backend::of(&DatabaseUrl::parse(url).unwrap());
        assert_eq!(backend("sqlite://data/m.db"), Backend::Sqlite);
        assert_eq!(backend("postgres://u@h/db"), Backend::Postgres);
        assert_eq!(backend("postgresql://u@h/db"), Backend::Postgres);
    }
}
