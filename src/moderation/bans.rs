//! Bans by account, email, or IP address / CIDR range, with an optional
//! expiry. A banned commenter's new comments are refused (403), or, for a
//! shadow ban, accepted but kept out of public view while their author sees
//! them as pending.

use std::net::IpAddr;

use ipnet::IpNet;

use super::decisions::clean_reason;
use super::ModerationError;
use crate::auth::{permissions, AuthUser};
use crate::cache;
use crate::db::bans::{Ban, NewBan};
use crate::db::moderation::NewLogEntry;
use crate::db::queue::AuthorFilter;
use crate::db::{self, AnyConnection};
use crate::domain::{
    timestamp, BanId, BanKind, CommentId, CommentStatus, Email, LogAction, UserId, ValidationError,
};
use crate::services::Services;
use crate::webhooks;

/// A ban as the client asks for it.
pub struct NewBanRequest {
    pub kind: BanKind,
    pub value: String,
    pub reason: Option<String>,
    /// When it ends (RFC 3339); give this or `duration`, or neither to ban
    /// for good.
    pub expires_at: Option<String>,
    /// How long it lasts, e.g. "7days".
    pub duration: Option<String>,
    pub shadow: bool,
    /// Also move everything the commenter posted to the trash.
    pub trash_existing: bool,
}

/// The longest a ban with an end may run; longer is a permanent ban.
pub const MAX_BAN_DAYS: i64 = 100 * 365;

/// When a ban ends, in milliseconds since the epoch (`None`: never), from
/// an end time or a duration.
pub fn expiry(
    now: i64,
    expires_at: Option<&str>,
    duration: Option<&str>,
) -> Result<Option<i64>, ValidationError> {
    let latest = now.saturating_add(MAX_BAN_DAYS * 24 * 3600 * 1000);
    let too_far = |field| {
        ValidationError::new(
            field,
            format!(
                "must end within {} years; leave out expires_at and duration to ban for good",
                MAX_BAN_DAYS / 365
            ),
        )
    };
    let at = match (expires_at, duration) {
        (Some(_), Some(_)) => {
            return Err(ValidationError::new(
                "duration",
                "give expires_at or duration, not both",
            ))
        }
        (Some(at), None) => {
            let at = chrono::DateTime::parse_from_rfc3339(at)
                .map_err(|_| ValidationError::new("expires_at", "must be an RFC 3339 time"))?
                .timestamp_millis();
            if at > latest {
                return Err(too_far("expires_at"));
            }
            at
        }
        (None, Some(d)) => {
            let d = humantime::parse_duration(d).map_err(|_| {
                ValidationError::new("duration", "must be a duration like \"7days\" or \"12h\"")
            })?;
            let millis = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
            if millis > latest - now {
                return Err(too_far("duration"));
            }
            now + millis
        }
        (None, None) => return Ok(None),
    };
    if at <= now {
        let field = if expires_at.is_some() {
            "expires_at"
        } else {
            "duration"
        };
        return Err(ValidationError::new(field, "must end in the future"));
    }
    Ok(Some(at))
}

/// The normalised value a ban matches on.
fn normalise(kind: BanKind, value: &str) -> Result<String, ValidationError> {
    let value = value.trim();
    match kind {
        BanKind::User => value
            .parse::<i64>()
            .map(|id| id.to_string())
            .map_err(|_| ValidationError::new("value", "must be an account id")),
        BanKind::Email => Email::parse(value, 320, "value").map(Email::into_inner),
        BanKind::Ip => value
            .parse::<IpNet>()
            .map(|n| n.trunc())
            .or_else(|_| value.parse::<IpAddr>().map(IpNet::from))
            .map(|n| n.to_string())
            .map_err(|_| {
                ValidationError::new(
                    "value",
                    "must be an IP address or CIDR range, e.g. 203.0.113.0/24",
                )
            }),
    }
}

