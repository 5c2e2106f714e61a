//! A cache of what every article page asks for: rendered thread pages (the
//! JSON answer, ready to send) and published-comment counts, held in a
//! [`moka`] cache of one entry per article.
//!
//! Correctness first. Every change that can alter what the public sees of
//! an article invalidates that article's entry, on this instance right
//! after the change commits, and on other instances sharing a PostgreSQL
//! database through `NOTIFY moderato_cache` sent inside the change's
//! transaction (see [`notify_in`] and [`listen`]).
//!
//! No stale answer is stored after an invalidation. A read takes its
//! article's entry before it queries, and stores what it computed in that
//! entry only. Invalidating removes the entry, so an answer computed across
//! an invalidation lands in an entry nobody can find any more, and the next
//! reader starts a new one. [`PublicCache::invalidate_all`] also moves a
//! generation on: an entry made before it is never served, whatever moka
//! still holds.
//!
//! A missing page, or a missing count, is computed once however many readers
//! ask for it at the same moment: each page and the count is a slot of the
//! entry (a `tokio::sync::OnceCell`), so one reader runs the query and the
//! others await its answer, instead of all running the same query (a cache
//! stampede, which on PostgreSQL put hundreds of milliseconds on p99).
//!
//! A page may say how long it holds ([`Page::valid_until`]): a thread page
//! shows whether its article takes comments, which changes by itself when
//! the article closes by age. A reader finding a page past that time drops
//! the article's entry and computes the page again.
//!
//! Memory is bounded by `cache.max_bytes`. moka weighs each entry by what it
//! holds (its pages' bytes, its key, and an estimate of the bookkeeping
//! around them) and evicts by TinyLFU, so the articles read most stay. moka
//! weighs an entry when it is inserted, but an entry grows after that, as
//! its pages are filled; so whoever fills a page inserts the entry again
//! straight after, and moka weighs it anew. That second insert happens only
//! while the entry is still its article's current one, checked under moka's
//! per-key compute lock, which [`PublicCache::invalidate`] takes too, so it
//! never brings back an invalidated entry. (One entry per page instead
//! would be weighed once, but invalidating an article would then have to
//! find all its pages.) What moka has not counted is small and short-lived:
//! a page in the moment between its fill and the re-insert, and the
//! bookkeeping of slots whose fill is running or failed until the entry's
//! next re-insert, at most [`MAX_PAGES_PER_ARTICLE`] of them, since an entry
//! keeps no more pages than that.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Cached bodies are the bytes the HTTP layer sends, shared without copying.
pub use actix_web::web::Bytes;
use moka::ops::compute::Op;
use secrecy::ExposeSecret;
use tokio::sync::OnceCell;

use crate::db::{AnyConnection, Backend, DatabaseUrl, DbError};
use crate::domain::CommentId;
use crate::telemetry::Chain;

/// Which page of which thread, as asked.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageKey {
    pub article: String,
    pub page: PageOf,
}

/// A page within an article's entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PageOf {
    /// A page of the JSON API's thread: order, cursor, size.
    Thread {
        newest_first: bool,
        after: Option<CommentId>,
        limit: u32,
    },
    /// Another API's answer about the article (Isso's thread), named by
    /// everything it depends on besides the stored data, e.g. its query.
    Named(Box<str>),
}

impl PageOf {
    /// Heap bytes the key itself holds.
    fn heap_bytes(&self) -> usize {
        match self {
            PageOf::Thread { .. } => 0,
            PageOf::Named(name) => name.len(),
        }
    }
}

/// A page as cached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub body: Bytes,
    /// The last moment (milliseconds since the epoch) the page may be
    /// served; `None`: until its article changes.
    pub valid_until: Option<i64>,
}

impl Page {
    fn holds_at(&self, now: i64) -> bool {
        self.valid_until.is_none_or(|until| now <= until)
    }
}

