//! The outbox table: messages waiting for delivery to other services.

use diesel::prelude::*;

use super::schema::outbox;
use super::AnyConnection;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = outbox)]
pub struct Message {
    pub id: i64,
    pub topic: String,
    pub target: String,
    pub payload: String,
    pub attempts: i32,
    pub next_attempt_at: i64,
    pub lease_until: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub delivered_at: Option<i64>,
    pub gave_up_at: Option<i64>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = outbox)]
pub struct NewMessage<'a> {
    pub topic: &'a str,
    pub target: &'a str,
    pub payload: &'a str,
    pub next_attempt_at: i64,
    pub created_at: i64,
}

pub fn insert(conn: &mut AnyConnection, new: &NewMessage<'_>) -> QueryResult<usize> {
    diesel::insert_into(outbox::table).values(new).execute(conn)
}

fn pending() -> diesel::dsl::And<
    diesel::dsl::IsNull<outbox::delivered_at>,
    diesel::dsl::IsNull<outbox::gave_up_at>,
> {
    outbox::delivered_at
        .is_null()
        .and(outbox::gave_up_at.is_null())
}

/// Messages due now that no worker holds.
pub fn due(conn: &mut AnyConnection, now: i64, limit: i64) -> QueryResult<Vec<Message>> {
    outbox::table
        .filter(pending())
        .filter(outbox::next_attempt_at.le(now))
        .filter(
            outbox::lease_until
                .is_null()
                .or(outbox::lease_until.lt(now)),
        )
        .order(outbox::next_attempt_at.asc())
        .limit(limit)
        .select(Message::as_select())
        .load(conn)
}

/// Takes a message for delivery until `lease_until`; false when another
/// worker (possibly another instance) took it first.
pub fn claim(conn: &mut AnyConnection, id: i64, now: i64, lease_until: i64) -> QueryResult<bool> {
    let taken = diesel::update(
        outbox::table
            .filter(outbox::id.eq(id))
            .filter(pending())
            .filter(
                outbox::lease_until
                    .is_null()
                    .or(outbox::lease_until.lt(now)),
            ),
    )
    .set(outbox::lease_until.eq(lease_until))
    .execute(conn)?;
    Ok(taken == 1)
}

pub fn delivered(conn: &mut AnyConnection, id: i64, now: i64) -> QueryResult<usize> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::delivered_at.eq(now),
            outbox::attempts.eq(outbox::attempts + 1),
            outbox::lease_until.eq(None::<i64>),
            outbox::last_error.eq(None::<String>),
        ))
        .execute(conn)
}

pub fn failed(
    conn: &mut AnyConnection,
    id: i64,
    next_attempt_at: i64,
    error: &str,
) -> QueryResult<usize> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::attempts.eq(outbox::attempts + 1),
            outbox::next_attempt_at.eq(next_attempt_at),
            outbox::lease_until.eq(None::<i64>),
            outbox::last_error.eq(error),
        ))
        .execute(conn)
}

pub fn gave_up(conn: &mut AnyConnection, id: i64, now: i64, error: &str) -> QueryResult<usize> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::attempts.eq(outbox::attempts + 1),
            outbox::gave_up_at.eq(now),
            outbox::lease_until.eq(None::<i64>),
            outbox::last_error.eq(error),
        ))
        .execute(conn)
}

/// Messages not yet delivered nor given up.
pub fn backlog(conn: &mut AnyConnection) -> QueryResult<i64> {
    outbox::table.filter(pending()).count().get_result(conn)
}

/// Removes delivered and abandoned messages older than `before`.
pub fn purge_finished(conn: &mut AnyConnection, before: i64) -> QueryResult<usize> {
    diesel::delete(
        outbox::table.filter(
            outbox::delivered_at
                .lt(before)
                .or(outbox::gave_up_at.lt(before)),
        ),
    )
    .execute(conn)
}

/// For tests and the admin's view: every message of a topic.
pub fn all_of_topic(conn: &mut AnyConnection, topic: &str) -> QueryResult<Vec<Message>> {
    outbox::table
        .filter(outbox::topic.eq(topic))
        .order(outbox::id.asc())
        .select(Message::as_select())
        .load(conn)
}

/// Undelivered messages per topic.
pub fn backlog_by_topic(conn: &mut AnyConnection) -> QueryResult<Vec<(String, i64)>> {
    outbox::table
        .filter(pending())
        .group_by(outbox::topic)
        .select((outbox::topic, diesel::dsl::count_star()))
        .load(conn)
}
