//! Comments: inserting, reading threads, and the author's own changes.

use diesel::prelude::*;

use super::models::{Article, Comment, NewComment};
use super::schema::{articles, commenter_stats, comments, comments_search};
use super::{AnyConnection, Backend};
use crate::domain::{ArticleId, CommentId, CommentStatus, StatusCounts, UserId};

pub fn insert(conn: &mut AnyConnection, new: &NewComment) -> QueryResult<Comment> {
    diesel::insert_into(comments::table)
        .values(new)
        .get_result::<Comment>(conn)
}

pub fn find(conn: &mut AnyConnection, id: CommentId) -> QueryResult<Option<Comment>> {
    comments::table
        .find(id)
        .select(Comment::as_select())
        .first(conn)
        .optional()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    OldestFirst,
    NewestFirst,
}

/// One page of an article's public thread: approved comments, plus deleted
/// ones that still have public replies (shown as placeholders so the thread
/// holds together). Keyset-paginated on `id`: `after` is the last id of the
/// previous page, so each page costs the same however deep it is.
pub fn public_page(
    conn: &mut AnyConnection,
    article_id: ArticleId,
    order: Order,
    after: Option<CommentId>,
    limit: i64,
) -> QueryResult<Vec<Comment>> {
    let replies = diesel::alias!(comments as replies);
    let has_public_reply = diesel::dsl::exists(
        replies
            .filter(
                replies
                    .field(comments::parent_id)
                    .eq(comments::id.nullable()),
            )
            .filter(
                replies
                    .field(comments::status)
                    .eq_any([CommentStatus::Approved, CommentStatus::Deleted]),
            ),
    );
    let mut query = comments::table
        .filter(comments::article_id.eq(article_id))
        .filter(
            comments::status
                .eq(CommentStatus::Approved)
                .or(comments::status
                    .eq(CommentStatus::Deleted)
                    .and(has_public_reply)),
        )
        .select(Comment::as_select())
        .limit(limit)
        .into_boxed();
    query = match (order, after) {
        (Order::OldestFirst, Some(id)) => query.filter(comments::id.gt(id)),
        (Order::NewestFirst, Some(id)) => query.filter(comments::id.lt(id)),
        (_, None) => query,
    };
    query = match order {
        Order::OldestFirst => query.order(comments::id.asc()),
        Order::NewestFirst => query.order(comments::id.desc()),
    };
    query.load(conn)
}

/// An edit's new text and the verdict on it.
#[derive(Debug)]
pub struct BodyUpdate<'a> {
    pub body: &'a str,
    pub html: &'a str,
    pub fingerprint: &'a str,
    pub status: CommentStatus,
    pub spam_score: f64,
    pub spam_report: &'a str,
    pub at: i64,
}

/// Stores an edit, unless the comment changed since `current` was read
/// (its version moved): then `None`, and the caller reports a conflict.
pub fn update_body(
    conn: &mut AnyConnection,
    current: &Comment,
    update: &BodyUpdate<'_>,
) -> QueryResult<Option<Comment>> {
    let status_changed_at = if current.status == update.status {
        current.status_changed_at
    } else {
        update.at
    };
    diesel::update(
        comments::table
            .filter(comments::id.eq(current.id))
            .filter(comments::version.eq(current.version)),
    )
    .set((
        comments::body.eq(update.body),
        comments::html.eq(update.html),
        comments::fingerprint.eq(update.fingerprint),
        comments::status.eq(update.status),
        comments::edited_at.eq(update.at),
        comments::status_changed_at.eq(status_changed_at),
        comments::spam_score.eq(update.spam_score),
        comments::spam_report.eq(update.spam_report),
        comments::version.eq(comments::version + 1),
    ))
    .get_result::<Comment>(conn)
    .optional()
}

