//! Isso's database: the SQLite file Isso's `dbpath` names, opened read
//! only. `threads (id, uri, title)` become articles keyed by `uri` (the
//! page's path, as Moderato's Isso API keys them too); `comments` are read
//! in pages by id (a reply's id is always above its parent's): `text` is
//! markdown, kept as written and rendered; `created` is seconds since the
//! epoch; `mode` 1, 2 and 4 are approved, pending and deleted (→ trash;
//! Isso empties a deleted comment that has replies, which is kept empty
//! so they keep their place).

use std::collections::VecDeque;
use std::path::Path;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Nullable, Text as SqlText};

use super::apply::Queued;
use super::summary::{Skip, SkipKind};
use super::{ArticleIn, Item, Limits, Position, RawComment, Text, TransferError};
use crate::domain::{ArticleKey, CommentStatus, Title};

/// Comments read per query.
const PAGE: i64 = 1000;

#[derive(QueryableByName)]
struct ThreadRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Nullable<SqlText>)]
    uri: Option<String>,
    #[diesel(sql_type = Nullable<SqlText>)]
    title: Option<String>,
}

#[derive(QueryableByName)]
struct CommentRow {
    #[diesel(sql_type = BigInt)]
    tid: i64,
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    parent: Option<i64>,
    #[diesel(sql_type = Double)]
    created: f64,
    #[diesel(sql_type = Nullable<BigInt>)]
    mode: Option<i64>,
    #[diesel(sql_type = Nullable<SqlText>)]
    remote_addr: Option<String>,
    #[diesel(sql_type = Nullable<SqlText>)]
    text: Option<String>,
    #[diesel(sql_type = Nullable<SqlText>)]
    author: Option<String>,
    #[diesel(sql_type = Nullable<SqlText>)]
    email: Option<String>,
    #[diesel(sql_type = Nullable<SqlText>)]
    website: Option<String>,
}

pub struct Isso {
    conn: SqliteConnection,
    file: String,
    limits: Limits,
    queue: VecDeque<Item>,
    after: i64,
    /// Records read, for positions in messages.
    read: u64,
    done: bool,
}

impl Isso {
    pub fn open(file: &Path, limits: Limits) -> Result<Self, TransferError> {
        let name = file.display().to_string();
        let unreadable = |message: String| TransferError::Unreadable {
            file: name.clone(),
            message,
        };
        if !file.is_file() {
            return Err(unreadable("no such file".into()));
        }
        // Read only, through a URI so SQLite never creates or changes it.
        let path = file
            .to_string_lossy()
            .replace('%', "%25")
            .replace('?', "%3f")
            .replace('#', "%23");
        let mut conn = SqliteConnection::establish(&format!("file:{path}?mode=ro"))
            .map_err(|e| unreadable(e.to_string()))?;
        conn.batch_execute("PRAGMA query_only = ON")
            .map_err(|e| unreadable(e.to_string()))?;
        let threads = diesel::sql_query("SELECT id, uri, title FROM threads ORDER BY id")
            .load::<ThreadRow>(&mut conn)
            .map_err(|e| unreadable(format!("not an Isso database ({e})")))?;
        let mut queue = VecDeque::with_capacity(threads.len() + 1);
        queue.push_back(Item::Source("isso".into()));
        for thread in threads {
            let uri = thread.uri.unwrap_or_default();
            queue.push_back(match ArticleKey::parse(&uri) {
                Ok(key) => Item::Article(ArticleIn {
                    source_id: thread.id.to_string(),
                    key,
                    title: thread
                        .title
                        .and_then(|t| Title::parse(&t, "title").ok())
                        .map(Title::into_inner),
                    url: None,
                }),
                Err(e) => Item::NoArticle {
                    source_id: thread.id.to_string(),
                    why: format!("thread {} (`{uri}`): {e}", thread.id),
                },
            });
        }
        Ok(Isso {
            conn,
            file: name,
            limits,
            queue,
            after: i64::MIN,
            read: 0,
            done: false,
        })
    }

    fn read_page(&mut self) -> Result<(), TransferError> {
        let rows = diesel::sql_query(
            "SELECT tid, id, parent, created, mode, remote_addr, text, author, email, website \
             FROM comments WHERE id > ? ORDER BY id LIMIT ?",
        )
        .bind::<BigInt, _>(self.after)
        .bind::<BigInt, _>(PAGE)
        .load::<CommentRow>(&mut self.conn)
        .map_err(|e| TransferError::Format {
            file: self.file.clone(),
            position: Position::Record(self.read + 1),
            message: format!("cannot read Isso's comments: {e}"),
        })?;
        if rows.is_empty() {
            self.done = true;
        }
        for row in rows {
            self.read += 1;
            self.after = row.id;
            let item = self.comment(row);
            self.queue.extend(item);
        }
        Ok(())
    }

    fn comment(&self, row: CommentRow) -> Vec<Item> {
        let id = row.id.to_string();
        let status = match row.mode {
            Some(1) => CommentStatus::Approved,
            Some(2) => CommentStatus::Pending,
            Some(4) => CommentStatus::Trash,
            other => {
                return vec![Item::Skipped(Skip::new(
                    SkipKind::UnknownStatus,
                    &id,
                    format!("mode {other:?}"),
                ))]
            }
        };
        if !row.created.is_finite() || row.created < 0.0 {
            return vec![Item::Skipped(Skip::new(
                SkipKind::InvalidDate,
                &id,
                format!("created {}", row.created),
            ))];
        }
        let raw = RawComment {
            source_id: id,
            article: row.tid.to_string(),
            parent: row.parent.map(|p| p.to_string()),
            name: row.author.unwrap_or_default(),
            email: row.email.unwrap_or_default(),
            url: row.website.unwrap_or_default(),
            ip: row.remote_addr.unwrap_or_default(),
            text: Text::Markdown(row.text.unwrap_or_default()),
            status,
            created_at: (row.created * 1000.0).round() as i64,
            registered: false,
        };
        raw.into_items(&self.limits)
    }
}

impl Queued for Isso {
    fn queue(&mut self) -> &mut VecDeque<Item> {
        &mut self.queue
    }

    fn done(&self) -> bool {
        self.done
    }

    fn read_more(&mut self) -> Result<(), TransferError> {
        self.read_page()
    }
}
