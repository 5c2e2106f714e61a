//! The spam machinery as the application holds it: the pipeline, the shared
//! word lists and model, loading and refreshing them from the database, and
//! delivering scorer feedback from the outbox.

use std::sync::Arc;

use async_trait::async_trait;

use super::pipeline::{BuildError, Pipeline, Resources};
use super::{honeypot, LearnedModel, WordLists};
use crate::config::{ScorerSettings, SpamSettings};
use crate::cpu::CpuPool;
use crate::db::{self, Db, DbError};
use crate::outbox::Deliver;

pub struct Spam {
    pub pipeline: Pipeline,
    pub wordlists: Arc<WordLists>,
    pub model: Arc<LearnedModel>,
    /// The form field the honeypot scorer watches, if it is configured.
    pub honeypot_field: Option<String>,
}

impl Spam {
    pub fn build(
        settings: &SpamSettings,
        http: reqwest::Client,
        cpu: CpuPool,
    ) -> Result<Spam, BuildError> {
        let wordlists = Arc::new(WordLists::empty());
        let model = Arc::new(LearnedModel::empty());
        let resources = Resources {
            http,
            wordlists: wordlists.clone(),
            model: model.clone(),
            cpu,
        };
        let pipeline = Pipeline::build(settings, &resources)?;
        let honeypot_field = settings.scorers.iter().find_map(|s| match s {
            ScorerSettings::Honeypot(entry) => {
                Some(honeypot::Honeypot::field_from(&entry.settings))
            }
            _ => None,
        });
        Ok(Spam {
            pipeline,
            wordlists,
            model,
            honeypot_field,
        })
    }

    /// Loads word lists and the model whose version differs from what this
    /// instance holds (all of them on the first call).
    pub async fn refresh(&self, db: &Db) -> Result<(), DbError> {
        let (lists_at, model_at) = (self.wordlists.version(), self.model.version());
        let (lists, model) = db
            .read(move |conn| {
                let lists_version = db::spam::version(conn, db::spam::WORDLISTS)?;
                let lists = if lists_version != lists_at {
                    Some((super::wordlists::load(conn)?, lists_version))
                } else {
                    None
                };
                let model_version = db::spam::version(conn, db::spam::MODEL)?;
                let model = if model_version != model_at {
                    Some(LearnedModel::load(conn)?)
                } else {
                    None
                };
                Ok::<_, DbError>((lists, model))
            })
            .await?;
        if let Some((entries, version)) = lists {
            self.wordlists.replace(&entries, version);
            tracing::info!(entries = entries.len(), version, "word lists loaded");
        }
        if let Some((model, version)) = model {
            let features = model.len();
            self.model.replace(model, version);
            tracing::info!(features, version, "learned spam model loaded");
        }
        Ok(())
    }

    /// Runs each scorer's start-up check (e.g. Akismet's verify-key) and logs
    /// the outcome; a failure does not stop the server.
    pub async fn self_checks(&self) {
        for kind in self.pipeline.kinds() {
            if let Some(scorer) = self.pipeline.scorer(kind) {
                match scorer.self_check().await {
                    Some(Ok(message)) => tracing::info!(scorer = kind, "{message}"),
                    Some(Err(e)) => {
                        tracing::error!(scorer = kind, error = %e, "spam scorer start-up check failed")
                    }
                    None => {}
                }
            }
        }
    }
}

#[async_trait]
impl Deliver for Spam {
    async fn deliver(
        &self,
        _topic: &str,
        target: &str,
        payload: &serde_json::Value,
    ) -> Result<(), String> {
        let scorer = self
            .pipeline
            .scorer(target)
            .ok_or_else(|| format!("no scorer `{target}` is configured any more"))?;
        scorer
            .deliver_feedback(payload)
            .await
            .map_err(|e| e.to_string())
    }
}
