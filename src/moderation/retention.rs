//! Retention: spam and trash are deleted for good after
//! `retention.spam_days` / `retention.trash_days`, and IP addresses and user
//! agents are erased after `retention.ip_days`. Each run that removes
//! anything is logged with its counts (and written to the moderation log).

use std::sync::Arc;
use std::time::Duration;

use crate::cache::{self, PublicCache};
use crate::config::RetentionSettings;
use crate::db::moderation::NewLogEntry;
use crate::db::{self, Db, DbError};
use crate::domain::{CommentStatus, LogAction};
use crate::telemetry::Chain;

const DAY_MS: i64 = 24 * 3600 * 1000;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub spam: usize,
    pub trash: usize,
    pub client_data: usize,
}

/// One purge as of `now` (milliseconds since the epoch).
pub async fn purge(db: &Db, settings: &RetentionSettings, now: i64) -> Result<Purged, DbError> {
    let cutoff = |days: u32| (days > 0).then(|| now - i64::from(days) * DAY_MS);
    let (spam_before, trash_before, ip_before) = (
        cutoff(settings.spam_days),
        cutoff(settings.trash_days),
        cutoff(settings.ip_days),
    );
    let purged = db
        .write(move |conn| {
            let mut purged = Purged::default();
            if let Some(before) = spam_before {
                purged.spam = db::erasure::purge_status(conn, CommentStatus::Spam, before)?;
            }
            if let Some(before) = trash_before {
                purged.trash = db::erasure::purge_status(conn, CommentStatus::Trash, before)?;
            }
            if let Some(before) = ip_before {
                purged.client_data = db::erasure::erase_client_data(conn, before)?;
            }
            if purged.spam + purged.trash > 0 {
                // A purged comment's replies move up a level in their thread.
                cache::notify_in(conn, None)?;
            }
            if purged != Purged::default() {
                let summary = format!(
                    "{} spam, {} trash deleted; client data erased from {} comments",
                    purged.spam, purged.trash, purged.client_data
                );
                db::moderation::log(
                    conn,
                    &NewLogEntry {
                        comment_id: None,
                        moderator_id: None,
                        action: LogAction::Purge,
                        from_status: None,
                        to_status: None,
                        reason: Some(&summary),
                        subject: Some("retention"),
                        created_at: now,
                        from_verdict: None,
                    },
                )?;
            }
            Ok::<_, DbError>(purged)
        })
        .await?;
    if purged != Purged::default() {
        tracing::info!(
            spam = purged.spam,
            trash = purged.trash,
            client_data = purged.client_data,
            "retention purge"
        );
    }
    Ok(purged)
}

/// Runs the purge every `settings.interval` until aborted.
pub async fn run(db: Db, settings: RetentionSettings, public: Arc<PublicCache>) {
    let mut tick = tokio::time::interval(settings.interval.max(Duration::from_secs(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match purge(&db, &settings, db::now_millis()).await {
            Ok(purged) if purged.spam + purged.trash > 0 => public.invalidate_all(),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %Chain(&e), "retention purge failed; will retry"),
        }
    }
}
