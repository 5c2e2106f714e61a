//! Likes and dislikes: one vote per voter (an account, or a client address)
//! and published comment, never on one's own comment.

use std::collections::HashMap;
use std::net::IpAddr;

use super::manage::wrote;
use super::{CommentError, EditAuth};
use crate::cache;
use crate::db::{self, Db};
use crate::domain::{ArticleId, CommentId, CommentStatus, UserId};
use crate::services::Services;

pub use crate::db::votes::Tally;

/// Who votes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Voter {
    Account(UserId),
    Address(IpAddr),
}

/// Why a vote was not counted; the answer still carries the tally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    OwnComment,
    AlreadyVoted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Voted {
    pub tally: Tally,
    pub refused: Option<Refusal>,
}

/// Likes (`like`) or dislikes a published comment. A voter's second vote
/// on a comment, and a vote on a comment the voter wrote (by account, edit
/// token, or from the address it came from), are not counted.
#[tracing::instrument(skip_all, fields(comment_id = %id))]
pub async fn vote(
    services: &Services,
    id: CommentId,
    voter: Voter,
    like: bool,
    auth: EditAuth<'_>,
) -> Result<Voted, CommentError> {
    let comment = services
        .db
        .read(move |conn| db::comments::find(conn, id).map_err(CommentError::from))
        .await?
        .filter(|c| c.status == CommentStatus::Approved)
        .ok_or(CommentError::NotFound)?;
    let (key, address) = match voter {
        Voter::Account(user) => (format!("u:{user}"), None),
        Voter::Address(ip) => (
            format!("ip:{}", services.keyring.voter(&ip.to_string())),
            Some(ip),
        ),
    };
    let own = wrote(&auth, &comment, address)
        || matches!(voter, Voter::Account(user) if comment.user_id == Some(user));
    let now = db::now_millis();
    let article_id = comment.article_id;
    let (voted, changed) = services
        .db
        .write(move |conn| {
            let counted =
                !own && db::votes::insert(conn, id, &key, if like { 1 } else { -1 }, now)?;
            let tally = db::votes::tallies(conn, &[id])?
                .remove(&id)
                .unwrap_or_default();
            let refused = match (own, counted) {
                (true, _) => Some(Refusal::OwnComment),
                (false, false) => Some(Refusal::AlreadyVoted),
                (false, true) => None,
            };
            // Isso's cached threads show the tallies.
            let changed = match counted {
                true => db::articles::find(conn, article_id)?.map(|a| a.key),
                false => None,
            };
            if let Some(key) = &changed {
                cache::notify_in(conn, Some(key))?;
            }
            Ok::<_, CommentError>((Voted { tally, refused }, changed))
        })
        .await?;
    if let Some(key) = changed {
        services.cache.invalidate(&key);
    }
    Ok(voted)
}

/// The tallies of these comments (those without votes are absent).
pub async fn tallies(
    db: &Db,
    ids: Vec<CommentId>,
) -> Result<HashMap<CommentId, Tally>, CommentError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    db.read(move |conn| {
        let mut tallies = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(super::outline::IDS_PER_QUERY) {
            tallies.extend(db::votes::tallies(conn, chunk)?);
        }
        Ok::<_, CommentError>(tallies)
    })
    .await
}

/// The tallies of every comment of an article that has votes.
pub async fn tallies_of_article(
    db: &Db,
    article_id: ArticleId,
) -> Result<HashMap<CommentId, Tally>, CommentError> {
    db.read(move |conn| db::votes::tallies_of_article(conn, article_id).map_err(CommentError::from))
        .await
}
