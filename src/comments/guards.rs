//! The guards in front of every new comment and every edit: the flood
//! guard (one action per `guards.flood_interval` from an address or an
//! account), the rate limits (`comments.rate_limit`, new comments and edits
//! counted together) and the duplicate guard.
//!
//! They are decided inside the write transaction that stores the comment,
//! after locking the writer's keys ([`db::lock_keys`]), so concurrent
//! requests from one client cannot all pass a check that each alone would
//! fail. A read-only [`Guards::peek`] before scoring refuses the obvious
//! cases early, so a flood costs no scoring (and no paid spam API call).

use std::net::IpAddr;
use std::time::Duration;

use super::CommentError;
use crate::config::Settings;
use crate::db::comments::{DuplicateProbe, Writer};
use crate::db::{self, AnyConnection, Db};
use crate::domain::{ArticleId, CommentId, Fingerprint};

use crate::ratelimit::{self, Rule};

/// What is being guarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Comment,
    Edit,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Action::Comment => "comment",
            Action::Edit => "edit",
        }
    }
}

/// The checks for one action by one writer, ready to run in a read (to
/// fail fast) and in the write transaction (to decide).
#[derive(Debug, Clone)]
pub struct Guards {
    locks: Vec<String>,
    /// Rate limits: refused as "rate limited".
    limits: Vec<Rule>,
    /// Flood intervals, as limits of one per interval: refused as "too
    /// fast".
    flood: Vec<Rule>,
    duplicate: Option<DuplicateProbe>,
}

/// Who acts, as the guards count them.
pub struct Actor<'a> {
    pub writer: &'a Writer,
    /// Trusted accounts and staff skip the flood guard and rate limits;
    /// the duplicate guard still applies.
    pub trusted: bool,
    pub ip: Option<IpAddr>,
}

/// Texts with fewer letters and digits than this are said by many people
/// ("Thanks!") and are compared on their own article only.
pub const MIN_CHARS_ACROSS_ARTICLES: usize = 16;

impl Guards {
    /// `editing` is the id of the comment being edited.
    pub fn new(
        settings: &Settings,
        action: Action,
        actor: &Actor<'_>,
        fingerprint: &Fingerprint,
        editing: Option<CommentId>,
        now: i64,
    ) -> Guards {
        let name = action.as_str();
        let mut locks = Vec::with_capacity(2);
        let mut limits = Vec::new();
        let mut flood = Vec::new();
        let limit = &settings.comments.rate_limit;
        let interval = settings.guards.flood_interval;
        let account = match actor.writer {
            Writer::Account(id) => Some(*id),
            _ => None,
        };
        locks.push(writer_key(actor.writer));
        if let Some(ip) = actor.ip {
            locks.push(format!("ip:{ip}"));
        }
        if !actor.trusted {
            if let Some(ip) = actor.ip {
                limits.push(rule(format!("comment:ip:{ip}"), limit.per_ip, limit.window));
                flood.push(rule(format!("flood:{name}:ip:{ip}"), 1, interval));
            }
            if let Some(id) = account {
                limits.push(rule(
                    format!("comment:user:{id}"),
                    limit.per_account,
                    limit.window,
                ));
                flood.push(rule(format!("flood:{name}:user:{id}"), 1, interval));
            }
        }
        let duplicate = settings.guards.refuse_duplicates.then(|| {
            let window =
                i64::try_from(settings.guards.duplicate_window.as_millis()).unwrap_or(i64::MAX);
            let across = window > 0 && fingerprint.significant_chars >= MIN_CHARS_ACROSS_ARTICLES;
            DuplicateProbe {
                fingerprint: fingerprint.hash.clone(),
                article_id: None,
                writer: actor.writer.clone(),
                ip: actor.ip.map(|ip| ip.to_string()),
                across_articles_since: across.then(|| now.saturating_sub(window)),
                except_id: editing,
            }
        });
        Guards {
            locks,
            limits,
            flood,
            duplicate,
        }
    }

    /// Read-only: would the guards refuse now? Counts nothing. `article_id`
    /// is `None` for an article that does not exist yet.
    pub fn peek(
        &self,
        conn: &mut AnyConnection,
        article_id: Option<ArticleId>,
        now: i64,
    ) -> Result<(), CommentError> {
        if let Some(retry_after_secs) = ratelimit::peek_in(conn, &self.limits, now)? {
            return Err(CommentError::RateLimited { retry_after_secs });
        }
        if let Some(retry_after_secs) = ratelimit::peek_in(conn, &self.flood, now)? {
            return Err(CommentError::Flood { retry_after_secs });
        }
        self.check_duplicate(conn, article_id)
    }

    /// Inside the write transaction: locks the writer's keys and counts the
    /// action against the limits. A refusal rolls the whole transaction
    /// back, its counts with it.
    pub fn count(&self, conn: &mut AnyConnection, now: i64) -> Result<(), CommentError> {
        db::lock_keys(conn, &self.locks)?;
        if let Some(retry_after_secs) = ratelimit::hit_in(conn, &self.limits, now)? {
            return Err(CommentError::RateLimited { retry_after_secs });
        }
        if let Some(retry_after_secs) = ratelimit::hit_in(conn, &self.flood, now)? {
            return Err(CommentError::Flood { retry_after_secs });
        }
        Ok(())
    }

    /// Inside the write transaction, after [`Guards::count`] (which took
    /// the locks) and once the article is known (it may have been created
    /// by this transaction or a concurrent one).
    pub fn check_duplicate(
        &self,
        conn: &mut AnyConnection,
        article_id: Option<ArticleId>,
    ) -> Result<(), CommentError> {
        let Some(probe) = &self.duplicate else {
            return Ok(());
        };
        let probe = DuplicateProbe {
            article_id,
            ..probe.clone()
        };
        if db::comments::duplicate_exists(conn, &probe)? {
            return Err(CommentError::Duplicate);
        }
        Ok(())
    }
}

/// Fills in the fingerprints of comments written before they were kept
/// (migration 0008), a batch at a time in the background, so the duplicate
/// guard sees those comments too. Runs once per start; a no-op once done.
pub async fn backfill_fingerprints(db: Db) {
    const BATCH: i64 = 500;
    let mut after = CommentId(0);
    let mut filled = 0usize;
    loop {
        let batch = db
            .write(move |conn| {
                let rows = db::comments::without_fingerprint(conn, after, BATCH)?;
                for (id, body) in &rows {
                    db::comments::set_fingerprint(conn, *id, &Fingerprint::of(body).hash)?;
                }
                Ok::<_, db::DbError>(rows.last().map(|(id, _)| (*id, rows.len())))
            })
            .await;
        match batch {
            Ok(Some((last, count))) => {
                after = last;
                filled += count;
            }
            Ok(None) => break,
            Err(e) => {
                tracing::warn!(error = %crate::telemetry::Chain(&e), "could not fill in comment fingerprints; will retry at the next start");
                return;
            }
        }
    }
    if filled > 0 {
        tracing::info!(
            comments = filled,
            "filled in the duplicate guard's fingerprints of older comments"
        );
    }
}

fn rule(key: String, limit: u32, window: Duration) -> Rule {
    // A zero interval or window turns the rule off, as a zero limit does.
    let limit = if window.is_zero() { 0 } else { limit };
    Rule { key, limit, window }
}

fn writer_key(writer: &Writer) -> String {
    match writer {
        Writer::Account(id) => format!("user:{id}"),
        Writer::Guest(email) => format!("email:{email}"),
        Writer::Anonymous(name) => format!("name:{name}"),
    }
}
