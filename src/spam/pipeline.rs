//! Running the configured scorers and turning their answers into a status.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use futures_util::FutureExt as _;
use serde::Serialize;

use super::{akismet, honeypot, http, learned, links, wordlists};
use super::{Candidate, Prior, Rule, Scorer, ScorerError, Verdict};
use crate::config::{ModerationMode, OnError, ScorerMode, ScorerSettings, SpamSettings};
use crate::cpu::CpuPool;
use crate::db::{AnyConnection, DbError};
use crate::domain::CommentStatus;
use crate::metrics::METRICS;

/// What a scorer answered, and how long it took.
type Outcome = (Result<super::Assessment, ScorerError>, Duration);

/// A scorer with how it was configured.
struct Configured {
    scorer: Arc<dyn Scorer>,
    mode: ScorerMode,
    weight: f64,
    timeout: Duration,
    on_error: OnError,
}

/// What the pipeline needs from the rest of the application to build
/// scorers.
pub struct Resources {
    pub http: reqwest::Client,
    pub wordlists: Arc<wordlists::WordLists>,
    pub model: Arc<learned::LearnedModel>,
    /// Where the scorers that only compute run.
    pub cpu: CpuPool,
}

#[derive(Debug, thiserror::Error)]
#[error("spam.scorers[{index}] ({kind}): {message}")]
pub struct BuildError {
    pub index: usize,
    pub kind: &'static str,
    pub message: String,
}

pub struct Pipeline {
    scorers: Vec<Configured>,
    cpu: CpuPool,
    review_threshold: f64,
    spam_threshold: f64,
}

/// Who is commenting, as far as holding goes.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub mode: ModerationMode,
    /// Trusted accounts (and staff) skip holding; only a hard spam rule
    /// still applies to them.
    pub trusted: bool,
    /// Whether the commenter already has an approved comment (`first_time`).
    pub approved_before: bool,
}

/// The pipeline's answer for one candidate.
#[derive(Debug, Clone)]
pub struct Decision {
    pub status: CommentStatus,
    pub report: Report,
}

/// Kept with the comment, for moderators: the combined score, why it was
/// held (if it was), and every scorer's answer.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct Report {
    pub score: f64,
    pub decision: CommentStatus,
    pub held_because: Vec<String>,
    pub scorers: Vec<ScorerReport>,
    pub edit: bool,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct ScorerReport {
    pub kind: String,
    pub mode: ScorerMode,
    pub weight: f64,
    pub score: Option<f64>,
    pub reasons: Vec<String>,
    pub rule: Option<Rule>,
    pub elapsed_us: u64,
    pub error: Option<String>,
}

impl Pipeline {
    pub fn build(settings: &SpamSettings, resources: &Resources) -> Result<Pipeline, BuildError> {
        let mut scorers = Vec::with_capacity(settings.scorers.len());
        for (index, entry) in settings.scorers.iter().enumerate() {
            let scorer = build_scorer(entry, resources).map_err(|message| BuildError {
                index,
                kind: entry.kind(),
                message,
            })?;
            scorers.push(Configured {
                scorer,
                mode: entry.mode(),
                weight: entry.weight(),
                timeout: entry.timeout(),
                on_error: entry.on_error(),
            });
        }
        Ok(Pipeline {
            scorers,
            cpu: resources.cpu.clone(),
            review_threshold: settings.review_threshold,
            spam_threshold: settings.spam_threshold,
        })
    }

