//! Isso's generic JSON import format (what Isso's own `isso import`
//! reads from any system): a list of threads, each
//! `{"id": uri, "title", "comments": [{"id", "author", "email", "website",
//! "remote_addr", "created": "YYYY-MM-DD HH:MM:SS", "text"}]}`. No
//! threading and no statuses: every comment is an approved top-level one,
//! its text markdown. Comment ids repeat across threads, so a comment is
//! known by its thread's uri and its id. Read whole (such files are
//! written by hand or by small scripts); `moderato import isso FILE.json`.

use std::collections::VecDeque;
use std::path::Path;

use chrono::NaiveDateTime;
use serde::Deserialize;

use super::apply::Queued;
use super::summary::{Skip, SkipKind};
use super::{ArticleIn, Item, Limits, Position, RawComment, Text, TransferError};
use crate::domain::{ArticleKey, CommentStatus, Title};

#[derive(Debug, Deserialize)]
struct Thread {
    id: String,
    title: Option<String>,
    #[serde(default)]
    comments: Vec<Comment>,
}

#[derive(Debug, Deserialize)]
struct Comment {
    id: serde_json::Value,
    author: Option<String>,
    email: Option<String>,
    website: Option<String>,
    remote_addr: Option<String>,
    created: String,
    text: Option<String>,
}

pub struct IssoJson {
    queue: VecDeque<Item>,
}

impl IssoJson {
    pub fn open(file: &Path, limits: Limits) -> Result<Self, TransferError> {
        let name = file.display().to_string();
        let text = std::fs::read_to_string(file).map_err(|e| TransferError::Unreadable {
            file: name.clone(),
            message: e.to_string(),
        })?;
        let threads: Vec<Thread> =
            serde_json::from_str(&text).map_err(|e| TransferError::Format {
                file: name.clone(),
                position: Position::Line {
                    line: e.line() as u64,
                    column: e.column() as u64,
                },
                message: format!("not Isso's generic JSON: {e}"),
            })?;
        let mut queue = VecDeque::new();
        queue.push_back(Item::Source("isso-json".into()));
        for thread in threads {
            queue.push_back(match ArticleKey::parse(&thread.id) {
                Ok(key) => Item::Article(ArticleIn {
                    source_id: thread.id.clone(),
                    key,
                    title: thread
                        .title
                        .as_deref()
                        .and_then(|t| Title::parse(t, "title").ok())
                        .map(Title::into_inner),
                    url: None,
                }),
                Err(e) => Item::NoArticle {
                    source_id: thread.id.clone(),
                    why: format!("thread `{}`: {e}", thread.id),
                },
            });
            for comment in thread.comments {
                let id = format!("{}#{}", thread.id, comment.id);
                let created =
                    NaiveDateTime::parse_from_str(comment.created.trim(), "%Y-%m-%d %H:%M:%S");
                let Ok(created) = created else {
                    queue.push_back(Item::Skipped(Skip::new(
                        SkipKind::InvalidDate,
                        &id,
                        format!("created `{}`", comment.created),
                    )));
                    continue;
                };
                let raw = RawComment {
                    source_id: id,
                    article: thread.id.clone(),
                    parent: None,
                    name: comment.author.unwrap_or_default(),
                    email: comment.email.unwrap_or_default(),
                    url: comment.website.unwrap_or_default(),
                    ip: comment.remote_addr.unwrap_or_default(),
                    text: Text::Markdown(comment.text.unwrap_or_default()),
                    status: CommentStatus::Approved,
                    created_at: created.and_utc().timestamp_millis(),
                    registered: false,
                };
                queue.extend(raw.into_items(&limits));
            }
        }
        Ok(IssoJson { queue })
    }
}

impl Queued for IssoJson {
    fn queue(&mut self) -> &mut VecDeque<Item> {
        &mut self.queue
    }

    fn done(&self) -> bool {
        true
    }

    fn read_more(&mut self) -> Result<(), TransferError> {
        Ok(())
    }
}
