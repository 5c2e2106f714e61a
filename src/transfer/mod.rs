//! Moving comments in and out.
//!
//! Importers read another system's export as a stream and yield our own
//! records ([`Item`]), one file per format: `wordpress.rs` (WXR),
//! `disqus.rs`, `isso.rs` (Isso's SQLite database) and `isso_json.rs`
//! (Isso's generic JSON), `moderato.rs`
//! (Moderato's own export). A reader runs on a thread of its own and
//! hands its items over a bounded channel to `apply.rs`, which writes
//! them in one transaction (all or nothing per run; a dry run rolls it
//! back) and counts what it did into a [`Summary`]. `export.rs` writes
//! Moderato's own format. docs/IMPORT.md describes the formats and the
//! rules.

pub mod apply;
pub mod disqus;
pub mod export;
pub mod format;
pub mod isso;
pub mod isso_json;
pub mod moderato;
pub mod progress;
mod raw;
mod summary;
pub mod wordpress;
mod xml;

use std::fmt;

pub use apply::{run_import, ImportOptions};
pub use raw::{Limits, RawComment, Text};
pub use summary::{Skip, Summary};

use crate::db::DbError;
use crate::domain::{ArticleKey, CommentStatus};

/// Where in a file something is, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// 1-based line and column (in characters) of an XML file.
    Line { line: u64, column: u64 },
    /// The n-th record (1-based) of a line- or row-based file.
    Record(u64),
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Position::Line { line, column } => write!(f, "line {line}, column {column}"),
            Position::Record(n) => write!(f, "record {n}"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// The file is not what it should be: nothing of it is kept.
    #[error("{file}: {position}: {message}")]
    Format {
        file: String,
        position: Position,
        message: String,
    },
    #[error("{file}: {message}")]
    Unreadable { file: String, message: String },
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("{0}")]
    Failed(String),
}

impl From<diesel::result::Error> for TransferError {
    fn from(e: diesel::result::Error) -> Self {
        TransferError::Db(DbError::from(e))
    }
}

/// What a reader yields, in file order.
#[derive(Debug)]
pub enum Item {
    /// Names the site the records come from (`wordpress:<site URL>`, ...),
    /// before any comment: what makes a record's id unique.
    Source(String),
    /// An article the comments after it may belong to. Created (or matched
    /// by key) only when a comment of it is imported.
    Article(ArticleIn),
    /// An article (by its source id) that cannot be one, and why: its
    /// comments are skipped with that reason.
    NoArticle {
        source_id: String,
        why: String,
    },
    Comment(Box<CommentIn>),
    /// A record the reader could not or would not turn into a comment.
    Skipped(Skip),
    /// Something kept differently from the source (a value dropped).
    Warning(String),
    /// A record of Moderato's own export, restored or merged as it is.
    Moderato(Box<format::Line>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleIn {
    /// The source's id of the post or thread, as comments refer to it.
    pub source_id: String,
    pub key: ArticleKey,
    pub title: Option<String>,
    pub url: Option<String>,
}

/// A comment as the database will hold it, already checked and rendered.
#[derive(Debug, Clone, PartialEq)]
pub struct CommentIn {
    /// The source's id of the comment.
    pub source_id: String,
    /// The source's id of its article.
    pub article: String,
    /// The source's id of the comment it replies to.
    pub parent: Option<String>,
    pub author_name: String,
    /// Lower-cased, checked.
    pub author_email: Option<String>,
    pub author_url: Option<String>,
    pub ip: Option<String>,
    /// Link the comment to the account with this email, when one exists
    /// (WordPress comments by registered users).
    pub account_email: Option<String>,
    /// The text (markdown, or the text of imported HTML); empty only for a
    /// deleted comment.
    pub body: String,
    /// The sanitized HTML shown to readers.
    pub html: String,
    /// The duplicate guard's hash of the text (`None` for an empty one),
    /// worked out on the reader's thread.
    pub fingerprint: Option<String>,
    pub status: CommentStatus,
    /// Milliseconds since the epoch, UTC.
    pub created_at: i64,
    /// What only Moderato's own export carries.
    pub kept: Option<Box<Kept>>,
}

/// The columns of a comment only Moderato's own export carries, restored
/// as they were.
#[derive(Debug, Clone, PartialEq)]
pub struct Kept {
    pub user_id: Option<i64>,
    pub user_agent: Option<String>,
    pub referrer: Option<String>,
    pub edited_at: Option<i64>,
    pub status_changed_at: i64,
    pub version: i64,
    pub spam_score: Option<f64>,
    pub spam_report: Option<String>,
    pub verdict: Option<crate::domain::Verdict>,
    pub learned_text: Option<String>,
    /// Other sources this comment was imported from: `(source, id)`.
    pub imported_from: Vec<(String, String)>,
}
