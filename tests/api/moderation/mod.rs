//! Moderation through the real server (issue: moderation queue, commenters,
//! webhooks), one file per area.
//!
//! Here, what several areas share: posting as a guest (from any address
//! with [`PROXIED`]) or as an account, the moderation API's calls (queue,
//! detail, decisions, log, bans, commenters, accounts), and following a
//! webhook receiver's signed [`Deliveries`].

mod accounts_data;
mod activity;
mod bad_input;
mod bans;
mod closing;
mod commenters;
mod day;
mod decisions;
mod edits;
mod first_time;
mod log;
mod permissions;
mod queue;
mod retention;
mod undo;
mod webhooks;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::helpers::{expect_status, id_of, TestApp};
use crate::standins::{Recorded, StandIn};

const SECRET: &str = "0123456789abcdef0123";

const FAST_OUTBOX: &str =
    "[outbox]\nfirst_retry = \"50ms\"\nmax_retry = \"200ms\"\npoll_interval = \"50ms\"\n";

/// Believe X-Forwarded-For from the test client, to post from any address.
const PROXIED: &str = "[server]\ntrusted_proxies = [\"127.0.0.1/32\"]\n";

const DAY_MS: i64 = 24 * 3600 * 1000;

fn webhooks_to(url: &str, events: &[&str]) -> String {
    format!(
        "[webhooks]\nendpoints = [{{ url = {}, secret = \"{SECRET}\", events = {} }}]\n",
        Value::from(url),
        json!(events)
    )
}

/// Any request, signed in or not, with an optional JSON body.
async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Response {
    let mut request = app.request(method, path);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    request.send().await.expect("request")
}

/// Posts a guest comment, from `ip` when given (the app must trust the
/// test client as a proxy, see [`PROXIED`]).
async fn post_guest(
    app: &TestApp,
    article: &str,
    (name, email): (&str, &str),
    body: &str,
    ip: Option<&str>,
) -> Response {
    let mut request = app
        .request(
            Method::POST,
            &format!("/api/v1/articles/{article}/comments"),
        )
        .json(&json!({"body": body, "author": {"name": name, "email": email}}));
    if let Some(ip) = ip {
        request = request.header("X-Forwarded-For", ip);
    }
    request.send().await.expect("request")
}

/// A guest comment sent with the author token an earlier one was given,
/// which must be accepted.
async fn returning_guest(
    app: &TestApp,
    article: &str,
    (name, email): (&str, &str),
    body: &str,
    earlier: &Value,
) -> Value {
    let token = earlier["author_token"]
        .as_str()
        .expect("a guest gets an author token");
    expect_status(
        app.post_json(
            &format!("/api/v1/articles/{article}/comments"),
            &json!({"body": body, "author": {"name": name, "email": email, "token": token}}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await
}

/// A guest comment that must be accepted.
async fn guest(app: &TestApp, article: &str, who: (&str, &str), body: &str) -> Value {
    expect_status(
        post_guest(app, article, who, body, None).await,
        StatusCode::CREATED,
    )
    .await
}

/// A guest comment from a given address that must be accepted.
async fn guest_from(
    app: &TestApp,
    article: &str,
    who: (&str, &str),
    body: &str,
    ip: &str,
) -> Value {
    expect_status(
        post_guest(app, article, who, body, Some(ip)).await,
        StatusCode::CREATED,
    )
    .await
}

/// A comment by a signed-in account that must be accepted.
async fn account_comment(app: &TestApp, article: &str, body: &str, token: &str) -> Value {
    expect_status(
        app.post_json_as(
            &format!("/api/v1/articles/{article}/comments"),
            &json!({ "body": body }),
            token,
        )
        .await,
        StatusCode::CREATED,
    )
    .await
}

/// `GET /moderation/comments{query}` (asserting 200).
async fn queue(app: &TestApp, token: &str, query: &str) -> Value {
    expect_status(
        app.get_as(&format!("/api/v1/moderation/comments{query}"), token)
            .await,
        StatusCode::OK,
    )
    .await
}

async fn queue_ids(app: &TestApp, token: &str, query: &str) -> Vec<i64> {
    ids(&queue(app, token, query).await["comments"])
}

fn ids(list: &Value) -> Vec<i64> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(id_of)
        .collect()
}

/// `GET /moderation/comments/{id}` (asserting 200).
async fn detail(app: &TestApp, token: &str, id: i64) -> Value {
    expect_status(
        app.get_as(&format!("/api/v1/moderation/comments/{id}"), token)
            .await,
        StatusCode::OK,
    )
    .await
}

async fn decide(app: &TestApp, token: &str, id: i64, body: &Value) -> Response {
    app.post_json_as(
        &format!("/api/v1/moderation/comments/{id}/decision"),
        body,
        token,
    )
    .await
}

async fn bulk(app: &TestApp, token: &str, body: &Value) -> Response {
    app.post_json_as("/api/v1/moderation/decisions", body, token)
        .await
}

/// `GET /moderation/log{query}` (asserting 200).
async fn log(app: &TestApp, token: &str, query: &str) -> Value {
    expect_status(
        app.get_as(&format!("/api/v1/moderation/log{query}"), token)
            .await,
        StatusCode::OK,
    )
    .await
}

/// `(action, comment_id)` of each entry, newest first.
fn actions(log: &Value) -> Vec<(String, Option<i64>)> {
    log["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            (
                e["action"].as_str().expect("action").to_string(),
                e["comment_id"].as_i64(),
            )
        })
        .collect()
}

