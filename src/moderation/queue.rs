//! What moderators read: the queue (filtered, searched, paginated), one
//! comment with its context and history, per-status counts, the log, and
//! the activity of recent days.

use std::collections::HashMap;
use std::net::IpAddr;

use chrono::{DateTime, Days, NaiveDate};

use super::ModerationError;
use crate::auth::{permissions, AuthUser};
use crate::config::Settings;
use crate::db::bans::ActiveBans;
use crate::db::models::{Article, Comment};
use crate::db::moderation::{LogEntry, LogQuery};
use crate::db::queue::{AuthorFilter, QueueQuery};
use crate::db::{self, Db};
use crate::domain::SortOrder;
use crate::domain::{
    ArticleId, ArticleKey, CommentId, CommentStatus, LogAction, LogEntryId, Page, PageRequest,
    StatusCounts, UserId, ValidationError,
};

/// A commenter's record, shown beside each of their comments.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthorRecord {
    pub counts: StatusCounts,
    pub first_seen: Option<i64>,
    pub banned: bool,
    /// An account a moderator trusts (its comments skip review).
    pub trusted: bool,
}

#[derive(Debug)]
pub struct QueueItem {
    pub comment: Comment,
    pub article: Article,
    pub author: AuthorRecord,
}

pub type QueuePage = Page<QueueItem>;

/// Which comments a queue page lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    Only(CommentStatus),
    /// Every comment a moderator can still act on: all but deleted ones.
    AllButDeleted,
}

/// Filters as the client sent them.
#[derive(Debug, Default)]
pub struct QueueFilter {
    /// Pending when absent.
    pub status: Option<StatusFilter>,
    pub article: Option<String>,
    pub author: Option<String>,
    pub q: Option<String>,
    pub order: Option<SortOrder>,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

/// `author=` is an account id (`42` or `user:42`), an email, or an IP.
fn parse_author(raw: &str) -> Result<AuthorFilter, ValidationError> {
    let raw = raw.trim();
    let bad = || {
        ValidationError::new(
            "author",
            "give an account id, an email address or an IP address",
        )
    };
    if let Some(id) = raw
        .strip_prefix("user:")
        .or(Some(raw))
        .and_then(|s| s.parse::<UserId>().ok())
    {
        return Ok(AuthorFilter::User(id));
    }
    if let Ok(ip) = raw.parse::<IpAddr>() {
        return Ok(AuthorFilter::Ip(ip.to_string()));
    }
    if raw.contains('@') && raw.len() <= 320 {
        return Ok(AuthorFilter::Email(raw.to_lowercase()));
    }
    Err(bad())
}

pub async fn list(
    db: &Db,
    settings: &Settings,
    viewer: &AuthUser,
    filter: QueueFilter,
) -> Result<QueuePage, ModerationError> {
    permissions::require_moderator(viewer)?;
    let page = PageRequest::<CommentId>::parse(
        settings.moderation.page_sizes(),
        filter.limit,
        filter.cursor.as_deref(),
    )?;
    let article_key = filter
        .article
        .as_deref()
        .map(ArticleKey::parse)
        .transpose()?;
    let author = filter.author.as_deref().map(parse_author).transpose()?;
    let search = filter
        .q
        .map(|q| q.trim().to_lowercase())
        .filter(|q| !q.is_empty())
        .map(|q| {
            if q.chars().count() > 200 {
                Err(ValidationError::new("q", "must be at most 200 characters"))
            } else {
                Ok(q)
            }
        })
        .transpose()?;
    let status = match filter.status {
        Some(StatusFilter::Only(status)) => Some(status),
        Some(StatusFilter::AllButDeleted) => None,
        None => Some(CommentStatus::Pending),
    };
    let order = filter.order.unwrap_or(SortOrder::Newest);
    let now = db::now_millis();
    db.read(move |conn| {
        let article_id = match &article_key {
            Some(key) => match db::articles::find_by_key(conn, key.as_str())? {
                Some(a) => Some(a.id),
                None => return Ok(QueuePage::empty()),
            },
            None => None,
        };
        let query = QueueQuery {
            status,
            article_id,
            author,
            search,
            order,
            after: page.after,
            limit: page.rows_to_read(),
        };
        let rows = db::queue::queue_page(conn, &query)?;
        let rows = Page::from_rows(rows, page.limit, |(c, _)| c.id);
        let records = author_records(conn, rows.items.iter().map(|(c, _)| c), now)?;
        let items = rows
            .items
            .into_iter()
            .map(|(comment, article)| {
                let author = records
                    .get(&author_key(&comment))
                    .cloned()
                    .unwrap_or_default();
                QueueItem {
                    comment,
                    article,
                    author,
                }
            })
            .collect();
        Ok::<_, ModerationError>(QueuePage {
            items,
            next_cursor: rows.next_cursor,
        })
    })
    .await
}

/// How a comment's author is identified for their record.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum AuthorKey {
    User(UserId),
    Email(String),
    Anonymous(CommentId),
}

