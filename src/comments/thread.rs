//! Reading: an article's public thread, page by page, and comment counts.

use std::collections::HashMap;

use super::{articles, CommentError};
use crate::cache::{Bytes, Page as CachedPage, PageKey, PageOf, PublicCache};
use crate::config::Settings;
use crate::db::models::{Article, Comment};
use crate::db::{self, Db};
use crate::domain::{ArticleKey, CommentId, Page, PageRequest, SortOrder, ValidationError};

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

/// A validated request for one page of a thread, in an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThreadRequest {
    pub order: SortOrder,
    pub page: PageRequest<CommentId>,
}

impl ThreadRequest {
    pub fn parse(
        settings: &Settings,
        order: SortOrder,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<Self, CommentError> {
        let page = PageRequest::parse(settings.comments.page_sizes(), limit, cursor)?;
        Ok(ThreadRequest { order, page })
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
    request: ThreadRequest,
    encode: impl Fn(&ThreadPage) -> Result<Vec<u8>, E>,
) -> Result<Bytes, CommentError> {
    let cache_key = PageKey {
        article: key.as_str().to_string(),
        page: PageOf::Thread {
            newest_first: request.order == SortOrder::Newest,
            after: request.page.after,
            limit: request.page.limit,
        },
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
                Ok(CachedPage {
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
    request: ThreadRequest,
) -> Result<ThreadPage, CommentError> {
    let ThreadRequest { order, page } = request;
    db.read(move |conn| {
        let Some(article) = db::articles::find_by_key(conn, key.as_str())? else {
            return Ok(ThreadPage {
                article: None,
                comments: Vec::new(),
                next_cursor: None,
                total: 0,
            });
        };
        let rows =
            db::comments::public_page(conn, article.id, order, page.after, page.rows_to_read())?;
        let Page {
            items: comments,
            next_cursor,
        } = Page::from_rows(rows, page.limit, |c| c.id);
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
