//! The moderation queue: one status at a time, filtered by article and
//! commenter, searched, keyset-paginated; and the guests a moderator can
//! look up.

use diesel::prelude::*;

use super::models::{Article, Comment};
use super::schema::{articles, comments, comments_search};
use super::{AnyConnection, Backend};
use crate::domain::SortOrder;
use crate::domain::{ArticleId, CommentId, CommentStatus, UserId};

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
    /// One status, or (`None`) every status but deleted.
    pub status: Option<CommentStatus>,
    pub article_id: Option<ArticleId>,
    pub author: Option<AuthorFilter>,
    /// Lower-cased text to find in the body or author fields.
    pub search: Option<String>,
    pub order: SortOrder,
    pub after: Option<CommentId>,
    pub limit: i64,
}

diesel::infix_operator!(Match, " MATCH ");

/// The FTS5 query for the comments holding every trigram of `text` in the
/// SQLite search index (migrations 0007 and 0013), or `None` where that
/// index cannot help: on PostgreSQL, whose planner uses its own trigram
/// index by itself, and for a text of fewer than three characters, which
/// holds no trigram to look up. The index keeps no positions, so it finds
/// the comments holding the trigrams anywhere, the text among them; the
/// exact comparison then picks those that hold the text. A long text is
/// looked up by its first [`SEARCH_TRIGRAMS`] different trigrams.
pub fn trigram_query(backend: Backend, text: &str) -> Option<String> {
    if backend != Backend::Sqlite {
        return None;
    }
    let chars: Vec<char> = text.chars().collect();
    let mut trigrams: Vec<String> = Vec::new();
    for window in chars.windows(3) {
        let trigram: String = window.iter().collect();
        if !trigrams.contains(&trigram) {
            trigrams.push(trigram);
        }
        if trigrams.len() == SEARCH_TRIGRAMS {
            break;
        }
    }
    if trigrams.is_empty() {
        return None;
    }
    // Each an FTS5 string: every character literal, `"` doubled.
    let strings: Vec<String> = trigrams
        .iter()
        .map(|t| format!("\"{}\"", t.replace('"', "\"\"")))
        .collect();
    Some(strings.join(" AND "))
}

