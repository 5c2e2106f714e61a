//! Fixed-window rate limits on the database's shared counters.

use std::time::Duration;

use crate::db::{self, Db, DbError};

/// A limit was reached; the caller may try again after this many seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exceeded {
    pub retry_after_secs: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum LimitError {
    #[error("rate limit exceeded")]
    Exceeded(Exceeded),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for LimitError {
    fn from(e: diesel::result::Error) -> Self {
        LimitError::Db(DbError::from(e))
    }
}

/// One counter to bump: `key` may see at most `limit` hits per `window`.
pub struct Rule {
    pub key: String,
    pub limit: u32,
    pub window: Duration,
}

/// Counts a hit against every rule (all of them, so each counter is true)
/// and fails if any is over its limit, with the longest wait among them.
/// A rule with limit 0 is off.
pub async fn hit_all(db: &Db, rules: Vec<Rule>) -> Result<(), LimitError> {
    let now = db::now_millis();
    let wait = db.write(move |conn| hit_in(conn, &rules, now)).await?;
    match wait {
        Some(retry_after_secs) => Err(LimitError::Exceeded(Exceeded { retry_after_secs })),
        None => Ok(()),
    }
}

/// The same inside a caller's transaction: returns the seconds to wait if
/// any rule is over its limit. When the caller then rolls back, the hits go
/// with it, so refused attempts do not count.
pub fn hit_in(
    conn: &mut db::AnyConnection,
    rules: &[Rule],
    now: i64,
) -> Result<Option<u64>, DbError> {
    let mut longest: Option<u64> = None;
    for rule in rules.iter().filter(|r| r.limit > 0) {
        let window_ms = i64::try_from(rule.window.as_millis()).unwrap_or(i64::MAX);
        let bucket = db::ratelimit::hit(conn, &rule.key, now, window_ms)?;
        if bucket.hits > i64::from(rule.limit) {
            let ends = bucket.window_start.saturating_add(window_ms);
            let secs = u64::try_from((ends - now).max(1000) / 1000).unwrap_or(1);
            longest = Some(longest.map_or(secs, |l| l.max(secs)));
        }
    }
    Ok(longest)
}