async fn ban(app: &TestApp, token: &str, body: &Value) -> Value {
    expect_status(
        app.post_json_as("/api/v1/moderation/bans", body, token)
            .await,
        StatusCode::CREATED,
    )
    .await
}

async fn bans(app: &TestApp, token: &str) -> Vec<Value> {
    expect_status(
        app.get_as("/api/v1/moderation/bans", token).await,
        StatusCode::OK,
    )
    .await["bans"]
        .as_array()
        .expect("bans")
        .clone()
}

async fn commenters(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    expect_status(
        app.get_as(&format!("/api/v1/moderation/commenters{query}"), token)
            .await,
        StatusCode::OK,
    )
    .await["commenters"]
        .as_array()
        .expect("commenters")
        .clone()
}

async fn patch_user(app: &TestApp, token: &str, id: i64, body: &Value) -> Response {
    send(
        app,
        Method::PATCH,
        &format!("/api/v1/moderation/users/{id}"),
        Some(token),
        Some(body),
    )
    .await
}

fn thread_ids(thread: &Value) -> Vec<i64> {
    ids(&thread["comments"])
}

fn sorted(mut v: Vec<i64>) -> Vec<i64> {
    v.sort_unstable();
    v
}

/// Checks a webhook request's headers and HMAC signature; returns its
/// payload.
fn verified(request: &Recorded) -> Value {
    assert_eq!(request.method, "POST");
    let timestamp = request
        .header("x-moderato-timestamp")
        .expect("timestamp header");
    let signature = request
        .header("x-moderato-signature")
        .expect("signature header");
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("hmac key");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(&request.body);
    let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    assert_eq!(signature, expected, "bad signature for {}", request.text());
    let sent_at: i64 = timestamp.parse().expect("unix seconds");
    assert!(
        (chrono::Utc::now().timestamp() - sent_at).abs() < 300,
        "timestamp {sent_at} is not now"
    );
    let payload = request.json();
    assert_eq!(
        request.header("x-moderato-event"),
        payload["event"].as_str()
    );
    assert_eq!(
        request.header("x-moderato-delivery"),
        payload["id"].as_str()
    );
    assert!(payload["occurred_at"].is_string(), "{payload}");
    payload
}

/// What an event is about: the comment's id, or the ban's.
fn subject_of(payload: &Value) -> i64 {
    payload["data"]["comment"]["id"]
        .as_i64()
        .or_else(|| payload["data"]["ban"]["id"].as_i64())
        .unwrap_or_else(|| panic!("no subject in {payload}"))
}

/// Follows a webhook receiver's deliveries step by step, dropping repeats
/// of a delivery id.
struct Deliveries {
    consumed: usize,
    ids: HashSet<String>,
    events: Vec<(String, i64)>,
}

impl Deliveries {
    fn new() -> Self {
        Deliveries {
            consumed: 0,
            ids: HashSet::new(),
            events: Vec::new(),
        }
    }

    /// Waits for the events one step causes (in any order within the step)
    /// and checks they are exactly those.
    async fn expect(&mut self, hook: &StandIn, expected: &[(&str, i64)]) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut fresh: Vec<(String, i64)> = Vec::new();
        loop {
            let all = hook.requests();
            for request in &all[self.consumed..] {
                let payload = verified(request);
                let delivery = payload["id"].as_str().expect("delivery id").to_string();
                if self.ids.insert(delivery) {
                    fresh.push((
                        payload["event"].as_str().expect("event").to_string(),
                        subject_of(&payload),
                    ));
                }
            }
            self.consumed = all.len();
            if fresh.len() >= expected.len() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "expected events {expected:?}, got only {fresh:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let mut got = fresh.clone();
        got.sort();
        let mut want: Vec<(String, i64)> = expected
            .iter()
            .map(|(e, id)| (e.to_string(), *id))
            .collect();
        want.sort();
        assert_eq!(got, want, "events of this step");
        self.events.extend(fresh);
    }
}
