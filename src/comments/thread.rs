//! Reading: an article's public thread, page by page, and comment counts.

use std::collections::HashMap;

use super::{articles, CommentError};
use crate::cache::{Bytes, Page, PageKey, PublicCache};
use crate::config::Settings;
use crate::db::models::{Article, Comment};
use crate::db::{self, Db};
use crate::domain::{ArticleKey, CommentId, ValidationError};

pub use crate::db::comments::Order;

/// The most articles one counts request may ask about.
pub const MAX_COUNT_KEYS: usize = 100;

#[derive(Debug)]
pub struct ThreadPage {
    /// `None` when no article has this key yet (no comment was ever made).
    pub article: Option<Article>,
    pub comments: Vec<Comment>,
    /// Pass back as `cursor` for the next page; `None` on the last page.
    pub next_cursor: Option<String>,
    /// Approved comments in the whole thread.
    pub total: i64,
}

/// A validated request for one page of a thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub order: Order,
    pub limit: u32,
    /// The last id of the previous page.
    pub after: Option<CommentId>,
}

impl PageRequest {
    pub fn parse(
        settings: &Settings,
        order: Order,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<Self, CommentError> {
        let limits = &settings.comments;
        let limit = limit.unwrap_or(limits.page_size);
        if limit == 0 || limit > limits.max_page_size {
            return Err(ValidationError::new(
                "limit",
                format!("must be between 1 and {}", limits.max_page_size),
            )
            .into());
        }
        let after = cursor.map(parse_cursor).transpose()?;
        Ok(PageRequest {
            order,
            limit,
            after,
        })
    }
}

/// One page of public comments, as the bytes `encode` makes of it (the
/// view sent), from the cache when it has them. An article nobody has
/// commented on yet is an empty thread, not an error, so a page can always
/// ask.
///
/// A cached page is dropped when its thread changes and, while it shows an
/// open article that closes by age, when the article closes
/// ([`articles::open_answer_holds_until`]). Whatever `encode` shows of the
/// article's openness must come from [`articles::is_open`] at a time no
/// earlier than its call.
pub async fn public_page<E: std::fmt::Display>(
    db: &Db,
    cache: &PublicCache,
    settings: &Settings,
    key: ArticleKey,
    request: PageRequest,
    encode: impl Fn(&ThreadPage) -> Result<Vec<u8>, E>,
) -> Result<Bytes, CommentError> {
    let cache_key = PageKey {
        article: key.as_str().to_string(),
        newest_first: request.order == Order::NewestFirst,
        after: request.after,
        limit: request.limit,
    };
    let encode = &encode;
    cache
        .page_or_fill(&cache_key, db::now_millis(), || {
            let key = key.clone();
            async move {
                let page = read_page(db, key, request).await?;
                // Taken before encoding, never after: a page encoded as
                // open just before its article closed must still lapse at
                // the closing time.
                let read_at = db::now_millis();
                let valid_until = page.article.as_ref().and_then(|article| {
                    articles::open_answer_holds_until(article, &settings.articles, read_at)
                });
                let body = encode(&page).map_err(|e| CommentError::Internal(e.to_string()))?;
                Ok(Page {
                    body: Bytes::from(body),
                    valid_until,
                })
            }
        })
        .await
}

/// One page as stored, without the cache.
async fn read_page(
    db: &Db,
    key: ArticleKey,
    request: PageRequest,
) -> Result<ThreadPage, CommentError> {
    let PageRequest {
        order,
        limit,
        after,
    } = request;
    db.read(move |conn| {
        let Some(article) = db::articles::find_by_key(conn, key.as_str())? else {
            return Ok(ThreadPage {
                article: None,
                comments: Vec::new(),
                next_cursor: None,
                total: 0,
            });
        };
        // One extra row tells whether another page follows.
        let mut comments =
            db::comments::public_page(conn, article.id, order, after, i64::from(limit) + 1)?;
        let next_cursor = if comments.len() > limit as usize {
            comments.truncate(limit as usize);
            comments.last().map(|c| c.id.to_string())
        } else {
            None
        };
        let total = db::articles::approved_count(conn, article.id)?;
        Ok(ThreadPage {
            article: Some(article),
            comments,
            next_cursor,
            total,
        })
    })
    .await
}

/// Cursors are opaque to clients; today they hold the last id seen.
fn parse_cursor(raw: &str) -> Result<CommentId, CommentError> {
    raw.parse::<u64>()
        .ok()
        .and_then(|_| raw.parse::<CommentId>().ok())
        .ok_or_else(|| ValidationError::new("cursor", "is not a cursor this server issued").into())
}

/// Approved-comment counts for many articles; unknown keys count 0.
pub async fn counts(
    db: &Db,
    cache: &PublicCache,
    keys: Vec<String>,
) -> Result<HashMap<String, i64>, CommentError> {
    if keys.is_empty() {
        return Err(ValidationError::new("article", "give at least one ?article=KEY").into());
    }
    if keys.len() > MAX_COUNT_KEYS {
        return Err(ValidationError::new(
            "article",
            format!("at most {MAX_COUNT_KEYS} articles per request"),
        )
        .into());
    }
    for key in &keys {
        ArticleKey::parse(key).map_err(|e| ValidationError::new("article", e.message))?;
    }
    cache
        .counts_or_fill(&keys, |missing| async move {
            // An article nobody commented on is left out, and counts 0.
            db.read(move |conn| {
                let found = db::articles::approved_counts(conn, &missing)?;
                Ok::<_, CommentError>(found.into_iter().collect())
            })
            .await
        })
        .await
}
