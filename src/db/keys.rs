//! Server secrets kept in the database, so every instance on the same
//! database uses the same ones and they survive restarts.

use diesel::prelude::*;

use super::schema::server_keys;
use super::AnyConnection;

/// The value stored under `name`; when there is none yet, `fresh` is
/// stored first. Two instances starting at once both end up with the value
/// that was stored first.
pub fn get_or_create(
    conn: &mut AnyConnection,
    name: &str,
    fresh: &str,
    now: i64,
) -> QueryResult<String> {
    let row = (
        server_keys::name.eq(name),
        server_keys::value.eq(fresh),
        server_keys::created_at.eq(now),
    );
    crate::per_backend!(conn, |c| diesel::insert_into(server_keys::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(c))?;
    server_keys::table
        .find(name)
        .select(server_keys::value)
        .first(conn)
}
