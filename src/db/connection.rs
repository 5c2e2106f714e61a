//! One connection type for both databases, chosen by the URL's scheme, and
//! the pool manager that opens connections with the right per-connection
//! settings.

use std::fmt;
use std::path::PathBuf;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{ManageConnection, R2D2Connection};
use diesel::{Connection, PgConnection, SqliteConnection};

use crate::config::SqliteSettings;

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A parsed `database.url`.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `sqlite://relative/path.db` or `sqlite:///absolute/path.db`.
    Sqlite(PathBuf),
    /// `postgres://…` or `postgresql://…`, passed to libpq as is.
    Postgres(String),
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> Result<DatabaseUrl, String> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err("sqlite:// needs a file path, e.g. sqlite://data/moderato.db".into());
            }
            return Ok(DatabaseUrl::Sqlite(PathBuf::from(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(url.to_string()));
        }
        Err("expected a URL starting with sqlite:// or postgres://".into())
    }

    pub fn backend(&self) -> Backend {
        match self {
            DatabaseUrl::Sqlite(_) => Backend::Sqlite,
            DatabaseUrl::Postgres(_) => Backend::Postgres,
        }
    }
}

/// Printing a URL must never print its password.
impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            DatabaseUrl::Postgres(raw) => match url::Url::parse(raw) {
                Ok(mut parsed) => {
                    if parsed.password().is_some() {
                        let _ = parsed.set_password(Some("***"));
                    }
                    parsed.set_query(None);
                    write!(f, "{parsed}")
                }
                Err(_) => write!(f, "postgres://(unparsable)"),
            },
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
                let mut conn =
                    PgConnection::establish(url).map_err(diesel::r2d2::Error::ConnectionError)?;
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
    fn parses_sqlite_relative_and_absolute_paths() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/m.db").unwrap(),
            DatabaseUrl::Sqlite(PathBuf::from("data/m.db"))
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///var/lib/m.db").unwrap(),
            DatabaseUrl::Sqlite(PathBuf::from("/var/lib/m.db"))
        );
        assert!(DatabaseUrl::parse("sqlite://").is_err());
    }

    #[test]
    fn parses_postgres_urls_and_rejects_others() {
        assert_eq!(
            DatabaseUrl::parse("postgres://u@h/db").unwrap().backend(),
            Backend::Postgres
        );
        assert_eq!(
            DatabaseUrl::parse("postgresql://u@h/db").unwrap().backend(),
            Backend::Postgres
        );
        assert!(DatabaseUrl::parse("mysql://u@h/db").is_err());
        assert!(DatabaseUrl::parse("data/m.db").is_err());
    }

    #[test]
    fn display_hides_the_password() {
        let url = DatabaseUrl::parse("postgres://app:s3cret@db.example:5432/moderato").unwrap();
        let shown = url.to_string();
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("db.example"), "{shown}");
        assert!(!format!("{url:?}").contains("s3cret"));
    }
}
