//! Load benchmark: the release server on a fresh database with a realistic
//! data set, driven over loopback by `wrk` at fixed concurrency and
//! duration, one workload after another.
//!
//! Run it with `bench/load.sh [--postgres URL] [--duration SECS]
//! [--connections N] [--quick] [--scale]` (which installs wrk if missing and
//! runs `cargo bench --bench load -- ARGS`). Steps:
//!
//! 1. A fresh database: SQLite in a temporary directory, or with
//!    `--postgres URL` a new schema in that database (dropped at the end
//!    unless `--keep`), reached through `?options=-csearch_path%3D<schema>`.
//! 2. `moderato user create` makes a moderator and a commenter; when the
//!    YouTube Spam Collection is found (`../shared/data/youtube-spam/*.csv`
//!    next to the repository, or `--data DIR`), `moderato spam train` teaches
//!    the learned scorer on it, as a site would.
//! 3. Seeding through HTTP, with many requests in flight: with
//!    `moderation.mode = none`, 100,000 approved comments over 1,000
//!    articles, a hot article with 200 approved comments in threads nested
//!    four levels, and a big article with 10,000; then, restarted with
//!    `mode = all` on the same database, 100,000 pending comments. Texts are
//!    the collection's legitimate comments (without links for the approved
//!    ones: a link gets a comment held), else synthetic text of similar
//!    lengths, each made unique with a counter. Comments the pipeline does not give the wanted status are
//!    topped up until the counts are exact.
//! 4. Restarted with `mode = none`, each workload runs under wrk
//!    (`bench/lua/workload.lua`) for the same duration and concurrency:
//!    `thread_read`, `counts`, `submit_guest`, `submit_account`,
//!    `queue_page`, `queue_search`, `login`, then the scaling cases (the
//!    first page of the 10,000-comment thread; with `--scale`, the queue
//!    with about 1,000,000 stored comments).
//! 5. For each: requests/s, p50/p99 latency, non-2xx count (counted by the
//!    Lua script), server CPU time per request (utime+stime from
//!    /proc/PID/stat) and peak RSS (VmHWM, reset through
//!    /proc/PID/clear_refs before each workload). After each submit
//!    workload, every comment acknowledged with 201 must be in the database
//!    (read directly, not through the server); a missing one fails the run.
//!
//! The Markdown table goes to stdout, with the environment line; the same
//! figures go to `target/bench/load-<backend>.json`. Progress goes to
//! stderr. Server settings for the run: flood guard off, comment, login and
//! registration limits off, log level error; everything else (argon2
//! parameters, SQLite `synchronous = full`, the spam pipeline) is the
//! default.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use clap::Parser;
use diesel::prelude::*;
use diesel::{PgConnection, SqliteConnection};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Deserialize;
use serde_json::{json, Value};

const SERVER: &str = env!("CARGO_BIN_EXE_moderato");
const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

/// Guest identities the seeded comments are spread over.
const GUESTS: u64 = 5_000;
const MODERATOR_EMAIL: &str = "moderator@bench.example";
const COMMENTER_EMAIL: &str = "commenter@bench.example";
const HOT_KEY: &str = "bench-hot";
const BIG_KEY: &str = "bench-big";

#[derive(Debug, Parser)]
#[command(
    name = "load",
    about = "Load benchmark of the moderato server under wrk (see bench/load.rs)"
)]
struct Args {
    /// Run on PostgreSQL: a fresh schema in this database (default: SQLite
    /// in a temporary directory).
    #[arg(long, value_name = "URL")]
    postgres: Option<String>,
    /// Seconds each workload runs (default 10, or 3 with --quick).
    #[arg(long, value_name = "SECS")]
    duration: Option<u64>,
    /// Connections wrk keeps open.
    #[arg(long, value_name = "N", default_value_t = 64)]
    connections: u32,
    /// wrk threads.
    #[arg(long, value_name = "N", default_value_t = 2)]
    threads: u32,
    /// Short workloads (3 s each); the data set stays the same.
    #[arg(long)]
    quick: bool,
    /// Also seed the database up to --scale-total stored comments (through
    /// HTTP, like the rest: about 6 minutes on SQLite on 2 cores) and
    /// measure the queue again.
    #[arg(long)]
    scale: bool,
    /// Stored comments to reach with --scale.
    #[arg(long, value_name = "N", default_value_t = 1_000_000)]
    scale_total: u64,
    /// Seeding requests in flight.
    #[arg(long, value_name = "N", default_value_t = 48)]
    seed_concurrency: usize,
    /// Articles with comments.
    #[arg(long, value_name = "N", default_value_t = 1_000)]
    articles: u64,
    /// Approved comments spread over the articles.
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    comments: u64,
    /// Pending comments in the moderation queue.
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    pending: u64,
    /// Approved comments in the hot article's threads.
    #[arg(long, value_name = "N", default_value_t = 200)]
    hot: u64,
    /// Approved comments in the big article (the thread-size scaling case).
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    big: u64,
    /// Folder of the YouTube Spam Collection CSVs.
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Where the JSON goes (default target/bench/load-<backend>.json).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Keep the database (temporary directory or PostgreSQL schema).
    #[arg(long)]
    keep: bool,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

fn main() {
    let args = Args::parse();
    match run(&args) {
        Ok(true) => {}
        Ok(false) => {
            eprintln!("load: FAILED: acknowledged comments are missing from the database");
            std::process::exit(1);
        }
        Err(e) => {
            eprintln!("load: error: {e:#}");
            std::process::exit(2);
        }
    }
}

fn progress(message: impl AsRef<str>) {
    eprintln!("[load] {}", message.as_ref());
}

// ---------------------------------------------------------------------------
// The database

enum Database {
    Sqlite {
        path: PathBuf,
    },
    Postgres {
        admin_url: String,
        schema: String,
        url: String,
    },
}

impl Database {
    fn backend(&self) -> &'static str {
        match self {
            Database::Sqlite { .. } => "sqlite",
            Database::Postgres { .. } => "postgres",
        }
    }

    /// The URL the server and the CLI get.
    fn url(&self) -> String {
        match self {
            Database::Sqlite { path } => format!("sqlite://{}", path.display()),
            Database::Postgres { url, .. } => url.clone(),
        }
    }

