//! What an import did, counted as it went, and printed at its end.

use std::collections::BTreeMap;
use std::fmt;

use crate::domain::CommentStatus;

/// Why a record was not imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SkipKind {
    AlreadyImported,
    /// Imported by an earlier run and removed since (a purge, an erasure).
    RemovedSince,
    Pingback,
    OtherType,
    NoArticle,
    InvalidDate,
    InvalidEmail,
    InvalidName,
    EmptyText,
    TooLong,
    UnknownStatus,
    /// A record of Moderato's own export that cannot be restored as it is.
    Conflict,
}

impl SkipKind {
    fn describe(self) -> &'static str {
        match self {
            SkipKind::AlreadyImported => "already imported",
            SkipKind::RemovedSince => "imported before and removed since",
            SkipKind::Pingback => "pingbacks and trackbacks (--include-pingbacks imports them)",
            SkipKind::OtherType => "not comments (another comment type)",
            SkipKind::NoArticle => "no article to put them in (not in the file, or no usable key)",
            SkipKind::InvalidDate => "no valid date",
            SkipKind::InvalidEmail => "invalid email address",
            SkipKind::InvalidName => "invalid author name",
            SkipKind::EmptyText => "no text",
            SkipKind::TooLong => "text longer than comments.max_body_bytes",
            SkipKind::UnknownStatus => "unknown status",
            SkipKind::Conflict => "conflicting with what the database holds",
        }
    }

    /// Kinds that say something about the file, worth an example each.
    fn is_problem(self) -> bool {
        !matches!(
            self,
            SkipKind::AlreadyImported | SkipKind::RemovedSince | SkipKind::Pingback
        )
    }
}

/// One record not imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    pub kind: SkipKind,
    /// The source's id of the record.
    pub record: String,
    pub detail: String,
}

impl Skip {
    pub fn new(kind: SkipKind, record: &str, detail: impl Into<String>) -> Self {
        Skip {
            kind,
            record: record.to_string(),
            detail: detail.into(),
        }
    }
}

/// Warnings kept word for word; the rest are only counted.
const WARNINGS_SHOWN: usize = 20;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    pub dry_run: bool,
    pub articles_created: u64,
    pub articles_matched: u64,
    pub comments: BTreeMap<&'static str, u64>,
    /// Per kind: how many, and the first one's record and detail.
    pub skipped: BTreeMap<SkipKind, (u64, String)>,
    pub warnings: u64,
    pub warning_lines: Vec<String>,
    /// Comments linked to an existing account by email.
    pub linked_to_accounts: u64,
    /// `--score`: approved comments the pipeline held.
    pub held_by_scoring: u64,
    /// `--train`: comments taught to the learned scorer (spam, ham).
    pub trained: Option<(u64, u64)>,
    /// Moderato's own format: the other records restored.
    pub accounts: u64,
    pub bans: u64,
    pub words: u64,
}

impl Summary {
    pub fn comment(&mut self, status: CommentStatus) {
        *self.comments.entry(status.as_str()).or_default() += 1;
    }

    pub fn imported(&self) -> u64 {
        self.comments.values().sum()
    }

    pub fn imported_with(&self, status: CommentStatus) -> u64 {
        self.comments.get(status.as_str()).copied().unwrap_or(0)
    }

    pub fn skip(&mut self, skip: Skip) {
        let entry = self
            .skipped
            .entry(skip.kind)
            .or_insert_with(|| (0, format!("{}: {}", skip.record, skip.detail)));
        entry.0 += 1;
    }

    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().map(|(n, _)| n).sum()
    }

    pub fn skipped_for(&self, kind: SkipKind) -> u64 {
        self.skipped.get(&kind).map_or(0, |(n, _)| *n)
    }

    pub fn warn(&mut self, message: String) {
        self.warnings += 1;
        if self.warning_lines.len() < WARNINGS_SHOWN {
            self.warning_lines.push(message);
        }
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.dry_run {
            writeln!(
                f,
                "dry run: nothing was written; an import would have done this"
            )?;
        }
        writeln!(
            f,
            "articles: {} created, {} matched",
            self.articles_created, self.articles_matched
        )?;
        let per_status: Vec<String> = CommentStatus::ALL
            .iter()
            .map(|s| format!("{} {}", self.imported_with(*s), s))
            .collect();
        writeln!(
            f,
            "comments imported: {} ({})",
            self.imported(),
            per_status.join(", ")
        )?;
        if self.linked_to_accounts > 0 {
            writeln!(
                f,
                "linked to accounts by email: {}",
                self.linked_to_accounts
            )?;
        }
        if self.held_by_scoring > 0 {
            writeln!(
                f,
                "held for review by spam scoring: {}",
                self.held_by_scoring
            )?;
        }
        if let Some((spam, ham)) = self.trained {
            writeln!(
                f,
                "taught to the learned spam scorer: {spam} spam, {ham} ham"
            )?;
        }
        if self.accounts + self.bans + self.words > 0 {
            writeln!(
                f,
                "restored: {} accounts, {} bans, {} word-list entries",
                self.accounts, self.bans, self.words
            )?;
        }
        writeln!(f, "skipped: {}", self.skipped_total())?;
        for (kind, (count, first)) in &self.skipped {
            if kind.is_problem() {
                writeln!(f, "  {count} {} (first: {first})", kind.describe())?;
            } else {
                writeln!(f, "  {count} {}", kind.describe())?;
            }
        }
        writeln!(f, "warnings: {}", self.warnings)?;
        for line in &self.warning_lines {
            writeln!(f, "  {line}")?;
        }
        if self.warnings > self.warning_lines.len() as u64 {
            writeln!(
                f,
                "  ... and {} more",
                self.warnings - self.warning_lines.len() as u64
            )?;
        }
        Ok(())
    }
}