/// Bans a commenter; returns the ban and how many comments went to the
/// trash.
pub async fn create(
    services: &Services,
    moderator: &AuthUser,
    request: NewBanRequest,
) -> Result<(Ban, usize), ModerationError> {
    permissions::require_moderator(moderator)?;
    let value = normalise(request.kind, &request.value)?;
    let reason = clean_reason(request.reason)?;
    let now = db::now_millis();
    let expires_at = expiry(
        now,
        request.expires_at.as_deref(),
        request.duration.as_deref(),
    )?;
    let hooks = services.webhooks.clone();
    let moderator_id = moderator.id;
    let actor = moderator.clone();
    let kind = request.kind;
    let (ban, trashed) = services
        .db
        .write(move |conn| {
            let target = match kind {
                BanKind::User => Some(
                    db::users::find(conn, value.parse().unwrap_or(UserId(-1)))?.ok_or_else(
                        || {
                            ModerationError::Invalid(ValidationError::new(
                                "value",
                                "no account with this id",
                            ))
                        },
                    )?,
                ),
                BanKind::Email => db::users::find_by_email(conn, &value)?,
                BanKind::Ip => None,
            };
            if let Some(target) = &target {
                permissions::may_act_on(&actor, target.role)?;
            }
            let ban = db::bans::insert(
                conn,
                &NewBan {
                    kind,
                    value: &value,
                    shadow: request.shadow,
                    reason: reason.as_deref(),
                    expires_at,
                    created_by: Some(moderator_id),
                    created_at: now,
                },
            )?;
            let subject = format!("{}:{}", kind.as_str(), value);
            db::moderation::log(
                conn,
                &NewLogEntry {
                    comment_id: None,
                    moderator_id: Some(moderator_id),
                    action: LogAction::Ban,
                    from_status: None,
                    to_status: None,
                    reason: reason.as_deref(),
                    subject: Some(&subject),
                    created_at: now,
                    from_verdict: None,
                },
            )?;
            let trashed = if request.trash_existing {
                trash_everything(conn, &hooks, moderator_id, &ban, now)?
            } else {
                0
            };
            hooks.enqueue(
                conn,
                webhooks::COMMENTER_BANNED,
                serde_json::json!({"ban": {
                    "id": ban.id, "kind": ban.kind, "value": ban.value, "shadow": ban.shadow,
                    "reason": ban.reason, "expires_at": ban.expires_at.map(timestamp),
                    "comments_trashed": trashed,
                }}),
            )?;
            if trashed > 0 {
                cache::notify_in(conn, None)?;
            }
            Ok::<_, ModerationError>((ban, trashed))
        })
        .await?;
    if trashed > 0 {
        services.cache.invalidate_all();
    }
    services.outbox.wake();
    tracing::info!(%moderator_id, ban_id = %ban.id, kind = %ban.kind, trashed, "commenter banned");
    Ok((ban, trashed))
}

/// Moves every comment the banned commenter posted (not already trashed,
/// spam or deleted) to the trash, logging each.
fn trash_everything(
    conn: &mut AnyConnection,
    hooks: &webhooks::Webhooks,
    moderator_id: UserId,
    ban: &Ban,
    now: i64,
) -> Result<usize, ModerationError> {
    let ids: Vec<CommentId> = match ban.kind {
        BanKind::User => db::comments::ids_by_author(
            conn,
            &AuthorFilter::User(ban.value.parse().unwrap_or(UserId(-1))),
        )?,
        BanKind::Email => {
            db::comments::ids_by_author(conn, &AuthorFilter::Email(ban.value.clone()))?
        }
        BanKind::Ip => {
            let net: IpNet = ban
                .value
                .parse()
                .map_err(|_| ModerationError::Internal("stored ban range unreadable".into()))?;
            db::comments::ids_with_ip(conn)?
                .into_iter()
                .filter(|(_, ip)| {
                    ip.as_deref()
                        .and_then(|ip| ip.parse::<IpAddr>().ok())
                        .is_some_and(|ip| net.contains(&ip))
                })
                .map(|(id, _)| id)
                .collect()
        }
    };
    let reason = format!("ban #{}", ban.id);
    let mut trashed = 0;
    for chunk in ids.chunks(500) {
        for comment in db::comments::find_many(conn, chunk)? {
            let from = comment.status;
            if matches!(
                from,
                CommentStatus::Trash | CommentStatus::Spam | CommentStatus::Deleted
            ) {
                continue;
            }
            let Some(updated) =
                db::moderation::set_status(conn, &comment, CommentStatus::Trash, None, now)?
            else {
                continue;
            };
            db::moderation::log(
                conn,
                &NewLogEntry {
                    comment_id: Some(comment.id),
                    moderator_id: Some(moderator_id),
                    action: LogAction::Trash,
                    from_status: Some(from),
                    to_status: Some(CommentStatus::Trash),
                    reason: Some(&reason),
                    subject: None,
                    created_at: now,
                    from_verdict: comment.verdict,
                },
            )?;
            let key = db::articles::find(conn, updated.article_id)?
                .map(|a| a.key)
                .unwrap_or_default();
            hooks.enqueue(
                conn,
                webhooks::COMMENT_TRASHED,
                webhooks::comment_data(&updated, &key),
            )?;
            trashed += 1;
        }
    }
    Ok(trashed)
}

