//! The people behind the comments, as moderators see them: finding them,
//! trusting them, changing roles. (Commenters' own export and deletion are
//! the accounts service's: `auth::accounts`.)

use std::collections::{BTreeMap, HashMap};

use super::ModerationError;
use crate::auth::{permissions, AuthUser};
use crate::db::bans::ActiveBans;
use crate::db::models::User;
use crate::db::moderation::NewLogEntry;
use crate::db::{self, DbError};
use crate::domain::{LogAction, Role, StatusCounts, UserId, ValidationError};
use crate::services::Services;

/// One commenter: an account, or a guest known by email.
#[derive(Debug, Clone)]
pub struct Commenter {
    pub user: Option<User>,
    pub email: String,
    pub name: String,
    pub counts: StatusCounts,
    pub first_seen: Option<i64>,
    pub last_seen: Option<i64>,
    pub banned: bool,
}

pub const MAX_LISTED: i64 = 100;

/// Accounts and guest identities matching `q` (in name or email). An
/// account's counts come from the stats the database keeps per commenter.
pub async fn list(
    services: &Services,
    viewer: &AuthUser,
    q: Option<String>,
) -> Result<Vec<Commenter>, ModerationError> {
    permissions::require_moderator(viewer)?;
    let search = q.map(|q| q.trim().to_lowercase()).filter(|q| !q.is_empty());
    if search.as_ref().is_some_and(|q| q.chars().count() > 200) {
        return Err(ValidationError::new("q", "must be at most 200 characters").into());
    }
    let now = db::now_millis();
    services
        .db
        .read(move |conn| {
            let bans = ActiveBans::new(db::bans::active(conn, now)?);
            let users = db::users::search(conn, search.as_deref(), MAX_LISTED)?;
            let keys: Vec<String> = users
                .iter()
                .filter_map(|u| db::stats::author_key(Some(u.id), None))
                .collect();
            let stats: HashMap<String, db::stats::CommenterStats> =
                db::stats::stats_of(conn, &keys)?
                    .into_iter()
                    .map(|s| (s.author_key.clone(), s))
                    .collect();
            let mut out: Vec<Commenter> = users
                .into_iter()
                .map(|user| {
                    let stats =
                        db::stats::author_key(Some(user.id), None).and_then(|k| stats.get(&k));
                    Commenter {
                        email: user.email.clone(),
                        name: user.name.clone(),
                        counts: stats.map(|s| s.counts()).unwrap_or_default(),
                        first_seen: stats.map(|s| s.first_seen),
                        last_seen: stats.map(|s| s.last_seen),
                        banned: bans.find(Some(user.id), Some(&user.email), None).is_some(),
                        user: Some(user),
                    }
                })
                .collect();
            let mut guests: BTreeMap<String, Commenter> = BTreeMap::new();
            for (email, status, count, first, last, name) in
                db::queue::guests(conn, search.as_deref())?
            {
                let Some(email) = email else { continue };
                let entry = guests.entry(email.clone()).or_insert_with(|| Commenter {
                    user: None,
                    banned: bans.find(None, Some(&email), None).is_some(),
                    email,
                    name: String::new(),
                    counts: StatusCounts::default(),
                    first_seen: None,
                    last_seen: None,
                });
                entry.counts.add(status, count);
                entry.first_seen = min_opt(entry.first_seen, first);
                entry.last_seen = entry.last_seen.max(last);
                if entry.name.is_empty() {
                    entry.name = name.unwrap_or_default();
                }
            }
            out.extend(guests.into_values().take(MAX_LISTED as usize));
            Ok::<_, ModerationError>(out)
        })
        .await
}

fn min_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Moderators' and admins' names by account, to say who did what in the
/// log (and to filter it by who).
pub async fn staff_names(
    services: &Services,
    viewer: &AuthUser,
) -> Result<BTreeMap<UserId, String>, ModerationError> {
    permissions::require_moderator(viewer)?;
    let staff = services
        .db
        .read(|conn| db::users::staff(conn).map_err(DbError::from))
        .await?;
    Ok(staff.into_iter().collect())
}

/// Changes to an account: trust (moderators and admins) and role (admins).
pub struct AccountChange {
    pub trusted: Option<bool>,
    pub role: Option<Role>,
}

pub async fn update_account(
    services: &Services,
    actor: &AuthUser,
    id: UserId,
    change: AccountChange,
) -> Result<User, ModerationError> {
    permissions::require_moderator(actor)?;
    if change.role.is_some() {
        permissions::require_admin(actor)?;
        if actor.id == id {
            return Err(ModerationError::NotActionable(
                "admins cannot change their own role (ask another admin)".into(),
            ));
        }
    }
    let actor_id = actor.id;
    let actor = actor.clone();
    let now = db::now_millis();
    services
        .db
        .write(move |conn| {
            let mut user = db::users::find(conn, id)?.ok_or(ModerationError::NotFound)?;
            permissions::may_act_on(&actor, user.role)?;
            let subject = format!("user:{id}");
            if let Some(trusted) = change.trusted.filter(|t| *t != user.trusted) {
                user = db::users::set_trusted(conn, id, trusted, now)?
                    .ok_or(ModerationError::NotFound)?;
                log_account(
                    conn,
                    actor_id,
                    if trusted {
                        LogAction::Trust
                    } else {
                        LogAction::Untrust
                    },
                    &subject,
                    None,
                    now,
                )?;
            }
            if let Some(role) = change.role.filter(|r| *r != user.role) {
                let from = user.role;
                user =
                    db::users::set_role(conn, id, role, now)?.ok_or(ModerationError::NotFound)?;
                log_account(
                    conn,
                    actor_id,
                    LogAction::Role,
                    &subject,
                    Some(&format!("{from} -> {role}")),
                    now,
                )?;
            }
            Ok(user)
        })
        .await
}

fn log_account(
    conn: &mut db::AnyConnection,
    actor: UserId,
    action: LogAction,
    subject: &str,
    reason: Option<&str>,
    now: i64,
) -> Result<(), DbError> {
    db::moderation::log(
        conn,
        &NewLogEntry {
            comment_id: None,
            moderator_id: Some(actor),
            action,
            from_status: None,
            to_status: None,
            reason,
            subject: Some(subject),
            created_at: now,
            from_verdict: None,
        },
    )?;
    Ok(())
}
