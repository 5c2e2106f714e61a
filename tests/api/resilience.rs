//! Crashes and outages: kill -9 under write load loses no acknowledged
//! comment; SIGTERM lets in-flight requests finish; a PostgreSQL outage
//! answers 503 quickly and recovers without a restart.
//!
//! The kill test's length is set by MODERATO_CRASH_MS (load time before
//! each kill, default 1500) and MODERATO_CRASH_ROUNDS (default 2): short in
//! CI, as long as you like by hand.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{spawn_app_on, TestDatabase, PG_ENV};
use crate::standins::{Reply, StandIn};

fn moderato() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_moderato"));
    for (key, _) in std::env::vars() {
        if key.starts_with("MODERATO_") || key == "RUST_LOG" {
            cmd.env_remove(key);
        }
    }
    cmd.env("MODERATO_LOG__LEVEL", "error")
        .env("MODERATO_GUARDS__FLOOD_INTERVAL", "0s")
        .env("MODERATO_COMMENTS__RATE_LIMIT__PER_IP", "0");
    cmd
}

/// Starts `moderato serve` and returns it with its address.
fn serve(args: &[&str]) -> (Child, String) {
    let mut child = moderato()
        .arg("serve")
        .args(["--bind", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start moderato");
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("listening line");
    let address = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("got {line:?}"))
        .to_string();
    (child, address)
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Every approved comment of an article, by id.
async fn all_comments(
    client: &reqwest::Client,
    address: &str,
    article: &str,
) -> std::collections::HashMap<i64, String> {
    let mut found = std::collections::HashMap::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{address}/api/v1/articles/{article}/comments?limit=200");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let page: Value = client.get(&url).send().await.unwrap().json().await.unwrap();
        for c in page["comments"].as_array().unwrap() {
            found.insert(
                c["id"].as_i64().unwrap(),
                c["body"].as_str().unwrap().to_string(),
            );
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => return found,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_under_write_load_loses_no_acknowledged_comment() {
    let load_ms = env_number("MODERATO_CRASH_MS", 1500);
    let rounds = env_number("MODERATO_CRASH_ROUNDS", 2);
    let db = TestDatabase::new();
    let acknowledged: Arc<Mutex<Vec<(i64, String)>>> = Arc::new(Mutex::new(Vec::new()));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    for round in 0..rounds {
        let (mut child, address) = serve(&["--database", db.url()]);
        let stop = Arc::new(AtomicBool::new(false));
        let mut writers = Vec::new();
        for writer in 0..8 {
            let (client, address, stop, acknowledged) = (
                client.clone(),
                address.clone(),
                stop.clone(),
                acknowledged.clone(),
            );
            writers.push(tokio::spawn(async move {
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let body = format!("round {round} writer {writer} comment {n} ✓");
                    n += 1;
                    let sent = client
                        .post(format!("{address}/api/v1/articles/crash/comments"))
                        .json(&json!({"body": body, "author": {"name": "Load", "email": format!("w{writer}@example.com")}}))
                        .send()
                        .await;
                    match sent {
                        Ok(r) if r.status() == StatusCode::CREATED => {
                            let created: Value = match r.json().await {
                                Ok(v) => v,
                                Err(_) => break,
                            };
                            acknowledged.lock().unwrap().push((created["id"].as_i64().unwrap(), body));
                        }
                        Ok(r) => panic!("unexpected {} under load", r.status()),
                        // The server died under us: expected once killed.
                        Err(_) => break,
                    }
                }
            }));
        }
        tokio::time::sleep(Duration::from_millis(load_ms)).await;
        let before = acknowledged.lock().unwrap().len();
        child.kill().expect("SIGKILL"); // std's kill is SIGKILL on Unix
        child.wait().unwrap();
        stop.store(true, Ordering::Relaxed);
        for w in writers {
            w.await.unwrap();
        }
        let after_kill = acknowledged.lock().unwrap().len();
        eprintln!(
            "crash round {round}: {before} acknowledged when SIGKILL was sent, {after_kill} in all"
        );
    }

    let (mut child, address) = serve(&["--database", db.url()]);
    let found = all_comments(&client, &address, "crash").await;
    child.kill().unwrap();
    child.wait().unwrap();
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() > 10,
        "the load produced too few writes to mean anything"
    );
    let missing: Vec<_> = acknowledged
        .iter()
        .filter(|(id, body)| found.get(id) != Some(body))
        .collect();
    eprintln!(
        "after {rounds} kills: {} acknowledged, {} found, {} missing or changed",
        acknowledged.len(),
        found.len(),
        missing.len()
    );
    assert!(
        missing.is_empty(),
        "acknowledged comments lost or changed: {:?}",
        &missing[..missing.len().min(5)]
    );

    if let Some(path) = db.url().strip_prefix("sqlite://") {
        use diesel::prelude::*;
        #[derive(QueryableByName)]
        struct Check {
            #[diesel(sql_type = diesel::sql_types::Text)]
            integrity_check: String,
        }
        let mut conn = diesel::SqliteConnection::establish(path).unwrap();
        let rows: Vec<Check> = diesel::sql_query("PRAGMA integrity_check")
            .load(&mut conn)
            .unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].integrity_check, "ok");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_in_flight_requests_finish() {
    // A slow scorer keeps a comment submission in flight for a while.
    let slow = StandIn::start(
        Reply::json(json!({"score": 0.1, "reasons": []})).after(Duration::from_millis(1500)),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("slow.toml");
    std::fs::write(
        &config,
        format!("[[spam.scorers]]\nkind = \"http\"\ntimeout = \"10s\"\nsettings = {{ url = \"{}/score\" }}\n", slow.url),
    )
    .unwrap();
    let db = TestDatabase::new();
    let (mut child, address) =
        serve(&["--database", db.url(), "--config", config.to_str().unwrap()]);
    let client = reqwest::Client::new();
    let in_flight = tokio::spawn({
        let (client, address) = (client.clone(), address.clone());
        async move {
            client
                .post(format!("{address}/api/v1/articles/term/comments"))
                .json(&json!({"body": "sent before SIGTERM", "author": {"name": "A", "email": "a@example.com"}}))
                .send()
                .await
        }
    });
    slow.wait_for(1, Duration::from_secs(5)).await;
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let response = in_flight
        .await
        .unwrap()
        .expect("the in-flight request is answered");
    assert_eq!(response.status(), StatusCode::CREATED);
    let started = Instant::now();
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "still running 30 s after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(exit.success(), "exit status {exit:?}");

    let (mut again, address) = serve(&["--database", db.url()]);
    let found = all_comments(&client, &address, "term").await;
    again.kill().unwrap();
    again.wait().unwrap();
    assert!(found.values().any(|b| b == "sent before SIGTERM"));
}

/// A TCP proxy between the app and PostgreSQL that the test can break
/// (dropping every connection and refusing new ones) and mend.
struct Proxy {
    port: u16,
    broken: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(upstream: String) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let broken = Arc::new(AtomicBool::new(false));
        let connections: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>> =
            Arc::new(Mutex::new(Vec::new()));
        let (b, c) = (broken.clone(), connections.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                if b.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let upstream = upstream.clone();
                c.lock().unwrap().push(tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                }));
            }
        });
        Proxy {
            port,
            broken,
            connections,
        }
    }

    fn break_it(&self) {
        self.broken.store(true, Ordering::SeqCst);
        for connection in self.connections.lock().unwrap().drain(..) {
            connection.abort();
        }
    }

    fn mend(&self) {
        self.broken.store(false, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_postgres_outage_answers_503_quickly_and_recovers_without_restart() {
    let Some(admin_url) = std::env::var(PG_ENV).ok().filter(|s| !s.is_empty()) else {
        eprintln!("skipped: needs {PG_ENV} (PostgreSQL) to put a breakable proxy in front of it");
        return;
    };
    let parsed = url::Url::parse(&admin_url).unwrap();
    let upstream = format!(
        "{}:{}",
        parsed.host_str().unwrap(),
        parsed.port().unwrap_or(5432)
    );
    let proxy = Proxy::start(upstream.clone()).await;
    let db = TestDatabase::new();
    let proxied = db
        .url()
        .replacen(&upstream, &format!("127.0.0.1:{}", proxy.port), 1);
    assert_ne!(proxied, db.url(), "the URL must go through the proxy");
    let app = spawn_app_on(
        Some(db),
        &proxied,
        "[database]\nacquire_timeout = \"1s\"\nmax_connections = 4",
    )
    .await;
    let before = app
        .guest_comment("outage", "written before the outage")
        .await;

    proxy.break_it();
    for path in ["/readyz", "/api/v1/articles/outage/comments"] {
        let started = Instant::now();
        let response = app.get(path).await;
        let elapsed = started.elapsed();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "{path}");
        assert!(response.headers().contains_key("retry-after"));
        assert!(elapsed < Duration::from_secs(3), "{path} took {elapsed:?}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unavailable");
    }
    let started = Instant::now();
    let refused = app
        .post_json(
            "/api/v1/articles/outage/comments",
            &json!({"body": "during", "author": {"name": "A", "email": "a@example.com"}}),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(started.elapsed() < Duration::from_secs(3));

    proxy.mend();
    let started = Instant::now();
    loop {
        if app.get("/readyz").await.status() == StatusCode::OK {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "not ready 15 s after the database came back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    app.guest_comment("outage", "written after the outage")
        .await;
    let thread = app.thread("outage").await;
    let bodies: Vec<&str> = thread["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["body"].as_str().unwrap())
        .collect();
    assert_eq!(
        bodies,
        ["written before the outage", "written after the outage"]
    );
    assert_eq!(thread["comments"][0]["id"], before["id"]);
}
