//! Fixed-window counters kept in the database, so every app instance on a
//! shared PostgreSQL counts the same hits.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::schema::rate_limits;
use super::{AnyConnection, Backend};

#[derive(Debug, QueryableByName)]
pub struct Bucket {
    #[diesel(sql_type = BigInt)]
    pub hits: i64,
    #[diesel(sql_type = BigInt)]
    pub window_start: i64,
}

/// Counts one hit on `key` and returns the bucket after it. A window that
/// started at or before `now - window_ms` is restarted at `now`.
pub fn hit(conn: &mut AnyConnection, key: &str, now: i64, window_ms: i64) -> QueryResult<Bucket> {
    // One statement, so concurrent hits on PostgreSQL cannot both see an old
    // count. The dialects agree on upsert syntax and differ only in how
    // parameters are numbered.
    fn statement(p: [&str; 3]) -> String {
        let [key, now, cutoff] = p;
        format!(
            "INSERT INTO rate_limits (key, window_start, hits) VALUES ({key}, {now}, 1) \
             ON CONFLICT (key) DO UPDATE SET \
               hits = CASE WHEN rate_limits.window_start <= {cutoff} THEN 1 ELSE rate_limits.hits + 1 END, \
               window_start = CASE WHEN rate_limits.window_start <= {cutoff} THEN {now} ELSE rate_limits.window_start END \
             RETURNING hits, window_start"
        )
    }
    let cutoff = now - window_ms;
    let sql = match conn.backend() {
        Backend::Sqlite => statement(["?1", "?2", "?3"]),
        Backend::Postgres => statement(["$1", "$2", "$3"]),
    };
    diesel::sql_query(sql)
        .bind::<Text, _>(key)
        .bind::<BigInt, _>(now)
        .bind::<BigInt, _>(cutoff)
        .get_result::<Bucket>(conn)
}

/// The buckets of `keys` as they stand, without counting a hit.
pub fn current(conn: &mut AnyConnection, keys: &[&str]) -> QueryResult<Vec<(String, Bucket)>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    rate_limits::table
        .filter(rate_limits::key.eq_any(keys))
        .select((
            rate_limits::key,
            rate_limits::hits,
            rate_limits::window_start,
        ))
        .load::<(String, i64, i64)>(conn)
        .map(|rows| {
            rows.into_iter()
                .map(|(key, hits, window_start)| (key, Bucket { hits, window_start }))
                .collect()
        })
}

/// Forgets a counter (a sign-in that succeeded clears its failures).
pub fn reset(conn: &mut AnyConnection, key: &str) -> QueryResult<usize> {
    diesel::delete(rate_limits::table.find(key)).execute(conn)
}

/// Drops buckets whose window ended long ago.
pub fn delete_older_than(conn: &mut AnyConnection, before: i64) -> QueryResult<usize> {
    diesel::delete(rate_limits::table.filter(rate_limits::window_start.lt(before))).execute(conn)
}
