//! Writing what a reader yields, in one transaction per run.
//!
//! The reader runs on a thread of its own (parsing and sanitizing), handing
//! items over a bounded channel, so memory stays bounded and the two cores
//! of a small server both work. Everything is written in one transaction:
//! a file that turns out malformed half-way, or a failing write, leaves the
//! database as it was; a dry run does the same work and rolls it back, so
//! its summary is exactly what an import would do. On SQLite the run holds
//! the write lock from start to end (the server's own writes wait for it,
//! up to `database.sqlite.busy_timeout`).
//!
//! Idempotence: every comment's `(source, source id)` is recorded in
//! `import_sources`; a record found there is skipped. Replies find their
//! parent there too, so a reply that comes before its parent is linked at
//! the end of the run, and one whose parent never comes stays at the top
//! level with a warning.

use std::collections::HashMap;
use std::sync::mpsc;

use super::format::{CommentLine, Line};
use super::progress::Progress;
use super::summary::{Skip, SkipKind};
use super::{ArticleIn, CommentIn, Item, Kept, Summary, TransferError};
use crate::db::bans::NewBan;
use crate::db::models::NewArticle;
use crate::db::transfer::{
    self as queries, CommentIds, Deferred, ImportSource, ImportedComment, RestoredArticle,
    RestoredBan, RestoredUser, RestoredWord,
};
use crate::db::{self, AnyConnection};
use crate::domain::{
    ArticleId, ArticleKey, BanId, CommentId, CommentStatus, Fingerprint, UserId, Verdict, WordId,
};
use crate::spam::classifier::Model;
use crate::spam::{self, ArticleFacts, Candidate, Decision};

/// A reader of one export format.
pub trait Records: Send {
    /// The next item in file order; `None` at the end.
    fn next_item(&mut self) -> Result<Option<Item>, TransferError>;
}

/// A reader that turns what it reads into a queue of items: `read_more`
/// adds to the queue (or marks the end), and the items are handed out in
/// order.
pub trait Queued: Send {
    fn queue(&mut self) -> &mut std::collections::VecDeque<Item>;
    fn done(&self) -> bool;
    fn read_more(&mut self) -> Result<(), TransferError>;
}

impl<T: Queued> Records for T {
    fn next_item(&mut self) -> Result<Option<Item>, TransferError> {
        loop {
            if let Some(item) = self.queue().pop_front() {
                return Ok(Some(item));
            }
            if self.done() {
                return Ok(None);
            }
            self.read_more()?;
        }
    }
}

/// Scores one imported comment (`--score`): the spam pipeline, run from
/// the import's thread.
pub type Scorer = Box<dyn FnMut(Candidate) -> Decision + Send>;

pub struct ImportOptions {
    pub dry_run: bool,
    /// Teach the learned scorer: approved comments as ham, spam as spam.
    pub train: bool,
    pub score: Option<Scorer>,
    pub progress: Progress,
}

/// Items the reader hands over at a time: one hand-over (and one wake-up
/// of the other thread) per item made the channel a tenth of an import.
const ITEMS_PER_SEND: usize = 256;

/// Hand-overs in flight between the reader and the writer.
const SENDS_IN_FLIGHT: usize = 4;

/// Imports everything `records` yields, in one transaction on `conn`.
pub fn run_import(
    conn: &mut AnyConnection,
    records: Box<dyn Records>,
    mut options: ImportOptions,
) -> Result<Summary, TransferError> {
    let (tx, rx) = mpsc::sync_channel::<Result<Vec<Item>, TransferError>>(SENDS_IN_FLIGHT);
    let reader = std::thread::Builder::new()
        .name("import-reader".into())
        .spawn(move || read_all(records, &tx))
        .map_err(|e| TransferError::Failed(format!("cannot start the reader thread: {e}")))?;
    options.progress.stage("reading and writing");
    let dry_run = options.dry_run;
    queries::prepare_bulk(conn)?;
    let result = queries::in_one_transaction(conn, |conn| {
        let mut deferred = Deferred::start(conn)?;
        let mut engine = Engine::new(conn, &mut options, &mut deferred)?;
        for items in rx.iter() {
            for item in items? {
                engine.item(item)?;
            }
        }
        let summary = engine.finish()?;
        deferred.finish(conn, |stage| options.progress.stage(stage))?;
        Ok::<_, TransferError>((summary, !dry_run))
    });
    // The reader stops at its next send once the receiver is gone.
    let _ = reader.join();
    let mut summary = result?;
    summary.dry_run = dry_run;
    options.progress.done(
        if dry_run {
            "rolled back (dry run)"
        } else {
            "committed"
        },
        summary.imported(),
    );
    Ok(summary)
}

