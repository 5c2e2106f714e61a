//! Times: stored as milliseconds since the Unix epoch (portable across both
//! databases), shown as RFC 3339.

use chrono::{DateTime, SecondsFormat};

/// Now, in milliseconds since the epoch.
pub fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// RFC 3339 in UTC with milliseconds, as every answer and event shows
/// times.
pub fn timestamp(millis: i64) -> String {
    DateTime::from_timestamp_millis(millis)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}