/// Marks a comment deleted and erases what it said. The row stays, so
/// replies keep their parent and the thread its shape.
pub fn mark_deleted(conn: &mut AnyConnection, id: CommentId, now: i64) -> QueryResult<usize> {
    diesel::update(comments::table.find(id))
        .set((
            comments::status.eq(CommentStatus::Deleted),
            comments::body.eq(""),
            comments::html.eq(""),
            comments::edit_token_hash.eq(None::<String>),
            comments::status_changed_at.eq(now),
            comments::version.eq(comments::version + 1),
        ))
        .execute(conn)
}

/// Who wrote a comment, as the duplicate guard tells people apart: by
/// account, by email for a guest, by name for a guest who gave no email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Writer {
    Account(UserId),
    Guest(String),
    Anonymous(String),
}

/// A comment about to be stored, as the duplicate guard sees it.
#[derive(Debug, Clone)]
pub struct DuplicateProbe {
    pub fingerprint: String,
    /// `None` when the comment creates its article.
    pub article_id: Option<ArticleId>,
    pub writer: Writer,
    pub ip: Option<String>,
    /// Also a duplicate: the same text by the same writer, or from the same
    /// address, on any article since this time.
    pub across_articles_since: Option<i64>,
    /// An edit is no duplicate of the comment it edits.
    pub except_id: Option<CommentId>,
}

/// Whether a comment other than `except_id`, not deleted, with the same
/// fingerprint, is the same writer's on the same article, or (within the
/// window) the same writer's or from the same address on any article.
///
/// Each probe must be answered from the fingerprint indexes (migration
/// 0009): `(fingerprint, article_id)` and `(fingerprint, created_at)`. The
/// writer and address columns have indexes of their own, and a planner
/// without statistics may pick one of those instead, which reads every
/// comment that writer or address wrote (every guest comment, for
/// `user_id IS NULL`): the load benchmark's seeding slowed from 360
/// comments a second to 50 as the table grew to 26,000 that way. Those columns are therefore compared through an
/// expression (`|| ''`, `+ 0`) no index covers; the plans are checked by
/// `duplicate_probes_use_the_fingerprint_indexes`.
pub fn duplicate_exists(conn: &mut AnyConnection, probe: &DuplicateProbe) -> QueryResult<bool> {
    let same_text = || {
        let query = comments::table
            .filter(comments::fingerprint.eq(probe.fingerprint.clone()))
            .filter(comments::status.ne(CommentStatus::Deleted))
            .filter(comments::id.ne(probe.except_id.unwrap_or(CommentId(0))))
            .select(comments::id)
            .into_boxed();
        let user_id = comments::user_id + 0_i64;
        let email = comments::author_email.concat("");
        match &probe.writer {
            Writer::Account(id) => query.filter(user_id.eq(*id)),
            Writer::Guest(address) => query
                .filter(user_id.is_null())
                .filter(email.eq(address.clone())),
            Writer::Anonymous(name) => query
                .filter(user_id.is_null())
                .filter(email.is_null())
                .filter(comments::author_name.eq(name.clone())),
        }
    };
    if let Some(article_id) = probe.article_id {
        let here = same_text()
            .filter(comments::article_id.eq(article_id))
            .first::<i64>(conn)
            .optional()?;
        if here.is_some() {
            return Ok(true);
        }
    }
    let Some(since) = probe.across_articles_since else {
        return Ok(false);
    };
    let by_writer = same_text()
        .filter(comments::created_at.ge(since))
        .first::<i64>(conn)
        .optional()?;
    if by_writer.is_some() {
        return Ok(true);
    }
    let Some(ip) = &probe.ip else {
        return Ok(false);
    };
    let from_address = comments::table
        .filter(comments::fingerprint.eq(probe.fingerprint.clone()))
        .filter(comments::status.ne(CommentStatus::Deleted))
        .filter(comments::id.ne(probe.except_id.unwrap_or(CommentId(0))))
        .filter(comments::created_at.ge(since))
        .filter(comments::ip.concat("").eq(ip))
        .select(comments::id)
        .first::<i64>(conn)
        .optional()?;
    Ok(from_address.is_some())
}