fn author_key(c: &Comment) -> AuthorKey {
    match (c.user_id, &c.author_email) {
        (Some(id), _) => AuthorKey::User(id),
        (None, Some(email)) => AuthorKey::Email(email.clone()),
        (None, None) => AuthorKey::Anonymous(c.id),
    }
}

/// Records for the authors of these comments: one lookup in the stats the
/// database keeps (not one count per comment, nor per author).
fn author_records<'a>(
    conn: &mut db::AnyConnection,
    comments: impl Iterator<Item = &'a Comment> + Clone,
    now: i64,
) -> Result<HashMap<AuthorKey, AuthorRecord>, ModerationError> {
    let mut keys: Vec<String> = comments
        .clone()
        .filter_map(|c| db::stats::author_key(c.user_id, c.author_email.as_deref()))
        .collect();
    keys.sort();
    keys.dedup();
    let stats: HashMap<String, db::stats::CommenterStats> = db::stats::stats_of(conn, &keys)?
        .into_iter()
        .map(|s| (s.author_key.clone(), s))
        .collect();
    let active = ActiveBans::new(db::bans::active(conn, now)?);
    let mut accounts: Vec<UserId> = comments.clone().filter_map(|c| c.user_id).collect();
    accounts.sort_unstable();
    accounts.dedup();
    let trusted = db::users::trusted_among(conn, &accounts)?;
    let mut records: HashMap<AuthorKey, AuthorRecord> = HashMap::new();
    for comment in comments {
        let ip = comment.ip.as_deref().and_then(|ip| ip.parse().ok());
        let banned = active
            .find(comment.user_id, comment.author_email.as_deref(), ip)
            .is_some();
        let record = records.entry(author_key(comment)).or_default();
        if let Some(s) = db::stats::author_key(comment.user_id, comment.author_email.as_deref())
            .and_then(|k| stats.get(&k))
        {
            record.counts = s.counts();
            record.first_seen = Some(s.first_seen);
        }
        record.banned |= banned;
        record.trusted = comment.user_id.is_some_and(|id| trusted.contains(&id));
    }
    Ok(records)
}

/// One comment with what a moderator needs to judge it.
#[derive(Debug)]
pub struct Detail {
    pub item: QueueItem,
    pub parent: Option<Comment>,
    pub history: Vec<LogEntry>,
}

pub async fn get(db: &Db, viewer: &AuthUser, id: CommentId) -> Result<Detail, ModerationError> {
    permissions::require_moderator(viewer)?;
    let now = db::now_millis();
    db.read(move |conn| {
        let comment = db::comments::find(conn, id)?.ok_or(ModerationError::CommentNotFound(id))?;
        let article = db::articles::find(conn, comment.article_id)?
            .ok_or(ModerationError::CommentNotFound(id))?;
        let parent = match comment.parent_id {
            Some(p) => db::comments::find(conn, p)?,
            None => None,
        };
        let history = db::moderation::log_for_comment(conn, id)?;
        let author = author_records(conn, std::iter::once(&comment), now)?
            .remove(&author_key(&comment))
            .unwrap_or_default();
        Ok(Detail {
            item: QueueItem {
                comment,
                article,
                author,
            },
            parent,
            history,
        })
    })
    .await
}

