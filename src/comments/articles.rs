//! Articles as the admin manages them.

use super::CommentError;
use crate::auth::{permissions, AuthUser};
use crate::cache::PublicCache;
use crate::config::{ArticleSettings, Settings};
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

/// When an article stops taking comments by age: `articles.close_after_days`
/// after it was created (it is still open at that very millisecond). `None`
/// when articles never close by age.
pub fn closes_at(article: &Article, rules: &ArticleSettings) -> Option<i64> {
    (rules.close_after_days > 0)
        .then(|| article.created_at + i64::from(rules.close_after_days) * DAY_MS)
}

/// Whether an article takes comments now: open, and not past
/// `articles.close_after_days`.
pub fn is_open(article: &Article, settings: &Settings, now: i64) -> bool {
    is_open_with(article, &settings.articles, now)
}

pub fn is_open_with(article: &Article, rules: &ArticleSettings, now: i64) -> bool {
    article.comments_open && closes_at(article, rules).is_none_or(|at| now <= at)
}

/// Until when the answer of [`is_open_with`] at `now` holds while the
/// article itself is not changed: its closing time while it is open and
/// will close by age. `None` when only a change to the article can alter the
/// answer (it never closes by age, or it is closed already). Whatever shows
/// that answer, such as a cached thread page, is good until then.
pub fn open_answer_holds_until(
    article: &Article,
    rules: &ArticleSettings,
    now: i64,
) -> Option<i64> {
    if is_open_with(article, rules, now) {
        closes_at(article, rules)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ArticleId;

    fn article(comments_open: bool, created_at: i64) -> Article {
        Article {
            id: ArticleId(1),
            key: "a".into(),
            title: None,
            url: None,
            comments_open,
            created_at,
            updated_at: created_at,
        }
    }

    fn closing_after(days: u32) -> ArticleSettings {
        ArticleSettings {
            auto_create: true,
            auto_create_url_prefixes: Vec::new(),
            close_after_days: days,
        }
    }

    #[test]
    fn an_article_is_open_up_to_its_closing_time_and_the_answer_holds_until_then() {
        let rules = closing_after(2);
        let a = article(true, 1_000);
        let closes = 1_000 + 2 * DAY_MS;
        assert_eq!(closes_at(&a, &rules), Some(closes));
        assert!(is_open_with(&a, &rules, closes));
        assert!(!is_open_with(&a, &rules, closes + 1));
        assert_eq!(
            open_answer_holds_until(&a, &rules, closes - 5),
            Some(closes)
        );
        // Closed by age, it stays closed whatever the time.
        assert_eq!(open_answer_holds_until(&a, &rules, closes + 1), None);
    }

    #[test]
    fn without_closing_by_age_only_a_change_alters_the_answer() {
        let never = closing_after(0);
        assert_eq!(closes_at(&article(true, 0), &never), None);
        assert!(is_open_with(&article(true, 0), &never, i64::MAX));
        assert_eq!(open_answer_holds_until(&article(true, 0), &never, 5), None);
        let closed = article(false, 0);
        assert!(!is_open_with(&closed, &closing_after(2), 0));
        assert_eq!(open_answer_holds_until(&closed, &closing_after(2), 0), None);
    }
}
