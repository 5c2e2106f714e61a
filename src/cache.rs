//! A cache of what every article page asks for: rendered thread pages (the
//! JSON answer, ready to send) and published-comment counts.
//!
//! Correctness first. Every change that can alter what the public sees of
//! an article invalidates that article's entries, on this instance right
//! after the change commits, and on other instances sharing a PostgreSQL
//! database through `NOTIFY moderato_cache` sent inside the change's
//! transaction (see [`notify_in`] and [`listen`]). A read that was computing
//! while an invalidation happened does not store its (possibly stale) answer:
//! each read notes the invalidation epoch before touching the database and
//! stores only if its article was not invalidated since.
//!
//! A missing page, or a missing set of counts, is computed once however many
//! readers ask for it at the same moment ([`PublicCache::page_or_fill`],
//! [`PublicCache::counts_or_fill`]): the others wait for that answer instead
//! of all running the same query (a cache stampede, which on PostgreSQL put
//! hundreds of milliseconds on p99).
//!
//! Memory is bounded: when the stored answers exceed their byte budget (or
//! the counts their entry budget) everything is dropped and refilled.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use actix_web::web::Bytes;
use secrecy::ExposeSecret;

use crate::db::{AnyConnection, Backend, DatabaseUrl, DbError};
use crate::telemetry::Chain;

/// Which page of which thread, as asked.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageKey {
    pub article: String,
    pub newest_first: bool,
    pub after: Option<i64>,
    pub limit: u32,
}

/// Taken before reading the database; see the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Epoch(u64);

/// A page within an article: order, cursor, size.
type PageOf = (bool, Option<i64>, u32);

struct Inner {
    /// Pages by article, so one article's are dropped in one step.
    pages: HashMap<String, HashMap<PageOf, Bytes>>,
    page_bytes: usize,
    counts: HashMap<String, i64>,
    /// The epoch of each article's latest invalidation.
    invalidated: HashMap<String, u64>,
    /// Invalidations forgotten (to bound memory) count as having happened
    /// at this epoch.
    floor: u64,
    epoch: u64,
}

/// Held by the one reader filling an entry; the others queue on it.
type FillGate = tokio::sync::Mutex<()>;

/// What is being filled: one page, or the counts of a set of articles
/// (sorted, without repeats).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum FillKey {
    Page(PageKey),
    Counts(Vec<String>),
}

pub struct PublicCache {
    inner: Mutex<Inner>,
    /// Pages being filled. Entries die with their last holder; dead ones
    /// are swept when the map grows.
    fills: Mutex<HashMap<FillKey, Weak<FillGate>>>,
    max_page_bytes: usize,
    max_entries: usize,
}