    fn create(args: &Args, dir: &Path) -> anyhow::Result<Database> {
        let Some(admin_url) = &args.postgres else {
            return Ok(Database::Sqlite {
                path: dir.join("bench.db"),
            });
        };
        let schema = format!(
            "bench_load_{}_{}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_secs(),
            std::process::id()
        );
        let mut conn = PgConnection::establish(admin_url)
            .with_context(|| format!("connecting to {admin_url}"))?;
        // Where the migrations find pg_trgm, as on a real server; created
        // from the run's own schema it would be dropped along with it.
        diesel::sql_query("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
            .execute(&mut conn)?;
        diesel::sql_query(format!("CREATE SCHEMA {schema}")).execute(&mut conn)?;
        let separator = if admin_url.contains('?') { '&' } else { '?' };
        let url = format!("{admin_url}{separator}options=-csearch_path%3D{schema}");
        Ok(Database::Postgres {
            admin_url: admin_url.clone(),
            schema,
            url,
        })
    }

    fn drop_schema(&self) -> anyhow::Result<()> {
        if let Database::Postgres {
            admin_url, schema, ..
        } = self
        {
            let mut conn = PgConnection::establish(admin_url)?;
            diesel::sql_query(format!("DROP SCHEMA {schema} CASCADE")).execute(&mut conn)?;
        }
        Ok(())
    }

    /// Bodies of stored comments containing `marker`, read directly (the
    /// SQLite file opened read-only).
    fn bodies_with(&self, marker: &str) -> anyhow::Result<Vec<String>> {
        use moderato::db::schema::comments::dsl::{body, comments};
        let pattern = format!("%{marker}%");
        Ok(match self {
            Database::Sqlite { path } => {
                let mut conn =
                    SqliteConnection::establish(&format!("file:{}?mode=ro", path.display()))?;
                comments
                    .filter(body.like(&pattern))
                    .select(body)
                    .load(&mut conn)?
            }
            Database::Postgres { url, .. } => {
                let mut conn = PgConnection::establish(url)?;
                comments
                    .filter(body.like(&pattern))
                    .select(body)
                    .load(&mut conn)?
            }
        })
    }

    /// Stored comments per status.
    fn status_counts(&self) -> anyhow::Result<BTreeMap<String, i64>> {
        use moderato::db::schema::comments::dsl::{comments, status};
        let query = comments
            .group_by(status)
            .select((status, diesel::dsl::count_star()));
        let rows: Vec<(String, i64)> = match self {
            Database::Sqlite { path } => {
                let mut conn =
                    SqliteConnection::establish(&format!("file:{}?mode=ro", path.display()))?;
                query.load(&mut conn)?
            }
            Database::Postgres { url, .. } => {
                let mut conn = PgConnection::establish(url)?;
                query.load(&mut conn)?
            }
        };
        Ok(rows.into_iter().collect())
    }

    /// On a PostgreSQL running with `autovacuum = off` (as the CI one does),
    /// the URL to ANALYZE through: without it the planner keeps the
    /// statistics of the empty tables while they grow.
    fn needs_analyze(&self) -> anyhow::Result<Option<String>> {
        let Database::Postgres { url, .. } = self else {
            return Ok(None);
        };
        let mut conn = PgConnection::establish(url)?;
        let autovacuum: String = diesel::select(diesel::dsl::sql::<diesel::sql_types::Text>(
            "current_setting('autovacuum')",
        ))
        .get_result(&mut conn)?;
        Ok((autovacuum == "off").then(|| url.clone()))
    }

    fn article_count(&self) -> anyhow::Result<i64> {
        use moderato::db::schema::articles::dsl::articles;
        Ok(match self {
            Database::Sqlite { path } => {
                let mut conn =
                    SqliteConnection::establish(&format!("file:{}?mode=ro", path.display()))?;
                articles.count().get_result(&mut conn)?
            }
            Database::Postgres { url, .. } => {
                let mut conn = PgConnection::establish(url)?;
                articles.count().get_result(&mut conn)?
            }
        })
    }
}

// ---------------------------------------------------------------------------
// The server process

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    None,
    All,
}

impl Mode {
    fn as_str(self) -> &'static str {
        match self {
            Mode::None => "none",
            Mode::All => "all",
        }
    }
}

/// The settings of every server and CLI run of the benchmark.
fn server_env(mode: Mode) -> Vec<(&'static str, &'static str)> {
    vec![
        ("MODERATO_GUARDS__FLOOD_INTERVAL", "0s"),
        ("MODERATO_COMMENTS__RATE_LIMIT__PER_IP", "0"),
        ("MODERATO_COMMENTS__RATE_LIMIT__PER_ACCOUNT", "0"),
        ("MODERATO_AUTH__LOGIN_LIMIT__PER_IP", "0"),
        ("MODERATO_AUTH__LOGIN_LIMIT__PER_EMAIL", "0"),
        ("MODERATO_AUTH__REGISTER_LIMIT__PER_IP", "0"),
        ("MODERATO_LOG__LEVEL", "error"),
        ("MODERATO_MODERATION__MODE", mode.as_str()),
    ]
}

/// A `moderato` command with the benchmark's settings and none inherited.
fn moderato(mode: Mode, workdir: &Path) -> Command {
    let mut cmd = Command::new(SERVER);
    for (key, _) in std::env::vars_os() {
        let name = key.to_string_lossy();
        if name.starts_with("MODERATO_") || name == "RUST_LOG" {
            cmd.env_remove(&key);
        }
    }
    cmd.envs(server_env(mode)).current_dir(workdir);
    cmd
}

struct Server {
    child: Child,
    pid: u32,
    base: String,
}

impl Server {
    fn start(db: &Database, mode: Mode, workdir: &Path, log: &Path) -> anyhow::Result<Server> {
        let log_file = File::options().create(true).append(true).open(log)?;
        let mut child = moderato(mode, workdir)
            .args(["serve", "--bind", "127.0.0.1:0", "--database", &db.url()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log_file)
            .spawn()
            .with_context(|| format!("starting {SERVER}"))?;
        let pid = child.id();
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        // Reads the address, then keeps draining stdout until the server exits.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(address) = line.strip_prefix("listening on http://") {
                    let _ = tx.send(address.trim().to_string());
                }
            }
        });
        let mut server = Server {
            child,
            pid,
            base: String::new(),
        };
        let address = rx.recv_timeout(Duration::from_secs(180)).map_err(|_| {
            anyhow!(
                "the server did not report its address (log: {})",
                log.display()
            )
        })?;
        let address: SocketAddr = address.parse()?;
        if !address.ip().is_loopback() {
            bail!("the server listens on {address}, not on loopback");
        }
        server.base = format!("http://{address}");
        progress(format!(
            "server pid {pid} on {} (moderation mode {})",
            server.base,
            mode.as_str()
        ));
        Ok(server)
    }

    /// SIGTERM, then waits for the graceful shutdown.
    fn stop(mut self) -> anyhow::Result<()> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                if !status.success() {
                    progress(format!("server exited with {status}"));
                }
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.child.kill()?;
        self.child.wait()?;
        bail!("the server did not stop within 60 s of SIGTERM")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// utime + stime of a process, in clock ticks.
fn cpu_ticks(pid: u32) -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may hold spaces) in parentheses:
    // state is field 3, utime 14, stime 15.
    let rest = &stat[stat.rfind(')').ok_or_else(|| anyhow!("bad stat"))? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Ok(fields[11].parse::<u64>()? + fields[12].parse::<u64>()?)
}

fn clock_ticks_per_second() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100)
}

/// Waits until the server is idle (under 2% of a core over half a second),
/// so what a workload leaves in flight (queued logins go on after wrk
/// stops) is not measured with the next one. Returns how long it waited
/// when it gave up after two minutes.
fn settle(pid: u32, ticks_per_second: u64) -> anyhow::Result<Option<f64>> {
    let started = Instant::now();
    let window = Duration::from_millis(500);
    let quiet = (ticks_per_second / 100).max(1);
    loop {
        let before = cpu_ticks(pid)?;
        std::thread::sleep(window);
        if cpu_ticks(pid)? - before <= quiet {
            let waited = started.elapsed().as_secs_f64();
            if waited > 1.0 {
                progress(format!(
                    "  (waited {waited:.1} s for the server to be idle)"
                ));
            }
            return Ok(None);
        }
        if started.elapsed() > Duration::from_secs(120) {
            return Ok(Some(started.elapsed().as_secs_f64()));
        }
    }
}

/// Busy and total clock ticks of the whole machine (all cores), from the
/// first line of /proc/stat: to see how much else ran during a workload.
fn machine_ticks() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    let total: u64 = fields.iter().take(8).sum();
    let idle = fields.get(3).copied().unwrap_or(0) + fields.get(4).copied().unwrap_or(0);
    (total - idle, total)
}

/// What autovacuum would do: fresh planner statistics for the tables the
/// benchmark fills.
fn analyze_postgres(url: &str) -> anyhow::Result<()> {
    let mut conn = PgConnection::establish(url)?;
    diesel::sql_query("ANALYZE comments, articles, users, sessions").execute(&mut conn)?;
    Ok(())
}

/// Resets the peak RSS (VmHWM) of a process; false when not permitted.
fn reset_peak_rss(pid: u32) -> bool {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok()
}

fn status_kib(pid: u32, field: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| anyhow!("no {field} in /proc/{pid}/status"))
}

// ---------------------------------------------------------------------------
// Texts

