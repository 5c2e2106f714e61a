//! Moderato's own export format: gzipped NDJSON, one JSON object per line,
//! each with a `type`. A header first, then articles, accounts (only with
//! `--include-accounts`), comments, bans, word-list entries, and an `end`
//! line with the counts, whose absence tells a cut file. docs/IMPORT.md
//! describes every field.

use serde::{Deserialize, Serialize};

use crate::db::bans::Ban;
use crate::db::models::{Article, Comment, User};
use crate::db::spam::WordRow;
use crate::domain::{BanKind, CommentStatus, Role, Verdict, WordKind, WordList};

/// The version this code writes and reads.
pub const VERSION: u32 = 1;
/// The header's `format`.
pub const FORMAT: &str = "moderato-export";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Line {
    Header(Header),
    Article(ArticleLine),
    Account(AccountLine),
    Comment(Box<CommentLine>),
    Ban(BanLine),
    Word(WordLine),
    End(EndLine),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub format: String,
    pub version: u32,
    /// The exporting site's id: an import into the same site recognises
    /// its own comments by it.
    pub site: String,
    pub exported_at: i64,
    /// The one article exported (`--article`), or `null` for the site.
    pub article: Option<String>,
    /// Whether account lines (with password hashes) follow.
    pub accounts: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArticleLine {
    pub id: i64,
    pub key: String,
    pub title: Option<String>,
    pub url: Option<String>,
    pub comments_open: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl From<&Article> for ArticleLine {
    fn from(a: &Article) -> Self {
        ArticleLine {
            id: a.id.0,
            key: a.key.clone(),
            title: a.title.clone(),
            url: a.url.clone(),
            comments_open: a.comments_open,
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountLine {
    /// Always `true`: the line holds a password hash.
    pub secret: bool,
    pub id: i64,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub role: Role,
    pub trusted: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl From<&User> for AccountLine {
    fn from(u: &User) -> Self {
        AccountLine {
            secret: true,
            id: u.id.0,
            email: u.email.clone(),
            name: u.name.clone(),
            password_hash: u.password_hash.clone(),
            role: u.role,
            trusted: u.trusted,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Origin {
    pub source: String,
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommentLine {
    pub id: i64,
    pub article_id: i64,
    pub parent_id: Option<i64>,
    pub user_id: Option<i64>,
    pub author_name: String,
    pub author_email: Option<String>,
    pub author_url: Option<String>,
    pub body: String,
    pub html: String,
    pub status: CommentStatus,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub referrer: Option<String>,
    pub created_at: i64,
    pub edited_at: Option<i64>,
    pub status_changed_at: i64,
    pub version: i64,
    pub spam_score: Option<f64>,
    /// The spam pipeline's report, as JSON (see docs/SPAM.md).
    pub spam_report: Option<serde_json::Value>,
    pub verdict: Option<Verdict>,
    pub learned_text: Option<String>,
    /// Where it was imported from, if it was.
    pub imported_from: Vec<Origin>,
}

impl CommentLine {
    pub fn of(c: &Comment, imported_from: Vec<Origin>) -> Self {
        CommentLine {
            id: c.id.0,
            article_id: c.article_id.0,
            parent_id: c.parent_id.map(|p| p.0),
            user_id: c.user_id.map(|u| u.0),
            author_name: c.author_name.clone(),
            author_email: c.author_email.clone(),
            author_url: c.author_url.clone(),
            body: c.body.clone(),
            html: c.html.clone(),
            status: c.status,
            ip: c.ip.clone(),
            user_agent: c.user_agent.clone(),
            referrer: c.referrer.clone(),
            created_at: c.created_at,
            edited_at: c.edited_at,
            status_changed_at: c.status_changed_at,
            version: c.version,
            spam_score: c.spam_score,
            spam_report: c
                .spam_report
                .as_deref()
                .and_then(|r| serde_json::from_str(r).ok()),
            verdict: c.verdict,
            learned_text: c.learned_text.clone(),
            imported_from,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BanLine {
    pub id: i64,
    pub kind: BanKind,
    pub value: String,
    pub shadow: bool,
    pub reason: Option<String>,
    pub expires_at: Option<i64>,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub lifted_at: Option<i64>,
    pub lifted_by: Option<i64>,
}

impl From<&Ban> for BanLine {
    fn from(b: &Ban) -> Self {
        BanLine {
            id: b.id.0,
            kind: b.kind,
            value: b.value.clone(),
            shadow: b.shadow,
            reason: b.reason.clone(),
            expires_at: b.expires_at,
            created_by: b.created_by.map(|u| u.0),
            created_at: b.created_at,
            lifted_at: b.lifted_at,
            lifted_by: b.lifted_by.map(|u| u.0),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WordLine {
    pub id: i64,
    pub list: WordList,
    pub kind: WordKind,
    pub pattern: String,
    pub note: Option<String>,
    pub created_at: i64,
}

impl From<&WordRow> for WordLine {
    fn from(w: &WordRow) -> Self {
        WordLine {
            id: w.id.0,
            list: w.list,
            kind: w.kind,
            pattern: w.pattern.clone(),
            note: w.note.clone(),
            created_at: w.created_at,
        }
    }
}

/// How many records of each kind the file holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndLine {
    pub articles: u64,
    pub accounts: u64,
    pub comments: u64,
    pub bans: u64,
    pub words: u64,
}
