//! The JSON shapes Isso's client reads: comments with Isso's field names,
//! modes and times, the thread answer, the client configuration.
//!
//! Isso's client writes `author` and `website` into its HTML as they come
//! (Isso escapes them when it stores them); Moderato stores what was
//! typed, so they are escaped here, on the way out.

use serde::Serialize;

use crate::comments::votes::Tally;
use crate::comments::Avatars;
use crate::config::{AvatarScheme, Settings};
use crate::db::models::Comment;
use crate::domain::{CommentId, CommentStatus};

/// Isso's `mode`: 1 published, 2 waiting for a moderator, 4 deleted but
/// kept for its replies.
pub fn mode(status: CommentStatus) -> u8 {
    match status {
        CommentStatus::Approved => 1,
        CommentStatus::Deleted => 4,
        // Spam is shown to its author as held, like the JSON API does.
        _ => 2,
    }
}

/// A comment in Isso's shape.
#[derive(Debug, Serialize)]
pub struct IssoComment {
    pub id: CommentId,
    pub parent: Option<CommentId>,
    /// Sanitized HTML, or the markdown as written when asked `plain`.
    pub text: String,
    pub author: Option<String>,
    pub website: Option<String>,
    pub mode: u8,
    /// Unix seconds, with the milliseconds as a fraction.
    pub created: f64,
    pub modified: Option<f64>,
    pub likes: i64,
    pub dislikes: i64,
    /// 12 hex digits the same for one author, for the client's identicons
    /// and `data-isso-page-author-hashes`.
    pub hash: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gravatar_image: Option<String>,
    /// Reply notifications by email, which Moderato does not send.
    pub notification: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_replies: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hidden_replies: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replies: Option<Vec<IssoComment>>,
}

/// The hash of a deleted comment, which tells nothing about its author.
const NO_HASH: &str = "000000000000";

/// How comments are shown: what the settings and the request say.
pub struct Shaper<'a> {
    pub avatars: &'a Avatars,
    pub settings: &'a Settings,
    /// Show the markdown as written instead of its HTML.
    pub plain: bool,
}

impl Shaper<'_> {
    /// `parent` is the comment's Isso parent (see `nesting`).
    pub fn comment(&self, c: &Comment, parent: Option<CommentId>, tally: Tally) -> IssoComment {
        let deleted = c.status == CommentStatus::Deleted;
        // A guest without an email is told apart by name.
        let author_key = match &c.author_email {
            Some(email) => self.avatars.of(Some(email)),
            None => self.avatars.of(Some(&format!("name:{}", c.author_name))),
        };
        let hash = match (&author_key, deleted) {
            (Some(key), false) => key.chars().take(12).collect(),
            _ => NO_HASH.to_string(),
        };
        let gravatar_image =
            (self.settings.comments.avatars == AvatarScheme::Gravatar).then(|| {
                let key = author_key.as_deref().filter(|_| !deleted).unwrap_or("");
                escape_attribute(&self.settings.isso.gravatar_url.replacen("{}", key, 1))
            });
        IssoComment {
            id: c.id,
            parent,
            text: match (deleted, self.plain) {
                (true, _) => String::new(),
                (false, true) => c.body.clone(),
                (false, false) => c.html.clone(),
            },
            author: (!deleted).then(|| escape_text(&c.author_name)),
            website: c
                .author_url
                .as_deref()
                .filter(|_| !deleted)
                .map(escape_attribute),
            mode: mode(c.status),
            created: seconds(c.created_at),
            modified: c.edited_at.map(seconds),
            likes: tally.likes,
            dislikes: tally.dislikes,
            hash,
            gravatar_image,
            notification: 0,
            total_replies: None,
            hidden_replies: None,
            replies: None,
        }
    }
}

fn seconds(millis: i64) -> f64 {
    millis as f64 / 1000.0
}

/// Text for an element's content.
pub fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            other => out.push(other),
        }
    }
    out
}

/// Text for an attribute value in single or double quotes.
pub fn escape_attribute(text: &str) -> String {
    escape_text(text)
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
}

/// One comment of `GET /latest`: with the `uri` of its thread.
#[derive(Debug, Serialize)]
pub struct Latest {
    #[serde(flatten)]
    pub comment: IssoComment,
    pub uri: String,
}

/// The answer to `GET /?uri=...`.
#[derive(Debug, Serialize)]
pub struct ThreadAnswer {
    pub id: Option<CommentId>,
    pub total_replies: usize,
    pub hidden_replies: i64,
    pub replies: Vec<IssoComment>,
    /// Isso still sends its client configuration here too.
    pub config: ClientConfig,
}

/// What Isso's `GET /config` reports: the settings its client takes from
/// the server rather than from the page.
#[derive(Debug, Clone, Serialize)]
pub struct ClientConfig {
    #[serde(rename = "reply-to-self")]
    pub reply_to_self: bool,
    #[serde(rename = "require-author")]
    pub require_author: bool,
    #[serde(rename = "require-email")]
    pub require_email: bool,
    #[serde(rename = "reply-notifications")]
    pub reply_notifications: bool,
    pub gravatar: bool,
    /// Sent only with `gravatar`, as Isso does: no identicons beside
    /// Gravatar's images.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avatar: Option<bool>,
    pub vote: bool,
    #[serde(rename = "vote-levels")]
    pub vote_levels: Option<Vec<i64>>,
    pub feed: bool,
}

impl ClientConfig {
    pub fn of(settings: &Settings) -> Self {
        let isso = &settings.isso;
        let gravatar = settings.comments.avatars == AvatarScheme::Gravatar;
        ClientConfig {
            reply_to_self: isso.reply_to_self,
            require_author: settings.comments.require_name_email,
            require_email: settings.comments.require_name_email,
            reply_notifications: false,
            gravatar,
            avatar: gravatar.then_some(false),
            vote: isso.vote,
            vote_levels: (!isso.vote_levels.is_empty()).then(|| isso.vote_levels.clone()),
            feed: isso.feed_base().is_some(),
        }
    }
}

/// The answer to a vote: the comment's tally, and why the vote did not
/// count when it did not.
#[derive(Debug, Serialize)]
pub struct VoteAnswer {
    pub likes: i64,
    pub dislikes: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<&'static str>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn author_fields_are_escaped_for_the_clients_html() {
        assert_eq!(
            escape_text("Ada & <b>Bo</b>"),
            "Ada &amp; &lt;b&gt;Bo&lt;/b&gt;"
        );
        assert_eq!(
            escape_attribute("https://x.example/?a=1&b='\"><script>"),
            "https://x.example/?a=1&amp;b=&#x27;&quot;&gt;&lt;script&gt;"
        );
    }

    #[test]
    fn modes_follow_isso() {
        assert_eq!(mode(CommentStatus::Approved), 1);
        assert_eq!(mode(CommentStatus::Pending), 2);
        assert_eq!(mode(CommentStatus::Spam), 2);
        assert_eq!(mode(CommentStatus::Deleted), 4);
    }
}