/// The reader's thread: everything `records` yields, handed over a few
/// hundred items at a time, then the error that stopped it, if one did.
fn read_all(
    mut records: Box<dyn Records>,
    tx: &mpsc::SyncSender<Result<Vec<Item>, TransferError>>,
) {
    let mut items = Vec::with_capacity(ITEMS_PER_SEND);
    loop {
        match records.next_item() {
            Ok(Some(item)) => {
                items.push(item);
                if items.len() == ITEMS_PER_SEND && tx.send(Ok(std::mem::take(&mut items))).is_err()
                {
                    return;
                }
            }
            Ok(None) => {
                let _ = tx.send(Ok(items));
                return;
            }
            Err(e) => {
                if tx.send(Ok(items)).is_ok() {
                    let _ = tx.send(Err(e));
                }
                return;
            }
        }
    }
}

/// Comments are decided and written this many at a time: what earlier
/// runs left of them is looked up in one statement, and they are inserted
/// a statement per batch, rather than several statements per comment
/// (each a round trip on PostgreSQL).
const BATCH: usize = queries::ROWS_PER_STATEMENT;

/// Rows written before the tables' statistics are first brought up to
/// date (`db::transfer::refresh_statistics`); then at twice as many, and
/// so on, so the work stays a small share of the run.
const FIRST_STATISTICS: u64 = 5_000;

/// A reply whose parent was not there yet when it was written.
struct Orphan {
    id: CommentId,
    source_id: String,
    parent: String,
    article: ArticleId,
}

enum ArticleSlot {
    /// Read, not yet needed by a comment.
    Known(ArticleIn),
    Stored(ArticleId),
    /// Its key was refused.
    Refused(String),
}

/// How records are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Another system's records: new ids, matched by source.
    Import,
    /// Moderato's export into an empty database: every id kept, and the
    /// site takes the exported site's id.
    Restore,
    /// Moderato's export into a database in use: new ids; `own` when the
    /// export is this site's, whose comments are known by their ids.
    Merge { own: bool },
}

/// What is here of a record of the current source.
#[derive(Debug, Clone, Copy)]
enum Earlier {
    /// Imported by an earlier run, and removed since.
    Removed,
    /// Written, by an earlier run or this one, under this article.
    Kept(CommentId, ArticleId),
}

/// A comment decided on and waiting to be inserted with its batch.
struct Row {
    c: CommentIn,
    id: CommentId,
    article: ArticleId,
    parent: Option<CommentId>,
    user: Option<UserId>,
    /// `--score`: the pipeline's score and report.
    scored: Option<(f64, Option<String>)>,
    /// `--train`: what the learned scorer was taught, and from which text.
    verdict: Option<Verdict>,
    learned: Option<String>,
}

impl Row {
    /// The columns to write: those Moderato's export kept as they were,
    /// the others as an import sets them.
    fn record(&self, now: i64) -> ImportedComment<'_> {
        let c = &self.c;
        let mut row = ImportedComment {
            id: self.id,
            article_id: self.article,
            parent_id: self.parent,
            user_id: self.user,
            author_name: &c.author_name,
            author_email: c.author_email.as_deref(),
            author_url: c.author_url.as_deref(),
            body: &c.body,
            html: &c.html,
            status: c.status,
            ip: c.ip.as_deref(),
            user_agent: None,
            referrer: None,
            created_at: c.created_at,
            edited_at: None,
            // The retention clock (trash and spam purged after so many
            // days) starts at the import, not at the original date.
            status_changed_at: now,
            version: 1,
            spam_score: self
                .scored
                .as_ref()
                .filter(|(_, report)| report.is_some())
                .map(|(score, _)| *score),
            spam_report: self.scored.as_ref().and_then(|(_, r)| r.as_deref()),
            verdict: self.verdict,
            learned_text: self.learned.as_deref(),
            fingerprint: c.fingerprint.as_deref(),
        };
        if let Some(kept) = &c.kept {
            row.user_agent = kept.user_agent.as_deref();
            row.referrer = kept.referrer.as_deref();
            row.edited_at = kept.edited_at;
            row.status_changed_at = kept.status_changed_at;
            row.version = kept.version;
            row.spam_score = kept.spam_score;
            row.spam_report = kept.spam_report.as_deref();
            row.verdict = kept.verdict;
            row.learned_text = kept.learned_text.as_deref();
        }
        row
    }
}