/// At most this many trigrams of a search text are looked up.
const SEARCH_TRIGRAMS: usize = 16;

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
    let Some(trigrams) = q
        .search
        .as_deref()
        .and_then(|text| trigram_query(conn.backend(), text))
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
        let ids = indexed_ids(conn, &trigrams, q.order, bound)?;
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
/// for `trigrams` ([`trigram_query`]), in the page's order, past `bound`.
fn indexed_ids(
    conn: &mut AnyConnection,
    trigrams: &str,
    order: SortOrder,
    bound: Option<CommentId>,
) -> QueryResult<Vec<CommentId>> {
    let mut query = comments_search::table
        .select(comments_search::rowid)
        .filter(Match::new(
            comments_search::all_fields,
            trigrams.into_sql::<diesel::sql_types::Text>(),
        ))
        .limit(SEARCH_INDEX_BATCH)
        .into_boxed();
    query = match (order, bound) {
        (SortOrder::Oldest, Some(id)) => query.filter(comments_search::rowid.gt(id)),
        (SortOrder::Newest, Some(id)) => query.filter(comments_search::rowid.lt(id)),
        (_, None) => query,
    };
    match order {
        SortOrder::Oldest => query.order(comments_search::rowid.asc()),
        SortOrder::Newest => query.order(comments_search::rowid.desc()),
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
    diesel::dsl::InnerJoin<comments::table, articles::table>,
    AnyBackend,
>;

fn queue_query(q: &QueueQuery, narrowing: Narrowing) -> QueueQueryOf<'_> {
    let mut query = comments::table.inner_join(articles::table).into_boxed();
    query = match q.status {
        Some(status) => query.filter(comments::status.eq(status)),
        None => query.filter(comments::status.ne(CommentStatus::Deleted)),
    };
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
            SortOrder::Oldest => query.filter(comments::id.le(edge)),
            SortOrder::Newest => query.filter(comments::id.ge(edge)),
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
        (SortOrder::Oldest, Some(id)) => query.filter(comments::id.gt(id)),
        (SortOrder::Newest, Some(id)) => query.filter(comments::id.lt(id)),
        (_, None) => query,
    };
    match q.order {
        SortOrder::Oldest => query.order(comments::id.asc()),
        SortOrder::Newest => query.order(comments::id.desc()),
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

/// The newest comment in `status`.
pub fn newest(conn: &mut AnyConnection, status: CommentStatus) -> QueryResult<Option<CommentId>> {
    comments::table
        .filter(comments::status.eq(status))
        .order(comments::id.desc())
        .select(comments::id)
        .first(conn)
        .optional()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::comments::insert;
    use crate::db::testing::{self, comment};

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
        let (_dir, mut conn) = testing::database();
        let conn = &mut conn;
        let article = testing::article(conn, "batches");
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
            status: Some(CommentStatus::Pending),
            article_id: None,
            author: None,
            search: Some("kumquat".into()),
            order,
            after,
            limit,
        };
        let ids =
            |rows: Vec<(Comment, Article)>| rows.iter().map(|(c, _)| c.id).collect::<Vec<_>>();

        let all = ids(queue_page(conn, &query(SortOrder::Newest, None, 51)).unwrap());
        assert_eq!(all, expected);
        let first = ids(queue_page(conn, &query(SortOrder::Newest, None, 4)).unwrap());
        assert_eq!(first, expected[..4]);
        let rest = ids(queue_page(conn, &query(SortOrder::Newest, Some(first[3]), 4)).unwrap());
        assert_eq!(rest, expected[4..]);
        let mut oldest_first = expected.clone();
        oldest_first.reverse();
        let ascending = ids(queue_page(conn, &query(SortOrder::Oldest, None, 51)).unwrap());
        assert_eq!(ascending, oldest_first);

        // A text of fewer than three characters never uses the index.
        let short = QueueQuery {
            search: Some("5".into()),
            ..query(SortOrder::Newest, None, 3_000)
        };
        let found = ids(queue_page(conn, &short).unwrap());
        assert_eq!(found, every_match(conn, CommentStatus::Pending, "5"));
    }

    #[test]
    fn the_index_finds_comments_holding_the_texts_trigrams_and_the_comparison_keeps_the_text() {
        let (_dir, mut conn) = testing::database();
        let conn = &mut conn;
        let article = testing::article(conn, "trigrams");
        let long = "a sentence longer than sixteen trigrams, quoted";
        let bodies = [
            "x abcd x".to_string(),
            // Both trigrams of "abcd", but not the text.
            "abc and bcd".to_string(),
            "she said \"hi\" twice".to_string(),
            format!("{long} here"),
            long.replace("sixteen", "seventeen"),
        ];
        conn.transaction(|c| {
            for (n, body) in bodies.iter().enumerate() {
                insert(
                    c,
                    &comment(article.id, n, body.clone(), CommentStatus::Pending),
                )?;
            }
            // Newer ones, past the window read directly: the index is used.
            for n in 10..(10 + SEARCH_SCAN_WINDOW as usize + 50) {
                let body = format!("filler {n}");
                insert(c, &comment(article.id, n, body, CommentStatus::Pending))?;
            }
            diesel::QueryResult::Ok(())
        })
        .unwrap();
        let found = |conn: &mut AnyConnection, text: &str| {
            let q = QueueQuery {
                status: Some(CommentStatus::Pending),
                article_id: None,
                author: None,
                search: Some(text.into()),
                order: SortOrder::Oldest,
                after: None,
                limit: 50,
            };
            let rows = queue_page(conn, &q).unwrap();
            rows.iter().map(|(c, _)| c.body.clone()).collect::<Vec<_>>()
        };

        assert_eq!(found(conn, "abcd"), ["x abcd x"]);
        assert_eq!(found(conn, "said \"hi\""), [bodies[2].as_str()]);
        assert_eq!(found(conn, long), [bodies[3].as_str()]);
        assert!(found(conn, "zzqx").is_empty());

        assert_eq!(
            trigram_query(Backend::Sqlite, "a\"bca\"b").as_deref(),
            Some("\"a\"\"b\" AND \"\"\"bc\" AND \"bca\" AND \"ca\"\"\"")
        );
        assert_eq!(trigram_query(Backend::Sqlite, "ab"), None);
        assert_eq!(trigram_query(Backend::Postgres, "abcd"), None);
        let many = trigram_query(Backend::Sqlite, long).unwrap();
        assert_eq!(many.split(" AND ").count(), SEARCH_TRIGRAMS);
    }
}
