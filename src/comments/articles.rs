//! Articles as the admin manages them.

use super::CommentError;
use crate::auth::{permissions, AuthUser};
use crate::cache::PublicCache;
use crate::config::Settings;
use crate::db::models::{Article, ArticleUpdate, NewArticle};
use crate::db::{self, Db};
use crate::domain::{ArticleKey, Title, WebUrl};

/// Fields of `PUT /articles/{key}`; absent fields keep their value (or their
/// default on creation), `null` clears title and url.
#[derive(Debug, Default)]
pub struct ArticleChanges {
    pub title: Option<Option<String>>,
    pub url: Option<Option<String>>,
    pub comments_open: Option<bool>,
}

pub struct ArticleWithCount {
    pub article: Article,
    pub approved: i64,
}

pub async fn get(db: &Db, key: ArticleKey) -> Result<ArticleWithCount, CommentError> {
    db.read(move |conn| {
        let article =
            db::articles::find_by_key(conn, key.as_str())?.ok_or(CommentError::ArticleNotFound)?;
        let approved = db::articles::approved_count(conn, article.id)?;
        Ok(ArticleWithCount { article, approved })
    })
    .await
}

/// Creates or updates an article (admins only). Returns it and whether it
/// was created.
pub async fn put(
    db: &Db,
    settings: &Settings,
    cache: &PublicCache,
    viewer: &AuthUser,
    key: ArticleKey,
    changes: ArticleChanges,
) -> Result<(ArticleWithCount, bool), CommentError> {
    permissions::require_admin(viewer)?;
    let max_url = settings.comments.max_url_bytes.max(2048);
    let title = changes
        .title
        .map(|t| {
            t.map(|t| Title::parse(&t, "title").map(Title::into_inner))
                .transpose()
        })
        .transpose()?;
    let url = changes
        .url
        .map(|u| {
            u.map(|u| WebUrl::parse(&u, max_url, "url").map(WebUrl::into_inner))
                .transpose()
        })
        .transpose()?;
    let open = changes.comments_open;
    let now = db::now_millis();
    db.write(move |conn| {
        let (article, created) = match db::articles::find_by_key(conn, key.as_str())? {
            Some(existing) => {
                let update = ArticleUpdate {
                    title,
                    url,
                    comments_open: open,
                    updated_at: now,
                };
                (db::articles::update(conn, existing.id, &update)?, false)
            }
            None => {
                let new = NewArticle {
                    key: key.as_str(),
                    title: title.as_ref().and_then(|t| t.as_deref()),
                    url: url.as_ref().and_then(|u| u.as_deref()),
                    comments_open: open.unwrap_or(true),
                    created_at: now,
                    updated_at: now,
                };
                db::articles::find_or_insert(conn, &new)?
            }
        };
        let approved = db::articles::approved_count(conn, article.id)?;
        crate::cache::notify_in(conn, Some(&article.key))?;
        Ok((ArticleWithCount { article, approved }, created))
    })
    .await
    .inspect(|(found, _)| cache.invalidate(&found.article.key))
}

const DAY_MS: i64 = 24 * 3600 * 1000;

/// Whether an article takes comments now: open, and not past
/// `articles.close_after_days`.
pub fn is_open(article: &Article, settings: &Settings, now: i64) -> bool {
    is_open_with(article, &settings.articles, now)
}

pub fn is_open_with(article: &Article, rules: &crate::config::ArticleSettings, now: i64) -> bool {
    let expired = rules.close_after_days > 0
        && now - article.created_at > i64::from(rules.close_after_days) * DAY_MS;
    article.comments_open && !expired
}