struct Engine<'a> {
    conn: &'a mut AnyConnection,
    options: &'a mut ImportOptions,
    deferred: &'a mut Deferred,
    mode: Mode,
    source: Option<String>,
    /// Moderato's export: the exported account ids and where they are now.
    users: HashMap<i64, UserId>,
    now: i64,
    summary: Summary,
    articles: HashMap<String, ArticleSlot>,
    /// Account ids by email, for linking (`None`: no account).
    accounts: HashMap<String, Option<UserId>>,
    orphans: Vec<Orphan>,
    model: Model,
    trained: (u64, u64),
    ids: CommentIds,
    /// Comments read and not yet decided on.
    batch: Vec<CommentIn>,
    /// While a batch is decided: what is here of its records and of the
    /// records they reply to, the batch's own decided rows included.
    known: HashMap<String, Earlier>,
    /// The batch's rows decided on, to insert.
    rows: Vec<Row>,
    /// The rows written by the time the database's statistics are brought
    /// up to date again (doubling each time).
    next_statistics: u64,
}

impl<'a> Engine<'a> {
    fn new(
        conn: &'a mut AnyConnection,
        options: &'a mut ImportOptions,
        deferred: &'a mut Deferred,
    ) -> Result<Self, TransferError> {
        Ok(Engine {
            conn,
            options,
            deferred,
            mode: Mode::Import,
            source: None,
            users: HashMap::new(),
            now: db::now_millis(),
            summary: Summary::default(),
            articles: HashMap::new(),
            accounts: HashMap::new(),
            orphans: Vec::new(),
            model: Model::empty(),
            trained: (0, 0),
            ids: CommentIds::default(),
            batch: Vec::with_capacity(BATCH),
            known: HashMap::new(),
            rows: Vec::with_capacity(BATCH),
            next_statistics: FIRST_STATISTICS,
        })
    }

    fn item(&mut self, item: Item) -> Result<(), TransferError> {
        match item {
            Item::Source(source) => self.set_source(source)?,
            Item::Moderato(line) => self.moderato(*line)?,
            Item::Article(article) => {
                let id = article.source_id.clone();
                self.articles
                    .entry(id)
                    .or_insert(ArticleSlot::Known(article));
            }
            Item::NoArticle { source_id, why } => self.refuse_article(source_id, why),
            Item::Comment(comment) => self.queue(*comment)?,
            Item::Skipped(skip) => self.summary.skip(skip),
            Item::Warning(message) => self.summary.warn(message),
        }
        Ok(())
    }

    fn set_source(&mut self, source: String) -> Result<(), TransferError> {
        if let Some(site) = source.strip_prefix("moderato:") {
            self.mode = if queries::is_empty(self.conn)? {
                queries::set_site_id(self.conn, site, self.now)?;
                Mode::Restore
            } else {
                Mode::Merge {
                    own: queries::site_id(self.conn, self.now)? == site,
                }
            };
        }
        self.source = Some(source);
        Ok(())
    }