/// Every ban, newest first.
pub async fn list(services: &Services, viewer: &AuthUser) -> Result<Vec<Ban>, ModerationError> {
    permissions::require_moderator(viewer)?;
    services
        .db
        .read(|conn| db::bans::all(conn, 1000).map_err(ModerationError::from))
        .await
}

/// Lifts a ban.
pub async fn lift(
    services: &Services,
    moderator: &AuthUser,
    id: BanId,
) -> Result<Ban, ModerationError> {
    permissions::require_moderator(moderator)?;
    let moderator_id = moderator.id;
    let now = db::now_millis();
    services
        .db
        .write(move |conn| {
            let ban =
                db::bans::lift(conn, id, moderator_id, now)?.ok_or(ModerationError::NotFound)?;
            let subject = format!("{}:{}", ban.kind, ban.value);
            db::moderation::log(
                conn,
                &NewLogEntry {
                    comment_id: None,
                    moderator_id: Some(moderator_id),
                    action: LogAction::Unban,
                    from_status: None,
                    to_status: None,
                    reason: None,
                    subject: Some(&subject),
                    created_at: now,
                    from_verdict: None,
                },
            )?;
            Ok(ban)
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ban_ends_are_checked_and_capped() {
        let now = 1_700_000_000_000;
        assert_eq!(expiry(now, None, None), Ok(None));
        assert_eq!(
            expiry(now, None, Some("7days")),
            Ok(Some(now + 7 * 24 * 3600 * 1000))
        );
        for (at, duration, field) in [
            (None, Some("1000000000years"), "duration"),
            (None, Some("200years"), "duration"),
            (Some("9999-12-31T00:00:00Z"), None, "expires_at"),
            (Some("2000-01-01T00:00:00Z"), None, "expires_at"),
            (None, Some("0s"), "duration"),
            (None, Some("soon"), "duration"),
            (Some("2030-01-01T00:00:00Z"), Some("1d"), "duration"),
        ] {
            let err = expiry(now, at, duration).unwrap_err();
            assert_eq!(err.field, field, "{at:?} {duration:?}");
        }
        assert!(expiry(now, None, Some("99years")).unwrap().is_some());
    }

    #[test]
    fn values_are_normalised() {
        assert_eq!(
            normalise(BanKind::Ip, "203.0.113.77/24").unwrap(),
            "203.0.113.0/24"
        );
        assert_eq!(
            normalise(BanKind::Ip, "2001:db8::1").unwrap(),
            "2001:db8::1/128"
        );
        assert_eq!(
            normalise(BanKind::Email, " A@Example.com ").unwrap(),
            "a@example.com"
        );
        assert!(normalise(BanKind::User, "abc").is_err());
        assert!(normalise(BanKind::Ip, "300.0.0.0/8").is_err());
    }
}