/// The most pages one article's entry keeps (orders, cursors and sizes
/// together). Past it the entry starts its pages over: the ones asked for
/// now are the ones worth keeping.
pub const MAX_PAGES_PER_ARTICLE: usize = 64;

/// How often a reader looks again, after finding a lapsed page or an entry
/// from before an `invalidate_all`, before it answers without the cache.
const TRIES: usize = 3;

/// Memory an article's entry holds beyond its pages and key, estimated for
/// a 64-bit build: moka's side of it (the key's `Arc`, the value entry and
/// its information, the nodes in its deques, the hash-table bucket), the
/// `ArticleEntry` behind its `Arc` with the page map's header and the count
/// slot, and the allocator's rounding of each.
const ENTRY_OVERHEAD: usize = 512;

/// Memory each page slot holds beyond its body: its place in the page map
/// (position and `Arc` handle), the `OnceCell` behind its `Arc` with the
/// `Bytes` handle and validity, the shared buffer's header, and the
/// allocator's rounding of each.
const SLOT_OVERHEAD: usize = 256;

struct ArticleEntry {
    /// The cache's generation when this entry was made.
    generation: u64,
    pages: Mutex<HashMap<PageOf, Arc<OnceCell<Page>>>>,
    count: OnceCell<i64>,
}

impl ArticleEntry {
    fn new(generation: u64) -> Self {
        ArticleEntry {
            generation,
            pages: Mutex::new(HashMap::new()),
            count: OnceCell::new(),
        }
    }

    fn pages(&self) -> MutexGuard<'_, HashMap<PageOf, Arc<OnceCell<Page>>>> {
        match self.pages.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// The slot of one page, made if missing.
    fn slot(&self, page: PageOf) -> Arc<OnceCell<Page>> {
        let mut pages = self.pages();
        if let Some(slot) = pages.get(&page) {
            return Arc::clone(slot);
        }
        if pages.len() >= MAX_PAGES_PER_ARTICLE {
            pages.clear();
        }
        Arc::clone(pages.entry(page).or_default())
    }

    /// What the entry counts against `cache.max_bytes`: everything it holds,
    /// not only its pages' bytes, so many small entries (empty threads) stay
    /// in budget.
    fn weight(&self, article: &str) -> u32 {
        let pages: usize = self
            .pages()
            .iter()
            .map(|(of, slot)| {
                SLOT_OVERHEAD + of.heap_bytes() + slot.get().map_or(0, |page| page.body.len())
            })
            .sum();
        u32::try_from(ENTRY_OVERHEAD + article.len() + pages).unwrap_or(u32::MAX)
    }
}

pub struct PublicCache {
    articles: moka::sync::Cache<String, Arc<ArticleEntry>>,
    /// Moved on by every `invalidate_all`.
    generation: AtomicU64,
}

impl PublicCache {
    /// A cache holding at most about `max_bytes`, counting what each entry
    /// holds (see `ArticleEntry::weight`).
    pub fn new(max_bytes: u64) -> Self {
        let articles = moka::sync::Cache::builder()
            .max_capacity(max_bytes)
            .weigher(|article: &String, entry: &Arc<ArticleEntry>| entry.weight(article))
            .build();
        PublicCache {
            articles,
            generation: AtomicU64::new(0),
        }
    }

    /// The article's current entry, made if missing.
    fn entry(&self, article: &str) -> Arc<ArticleEntry> {
        for _ in 0..TRIES {
            let generation = self.generation.load(Ordering::Acquire);
            let entry = self
                .articles
                .get_with_by_ref(article, || Arc::new(ArticleEntry::new(generation)));
            if entry.generation == self.generation.load(Ordering::Acquire) {
                return entry;
            }
            self.forget(article, &entry);
        }
        // Everything is being invalidated again and again: an entry of
        // one's own, which nobody else finds, still gives a fresh answer.
        Arc::new(ArticleEntry::new(self.generation.load(Ordering::Acquire)))
    }