    /// A record of Moderato's own export.
    fn moderato(&mut self, line: Line) -> Result<(), TransferError> {
        let restore = self.mode == Mode::Restore;
        match line {
            Line::Article(a) if restore => {
                queries::insert_article(
                    self.conn,
                    &RestoredArticle {
                        id: ArticleId(a.id),
                        article: NewArticle {
                            key: &a.key,
                            title: a.title.as_deref(),
                            url: a.url.as_deref(),
                            comments_open: a.comments_open,
                            created_at: a.created_at,
                            updated_at: a.updated_at,
                        },
                    },
                )?;
                self.summary.articles_created += 1;
                self.stored_article(a.id.to_string(), ArticleId(a.id));
            }
            Line::Article(a) => match ArticleKey::parse(&a.key) {
                Ok(key) => self.item(Item::Article(ArticleIn {
                    source_id: a.id.to_string(),
                    key,
                    title: a.title,
                    url: a.url,
                }))?,
                Err(e) => self.refuse_article(a.id.to_string(), format!("article {}: {e}", a.id)),
            },
            Line::Account(u) => {
                let existing = match restore {
                    true => None,
                    false => db::users::find_by_email(self.conn, &u.email)?.map(|x| x.id),
                };
                let id = match existing {
                    Some(id) => id,
                    None => {
                        self.summary.accounts += 1;
                        queries::insert_user(
                            self.conn,
                            &RestoredUser {
                                id: restore.then_some(UserId(u.id)),
                                email: &u.email,
                                name: &u.name,
                                password_hash: &u.password_hash,
                                role: u.role,
                                trusted: u.trusted,
                                created_at: u.created_at,
                                updated_at: u.updated_at,
                            },
                        )?
                    }
                };
                self.users.insert(u.id, id);
            }
            Line::Comment(c) => {
                let c = self.comment_in(*c);
                self.queue(c)?;
            }
            Line::Ban(b) => {
                let by = |u: Option<i64>| u.and_then(|u| self.users.get(&u).copied());
                let row = RestoredBan {
                    id: restore.then_some(BanId(b.id)),
                    ban: NewBan {
                        kind: b.kind,
                        value: &b.value,
                        shadow: b.shadow,
                        reason: b.reason.as_deref(),
                        expires_at: b.expires_at,
                        created_by: by(b.created_by),
                        created_at: b.created_at,
                    },
                    lifted_at: b.lifted_at,
                    lifted_by: by(b.lifted_by),
                };
                if queries::insert_ban(self.conn, &row)? {
                    self.summary.bans += 1;
                }
            }
            Line::Word(w) => {
                let row = RestoredWord {
                    id: restore.then_some(WordId(w.id)),
                    list: w.list,
                    kind: w.kind,
                    pattern: &w.pattern,
                    note: w.note.as_deref(),
                    created_at: w.created_at,
                };
                if queries::insert_word(self.conn, &row)? {
                    self.summary.words += 1;
                }
            }
            Line::Header(_) | Line::End(_) => {}
        }
        Ok(())
    }

    /// An exported comment as a record to write; its account as it is
    /// known here (an account not in the file is not linked).
    fn comment_in(&self, c: CommentLine) -> CommentIn {
        CommentIn {
            source_id: c.id.to_string(),
            article: c.article_id.to_string(),
            parent: c.parent_id.map(|p| p.to_string()),
            author_name: c.author_name,
            author_email: c.author_email,
            author_url: c.author_url,
            ip: c.ip,
            account_email: None,
            fingerprint: (!c.body.is_empty()).then(|| Fingerprint::of(&c.body).hash),
            body: c.body,
            html: c.html,
            status: c.status,
            created_at: c.created_at,
            kept: Some(Box::new(Kept {
                user_id: c.user_id.and_then(|u| self.users.get(&u)).map(|u| u.0),
                user_agent: c.user_agent,
                referrer: c.referrer,
                edited_at: c.edited_at,
                status_changed_at: c.status_changed_at,
                version: c.version,
                spam_score: c.spam_score,
                spam_report: c.spam_report.map(|r| r.to_string()),
                verdict: c.verdict,
                learned_text: c.learned_text,
                imported_from: c
                    .imported_from
                    .into_iter()
                    .map(|o| (o.source, o.id))
                    .collect(),
            })),
        }
    }

    /// A comment read: decided on and written with its batch.
    fn queue(&mut self, c: CommentIn) -> Result<(), TransferError> {
        self.batch.push(c);
        if self.batch.len() >= BATCH {
            self.flush()?;
        }
        Ok(())
    }