/// Comments written before fingerprints were kept (migration 0008), in id
/// order from `after`: `(id, body)`.
pub fn without_fingerprint(
    conn: &mut AnyConnection,
    after: CommentId,
    limit: i64,
) -> QueryResult<Vec<(CommentId, String)>> {
    comments::table
        .filter(comments::id.gt(after))
        .filter(comments::fingerprint.is_null())
        .filter(comments::status.ne(CommentStatus::Deleted))
        .order(comments::id.asc())
        .select((comments::id, comments::body))
        .limit(limit)
        .load(conn)
}

pub fn set_fingerprint(
    conn: &mut AnyConnection,
    id: CommentId,
    fingerprint: &str,
) -> QueryResult<usize> {
    diesel::update(comments::table.find(id))
        .set(comments::fingerprint.eq(fingerprint))
        .execute(conn)
}

/// How many of the commenter's comments are in each status: by account, or
/// by email for a guest (one lookup in the stats the triggers keep).
pub fn history(
    conn: &mut AnyConnection,
    user_id: Option<UserId>,
    email: Option<&str>,
) -> QueryResult<StatusCounts> {
    let Some(key) = author_key(user_id, email) else {
        return Ok(StatusCounts::default());
    };
    Ok(commenter_stats::table
        .find(key)
        .select(CommenterStats::as_select())
        .first(conn)
        .optional()?
        .map(|stats| stats.counts())
        .unwrap_or_default())
}

diesel::define_sql_function! {
    /// SQL `lower()`, the same in both dialects.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// Who a moderator is looking for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorFilter {
    User(UserId),
    Email(String),
    Ip(String),
}

/// A page of the moderation queue.
#[derive(Debug, Clone)]
pub struct QueueQuery {
    pub status: CommentStatus,
    pub article_id: Option<ArticleId>,
    pub author: Option<AuthorFilter>,
    /// Lower-cased text to find in the body or author fields.
    pub search: Option<String>,
    pub order: Order,
    pub after: Option<CommentId>,
    pub limit: i64,
}

diesel::infix_operator!(Match, " MATCH ");

/// The FTS5 query finding `text` anywhere in the SQLite search index
/// (migration 0007), or `None` where that index cannot help: on PostgreSQL,
/// whose planner uses its own trigram index by itself, and for a text of
/// fewer than three characters, which holds no trigram to look up.
fn trigram_phrase(backend: Backend, text: &str) -> Option<String> {
    if backend != Backend::Sqlite || text.chars().nth(2).is_none() {
        return None;
    }
    // One FTS5 string: every character literal, `"` doubled.
    Some(format!("\"{}\"", text.replace('"', "\"\"")))
}

/// Escapes `%`, `_` and `\` so user text matches literally in LIKE.
pub fn like_pattern(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len() + 2);
    escaped.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped.push('%');
    escaped
}

/// How many of the queue's rows a search reads directly before it turns to
/// the trigram index (SQLite only; see [`queue_page`]).
const SEARCH_SCAN_WINDOW: i64 = 250;
/// How many of the index's matches a search takes at a time.
const SEARCH_INDEX_BATCH: i64 = 1_000;

