//! Durable delivery to other services: feedback to external spam scorers
//! and (later) webhooks. A message is written to the outbox table in the
//! same transaction as the change it reports, and a worker delivers it with
//! retries and exponential back-off, so nothing is lost while the receiver
//! or this process is down. A message that keeps failing is given up after
//! `max_attempts`, with an error in the log.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;

use crate::db::outbox::{self as queries, NewMessage};
use crate::db::{self, AnyConnection, Db, DbError};
use crate::metrics::METRICS;
use crate::telemetry::Chain;

/// Feedback to a spam scorer; the target is the scorer's kind.
pub const SPAM_FEEDBACK: &str = "spam_feedback";

/// How long a claimed message is reserved for the worker that took it.
const LEASE_MS: i64 = 5 * 60 * 1000;
/// Messages handled per poll.
const BATCH: i64 = 32;

/// Queues a message, inside the caller's transaction.
pub fn enqueue(
    conn: &mut AnyConnection,
    topic: &str,
    target: &str,
    payload: &serde_json::Value,
) -> Result<(), DbError> {
    let now = db::now_millis();
    let payload = payload.to_string();
    queries::insert(
        conn,
        &NewMessage {
            topic,
            target,
            payload: &payload,
            next_attempt_at: now,
            created_at: now,
        },
    )?;
    Ok(())
}

/// Delivers one message; an `Err` is retried later.
#[async_trait]
pub trait Deliver: Send + Sync {
    async fn deliver(
        &self,
        topic: &str,
        target: &str,
        payload: &serde_json::Value,
    ) -> Result<(), String>;
}

#[derive(Debug, Clone)]
pub struct RetryPolicy {
    pub poll_interval: Duration,
    pub max_attempts: u32,
    pub first_retry: Duration,
    pub max_retry: Duration,
}

impl RetryPolicy {
    /// Wait before retry number `attempt` (1-based): doubling from
    /// `first_retry`, capped at `max_retry`.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(20));
        self.first_retry.saturating_mul(factor).min(self.max_retry)
    }
}

/// Wakes the worker when a message is queued, so delivery does not wait
/// for the next poll.
#[derive(Clone, Default)]
pub struct Waker(Arc<Notify>);

impl Waker {
    pub fn wake(&self) {
        self.0.notify_one();
    }
}

/// Runs until the task is aborted.
pub async fn run_worker(db: Db, deliverer: Arc<dyn Deliver>, policy: RetryPolicy, waker: Waker) {
    loop {
        match deliver_due(&db, deliverer.as_ref(), &policy).await {
            Ok(handled) if handled as i64 == BATCH => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %Chain(&e), "outbox poll failed; will retry"),
        }
        tokio::select! {
            _ = tokio::time::sleep(policy.poll_interval) => {}
            _ = waker.0.notified() => {}
        }
    }
}

/// Delivers what is due now; returns how many messages were handled.
pub async fn deliver_due(
    db: &Db,
    deliverer: &dyn Deliver,
    policy: &RetryPolicy,
) -> Result<usize, DbError> {
    let now = db::now_millis();
    let due = db
        .read(move |conn| queries::due(conn, now, BATCH).map_err(DbError::from))
        .await?;
    let mut handled = 0;
    for message in due {
        let id = message.id;
        let claimed = db
            .write(move |conn| queries::claim(conn, id, now, now + LEASE_MS).map_err(DbError::from))
            .await?;
        if !claimed {
            continue;
        }
        handled += 1;
        let outcome = match serde_json::from_str::<serde_json::Value>(&message.payload) {
            Ok(payload) => {
                deliverer
                    .deliver(&message.topic, &message.target, &payload)
                    .await
            }
            Err(e) => Err(format!("payload is not JSON: {e}")),
        };
        let attempt = u32::try_from(message.attempts).unwrap_or(0) + 1;
        let outcome_label = match (&outcome, attempt >= policy.max_attempts) {
            (Ok(()), _) => "delivered",
            (Err(_), true) => "gave_up",
            (Err(_), false) => "failed",
        };
        METRICS
            .outbox_deliveries
            .with_label_values(&[message.topic.as_str(), outcome_label])
            .inc();
        let done = db::now_millis();
        match outcome {
            Ok(()) => {
                db.write(move |conn| queries::delivered(conn, id, done).map_err(DbError::from))
                    .await?;
                tracing::debug!(id, topic = %message.topic, target = %message.target, attempt, "outbox message delivered");
            }
            Err(error) if attempt >= policy.max_attempts => {
                tracing::error!(id, topic = %message.topic, target = %message.target, attempt, %error,
                    "outbox message given up after repeated failures");
                db.write(move |conn| {
                    queries::gave_up(conn, id, done, &error).map_err(DbError::from)
                })
                .await?;
            }
            Err(error) => {
                let wait = policy.backoff(attempt);
                let next = done + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX / 2);
                tracing::warn!(id, topic = %message.topic, target = %message.target, attempt, %error,
                    retry_in_s = wait.as_secs(), "outbox delivery failed; will retry");
                db.write(move |conn| {
                    queries::failed(conn, id, next, &error).map_err(DbError::from)
                })
                .await?;
            }
        }
    }
    Ok(handled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let policy = RetryPolicy {
            poll_interval: Duration::from_secs(1),
            max_attempts: 10,
            first_retry: Duration::from_secs(10),
            max_retry: Duration::from_secs(3600),
        };
        assert_eq!(policy.backoff(1), Duration::from_secs(10));
        assert_eq!(policy.backoff(2), Duration::from_secs(20));
        assert_eq!(policy.backoff(5), Duration::from_secs(160));
        assert_eq!(policy.backoff(20), Duration::from_secs(3600));
        assert_eq!(policy.backoff(u32::MAX), Duration::from_secs(3600));
    }
}