#[derive(Debug, Default)]
pub struct Summary {
    pub overall: StatusCounts,
    pub articles: Vec<(Article, StatusCounts)>,
}

pub async fn summary(db: &Db, viewer: &AuthUser) -> Result<Summary, ModerationError> {
    permissions::require_moderator(viewer)?;
    db.read(|conn| {
        let counts = db::stats::counts_by_article(conn)?;
        let mut by_article: HashMap<ArticleId, StatusCounts> = HashMap::new();
        let mut overall = StatusCounts::default();
        for (article_id, status, count) in counts {
            by_article.entry(article_id).or_default().add(status, count);
            overall.add(status, count);
        }
        let ids: Vec<ArticleId> = by_article.keys().copied().collect();
        let mut articles: Vec<(Article, StatusCounts)> = db::articles::find_many(conn, &ids)?
            .into_iter()
            .map(|a| {
                let counts = by_article.remove(&a.id).unwrap_or_default();
                (a, counts)
            })
            .collect();
        // Most waiting first: that is where moderators are needed.
        articles.sort_by(|a, b| b.1.pending.cmp(&a.1.pending).then(a.0.key.cmp(&b.0.key)));
        Ok(Summary { overall, articles })
    })
    .await
}

/// Which log entries to list: each field given narrows the list.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogFilter {
    pub moderator: Option<UserId>,
    pub comment: Option<CommentId>,
    pub action: Option<LogAction>,
}

/// A page of the audit log, newest first.
pub async fn log(
    db: &Db,
    settings: &Settings,
    viewer: &AuthUser,
    filter: LogFilter,
    cursor: Option<String>,
    limit: Option<u32>,
) -> Result<Page<LogEntry>, ModerationError> {
    permissions::require_moderator(viewer)?;
    let page = PageRequest::<LogEntryId>::parse(
        settings.moderation.page_sizes(),
        limit,
        cursor.as_deref(),
    )?;
    let query = LogQuery {
        moderator: filter.moderator,
        comment: filter.comment,
        action: filter.action,
        before: page.after,
        limit: page.rows_to_read(),
    };
    db.read(move |conn| {
        let rows = db::moderation::log_page(conn, &query)?;
        Ok::<_, ModerationError>(Page::from_rows(rows, page.limit, |e| e.id))
    })
    .await
}

/// Comments created on one UTC day, counted by the status they have now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayCounts {
    pub day: NaiveDate,
    pub counts: StatusCounts,
}

/// What came in lately, for the moderators' overview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    /// One entry per UTC day, oldest first and today last, days without
    /// comments included.
    pub days: Vec<DayCounts>,
    /// Comments created since midnight UTC that are pending now.
    pub held_today: i64,
    /// Comments created since midnight UTC that are spam now.
    pub spam_today: i64,
}

/// The most days `activity` covers: a year.
pub const MAX_ACTIVITY_DAYS: u32 = 365;
/// The days the overview shows unless asked otherwise.
pub const DEFAULT_ACTIVITY_DAYS: u32 = 30;