struct Texts {
    /// Legitimate comments without links (a link gets a comment held by the
    /// default pipeline): the approved ones and the submit workloads.
    ham: Vec<String>,
    /// Every legitimate comment, links included: the moderation queue. (The
    /// collection's spam would mostly be stored as spam, out of the queue,
    /// doubling the requests needed to fill it.)
    queue: Vec<String>,
    source: String,
}

fn default_data_dir() -> PathBuf {
    Path::new(MANIFEST_DIR).join("../shared/data/youtube-spam")
}

fn load_texts(dir: &Path, rng: &mut StdRng) -> anyhow::Result<Texts> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "csv"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let usable = |t: &str| moderato::domain::CommentBody::parse(t, 60_000).is_ok();
    if !files.is_empty() {
        let samples = moderato::spam::eval::load_all(&files).map_err(anyhow::Error::msg)?;
        let all = samples.iter().filter(|s| usable(&s.text)).count();
        let queue: Vec<String> = samples
            .iter()
            .filter(|s| !s.spam)
            .map(|s| s.text.trim().to_string())
            .filter(|t| usable(t))
            .collect();
        let ham: Vec<String> = queue
            .iter()
            .filter(|t| {
                let lower = t.to_lowercase();
                !lower.contains("http") && !lower.contains("www.") && !lower.contains(".com")
            })
            .cloned()
            .collect();
        if !ham.is_empty() {
            return Ok(Texts {
                source: format!(
                    "YouTube Spam Collection ({} files, {all} comments, {} ham, {} ham without links)",
                    files.len(),
                    queue.len(),
                    ham.len()
                ),
                ham,
                queue,
            });
        }
    }
    let all: Vec<String> = (0..4000).map(|_| synthetic_text(rng)).collect();
    Ok(Texts {
        source: format!(
            "synthetic ({} texts; {} not found)",
            all.len(),
            dir.display()
        ),
        ham: all.clone(),
        queue: all,
    })
}

/// Text whose length follows the collection's rough shape: a median near
/// 50 characters and a long tail (log-normal, clamped to 3..2,000).
fn synthetic_text(rng: &mut StdRng) -> String {
    const WORDS: &[&str] = &[
        "the",
        "song",
        "love",
        "this",
        "video",
        "really",
        "great",
        "music",
        "best",
        "ever",
        "listen",
        "every",
        "day",
        "still",
        "amazing",
        "voice",
        "dance",
        "year",
        "who",
        "here",
        "watching",
        "remember",
        "when",
        "first",
        "time",
        "heard",
        "beautiful",
        "awesome",
        "good",
        "people",
        "like",
        "comment",
        "thanks",
        "sharing",
        "post",
        "agree",
        "think",
        "about",
        "article",
        "point",
        "because",
        "never",
        "always",
        "better",
        "part",
        "world",
        "make",
        "know",
        "right",
        "sound",
        "lyrics",
        "chorus",
        "guitar",
        "drums",
        "favourite",
        "summer",
    ];
    let normal: f64 = {
        let (u1, u2): (f64, f64) = (rng.gen_range(1e-9..1.0), rng.gen());
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    };
    let length = (50.0 * (normal * 0.9).exp()).clamp(3.0, 2000.0) as usize;
    let mut text = String::new();
    while text.len() < length {
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(WORDS[rng.gen_range(0..WORDS.len())]);
    }
    text
}

/// A word found in about 2% of the queue's texts (and in no name or email
/// the benchmark makes up), for the queue search.
fn search_word(texts: &[String]) -> (String, f64) {
    let mut documents: HashMap<String, usize> = HashMap::new();
    for text in texts {
        let words: HashSet<String> = text
            .split(|c: char| !c.is_alphabetic())
            .filter(|w| w.chars().count() >= 4)
            .map(str::to_lowercase)
            .collect();
        for word in words {
            *documents.entry(word).or_default() += 1;
        }
    }
    let invented =
        "bench-guest reader@example.com load-guest commenter moderator blog.example posts article";
    let total = texts.len().max(1) as f64;
    documents
        .into_iter()
        .filter(|(w, _)| !invented.contains(w.as_str()))
        .map(|(w, n)| (w, n as f64 / total))
        .min_by(|a, b| {
            (a.1 - 0.02)
                .abs()
                .total_cmp(&(b.1 - 0.02).abs())
                .then_with(|| a.0.cmp(&b.0))
        })
        .unwrap_or_else(|| ("song".to_string(), 0.0))
}

// ---------------------------------------------------------------------------
// Seeding through HTTP

#[derive(Debug, Clone)]
struct Job {
    key: String,
    body: String,
    guest: u64,
    parent: Option<i64>,
}

#[derive(Debug)]
enum Outcome {
    Stored { id: i64, status: String },
    Refused { status: u16, text: String },
}

#[derive(Deserialize)]
struct Created {
    id: i64,
    status: String,
}

#[derive(Debug, Default, Clone)]
struct SeedStats {
    submitted: u64,
    statuses: BTreeMap<String, u64>,
    refused: u64,
    retries: u64,
    seconds: f64,
}

impl SeedStats {
    fn add(&mut self, other: &SeedStats) {
        self.submitted += other.submitted;
        for (status, n) in &other.statuses {
            *self.statuses.entry(status.clone()).or_default() += n;
        }
        self.refused += other.refused;
        self.retries += other.retries;
        self.seconds += other.seconds;
    }

    fn rate(&self) -> f64 {
        self.submitted as f64 / self.seconds.max(1e-9)
    }

    fn json(&self, phase: &str) -> Value {
        json!({
            "phase": phase,
            "requests": self.submitted,
            "statuses": self.statuses,
            "refused": self.refused,
            "retries": self.retries,
            "seconds": round(self.seconds, 1),
            "comments_per_second": round(self.rate(), 1),
        })
    }
}

struct Seeder {
    client: reqwest::Client,
    base: String,
    concurrency: usize,
    counter: u64,
    rng: StdRng,
    /// PostgreSQL to ANALYZE every 10 s while seeding (autovacuum off).
    analyze: Option<String>,
}

fn article_key(i: u64) -> String {
    format!("bench-a-{i:04}")
}

impl Seeder {
    fn body(&mut self, texts: &[String], tag: &str) -> String {
        self.counter += 1;
        let text = &texts[self.rng.gen_range(0..texts.len())];
        format!("{text} ({tag}{})", self.counter)
    }

    /// An article index skewed towards the first ones (a few popular
    /// articles, a long tail), every article getting one comment first.
    fn article(&mut self, n: u64, articles: u64) -> u64 {
        if n < articles {
            n
        } else {
            let u: f64 = self.rng.gen();
            ((u * u * articles as f64) as u64).min(articles - 1)
        }
    }

    /// Submits until `target` comments got `wanted` status (topping up what
    /// the pipeline decided otherwise), returning their ids.
    async fn seed_until(
        &mut self,
        label: &str,
        target: u64,
        wanted: &str,
        mut make_job: impl FnMut(&mut Seeder, u64) -> Job,
    ) -> anyhow::Result<(Vec<i64>, SeedStats)> {
        let mut ids = Vec::with_capacity(target as usize);
        let mut stats = SeedStats::default();
        let mut made = 0u64;
        for round in 0..10 {
            let missing = target - ids.len() as u64;
            if missing == 0 {
                break;
            }
            let jobs: Vec<Job> = (0..missing)
                .map(|_| {
                    made += 1;
                    make_job(self, made - 1)
                })
                .collect();
            let (outcomes, round_stats) = self.run(label, jobs).await?;
            stats.add(&round_stats);
            let before = ids.len();
            for outcome in outcomes {
                if let Outcome::Stored { id, status } = outcome {
                    if status == wanted {
                        ids.push(id);
                    }
                }
            }
            if ids.len() == before {
                bail!("{label}: round {round} stored no {wanted} comment");
            }
        }
        if (ids.len() as u64) < target {
            bail!(
                "{label}: only {} of {target} comments are {wanted}",
                ids.len()
            );
        }
        Ok((ids, stats))
    }

