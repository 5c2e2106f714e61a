//! Permission checks as small named functions that services chain, so every
//! rule lives in one place and reads as what it allows.

use super::{AuthError, AuthUser};
use crate::db::models::Comment;
use crate::domain::Role;

pub fn require_admin(user: &AuthUser) -> Result<(), AuthError> {
    if user.role == Role::Admin {
        Ok(())
    } else {
        Err(AuthError::Forbidden("this needs an admin"))
    }
}

pub fn require_moderator(user: &AuthUser) -> Result<(), AuthError> {
    if user.role.can_moderate() {
        Ok(())
    } else {
        Err(AuthError::Forbidden("this needs a moderator"))
    }
}

/// Whether `actor` (a moderator) may act on an account of `target` role:
/// ban it, trust or distrust it. Only admins act on admins.
pub fn may_act_on(actor: &AuthUser, target: Role) -> Result<(), AuthError> {
    if target == Role::Admin && actor.role != Role::Admin {
        return Err(AuthError::Forbidden("only an admin may act on an admin"));
    }
    Ok(())
}

/// The signed-in author of the comment (guests prove authorship with their
/// edit token instead; see `comments`).
pub fn is_account_author(viewer: Option<&AuthUser>, comment: &Comment) -> bool {
    matches!((viewer, comment.user_id), (Some(v), Some(owner)) if v.id == owner)
}

pub fn is_moderator(viewer: Option<&AuthUser>) -> bool {
    viewer.is_some_and(|v| v.role.can_moderate())
}