/// Comments created per UTC day over the `days` days up to `now` (today
/// included), by their status now.
pub async fn activity(
    db: &Db,
    viewer: &AuthUser,
    days: u32,
    now: i64,
) -> Result<Activity, ModerationError> {
    permissions::require_moderator(viewer)?;
    if !(1..=MAX_ACTIVITY_DAYS).contains(&days) {
        return Err(
            ValidationError::new("days", format!("must be from 1 to {MAX_ACTIVITY_DAYS}")).into(),
        );
    }
    let today = DateTime::from_timestamp_millis(now)
        .ok_or_else(|| ModerationError::Internal(format!("{now} ms is no time")))?
        .date_naive();
    let first = today - Days::new(u64::from(days - 1));
    let since = first
        .and_time(chrono::NaiveTime::MIN)
        .and_utc()
        .timestamp_millis();
    let rows = db
        .read(move |conn| db::stats::created_per_day(conn, since).map_err(ModerationError::from))
        .await?;
    Ok(tally(first, days, since / db::stats::DAY_MS, rows))
}

/// Lays the database's `(days since the epoch, status, count)` rows out as
/// `days` days from `first` (which is `first_day` days since the epoch).
fn tally(
    first: NaiveDate,
    days: u32,
    first_day: i64,
    rows: Vec<(i64, CommentStatus, i64)>,
) -> Activity {
    let mut laid_out: Vec<DayCounts> = first
        .iter_days()
        .take(days as usize)
        .map(|day| DayCounts {
            day,
            counts: StatusCounts::default(),
        })
        .collect();
    for (day, status, count) in rows {
        // A comment dated after today (a clock that ran ahead) has no day
        // here.
        let slot = usize::try_from(day - first_day)
            .ok()
            .and_then(|i| laid_out.get_mut(i));
        if let Some(slot) = slot {
            slot.counts.add(status, count);
        }
    }
    let today = laid_out.last().map(|d| d.counts).unwrap_or_default();
    Activity {
        days: laid_out,
        held_today: today.pending,
        spam_today: today.spam,
    }
}

/// The queue's pulse: counts per status and the newest held comment, what
/// the console polls to show new comments as they come.
#[derive(Debug, Default)]
pub struct Pulse {
    pub counts: StatusCounts,
    pub newest_pending: Option<CommentId>,
}

pub async fn pulse(db: &Db, viewer: &AuthUser) -> Result<Pulse, ModerationError> {
    permissions::require_moderator(viewer)?;
    db.read(|conn| {
        Ok(Pulse {
            counts: db::stats::counts_by_status(conn)?,
            newest_pending: db::queue::newest(conn, CommentStatus::Pending)?,
        })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn author_filters_are_recognised() {
        assert_eq!(parse_author("42").unwrap(), AuthorFilter::User(UserId(42)));
        assert_eq!(
            parse_author("user:7").unwrap(),
            AuthorFilter::User(UserId(7))
        );
        assert_eq!(
            parse_author("Ada@Example.com").unwrap(),
            AuthorFilter::Email("ada@example.com".into())
        );
        assert_eq!(
            parse_author("203.0.113.9").unwrap(),
            AuthorFilter::Ip("203.0.113.9".into())
        );
        assert_eq!(
            parse_author("2001:db8::1").unwrap(),
            AuthorFilter::Ip("2001:db8::1".into())
        );
        assert!(parse_author("nobody").is_err());
    }

    #[test]
    fn activity_has_every_day_oldest_first_and_today_last() {
        let first = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let first_day = 20_000;
        let rows = vec![
            (first_day, CommentStatus::Approved, 4),
            (first_day + 2, CommentStatus::Pending, 2),
            (first_day + 2, CommentStatus::Spam, 3),
            (first_day + 2, CommentStatus::Approved, 1),
            // Ahead of the clock: no day of the window.
            (first_day + 3, CommentStatus::Pending, 7),
        ];
        let activity = tally(first, 3, first_day, rows);
        let days: Vec<String> = activity.days.iter().map(|d| d.day.to_string()).collect();
        assert_eq!(days, ["2026-11-30", "2026-12-01", "2026-12-02"]);
        assert_eq!(activity.days[0].counts.approved, 4);
        assert_eq!(activity.days[1].counts, StatusCounts::default());
        assert_eq!(activity.days[2].counts.approved, 1);
        assert_eq!((activity.held_today, activity.spam_today), (2, 3));
    }
}