/// Keyset-paginated on `id` within one status, optionally one article, so
/// a page costs the same however many comments are stored.
///
/// A search on SQLite is answered in one of two ways, whichever is cheap
/// for the text. A common text (for a page of 50, one in a fifth of the
/// comments or more) fills the page within the newest
/// [`SEARCH_SCAN_WINDOW`] rows of the queue, so
/// those are read and compared directly. Any other is looked up in the
/// trigram index, in the page's order, [`SEARCH_INDEX_BATCH`] matches at a
/// time, until the page is full: reading rows until a rare text is found
/// would read the whole queue. Both give the same answer, since the index
/// only narrows the rows the comparison is made on.
pub fn queue_page(
    conn: &mut AnyConnection,
    q: &QueueQuery,
) -> QueryResult<Vec<(Comment, Article)>> {
    let Some(phrase) = q
        .search
        .as_deref()
        .and_then(|text| trigram_phrase(conn.backend(), text))
    else {
        return load_queue(conn, q, Narrowing::None);
    };
    let Some(edge) = queue_window_edge(conn, q)? else {
        // The whole queue is smaller than the window.
        return load_queue(conn, q, Narrowing::None);
    };
    let rows = load_queue(conn, q, Narrowing::Window(edge))?;
    if rows.len() as i64 >= q.limit {
        return Ok(rows);
    }
    // Newest first (or oldest, as the page goes), a batch of the index's
    // matches at a time, until the page is full: the cost follows the page
    // rather than how many comments hold the text.
    let mut rows = Vec::new();
    let mut bound = q.after;
    loop {
        let ids = indexed_ids(conn, &phrase, q.order, bound)?;
        let Some(&last) = ids.last() else { break };
        let exhausted = (ids.len() as i64) < SEARCH_INDEX_BATCH;
        let batch = QueueQuery {
            after: bound,
            limit: q.limit - rows.len() as i64,
            ..q.clone()
        };
        rows.extend(load_queue(conn, &batch, Narrowing::Ids(ids))?);
        if rows.len() as i64 >= q.limit || exhausted {
            break;
        }
        bound = Some(last);
    }
    Ok(rows)
}

/// The next ids (at most [`SEARCH_INDEX_BATCH`]) the trigram index finds
/// for `phrase`, in the page's order, past `bound`.
fn indexed_ids(
    conn: &mut AnyConnection,
    phrase: &str,
    order: Order,
    bound: Option<CommentId>,
) -> QueryResult<Vec<CommentId>> {
    let mut query = comments_search::table
        .select(comments_search::rowid)
        .filter(Match::new(
            comments_search::all_fields,
            phrase.into_sql::<diesel::sql_types::Text>(),
        ))
        .limit(SEARCH_INDEX_BATCH)
        .into_boxed();
    query = match (order, bound) {
        (Order::OldestFirst, Some(id)) => query.filter(comments_search::rowid.gt(id)),
        (Order::NewestFirst, Some(id)) => query.filter(comments_search::rowid.lt(id)),
        (_, None) => query,
    };
    match order {
        Order::OldestFirst => query.order(comments_search::rowid.asc()),
        Order::NewestFirst => query.order(comments_search::rowid.desc()),
    }
    .load(conn)
}

/// What, besides the query's own filters, limits the rows a search reads.
enum Narrowing {
    None,
    /// Rows up to this id in the page's order (the last of the window).
    Window(CommentId),
    /// Rows among these ids (found by the trigram index).
    Ids(Vec<CommentId>),
}

type AnyBackend = <AnyConnection as diesel::Connection>::Backend;

/// The boxed query of a queue page, with every filter but the selection.
type QueueQueryOf<'a> = diesel::dsl::IntoBoxed<
    'a,
    diesel::dsl::Filter<
        diesel::dsl::InnerJoin<comments::table, articles::table>,
        diesel::dsl::Eq<comments::status, &'a str>,
    >,
    AnyBackend,
>;

fn queue_query(q: &QueueQuery, narrowing: Narrowing) -> QueueQueryOf<'_> {
    let mut query = comments::table
        .inner_join(articles::table)
        .filter(comments::status.eq(q.status))
        .into_boxed();
    if let Some(article_id) = q.article_id {
        query = query.filter(comments::article_id.eq(article_id));
    }
    query = match &q.author {
        Some(AuthorFilter::User(id)) => query.filter(comments::user_id.eq(*id)),
        Some(AuthorFilter::Email(email)) => query.filter(comments::author_email.eq(email.clone())),
        Some(AuthorFilter::Ip(ip)) => query.filter(comments::ip.eq(ip.clone())),
        None => query,
    };
    query = match narrowing {
        Narrowing::None => query,
        Narrowing::Window(edge) => match q.order {
            Order::OldestFirst => query.filter(comments::id.le(edge)),
            Order::NewestFirst => query.filter(comments::id.ge(edge)),
        },
        Narrowing::Ids(ids) => query.filter(comments::id.eq_any(ids)),
    };
    if let Some(text) = &q.search {
        let pattern = like_pattern(text);
        query = query.filter(
            lower(comments::body)
                .like(pattern.clone())
                .escape('\\')
                .or(lower(comments::author_name)
                    .like(pattern.clone())
                    .escape('\\'))
                .or(lower(comments::author_email.assume_not_null())
                    .like(pattern.clone())
                    .escape('\\'))
                .or(lower(comments::author_url.assume_not_null())
                    .like(pattern)
                    .escape('\\')),
        );
    }
    query = match (q.order, q.after) {
        (Order::OldestFirst, Some(id)) => query.filter(comments::id.gt(id)),
        (Order::NewestFirst, Some(id)) => query.filter(comments::id.lt(id)),
        (_, None) => query,
    };
    match q.order {
        Order::OldestFirst => query.order(comments::id.asc()),
        Order::NewestFirst => query.order(comments::id.desc()),
    }
}

