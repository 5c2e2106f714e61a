//! Event webhooks: configured endpoints receive signed JSON POSTs about
//! comments and commenters. Events are queued in the outbox inside the
//! transaction that made the change, then delivered with retries, so none
//! is lost when the receiver or this process is down.

use async_trait::async_trait;
use secrecy::ExposeSecret;
use serde_json::{json, Value};

use crate::auth::token;
use crate::config::WebhookEndpoint;
pub use crate::config::WebhookEvent;
use crate::db::models::Comment;
use crate::db::{self, AnyConnection, DbError};
use crate::domain::timestamp;
use crate::outbox::{self, Deliver};

pub const TOPIC: &str = "webhook";

pub const COMMENT_CREATED: WebhookEvent = WebhookEvent::CommentCreated;
pub const COMMENT_HELD: WebhookEvent = WebhookEvent::CommentHeld;
pub const COMMENT_APPROVED: WebhookEvent = WebhookEvent::CommentApproved;
pub const COMMENT_SPAM: WebhookEvent = WebhookEvent::CommentSpam;
pub const COMMENT_TRASHED: WebhookEvent = WebhookEvent::CommentTrashed;
pub const COMMENT_DELETED: WebhookEvent = WebhookEvent::CommentDeleted;
pub const COMMENTER_BANNED: WebhookEvent = WebhookEvent::CommenterBanned;

pub struct Webhooks {
    endpoints: Vec<WebhookEndpoint>,
    http: reqwest::Client,
}

impl Webhooks {
    pub fn new(endpoints: Vec<WebhookEndpoint>, http: reqwest::Client) -> Self {
        Webhooks { endpoints, http }
    }

    /// Queues `event` for every endpoint that subscribed to it, inside the
    /// caller's transaction; returns how many deliveries were queued.
    pub fn enqueue(
        &self,
        conn: &mut AnyConnection,
        event: WebhookEvent,
        data: Value,
    ) -> Result<usize, DbError> {
        let subscribed = self
            .endpoints
            .iter()
            .filter(|e| e.events.is_empty() || e.events.contains(&event));
        let mut queued = 0;
        for endpoint in subscribed {
            let payload = json!({
                "id": token::issue().hash[..32].to_string(),
                "event": event.as_str(),
                "occurred_at": timestamp(db::now_millis()),
                "data": data,
            });
            outbox::enqueue(conn, TOPIC, &endpoint.url, &payload)?;
            queued += 1;
        }
        Ok(queued)
    }

    pub fn is_empty(&self) -> bool {
        self.endpoints.is_empty()
    }

    pub async fn deliver(&self, url: &str, payload: &Value) -> Result<(), String> {
        let endpoint = self
            .endpoints
            .iter()
            .find(|e| e.url == url)
            .ok_or_else(|| format!("no webhook endpoint {url} is configured any more"))?;
        let body = serde_json::to_vec(payload).map_err(|e| e.to_string())?;
        let time = chrono::Utc::now().timestamp().to_string();
        let response = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .header(
                "x-moderato-event",
                payload["event"].as_str().unwrap_or_default(),
            )
            .header(
                "x-moderato-delivery",
                payload["id"].as_str().unwrap_or_default(),
            )
            .header("x-moderato-timestamp", &time)
            .header(
                "x-moderato-signature",
                token::sign(endpoint.secret.expose_secret(), &time, &body),
            )
            .body(body)
            .send()
            .await
            .map_err(|e| e.without_url().to_string())?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!("receiver answered HTTP {}", response.status()))
        }
    }
}

/// The event announcing that a comment moved to `status`.
pub fn event_for(status: crate::domain::CommentStatus) -> Option<WebhookEvent> {
    use crate::domain::CommentStatus;
    match status {
        CommentStatus::Approved => Some(COMMENT_APPROVED),
        CommentStatus::Pending => Some(COMMENT_HELD),
        CommentStatus::Spam => Some(COMMENT_SPAM),
        CommentStatus::Trash => Some(COMMENT_TRASHED),
        CommentStatus::Deleted => Some(COMMENT_DELETED),
    }
}

/// What a comment event carries: the comment as a moderator sees it (with
/// the author's email; never the IP).
pub fn comment_data(comment: &Comment, article_key: &str) -> Value {
    json!({
        "comment": {
            "id": comment.id,
            "article": article_key,
            "parent_id": comment.parent_id,
            "status": comment.status,
            "author": {
                "name": comment.author_name,
                "email": comment.author_email,
                "url": comment.author_url,
                "user_id": comment.user_id,
            },
            "body": comment.body,
            "html": comment.html,
            "score": comment.spam_score,
            "created_at": timestamp(comment.created_at),
        }
    })
}

/// Sends each outbox message to the part of the application that owns its
/// topic.
pub struct Deliveries {
    pub spam: std::sync::Arc<crate::spam::Spam>,
    pub webhooks: std::sync::Arc<Webhooks>,
}

#[async_trait]
impl Deliver for Deliveries {
    async fn deliver(&self, topic: &str, target: &str, payload: &Value) -> Result<(), String> {
        match topic {
            outbox::SPAM_FEEDBACK => self.spam.deliver(topic, target, payload).await,
            TOPIC => self.webhooks.deliver(target, payload).await,
            other => Err(format!("no deliverer for topic `{other}`")),
        }
    }
}