    /// Submits until `measure` of the stored comments (read from the
    /// database, not from the answers: an author is shown their comment as
    /// pending when the pipeline made it spam) reaches `target`. Rounds
    /// after the first send what the last one's yield says is missing.
    async fn seed_to_count(
        &mut self,
        label: &str,
        db: &Database,
        target: i64,
        measure: impl Fn(&BTreeMap<String, i64>) -> i64,
        mut make_job: impl FnMut(&mut Seeder, u64) -> Job,
    ) -> anyhow::Result<SeedStats> {
        let mut stats = SeedStats::default();
        let mut made = 0u64;
        let mut yield_rate = 1.0f64;
        for round in 0..40 {
            let before = measure(&db.status_counts()?);
            let missing = target - before;
            if missing <= 0 {
                return Ok(stats);
            }
            let count = if round > 0 && missing > 500 {
                (missing as f64 / yield_rate * 0.99) as u64
            } else {
                missing as u64
            }
            .max(1);
            let jobs: Vec<Job> = (0..count)
                .map(|_| {
                    made += 1;
                    make_job(self, made - 1)
                })
                .collect();
            let (_, round_stats) = self.run(label, jobs).await?;
            stats.add(&round_stats);
            let gained = measure(&db.status_counts()?) - before;
            if gained <= 0 {
                bail!("{label}: round {round} added nothing");
            }
            yield_rate = gained as f64 / count as f64;
        }
        bail!("{label}: {target} not reached in 40 rounds")
    }

    /// Sends every job with `concurrency` requests in flight.
    async fn run(&self, label: &str, jobs: Vec<Job>) -> anyhow::Result<(Vec<Outcome>, SeedStats)> {
        let started = Instant::now();
        let total = jobs.len();
        let jobs = Arc::new(jobs);
        let next = Arc::new(AtomicUsize::new(0));
        let done = Arc::new(AtomicUsize::new(0));
        let retries = Arc::new(AtomicU64::new(0));
        let mut workers = Vec::with_capacity(self.concurrency);
        for _ in 0..self.concurrency {
            let (jobs, next, done, retries) =
                (jobs.clone(), next.clone(), done.clone(), retries.clone());
            let (client, base) = (self.client.clone(), self.base.clone());
            workers.push(tokio::spawn(async move {
                let mut outcomes = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(i) else { break };
                    let outcome = submit(&client, &base, job, &retries).await?;
                    outcomes.push((i, outcome));
                    done.fetch_add(1, Ordering::Relaxed);
                }
                Ok::<_, anyhow::Error>(outcomes)
            }));
        }
        let analyzer = self.analyze.clone().map(|url| {
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs(10));
                tick.tick().await;
                loop {
                    tick.tick().await;
                    let url = url.clone();
                    let _ = tokio::task::spawn_blocking(move || analyze_postgres(&url)).await;
                }
            })
        });
        let reporter = {
            let (done, label) = (done.clone(), label.to_string());
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs(15));
                tick.tick().await;
                loop {
                    tick.tick().await;
                    let n = done.load(Ordering::Relaxed);
                    let secs = started.elapsed().as_secs_f64();
                    progress(format!(
                        "{label}: {n}/{total} ({:.0}/s)",
                        n as f64 / secs.max(1e-9)
                    ));
                }
            })
        };
        let mut all = Vec::with_capacity(total);
        for worker in workers {
            all.extend(worker.await??);
        }
        reporter.abort();
        if let Some(analyzer) = analyzer {
            analyzer.abort();
            let url = self.analyze.clone().unwrap_or_default();
            tokio::task::spawn_blocking(move || analyze_postgres(&url)).await??;
        }
        all.sort_by_key(|(i, _)| *i);
        let mut stats = SeedStats {
            submitted: total as u64,
            retries: retries.load(Ordering::Relaxed),
            seconds: started.elapsed().as_secs_f64(),
            ..SeedStats::default()
        };
        let mut shown = 0;
        let outcomes: Vec<Outcome> = all.into_iter().map(|(_, o)| o).collect();
        for outcome in &outcomes {
            match outcome {
                Outcome::Stored { status, .. } => {
                    *stats.statuses.entry(status.clone()).or_default() += 1
                }
                Outcome::Refused { status, text } => {
                    stats.refused += 1;
                    if shown < 3 {
                        shown += 1;
                        progress(format!("{label}: refused with {status}: {text}"));
                    }
                }
            }
        }
        progress(format!(
            "{label}: {total} comments in {:.1} s ({:.0}/s), {:?}, {} refused, {} retries",
            stats.seconds,
            stats.rate(),
            stats.statuses,
            stats.refused,
            stats.retries
        ));
        Ok((outcomes, stats))
    }
}

/// One comment through `POST /articles/{key}/comments`, retrying what a busy
/// server may answer (429, 503, a dropped connection) a few times.
async fn submit(
    client: &reqwest::Client,
    base: &str,
    job: &Job,
    retries: &AtomicU64,
) -> anyhow::Result<Outcome> {
    let mut payload = json!({
        "body": job.body,
        "author": {
            "name": format!("Reader {}", job.guest),
            "email": format!("reader{}@bench.example", job.guest),
        },
        "article": {
            "title": format!("Article {}", job.key),
            "url": format!("https://blog.example/posts/{}/", job.key),
        },
    });
    if let Some(parent) = job.parent {
        payload["parent_id"] = json!(parent);
    }
    let url = format!("{base}/api/v1/articles/{}/comments", job.key);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let answer = client.post(&url).json(&payload).send().await;
        let retry = match answer {
            Ok(response) => {
                let status = response.status().as_u16();
                if status == 201 {
                    let created: Created = response.json().await?;
                    return Ok(Outcome::Stored {
                        id: created.id,
                        status: created.status,
                    });
                }
                let text = response.text().await.unwrap_or_default();
                if !matches!(status, 429 | 503) || attempt >= 6 {
                    return Ok(Outcome::Refused { status, text });
                }
                format!("{status}")
            }
            Err(e) if attempt < 6 => e.to_string(),
            Err(e) => return Err(e.into()),
        };
        retries.fetch_add(1, Ordering::Relaxed);
        if attempt == 1 {
            progress(format!("retrying a comment after: {retry}"));
        }
        tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
    }
}

/// Comments in threads: `waves[0]` top-level, then each wave replies to
/// comments of the one before, so replies nest `waves.len() - 1` deep.
async fn seed_thread(
    seeder: &mut Seeder,
    texts: &[String],
    key: &str,
    waves: &[u64],
) -> anyhow::Result<SeedStats> {
    let mut stats = SeedStats::default();
    let mut parents: Vec<i64> = Vec::new();
    for (depth, &count) in waves.iter().enumerate() {
        let previous = parents.clone();
        let label = format!("{key} depth {depth}");
        let (ids, wave) = seeder
            .seed_until(&label, count, "approved", |s, _| Job {
                key: key.to_string(),
                body: s.body(texts, "t"),
                guest: s.rng.gen_range(0..GUESTS),
                parent: (!previous.is_empty())
                    .then(|| previous[s.rng.gen_range(0..previous.len())]),
            })
            .await?;
        stats.add(&wave);
        parents = ids;
    }
    Ok(stats)
}

/// Waves adding up to `total`: about 60% top-level, then replies 3 deep.
fn thread_waves(total: u64) -> Vec<u64> {
    let top = (total * 30 / 100).max(1);
    let one = total * 35 / 100;
    let two = total * 22 / 100;
    let three = total.saturating_sub(top + one + two);
    vec![top, one, two, three]
        .into_iter()
        .filter(|n| *n > 0)
        .collect()
}

async fn login(
    client: &reqwest::Client,
    base: &str,
    email: &str,
    password: &str,
) -> anyhow::Result<String> {
    let response = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await?;
    let status = response.status();
    let body: Value = response.json().await?;
    body["token"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| anyhow!("login of {email} answered {status}: {body}"))
}