/// A page of whole rows.
fn load_queue(
    conn: &mut AnyConnection,
    q: &QueueQuery,
    narrowing: Narrowing,
) -> QueryResult<Vec<(Comment, Article)>> {
    queue_query(q, narrowing)
        .select((Comment::as_select(), Article::as_select()))
        .limit(q.limit)
        .load(conn)
}

/// The id of the last row of the search window: the queue's rows past the
/// cursor, in the page's order, without the search. `None` when there are
/// fewer rows than the window holds.
fn queue_window_edge(conn: &mut AnyConnection, q: &QueueQuery) -> QueryResult<Option<CommentId>> {
    let unsearched = QueueQuery {
        search: None,
        ..q.clone()
    };
    queue_query(&unsearched, Narrowing::None)
        .select(comments::id)
        .offset(SEARCH_SCAN_WINDOW - 1)
        .limit(1)
        .first(conn)
        .optional()
}

/// Comment counts per article and status.
pub fn counts_by_article(
    conn: &mut AnyConnection,
) -> QueryResult<Vec<(ArticleId, CommentStatus, i64)>> {
    comments::table
        .group_by((comments::article_id, comments::status))
        .select((
            comments::article_id,
            comments::status,
            diesel::dsl::count_star(),
        ))
        .load(conn)
}

/// The ids of comments a commenter posted (by account, email or IP).
pub fn ids_by_author(
    conn: &mut AnyConnection,
    author: &AuthorFilter,
) -> QueryResult<Vec<CommentId>> {
    let query = comments::table.select(comments::id).into_boxed();
    match author {
        AuthorFilter::User(id) => query.filter(comments::user_id.eq(*id)).load(conn),
        AuthorFilter::Email(email) => query
            .filter(comments::author_email.eq(email.clone()))
            .load(conn),
        AuthorFilter::Ip(ip) => query.filter(comments::ip.eq(ip.clone())).load(conn),
    }
}

/// Every comment with an IP address, as `(id, ip)` (for matching IP ranges,
/// which SQL cannot do portably).
pub fn ids_with_ip(conn: &mut AnyConnection) -> QueryResult<Vec<(CommentId, Option<String>)>> {
    comments::table
        .filter(comments::ip.is_not_null())
        .select((comments::id, comments::ip))
        .load(conn)
}

pub fn find_many(conn: &mut AnyConnection, ids: &[CommentId]) -> QueryResult<Vec<Comment>> {
    comments::table
        .filter(comments::id.eq_any(ids))
        .order(comments::id.asc())
        .select(Comment::as_select())
        .load(conn)
}

/// Guest commenters (no account) whose email or name contains `search`:
/// `(email, status, count, first, last, a name they used)`.
#[allow(clippy::type_complexity)]
pub fn guests(
    conn: &mut AnyConnection,
    search: Option<&str>,
) -> QueryResult<
    Vec<(
        Option<String>,
        CommentStatus,
        i64,
        Option<i64>,
        Option<i64>,
        Option<String>,
    )>,