    /// Removes `entry` if it is still the article's current one.
    fn forget(&self, article: &str, entry: &Arc<ArticleEntry>) {
        self.articles
            .entry_by_ref(article)
            .and_compute_with(|current| match current {
                Some(current) if Arc::ptr_eq(current.value(), entry) => Op::Remove,
                _ => Op::Nop,
            });
    }

    /// Inserts `entry` again, so moka weighs what it holds now; only if it
    /// is still the article's current one (see the module docs).
    fn reweigh(&self, article: &str, entry: &Arc<ArticleEntry>) {
        let generation = self.generation.load(Ordering::Acquire);
        self.articles
            .entry_by_ref(article)
            .and_compute_with(|current| match current {
                Some(current)
                    if Arc::ptr_eq(current.value(), entry) && entry.generation == generation =>
                {
                    Op::Put(Arc::clone(entry))
                }
                _ => Op::Nop,
            });
    }

    /// The cached page, or the one `fill` computes (and stores). Of the
    /// readers missing the same page at once, one runs `fill`; the others
    /// wait for its answer. A cached page past its `valid_until` at `now`
    /// is dropped, with the rest of its article's entry, and computed again.
    pub async fn page_or_fill<E, Fut>(
        &self,
        key: &PageKey,
        now: i64,
        mut fill: impl FnMut() -> Fut,
    ) -> Result<Bytes, E>
    where
        Fut: Future<Output = Result<Page, E>>,
    {
        for _ in 0..TRIES {
            let entry = self.entry(&key.article);
            let slot = entry.slot(key.page.clone());
            let mut filled_here = false;
            let page = slot
                .get_or_try_init(|| {
                    filled_here = true;
                    fill()
                })
                .await?;
            if filled_here {
                self.reweigh(&key.article, &entry);
                // Just computed: as fresh as an answer gets.
                return Ok(page.body.clone());
            }
            if page.holds_at(now) {
                return Ok(page.body.clone());
            }
            self.forget(&key.article, &entry);
        }
        fill().await.map(|page| page.body)
    }

    /// The counts of `keys`, from the cache where known; the others from
    /// `fill`, which is given the missing keys (sorted, without repeats)
    /// and answers for each; a key it leaves out counts 0. Of the readers
    /// missing the same counts at once, one runs `fill` and the others wait
    /// for it: they queue on the first count missing, and whoever fills it
    /// fills every count it fetched.
    pub async fn counts_or_fill<E, Fut>(
        &self,
        keys: &[String],
        fill: impl Fn(Vec<String>) -> Fut,
    ) -> Result<HashMap<String, i64>, E>
    where
        Fut: Future<Output = Result<HashMap<String, i64>, E>>,
    {
        let mut wanted: Vec<&String> = keys.iter().collect();
        wanted.sort();
        wanted.dedup();
        let entries: Vec<(&String, Arc<ArticleEntry>)> = wanted
            .into_iter()
            .map(|key| (key, self.entry(key)))
            .collect();
        let mut counts = HashMap::with_capacity(entries.len());
        let mut missing = Vec::new();
        for (key, entry) in &entries {
            match entry.count.get() {
                Some(count) => {
                    counts.insert((*key).clone(), *count);
                }
                None => missing.push((*key, entry)),
            }
        }
        let Some(((first_key, first_entry), others)) = missing.split_first() else {
            return Ok(counts);
        };
        let names: Vec<String> = missing.iter().map(|(key, _)| (*key).clone()).collect();
        let mut fetched: Option<HashMap<String, i64>> = None;
        let (fetched_here, fill_ref) = (&mut fetched, &fill);
        let first = *first_entry
            .count
            .get_or_try_init(move || async move {
                let found = fill_ref(names).await?;
                for (key, entry) in others {
                    // A slot another reader is filling keeps their answer.
                    let _ = entry.count.set(count_in(&found, key));
                }
                let first = count_in(&found, first_key);
                *fetched_here = Some(found);
                Ok(first)
            })
            .await?;
        counts.insert((*first_key).clone(), first);
        let mut late = Vec::new();
        for (key, entry) in others {
            let known = match &fetched {
                Some(found) => Some(count_in(found, key)),
                None => entry.count.get().copied(),
            };
            match known {
                Some(count) => {
                    counts.insert((*key).clone(), count);
                }
                // The reader we waited for was missing other counts.
                None => late.push((*key, *entry)),
            }
        }
        if !late.is_empty() {
            let found = fill(late.iter().map(|(key, _)| (*key).clone()).collect()).await?;
            for (key, entry) in late {
                let count = count_in(&found, key);
                let _ = entry.count.set(count);
                counts.insert(key.clone(), count);
            }
        }
        Ok(counts)
    }