impl PublicCache {
    pub fn new(max_page_bytes: usize, max_entries: usize) -> Self {
        PublicCache {
            inner: Mutex::new(Inner {
                pages: HashMap::new(),
                page_bytes: 0,
                counts: HashMap::new(),
                invalidated: HashMap::new(),
                floor: 0,
                epoch: 0,
            }),
            fills: Mutex::new(HashMap::new()),
            max_page_bytes,
            max_entries,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        match self.inner.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    pub fn epoch(&self) -> Epoch {
        Epoch(self.lock().epoch)
    }

    pub fn page(&self, key: &PageKey) -> Option<Bytes> {
        self.lock()
            .pages
            .get(&key.article)
            .and_then(|pages| pages.get(&(key.newest_first, key.after, key.limit)))
            .cloned()
    }

    /// The cached page, or the one `fill` computes (and stores). Of the
    /// readers missing the same page at once, one runs `fill`; the others
    /// wait for it and take its answer from the cache. If an invalidation
    /// kept it from being stored, the next in line computes it afresh.
    pub async fn page_or_fill<E, Fut>(
        &self,
        key: PageKey,
        fill: impl FnOnce() -> Fut,
    ) -> Result<Bytes, E>
    where
        Fut: Future<Output = Result<Bytes, E>>,
    {
        if let Some(body) = self.page(&key) {
            return Ok(body);
        }
        let gate = self.fill_gate(FillKey::Page(key.clone()));
        let _turn = gate.lock().await;
        if let Some(body) = self.page(&key) {
            return Ok(body);
        }
        let epoch = self.epoch();
        let body = fill().await?;
        self.store_page(key, body.clone(), epoch);
        Ok(body)
    }

    /// The counts of `keys`, from the cache where known; the others from
    /// `fill`, which is given the missing keys and must answer for each
    /// (0 for an article nobody commented on). Filled once for readers
    /// missing the same keys at once, as pages are.
    pub async fn counts_or_fill<E, Fut>(
        &self,
        keys: &[String],
        fill: impl FnOnce(Vec<String>) -> Fut,
    ) -> Result<HashMap<String, i64>, E>
    where
        Fut: Future<Output = Result<HashMap<String, i64>, E>>,
    {
        let mut counts = self.counts(keys);
        let mut missing: Vec<String> = keys
            .iter()
            .filter(|k| !counts.contains_key(*k))
            .cloned()
            .collect();
        if missing.is_empty() {
            return Ok(counts);
        }
        missing.sort();
        missing.dedup();
        let gate = self.fill_gate(FillKey::Counts(missing.clone()));
        let _turn = gate.lock().await;
        counts.extend(self.counts(&missing));
        missing.retain(|k| !counts.contains_key(k));
        if missing.is_empty() {
            return Ok(counts);
        }
        let epoch = self.epoch();
        let fetched = fill(missing).await?;
        self.store_counts(&fetched, epoch);
        counts.extend(fetched);
        Ok(counts)
    }

    fn fill_gate(&self, key: FillKey) -> Arc<FillGate> {
        let mut fills = match self.fills.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(gate) = fills.get(&key).and_then(Weak::upgrade) {
            return gate;
        }
        if fills.len() >= self.max_entries {
            fills.retain(|_, gate| gate.strong_count() > 0);
        }
        let gate = Arc::new(FillGate::new(()));
        fills.insert(key, Arc::downgrade(&gate));
        gate
    }

    /// Stores a page computed after `epoch` was taken, unless its article
    /// was invalidated since.
    pub fn store_page(&self, key: PageKey, body: Bytes, epoch: Epoch) {
        let mut inner = self.lock();
        if inner.changed_since(&key.article, epoch) {
            return;
        }
        let size = page_weight(&key.article, &body);
        if inner.page_bytes + size > self.max_page_bytes {
            inner.pages.clear();
            inner.page_bytes = 0;
        }
        let article = key.article.clone();
        let old = inner
            .pages
            .entry(key.article)
            .or_default()
            .insert((key.newest_first, key.after, key.limit), body);
        inner.page_bytes = inner.page_bytes + size - old.map_or(0, |b| page_weight(&article, &b));
    }

    /// Cached counts for these keys; the ones not known are left out.
    pub fn counts(&self, keys: &[String]) -> HashMap<String, i64> {
        let inner = self.lock();
        keys.iter()
            .filter_map(|k| inner.counts.get(k).map(|c| (k.clone(), *c)))
            .collect()
    }

    pub fn store_counts(&self, counts: &HashMap<String, i64>, epoch: Epoch) {
        let mut inner = self.lock();
        if inner.counts.len() + counts.len() > self.max_entries {
            inner.counts.clear();
        }
        for (key, count) in counts {
            if !inner.changed_since(key, epoch) {
                inner.counts.insert(key.clone(), *count);
            }
        }
    }

    /// Forgets everything about one article.
    pub fn invalidate(&self, article: &str) {
        let mut inner = self.lock();
        inner.epoch += 1;
        let epoch = inner.epoch;
        if inner.invalidated.len() >= self.max_entries {
            inner.floor = epoch;
            inner.invalidated.clear();
        }
        inner.invalidated.insert(article.to_string(), epoch);
        inner.counts.remove(article);
        if let Some(pages) = inner.pages.remove(article) {
            let freed: usize = pages.values().map(|b| page_weight(article, b)).sum();
            inner.page_bytes -= freed;
        }
    }

    /// Forgets everything (for changes that touch many articles at once).
    pub fn invalidate_all(&self) {
        let mut inner = self.lock();
        inner.epoch += 1;
        inner.floor = inner.epoch;
        inner.invalidated.clear();
        inner.pages.clear();
        inner.page_bytes = 0;
        inner.counts.clear();
    }
}

/// Memory a stored page holds beyond its bytes, estimated for a 64-bit
/// build: the article key's `String` in the outer map (24) and its slot
/// there with the inner map's header (56), the inner slot (a 24-byte page
/// position and a 32-byte `Bytes` handle), the shared buffer's header, and
/// the allocator's rounding of each.
const PAGE_OVERHEAD: usize = 192;

/// What a page counts against `cache.max_page_bytes`: everything it holds,
/// not only its body, so many small pages (empty threads) stay in budget.
fn page_weight(article: &str, body: &Bytes) -> usize {
    body.len() + article.len() + PAGE_OVERHEAD
}

impl Inner {
    fn changed_since(&self, article: &str, epoch: Epoch) -> bool {
        let last = self.invalidated.get(article).copied().unwrap_or(self.floor);
        last > epoch.0
    }
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
    use diesel::{Connection, RunQueryDsl};
    let mut conn = diesel::PgConnection::establish(url)
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

    fn key(article: &str) -> PageKey {
        PageKey {
            article: article.into(),
            newest_first: false,
            after: None,
            limit: 50,
        }
    }

    #[test]
    fn pages_are_served_until_their_article_changes() {
        let cache = PublicCache::new(1 << 20, 100);
        let epoch = cache.epoch();
        cache.store_page(key("a"), Bytes::from_static(b"page a"), epoch);
        cache.store_page(key("b"), Bytes::from_static(b"page b"), epoch);
        assert_eq!(cache.page(&key("a")).unwrap(), "page a");
        cache.invalidate("a");
        assert!(cache.page(&key("a")).is_none());
        assert_eq!(cache.page(&key("b")).unwrap(), "page b");
    }

    #[test]
    fn an_answer_computed_across_an_invalidation_is_not_stored() {
        let cache = PublicCache::new(1 << 20, 100);
        let epoch = cache.epoch(); // a read starts
        cache.invalidate("a"); // a write commits meanwhile
        cache.store_page(key("a"), Bytes::from_static(b"stale"), epoch);
        assert!(cache.page(&key("a")).is_none());
        let mut counts = HashMap::new();
        counts.insert("a".to_string(), 1);
        counts.insert("b".to_string(), 2);
        cache.store_counts(&counts, epoch);
        let known = cache.counts(&["a".to_string(), "b".to_string()]);
        assert_eq!(known.get("a"), None);
        assert_eq!(known.get("b"), Some(&2));
    }

    #[test]
    fn invalidate_all_and_forgotten_invalidations_are_safe() {
        let cache = PublicCache::new(1 << 20, 2);
        let epoch = cache.epoch();
        cache.invalidate("x");
        cache.invalidate("y"); // the third key overflows the record
        cache.invalidate("z");
        cache.store_page(key("x"), Bytes::from_static(b"stale"), epoch);
        assert!(
            cache.page(&key("x")).is_none(),
            "forgotten invalidations still count"
        );
        let later = cache.epoch();
        cache.store_page(key("x"), Bytes::from_static(b"fresh"), later);
        assert!(cache.page(&key("x")).is_some());
        cache.invalidate_all();
        assert!(cache.page(&key("x")).is_none());
    }

    #[tokio::test]
    async fn readers_missing_the_same_page_at_once_fill_it_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let cache = Arc::new(PublicCache::new(1 << 20, 100));
        let fills = Arc::new(AtomicUsize::new(0));
        let readers: Vec<_> = (0..16)
            .map(|_| {
                let (cache, fills) = (Arc::clone(&cache), Arc::clone(&fills));
                tokio::spawn(async move {
                    cache
                        .page_or_fill(key("a"), || async {
                            fills.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(20)).await;
                            Ok::<_, ()>(Bytes::from_static(b"page a"))
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
        let failed: Result<Bytes, &str> =
            cache.page_or_fill(key("a"), || async { Err("down") }).await;
        assert_eq!(failed, Err("down"));
        assert!(cache.page(&key("a")).is_none());
    }

    #[tokio::test]
    async fn counts_missing_at_once_are_fetched_once_and_only_the_missing() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let cache = Arc::new(PublicCache::new(1 << 20, 100));
        let mut known = HashMap::new();
        known.insert("a".to_string(), 3);
        cache.store_counts(&known, cache.epoch());
        let fills = Arc::new(AtomicUsize::new(0));
        let readers: Vec<_> = (0..16)
            .map(|_| {
                let (cache, fills) = (Arc::clone(&cache), Arc::clone(&fills));
                tokio::spawn(async move {
                    let keys = ["c", "a", "b", "c"].map(String::from);
                    cache
                        .counts_or_fill(&keys, |missing| async move {
                            assert_eq!(missing, ["b", "c"]);
                            fills.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(20)).await;
                            Ok::<_, ()>(missing.into_iter().map(|k| (k, 7)).collect())
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

    #[test]
    fn the_byte_budget_bounds_memory() {
        let body = Bytes::from_static(b"123456");
        let cache = PublicCache::new(2 * page_weight("a", &body) - 1, 100);
        let epoch = cache.epoch();
        cache.store_page(key("a"), body.clone(), epoch);
        cache.store_page(key("b"), body, epoch);
        assert!(cache.page(&key("a")).is_none(), "dropped to make room");
        assert!(cache.page(&key("b")).is_some());
    }

    #[test]
    fn many_small_pages_count_what_they_hold_not_only_their_bytes() {
        // An empty thread's page is about 60 bytes; 100,000 of them must
        // not fit in a 1 MB budget.
        let budget = 1_000_000;
        let cache = PublicCache::new(budget, 1_000_000);
        let epoch = cache.epoch();
        let empty =
            Bytes::from_static(br#"{"article":null,"comments":[],"next_cursor":null,"total":0}"#);
        for n in 0..100_000 {
            cache.store_page(key(&format!("empty-{n}")), empty.clone(), epoch);
        }
        let inner = cache.lock();
        let pages: usize = inner.pages.values().map(|p| p.len()).sum();
        assert!(inner.page_bytes <= budget);
        assert!(
            pages * (empty.len() + PAGE_OVERHEAD) <= budget,
            "{pages} pages kept"
        );
    }
}