> {
    let mut query = comments::table
        .filter(comments::user_id.is_null())
        .filter(comments::author_email.is_not_null())
        .group_by((comments::author_email, comments::status))
        .select((
            comments::author_email,
            comments::status,
            diesel::dsl::count_star(),
            diesel::dsl::min(comments::created_at),
            diesel::dsl::max(comments::created_at),
            diesel::dsl::max(comments::author_name),
        ))
        .into_boxed();
    if let Some(text) = search {
        let pattern = like_pattern(text);
        query = query.filter(
            comments::author_email
                .assume_not_null()
                .like(pattern.clone())
                .escape('\\')
                .or(lower(comments::author_name).like(pattern).escape('\\')),
        );
    }
    query.load(conn)
}

/// All of an account's comments, oldest first (for the data export).
pub fn by_user(conn: &mut AnyConnection, user_id: UserId) -> QueryResult<Vec<(Comment, Article)>> {
    comments::table
        .inner_join(articles::table)
        .filter(comments::user_id.eq(user_id))
        .order(comments::id.asc())
        .select((Comment::as_select(), Article::as_select()))
        .load(conn)
}

/// Removes the author's identity from their comments, keeping the text.
pub fn anonymize_user(conn: &mut AnyConnection, user_id: UserId, now: i64) -> QueryResult<usize> {
    diesel::update(comments::table.filter(comments::user_id.eq(user_id)))
        .set((
            comments::user_id.eq(None::<i64>),
            comments::author_name.eq("Deleted user"),
            comments::author_email.eq(None::<String>),
            comments::author_url.eq(None::<String>),
            comments::ip.eq(None::<String>),
            comments::user_agent.eq(None::<String>),
            comments::referrer.eq(None::<String>),
            comments::status_changed_at.eq(now),
            comments::version.eq(comments::version + 1),
        ))
        .execute(conn)
}

/// Deletes the author's comments (erasing their text; rows with replies
/// stay as placeholders) and removes their identity.
pub fn delete_user_comments(
    conn: &mut AnyConnection,
    user_id: UserId,
    now: i64,
) -> QueryResult<usize> {
    diesel::update(comments::table.filter(comments::user_id.eq(user_id)))
        .set((
            comments::status.eq(CommentStatus::Deleted),
            comments::body.eq(""),
            comments::html.eq(""),
            comments::spam_report.eq(None::<String>),
            comments::status_changed_at.eq(now),
            comments::version.eq(comments::version + 1),
        ))
        .execute(conn)?;
    anonymize_user(conn, user_id, now)
}

/// Deletes comments of `status` that have been so since before `before`.
pub fn purge_status(
    conn: &mut AnyConnection,
    status: CommentStatus,
    before: i64,
) -> QueryResult<usize> {
    diesel::delete(
        comments::table
            .filter(comments::status.eq(status))
            .filter(comments::status_changed_at.lt(before)),
    )
    .execute(conn)
}

/// Erases IP addresses, user agents and referrers of comments written
/// before `before`.
pub fn erase_client_data(conn: &mut AnyConnection, before: i64) -> QueryResult<usize> {
    diesel::update(
        comments::table
            .filter(comments::created_at.lt(before))
            .filter(
                comments::ip
                    .is_not_null()
                    .or(comments::user_agent.is_not_null())
                    .or(comments::referrer.is_not_null()),
            ),
    )
    .set((
        comments::ip.eq(None::<String>),
        comments::user_agent.eq(None::<String>),
        comments::referrer.eq(None::<String>),
    ))
    .execute(conn)
}

/// Comment counts per status, across all articles.
pub fn counts_by_status(conn: &mut AnyConnection) -> QueryResult<StatusCounts> {
    comments::table
        .group_by(comments::status)
        .select((comments::status, diesel::dsl::count_star()))
        .load(conn)
        .map(StatusCounts::from_rows)
}

