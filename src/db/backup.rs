//! A consistent copy of a live SQLite database.
//!
//! `VACUUM INTO` reads the database in one read transaction, so the copy is
//! the database as of one moment however much the server writes meanwhile
//! (with WAL, readers and the writer do not block each other), and it is
//! written compacted, without a WAL beside it: a single file, ready to be
//! put in place of the database.

use std::path::Path;

use diesel::connection::SimpleConnection;
use diesel::{Connection, RunQueryDsl, SqliteConnection};

use super::connection::{AnyConnection, ConnectionManager};
use super::DbError;

/// What a copy holds, checked by reading it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Copied {
    pub comments: i64,
    pub users: i64,
    pub bytes: u64,
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[derive(diesel::QueryableByName)]
struct Check {
    #[diesel(sql_type = diesel::sql_types::Text)]
    integrity_check: String,
}

/// Copies the database `manager` opens to `target` (which must not exist),
/// then opens the copy and checks it: `PRAGMA integrity_check`, and counts.
pub fn sqlite(manager: &ConnectionManager, target: &Path) -> Result<Copied, DbError> {
    let target_text = target
        .to_str()
        .ok_or_else(|| DbError::query_failed(format!("{} is not a UTF-8 path", target.display())))?
        .to_string();
    let mut conn = manager.establish()?;
    let AnyConnection::Sqlite(source) = &mut conn else {
        return Err(DbError::query_failed(
            "only SQLite databases are copied this way",
        ));
    };
    diesel::sql_query("VACUUM INTO ?")
        .bind::<diesel::sql_types::Text, _>(&target_text)
        .execute(source)?;
    drop(conn);

    let mut copy = SqliteConnection::establish(&target_text)
        .map_err(|e| DbError::unavailable_because("cannot open the copy", e))?;
    copy.batch_execute("PRAGMA query_only = ON")?;
    let check: Check = diesel::sql_query("PRAGMA integrity_check").get_result(&mut copy)?;
    if check.integrity_check != "ok" {
        return Err(DbError::query_failed(format!(
            "the copy failed its integrity check: {}",
            check.integrity_check
        )));
    }
    let count = |conn: &mut SqliteConnection, table: &str| -> Result<i64, DbError> {
        let row: Count =
            diesel::sql_query(format!("SELECT count(*) AS n FROM {table}")).get_result(conn)?;
        Ok(row.n)
    };
    let bytes = std::fs::metadata(target)
        .map(|m| m.len())
        .map_err(|e| DbError::query_failed(format!("cannot read {}: {e}", target.display())))?;
    Ok(Copied {
        comments: count(&mut copy, "comments")?,
        users: count(&mut copy, "users")?,
        bytes,
    })
}