// ---------------------------------------------------------------------------
// Workloads under wrk

#[derive(Debug, Clone)]
enum Kind {
    Get,
    Login { body_file: PathBuf },
    Submit { guest: bool, marker: String },
}

#[derive(Debug, Clone)]
struct Workload {
    name: String,
    path: String,
    token: Option<String>,
    /// Sends the token as the console's session cookie instead (the
    /// console's pages), not as a bearer token.
    as_console: bool,
    kind: Kind,
    /// Connections for this workload when not the run's (moderators are
    /// few: their queue is also measured at moderator-like concurrency).
    connections: Option<u32>,
}

#[derive(Debug, Default)]
struct Measured {
    name: String,
    method: &'static str,
    path: String,
    requests: u64,
    seconds: f64,
    rps: f64,
    p50_us: u64,
    p90_us: u64,
    p99_us: u64,
    mean_us: f64,
    max_us: u64,
    statuses: BTreeMap<u16, u64>,
    non_2xx: u64,
    wrk_non_2xx_3xx: u64,
    socket_errors: [u64; 5],
    cpu_us_per_request: f64,
    cpu_seconds: f64,
    peak_rss_kib: u64,
    peak_rss_reset: bool,
    /// Cores busy on the whole machine during the run, and those the
    /// server used; the rest is wrk and whatever else was running.
    machine_busy_cores: f64,
    server_cores: f64,
    acks: Vec<String>,
    note: String,
}

impl Measured {
    fn json(&self) -> Value {
        json!({
            "workload": self.name,
            "method": self.method,
            "path": self.path,
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "requests_per_second": round(self.rps, 1),
            "latency_ms": {
                "p50": round(self.p50_us as f64 / 1000.0, 3),
                "p90": round(self.p90_us as f64 / 1000.0, 3),
                "p99": round(self.p99_us as f64 / 1000.0, 3),
                "mean": round(self.mean_us / 1000.0, 3),
                "max": round(self.max_us as f64 / 1000.0, 3),
            },
            "statuses": self.statuses.iter().map(|(k, v)| (k.to_string(), *v)).collect::<BTreeMap<_, _>>(),
            "non_2xx": self.non_2xx,
            "wrk_non_2xx_or_3xx": self.wrk_non_2xx_3xx,
            "wrk_errors": {
                "connect": self.socket_errors[0],
                "read": self.socket_errors[1],
                "write": self.socket_errors[2],
                "status_4xx_5xx": self.socket_errors[3],
                "timeout": self.socket_errors[4],
            },
            "server_cpu_seconds": round(self.cpu_seconds, 3),
            "server_cpu_us_per_request": round(self.cpu_us_per_request, 1),
            "server_peak_rss_mb": round(self.peak_rss_kib as f64 / 1024.0, 1),
            "peak_rss_reset": self.peak_rss_reset,
            "machine_busy_cores": round(self.machine_busy_cores, 2),
            "server_cores": round(self.server_cores, 2),
            "note": self.note,
        })
    }

    fn row(&self) -> String {
        let rss = format!(
            "{:.1}{}",
            self.peak_rss_kib as f64 / 1024.0,
            if self.peak_rss_reset {
                ""
            } else {
                " (cumulative)"
            }
        );
        let mut non_2xx = self.non_2xx.to_string();
        // wrk's `status` error count is the responses of status 400 and
        // up, already counted in non-2xx: only the others are socket errors.
        let socket: u64 = [0, 1, 2, 4].iter().map(|&i| self.socket_errors[i]).sum();
        if socket > 0 {
            non_2xx.push_str(&format!(" (+{socket} socket errors)"));
        }
        format!(
            "| {} | {:.1} | {} | {} | {} | {:.0} | {} |",
            self.name,
            self.rps,
            ms(self.p50_us),
            ms(self.p99_us),
            non_2xx,
            self.cpu_us_per_request,
            rss
        )
    }
}

fn ms(us: u64) -> String {
    if us >= 100_000 {
        format!("{:.0} ms", us as f64 / 1000.0)
    } else {
        format!("{:.2} ms", us as f64 / 1000.0)
    }
}

fn round(value: f64, digits: i32) -> f64 {
    let factor = 10f64.powi(digits);
    (value * factor).round() / factor
}

struct Runner {
    connections: u32,
    threads: u32,
    duration: u64,
    script: PathBuf,
    texts_file: PathBuf,
    articles: u64,
    ticks: u64,
    raw_dir: PathBuf,
    backend: &'static str,
}

impl Runner {
    fn run(&self, server: &Server, workload: &Workload) -> anyhow::Result<Measured> {
        let connections = workload.connections.unwrap_or(self.connections);
        progress(format!(
            "workload {}: {} s, {} connections",
            workload.name, self.duration, connections
        ));
        let mut cmd = Command::new("wrk");
        cmd.arg(format!("-t{}", self.threads.min(connections)))
            .arg(format!("-c{connections}"))
            .arg(format!("-d{}s", self.duration))
            .args(["--timeout", "60s", "--latency", "-s"])
            .arg(&self.script);
        match (&workload.token, workload.as_console) {
            (Some(token), false) => {
                cmd.args(["-H", &format!("Authorization: Bearer {token}")]);
            }
            (Some(token), true) => {
                cmd.args(["-H", &format!("Cookie: moderato_console={token}")]);
            }
            (None, _) => {}
        }
        cmd.arg(format!("{}{}", server.base, workload.path))
            .arg("--");
        let (method, marker) = match &workload.kind {
            Kind::Get => {
                cmd.arg("get");
                ("GET", None)
            }
            Kind::Login { body_file } => {
                cmd.arg("login").arg(body_file);
                ("POST", None)
            }
            Kind::Submit { guest, marker } => {
                cmd.arg("submit")
                    .arg(if *guest { "guest" } else { "account" })
                    .arg(&self.texts_file)
                    .arg(marker)
                    .arg(self.articles.to_string())
                    .arg("/api/v1/articles/bench-a-");
                ("POST", Some(marker.clone()))
            }
        };
        let settled = settle(server.pid, self.ticks)?;
        let peak_rss_reset = reset_peak_rss(server.pid);
        let cpu_before = cpu_ticks(server.pid)?;
        let machine_before = machine_ticks();
        let output = cmd
            .stdin(Stdio::null())
            .output()
            .context("running wrk (is it installed? bench/load.sh installs it)")?;
        let cpu_after = cpu_ticks(server.pid)?;
        let machine_after = machine_ticks();
        let peak_rss_kib = status_kib(server.pid, "VmHWM:")?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            bail!(
                "wrk failed ({}): {}{}",
                output.status,
                stdout,
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let mut m = Measured {
            name: workload.name.clone(),
            method,
            path: workload.path.clone(),
            peak_rss_kib,
            peak_rss_reset,
            ..Measured::default()
        };
        let mut raw = String::new();
        for line in stdout.lines() {
            let Some(fact) = line.strip_prefix("@@ ") else {
                raw.push_str(line);
                raw.push('\n');
                if let Some(n) = line.trim().strip_prefix("Non-2xx or 3xx responses:") {
                    m.wrk_non_2xx_3xx = n.trim().parse().unwrap_or(0);
                }
                continue;
            };
            let parts: Vec<&str> = fact.split_whitespace().collect();
            let num = |i: usize| {
                parts
                    .get(i)
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0)
            };
            match parts.first().copied() {
                Some("ack") => m.acks.push(parts.get(1).unwrap_or(&"?").to_string()),
                Some("status") => {
                    m.statuses.insert(num(1) as u16, num(2));
                }
                Some("requests") => m.requests = num(1),
                Some("duration_us") => m.seconds = num(1) as f64 / 1e6,
                Some("errors") => {
                    m.socket_errors = [num(1), num(2), num(3), num(4), num(5)];
                }
                Some("latency_p50_us") => m.p50_us = num(1),
                Some("latency_p90_us") => m.p90_us = num(1),
                Some("latency_p99_us") => m.p99_us = num(1),
                Some("latency_mean_us") => {
                    m.mean_us = parts.get(1).and_then(|v| v.parse().ok()).unwrap_or(0.0)
                }
                Some("latency_max_us") => m.max_us = num(1),
                _ => {}
            }
        }
        std::fs::write(
            self.raw_dir
                .join(format!("wrk-{}-{}.txt", self.backend, workload.name)),
            &raw,
        )?;
        m.rps = m.requests as f64 / m.seconds.max(1e-9);
        m.non_2xx = m
            .statuses
            .iter()
            .filter(|(s, _)| !(200..300).contains(*s))
            .map(|(_, n)| n)
            .sum();
        let answered: u64 = m.statuses.values().sum();
        if answered != m.requests {
            m.note = format!(
                "wrk counted {} requests, the script {answered} responses",
                m.requests
            );
        }
        if let Some(busy) = settled {
            m.note.push_str(&format!(
                "{}the server was still busy {busy:.0} s after the previous workload",
                if m.note.is_empty() { "" } else { "; " }
            ));
        }
        m.cpu_seconds = (cpu_after - cpu_before) as f64 / self.ticks as f64;
        m.cpu_us_per_request = m.cpu_seconds * 1e6 / (m.requests.max(1) as f64);
        let busy = (machine_after.0 - machine_before.0) as f64;
        let total = (machine_after.1 - machine_before.1).max(1) as f64;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
        m.machine_busy_cores = busy / total * cores;
        m.server_cores = m.cpu_seconds / m.seconds.max(1e-9);
        if marker.is_none() {
            m.acks.clear();
        }
        progress(format!(
            "  {:.1} req/s, p50 {}, p99 {}, statuses {:?}, {:.0} µs CPU/req, peak RSS {:.1} MB; cores busy: server {:.2}, machine {:.2}",
            m.rps,
            ms(m.p50_us),
            ms(m.p99_us),
            m.statuses,
            m.cpu_us_per_request,
            m.peak_rss_kib as f64 / 1024.0,
            m.server_cores,
            m.machine_busy_cores
        ));
        Ok(m)
    }
}

