//! Word lists, the learned model's rows, and the change counters that tell
//! other instances to reload them.

use diesel::prelude::*;

use super::schema::{spam_features, spam_globals, spam_state, spam_words};
use super::{AnyConnection, Backend};
use crate::domain::{WordId, WordKind, WordList};

pub const WORDLISTS: &str = "wordlists";
pub const MODEL: &str = "model";

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = spam_words)]
pub struct WordRow {
    pub id: WordId,
    pub list: WordList,
    pub kind: WordKind,
    pub pattern: String,
    pub note: Option<String>,
    pub created_at: i64,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = spam_words)]
pub struct NewWord<'a> {
    pub list: WordList,
    pub kind: WordKind,
    pub pattern: &'a str,
    pub note: Option<&'a str>,
    pub created_at: i64,
}

pub fn words(conn: &mut AnyConnection) -> QueryResult<Vec<WordRow>> {
    spam_words::table
        .order(spam_words::id.asc())
        .select(WordRow::as_select())
        .load(conn)
}

pub fn insert_word(conn: &mut AnyConnection, new: &NewWord<'_>) -> QueryResult<WordRow> {
    diesel::insert_into(spam_words::table)
        .values(new)
        .get_result::<WordRow>(conn)
}

pub fn delete_word(conn: &mut AnyConnection, id: WordId) -> QueryResult<usize> {
    diesel::delete(spam_words::table.find(id)).execute(conn)
}

pub fn version(conn: &mut AnyConnection, name: &str) -> QueryResult<i64> {
    spam_state::table
        .find(name)
        .select(spam_state::version)
        .first(conn)
}

pub fn bump_version(conn: &mut AnyConnection, name: &str) -> QueryResult<i64> {
    diesel::update(spam_state::table.find(name))
        .set(spam_state::version.eq(spam_state::version + 1))
        .execute(conn)?;
    version(conn, name)
}

pub fn features(conn: &mut AnyConnection) -> QueryResult<Vec<(i64, f64, f64)>> {
    spam_features::table
        .select((spam_features::key, spam_features::a, spam_features::b))
        .load(conn)
}

pub fn globals(conn: &mut AnyConnection) -> QueryResult<Vec<(String, f64)>> {
    spam_globals::table
        .select((spam_globals::name, spam_globals::value))
        .load(conn)
}

/// Adds deltas to feature rows, creating missing ones. Additive updates
/// commute, so instances learning at the same time do not lose each
/// other's changes.
pub fn add_to_features(conn: &mut AnyConnection, deltas: &[(i64, f64, f64)]) -> QueryResult<()> {
    let sql = match conn.backend() {
        Backend::Sqlite => {
            "INSERT INTO spam_features (key, a, b) VALUES (?1, ?2, ?3) \
             ON CONFLICT (key) DO UPDATE SET a = spam_features.a + excluded.a, b = spam_features.b + excluded.b"
        }
        Backend::Postgres => {
            "INSERT INTO spam_features (key, a, b) VALUES ($1, $2, $3) \
             ON CONFLICT (key) DO UPDATE SET a = spam_features.a + excluded.a, b = spam_features.b + excluded.b"
        }
    };
    for (key, a, b) in deltas {
        diesel::sql_query(sql)
            .bind::<diesel::sql_types::BigInt, _>(*key)
            .bind::<diesel::sql_types::Double, _>(*a)
            .bind::<diesel::sql_types::Double, _>(*b)
            .execute(conn)?;
    }
    Ok(())
}

/// Adds deltas to named global numbers, creating missing ones.
pub fn add_to_globals(conn: &mut AnyConnection, deltas: &[(&str, f64)]) -> QueryResult<()> {
    let sql = match conn.backend() {
        Backend::Sqlite => {
            "INSERT INTO spam_globals (name, value) VALUES (?1, ?2) \
             ON CONFLICT (name) DO UPDATE SET value = spam_globals.value + excluded.value"
        }
        Backend::Postgres => {
            "INSERT INTO spam_globals (name, value) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET value = spam_globals.value + excluded.value"
        }
    };
    for (name, value) in deltas {
        diesel::sql_query(sql)
            .bind::<diesel::sql_types::Text, _>(*name)
            .bind::<diesel::sql_types::Double, _>(*value)
            .execute(conn)?;
    }
    Ok(())
}