/// A commenter's counts by status, kept by triggers (see the
/// `commenter_stats` migration).
#[derive(Debug, Clone, Default, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = commenter_stats)]
pub struct CommenterStats {
    pub author_key: String,
    pub approved: i64,
    pub pending: i64,
    pub spam: i64,
    pub trash: i64,
    pub deleted: i64,
    pub first_seen: i64,
    pub last_seen: i64,
}

impl CommenterStats {
    pub fn counts(&self) -> StatusCounts {
        StatusCounts {
            pending: self.pending,
            approved: self.approved,
            spam: self.spam,
            trash: self.trash,
            deleted: self.deleted,
        }
    }
}

/// The key a commenter's stats are kept under: their account, or their
/// email as a guest; `None` for an anonymous guest.
pub fn author_key(user_id: Option<UserId>, email: Option<&str>) -> Option<String> {
    match (user_id, email) {
        (Some(id), _) => Some(format!("u:{id}")),
        (None, Some(email)) => Some(format!("e:{email}")),
        (None, None) => None,
    }
}

pub fn stats_of(conn: &mut AnyConnection, keys: &[String]) -> QueryResult<Vec<CommenterStats>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    commenter_stats::table
        .filter(commenter_stats::author_key.eq_any(keys))
        .select(CommenterStats::as_select())
        .load(conn)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::config::{SqliteSettings, SqliteSynchronous};
    use crate::db::models::NewArticle;
    use crate::db::{run_migrations, ConnectionManager, DatabaseUrl};

    fn comment(article_id: ArticleId, n: usize, body: String, status: CommentStatus) -> NewComment {
        NewComment {
            article_id,
            parent_id: None,
            user_id: None,
            author_name: format!("Author {n}"),
            author_email: Some(format!("a{n}@example.com")),
            author_url: None,
            fingerprint: None,
            html: body.clone(),
            body,
            status,
            edit_token_hash: None,
            ip: None,
            user_agent: None,
            referrer: None,
            created_at: n as i64,
            status_changed_at: n as i64,
            spam_score: None,
            spam_report: None,
        }
    }

    /// Every statement the duplicate probes run, for each kind of writer,
    /// must search a fingerprint index (see `duplicate_exists`).
    #[test]
    fn duplicate_probes_use_the_fingerprint_indexes() {
        use diesel::connection::{Connection as _, InstrumentationEvent};
        use std::sync::{Arc, Mutex};

        #[derive(diesel::QueryableByName)]
        struct PlanRow {
            #[diesel(sql_type = diesel::sql_types::Text)]
            detail: String,
        }

        let dir = tempfile::tempdir().unwrap();
        let manager = ConnectionManager::new(
            DatabaseUrl::Sqlite(dir.path().join("t.db")),
            SqliteSettings {
                busy_timeout: Duration::from_secs(5),
                synchronous: SqliteSynchronous::Normal,
            },
        );
        let conn = &mut manager.establish().unwrap();
        run_migrations(conn).unwrap();
        let seen = Arc::new(Mutex::new(Vec::<String>::new()));
        let recorder = Arc::clone(&seen);
        conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
            if let InstrumentationEvent::StartQuery { query, .. } = event {
                recorder.lock().unwrap().push(query.to_string());
            }
        });
        for writer in [
            Writer::Account(UserId(7)),
            Writer::Guest("a@example.com".into()),
            Writer::Anonymous("Someone".into()),
        ] {
            let probe = DuplicateProbe {
                fingerprint: "abc".into(),
                article_id: Some(ArticleId(1)),
                writer,
                ip: Some("192.0.2.1".into()),
                across_articles_since: Some(0),
                except_id: None,
            };
            assert!(!duplicate_exists(conn, &probe).unwrap());
        }
        let statements = std::mem::take(&mut *seen.lock().unwrap());
        assert_eq!(statements.len(), 9, "three probes per writer");
        for statement in statements {
            let sql = statement.split(" -- binds").next().unwrap();
            let plan: Vec<PlanRow> = diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}"))
                .load(conn)
                .unwrap();
            let plan: Vec<String> = plan.into_iter().map(|row| row.detail).collect();
            assert!(
                plan.iter()
                    .any(|step| step.contains("USING INDEX comments_fingerprint")),
                "{sql}\n{plan:?}"
            );
        }
    }

    /// The queue's matches for `text`, found by reading every row.
    fn every_match(conn: &mut AnyConnection, status: CommentStatus, text: &str) -> Vec<CommentId> {
        comments::table
            .filter(comments::status.eq(status))
            .select((comments::id, comments::body, comments::author_name))
            .order(comments::id.desc())
            .load::<(CommentId, String, String)>(conn)
            .unwrap()
            .into_iter()
            .filter(|(_, body, name)| {
                body.to_lowercase().contains(text) || name.to_lowercase().contains(text)
            })
            .map(|(id, _, _)| id)
            .collect()
    }

    /// More matches than the index gives in one batch, nearly all of them
    /// in another status, so the search must walk several batches past the
    /// window; each page must be exactly what reading every row finds.
    #[test]
    fn a_search_walking_the_index_in_batches_finds_what_reading_every_row_does() {
        let dir = tempfile::tempdir().unwrap();
        let manager = ConnectionManager::new(
            DatabaseUrl::Sqlite(dir.path().join("t.db")),
            SqliteSettings {
                busy_timeout: Duration::from_secs(5),
                synchronous: SqliteSynchronous::Normal,
            },
        );
        let conn = &mut manager.establish().unwrap();
        run_migrations(conn).unwrap();
        let (article, _) = crate::db::articles::find_or_insert(
            conn,
            &NewArticle {
                key: "batches",
                title: None,
                url: None,
                comments_open: true,
                created_at: 0,
                updated_at: 0,
            },
        )
        .unwrap();
        conn.transaction(|c| {
            for n in 0..2_900 {
                // Pending: every 500th holds the word; 2,600 approved
                // comments hold it too, between and after them.
                let (status, body) = match n % 10 {
                    0..=1 if n % 500 == 0 => (CommentStatus::Pending, format!("a Kumquat {n}")),
                    0..=1 => (CommentStatus::Pending, format!("filler {n}")),
                    _ => (CommentStatus::Approved, format!("kumquat jam {n}")),
                };
                insert(c, &comment(article.id, n, body, status))?;
            }
            // Newest: pending comments without the word, past the window.
            for n in 2_900..3_300 {
                let body = format!("filler {n}");
                insert(c, &comment(article.id, n, body, CommentStatus::Pending))?;
            }
            diesel::QueryResult::Ok(())
        })
        .unwrap();

        let expected = every_match(conn, CommentStatus::Pending, "kumquat");
        assert_eq!(expected.len(), 6, "{expected:?}");
        let query = |order, after, limit| QueueQuery {
            status: CommentStatus::Pending,
            article_id: None,
            author: None,
            search: Some("kumquat".into()),
            order,
            after,
            limit,
        };
        let ids =
            |rows: Vec<(Comment, Article)>| rows.iter().map(|(c, _)| c.id).collect::<Vec<_>>();

        let all = ids(queue_page(conn, &query(Order::NewestFirst, None, 51)).unwrap());
        assert_eq!(all, expected);
        let first = ids(queue_page(conn, &query(Order::NewestFirst, None, 4)).unwrap());
        assert_eq!(first, expected[..4]);
        let rest = ids(queue_page(conn, &query(Order::NewestFirst, Some(first[3]), 4)).unwrap());
        assert_eq!(rest, expected[4..]);
        let mut oldest_first = expected.clone();
        oldest_first.reverse();
        let ascending = ids(queue_page(conn, &query(Order::OldestFirst, None, 51)).unwrap());
        assert_eq!(ascending, oldest_first);

        // A text of fewer than three characters never uses the index.
        let short = QueueQuery {
            search: Some("5".into()),
            ..query(Order::NewestFirst, None, 3_000)
        };
        let found = ids(queue_page(conn, &short).unwrap());
        assert_eq!(found, every_match(conn, CommentStatus::Pending, "5"));
    }
}
