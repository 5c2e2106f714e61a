//! Spam scoring: every new comment and every edit passes through a pipeline
//! of scorers before it is stored.
//!
//! A scorer looks at a [`Candidate`] and returns an [`Assessment`]: a score
//! in [0, 1] (0.5 = no opinion), human-readable reasons, and optionally a
//! hard [`Rule`] (hold or spam, whatever the score). The [`Pipeline`]
//! (`pipeline.rs`) runs the configured scorers with their timeouts, combines
//! the scores and maps the result to a status, keeping a per-scorer
//! [`Report`] with the comment.
//!
//! Adding a scorer: one file here implementing [`Scorer`], a variant of
//! `config::ScorerSettings` with the kind's settings type, one line in
//! `build_scorer` (`pipeline.rs`), and a `[[spam.scorers]]` entry in the
//! configuration.

pub mod admin;
mod akismet;
pub mod classifier;
pub mod eval;
mod honeypot;
mod http;
pub mod learned;
mod links;
mod pipeline;
mod service;
pub mod wordlists;

use std::net::IpAddr;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::db::models::{Article, Comment};
use crate::db::{AnyConnection, DbError};
pub use crate::domain::Verdict;
use crate::domain::{Role, StatusCounts, UserId};

pub use learned::LearnedModel;
pub use pipeline::{BuildError, Decision, Pipeline, Policy, Report, ScorerReport};
pub use service::Spam;
pub use wordlists::WordLists;

/// Everything a scorer may look at.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Candidate {
    pub body: String,
    pub author_name: String,
    pub author_email: Option<String>,
    pub author_url: Option<String>,
    /// The commenter's account, when signed in.
    pub account: Option<AccountFacts>,
    /// What this commenter (by account, or by email as a guest) has posted
    /// before and how it was judged.
    pub history: StatusCounts,
    pub article: ArticleFacts,
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
    pub referrer: Option<String>,
    /// The value of the configured honeypot field, if the form sent one.
    pub honeypot: Option<String>,
    /// An edit of an existing comment rather than a new one.
    pub is_edit: bool,
    /// Milliseconds since the epoch.
    pub created_at: i64,
    /// When a verdict is recorded: what each scorer said at the time, from
    /// the stored report, as `(kind, score)`.
    #[serde(skip)]
    pub prior_scores: Vec<(String, f64)>,
}

impl Candidate {
    /// Rebuilds the candidate a stored comment was (or would now be)
    /// scored as.
    pub fn of_stored(comment: &Comment, article: &Article, history: StatusCounts) -> Candidate {
        Candidate {
            body: comment.body.clone(),
            author_name: comment.author_name.clone(),
            author_email: comment.author_email.clone(),
            author_url: comment.author_url.clone(),
            account: None,
            history,
            article: ArticleFacts {
                key: article.key.clone(),
                title: article.title.clone(),
                url: article.url.clone(),
            },
            ip: comment.ip.as_deref().and_then(|ip| ip.parse().ok()),
            user_agent: comment.user_agent.clone(),
            referrer: comment.referrer.clone(),
            honeypot: None,
            is_edit: false,
            created_at: comment.created_at,
            prior_scores: comment
                .spam_report
                .as_deref()
                .and_then(|r| serde_json::from_str::<Report>(r).ok())
                .map(|r| {
                    r.scorers
                        .into_iter()
                        .filter_map(|s| s.score.map(|v| (s.kind, v)))
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct AccountFacts {
    pub id: UserId,
    pub role: Role,
    pub trusted: bool,
    pub created_at: i64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ArticleFacts {
    pub key: String,
    pub title: Option<String>,
    pub url: Option<String>,
}

/// A hard rule a scorer may apply, overriding the combined score upwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rule {
    /// At least pending: a moderator must look.
    Hold,
    /// Spam, whatever else says.
    Spam,
}

/// What one scorer thinks of a candidate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assessment {
    /// 0 = surely legitimate, 0.5 = no opinion, 1 = surely spam.
    pub score: f64,
    pub reasons: Vec<String>,
    pub rule: Option<Rule>,
}

impl Assessment {
    pub fn neutral() -> Self {
        Assessment {
            score: 0.5,
            reasons: Vec::new(),
            rule: None,
        }
    }
}

/// An earlier verdict on a comment and the text it taught the learned
/// scorer (the comment may have been edited since).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prior {
    pub verdict: Verdict,
    pub text: String,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum ScorerError {
    #[error("timed out after {0} ms")]
    Timeout(u128),
    #[error("request failed: {0}")]
    Http(String),
    #[error("unexpected answer: {0}")]
    BadAnswer(String),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("{0}")]
    Failed(String),
}

/// A spam scorer. Implementations are shared across requests (`&self`), so
/// mutable state sits behind locks or in the database.
#[async_trait]
pub trait Scorer: Send + Sync {
    /// The `kind` this scorer is configured by.
    fn kind(&self) -> &'static str;

    async fn score(&self, candidate: &Candidate) -> Result<Assessment, ScorerError>;

    /// True when `score` only computes on the candidate and the scorer's
    /// own memory: no network, no database, never waiting, so its future
    /// is ready at the first poll. The pipeline runs such scorers on the
    /// CPU pool, off the HTTP workers.
    fn computes_only(&self) -> bool {
        false
    }

    /// Records a moderator's verdict, inside the transaction that stores
    /// the decision (so the two stand or fall together): a learning scorer
    /// updates its model, an external one queues feedback in the outbox.
    /// `prior` is the verdict this one replaces, with the text it taught.
    fn record_verdict(
        &self,
        _conn: &mut AnyConnection,
        _candidate: &Candidate,
        _verdict: Verdict,
        _prior: Option<&Prior>,
    ) -> Result<(), DbError> {
        Ok(())
    }

    /// Takes back a verdict recorded earlier (a moderator undid the
    /// decision), inside the undo's transaction. `prior` is that verdict
    /// with the text it taught. Only a scorer that learned something has
    /// anything to take back: feedback already sent elsewhere stays sent.
    fn forget_verdict(&self, _conn: &mut AnyConnection, _prior: &Prior) -> Result<(), DbError> {
        Ok(())
    }

    /// A start-up check (e.g. that an API key is valid), logged by the
    /// caller. `None` when the scorer has nothing to check.
    async fn self_check(&self) -> Option<Result<String, ScorerError>> {
        None
    }

    /// Delivers one feedback message this scorer queued in the outbox.
    async fn deliver_feedback(&self, _payload: &serde_json::Value) -> Result<(), ScorerError> {
        Ok(())
    }
}
