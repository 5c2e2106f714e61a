//! The `moderato` binary itself: serve, migrate, user create, config errors.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{expect_status, TestDatabase};

pub fn moderato() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_moderato"));
    // Only what the test says: no settings leak in from the developer's shell.
    for (key, _) in std::env::vars() {
        if key.starts_with("MODERATO_") || key == "RUST_LOG" {
            cmd.env_remove(key);
        }
    }
    cmd.env("MODERATO_LOG__LEVEL", "warn");
    cmd
}

/// Kills the child when the test ends, however it ends.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `cmd` (a `serve`), waits for the address it prints, and returns
/// the running process and that address.
async fn serving(mut cmd: Command) -> (Running, String) {
    let mut child = Running(cmd.stdout(Stdio::piped()).spawn().expect("start moderato"));
    let stdout = child.0.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map(|_| line)
    })
    .await
    .unwrap()
    .unwrap();
    let address = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("got {line:?}"))
        .to_string();
    (child, address)
}

#[tokio::test]
async fn serve_prints_the_real_address_when_bound_to_port_zero() {
    let db = TestDatabase::new();
    let mut cmd = moderato();
    cmd.args(["serve", "--bind", "127.0.0.1:0", "--database", db.url()])
        .stderr(Stdio::null());
    let (_child, address) = serving(cmd).await;
    assert!(address.starts_with("http://127.0.0.1:"), "{address}");
    assert!(!address.ends_with(":0"), "{address}");
    let client = reqwest::Client::new();
    let health = client
        .get(format!("{address}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let posted = client
        .post(format!("{address}/api/v1/articles/cli/comments"))
        .json(&json!({"body": "through the binary", "author": {"name": "A", "email": "a@example.com"}}))
        .send()
        .await
        .unwrap();
    expect_status(posted, StatusCode::CREATED).await;
}

#[test]
fn migrate_applies_once_then_reports_up_to_date() {
    let db = TestDatabase::new();
    let first = moderato()
        .args(["migrate", "--database", db.url()])
        .output()
        .unwrap();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(String::from_utf8_lossy(&first.stdout).contains("applied"));
    let second = moderato()
        .args(["migrate", "--database", db.url()])
        .output()
        .unwrap();
    assert!(second.status.success());
    assert!(String::from_utf8_lossy(&second.stdout).contains("up to date"));
}

#[tokio::test]
async fn user_create_reads_the_password_from_stdin_and_the_account_can_sign_in() {
    let db = TestDatabase::new();
    let mut create = moderato()
        .args([
            "user",
            "create",
            "--email",
            "root@example.com",
            "--name",
            "Root",
            "--role",
            "admin",
            "--password-stdin",
            "--database",
            db.url(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    create
        .stdin
        .take()
        .unwrap()
        .write_all(b"a strong admin password\n")
        .unwrap();
    let output = create.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("created admin root@example.com"));

    let mut cmd = moderato();
    cmd.args(["serve", "--bind", "127.0.0.1:0", "--database", db.url()])
        .stderr(Stdio::null());
    let (_server, address) = serving(cmd).await;
    let login = reqwest::Client::new()
        .post(format!("{address}/api/v1/auth/login"))
        .json(&json!({"email": "root@example.com", "password": "a strong admin password"}))
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .unwrap();
    let session = expect_status(login, StatusCode::OK).await;
    assert_eq!(session["user"]["role"], "admin");
}

#[test]
fn user_create_refuses_bad_input_without_creating_anything() {
    let db = TestDatabase::new();
    let without_stdin_flag = moderato()
        .args([
            "user",
            "create",
            "--email",
            "x@example.com",
            "--name",
            "X",
            "--role",
            "admin",
            "--database",
            db.url(),
        ])
        .output()
        .unwrap();
    assert!(!without_stdin_flag.status.success());
    assert!(String::from_utf8_lossy(&without_stdin_flag.stderr).contains("--password-stdin"));

    let bad_role = moderato()
        .args([
            "user",
            "create",
            "--email",
            "x@example.com",
            "--name",
            "X",
            "--role",
            "root",
            "--password-stdin",
            "--database",
            db.url(),
        ])
        .output()
        .unwrap();
    assert!(!bad_role.status.success());

    let mut short = moderato()
        .args([
            "user",
            "create",
            "--email",
            "x@example.com",
            "--name",
            "X",
            "--role",
            "admin",
            "--password-stdin",
            "--database",
            db.url(),
        ])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    short.stdin.take().unwrap().write_all(b"short\n").unwrap();
    let output = short.wait_with_output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("password"));
}

#[test]
fn unknown_configuration_keys_are_errors_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("typo.toml");
    std::fs::write(&file, "[server]\nbnd = \"127.0.0.1:0\"\n").unwrap();
    let output = moderato()
        .args(["serve", "--config", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("server.bnd"), "{stderr}");

    let output = moderato()
        .env("MODERATO_COMMENTS__MAX_BODY_BYTEZ", "5")
        .args(["migrate", "--database", "sqlite://unused.db"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("comments.max_body_bytez"), "{stderr}");
}

#[test]
fn environment_variables_override_the_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let output = moderato()
        .env("MODERATO_DATABASE__URL", "sqlite://from-env/m.db")
        .arg("migrate")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(dir.path().join("from-env/m.db").exists());
}

#[tokio::test]
async fn logs_to_a_file_have_no_colours_no_query_strings_and_no_malformed_request_errors() {
    let db = TestDatabase::new();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("moderato.log");
    let mut cmd = moderato();
    cmd.env("MODERATO_LOG__LEVEL", "info")
        .args(["serve", "--bind", "127.0.0.1:0", "--database", db.url()])
        .stderr(std::fs::File::create(&log).unwrap());
    let (server, address) = serving(cmd).await;
    let client = reqwest::Client::new();
    let posted = client
        .post(format!(
            "{address}/api/v1/articles/logs/comments?email=secret%40example.com"
        ))
        .json(&json!({"body": "logged", "author": {"name": "A", "email": "a@example.com"}}))
        .send()
        .await
        .unwrap();
    expect_status(posted, StatusCode::CREATED).await;
    // A request no HTTP parser accepts.
    let host = address.trim_start_matches("http://").to_string();
    tokio::task::spawn_blocking(move || {
        let mut raw = std::net::TcpStream::connect(host).unwrap();
        raw.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nBroken header line\r\n\r\n")
            .unwrap();
        let mut answer = String::new();
        let _ = std::io::Read::read_to_string(&mut raw, &mut answer);
    })
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    drop(server);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("comment stored"), "{text}");
    assert!(
        text.contains("/api/v1/articles/logs/comments"),
        "the path is kept: {text}"
    );
    assert!(!text.contains("secret"), "the query string is not: {text}");
    assert!(
        !text.contains('\u{1b}'),
        "no colour codes in a file: {text}"
    );
    assert!(
        !text.contains("ERROR"),
        "a client's malformed request is no server error: {text}"
    );
}

#[tokio::test]
async fn serve_options_work_without_the_word_serve() {
    let db = TestDatabase::new();
    let mut cmd = moderato();
    cmd.args(["--bind", "127.0.0.1:0", "--database", db.url()])
        .stderr(Stdio::null());
    let (_child, address) = serving(cmd).await;
    let health = reqwest::get(format!("{address}/healthz")).await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
}

#[test]
fn a_typo_in_the_configuration_names_the_key_once() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("site.toml");
    std::fs::write(&config, "[server]\nbnd = \"0.0.0.0:8080\"\n").unwrap();
    let output = moderato()
        .args(["--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("configuration: server.bnd: unknown key; the keys here are bind, workers"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("bnd.bnd") && !stderr.contains('`'),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_new_database_at_a_relative_path_is_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("stderr.log");
    let mut cmd = moderato();
    cmd.current_dir(dir.path())
        .args(["--bind", "127.0.0.1:0"])
        .stderr(std::fs::File::create(&log).unwrap());
    let (child, _address) = serving(cmd).await;
    drop(child);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("creating a new, empty SQLite database"),
        "{text}"
    );
    assert!(text.contains("data/moderato.db"), "{text}");
    assert!(dir.path().join("data/moderato.db").is_file());

    // Started again, it finds the database: no warning.
    let mut cmd = moderato();
    cmd.current_dir(dir.path())
        .args(["--bind", "127.0.0.1:0"])
        .stderr(std::fs::File::create(&log).unwrap());
    let (child, _address) = serving(cmd).await;
    drop(child);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!text.contains("creating a new"), "{text}");
}

#[tokio::test]
async fn a_backup_taken_under_write_load_holds_every_comment_acknowledged_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("live.db").display());
    let mut cmd = moderato();
    cmd.env("MODERATO_GUARDS__FLOOD_INTERVAL", "0s")
        .env("MODERATO_COMMENTS__RATE_LIMIT__PER_IP", "0")
        .args(["--bind", "127.0.0.1:0", "--database", &url])
        .stderr(Stdio::null());
    let (_server, address) = serving(cmd).await;

    // Four writers post without pause until told to stop; each remembers
    // the ids it was given and when.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let acked = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (address, stop, acked) = (address.clone(), stop.clone(), acked.clone());
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                let mut acknowledged = Vec::new();
                let mut n = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    n += 1;
                    let response = client
                        .post(format!("{address}/api/v1/articles/load-{w}/comments"))
                        .json(&json!({"body": format!("writer {w}, comment {n}"),
                                      "author": {"name": "W", "email": format!("w{w}@example.com")}}))
                        .send()
                        .await
                        .unwrap();
                    let body = expect_status(response, StatusCode::CREATED).await;
                    acknowledged.push((std::time::Instant::now(), body["id"].as_i64().unwrap()));
                    acked.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                acknowledged
            })
        })
        .collect();
    // The backup starts once the writers are well under way, however busy
    // the machine (a fixed pause was too short on a loaded one).
    let waiting = std::time::Instant::now();
    while acked.load(std::sync::atomic::Ordering::Relaxed) <= 40 {
        assert!(
            waiting.elapsed() < Duration::from_secs(60),
            "the writers did not get going"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let backup_file = dir.path().join("backup.db");
    let started = std::time::Instant::now();
    let output = moderato()
        .args(["backup", backup_file.to_str().unwrap(), "--database", &url])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut before = Vec::new();
    let mut total = 0;
    for writer in writers {
        let acknowledged = writer.await.unwrap();
        total += acknowledged.len();
        before.extend(
            acknowledged
                .into_iter()
                .filter(|(at, _)| *at < started)
                .map(|(_, id)| id),
        );
    }
    assert!(
        before.len() > 20,
        "too little load: {} before the backup",
        before.len()
    );
    assert!(total > before.len(), "writes went on during the backup");
    let summary = String::from_utf8_lossy(&output.stdout);
    assert!(summary.starts_with("backed up "), "{summary}");

    // Restore: the copy, put in place of a database, serves them all.
    let restored = dir.path().join("restored.db");
    std::fs::copy(&backup_file, &restored).unwrap();
    let restored_url = format!("sqlite://{}", restored.display());
    let mut cmd = moderato();
    cmd.args(["--bind", "127.0.0.1:0", "--database", &restored_url])
        .stderr(Stdio::null());
    let (_restored_server, restored_address) = serving(cmd).await;
    let client = reqwest::Client::new();
    let mut found = std::collections::HashSet::new();
    for w in 0..4 {
        let mut cursor: Option<String> = None;
        loop {
            let mut url = format!("{restored_address}/api/v1/articles/load-{w}/comments?limit=200");
            if let Some(c) = &cursor {
                url.push_str(&format!("&cursor={c}"));
            }
            let page = expect_status(client.get(url).send().await.unwrap(), StatusCode::OK).await;
            for comment in page["comments"].as_array().unwrap() {
                found.insert(comment["id"].as_i64().unwrap());
            }
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_string()),
                None => break,
            }
        }
    }
    let missing: Vec<_> = before.iter().filter(|id| !found.contains(id)).collect();
    assert!(
        missing.is_empty(),
        "{} of {} missing: {missing:?}",
        missing.len(),
        before.len()
    );
    // And a second backup to the same file is refused, not overwritten.
    let again = moderato()
        .args(["backup", backup_file.to_str().unwrap(), "--database", &url])
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));
}
