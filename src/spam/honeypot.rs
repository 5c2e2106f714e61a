//! A hidden form field that people never see and so leave empty; bots that
//! fill in every field give themselves away.

use async_trait::async_trait;

use super::{Assessment, Candidate, Rule, Scorer, ScorerError};
use crate::config::HoneypotSettings;

pub struct Honeypot {
    field: String,
}

/// Names a comment form really sends: Moderato's own fields, those inside
/// `author` and `article`, and Isso's client's. A honeypot by one of these
/// names would turn ordinary comments into spam.
const FORM_FIELDS: [&str; 14] = [
    "body",
    "parent_id",
    "author",
    "article",
    "name",
    "email",
    "url",
    "token",
    "title",
    "website",
    "homepage",
    "text",
    "parent",
    "notification",
];

impl Honeypot {
    pub fn new(settings: &HoneypotSettings) -> Result<Self, String> {
        let field = Self::field_from(settings);
        if field.is_empty()
            || !field
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(
                "settings.field must be a non-empty name of letters, digits, '_' or '-'".into(),
            );
        }
        if let Some(known) = FORM_FIELDS.iter().find(|f| f.eq_ignore_ascii_case(&field)) {
            return Err(format!(
                "settings.field `{known}` is a field real comment forms send, so every comment \
                 would be spam; choose a name no form uses, e.g. \"fax_number\""
            ));
        }
        Ok(Honeypot { field })
    }

    /// The field name a form must send, for the API to pick it out.
    pub fn field_from(settings: &HoneypotSettings) -> String {
        settings.field.trim().to_string()
    }
}

#[async_trait]
impl Scorer for Honeypot {
    fn kind(&self) -> &'static str {
        "honeypot"
    }

    fn computes_only(&self) -> bool {
        true
    }

    async fn score(&self, candidate: &Candidate) -> Result<Assessment, ScorerError> {
        match candidate.honeypot.as_deref().map(str::trim) {
            Some(value) if !value.is_empty() => Ok(Assessment {
                score: 1.0,
                reasons: vec![format!("the hidden field `{}` was filled in", self.field)],
                rule: Some(Rule::Spam),
            }),
            _ => Ok(Assessment::neutral()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(field: &str) -> HoneypotSettings {
        HoneypotSettings {
            field: field.to_string(),
        }
    }

    #[tokio::test]
    async fn a_filled_honeypot_is_spam_an_empty_one_says_nothing() {
        let scorer = Honeypot::new(&named("fax_number")).unwrap();
        let mut candidate = Candidate::default();
        assert_eq!(
            scorer.score(&candidate).await.unwrap(),
            Assessment::neutral()
        );
        candidate.honeypot = Some("  ".into());
        assert_eq!(
            scorer.score(&candidate).await.unwrap(),
            Assessment::neutral()
        );
        candidate.honeypot = Some("http://spam.example".into());
        let assessment = scorer.score(&candidate).await.unwrap();
        assert_eq!(assessment.rule, Some(Rule::Spam));
        assert!(assessment.reasons[0].contains("fax_number"));
    }

    #[test]
    fn settings_are_checked() {
        assert!(Honeypot::new(&named("")).is_err());
        assert!(Honeypot::new(&named("has space")).is_err());
        for field in ["website", "URL", "email", "body", "text"] {
            let err = Honeypot::new(&named(field)).err().unwrap();
            assert!(err.contains("real comment forms send"), "{field}: {err}");
        }
    }
}
