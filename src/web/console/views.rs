//! What the console's templates show, worked out in Rust: times in words,
//! a comment card with its author's record and why it was held, the
//! decisions a comment can take. Templates only lay these out.

use chrono::{DateTime, Utc};

use crate::db::models::Comment;
use crate::domain::{CommentStatus, StatusCounts};
use crate::moderation::queue::QueueItem;
use crate::spam::Report;

/// A time as people read it, with its machine form for `<time>`.
pub struct When {
    pub iso: String,
    pub text: String,
}

impl When {
    pub fn at(millis: i64) -> When {
        let at: DateTime<Utc> = DateTime::from_timestamp_millis(millis).unwrap_or_default();
        When {
            iso: at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            text: at.format("%Y-%m-%d %H:%M UTC").to_string(),
        }
    }
}

/// A decision a comment in some status can take, as a button.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Button {
    /// The `action` the form posts.
    pub action: &'static str,
    pub label: &'static str,
    /// The key that presses it (the script's shortcut), shown beside it.
    pub key: &'static str,
}

pub const APPROVE: Button = Button {
    action: "approve",
    label: "Approve",
    key: "a",
};
pub const SPAM: Button = Button {
    action: "spam",
    label: "Spam",
    key: "s",
};
pub const NOT_SPAM: Button = Button {
    action: "not_spam",
    label: "Not spam",
    key: "a",
};
pub const TRASH: Button = Button {
    action: "trash",
    label: "Trash",
    key: "d",
};
pub const RESTORE: Button = Button {
    action: "restore",
    label: "Restore",
    key: "r",
};

/// The decisions that make sense for a comment in `status`.
pub fn buttons_for(status: CommentStatus) -> Vec<Button> {
    match status {
        CommentStatus::Pending => vec![APPROVE, SPAM, TRASH],
        CommentStatus::Approved => vec![SPAM, TRASH],
        CommentStatus::Spam => vec![NOT_SPAM, TRASH],
        CommentStatus::Trash => vec![RESTORE, SPAM],
        CommentStatus::Deleted => Vec::new(),
    }
}

pub fn status_label(status: CommentStatus) -> &'static str {
    match status {
        CommentStatus::Pending => "Pending",
        CommentStatus::Approved => "Approved",
        CommentStatus::Spam => "Spam",
        CommentStatus::Trash => "Trash",
        CommentStatus::Deleted => "Deleted",
    }
}

/// One scorer's line in the breakdown.
pub struct ScorerLine {
    pub kind: String,
    pub shadow: bool,
    pub weight: String,
    pub score: String,
    pub reasons: String,
    pub rule: String,
    pub took: String,
    pub error: Option<String>,
}

/// A comment as a card in the queue.
pub struct Card {
    pub id: i64,
    pub version: i64,
    pub status: &'static str,
    pub status_label: &'static str,
    pub article_title: String,
    pub article_href: Option<String>,
    pub created: When,
    pub edited: bool,
    pub parent_id: Option<i64>,
    pub author_name: String,
    pub author_email: Option<String>,
    pub author_url: Option<String>,
    pub ip: Option<String>,
    pub account: Option<i64>,
    pub trusted: bool,
    pub banned: bool,
    pub counts: StatusCounts,
    pub first_seen: Option<When>,
    pub commenter_href: Option<String>,
    /// The body as the sanitizer stored it: the only unescaped output.
    pub html: String,
    pub score: Option<String>,
    /// One line saying why it was held or taken for spam.
    pub held_because: Option<String>,
    pub scorers: Vec<ScorerLine>,
    pub buttons: Vec<Button>,
}

impl Card {
    pub fn new(item: &QueueItem) -> Card {
        let c = &item.comment;
        let report: Option<Report> = c
            .spam_report
            .as_deref()
            .and_then(|r| serde_json::from_str(r).ok());
        let held_because = report
            .as_ref()
            .filter(|r| !r.held_because.is_empty())
            .map(|r| r.held_because.join("; "));
        let scorers = report
            .as_ref()
            .map(|r| r.scorers.iter().map(scorer_line).collect())
            .unwrap_or_default();
        Card {
            id: c.id.0,
            version: c.version,
            status: c.status.as_str(),
            status_label: status_label(c.status),
            article_title: item
                .article
                .title
                .clone()
                .unwrap_or_else(|| item.article.key.clone()),
            article_href: item.article.url.clone(),
            created: When::at(c.created_at),
            edited: c.edited_at.is_some(),
            parent_id: c.parent_id.map(|p| p.0),
            author_name: c.author_name.clone(),
            author_email: c.author_email.clone(),
            author_url: c.author_url.clone(),
            ip: c.ip.clone(),
            account: c.user_id.map(|u| u.0),
            trusted: item.author.trusted,
            banned: item.author.banned,
            counts: item.author.counts,
            first_seen: item.author.first_seen.map(When::at),
            commenter_href: commenter_href(c),
            html: c.html.clone(),
            score: c.spam_score.map(|s| format!("{s:.2}")),
            held_because,
            scorers,
            buttons: buttons_for(c.status),
        }
    }
}

fn scorer_line(s: &crate::spam::ScorerReport) -> ScorerLine {
    ScorerLine {
        kind: s.kind.clone(),
        shadow: s.mode == crate::config::ScorerMode::Shadow,
        weight: format!("{:.2}", s.weight),
        score: s
            .score
            .map_or_else(|| "–".to_string(), |v| format!("{v:.3}")),
        reasons: s.reasons.join("; "),
        rule: match s.rule {
            Some(crate::spam::Rule::Spam) => "spam".into(),
            Some(crate::spam::Rule::Hold) => "hold".into(),
            None => String::new(),
        },
        took: if s.elapsed_us >= 1000 {
            format!("{:.1} ms", s.elapsed_us as f64 / 1000.0)
        } else {
            format!("{} µs", s.elapsed_us)
        },
        error: s.error.clone(),
    }
}

/// The commenter page of a comment's author: by email (accounts have one
/// too), else by the address it came from.
pub fn commenter_href(c: &Comment) -> Option<String> {
    let query = match (&c.author_email, &c.ip) {
        (Some(email), _) => format!("email={}", encode(email)),
        (None, Some(ip)) => format!("ip={}", encode(ip)),
        (None, None) => return None,
    };
    Some(format!("/admin/commenter?{query}"))
}

/// Percent-encodes a query value.
pub fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_offers_what_it_can_become() {
        assert_eq!(
            buttons_for(CommentStatus::Pending),
            vec![APPROVE, SPAM, TRASH]
        );
        assert!(buttons_for(CommentStatus::Spam).contains(&NOT_SPAM));
        assert!(buttons_for(CommentStatus::Trash).contains(&RESTORE));
        assert!(buttons_for(CommentStatus::Deleted).is_empty());
    }

    #[test]
    fn times_read_in_utc() {
        let when = When::at(1_764_633_600_000);
        assert_eq!(when.iso, "2025-12-02T00:00:00Z");
        assert_eq!(when.text, "2025-12-02 00:00 UTC");
    }
}