    /// Scores a candidate with every scorer and decides its status. The
    /// scorers that only compute run together as one job on the CPU pool;
    /// the ones that ask another service run concurrently here, each
    /// within its timeout.
    pub async fn evaluate(&self, candidate: Arc<Candidate>, policy: Policy) -> Decision {
        let (computed, asked) = tokio::join!(
            self.run_computing(candidate.clone()),
            self.run_asking(&candidate)
        );
        let mut results: Vec<Option<Outcome>> = (0..self.scorers.len()).map(|_| None).collect();
        for (index, outcome) in computed.into_iter().chain(asked) {
            results[index] = Some(outcome);
        }
        let results = results.into_iter().map(|r| {
            r.unwrap_or_else(|| {
                (
                    Err(ScorerError::Failed("was not run".into())),
                    Duration::ZERO,
                )
            })
        });

        let mut reports = Vec::with_capacity(self.scorers.len());
        let mut log_odds = 0.0;
        let mut rules: Vec<(Rule, String)> = Vec::new();
        let mut failures: Vec<String> = Vec::new();
        for (configured, (outcome, elapsed)) in self.scorers.iter().zip(results) {
            let kind = configured.scorer.kind();
            let enforce = configured.mode == ScorerMode::Enforce;
            METRICS
                .scorer_seconds
                .with_label_values(&[kind])
                .observe(elapsed.as_secs_f64());
            let mut report = ScorerReport {
                kind: kind.to_string(),
                mode: configured.mode,
                weight: configured.weight,
                score: None,
                reasons: Vec::new(),
                rule: None,
                elapsed_us: u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
                error: None,
            };
            match outcome {
                Ok(assessment) => {
                    let score = if assessment.score.is_finite() {
                        assessment.score.clamp(0.0, 1.0)
                    } else {
                        0.5
                    };
                    if enforce {
                        log_odds += configured.weight * logit(score);
                        if let Some(rule) = assessment.rule {
                            let why = assessment.reasons.first().cloned().unwrap_or_default();
                            rules.push((rule, format!("{kind}: {why}")));
                        }
                    }
                    report.score = Some(score);
                    report.reasons = assessment.reasons;
                    report.rule = assessment.rule;
                }
                Err(error) => {
                    tracing::warn!(scorer = kind, error = %error, "spam scorer failed");
                    METRICS.scorer_errors.with_label_values(&[kind]).inc();
                    if enforce && configured.on_error == OnError::Hold {
                        failures.push(format!(
                            "{kind} failed ({error}); held rather than risk publishing spam"
                        ));
                    }
                    report.error = Some(error.to_string());
                }
            }
            reports.push(report);
        }
        let score = sigmoid(log_odds);
        let (status, held_because) = self.decide(score, &rules, &failures, policy);
        Decision {
            status,
            report: Report {
                score,
                decision: status,
                held_because,
                scorers: reports,
                edit: candidate.is_edit,
            },
        }
    }

    fn decide(
        &self,
        score: f64,
        rules: &[(Rule, String)],
        failures: &[String],
        policy: Policy,
    ) -> (CommentStatus, Vec<String>) {
        let mut why = Vec::new();
        let spam_rules: Vec<&String> = rules
            .iter()
            .filter(|(r, _)| *r == Rule::Spam)
            .map(|(_, w)| w)
            .collect();
        if !spam_rules.is_empty() {
            why.extend(spam_rules.into_iter().cloned());
            return (CommentStatus::Spam, why);
        }
        if policy.trusted {
            return (CommentStatus::Approved, why);
        }
        if score >= self.spam_threshold {
            why.push(format!(
                "combined score {score:.4} is at or above the spam threshold {}",
                self.spam_threshold
            ));
            return (CommentStatus::Spam, why);
        }
        if score >= self.review_threshold {
            why.push(format!(
                "combined score {score:.4} is at or above the review threshold {}",
                self.review_threshold
            ));
        }
        why.extend(
            rules
                .iter()
                .filter(|(r, _)| *r == Rule::Hold)
                .map(|(_, w)| w.clone()),
        );
        why.extend(failures.iter().cloned());
        match policy.mode {
            ModerationMode::All => why.push("every comment is held (moderation.mode = all)".into()),
            ModerationMode::FirstTime if !policy.approved_before => {
                why.push("first comment from this commenter (moderation.mode = first_time)".into())
            }
            _ => {}
        }
        let status = if why.is_empty() {
            CommentStatus::Approved
        } else {
            CommentStatus::Pending
        };
        (status, why)
    }

    /// The compute-only scorers' outcomes, by index. Their futures finish
    /// at the first poll (that is what `computes_only` promises), so the
    /// job polls each once; the group's timeout is the longest of theirs.
    async fn run_computing(&self, candidate: Arc<Candidate>) -> Vec<(usize, Outcome)> {
        let scorers: Vec<(usize, Arc<dyn Scorer>)> = self
            .scorers
            .iter()
            .enumerate()
            .filter(|(_, c)| c.scorer.computes_only())
            .map(|(i, c)| (i, c.scorer.clone()))
            .collect();
        if scorers.is_empty() {
            return Vec::new();
        }
        let indices: Vec<usize> = scorers.iter().map(|(i, _)| *i).collect();
        let timeout = indices
            .iter()
            .map(|i| self.scorers[*i].timeout)
            .max()
            .unwrap_or_default();
        let job = move || {
            scorers
                .into_iter()
                .map(|(index, scorer)| {
                    let started = Instant::now();
                    let outcome = scorer.score(&candidate).now_or_never().unwrap_or_else(|| {
                        Err(ScorerError::Failed(
                            "waited for something, though it only computes".into(),
                        ))
                    });
                    (index, (outcome, started.elapsed()))
                })
                .collect::<Vec<_>>()
        };
        let failed = |error: ScorerError| {
            indices
                .iter()
                .map(|i| (*i, (Err(error.clone()), timeout)))
                .collect()
        };
        match tokio::time::timeout(timeout, self.cpu.run(job)).await {
            Ok(Ok(outcomes)) => outcomes,
            Ok(Err(e)) => failed(ScorerError::Failed(e.to_string())),
            Err(_) => failed(ScorerError::Timeout(timeout.as_millis())),
        }
    }

