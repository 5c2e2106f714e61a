//! Accounts and their login sessions.

use diesel::prelude::*;

use super::models::{NewSession, NewUser, Session, User};
use super::schema::{sessions, users};
use super::AnyConnection;
use crate::domain::{Role, UserId};

pub fn insert(conn: &mut AnyConnection, new: &NewUser<'_>) -> QueryResult<User> {
    diesel::insert_into(users::table)
        .values(new)
        .get_result::<User>(conn)
}

pub fn find_by_email(conn: &mut AnyConnection, email: &str) -> QueryResult<Option<User>> {
    users::table
        .filter(users::email.eq(email))
        .select(User::as_select())
        .first(conn)
        .optional()
}

pub fn find(conn: &mut AnyConnection, id: UserId) -> QueryResult<Option<User>> {
    users::table
        .find(id)
        .select(User::as_select())
        .first(conn)
        .optional()
}

pub fn set_password_hash(
    conn: &mut AnyConnection,
    id: UserId,
    hash: &str,
    now: i64,
) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set((users::password_hash.eq(hash), users::updated_at.eq(now)))
        .execute(conn)
}

pub fn insert_session(conn: &mut AnyConnection, new: &NewSession<'_>) -> QueryResult<Session> {
    diesel::insert_into(sessions::table)
        .values(new)
        .get_result::<Session>(conn)
}

/// The account behind a live (unexpired) session token hash.
pub fn find_by_session(
    conn: &mut AnyConnection,
    token_hash: &str,
    now: i64,
) -> QueryResult<Option<(Session, User)>> {
    sessions::table
        .inner_join(users::table)
        .filter(sessions::token_hash.eq(token_hash))
        .filter(sessions::expires_at.gt(now))
        .select((Session::as_select(), User::as_select()))
        .first(conn)
        .optional()
}

pub fn delete_session(conn: &mut AnyConnection, token_hash: &str) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::token_hash.eq(token_hash))).execute(conn)
}

pub fn delete_expired_sessions(conn: &mut AnyConnection, now: i64) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::expires_at.le(now))).execute(conn)
}

/// Accounts whose name or email contains `search` (lower-cased), newest
/// first.
pub fn search(
    conn: &mut AnyConnection,
    search: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<User>> {
    let mut query = users::table
        .order(users::id.desc())
        .limit(limit)
        .select(User::as_select())
        .into_boxed();
    if let Some(text) = search {
        let pattern = super::queue::like_pattern(text);
        query = query.filter(
            super::queue::lower(users::name)
                .like(pattern.clone())
                .escape('\\')
                .or(users::email.like(pattern).escape('\\')),
        );
    }
    query.load(conn)
}

/// Which of these accounts are trusted.
pub fn trusted_among(conn: &mut AnyConnection, ids: &[UserId]) -> QueryResult<Vec<UserId>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    users::table
        .filter(users::id.eq_any(ids))
        .filter(users::trusted.eq(true))
        .select(users::id)
        .load(conn)
}

/// Moderators and admins, by name.
pub fn staff(conn: &mut AnyConnection) -> QueryResult<Vec<(UserId, String)>> {
    users::table
        .filter(users::role.ne(Role::Commenter))
        .order(users::name.asc())
        .select((users::id, users::name))
        .load(conn)
}

pub fn set_trusted(
    conn: &mut AnyConnection,
    id: UserId,
    trusted: bool,
    now: i64,
) -> QueryResult<Option<User>> {
    diesel::update(users::table.find(id))
        .set((users::trusted.eq(trusted), users::updated_at.eq(now)))
        .get_result::<User>(conn)
        .optional()
}

pub fn set_role(
    conn: &mut AnyConnection,
    id: UserId,
    role: Role,
    now: i64,
) -> QueryResult<Option<User>> {
    diesel::update(users::table.find(id))
        .set((users::role.eq(role), users::updated_at.eq(now)))
        .get_result::<User>(conn)
        .optional()
}

pub fn delete(conn: &mut AnyConnection, id: UserId) -> QueryResult<usize> {
    diesel::delete(users::table.find(id)).execute(conn)
}

pub fn delete_sessions_of(conn: &mut AnyConnection, user_id: UserId) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id))).execute(conn)
}

/// Ends every session of an account but the one with `keep_hash`.
pub fn delete_other_sessions(
    conn: &mut AnyConnection,
    user_id: UserId,
    keep_hash: &str,
) -> QueryResult<usize> {
    diesel::delete(
        sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::token_hash.ne(keep_hash)),
    )
    .execute(conn)
}
