//! Admins' edits to the spam word lists. Each change bumps the lists'
//! version in the same transaction (so other instances reload them) and is
//! applied to this instance's compiled copy at once.

use diesel::Connection;

use super::wordlists::{self, Entry, WordLists};
use crate::auth::{permissions, AuthError, AuthUser};
use crate::db::{self, Db, DbError};
use crate::domain::{ValidationError, WordId, WordKind, WordList};

/// The longest note kept with an entry, in characters.
const MAX_NOTE_CHARS: usize = 500;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("this entry is already on the list")]
    Duplicate,
    #[error("no such entry")]
    NotFound,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for AdminError {
    fn from(e: diesel::result::Error) -> Self {
        AdminError::Db(DbError::from(e))
    }
}

/// Every entry (admins only).
pub async fn list_entries(db: &Db, viewer: &AuthUser) -> Result<Vec<Entry>, AdminError> {
    permissions::require_admin(viewer)?;
    Ok(db.read(wordlists::load).await?)
}

/// Adds an entry (admins only).
pub async fn add_entry(
    db: &Db,
    lists: &WordLists,
    viewer: &AuthUser,
    list: WordList,
    kind: WordKind,
    pattern: &str,
    note: Option<String>,
) -> Result<Entry, AdminError> {
    permissions::require_admin(viewer)?;
    let pattern = wordlists::validate(kind, pattern)?;
    let note = note
        .map(|n| n.trim().chars().take(MAX_NOTE_CHARS).collect::<String>())
        .filter(|n| !n.is_empty());
    let now = db::now_millis();
    let (entry, all, version) = db
        .write(move |conn| {
            let new = db::spam::NewWord {
                list,
                kind,
                pattern: &pattern,
                note: note.as_deref(),
                created_at: now,
            };
            let row = match conn.transaction(|c| db::spam::insert_word(c, &new)) {
                Ok(row) => row,
                Err(e) if db::is_unique_violation(&e) => return Err(AdminError::Duplicate),
                Err(e) => return Err(e.into()),
            };
            let version = db::spam::bump_version(conn, db::spam::WORDLISTS)?;
            let all = wordlists::load(conn)?;
            let entry = Entry {
                id: row.id,
                list: row.list,
                kind: row.kind,
                pattern: row.pattern,
                note: row.note,
            };
            Ok((entry, all, version))
        })
        .await?;
    lists.replace(&all, version);
    Ok(entry)
}

/// Removes an entry (admins only).
pub async fn remove_entry(
    db: &Db,
    lists: &WordLists,
    viewer: &AuthUser,
    id: WordId,
) -> Result<(), AdminError> {
    permissions::require_admin(viewer)?;
    let (all, version) = db
        .write(move |conn| {
            if db::spam::delete_word(conn, id)? == 0 {
                return Err(AdminError::NotFound);
            }
            let version = db::spam::bump_version(conn, db::spam::WORDLISTS)?;
            Ok((wordlists::load(conn)?, version))
        })
        .await?;
    lists.replace(&all, version);
    Ok(())
}
