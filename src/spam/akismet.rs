//! Akismet (akismet.com): `comment-check` for every comment, `submit-spam`
//! and `submit-ham` (through the outbox) for moderators' verdicts, and
//! `verify-key` at start-up.

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat};
use secrecy::ExposeSecret;
use serde_json::{json, Value};

use super::{Assessment, Candidate, Prior, Rule, Scorer, ScorerError, Verdict};
use crate::config::{AkismetFeedback, AkismetSettings};
use crate::db::{AnyConnection, DbError};
use crate::outbox;

pub struct Akismet {
    settings: AkismetSettings,
    http: reqwest::Client,
}

impl Akismet {
    pub fn new(settings: AkismetSettings, http: reqwest::Client) -> Result<Self, String> {
        if settings.api_key.expose_secret().trim().is_empty() {
            return Err("settings.api_key is required".into());
        }
        url::Url::parse(&settings.blog).map_err(|e| format!("settings.blog must be a URL: {e}"))?;
        url::Url::parse(&settings.base_url)
            .map_err(|e| format!("settings.base_url must be a URL: {e}"))?;
        for score in [settings.spam_score, settings.ham_score] {
            if !(0.0..=1.0).contains(&score) {
                return Err("settings.spam_score and ham_score must be within 0..=1".into());
            }
        }
        Ok(Akismet { settings, http })
    }

    fn endpoint(&self, method: &str) -> String {
        format!(
            "{}/1.1/{method}",
            self.settings.base_url.trim_end_matches('/')
        )
    }

    /// The fields Akismet documents for comment-check, submit-spam and
    /// submit-ham. The key goes in the body as `api_key`.
    fn fields(&self, c: &Candidate) -> Vec<(&'static str, String)> {
        let s = &self.settings;
        let mut fields = vec![
            ("api_key", s.api_key.expose_secret().to_string()),
            ("blog", s.blog.clone()),
            ("user_ip", c.ip.map(|ip| ip.to_string()).unwrap_or_default()),
            ("comment_type", "comment".into()),
            ("comment_author", c.author_name.clone()),
            ("comment_content", c.body.clone()),
            ("blog_lang", s.blog_lang.clone()),
            ("blog_charset", s.blog_charset.clone()),
        ];
        let optional = [
            ("user_agent", c.user_agent.clone()),
            ("referrer", c.referrer.clone()),
            ("permalink", c.article.url.clone()),
            ("comment_author_email", c.author_email.clone()),
            ("comment_author_url", c.author_url.clone()),
            (
                "comment_date_gmt",
                DateTime::from_timestamp_millis(c.created_at)
                    .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true)),
            ),
            ("user_role", c.account.as_ref().map(|a| a.role.to_string())),
            ("honeypot_field_name", s.honeypot_field_name.clone()),
            (
                "hidden_honeypot_field",
                s.honeypot_field_name
                    .as_ref()
                    .map(|_| c.honeypot.clone().unwrap_or_default()),
            ),
            ("recheck_reason", c.is_edit.then(|| "edit".to_string())),
            ("is_test", s.is_test.then(|| "1".to_string())),
        ];
        fields.extend(optional.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))));
        fields
    }

    /// `verify-key`: whether Akismet accepts the configured key.
    pub async fn verify_key(&self) -> Result<bool, ScorerError> {
        let response = self
            .http
            .post(self.endpoint("verify-key"))
            .form(&[
                ("api_key", self.settings.api_key.expose_secret()),
                ("blog", self.settings.blog.as_str()),
            ])
            .send()
            .await
            .map_err(|e| ScorerError::Http(e.without_url().to_string()))?;
        let body = response
            .text()
            .await
            .map_err(|e| ScorerError::Http(e.to_string()))?;
        match body.trim() {
            "valid" => Ok(true),
            "invalid" => Ok(false),
            other => Err(ScorerError::BadAnswer(truncate(other))),
        }
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(120).collect()
}