/// Every comment acknowledged with 201 must be stored, found by its tag.
fn durability_check(
    db: &Database,
    m: &Measured,
    marker: &str,
) -> anyhow::Result<(bool, Value, String)> {
    let created = m.statuses.get(&201).copied().unwrap_or(0);
    let bodies = db.bodies_with(marker)?;
    let stored: HashSet<String> = bodies
        .iter()
        .filter_map(|b| {
            let start = b.find(marker)?;
            let tag: String = b[start..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            Some(tag)
        })
        .collect();
    let acked: HashSet<&String> = m.acks.iter().collect();
    let unreadable = m.acks.iter().filter(|t| t.as_str() == "?").count();
    let missing = acked
        .iter()
        .filter(|t| t.as_str() != "?" && !stored.contains(t.as_str()))
        .count();
    let unacknowledged = stored.iter().filter(|t| !acked.contains(t)).count();
    let ok = missing == 0
        && unreadable == 0
        && m.acks.len() as u64 == created
        && acked.len() == m.acks.len();
    let line = format!(
        "durability {}: {} acknowledged with 201, {} with the run's marker in the database, {} missing, {} stored but unacknowledged (in flight when wrk stopped) -> {}",
        m.name,
        created,
        stored.len(),
        missing,
        unacknowledged,
        if ok { "OK" } else { "FAILED" }
    );
    let value = json!({
        "workload": m.name,
        "marker": marker,
        "acknowledged_201": created,
        "stored_with_marker": stored.len(),
        "missing": missing,
        "stored_unacknowledged": unacknowledged,
        "ok": ok,
    });
    Ok((ok, value, line))
}

// ---------------------------------------------------------------------------
// The run

fn run(args: &Args) -> anyhow::Result<bool> {
    let run_started = Instant::now();
    let duration = args.duration.unwrap_or(if args.quick { 3 } else { 10 });
    if args.articles == 0 || args.articles > 10_000 {
        bail!("--articles must be between 1 and 10000");
    }
    let tmp = tempfile::Builder::new()
        .prefix("moderato-load-")
        .tempdir()?;
    let workdir = tmp.path().to_path_buf();
    let log = workdir.join("server.log");
    let db = Database::create(args, &workdir)?;
    let backend = db.backend();
    progress(format!(
        "backend {backend}, database {}, work dir {}",
        db.url(),
        workdir.display()
    ));
    let result = run_on(args, &db, &workdir, &log, duration, run_started);
    if args.keep {
        let _ = tmp.keep();
        progress(format!("kept {} and the database", workdir.display()));
    } else if let Err(e) = db.drop_schema() {
        progress(format!("could not drop the schema: {e:#}"));
    }
    result
}

fn run_on(
    args: &Args,
    db: &Database,
    workdir: &Path,
    log: &Path,
    duration: u64,
    run_started: Instant,
) -> anyhow::Result<bool> {
    let backend = db.backend();
    let load_average = std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    let mut rng = StdRng::seed_from_u64(20_261_129);
    let data_dir = args.data.clone().unwrap_or_else(default_data_dir);
    let texts = load_texts(&data_dir, &mut rng)?;
    progress(format!("texts: {}", texts.source));

    // Accounts, and the learned scorer trained as a site would.
    let password = {
        let bytes: [u8; 18] = rng.gen();
        hex::encode(bytes)
    };
    for (email, name, role) in [
        (MODERATOR_EMAIL, "Bench Moderator", "moderator"),
        (COMMENTER_EMAIL, "Bench Commenter", "commenter"),
    ] {
        let mut child = moderato(Mode::None, workdir)
            .args([
                "user", "create", "--email", email, "--name", name, "--role", role,
            ])
            .args(["--password-stdin", "--database", &db.url()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        child
            .stdin
            .take()
            .expect("piped stdin")
            .write_all(format!("{password}\n").as_bytes())?;
        let output = child.wait_with_output()?;
        check_cli(&output, "created ", &format!("user create {email}"))?;
    }
    let mut csvs: Vec<PathBuf> = std::fs::read_dir(&data_dir)
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    csvs.retain(|p| p.extension().is_some_and(|e| e == "csv"));
    csvs.sort();
    let trained = !csvs.is_empty();
    if trained {
        let output = moderato(Mode::None, workdir)
            .args(["spam", "train"])
            .args(&csvs)
            .args(["--database", &db.url()])
            .output()?;
        check_cli(&output, "learned ", "spam train")?;
    }

    let analyze = db.needs_analyze()?;
    if analyze.is_some() {
        progress("PostgreSQL runs with autovacuum = off: ANALYZE every 10 s while seeding and before the workloads, as autovacuum would");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.seed_concurrency * 2)
        .timeout(Duration::from_secs(120))
        .build()?;
    let mut seeder = Seeder {
        client: client.clone(),
        base: String::new(),
        concurrency: args.seed_concurrency,
        counter: 0,
        rng: StdRng::seed_from_u64(7),
        analyze: analyze.clone(),
    };
    let mut seeding: Vec<Value> = Vec::new();
    let mut seed_total = SeedStats::default();

    // Phase 1: approved comments, `moderation.mode = none`.
    let seed_started = Instant::now();
    let server = Server::start(db, Mode::None, workdir, log)?;
    seeder.base = server.base.clone();
    let articles = args.articles;
    let ham = texts.ham.clone();
    let spread = runtime.block_on(async {
        seeder
            .seed_until("approved comments", args.comments, "approved", |s, n| Job {
                key: article_key(s.article(n, articles)),
                body: s.body(&ham, "a"),
                guest: s.rng.gen_range(0..GUESTS),
                parent: None,
            })
            .await
    })?;
    seeding.push(spread.1.json("approved comments over the articles"));
    seed_total.add(&spread.1);
    let hot = runtime.block_on(seed_thread(
        &mut seeder,
        &ham,
        HOT_KEY,
        &thread_waves(args.hot),
    ))?;
    seeding.push(hot.json("hot article threads"));
    seed_total.add(&hot);
    let big = runtime.block_on(seed_thread(
        &mut seeder,
        &ham,
        BIG_KEY,
        &thread_waves(args.big),
    ))?;
    seeding.push(big.json("big article threads"));
    seed_total.add(&big);
    server.stop()?;

    // Phase 2: the moderation queue, `moderation.mode = all`.
    let server = Server::start(db, Mode::All, workdir, log)?;
    seeder.base = server.base.clone();
    let queue = texts.queue.clone();
    let pending_status = |c: &BTreeMap<String, i64>| c.get("pending").copied().unwrap_or(0);
    let pending = runtime.block_on(async {
        seeder
            .seed_to_count(
                "pending comments",
                db,
                args.pending as i64,
                pending_status,
                |s, n| Job {
                    key: article_key(s.article(n, articles)),
                    body: s.body(&queue, "p"),
                    guest: s.rng.gen_range(0..GUESTS),
                    parent: None,
                },
            )
            .await
    })?;
    seeding.push(pending.json("pending comments for the moderation queue (mode all)"));
    seed_total.add(&pending);
    server.stop()?;
    let seed_seconds = seed_started.elapsed().as_secs_f64();
    let stored = db.status_counts()?;
    let stored_total: i64 = stored.values().sum();
    let article_rows = db.article_count()?;
    progress(format!(
        "seeded {} comments in {seed_seconds:.0} s ({:.0}/s including restarts); stored: {stored:?}, {article_rows} articles",
        seed_total.submitted,
        seed_total.submitted as f64 / seed_seconds
    ));

    if let Some(url) = &analyze {
        analyze_postgres(url)?;
    }

    // Phase 3: the workloads, `moderation.mode = none`.
    let server = Server::start(db, Mode::None, workdir, log)?;
    let (moderator_token, commenter_token) = runtime.block_on(async {
        Ok::<_, anyhow::Error>((
            login(&client, &server.base, MODERATOR_EMAIL, &password).await?,
            login(&client, &server.base, COMMENTER_EMAIL, &password).await?,
        ))
    })?;
    let raw_dir = Path::new(MANIFEST_DIR).join("target/bench");
    std::fs::create_dir_all(&raw_dir)?;
    let texts_file = workdir.join("texts.jsonl");
    {
        let mut out = std::io::BufWriter::new(File::create(&texts_file)?);
        for text in &texts.ham {
            let quoted = serde_json::to_string(text)?;
            writeln!(out, "{}", &quoted[1..quoted.len() - 1])?;
        }
    }
    let login_body = workdir.join("login.json");
    std::fs::write(
        &login_body,
        json!({"email": COMMENTER_EMAIL, "password": password}).to_string(),
    )?;
    let (word, share) = search_word(&texts.queue);
    progress(format!(
        "queue search word: {word:?} (in {:.1}% of the queue's texts)",
        share * 100.0
    ));
    let runner = Runner {
        connections: args.connections,
        threads: args.threads,
        duration,
        script: Path::new(MANIFEST_DIR).join("bench/lua/workload.lua"),
        texts_file,
        articles,
        ticks: clock_ticks_per_second(),
        raw_dir: raw_dir.clone(),
        backend,
    };
    let run_id: String = {
        let n: u32 = rng.gen();
        format!("{n:08x}")
    };
    let count_keys: Vec<String> = (0..20)
        .map(|i| format!("article={}", article_key(i * articles / 20)))
        .collect();
    let get = |name: &str, path: String, token: Option<&String>| Workload {
        name: name.to_string(),
        path,
        token: token.cloned(),
        as_console: false,
        kind: Kind::Get,
        connections: None,
    };
    let few = |workload: Workload| Workload {
        name: format!("{}_4c", workload.name),
        connections: Some(4),
        ..workload
    };
    // The console's queue page: the same page of 50 as HTML, one moderator
    // (one connection: its latency is the server's time) and four.
    let console = |name: &str, connections: u32| Workload {
        name: format!("{name}_{connections}c"),
        path: "/admin/?status=pending".into(),
        token: Some(moderator_token.clone()),
        as_console: true,
        kind: Kind::Get,
        connections: Some(connections),
    };
    let queue_path = "/api/v1/moderation/comments?status=pending&limit=50".to_string();
    let search_path = format!("{queue_path}&q={word}");
    let workloads = vec![
        get(
            "thread_read",
            format!("/api/v1/articles/{HOT_KEY}/comments?limit=50"),
            None,
        ),
        get(
            "counts",
            format!("/api/v1/counts?{}", count_keys.join("&")),
            None,
        ),
        Workload {
            name: "submit_guest".into(),
            path: "/api/v1/articles/bench-a-0000/comments".into(),
            token: None,
            as_console: false,
            kind: Kind::Submit {
                guest: true,
                marker: format!("lg{run_id}"),
            },
            connections: None,
        },
        Workload {
            name: "submit_account".into(),
            path: "/api/v1/articles/bench-a-0000/comments".into(),
            token: Some(commenter_token.clone()),
            as_console: false,
            kind: Kind::Submit {
                guest: false,
                marker: format!("la{run_id}"),
            },
            connections: None,
        },
        get("queue_page", queue_path.clone(), Some(&moderator_token)),
        few(get(
            "queue_page",
            queue_path.clone(),
            Some(&moderator_token),
        )),
        get("queue_search", search_path.clone(), Some(&moderator_token)),
        few(get(
            "queue_search",
            search_path.clone(),
            Some(&moderator_token),
        )),
        console("console_queue", 1),
        console("console_queue", 4),
        Workload {
            name: "login".into(),
            path: "/api/v1/auth/login".into(),
            token: None,
            as_console: false,
            kind: Kind::Login {
                body_file: login_body,
            },
            connections: None,
        },
    ];
    let mut results = Vec::new();
    let mut durability = Vec::new();
    let mut durability_lines = Vec::new();
    let mut all_durable = true;
    // Login last: the argon2 work it leaves behind keeps the server's RSS
    // up (freed hash memory stays with the allocator), which would be
    // counted as the next workload's peak.
    let (login_workload, workloads): (Vec<Workload>, Vec<Workload>) =
        workloads.into_iter().partition(|w| w.name == "login");
    for workload in &workloads {
        let measured = runner.run(&server, workload)?;
        if let Kind::Submit { marker, .. } = &workload.kind {
            let (ok, value, line) = durability_check(db, &measured, marker)?;
            progress(&line);
            all_durable &= ok;
            durability.push(value);
            durability_lines.push(line);
        }
        results.push(measured);
    }

    // Scaling: thread size, then (with --scale) the stored comment count.
    let counts_now = db.status_counts()?;
    let pending_now = counts_now.get("pending").copied().unwrap_or(0);
    let stored_now: i64 = counts_now.values().sum();
    let thread_big = runner.run(
        &server,
        &get(
            "thread_read_10k",
            format!("/api/v1/articles/{BIG_KEY}/comments?limit=50"),
            None,
        ),
    )?;
    for workload in &login_workload {
        results.push(runner.run(&server, workload)?);
    }
    let mut scaling = vec![
        (
            format!("thread first page, {} comments", args.hot),
            find(&results, "thread_read"),
        ),
        (
            format!("thread first page, {} comments", args.big),
            &thread_big,
        ),
        (
            format!("queue first page, {pending_now} pending / {stored_now} stored"),
            find(&results, "queue_page"),
        ),
        (
            format!("queue search, {pending_now} pending / {stored_now} stored"),
            find(&results, "queue_search"),
        ),
    ]
    .into_iter()
    .map(|(case, m)| (case, m.json(), m.row()))
    .collect::<Vec<_>>();
    server.stop()?;
    let mut scale_note = "not run (add --scale)".to_string();
    if args.scale {
        let missing = (args.scale_total as i64 - stored_now).max(0) as u64;
        let server = Server::start(db, Mode::All, workdir, log)?;
        seeder.base = server.base.clone();
        let started = Instant::now();
        let stored_count = |c: &BTreeMap<String, i64>| c.values().sum::<i64>();
        let extra = runtime.block_on(async {
            seeder
                .seed_to_count(
                    "scale: more held comments",
                    db,
                    args.scale_total as i64,
                    stored_count,
                    |s, n| Job {
                        key: article_key(s.article(n + articles, articles)),
                        body: s.body(&queue, "x"),
                        guest: s.rng.gen_range(0..GUESTS),
                        parent: None,
                    },
                )
                .await
        })?;
        seeding.push(extra.json("scale: held comments up to the scale total (mode all)"));
        let counts = db.status_counts()?;
        let pending_scaled = counts.get("pending").copied().unwrap_or(0);
        let stored_scaled: i64 = counts.values().sum();
        scale_note = format!(
            "seeded {} more comments ({missing} needed) in {:.0} s ({:.0}/s)",
            extra.submitted,
            started.elapsed().as_secs_f64(),
            extra.rate()
        );
        let scaled = [
            few(get(
                "queue_page_scaled",
                queue_path.clone(),
                Some(&moderator_token),
            )),
            get(
                "queue_page_scaled",
                queue_path.clone(),
                Some(&moderator_token),
            ),
            get(
                "queue_search_scaled",
                search_path.clone(),
                Some(&moderator_token),
            ),
            console("console_queue_scaled", 1),
            console("console_queue_scaled", 4),
        ];
        for workload in scaled {
            let name = workload.name.as_str();
            let m = runner.run(&server, &workload)?;
            let what = if name.starts_with("queue_page") {
                "queue first page"
            } else if name.starts_with("console_queue") {
                "console queue page (HTML)"
            } else {
                "queue search"
            };
            let conns = workload.connections.unwrap_or(args.connections);
            let case = format!(
                "{what}, {pending_scaled} pending / {stored_scaled} stored, {conns} connections"
            );
            scaling.push((case, m.json(), m.row()));
        }
        server.stop()?;
    }

    // The report.
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
            })
        })
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let commit = git_commit();
    let total_seconds = run_started.elapsed().as_secs_f64();
    let environment = format!(
        "CPU: {cpu} | cores: {cores} | backend: {backend} | connections: {} ({} wrk threads) | duration: {duration} s per workload | commit: {commit}",
        args.connections, args.threads
    );
    let header = "| workload | requests/s | p50 | p99 | non-2xx | CPU µs/req | peak RSS MB |\n|---|---:|---:|---:|---:|---:|---:|";
    println!();
    println!("## Moderato load benchmark ({backend})");
    println!();
    println!("{header}");
    for m in &results {
        println!("{}", m.row());
    }
    println!();
    println!("{environment}");
    let others: Vec<f64> = results
        .iter()
        .map(|m| (m.machine_busy_cores - m.server_cores).max(0.0))
        .collect();
    println!(
        "Load average at start: {load_average}; cores used besides the server during the workloads (wrk and any other process): {:.2}-{:.2} of {cores}",
        others.iter().copied().fold(f64::INFINITY, f64::min),
        others.iter().copied().fold(0.0, f64::max)
    );
    println!();
    println!("Scaling cases (same duration and connections):");
    println!();
    println!("{}", header.replacen("| workload |", "| case |", 1));
    for (case, _, row) in &scaling {
        // The row's first cell is the workload name; show the case instead.
        let rest = row.splitn(3, '|').nth(2).unwrap_or_default();
        println!("| {case} |{rest}");
    }
    if !args.scale {
        println!(
            "queue with ~{} stored comments: {scale_note}",
            args.scale_total
        );
    }
    println!();
    println!(
        "Data set: {article_rows} articles; stored comments {stored:?} ({stored_total} in all); texts: {}",
        texts.source
    );
    println!(
        "Seeding through HTTP ({} in flight): {} comments in {seed_seconds:.0} s, {:.0} comments/s overall ({:.0}/s while sending)",
        args.seed_concurrency,
        seed_total.submitted,
        seed_total.submitted as f64 / seed_seconds,
        seed_total.rate()
    );
    if args.scale {
        println!("Scale seeding: {scale_note}");
    }
    if analyze.is_some() {
        println!("PostgreSQL runs with autovacuum = off: the benchmark ran ANALYZE on its schema every 10 s while seeding and before the workloads");
    }
    println!(
        "Queue search word: {word:?} (in {:.1}% of queue texts)",
        share * 100.0
    );
    for line in &durability_lines {
        println!("{line}");
    }
    println!("Benchmark run: {total_seconds:.0} s (seeding and load; the build is timed by bench/load.sh)");

    let report = json!({
        "backend": backend,
        "environment": {
            "cpu": cpu,
            "cores": cores,
            "connections": args.connections,
            "wrk_threads": args.threads,
            "duration_seconds": duration,
            "commit": commit,
            "line": environment,
            "load_average_at_start": load_average,
        },
        "server_settings": server_env(Mode::None).into_iter().filter(|(k, _)| *k != "MODERATO_MODERATION__MODE").collect::<BTreeMap<_, _>>(),
        "dataset": {
            "articles": article_rows,
            "approved_spread": args.comments,
            "hot_article": {"key": HOT_KEY, "comments": args.hot, "waves": thread_waves(args.hot)},
            "big_article": {"key": BIG_KEY, "comments": args.big, "waves": thread_waves(args.big)},
            "pending": args.pending,
            "stored_by_status": stored,
            "stored_total": stored_total,
            "texts": texts.source,
            "learned_scorer_trained": trained,
            "postgres_autovacuum_off_analyzed_by_benchmark": analyze.is_some(),
            "queue_search_word": word,
        },
        "seeding": {
            "concurrency": args.seed_concurrency,
            "phases": seeding,
            "comments": seed_total.submitted,
            "seconds_including_restarts": round(seed_seconds, 1),
            "comments_per_second": round(seed_total.submitted as f64 / seed_seconds, 1),
        },
        "workloads": results.iter().map(Measured::json).collect::<Vec<_>>(),
        "scaling": scaling.iter().map(|(case, value, _)| json!({"case": case, "result": value})).collect::<Vec<_>>(),
        "scale": if args.scale { Value::String(scale_note) } else { Value::Null },
        "durability": durability,
        "total_seconds": round(total_seconds, 1),
    });
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| raw_dir.join(format!("load-{backend}.json")));
    std::fs::write(&out, serde_json::to_string_pretty(&report)? + "\n")?;
    println!("JSON: {}", out.display());
    Ok(all_durable)
}

/// A CLI run succeeded when it printed what it did, even if it then died
/// on the way out (on PostgreSQL over TLS the process can crash at exit:
/// OpenSSL's exit handler races the pool's thread closing a connection).
fn check_cli(output: &std::process::Output, done: &str, what: &str) -> anyhow::Result<()> {
    let stdout = String::from_utf8_lossy(&output.stdout);
    if output.status.success() || stdout.starts_with(done) {
        if !output.status.success() {
            progress(format!(
                "{what} did its work but then exited with {} (a crash at exit; see the report)",
                output.status
            ));
        }
        progress(stdout.trim());
        return Ok(());
    }
    bail!(
        "{what} failed ({}): {stdout}{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    )
}

fn find<'a>(results: &'a [Measured], name: &str) -> &'a Measured {
    results
        .iter()
        .find(|m| m.name == name)
        .expect("every workload ran")
}

fn git_commit() -> String {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(MANIFEST_DIR)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let Some(commit) = git(&["rev-parse", "--short=12", "HEAD"]) else {
        return "unknown".into();
    };
    let dirty =
        git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    if dirty {
        format!("{commit}-dirty")
    } else {
        commit
    }
}