    /// The other scorers' outcomes, by index, each within its timeout.
    async fn run_asking(&self, candidate: &Candidate) -> Vec<(usize, Outcome)> {
        let runs = self
            .scorers
            .iter()
            .enumerate()
            .filter(|(_, c)| !c.scorer.computes_only())
            .map(|(index, c)| async move {
                let started = Instant::now();
                let outcome = match tokio::time::timeout(c.timeout, c.scorer.score(candidate)).await
                {
                    Ok(result) => result,
                    Err(_) => Err(ScorerError::Timeout(c.timeout.as_millis())),
                };
                (index, (outcome, started.elapsed()))
            });
        join_all(runs).await
    }

    /// Passes a moderator's verdict to every scorer, inside the decision's
    /// transaction.
    pub fn record_verdict(
        &self,
        conn: &mut AnyConnection,
        candidate: &Candidate,
        verdict: Verdict,
        prior: Option<&Prior>,
    ) -> Result<(), DbError> {
        for configured in &self.scorers {
            configured
                .scorer
                .record_verdict(conn, candidate, verdict, prior)?;
        }
        Ok(())
    }

    /// Takes a recorded verdict back from every scorer, inside the undo's
    /// transaction.
    pub fn forget_verdict(&self, conn: &mut AnyConnection, prior: &Prior) -> Result<(), DbError> {
        for configured in &self.scorers {
            configured.scorer.forget_verdict(conn, prior)?;
        }
        Ok(())
    }

    /// The configured kinds, in order.
    pub fn kinds(&self) -> Vec<&'static str> {
        self.scorers.iter().map(|c| c.scorer.kind()).collect()
    }

    /// The scorer of this kind, to deliver feedback it queued.
    pub fn scorer(&self, kind: &str) -> Option<&Arc<dyn Scorer>> {
        self.scorers
            .iter()
            .map(|c| &c.scorer)
            .find(|s| s.kind() == kind)
    }
}

/// Builds the scorer an entry configures. Its settings were read into the
/// kind's own type with the configuration; what is left to refuse here is
/// a value that does not suit the scorer.
fn build_scorer(entry: &ScorerSettings, resources: &Resources) -> Result<Arc<dyn Scorer>, String> {
    let scorer: Arc<dyn Scorer> = match entry {
        ScorerSettings::Honeypot(e) => Arc::new(honeypot::Honeypot::new(&e.settings)?),
        ScorerSettings::Links(e) => {
            Arc::new(links::Links::new(&e.settings.clone().unwrap_or_default()))
        }
        ScorerSettings::Wordlists(_) => {
            Arc::new(wordlists::WordListScorer::new(resources.wordlists.clone()))
        }
        ScorerSettings::Learned(_) => Arc::new(learned::Learned::new(resources.model.clone())),
        ScorerSettings::Akismet(e) => Arc::new(akismet::Akismet::new(
            e.settings.clone(),
            resources.http.clone(),
        )?),
        ScorerSettings::Http(e) => Arc::new(http::HttpScorer::new(
            e.settings.clone(),
            resources.http.clone(),
        )?),
    };
    Ok(scorer)
}

/// Scores are kept away from 0 and 1 so one scorer cannot make the sum
/// infinite; a hard rule is the way to be certain.
const EDGE: f64 = 1e-4;

pub(crate) fn logit(p: f64) -> f64 {
    let p = p.clamp(EDGE, 1.0 - EDGE);
    (p / (1.0 - p)).ln()
}

pub(crate) fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neutral_scores_add_nothing() {
        assert!((sigmoid(logit(0.5) + logit(0.5)) - 0.5).abs() < 1e-12);
        assert!((sigmoid(logit(0.8)) - 0.8).abs() < 1e-9);
    }

    #[test]
    fn agreeing_scorers_reinforce_each_other() {
        let both = sigmoid(logit(0.7) + logit(0.7));
        assert!(both > 0.8, "{both}");
        let disagree = sigmoid(logit(0.7) + logit(0.3));
        assert!((disagree - 0.5).abs() < 1e-9);
    }

    #[test]
    fn certainty_is_capped() {
        assert!(logit(1.0).is_finite());
        assert!(logit(0.0).is_finite());
    }
}
