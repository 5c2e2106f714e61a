//! The learned scorer: a statistical text classifier (`classifier.rs`)
//! trained by moderators' verdicts and by `moderato spam train`.
//!
//! The model lives in the database (`spam_features`, `spam_globals`), so
//! every instance shares it. Each instance scores from an in-memory copy:
//! its own verdicts update that copy at once, and other instances' changes
//! arrive when the model's version in `spam_state` moves (checked every
//! `spam.refresh_interval`). Updates are additive, so instances learning at
//! the same time never overwrite each other.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};

use async_trait::async_trait;

use super::classifier::{Changes, Globals, Model, Row, RowChange};
use super::{Assessment, Candidate, Prior, Scorer, ScorerError, Verdict};
use crate::db::{self, AnyConnection, DbError};

/// The shared model and the version it was loaded at.
pub struct LearnedModel {
    model: RwLock<Model>,
    version: AtomicI64,
}

const GLOBAL_SPAM: &str = "spam";
const GLOBAL_HAM: &str = "ham";

impl LearnedModel {
    pub fn empty() -> Self {
        LearnedModel {
            model: RwLock::new(Model::empty()),
            version: AtomicI64::new(-1),
        }
    }

    /// Runs `f` with the model. Scoring is fast and never awaits, so a
    /// plain read lock is held only for microseconds.
    pub fn read<R>(&self, f: impl FnOnce(&Model) -> R) -> R {
        match self.model.read() {
            Ok(m) => f(&m),
            Err(poisoned) => f(&poisoned.into_inner()),
        }
    }

    /// Changes the in-memory model.
    pub fn update<R>(&self, f: impl FnOnce(&mut Model) -> R) -> R {
        match self.model.write() {
            Ok(mut m) => f(&mut m),
            Err(poisoned) => f(&mut poisoned.into_inner()),
        }
    }

    pub fn version(&self) -> i64 {
        self.version.load(Ordering::Acquire)
    }

    /// Reads the whole model from the database.
    pub fn load(conn: &mut AnyConnection) -> Result<(Model, i64), DbError> {
        let version = db::spam::version(conn, db::spam::MODEL)?;
        let mut globals = Globals::default();
        for (name, value) in db::spam::globals(conn)? {
            match name.as_str() {
                GLOBAL_SPAM => globals.spam = value,
                GLOBAL_HAM => globals.ham = value,
                _ => {}
            }
        }
        let rows = db::spam::features(conn)?
            .into_iter()
            .map(|(key, a, b)| Row { key, a, b });
        Ok((Model::from_parts(globals, rows), version))
    }

    pub fn replace(&self, model: Model, version: i64) {
        self.update(|m| *m = model);
        self.version.store(version, Ordering::Release);
    }
}

/// Writes what a learn/unlearn changed, as increments, and bumps the
/// model's version so other instances reload.
pub fn persist(conn: &mut AnyConnection, changes: &Changes) -> Result<(), DbError> {
    let deltas: Vec<(i64, f64, f64)> = changes
        .rows
        .iter()
        .map(|c| (c.row.key, c.delta_a, c.delta_b))
        .collect();
    db::spam::add_to_features(conn, &deltas)?;
    db::spam::add_to_globals(
        conn,
        &[
            (GLOBAL_SPAM, changes.globals_delta.spam),
            (GLOBAL_HAM, changes.globals_delta.ham),
        ],
    )?;
    db::spam::bump_version(conn, db::spam::MODEL)?;
    Ok(())
}

/// Adds everything `model` learned to the stored model. Counts add up, so
/// learning a batch on an empty model and adding its rows is the same as
/// learning each comment into the stored one (`moderato spam train`, an
/// import's `--train`).
pub fn persist_model(conn: &mut AnyConnection, model: &Model) -> Result<(), DbError> {
    let changes = Changes {
        rows: model
            .rows()
            .into_iter()
            .map(|row| RowChange {
                row,
                delta_a: row.a,
                delta_b: row.b,
            })
            .collect(),
        globals: Globals::default(),
        globals_delta: model.globals(),
    };
    persist(conn, &changes)
}

/// The text the classifier reads: the body, plus the author's URL (link
/// spam often hides its link there).
pub fn text_of(candidate: &Candidate) -> String {
    match &candidate.author_url {
        Some(url) => format!("{}\n{url}", candidate.body),
        None => candidate.body.clone(),
    }
}

/// The increments learning `text` as `spam` adds to any model (counts are
/// additive, so they do not depend on what the model already holds).
fn increments(text: &str, spam: bool) -> Changes {
    Model::empty().learn(text, spam)
}

fn negated(mut changes: Changes) -> Changes {
    for row in &mut changes.rows {
        row.delta_a = -row.delta_a;
        row.delta_b = -row.delta_b;
    }
    changes.globals_delta.spam = -changes.globals_delta.spam;
    changes.globals_delta.ham = -changes.globals_delta.ham;
    changes
}

/// The range a young model's scores are kept within.
const IMMATURE_FLOOR: f64 = 0.3;
const IMMATURE_CEILING: f64 = 0.7;

pub struct Learned {
    model: Arc<LearnedModel>,
}

impl Learned {
    pub fn new(model: Arc<LearnedModel>) -> Self {
        Learned { model }
    }
}

#[async_trait]
impl Scorer for Learned {
    fn kind(&self) -> &'static str {
        "learned"
    }

    fn computes_only(&self) -> bool {
        true
    }

    async fn score(&self, candidate: &Candidate) -> Result<Assessment, ScorerError> {
        let text = text_of(candidate);
        let scored = self.model.read(|model| model.score(&text));
        let mut reasons = scored.reasons;
        let mut score = scored.probability;
        if !scored.mature {
            // Too few verdicts of one class or the other: keep an opinion,
            // but never one strong enough to hide a comment by itself.
            score = score.clamp(IMMATURE_FLOOR, IMMATURE_CEILING);
            reasons.push("the model has learned few comments of one kind yet".into());
        }
        Ok(Assessment {
            score,
            reasons,
            rule: None,
        })
    }

    fn record_verdict(
        &self,
        conn: &mut AnyConnection,
        candidate: &Candidate,
        verdict: Verdict,
        prior: Option<&Prior>,
    ) -> Result<(), DbError> {
        // The database takes increments. Taking back an earlier verdict
        // subtracts the text that verdict taught, which may differ from the
        // comment's text now (it may have been edited since). Instances
        // pick the change up by reloading (the version moves).
        let text = text_of(candidate);
        let spam = verdict == Verdict::Spam;
        if let Some(prior) = prior {
            if prior.verdict == verdict && prior.text == text {
                return Ok(());
            }
            self.forget_verdict(conn, prior)?;
        }
        persist(conn, &increments(&text, spam))
    }

    fn forget_verdict(&self, conn: &mut AnyConnection, prior: &Prior) -> Result<(), DbError> {
        // Counts are additive, so subtracting what the verdict added takes
        // it back exactly, whatever was learned since.
        persist(
            conn,
            &negated(increments(&prior.text, prior.verdict == Verdict::Spam)),
        )
    }
}
