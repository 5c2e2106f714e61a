//! A commenter's data, for admins answering a request about it: everything
//! stored about them (export), and erasing it. A commenter is named by
//! email: an account's, or the one a guest wrote under.
//!
//! Erasure follows `accounts.on_delete`, as a commenter's own account
//! deletion does: their comments are anonymized (text kept) or deleted
//! (replies keep a placeholder). The audit log keeps that it happened, not
//! who it was: an account by its (now unused) id, a guest not at all.

use super::ModerationError;
use crate::auth::{permissions, AuthUser};
use crate::cache;
use crate::config::OnAccountDelete;
use crate::db::models::{Article, Comment, User};
use crate::db::moderation::NewLogEntry;
use crate::db::{self, AnyConnection};
use crate::domain::{Email, LogAction};
use crate::services::Services;

/// Everything stored about one commenter.
#[derive(Debug)]
pub struct CommenterData {
    /// Their account, when the email is an account's.
    pub account: Option<User>,
    pub email: String,
    /// Every comment they wrote, oldest first, with its article.
    pub comments: Vec<(Comment, Article)>,
}

/// What an erasure did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Erased {
    pub comments: usize,
    pub account_removed: bool,
    pub mode: OnAccountDelete,
}

fn normal_email(services: &Services, email: &str) -> Result<String, ModerationError> {
    let limit = services.settings.comments.max_email_bytes;
    Ok(Email::parse(email, limit, "email")?.as_str().to_string())
}

fn read_data(conn: &mut AnyConnection, email: &str) -> Result<CommenterData, ModerationError> {
    let account = db::users::find_by_email(conn, email)?;
    let comments = match &account {
        Some(user) => db::comments::by_user(conn, user.id)?,
        None => db::comments::by_guest_email(conn, email)?,
    };
    if account.is_none() && comments.is_empty() {
        return Err(ModerationError::NotFound);
    }
    Ok(CommenterData {
        account,
        email: email.to_string(),
        comments,
    })
}

/// Everything stored about the commenter with this email (admins only).
pub async fn export(
    services: &Services,
    admin: &AuthUser,
    email: &str,
) -> Result<CommenterData, ModerationError> {
    permissions::require_admin(admin)?;
    let email = normal_email(services, email)?;
    let data = services
        .db
        .read(move |conn| read_data(conn, &email))
        .await?;
    tracing::info!(admin_id = %admin.id, comments = data.comments.len(), "commenter data exported");
    Ok(data)
}

/// Erases the commenter with this email (admins only): an account is
/// removed with its sessions, and their comments are anonymized or deleted
/// as `accounts.on_delete` says. Admins cannot erase themselves.
pub async fn erase(
    services: &Services,
    admin: &AuthUser,
    email: &str,
) -> Result<Erased, ModerationError> {
    permissions::require_admin(admin)?;
    let email = normal_email(services, email)?;
    let mode = services.settings.accounts.on_delete;
    let admin_id = admin.id;
    let actor = admin.clone();
    let now = db::now_millis();
    let erased = services
        .db
        .write(move |conn| {
            let data = read_data(conn, &email)?;
            let (comments, subject) = match &data.account {
                Some(user) => {
                    if user.id == admin_id {
                        return Err(ModerationError::NotActionable(
                            "admins cannot erase their own account here; delete it from the account instead".into(),
                        ));
                    }
                    permissions::may_act_on(&actor, user.role)?;
                    let comments = match mode {
                        OnAccountDelete::Anonymize => {
                            db::erasure::anonymize_user(conn, user.id, now)?
                        }
                        OnAccountDelete::Delete => {
                            db::erasure::delete_user_comments(conn, user.id, now)?
                        }
                    };
                    db::users::delete_sessions_of(conn, user.id)?;
                    db::users::delete(conn, user.id)?;
                    (comments, format!("user:{}", user.id))
                }
                None => {
                    let comments = match mode {
                        OnAccountDelete::Anonymize => {
                            db::erasure::anonymize_guest(conn, &email, now)?
                        }
                        OnAccountDelete::Delete => {
                            db::erasure::delete_guest_comments(conn, &email, now)?
                        }
                    };
                    (comments, "guest".to_string())
                }
            };
            let reason = format!("{comments} comments {}", mode.label());
            db::moderation::log(
                conn,
                &NewLogEntry {
                    comment_id: None,
                    moderator_id: Some(admin_id),
                    action: LogAction::Erase,
                    from_status: None,
                    to_status: None,
                    from_verdict: None,
                    reason: Some(&reason),
                    subject: Some(&subject),
                    created_at: now,
                },
            )?;
            // The name and text may show on many articles.
            cache::notify_in(conn, None)?;
            Ok(Erased {
                comments,
                account_removed: data.account.is_some(),
                mode,
            })
        })
        .await?;
    services.cache.invalidate_all();
    tracing::info!(%admin_id, comments = erased.comments, account = erased.account_removed, "commenter data erased");
    Ok(erased)
}