    /// Forgets everything about one article.
    pub fn invalidate(&self, article: &str) {
        // Through the per-key compute lock, so that a re-insert for
        // weighing (`reweigh`) cannot put the entry back meanwhile.
        self.articles
            .entry_by_ref(article)
            .and_compute_with(|_| Op::Remove);
    }

    /// Forgets everything (for changes that touch many articles at once).
    pub fn invalidate_all(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.articles.invalidate_all();
    }
}

fn count_in(found: &HashMap<String, i64>, key: &str) -> i64 {
    found.get(key).copied().unwrap_or(0)
}

/// The channel other instances listen on.
const CHANNEL: &str = "moderato_cache";
/// The payload meaning "everything".
const ALL: &str = "*";

/// Inside a write transaction on PostgreSQL: tells every other instance to
/// drop what it cached of `article` (`None`: everything) once the
/// transaction commits. On SQLite (a single instance) there is no one to
/// tell.
pub fn notify_in(conn: &mut AnyConnection, article: Option<&str>) -> Result<(), DbError> {
    if conn.backend() == Backend::Postgres {
        use diesel::RunQueryDsl;
        diesel::sql_query("SELECT pg_notify($1, $2)")
            .bind::<diesel::sql_types::Text, _>(CHANNEL)
            .bind::<diesel::sql_types::Text, _>(article.unwrap_or(ALL))
            .execute(conn)?;
    }
    Ok(())
}

/// On PostgreSQL, starts a thread that listens for other instances'
/// invalidations and applies them here, until the cache is dropped (the
/// application stopped). Returns at once on SQLite.
pub fn listen(url: &DatabaseUrl, cache: &std::sync::Arc<PublicCache>) {
    let DatabaseUrl::Postgres(url) = url.clone() else {
        return;
    };
    let cache = std::sync::Arc::downgrade(cache);
    let spawned = std::thread::Builder::new()
        .name("cache-listener".into())
        .spawn(move || loop {
            match listen_once(url.expose_secret(), &cache) {
                Ok(()) => return,
                Err(e) => tracing::warn!(error = %Chain(&e), "cache invalidation listener lost its connection; reconnecting"),
            }
            let Some(cache) = cache.upgrade() else { return };
            // Whatever was announced while not listening is unknown.
            cache.invalidate_all();
            drop(cache);
            std::thread::sleep(Duration::from_secs(1));
        });
    if let Err(e) = spawned {
        tracing::error!(error = %Chain(&e), "cannot start the cache invalidation listener");
    }
}

