//! A generic scorer behind an HTTP endpoint: the candidate is POSTed as JSON
//! and the answer is `{"score": 0.0-1.0, "reasons": ["..."]}`, optionally
//! with `"rule": "hold" | "spam"`. This is how an operator plugs in any model
//! (a hosted classifier, an LLM moderation service). Requests can be signed:
//! `X-Moderato-Timestamp` (Unix seconds) and `X-Moderato-Signature:
//! sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the shared secret>`.

use async_trait::async_trait;
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{Assessment, Candidate, Prior, Rule, Scorer, ScorerError, Verdict};
use crate::auth::token::sign;
use crate::config::HttpScorerSettings;
use crate::db::{AnyConnection, DbError};
use crate::outbox;

#[derive(Deserialize)]
struct Answer {
    score: f64,
    #[serde(default)]
    reasons: Vec<String>,
    #[serde(default)]
    rule: Option<Rule>,
}

pub struct HttpScorer {
    settings: HttpScorerSettings,
    http: reqwest::Client,
}

impl HttpScorer {
    pub fn new(settings: HttpScorerSettings, http: reqwest::Client) -> Result<Self, String> {
        for url in std::iter::once(&settings.url).chain(settings.feedback_url.iter()) {
            let parsed =
                url::Url::parse(url).map_err(|e| format!("settings: `{url}` is not a URL: {e}"))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(format!("settings: `{url}` must be http or https"));
            }
        }
        Ok(HttpScorer { settings, http })
    }

    async fn post(&self, url: &str, body: &Value) -> Result<reqwest::Response, ScorerError> {
        let body = serde_json::to_vec(body).map_err(|e| ScorerError::BadAnswer(e.to_string()))?;
        let mut request = self
            .http
            .post(url)
            .header("content-type", "application/json");
        if let Some(secret) = &self.settings.secret {
            let timestamp = chrono::Utc::now().timestamp().to_string();
            request = request.header("x-moderato-timestamp", &timestamp).header(
                "x-moderato-signature",
                sign(secret.expose_secret(), &timestamp, &body),
            );
        }
        request
            .body(body)
            .send()
            .await
            .map_err(|e| ScorerError::Http(e.without_url().to_string()))
    }
}

const MAX_REASONS: usize = 10;
const MAX_REASON_CHARS: usize = 200;

#[async_trait]
impl Scorer for HttpScorer {
    fn kind(&self) -> &'static str {
        "http"
    }

    async fn score(&self, candidate: &Candidate) -> Result<Assessment, ScorerError> {
        let response = self.post(&self.settings.url, &json!(candidate)).await?;
        let status = response.status();
        if !status.is_success() {
            return Err(ScorerError::BadAnswer(format!("HTTP {status}")));
        }
        let answer: Answer = response
            .json()
            .await
            .map_err(|e| ScorerError::BadAnswer(format!("not the expected JSON: {e}")))?;
        if !answer.score.is_finite() || !(0.0..=1.0).contains(&answer.score) {
            return Err(ScorerError::BadAnswer(format!(
                "score {} is outside 0..=1",
                answer.score
            )));
        }
        let reasons = answer
            .reasons
            .into_iter()
            .take(MAX_REASONS)
            .map(|r| r.chars().take(MAX_REASON_CHARS).collect())
            .collect();
        Ok(Assessment {
            score: answer.score,
            reasons,
            rule: answer.rule,
        })
    }

    fn record_verdict(
        &self,
        conn: &mut AnyConnection,
        candidate: &Candidate,
        verdict: Verdict,
        _prior: Option<&Prior>,
    ) -> Result<(), DbError> {
        if self.settings.feedback_url.is_none() {
            return Ok(());
        }
        outbox::enqueue(
            conn,
            outbox::SPAM_FEEDBACK,
            self.kind(),
            &json!({"verdict": verdict, "candidate": candidate}),
        )
    }

    async fn deliver_feedback(&self, payload: &Value) -> Result<(), ScorerError> {
        let Some(url) = &self.settings.feedback_url else {
            return Ok(());
        };
        let response = self.post(url, payload).await?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(ScorerError::BadAnswer(format!(
                "HTTP {}",
                response.status()
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_need_a_web_url() {
        let client = reqwest::Client::new();
        let at = |url: &str| HttpScorerSettings {
            url: url.to_string(),
            secret: None,
            feedback_url: None,
        };
        assert!(HttpScorer::new(at("ftp://x"), client.clone()).is_err());
        assert!(HttpScorer::new(at("not a url"), client.clone()).is_err());
        assert!(HttpScorer::new(at("http://127.0.0.1:9/score"), client).is_ok());
    }
}
