//! Prometheus metrics, served at `GET /metrics`: requests by route and
//! status with latency histograms, comments by resulting status, scorer
//! latency and errors, outbox deliveries, and (read from the database at
//! scrape time) the moderation queue depth and the outbox backlog.
//!
//! One process-wide registry, as Prometheus clients conventionally have:
//! counters only ever grow, so tests running in parallel can still assert
//! that theirs moved.

use std::sync::LazyLock;

use crate::db::{Db, DbError};
use crate::domain::{CommentStatus, StatusCounts};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};

pub struct Metrics {
    registry: Registry,
    pub http_requests: IntCounterVec,
    pub http_seconds: HistogramVec,
    pub comments: IntCounterVec,
    pub scorer_seconds: HistogramVec,
    pub scorer_errors: IntCounterVec,
    pub outbox_deliveries: IntCounterVec,
    comments_stored: IntGaugeVec,
    outbox_backlog: IntGaugeVec,
}

/// Latency buckets from 100 µs to 10 s: fine where this service lives
/// (sub-millisecond reads), coarse where it should never be.
const LATENCY_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

fn build() -> Result<Metrics, prometheus::Error> {
    let registry = Registry::new();
    let http_requests = IntCounterVec::new(
        Opts::new(
            "moderato_http_requests_total",
            "HTTP requests by route, method and status",
        ),
        &["route", "method", "status"],
    )?;
    let http_seconds = HistogramVec::new(
        HistogramOpts::new(
            "moderato_http_request_duration_seconds",
            "HTTP request latency by route and method",
        )
        .buckets(LATENCY_BUCKETS.to_vec()),
        &["route", "method"],
    )?;
    let comments = IntCounterVec::new(
        Opts::new(
            "moderato_comments_submitted_total",
            "New comments by the status they were stored with",
        ),
        &["status"],
    )?;
    let scorer_seconds = HistogramVec::new(
        HistogramOpts::new(
            "moderato_spam_scorer_duration_seconds",
            "Spam scorer latency by scorer",
        )
        .buckets(LATENCY_BUCKETS.to_vec()),
        &["scorer"],
    )?;
    let scorer_errors = IntCounterVec::new(
        Opts::new(
            "moderato_spam_scorer_errors_total",
            "Spam scorer failures and timeouts by scorer",
        ),
        &["scorer"],
    )?;
    let outbox_deliveries = IntCounterVec::new(
        Opts::new(
            "moderato_outbox_deliveries_total",
            "Outbox delivery attempts by topic and outcome",
        ),
        &["topic", "outcome"],
    )?;
    let comments_stored = IntGaugeVec::new(
        Opts::new(
            "moderato_comments",
            "Stored comments by status (pending is the moderation queue depth)",
        ),
        &["status"],
    )?;
    let outbox_backlog = IntGaugeVec::new(
        Opts::new(
            "moderato_outbox_backlog",
            "Outbox messages not yet delivered nor given up, by topic",
        ),
        &["topic"],
    )?;
    registry.register(Box::new(http_requests.clone()))?;
    registry.register(Box::new(http_seconds.clone()))?;
    registry.register(Box::new(comments.clone()))?;
    registry.register(Box::new(scorer_seconds.clone()))?;
    registry.register(Box::new(scorer_errors.clone()))?;
    registry.register(Box::new(outbox_deliveries.clone()))?;
    registry.register(Box::new(comments_stored.clone()))?;
    registry.register(Box::new(outbox_backlog.clone()))?;
    Ok(Metrics {
        registry,
        http_requests,
        http_seconds,
        comments,
        scorer_seconds,
        scorer_errors,
        outbox_deliveries,
        comments_stored,
        outbox_backlog,
    })
}

/// The registry. Building it only fails on a programming error (a bad
/// metric name or a duplicate), which the unit test below catches.
pub static METRICS: LazyLock<Metrics> = LazyLock::new(|| match build() {
    Ok(m) => m,
    Err(e) => panic!("metric definitions are invalid: {e}"),
});

/// The text exposition, with the gauges (comments by status, the outbox
/// backlog) read from the database just now.
pub async fn render(db: &Db) -> Result<String, DbError> {
    let (stored, backlog) = db
        .read(|conn| {
            let stored = crate::db::stats::counts_by_status(conn)?;
            let backlog = crate::db::outbox::backlog_by_topic(conn)?;
            Ok::<_, DbError>((stored, backlog))
        })
        .await?;
    Ok(METRICS.render(&stored, &backlog))
}

impl Metrics {
    /// The text exposition, with these gauge values.
    pub fn render(&self, stored: &StatusCounts, backlog: &[(String, i64)]) -> String {
        self.comments_stored.reset();
        for &status in CommentStatus::ALL {
            self.comments_stored
                .with_label_values(&[status.as_str()])
                .set(stored.get(status));
        }
        self.outbox_backlog.reset();
        for (topic, count) in backlog {
            self.outbox_backlog
                .with_label_values(&[topic.as_str()])
                .set(*count);
        }
        let mut out = Vec::new();
        let families = self.registry.gather();
        if TextEncoder::new().encode(&families, &mut out).is_err() {
            return String::new();
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definitions_are_valid_and_render() {
        let metrics = build().expect("valid metric definitions");
        metrics
            .http_requests
            .with_label_values(&["/x", "GET", "200"])
            .inc();
        let stored = StatusCounts {
            pending: 3,
            ..StatusCounts::default()
        };
        let text = metrics.render(&stored, &[("webhook".into(), 2)]);
        assert!(
            text.contains(
                "moderato_http_requests_total{method=\"GET\",route=\"/x\",status=\"200\"} 1"
            ),
            "{text}"
        );
        assert!(
            text.contains("moderato_comments{status=\"pending\"} 3"),
            "{text}"
        );
        assert!(
            text.contains("moderato_comments{status=\"spam\"} 0"),
            "{text}"
        );
        assert!(
            text.contains("moderato_outbox_backlog{topic=\"webhook\"} 2"),
            "{text}"
        );
    }
}
