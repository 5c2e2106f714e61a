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
#[derive(Debug, Clone)]
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

/// Whether a hit now would be refused, without counting one: the seconds
/// to wait for the first rule that is already at its limit. A cheap check
/// before expensive work; the hit itself ([`hit_in`]) still decides.
pub fn peek_in(
    conn: &mut db::AnyConnection,
    rules: &[Rule],
    now: i64,
) -> Result<Option<u64>, DbError> {
    let keys: Vec<&str> = rules
        .iter()
        .filter(|r| r.limit > 0)
        .map(|r| r.key.as_str())
        .collect();
    let buckets = db::ratelimit::current(conn, &keys)?;
    let mut longest: Option<u64> = None;
    for rule in rules.iter().filter(|r| r.limit > 0) {
        let Some((_, bucket)) = buckets.iter().find(|(k, _)| *k == rule.key) else {
            continue;
        };
        let window_ms = millis(rule.window);
        let ends = bucket.window_start.saturating_add(window_ms);
        if ends > now && bucket.hits >= i64::from(rule.limit) {
            let secs = wait_secs(ends, now);
            longest = Some(longest.map_or(secs, |l| l.max(secs)));
        }
    }
    Ok(longest)
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
        let window_ms = millis(rule.window);
        let bucket = db::ratelimit::hit(conn, &rule.key, now, window_ms)?;
        if bucket.hits > i64::from(rule.limit) {
            let secs = wait_secs(bucket.window_start.saturating_add(window_ms), now);
            longest = Some(longest.map_or(secs, |l| l.max(secs)));
        }
    }
    Ok(longest)
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Whole seconds until `ends`, rounded up, at least 1.
fn wait_secs(ends: i64, now: i64) -> u64 {
    u64::try_from((ends.saturating_sub(now) + 999) / 1000)
        .unwrap_or(1)
        .max(1)
}