#[async_trait]
impl Scorer for Akismet {
    fn kind(&self) -> &'static str {
        "akismet"
    }

    async fn score(&self, candidate: &Candidate) -> Result<Assessment, ScorerError> {
        let response = self
            .http
            .post(self.endpoint("comment-check"))
            .form(&self.fields(candidate))
            .send()
            .await
            .map_err(|e| ScorerError::Http(e.without_url().to_string()))?;
        let status = response.status();
        let discard = response
            .headers()
            .get("x-akismet-pro-tip")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("discard"));
        let debug_help = response
            .headers()
            .get("x-akismet-debug-help")
            .and_then(|v| v.to_str().ok())
            .map(truncate);
        let body = response
            .text()
            .await
            .map_err(|e| ScorerError::Http(e.to_string()))?;
        if !status.is_success() {
            return Err(ScorerError::BadAnswer(format!("HTTP {status}")));
        }
        match body.trim() {
            "true" if discard && self.settings.honour_discard => Ok(Assessment {
                score: 1.0,
                reasons: vec!["Akismet: blatant spam (pro-tip: discard)".into()],
                rule: Some(Rule::Spam),
            }),
            "true" => Ok(Assessment {
                score: self.settings.spam_score,
                reasons: vec!["Akismet says spam".into()],
                rule: None,
            }),
            "false" => Ok(Assessment {
                score: self.settings.ham_score,
                reasons: vec!["Akismet says not spam".into()],
                rule: None,
            }),
            other => Err(ScorerError::BadAnswer(match debug_help {
                Some(help) => format!("{} ({help})", truncate(other)),
                None => truncate(other),
            })),
        }
    }

    fn record_verdict(
        &self,
        conn: &mut AnyConnection,
        candidate: &Candidate,
        verdict: Verdict,
        _prior: Option<&Prior>,
    ) -> Result<(), DbError> {
        // The stored report tells what Akismet said, when it was asked.
        if self.settings.feedback == AkismetFeedback::Corrections {
            if let Some(said_spam) = candidate_akismet_opinion(candidate) {
                if said_spam == (verdict == Verdict::Spam) {
                    return Ok(());
                }
            }
        }
        let method = match verdict {
            Verdict::Spam => "submit-spam",
            Verdict::Ham => "submit-ham",
        };
        let fields: serde_json::Map<String, Value> = self
            .fields(candidate)
            .into_iter()
            .filter(|(k, _)| *k != "api_key")
            .map(|(k, v)| (k.to_string(), Value::String(v)))
            .collect();
        outbox::enqueue(
            conn,
            outbox::SPAM_FEEDBACK,
            self.kind(),
            &json!({"method": method, "fields": fields}),
        )
    }

    async fn self_check(&self) -> Option<Result<String, ScorerError>> {
        Some(self.verify_key().await.map(|valid| {
            if valid {
                "Akismet API key is valid".to_string()
            } else {
                "Akismet rejected the API key (verify-key: invalid); comment checks will fail and comments be held".to_string()
            }
        }))
    }

    async fn deliver_feedback(&self, payload: &Value) -> Result<(), ScorerError> {
        let method = payload["method"].as_str().unwrap_or_default();
        if !matches!(method, "submit-spam" | "submit-ham") {
            return Err(ScorerError::BadAnswer(format!(
                "unknown feedback method `{method}`"
            )));
        }
        let mut form: Vec<(String, String)> = payload["fields"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect()
            })
            .unwrap_or_default();
        // The key is added at delivery, never stored in the outbox.
        form.push((
            "api_key".into(),
            self.settings.api_key.expose_secret().to_string(),
        ));
        let response = self
            .http
            .post(self.endpoint(method))
            .form(&form)
            .send()
            .await
            .map_err(|e| ScorerError::Http(e.without_url().to_string()))?;
        let status = response.status();
        let body = response
            .text()
            .await
            .map_err(|e| ScorerError::Http(e.to_string()))?;
        if status.is_success() && body.trim().starts_with("Thanks") {
            Ok(())
        } else {
            Err(ScorerError::BadAnswer(format!(
                "HTTP {status}: {}",
                truncate(body.trim())
            )))
        }
    }
}

/// Akismet's answer for this comment, if the comment carries one (set by
/// the caller from the stored report).
fn candidate_akismet_opinion(candidate: &Candidate) -> Option<bool> {
    candidate
        .prior_scores
        .iter()
        .find(|(kind, _)| kind == "akismet")
        .map(|(_, score)| *score >= 0.5)
}
