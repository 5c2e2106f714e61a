//! A thread read whole, for surfaces that arrange it themselves (Isso's
//! API nests replies one level deep and pages by offset, not by cursor):
//! its outline first, without any text, then the text of the comments a
//! page shows. Same rule as the public pages: approved comments, and
//! deleted ones kept as placeholders while a reply to them is shown.

use std::collections::HashSet;

use super::CommentError;
use crate::db::models::{Article, Comment};
use crate::db::{self, Db};
use crate::domain::{ArticleId, ArticleKey, CommentId, CommentStatus};

/// One comment readers see, without its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutlineEntry {
    pub id: CommentId,
    /// The comment it replies to, as stored (it may be one readers do not
    /// see).
    pub parent_id: Option<CommentId>,
    pub status: CommentStatus,
    pub created_at: i64,
}

/// An article and what readers see of its thread, in id order.
#[derive(Debug)]
pub struct Outline {
    pub article: Article,
    pub entries: Vec<OutlineEntry>,
}

/// The outline of an article's public thread; `None` when no article has
/// this key.
pub async fn outline(db: &Db, key: ArticleKey) -> Result<Option<Outline>, CommentError> {
    db.read(move |conn| {
        let Some(article) = db::articles::find_by_key(conn, key.as_str())? else {
            return Ok(None);
        };
        let rows = db::comments::outline(conn, article.id)?;
        Ok(Some(Outline {
            article,
            entries: shown(rows),
        }))
    })
    .await
}

/// Of approved and deleted comments, those readers see: a deleted one only
/// with a reply among them (the rule of `db::comments::public_page`).
fn shown(rows: Vec<db::comments::OutlineRow>) -> Vec<OutlineEntry> {
    let parents: HashSet<CommentId> = rows.iter().filter_map(|row| row.1).collect();
    let mut shown: Vec<OutlineEntry> = rows
        .into_iter()
        .filter(|(id, _, status, _)| *status == CommentStatus::Approved || parents.contains(id))
        .map(|(id, parent_id, status, created_at)| OutlineEntry {
            id,
            parent_id,
            status,
            created_at,
        })
        .collect();
    shown.sort_unstable_by_key(|entry| entry.id);
    shown
}

/// Ids per query at most: far below what either database takes as bound
/// parameters (SQLite 32,766, PostgreSQL 65,535).
pub(super) const IDS_PER_QUERY: usize = 1_000;

/// The comments with these ids that readers of the article see, in id
/// order (one that changed since its outline was read is left out).
pub async fn shown_comments(
    db: &Db,
    article_id: ArticleId,
    ids: Vec<CommentId>,
) -> Result<Vec<Comment>, CommentError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    db.read(move |conn| {
        let mut found = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(IDS_PER_QUERY) {
            found.extend(db::comments::find_many(conn, chunk)?);
        }
        found.sort_unstable_by_key(|c| c.id);
        let mut kept = Vec::with_capacity(found.len());
        for comment in found {
            let visible = comment.article_id == article_id
                && match comment.status {
                    CommentStatus::Approved => true,
                    CommentStatus::Deleted => db::comments::has_public_reply(conn, comment.id)?,
                    _ => false,
                };
            if visible {
                kept.push(comment);
            }
        }
        Ok::<_, CommentError>(kept)
    })
    .await
}

/// A deleted comment that stays in its thread as a placeholder, because a
/// reply to it is shown; `None` when it is gone from readers' view.
pub async fn placeholder(db: &Db, id: CommentId) -> Result<Option<Comment>, CommentError> {
    db.read(move |conn| {
        let Some(comment) = db::comments::find(conn, id)? else {
            return Ok(None);
        };
        let kept = comment.status == CommentStatus::Deleted
            && db::comments::has_public_reply(conn, comment.id)?;
        Ok::<_, CommentError>(kept.then_some(comment))
    })
    .await
}

/// An article's newest published comments (at most `limit`), newest
/// first; `None` when no article has this key.
pub async fn newest(
    db: &Db,
    key: ArticleKey,
    limit: u32,
) -> Result<Option<(Article, Vec<Comment>)>, CommentError> {
    db.read(move |conn| {
        let Some(article) = db::articles::find_by_key(conn, key.as_str())? else {
            return Ok(None);
        };
        let comments = db::comments::newest_approved(conn, article.id, i64::from(limit))?;
        Ok(Some((article, comments)))
    })
    .await
}

/// The newest published comments of every article (at most `limit`),
/// newest first, each with its article's key.
pub async fn newest_anywhere(db: &Db, limit: u32) -> Result<Vec<(Comment, String)>, CommentError> {
    db.read(move |conn| {
        db::comments::newest_approved_anywhere(conn, i64::from(limit)).map_err(CommentError::from)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deleted_comments_are_shown_only_while_a_reply_to_them_is() {
        let row = |id: i64, parent: Option<i64>, status| {
            (CommentId(id), parent.map(CommentId), status, id * 10)
        };
        let rows = vec![
            row(4, None, CommentStatus::Approved),
            row(1, None, CommentStatus::Deleted),
            row(2, Some(1), CommentStatus::Approved),
            row(3, None, CommentStatus::Deleted),
            row(5, None, CommentStatus::Deleted),
            row(6, Some(5), CommentStatus::Deleted),
        ];
        let ids: Vec<i64> = shown(rows).iter().map(|e| e.id.0).collect();
        // In id order. 3 has no reply; 6 is a deleted reply without one,
        // but 5 keeps its place through it, as the public pages do.
        assert_eq!(ids, [1, 2, 4, 5]);
    }
}
