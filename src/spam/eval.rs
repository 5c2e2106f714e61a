//! Measuring the built-in pipeline on labelled comments: `moderato spam
//! eval` and `moderato spam train` read files through here.
//!
//! Formats: the YouTube Spam Collection CSV (`COMMENT_ID,AUTHOR,DATE,
//! CONTENT,CLASS`, CLASS 1 = spam) and tab-separated `label<TAB>text` with
//! labels `spam` / `ham`.

use std::path::Path;

use super::classifier::Model;
use super::pipeline::{Policy, Resources};
use super::{learned, Candidate, LearnedModel, Pipeline, WordLists};
use crate::config::{ModerationMode, SpamSettings};
use crate::domain::CommentStatus;

/// One labelled comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    pub author: String,
    pub text: String,
    pub spam: bool,
}

impl Sample {
    fn candidate(&self) -> Candidate {
        Candidate {
            body: self.text.clone(),
            author_name: self.author.clone(),
            ..Candidate::default()
        }
    }
}

/// Reads a labelled file, choosing the format by its first line.
pub fn load(path: &Path) -> Result<Vec<Sample>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let first = text.lines().next().unwrap_or_default();
    let samples = if first.starts_with("COMMENT_ID,") {
        parse_youtube_csv(text)
    } else {
        parse_tsv(text)
    }
    .map_err(|e| format!("{}: {e}", path.display()))?;
    if samples.is_empty() {
        return Err(format!("{}: no labelled comments", path.display()));
    }
    Ok(samples)
}

/// Reads every file, in order.
pub fn load_all(paths: &[impl AsRef<Path>]) -> Result<Vec<Sample>, String> {
    let mut all = Vec::new();
    for path in paths {
        all.extend(load(path.as_ref())?);
    }
    Ok(all)
}

fn parse_youtube_csv(text: &str) -> Result<Vec<Sample>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| e.to_string())?.clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| format!("no {name} column"))
    };
    let (author, content, class) = (column("AUTHOR")?, column("CONTENT")?, column("CLASS")?);
    let mut samples = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format!("record {}: {e}", i + 1))?;
        let label = record.get(class).unwrap_or_default().trim();
        let spam = match label {
            "1" => true,
            "0" => false,
            other => {
                return Err(format!(
                    "record {}: CLASS must be 0 or 1, not `{other}`",
                    i + 1
                ))
            }
        };
        samples.push(Sample {
            author: record.get(author).unwrap_or_default().to_string(),
            // The export leaves a byte-order mark at the end of many comments.
            text: record
                .get(content)
                .unwrap_or_default()
                .trim_end_matches('\u{feff}')
                .to_string(),
            spam,
        });
    }
    Ok(samples)
}

fn parse_tsv(text: &str) -> Result<Vec<Sample>, String> {
    let mut samples = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let (label, body) = line
            .split_once('\t')
            .ok_or_else(|| format!("line {}: expected `spam|ham<TAB>text`", i + 1))?;
        let spam = match label.trim() {
            "spam" => true,
            "ham" => false,
            other => {
                return Err(format!(
                    "line {}: label must be spam or ham, not `{other}`",
                    i + 1
                ))
            }
        };
        samples.push(Sample {
            author: String::new(),
            text: body.to_string(),
            spam,
        });
    }
    Ok(samples)
}

/// Counts from one evaluation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub n: usize,
    /// Spam held or marked spam.
    pub caught: usize,
    /// Spam approved.
    pub missed: usize,
    /// Ham held or marked spam.
    pub false_alarms: usize,
    /// Ham approved.
    pub passed: usize,
    /// Ham marked spam (the costly error).
    pub ham_to_spam: usize,
    /// Everything sent to the moderation queue (pending).
    pub review: usize,
}

impl Counts {
    fn add(&mut self, spam: bool, status: CommentStatus) {
        self.n += 1;
        let flagged = status != CommentStatus::Approved;
        match (spam, flagged) {
            (true, true) => self.caught += 1,
            (true, false) => self.missed += 1,
            (false, true) => self.false_alarms += 1,
            (false, false) => self.passed += 1,
        }
        if !spam && status == CommentStatus::Spam {
            self.ham_to_spam += 1;
        }
        if status == CommentStatus::Pending {
            self.review += 1;
        }
    }