    /// Decides on the comments read so far and writes them: looks up what
    /// is here of them and of their parents, decides each in file order
    /// (a reply finds a parent decided just before it), and inserts the
    /// rows and their sources.
    fn flush(&mut self) -> Result<(), TransferError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        if self
            .deferred
            .indexes_worth_dropping(self.conn, self.summary.imported())
        {
            self.deferred.drop_indexes(self.conn)?;
        }
        if self.summary.imported() >= self.next_statistics {
            queries::refresh_statistics(self.conn)?;
            self.next_statistics *= 2;
        }
        let batch = std::mem::take(&mut self.batch);
        let keys: Vec<&str> = batch
            .iter()
            .flat_map(|c| std::iter::once(c.source_id.as_str()).chain(c.parent.as_deref()))
            .collect();
        self.known = self.look_up(keys)?;
        for c in batch {
            if self.mode == Mode::Restore {
                self.restore_comment(c)?;
            } else {
                self.comment(c)?;
            }
        }
        self.known.clear();
        self.insert_rows()
    }

    /// What is here of these records of the current source.
    fn look_up(&mut self, mut keys: Vec<&str>) -> Result<HashMap<String, Earlier>, TransferError> {
        keys.sort_unstable();
        keys.dedup();
        // A restore, or this site's own export: its ids are this
        // database's.
        let by_id = matches!(self.mode, Mode::Restore | Mode::Merge { own: true });
        let found: Vec<(String, Option<CommentId>)> = if by_id {
            keys.iter()
                .filter_map(|k| Some((k.to_string(), Some(CommentId(k.parse().ok()?)))))
                .collect()
        } else {
            let source = self.source()?.to_string();
            queries::find_sources(self.conn, &source, &keys)?
        };
        let ids: Vec<CommentId> = found.iter().filter_map(|(_, id)| *id).collect();
        let articles: HashMap<CommentId, ArticleId> =
            queries::articles_of(self.conn, &ids)?.into_iter().collect();
        Ok(found
            .into_iter()
            .filter_map(
                |(key, id)| match id.and_then(|id| Some((id, *articles.get(&id)?))) {
                    Some((id, article)) => Some((key, Earlier::Kept(id, article))),
                    None if by_id => None,
                    None => Some((key, Earlier::Removed)),
                },
            )
            .collect())
    }

    /// Inserts the rows decided on, then where they came from.
    fn insert_rows(&mut self) -> Result<(), TransferError> {
        let rows = std::mem::take(&mut self.rows);
        let records: Vec<ImportedComment<'_>> = rows.iter().map(|r| r.record(self.now)).collect();
        queries::insert_comments(self.conn, &records)?;
        let ids: Vec<CommentId> = rows.iter().map(|row| row.id).collect();
        self.deferred.index_for_search(self.conn, &ids)?;
        let main = match self.mode {
            Mode::Import | Mode::Merge { own: false } => self.source.as_deref(),
            Mode::Restore | Mode::Merge { own: true } => None,
        };
        let mut sources = Vec::new();
        for row in &rows {
            let kept = row.c.kept.iter().flat_map(|k| &k.imported_from);
            let pairs = main
                .map(|source| (source, row.c.source_id.as_str()))
                .into_iter()
                .chain(kept.map(|(source, id)| (source.as_str(), id.as_str())));
            sources.extend(pairs.map(|(source, source_id)| ImportSource {
                source,
                source_id,
                comment_id: Some(row.id),
                imported_at: self.now,
            }));
        }
        queries::record_sources(self.conn, &sources)?;
        self.rows = rows;
        self.rows.clear();
        Ok(())
    }

    /// A comment of a restore: written with its own id, parent and
    /// article. Exports list comments by id, and an imported reply can
    /// have a smaller id than its parent: that one is linked at the end.
    fn restore_comment(&mut self, c: CommentIn) -> Result<(), TransferError> {
        let bad =
            |what: &str| TransferError::Failed(format!("comment {}: bad {what}", c.source_id));
        let id = CommentId(c.source_id.parse().map_err(|_| bad("id"))?);
        let Some(article) = self.article_of(&c)? else {
            return Ok(());
        };
        let mut parent = None;
        let mut later = None;
        if let Some(p) = &c.parent {
            p.parse::<i64>().map_err(|_| bad("parent id"))?;
            match self.known.get(p) {
                Some(Earlier::Kept(p, _)) => parent = Some(*p),
                _ => later = Some(p.clone()),
            }
        }
        let user = c.kept.as_ref().and_then(|k| k.user_id).map(UserId);
        self.link_later(id, &c, later, article);
        self.write(c, id, article, parent, user, None);
        Ok(())
    }

    fn source(&self) -> Result<&str, TransferError> {
        self.source
            .as_deref()
            .ok_or_else(|| TransferError::Failed("the reader named no source".into()))
    }

    /// The stored article a comment belongs to, created or matched by key
    /// the first time one of its comments is written.
    fn article(&mut self, source_id: &str) -> Result<Result<ArticleId, String>, TransferError> {
        let known = match self.articles.get(source_id) {
            None => return Ok(Err(format!("article {source_id} is not in the file"))),
            Some(ArticleSlot::Stored(id)) => return Ok(Ok(*id)),
            Some(ArticleSlot::Refused(why)) => return Ok(Err(why.clone())),
            Some(ArticleSlot::Known(article)) => article.clone(),
        };
        let new = NewArticle {
            key: known.key.as_str(),
            title: known.title.as_deref(),
            url: known.url.as_deref(),
            comments_open: true,
            created_at: self.now,
            updated_at: self.now,
        };
        let (article, created) = db::articles::find_or_insert(self.conn, &new)?;
        if created {
            self.summary.articles_created += 1;
        } else {
            self.summary.articles_matched += 1;
        }
        self.articles
            .insert(source_id.to_string(), ArticleSlot::Stored(article.id));
        Ok(Ok(article.id))
    }

    /// The comment's article, or `None` with the comment counted as
    /// skipped.
    fn article_of(&mut self, c: &CommentIn) -> Result<Option<ArticleId>, TransferError> {
        Ok(match self.article(&c.article)? {
            Ok(id) => Some(id),
            Err(why) => {
                self.summary
                    .skip(Skip::new(SkipKind::NoArticle, &c.source_id, why));
                None
            }
        })
    }

    /// Registers an article stored by the caller (a restore keeps ids).
    fn stored_article(&mut self, source_id: String, id: ArticleId) {
        self.articles.insert(source_id, ArticleSlot::Stored(id));
    }

    fn refuse_article(&mut self, source_id: String, why: String) {
        self.articles.insert(source_id, ArticleSlot::Refused(why));
    }

    /// Whether a merged comment came here already by another way (it was
    /// imported from the same WordPress site, say).
    fn imported_elsewhere(&mut self, c: &CommentIn) -> Result<bool, TransferError> {
        for (source, id) in c.kept.iter().flat_map(|k| &k.imported_from) {
            if queries::find_source(self.conn, source, id)?.is_some() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The account to link a comment to, by email.
    fn account(&mut self, email: &str) -> Result<Option<UserId>, TransferError> {
        if let Some(found) = self.accounts.get(email) {
            return Ok(*found);
        }
        let found = db::users::find_by_email(self.conn, email)?.map(|u| u.id);
        self.accounts.insert(email.to_string(), found);
        Ok(found)
    }

    /// A comment of another system, or of a merged export.
    fn comment(&mut self, mut c: CommentIn) -> Result<(), TransferError> {
        let seen = match self.known.get(&c.source_id).copied() {
            Some(Earlier::Kept(..)) => Some(SkipKind::AlreadyImported),
            Some(Earlier::Removed) => Some(SkipKind::RemovedSince),
            None if self.imported_elsewhere(&c)? => Some(SkipKind::AlreadyImported),
            None => None,
        };
        if let Some(kind) = seen {
            self.summary.skip(Skip::new(kind, &c.source_id, ""));
            return Ok(());
        }
        let Some(article) = self.article_of(&c)? else {
            return Ok(());
        };
        let mut orphan = None;
        let parent = match c.parent.clone() {
            None => None,
            Some(parent) => match self.known.get(&parent) {
                Some(Earlier::Kept(id, of)) if *of == article => Some(*id),
                _ => {
                    orphan = Some(parent);
                    None
                }
            },
        };
        let mut scored = None;
        if self.options.score.is_some() && c.kept.is_none() {
            let decision = self.score(&c, article)?;
            // Scoring may hold a comment the source had published, never
            // publish one it had not.
            if c.status == CommentStatus::Approved && decision.status != CommentStatus::Approved {
                c.status = CommentStatus::Pending;
                self.summary.held_by_scoring += 1;
            }
            scored = Some((
                decision.report.score,
                serde_json::to_string(&decision.report).ok(),
            ));
        }
        let user = match (&c.kept, c.account_email.clone()) {
            (Some(kept), _) => kept.user_id.map(UserId),
            (None, Some(email)) => {
                let found = self.account(&email)?;
                if found.is_some() {
                    self.summary.linked_to_accounts += 1;
                }
                found
            }
            (None, None) => None,
        };
        let id = self.ids.next(self.conn)?;
        self.link_later(id, &c, orphan, article);
        self.write(c, id, article, parent, user, scored);
        Ok(())
    }

    /// Takes a decided comment into the batch's rows, teaching the
    /// learned scorer when asked to, and counts it.
    fn write(
        &mut self,
        c: CommentIn,
        id: CommentId,
        article: ArticleId,
        parent: Option<CommentId>,
        user: Option<UserId>,
        scored: Option<(f64, Option<String>)>,
    ) {
        let verdict = match c.status {
            CommentStatus::Approved if self.options.train => Some(Verdict::Ham),
            CommentStatus::Spam if self.options.train => Some(Verdict::Spam),
            _ => None,
        };
        let learned = verdict.map(|verdict| {
            let text = spam::learned::text_of(&candidate_of(&c, None));
            self.model.learn(&text, verdict == Verdict::Spam);
            if verdict == Verdict::Spam {
                self.trained.0 += 1;
            } else {
                self.trained.1 += 1;
            }
            text
        });
        self.known
            .insert(c.source_id.clone(), Earlier::Kept(id, article));
        self.summary.comment(c.status);
        self.options.progress.tick(self.summary.imported());
        self.rows.push(Row {
            c,
            id,
            article,
            parent,
            user,
            scored,
            verdict,
            learned,
        });
    }

    /// Remembers a reply whose parent has not come yet, to link at the end.
    fn link_later(
        &mut self,
        id: CommentId,
        c: &CommentIn,
        parent: Option<String>,
        article: ArticleId,
    ) {
        if let Some(parent) = parent {
            self.orphans.push(Orphan {
                id,
                source_id: c.source_id.clone(),
                parent,
                article,
            });
        }
    }

    fn score(&mut self, c: &CommentIn, article: ArticleId) -> Result<Decision, TransferError> {
        let stored = db::articles::find(self.conn, article)?;
        let candidate = candidate_of(c, stored.as_ref());
        let Some(score) = self.options.score.as_mut() else {
            return Err(TransferError::Failed("no scorer".into()));
        };
        Ok(score(candidate))
    }

    /// Writes the last batch, links the replies that came before their
    /// parents, persists what was learned, and hands back the summary.
    fn finish(mut self) -> Result<Summary, TransferError> {
        self.flush()?;
        self.options.progress.stage("linking replies");
        let orphans = std::mem::take(&mut self.orphans);
        for orphans in orphans.chunks(BATCH * 4) {
            let known = self.look_up(orphans.iter().map(|o| o.parent.as_str()).collect())?;
            for orphan in orphans {
                match known.get(&orphan.parent) {
                    Some(Earlier::Kept(parent, article)) if *article == orphan.article => {
                        queries::set_parent(self.conn, orphan.id, *parent)?;
                    }
                    _ => self.summary.warn(format!(
                        "comment {}: its parent {} is not in the file; kept at the top level",
                        orphan.source_id, orphan.parent
                    )),
                }
            }
        }
        if self.options.train {
            spam::learned::persist_model(self.conn, &self.model)?;
            self.summary.trained = Some(self.trained);
        }
        if self.mode == Mode::Restore {
            queries::sync_sequences(self.conn)?;
        }
        if self.summary.imported() > 0 {
            // Servers on the same PostgreSQL drop their cached pages when
            // this commits (nothing is sent if it rolls back).
            crate::cache::notify_in(self.conn, None)?;
        }
        Ok(self.summary)
    }
}

/// The candidate the spam pipeline (and the learned scorer) sees for an
/// imported comment.
fn candidate_of(c: &CommentIn, article: Option<&crate::db::models::Article>) -> Candidate {
    Candidate {
        body: c.body.clone(),
        author_name: c.author_name.clone(),
        author_email: c.author_email.clone(),
        author_url: c.author_url.clone(),
        ip: c.ip.as_deref().and_then(|ip| ip.parse().ok()),
        created_at: c.created_at,
        article: article
            .map(|a| ArticleFacts {
                key: a.key.clone(),
                title: a.title.clone(),
                url: a.url.clone(),
            })
            .unwrap_or_default(),
        ..Candidate::default()
    }
}