/// Listens until the connection fails (an error) or the cache is gone (Ok).
fn listen_once(url: &str, cache: &std::sync::Weak<PublicCache>) -> Result<(), DbError> {
    use diesel::RunQueryDsl;
    let mut conn = crate::db::connect_postgres(url)
        .map_err(|e| DbError::unavailable_because("cannot connect", e))?;
    diesel::sql_query(format!("LISTEN {CHANNEL}")).execute(&mut conn)?;
    let mut idle = 0u32;
    let mut first = true;
    loop {
        let Some(cache) = cache.upgrade() else {
            return Ok(());
        };
        if first {
            // Anything changed before LISTEN took effect is unknown too.
            cache.invalidate_all();
            first = false;
        }
        let mut got = false;
        for notification in conn.notifications_iter() {
            let notification = notification?;
            got = true;
            if notification.payload == ALL {
                cache.invalidate_all();
            } else {
                cache.invalidate(&notification.payload);
            }
        }
        // libpq is polled: often while notifications flow, and a cheap
        // round trip now and then proves the connection is alive.
        drop(cache);
        idle = if got { 0 } else { idle + 1 };
        if idle >= 500 {
            diesel::sql_query("SELECT 1").execute(&mut conn)?;
            idle = 0;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn key(article: &str) -> PageKey {
        key_after(article, None)
    }

    fn key_after(article: &str, after: Option<i64>) -> PageKey {
        PageKey {
            article: article.into(),
            page: PageOf::Thread {
                newest_first: false,
                after: after.map(CommentId),
                limit: 50,
            },
        }
    }

    fn page(body: &'static str) -> Page {
        Page {
            body: Bytes::from_static(body.as_bytes()),
            valid_until: None,
        }
    }

    /// Answers from the cache only: a fill here fails the read.
    async fn cached(cache: &PublicCache, key: &PageKey, now: i64) -> Option<Bytes> {
        cache
            .page_or_fill(key, now, || async { Err::<Page, ()>(()) })
            .await
            .ok()
    }

    async fn fill_with(cache: &PublicCache, key: &PageKey, body: &'static str) -> Bytes {
        cache
            .page_or_fill(key, 0, || async { Ok::<_, ()>(page(body)) })
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn pages_are_served_until_their_article_changes() {
        let cache = PublicCache::new(1 << 20);
        fill_with(&cache, &key("a"), "page a").await;
        fill_with(&cache, &key("b"), "page b").await;
        assert_eq!(cached(&cache, &key("a"), 0).await.unwrap(), "page a");
        cache.invalidate("a");
        assert!(cached(&cache, &key("a"), 0).await.is_none());
        assert_eq!(cached(&cache, &key("b"), 0).await.unwrap(), "page b");
        cache.invalidate_all();
        assert!(cached(&cache, &key("b"), 0).await.is_none());
    }

    /// A fill held until `release` is notified, answering `body`.
    async fn held_fill(
        cache: &PublicCache,
        key: &PageKey,
        started: &tokio::sync::Notify,
        release: &tokio::sync::Notify,
    ) -> Bytes {
        cache
            .page_or_fill(key, 0, || async {
                started.notify_one();
                release.notified().await;
                Ok::<_, ()>(page("stale"))
            })
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_fill_racing_an_invalidation_is_not_served_afterwards() {
        for invalidate_all in [false, true] {
            let cache = PublicCache::new(1 << 20);
            let (started, release) = (tokio::sync::Notify::new(), tokio::sync::Notify::new());
            let page_a = key("a");
            let reader = held_fill(&cache, &page_a, &started, &release);
            let writer = async {
                started.notified().await; // the read has begun
                if invalidate_all {
                    cache.invalidate_all();
                } else {
                    cache.invalidate("a"); // a write commits meanwhile
                }
                release.notify_one();
            };
            let (answer, ()) = tokio::join!(reader, writer);
            assert_eq!(answer, "stale", "the racing reader gets its own answer");
            assert_eq!(
                fill_with(&cache, &key("a"), "fresh").await,
                "fresh",
                "but it was not stored (invalidate_all: {invalidate_all})"
            );
        }
    }

    #[tokio::test]
    async fn counts_fetched_across_an_invalidation_are_not_stored() {
        let cache = PublicCache::new(1 << 20);
        let keys = ["a", "b"].map(String::from);
        let (started, release) = (tokio::sync::Notify::new(), tokio::sync::Notify::new());
        let reader = cache.counts_or_fill(&keys, |missing| async {
            started.notify_one();
            release.notified().await;
            Ok::<_, ()>(missing.into_iter().map(|k| (k, 1)).collect())
        });
        let writer = async {
            started.notified().await;
            cache.invalidate("a");
            release.notify_one();
        };
        let (counts, ()) = tokio::join!(reader, writer);
        assert_eq!(counts.unwrap()["a"], 1);
        let again = cache
            .counts_or_fill(&keys, |missing| async move {
                assert_eq!(missing, ["a"], "b is still known");
                Ok::<_, ()>(missing.into_iter().map(|k| (k, 2)).collect())
            })
            .await
            .unwrap();
        assert_eq!((again["a"], again["b"]), (2, 1));
    }

    #[tokio::test]
    async fn a_page_lapses_after_its_valid_until() {
        let cache = PublicCache::new(1 << 20);
        let open = Page {
            body: Bytes::from_static(b"open"),
            valid_until: Some(1_000),
        };
        let first = cache
            .page_or_fill(&key("a"), 900, || async { Ok::<_, ()>(open.clone()) })
            .await;
        assert_eq!(first.unwrap(), "open");
        assert_eq!(cached(&cache, &key("a"), 1_000).await.unwrap(), "open");
        let later = cache
            .page_or_fill(&key("a"), 1_001, || async { Ok::<_, ()>(page("closed")) })
            .await;
        assert_eq!(later.unwrap(), "closed");
        assert_eq!(cached(&cache, &key("a"), 5_000).await.unwrap(), "closed");
    }

    #[tokio::test]
    async fn readers_missing_the_same_page_at_once_fill_it_once() {
        let cache = Arc::new(PublicCache::new(1 << 20));
        let fills = Arc::new(AtomicUsize::new(0));
        let readers: Vec<_> = (0..16)
            .map(|_| {
                let (cache, fills) = (Arc::clone(&cache), Arc::clone(&fills));
                tokio::spawn(async move {
                    cache
                        .page_or_fill(&key("a"), 0, || async {
                            fills.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(20)).await;
                            Ok::<_, ()>(page("page a"))
                        })
                        .await
                })
            })
            .collect();
        for reader in readers {
            assert_eq!(reader.await.unwrap().unwrap(), "page a");
        }
        assert_eq!(fills.load(Ordering::SeqCst), 1);
        // A failed fill stores nothing; the next reader tries again.
        cache.invalidate("a");
        let failed: Result<Bytes, &str> = cache
            .page_or_fill(&key("a"), 0, || async { Err("down") })
            .await;
        assert_eq!(failed, Err("down"));
        assert_eq!(fill_with(&cache, &key("a"), "again").await, "again");
    }

    #[tokio::test]
    async fn counts_missing_at_once_are_fetched_once_and_only_the_missing() {
        let cache = Arc::new(PublicCache::new(1 << 20));
        let known = cache
            .counts_or_fill(&["a".to_string()], |_| async {
                Ok::<_, ()>(HashMap::from([("a".to_string(), 3)]))
            })
            .await
            .unwrap();
        assert_eq!(known["a"], 3);
        let fills = Arc::new(AtomicUsize::new(0));
        let readers: Vec<_> = (0..16)
            .map(|_| {
                let (cache, fills) = (Arc::clone(&cache), Arc::clone(&fills));
                tokio::spawn(async move {
                    let keys = ["c", "a", "b", "c"].map(String::from);
                    cache
                        .counts_or_fill(&keys, |missing| {
                            let fills = Arc::clone(&fills);
                            async move {
                                assert_eq!(missing, ["b", "c"]);
                                fills.fetch_add(1, Ordering::SeqCst);
                                tokio::time::sleep(Duration::from_millis(20)).await;
                                Ok::<_, ()>(missing.into_iter().map(|k| (k, 7)).collect())
                            }
                        })
                        .await
                })
            })
            .collect();
        for reader in readers {
            let counts = reader.await.unwrap().unwrap();
            assert_eq!(counts.len(), 3);
            assert_eq!((counts["a"], counts["b"], counts["c"]), (3, 7, 7));
        }
        assert_eq!(fills.load(Ordering::SeqCst), 1);
    }

    fn held(cache: &PublicCache) -> u64 {
        cache.articles.run_pending_tasks();
        cache.articles.weighted_size()
    }

    #[tokio::test]
    async fn an_entry_is_weighed_with_the_pages_filled_after_it_was_made() {
        let cache = PublicCache::new(1 << 24);
        let big = Page {
            body: Bytes::from(vec![b'x'; 100_000]),
            valid_until: None,
        };
        cache
            .page_or_fill(&key("a"), 0, || async { Ok::<_, ()>(big.clone()) })
            .await
            .unwrap();
        let weight = held(&cache);
        assert!(weight >= 100_000, "weighed {weight}");
        let second = key_after("a", Some(10));
        cache
            .page_or_fill(&second, 0, || async { Ok::<_, ()>(big.clone()) })
            .await
            .unwrap();
        assert!(held(&cache) >= 200_000, "the second page counts too");
        cache.invalidate("a");
        assert_eq!(held(&cache), 0);
    }

    #[tokio::test]
    async fn the_byte_budget_bounds_what_is_held() {
        let budget = 1_000_000;
        let cache = PublicCache::new(budget);
        let body = Bytes::from(vec![b'x'; 50_000]);
        for n in 0..100 {
            let body = body.clone();
            cache
                .page_or_fill(&key(&format!("article-{n}")), 0, || {
                    let body = body.clone();
                    async move {
                        Ok::<_, ()>(Page {
                            body,
                            valid_until: None,
                        })
                    }
                })
                .await
                .unwrap();
        }
        let weight = held(&cache);
        assert!(weight <= budget, "{weight} bytes held");
        assert!(weight >= budget / 2, "the budget is used: {weight}");
        assert!(cache.articles.entry_count() <= budget / 50_000);
    }

    #[tokio::test]
    async fn many_small_pages_count_what_they_hold_not_only_their_bytes() {
        // An empty thread's page is about 60 bytes; 20,000 of them must not
        // fit in a 1 MB budget.
        let budget = 1_000_000;
        let cache = PublicCache::new(budget);
        let empty = r#"{"article":null,"comments":[],"next_cursor":null,"total":0}"#;
        for n in 0..20_000 {
            fill_with(&cache, &key(&format!("empty-{n}")), empty).await;
        }
        assert!(held(&cache) <= budget);
        let kept = cache.articles.entry_count();
        assert!(
            kept * (empty.len() + ENTRY_OVERHEAD + SLOT_OVERHEAD) as u64 <= budget,
            "{kept} pages kept"
        );
    }

    #[test]
    fn the_overheads_cover_at_least_the_structs_themselves() {
        use std::mem::size_of;
        let arc_header = 2 * size_of::<usize>();
        let entry =
            arc_header + size_of::<ArticleEntry>() + size_of::<(String, Arc<ArticleEntry>)>();
        assert!(entry * 2 <= ENTRY_OVERHEAD, "{entry}");
        let slot =
            size_of::<(PageOf, Arc<OnceCell<Page>>)>() + arc_header + size_of::<OnceCell<Page>>();
        assert!(slot + 32 <= SLOT_OVERHEAD, "{slot}");
    }

    #[tokio::test]
    async fn one_article_keeps_a_bounded_number_of_pages() {
        let cache = PublicCache::new(1 << 24);
        for after in 0..(2 * MAX_PAGES_PER_ARTICLE as i64) {
            let key = key_after("a", Some(after));
            fill_with(&cache, &key, "a page").await;
        }
        let entry = cache.entry("a");
        let pages = entry.pages().len();
        assert!((1..=MAX_PAGES_PER_ARTICLE).contains(&pages), "{pages}");
    }
}
