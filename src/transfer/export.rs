//! Writing Moderato's own export (`format.rs`): `moderato export` to
//! standard output, `GET /api/v1/admin/export` to an admin. One consistent
//! snapshot of the database, read a page at a time and written through
//! gzip as it is read, so memory stays bounded whatever the site's size.

use std::io::Write;

use flate2::write::GzEncoder;
use flate2::Compression;
use futures_util::Stream;
use tokio::sync::mpsc;

use super::format::{
    AccountLine, ArticleLine, BanLine, CommentLine, EndLine, Header, Line, Origin, WordLine,
    FORMAT, VERSION,
};
use super::TransferError;
use crate::auth::{permissions, AuthError, AuthUser};
use crate::db::transfer as queries;
use crate::db::{self, AnyConnection, Db, DbError};
use crate::domain::CommentId;
use crate::telemetry::Chain;

/// Rows read per query.
const PAGE: i64 = 1000;

#[derive(Debug, Clone, Default)]
pub struct ExportOptions {
    /// Only this article and its comments (no bans, no word lists).
    pub article: Option<String>,
    /// Accounts too, with their password hashes.
    pub accounts: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("no article with key `{0}`")]
    ArticleNotFound(String),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("writing the export failed: {0}")]
    Write(#[from] std::io::Error),
}

impl From<diesel::result::Error> for ExportError {
    fn from(e: diesel::result::Error) -> Self {
        ExportError::Db(DbError::from(e))
    }
}

impl From<ExportError> for TransferError {
    fn from(e: ExportError) -> Self {
        match e {
            ExportError::Db(e) => TransferError::Db(e),
            other => TransferError::Failed(other.to_string()),
        }
    }
}

/// Only admins take exports (they hold every commenter's email and IP).
pub fn authorize(user: &AuthUser) -> Result<(), ExportError> {
    Ok(permissions::require_admin(user)?)
}

/// Checks that the article asked for exists, before anything is sent.
pub fn check(conn: &mut AnyConnection, options: &ExportOptions) -> Result<(), ExportError> {
    if let Some(key) = &options.article {
        if db::articles::find_by_key(conn, key)?.is_none() {
            return Err(ExportError::ArticleNotFound(key.clone()));
        }
    }
    Ok(())
}

/// Chunks of the gzipped export in flight to an HTTP client.
const CHUNKS_IN_FLIGHT: usize = 8;
/// Bytes per chunk sent.
const CHUNK_BYTES: usize = 64 * 1024;

/// The export for an admin over HTTP: checked (who asks, the article) before
/// anything is sent, then written on a blocking thread with a connection of
/// its own, a chunk at a time as the client takes them. A failure half-way
/// ends the stream with an error, so the client gets a cut file that an
/// import refuses, never one that looks whole.
pub async fn stream(
    db: &Db,
    admin: &AuthUser,
    options: ExportOptions,
) -> Result<impl Stream<Item = Result<Vec<u8>, std::io::Error>>, ExportError> {
    authorize(admin)?;
    let checked = options.clone();
    db.read(move |conn| check(conn, &checked)).await?;
    let db = db.clone();
    let (tx, rx) = mpsc::channel::<Result<Vec<u8>, std::io::Error>>(CHUNKS_IN_FLIGHT);
    let admin_id = admin.id;
    tokio::task::spawn_blocking(move || {
        let sender = tx.clone();
        let written = db
            .dedicated()
            .map_err(ExportError::from)
            .and_then(|mut conn| write(&mut conn, &options, Chunks::new(sender)));
        match written {
            Ok(counts) => tracing::info!(
                admin_id = %admin_id,
                comments = counts.comments,
                accounts = counts.accounts,
                "export taken"
            ),
            Err(e) => {
                tracing::error!(error = %Chain(&e), "export failed half-way");
                let _ = tx.blocking_send(Err(std::io::Error::other("the export failed")));
            }
        }
    });
    Ok(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    }))
}

/// A writer handing full chunks to the HTTP response; fails once the
/// client has gone, which stops the export.
struct Chunks {
    tx: mpsc::Sender<Result<Vec<u8>, std::io::Error>>,
    buf: Vec<u8>,
}