    /// The line `moderato spam eval` ends with.
    pub fn summary(&self) -> String {
        let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let precision = ratio(self.caught, self.caught + self.false_alarms);
        let recall = ratio(self.caught, self.caught + self.missed);
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        let hams = self.false_alarms + self.passed;
        format!(
            "eval: n={} accuracy={:.4} precision={:.4} recall={:.4} f1={:.4} ham_to_spam={:.4} review={:.4}",
            self.n,
            ratio(self.caught + self.passed, self.n),
            precision,
            recall,
            f1,
            ratio(self.ham_to_spam, hams),
            ratio(self.review, self.n),
        )
    }
}

/// The kinds that run without a network or a database; eval runs these.
const LOCAL_KINDS: [&str; 4] = ["honeypot", "wordlists", "links", "learned"];

/// Builds the configured pipeline without the external scorers.
pub fn local_pipeline(
    settings: &SpamSettings,
    model: std::sync::Arc<LearnedModel>,
    cpu: crate::cpu::CpuPool,
) -> Result<Pipeline, String> {
    let mut local = settings.clone();
    local.scorers.retain(|s| LOCAL_KINDS.contains(&s.kind()));
    let resources = Resources {
        http: reqwest::Client::new(),
        wordlists: std::sync::Arc::new(WordLists::empty()),
        model,
        cpu,
    };
    Pipeline::build(&local, &resources).map_err(|e| e.to_string())
}

/// Trains a model on `train`, then scores `test` with the pipeline. The
/// model starts from `start` (a site's stored model) or empty. With
/// `online`, it learns nothing from `train` and learns each test comment's
/// label right after scoring it, as moderators' verdicts would teach it.
pub async fn evaluate(
    settings: &SpamSettings,
    start: Option<Model>,
    train: &[Sample],
    test: &[Sample],
    online: bool,
) -> Result<Counts, String> {
    let model = std::sync::Arc::new(LearnedModel::empty());
    if let Some(start) = start {
        model.replace(start, 0);
    }
    if !online {
        model.update(|m| {
            for sample in train {
                m.learn(&learned::text_of(&sample.candidate()), sample.spam);
            }
        });
    }
    let cpu = crate::cpu::CpuPool::start(crate::config::available_cores())
        .map_err(|e| format!("cannot start the CPU pool: {e}"))?;
    let pipeline = local_pipeline(settings, model.clone(), cpu)?;
    let policy = Policy {
        mode: ModerationMode::None,
        trusted: false,
        approved_before: true,
    };
    let mut counts = Counts::default();
    for sample in test {
        let candidate = std::sync::Arc::new(sample.candidate());
        let decision = pipeline.evaluate(candidate.clone(), policy).await;
        counts.add(sample.spam, decision.status);
        if online {
            // As a moderator's verdict would teach it.
            model.update(|m| m.learn(&learned::text_of(&candidate), sample.spam));
        }
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_youtube_csv_with_quotes_and_newlines() {
        let csv = "COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS\n\
                   a1,Ann,2014-01-01,\"Subscribe, \"\"please\"\"\nnow\u{feff}\",1\n\
                   a2,Bob,2014-01-02,nice song,0\n";
        let samples = parse_youtube_csv(csv).unwrap();
        assert_eq!(samples.len(), 2);
        assert_eq!(samples[0].text, "Subscribe, \"please\"\nnow");
        assert!(samples[0].spam);
        assert_eq!(
            samples[1],
            Sample {
                author: "Bob".into(),
                text: "nice song".into(),
                spam: false
            }
        );
        assert!(parse_youtube_csv("COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS\nx,a,d,t,2\n").is_err());
    }

    #[test]
    fn reads_tab_separated_labels() {
        let samples = parse_tsv("spam\tbuy now\nham\tgreat post\n\n").unwrap();
        assert_eq!(samples.len(), 2);
        assert!(samples[0].spam && !samples[1].spam);
        assert!(parse_tsv("maybe\tx").is_err());
        assert!(parse_tsv("no tab here").is_err());
    }

    #[test]
    fn summary_has_the_documented_form() {
        let mut c = Counts::default();
        c.add(true, CommentStatus::Spam);
        c.add(true, CommentStatus::Approved);
        c.add(false, CommentStatus::Approved);
        c.add(false, CommentStatus::Pending);
        assert_eq!(
            c.summary(),
            "eval: n=4 accuracy=0.5000 precision=0.5000 recall=0.5000 f1=0.5000 ham_to_spam=0.0000 review=0.2500"
        );
    }
}
