//! Who is asking: accounts, passwords, sessions, and the checks that decide
//! what a caller may do.

mod accounts;
pub mod keyring;
mod password;
pub mod permissions;
pub mod token;

pub use accounts::{
    change_password, check_password, create_user, delete_own_account, export_own_data, login,
    logout, logout_everywhere, register, session_user, Attempt, LoginOutcome, NewAccount, OwnData,
};
pub use password::{HashError, PasswordHasher};

use crate::db::models::User;
use crate::db::DbError;
use crate::domain::{Role, UserId, ValidationError};

/// How a session token came with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    Bearer,
    Cookie,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error("email or password is wrong")]
    InvalidCredentials,
    #[error("session expired or unknown")]
    InvalidSession,
    #[error("not signed in")]
    NotSignedIn,
    #[error("email already registered")]
    EmailTaken,
    #[error("registration is closed")]
    RegistrationClosed,
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error("too many attempts")]
    RateLimited { retry_after_secs: u64 },
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for AuthError {
    fn from(e: diesel::result::Error) -> Self {
        AuthError::Db(DbError::from(e))
    }
}

/// A signed-in caller, as established from their session.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub trusted: bool,
    pub created_at: i64,
    /// How the session token arrived (a cookie needs CSRF care, a bearer
    /// header does not).
    pub credential: Credential,
    /// The stored hash of the session token, to end this session.
    pub session_hash: String,
}

impl AuthUser {
    fn from_user(user: User, credential: Credential, session_hash: String) -> Self {
        AuthUser {
            role: user.role,
            id: user.id,
            email: user.email,
            name: user.name,
            trusted: user.trusted,
            created_at: user.created_at,
            credential,
            session_hash,
        }
    }
}