impl Chunks {
    fn new(tx: mpsc::Sender<Result<Vec<u8>, std::io::Error>>) -> Self {
        Chunks {
            tx,
            buf: Vec::with_capacity(CHUNK_BYTES),
        }
    }

    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK_BYTES));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client left"))
    }
}

impl Write for Chunks {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK_BYTES {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

/// Writes the export, gzipped, to `out`; returns what it holds.
pub fn write(
    conn: &mut AnyConnection,
    options: &ExportOptions,
    out: impl Write,
) -> Result<EndLine, ExportError> {
    let now = db::now_millis();
    let site = queries::site_id(conn, now)?;
    let mut gz = GzEncoder::new(out, Compression::default());
    let counts =
        queries::in_snapshot(conn, |conn| write_lines(conn, options, &site, now, &mut gz))?;
    gz.finish()?.flush()?;
    Ok(counts)
}

fn line(out: &mut impl Write, line: &Line) -> Result<(), ExportError> {
    serde_json::to_writer(&mut *out, line).map_err(std::io::Error::from)?;
    out.write_all(b"\n")?;
    Ok(())
}

fn write_lines(
    conn: &mut AnyConnection,
    options: &ExportOptions,
    site: &str,
    now: i64,
    out: &mut impl Write,
) -> Result<EndLine, ExportError> {
    let only = match &options.article {
        Some(key) => Some(
            db::articles::find_by_key(conn, key)?
                .ok_or_else(|| ExportError::ArticleNotFound(key.clone()))?
                .id,
        ),
        None => None,
    };
    let mut counts = EndLine::default();
    line(
        out,
        &Line::Header(Header {
            format: FORMAT.into(),
            version: VERSION,
            site: site.into(),
            exported_at: now,
            article: options.article.clone(),
            accounts: options.accounts,
        }),
    )?;
    pages(
        conn,
        |conn, after| queries::articles_page(conn, after, only, PAGE),
        |article| article.id.0,
        |_, page| {
            for article in page {
                line(out, &Line::Article(ArticleLine::from(article)))?;
                counts.articles += 1;
            }
            Ok(())
        },
    )?;
    if options.accounts {
        pages(
            conn,
            |conn, after| queries::users_page(conn, after, PAGE),
            |user| user.id.0,
            |_, page| {
                for user in page {
                    line(out, &Line::Account(AccountLine::from(user)))?;
                    counts.accounts += 1;
                }
                Ok(())
            },
        )?;
    }
    pages(
        conn,
        |conn, after| queries::comments_page(conn, after, only, PAGE),
        |comment| comment.id.0,
        |conn, page| {
            let ids: Vec<CommentId> = page.iter().map(|c| c.id).collect();
            let sources = queries::sources_of(conn, &ids)?;
            for comment in page {
                let origins = sources
                    .iter()
                    .filter(|(id, _, _)| *id == Some(comment.id))
                    .map(|(_, source, id)| Origin {
                        source: source.clone(),
                        id: id.clone(),
                    })
                    .collect();
                line(
                    out,
                    &Line::Comment(Box::new(CommentLine::of(comment, origins))),
                )?;
                counts.comments += 1;
            }
            Ok(())
        },
    )?;
    if only.is_none() {
        pages(
            conn,
            |conn, after| queries::bans_page(conn, after, PAGE),
            |ban| ban.id.0,
            |_, page| {
                for ban in page {
                    line(out, &Line::Ban(BanLine::from(ban)))?;
                    counts.bans += 1;
                }
                Ok(())
            },
        )?;
        for word in db::spam::words(conn)? {
            line(out, &Line::Word(WordLine::from(&word)))?;
            counts.words += 1;
        }
    }
    line(out, &Line::End(counts))?;
    Ok(counts)
}

/// Reads a table a page at a time by id (`read` gives the rows after an
/// id), handing each page to `each`.
fn pages<T>(
    conn: &mut AnyConnection,
    mut read: impl FnMut(&mut AnyConnection, i64) -> diesel::QueryResult<Vec<T>>,
    id: impl Fn(&T) -> i64,
    mut each: impl FnMut(&mut AnyConnection, &[T]) -> Result<(), ExportError>,
) -> Result<(), ExportError> {
    let mut after = 0;
    loop {
        let page = read(conn, after)?;
        let Some(last) = page.last() else {
            return Ok(());
        };
        after = id(last);
        each(conn, &page)?;
    }
}
