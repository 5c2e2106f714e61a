//! Moderation through the real server (issue: moderation queue, commenters, webhooks).

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::RunQueryDsl;
use hmac::{Hmac, Mac};
use moderato::db::DbError;
use moderato::domain::Role;
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::helpers::{expect_error, expect_status, spawn_app, spawn_app_with, TestApp};
use crate::standins::{Recorded, Reply, StandIn};

const SECRET: &str = "0123456789abcdef0123";
const FAST_OUTBOX: &str =
    "[outbox]\nfirst_retry = \"50ms\"\nmax_retry = \"200ms\"\npoll_interval = \"50ms\"\n";
/// Believe X-Forwarded-For from the test client, to post from any address.
const PROXIED: &str = "[server]\ntrusted_proxies = [\"127.0.0.1/32\"]\n";
const DAY_MS: i64 = 24 * 3600 * 1000;

// ---------------------------------------------------------------- helpers

fn webhooks_to(url: &str, events: &[&str]) -> String {
    format!(
        "[webhooks]\nendpoints = [{{ url = {}, secret = \"{SECRET}\", events = {} }}]\n",
        Value::from(url),
        json!(events)
    )
}

fn id_of(value: &Value) -> i64 {
    value["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no id in {value}"))
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

/// A decision that must succeed; returns the comment as moderators see it.
async fn decided(app: &TestApp, token: &str, id: i64, action: &str) -> Value {
    expect_status(
        decide(app, token, id, &json!({ "action": action })).await,
        StatusCode::OK,
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

/// The learned scorer's score in a moderator's view of a comment.
fn learned_score(comment: &Value) -> f64 {
    comment["report"]["scorers"]
        .as_array()
        .expect("report.scorers")
        .iter()
        .find(|s| s["kind"] == "learned")
        .and_then(|s| s["score"].as_f64())
        .unwrap_or_else(|| panic!("no learned score in {comment}"))
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

async fn webhook_messages(app: &TestApp) -> Vec<moderato::db::outbox::Message> {
    app.state
        .db
        .read(|conn| {
            moderato::db::outbox::all_of_topic(conn, moderato::webhooks::TOPIC)
                .map_err(DbError::from)
        })
        .await
        .expect("outbox")
}

/// Waits until every webhook message is delivered or given up.
async fn settled_webhook_messages(app: &TestApp) -> Vec<moderato::db::outbox::Message> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let messages = webhook_messages(app).await;
        if !messages.is_empty()
            && messages
                .iter()
                .all(|m| m.delivered_at.is_some() || m.gave_up_at.is_some())
        {
            return messages;
        }
        assert!(
            Instant::now() < deadline,
            "outbox never settled: {messages:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

// ------------------------------------------------------ the moderator's day

#[tokio::test]
async fn a_moderators_day_is_logged_step_by_step_and_announced_once_per_event() {
    let hook = StandIn::start(Reply::ok("thanks")).await;
    let app = spawn_app_with(&format!(
        "{PROXIED}[moderation]\nmode = \"first_time\"\n{FAST_OUTBOX}{}",
        webhooks_to(&hook.url, &[])
    ))
    .await;
    let moderator = app.user(Role::Moderator, "mia@example.com").await;
    let token = moderator.token.as_str();
    let mut deliveries = Deliveries::new();

    // Morning: three newcomers, one of them a link spammer from 203.0.113.7.
    let alice_who = ("Alice", "alice@example.com");
    let alice_first = guest(
        &app,
        "day",
        alice_who,
        "What a lovely write-up, thank you for sharing it.",
    )
    .await;
    let alice = alice_first.clone();
    let spammer = guest_from(
        &app,
        "day",
        ("Cheap Pills", "pills@spam.test"),
        "Cheap pills at https://pills.example/a and https://pills.example/b and www.pills-shop.xyz",
        "203.0.113.7",
    )
    .await;
    let carol = guest(
        &app,
        "day",
        ("Carol", "carol@example.com"),
        "I disagree with the second point, but it is well argued.",
    )
    .await;
    let (alice, spammer, carol) = (id_of(&alice), id_of(&spammer), id_of(&carol));
    deliveries
        .expect(
            &hook,
            &[
                ("comment.created", alice),
                ("comment.held", alice),
                ("comment.created", spammer),
                ("comment.held", spammer),
                ("comment.created", carol),
                ("comment.held", carol),
            ],
        )
        .await;
    assert!(thread_ids(&app.thread("day").await).is_empty());

    // The pending queue shows them, newest first, with why each was held.
    let pending = queue(&app, token, "").await;
    assert_eq!(ids(&pending["comments"]), vec![carol, spammer, alice]);
    let held = &pending["comments"][1];
    assert_eq!(held["status"], "pending");
    assert_eq!(held["ip"], "203.0.113.7");
    assert_eq!(held["author"]["email"], "pills@spam.test");
    assert_eq!(held["author"]["pending"], 1);
    assert_eq!(held["article"]["key"], "day");
    let reasons: Vec<String> = serde_json::from_value(held["held_because"].clone()).unwrap();
    assert!(
        reasons.iter().any(|r| r.starts_with("links")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("first_time")),
        "{reasons:?}"
    );
    let newcomer: Vec<String> =
        serde_json::from_value(pending["comments"][2]["held_because"].clone()).unwrap();
    assert_eq!(newcomer.len(), 1, "{newcomer:?}");
    assert!(newcomer[0].contains("first_time"), "{newcomer:?}");

    // The two genuine newcomers are approved together.
    let approved = expect_status(
        bulk(
            &app,
            token,
            &json!({"ids": [carol, alice], "action": "approve", "reason": "welcome"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let outcome = approved["decided"].as_array().unwrap();
    assert_eq!(
        sorted(ids(&approved["decided"])),
        sorted(vec![alice, carol])
    );
    assert!(outcome.iter().all(|d| d["status"] == "approved"));
    deliveries
        .expect(
            &hook,
            &[("comment.approved", alice), ("comment.approved", carol)],
        )
        .await;
    assert_eq!(
        sorted(thread_ids(&app.thread("day").await)),
        sorted(vec![alice, carol])
    );
    assert_eq!(queue_ids(&app, token, "").await, vec![spammer]);

    // Alice has been approved once: her next comment (with the author
    // token her first one got) is published at once.
    let again = returning_guest(
        &app,
        "day",
        alice_who,
        "Coming back for part two!",
        &alice_first,
    )
    .await;
    assert_eq!(again["status"], "approved");
    let again = id_of(&again);
    deliveries
        .expect(&hook, &[("comment.created", again)])
        .await;

    // A cook's comment is marked spam by mistake, then corrected.
    let recipe = "The pasta recipe with fresh basil and garlic was delicious";
    let dave = id_of(&guest(&app, "day", ("Dave", "dave@example.com"), recipe).await);
    deliveries
        .expect(&hook, &[("comment.created", dave), ("comment.held", dave)])
        .await;
    let marked = decided(&app, token, dave, "spam").await;
    assert_eq!(marked["status"], "spam");
    assert_eq!(marked["verdict"], "spam");
    deliveries.expect(&hook, &[("comment.spam", dave)]).await;

    let similar = "Fresh basil and garlic in a pasta recipe: delicious";
    let erin = id_of(&guest(&app, "day", ("Erin", "erin@example.com"), similar).await);
    deliveries
        .expect(&hook, &[("comment.created", erin), ("comment.held", erin)])
        .await;
    let before = learned_score(&detail(&app, token, erin).await["comment"]);

    let corrected = expect_status(
        decide(
            &app,
            token,
            dave,
            &json!({"action": "not_spam", "version": marked["version"]}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(corrected["status"], "approved");
    assert_eq!(corrected["verdict"], "ham");
    deliveries
        .expect(&hook, &[("comment.approved", dave)])
        .await;
    assert!(thread_ids(&app.thread("day").await).contains(&dave));

    let frank = id_of(&guest(&app, "day", ("Frank", "frank@example.com"), similar).await);
    deliveries
        .expect(
            &hook,
            &[("comment.created", frank), ("comment.held", frank)],
        )
        .await;
    let after = learned_score(&detail(&app, token, frank).await["comment"]);
    assert!(
        after < before,
        "the correction should make similar text look less like spam: {before} -> {after}"
    );
    assert!(before > 0.5 && after < 0.5, "{before} -> {after}");

    // The spammer: spam, then banned by address range.
    let spam = expect_status(
        decide(
            &app,
            token,
            spammer,
            &json!({"action": "spam", "reason": "pill spam"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(spam["status"], "spam");
    deliveries.expect(&hook, &[("comment.spam", spammer)]).await;
    let banned = ban(
        &app,
        token,
        &json!({"kind": "ip", "value": "203.0.113.0/24", "reason": "pill spammer"}),
    )
    .await;
    assert_eq!(banned["ban"]["kind"], "ip");
    assert_eq!(banned["ban"]["value"], "203.0.113.0/24");
    assert_eq!(banned["ban"]["active"], true);
    assert_eq!(banned["ban"]["created_by"], moderator.id);
    assert_eq!(banned["comments_trashed"], 0);
    let ban_id = id_of(&banned["ban"]);
    deliveries
        .expect(&hook, &[("commenter.banned", ban_id)])
        .await;

    let refused = post_guest(
        &app,
        "day",
        ("Totally New", "fresh@spam.test"),
        "Pills, again",
        Some("203.0.113.99"),
    )
    .await;
    expect_error(refused, StatusCode::FORBIDDEN, "banned").await;
    assert_eq!(queue_ids(&app, token, "").await, vec![frank, erin]);
    let spam_queue = queue(&app, token, "?status=spam").await;
    assert_eq!(ids(&spam_queue["comments"]), vec![spammer]);
    assert_eq!(spam_queue["comments"][0]["author"]["banned"], true);
    assert_eq!(spam_queue["comments"][0]["author"]["spam"], 1);

    // The audit log tells the day backwards.
    let day = log(&app, token, &format!("?moderator={}", moderator.id)).await;
    assert_eq!(
        actions(&day),
        vec![
            ("ban".to_string(), None),
            ("spam".to_string(), Some(spammer)),
            ("not_spam".to_string(), Some(dave)),
            ("spam".to_string(), Some(dave)),
            ("approve".to_string(), Some(carol)),
            ("approve".to_string(), Some(alice)),
        ]
    );
    let entries = day["entries"].as_array().unwrap();
    assert_eq!(entries[0]["subject"], "ip:203.0.113.0/24");
    assert_eq!(entries[0]["reason"], "pill spammer");
    assert_eq!(entries[1]["reason"], "pill spam");
    assert_eq!(entries[1]["from_status"], "pending");
    assert_eq!(entries[1]["to_status"], "spam");
    assert_eq!(entries[2]["from_status"], "spam");
    assert_eq!(entries[2]["to_status"], "approved");
    assert_eq!(entries[5]["reason"], "welcome");
    assert!(entries
        .iter()
        .all(|e| e["moderator_id"] == moderator.id && e["created_at"].is_string()));
    let history = detail(&app, token, dave).await["history"].clone();
    let history: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(history, vec!["spam", "not_spam"]);

    // Every event arrived exactly once, and nothing else did.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let all = hook.requests();
    assert_eq!(
        all.len(),
        deliveries.consumed,
        "unexpected extra deliveries"
    );
    assert_eq!(deliveries.ids.len(), all.len(), "a delivery was repeated");
    let names: Vec<&str> = deliveries.events.iter().map(|(e, _)| e.as_str()).collect();
    let count = |name: &str| names.iter().filter(|n| **n == name).count();
    assert_eq!(count("comment.created"), 7);
    assert_eq!(count("comment.held"), 6);
    assert_eq!(count("comment.approved"), 3);
    assert_eq!(count("comment.spam"), 2);
    assert_eq!(count("commenter.banned"), 1);
    assert_eq!(names.len(), 19);
    assert_eq!(*names.last().unwrap(), "commenter.banned");
}

// ------------------------------------------------------------ permissions

/// Every moderation endpoint, aimed at `comment`, `ban`, and `account`,
/// with the status a moderator or admin gets.
fn moderation_endpoints(
    comment: i64,
    ban: i64,
    account: i64,
) -> Vec<(Method, String, Option<Value>, StatusCode)> {
    vec![
        (
            Method::GET,
            "/api/v1/moderation/comments".into(),
            None,
            StatusCode::OK,
        ),
        (
            Method::GET,
            format!("/api/v1/moderation/comments/{comment}"),
            None,
            StatusCode::OK,
        ),
        (
            Method::GET,
            "/api/v1/moderation/summary".into(),
            None,
            StatusCode::OK,
        ),
        (
            Method::POST,
            format!("/api/v1/moderation/comments/{comment}/decision"),
            Some(json!({"action": "approve"})),
            StatusCode::OK,
        ),
        (
            Method::POST,
            "/api/v1/moderation/decisions".into(),
            Some(json!({"ids": [comment], "action": "approve"})),
            StatusCode::OK,
        ),
        (
            Method::GET,
            "/api/v1/moderation/log".into(),
            None,
            StatusCode::OK,
        ),
        (
            Method::GET,
            "/api/v1/moderation/commenters".into(),
            None,
            StatusCode::OK,
        ),
        (
            Method::PATCH,
            format!("/api/v1/moderation/users/{account}"),
            Some(json!({"trusted": true})),
            StatusCode::OK,
        ),
        (
            Method::POST,
            "/api/v1/moderation/bans".into(),
            Some(json!({"kind": "email", "value": "nuisance@example.com"})),
            StatusCode::CREATED,
        ),
        (
            Method::GET,
            "/api/v1/moderation/bans".into(),
            None,
            StatusCode::OK,
        ),
        (
            Method::DELETE,
            format!("/api/v1/moderation/bans/{ban}"),
            None,
            StatusCode::OK,
        ),
    ]
}

#[tokio::test]
async fn moderation_endpoints_refuse_strangers_and_commenters_and_admit_moderators_and_admins() {
    let app = spawn_app_with("[moderation]\nmode = \"all\"").await;
    let commenter = app.user(Role::Commenter, "carl@example.com").await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let admin = app.user(Role::Admin, "root@example.com").await;
    let target = app.user(Role::Commenter, "target@example.com").await;
    let for_moderator = id_of(&app.guest_comment("perm", "one").await);
    let for_admin = id_of(&app.guest_comment("perm", "two").await);
    let ban_for_moderator = id_of(
        &ban(
            &app,
            &admin.token,
            &json!({"kind": "email", "value": "first@example.com"}),
        )
        .await["ban"],
    );
    let ban_for_admin = id_of(
        &ban(
            &app,
            &admin.token,
            &json!({"kind": "email", "value": "second@example.com"}),
        )
        .await["ban"],
    );

    for (method, path, body, _) in moderation_endpoints(for_moderator, ban_for_moderator, target.id)
    {
        let response = send(&app, method.clone(), &path, None, body.as_ref()).await;
        expect_error(response, StatusCode::UNAUTHORIZED, "not_signed_in").await;
        let response = send(
            &app,
            method.clone(),
            &path,
            Some(&commenter.token),
            body.as_ref(),
        )
        .await;
        expect_error(response, StatusCode::FORBIDDEN, "forbidden").await;
    }
    // Nothing the refused callers asked for happened.
    let seen = detail(&app, &admin.token, for_moderator).await;
    assert_eq!(seen["comment"]["status"], "pending");
    let all_bans = bans(&app, &admin.token).await;
    assert_eq!(all_bans.len(), 2);
    assert!(all_bans.iter().all(|b| b["active"] == true));
    assert!(log(&app, &admin.token, "").await["entries"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["action"] == "ban"));

    for (user, comment, ban_id) in [
        (&moderator, for_moderator, ban_for_moderator),
        (&admin, for_admin, ban_for_admin),
    ] {
        for (method, path, body, status) in moderation_endpoints(comment, ban_id, target.id) {
            let response = send(
                &app,
                method.clone(),
                &path,
                Some(&user.token),
                body.as_ref(),
            )
            .await;
            assert_eq!(
                response.status(),
                status,
                "{method} {path} as {}",
                user.email
            );
        }
    }
    assert_eq!(
        sorted(thread_ids(&app.thread("perm").await)),
        sorted(vec![for_moderator, for_admin])
    );
    assert!(bans(&app, &admin.token)
        .await
        .iter()
        .filter(|b| b["value"] == "first@example.com" || b["value"] == "second@example.com")
        .all(|b| b["active"] == false));

    // Roles are the admins' alone.
    let promote = json!({"role": "moderator"});
    let path = format!("/api/v1/moderation/users/{}", target.id);
    expect_error(
        send(&app, Method::PATCH, &path, None, Some(&promote)).await,
        StatusCode::UNAUTHORIZED,
        "not_signed_in",
    )
    .await;
    for refused in [&commenter, &moderator] {
        expect_error(
            patch_user(&app, &refused.token, target.id, &promote).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
    }
    let promoted = expect_status(
        patch_user(&app, &admin.token, target.id, &promote).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(promoted["role"], "moderator");

    // The data export is for any signed-in account, never a stranger.
    expect_error(
        app.get("/api/v1/me/export").await,
        StatusCode::UNAUTHORIZED,
        "not_signed_in",
    )
    .await;
    expect_status(
        app.get_as("/api/v1/me/export", &commenter.token).await,
        StatusCode::OK,
    )
    .await;
}

#[tokio::test]
async fn role_changes_take_effect_at_once_and_admins_cannot_change_their_own() {
    let app = spawn_app().await;
    let admin = app.user(Role::Admin, "root@example.com").await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let member = app.user(Role::Commenter, "member@example.com").await;
    expect_error(
        app.get_as("/api/v1/moderation/comments", &member.token)
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;

    expect_error(
        patch_user(&app, &moderator.token, member.id, &json!({"role": "admin"})).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    // A moderator may trust but not promote in the same request.
    expect_error(
        patch_user(
            &app,
            &moderator.token,
            member.id,
            &json!({"trusted": true, "role": "moderator"}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;

    let promoted = expect_status(
        patch_user(&app, &admin.token, member.id, &json!({"role": "moderator"})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(promoted["id"], member.id);
    assert_eq!(promoted["role"], "moderator");
    assert_eq!(
        promoted["trusted"], false,
        "the refused request changed nothing"
    );
    // The member's existing session now has the new role.
    expect_status(
        app.get_as("/api/v1/moderation/comments", &member.token)
            .await,
        StatusCode::OK,
    )
    .await;

    expect_error(
        patch_user(&app, &admin.token, admin.id, &json!({"role": "commenter"})).await,
        StatusCode::CONFLICT,
        "not_actionable",
    )
    .await;
    expect_error(
        patch_user(&app, &admin.token, 987_654, &json!({"role": "moderator"})).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    expect_error(
        patch_user(&app, &moderator.token, 987_654, &json!({"trusted": true})).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    let demoted = expect_status(
        patch_user(&app, &admin.token, member.id, &json!({"role": "commenter"})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(demoted["role"], "commenter");
    expect_error(
        app.get_as("/api/v1/moderation/comments", &member.token)
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;

    let entries = log(&app, &admin.token, &format!("?moderator={}", admin.id)).await;
    let entries = entries["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert!(entries.iter().all(|e| e["action"] == "role"
        && e["subject"] == format!("user:{}", member.id)
        && e["comment_id"].is_null()));
    assert_eq!(entries[0]["reason"], "moderator -> commenter");
    assert_eq!(entries[1]["reason"], "commenter -> moderator");
}

// ------------------------------------------------------------------ queue

#[tokio::test]
async fn the_queue_filters_by_status_article_author_and_literal_text() {
    let app = spawn_app_with(&format!("{PROXIED}[moderation]\nmode = \"all\"\n")).await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let token = moderator.token.as_str();
    let member = app.user(Role::Commenter, "member@example.com").await;
    let g1 = id_of(
        &guest_from(
            &app,
            "alpha",
            ("Ann", "Ann@Example.com"),
            "I am 100% sure about this",
            "198.51.100.1",
        )
        .await,
    );
    let g2 = id_of(
        &expect_status(
            app.request(Method::POST, "/api/v1/articles/beta/comments")
                .header("X-Forwarded-For", "198.51.100.1")
                .json(&json!({"body": "A second thought from me",
                    "author": {"name": "Ann", "email": "ann@example.com", "url": "https://Ann.example/blog"}}))
                .send()
                .await
                .unwrap(),
            StatusCode::CREATED,
        )
        .await,
    );
    let g3 = id_of(
        &guest_from(
            &app,
            "alpha",
            ("Bob_Builder", "bob@example.com"),
            "Agreed, 1000 percent",
            "198.51.100.2",
        )
        .await,
    );
    let a1 = id_of(&account_comment(&app, "alpha", "bob is my uncle", &member.token).await);

    assert_eq!(queue_ids(&app, token, "").await, vec![a1, g3, g2, g1]);
    assert_eq!(
        queue_ids(&app, token, "?status=pending&sort=oldest").await,
        vec![g1, g2, g3, a1]
    );
    assert_eq!(
        queue_ids(&app, token, "?article=alpha").await,
        vec![a1, g3, g1]
    );
    assert!(queue_ids(&app, token, "?article=nowhere").await.is_empty());
    assert_eq!(
        queue_ids(&app, token, "?author=ANN%40example.com").await,
        vec![g2, g1]
    );
    assert_eq!(
        queue_ids(&app, token, "?author=198.51.100.2").await,
        vec![g3]
    );
    assert_eq!(
        queue_ids(&app, token, &format!("?author={}", member.id)).await,
        vec![a1]
    );
    assert_eq!(
        queue_ids(&app, token, &format!("?author=user:{}", member.id)).await,
        vec![a1]
    );
    assert_eq!(
        queue_ids(&app, token, "?article=alpha&author=ann%40example.com").await,
        vec![g1]
    );
    // q: case-insensitive, in body, name, email and URL; % and _ literal.
    assert_eq!(queue_ids(&app, token, "?q=100%25").await, vec![g1]);
    assert_eq!(queue_ids(&app, token, "?q=b_b").await, vec![g3]);
    assert_eq!(queue_ids(&app, token, "?q=BOB").await, vec![a1, g3]);
    assert_eq!(queue_ids(&app, token, "?q=ann.EXAMPLE").await, vec![g2]);
    assert_eq!(queue_ids(&app, token, "?q=bob%40").await, vec![g3]);
    assert_eq!(queue_ids(&app, token, "?q=SECOND+THOUGHT").await, vec![g2]);
    assert!(queue_ids(&app, token, "?q=nothing+like+it")
        .await
        .is_empty());

    // Statuses are separate queues.
    assert!(queue_ids(&app, token, "?status=approved").await.is_empty());
    decided(&app, token, g3, "approve").await;
    decided(&app, token, g2, "trash").await;
    assert_eq!(queue_ids(&app, token, "?status=approved").await, vec![g3]);
    assert_eq!(queue_ids(&app, token, "?status=trash").await, vec![g2]);
    assert_eq!(
        queue_ids(&app, token, "?status=pending").await,
        vec![a1, g1]
    );
    assert!(queue_ids(&app, token, "?status=spam").await.is_empty());

    // Each item carries its author's record.
    let page = queue(&app, token, "?author=ann%40example.com").await;
    let item = &page["comments"][0];
    assert_eq!(item["id"], g1);
    assert_eq!(item["ip"], "198.51.100.1");
    assert_eq!(item["author"]["email"], "ann@example.com");
    assert_eq!(item["author"]["pending"], 1);
    assert_eq!(item["author"]["trash"], 1);
    assert_eq!(item["author"]["approved"], 0);
    assert_eq!(item["author"]["spam"], 0);
    assert_eq!(item["author"]["banned"], false);
    let first = detail(&app, token, g1).await;
    assert_eq!(item["author"]["first_seen"], first["comment"]["created_at"]);
    let mine = &queue(&app, token, "?article=alpha").await["comments"][0];
    assert_eq!(mine["id"], a1);
    assert_eq!(mine["author"]["user_id"], member.id);
    assert_eq!(mine["author"]["pending"], 1);

    ban(
        &app,
        token,
        &json!({"kind": "email", "value": "ANN@example.com"}),
    )
    .await;
    let page = queue(&app, token, "?author=ann%40example.com").await;
    assert_eq!(page["comments"][0]["author"]["banned"], true);
    let others = queue(&app, token, "?author=198.51.100.2&status=approved").await;
    assert_eq!(others["comments"][0]["author"]["banned"], false);
}

#[tokio::test]
async fn queue_pages_follow_the_cursor_without_repeats_in_both_orders() {
    let app = spawn_app_with("[moderation]\nmode = \"all\"").await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let token = moderator.token.as_str();
    let mut all = Vec::new();
    for n in 0..7 {
        all.push(id_of(
            &app.guest_comment("paged", &format!("comment number {n}"))
                .await,
        ));
    }
    app.guest_comment("elsewhere", "not on this article").await;

    for (sort, expected) in [
        ("newest", all.iter().rev().copied().collect::<Vec<_>>()),
        ("oldest", all.clone()),
    ] {
        let mut seen: Vec<i64> = Vec::new();
        let mut pages = 0;
        let mut cursor: Option<String> = None;
        loop {
            let query = match &cursor {
                Some(c) => format!("?article=paged&sort={sort}&limit=3&cursor={c}"),
                None => format!("?article=paged&sort={sort}&limit=3"),
            };
            let page = queue(&app, token, &query).await;
            let page_ids = ids(&page["comments"]);
            assert!(page_ids.len() <= 3);
            seen.extend(page_ids);
            pages += 1;
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_string()),
                None => break,
            }
            assert!(pages < 10, "pagination does not end");
        }
        assert_eq!(pages, 3, "{sort}");
        assert_eq!(seen, expected, "{sort}: every comment once, in order");
    }
    // A page that ends exactly at the last comment says there is no more.
    let page = queue(&app, token, "?article=paged&limit=7").await;
    assert_eq!(ids(&page["comments"]).len(), 7);
    assert!(page["next_cursor"].is_null());
    let first = queue(&app, token, "?limit=1").await;
    assert_eq!(ids(&first["comments"]).len(), 1);
    assert!(first["next_cursor"].is_string());
}

#[tokio::test]
async fn one_comment_comes_with_its_parent_and_history_and_the_summary_counts_everything() {
    let app = spawn_app_with("[moderation]\nmode = \"all\"").await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let token = moderator.token.as_str();
    let admin = app.user(Role::Admin, "root@example.com").await;

    // busy: 4 comments, 1 approved; quiet: 2, 1 spam; calm: 2, 1 trashed, 1
    // deleted by its author.
    let busy: Vec<i64> = {
        let mut v = Vec::new();
        for n in 0..4 {
            v.push(id_of(
                &app.guest_comment("busy", &format!("busy {n}")).await,
            ));
        }
        v
    };
    let quiet_a = id_of(&app.guest_comment("quiet", "quiet a").await);
    app.guest_comment("quiet", "quiet b").await;
    let calm_a = id_of(&app.guest_comment("calm", "calm a").await);
    let calm_b = app.guest_comment("calm", "calm b").await;
    decided(&app, token, busy[0], "approve").await;
    decided(&app, token, quiet_a, "spam").await;
    decided(&app, &admin.token, calm_a, "trash").await;
    expect_status(
        app.request(
            Method::DELETE,
            &format!("/api/v1/comments/{}", id_of(&calm_b)),
        )
        .header("X-Edit-Token", calm_b["edit_token"].as_str().unwrap())
        .send()
        .await
        .unwrap(),
        StatusCode::NO_CONTENT,
    )
    .await;

    let summary = expect_status(
        app.get_as("/api/v1/moderation/summary", token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        summary["overall"],
        json!({"pending": 4, "approved": 1, "spam": 1, "trash": 1, "deleted": 1})
    );
    let keys: Vec<&str> = summary["articles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["article"]["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, vec!["busy", "quiet", "calm"], "most pending first");
    assert_eq!(
        summary["articles"][0]["counts"],
        json!({"pending": 3, "approved": 1, "spam": 0, "trash": 0, "deleted": 0})
    );
    assert_eq!(
        summary["articles"][2]["counts"],
        json!({"pending": 0, "approved": 0, "spam": 0, "trash": 1, "deleted": 1})
    );

    // A reply's detail: its parent as the public sees it, and its history.
    let reply = id_of(&app.guest_reply("busy", busy[0], "a reply").await);
    decided(&app, token, reply, "trash").await;
    decided(&app, &admin.token, reply, "restore").await;
    let seen = detail(&app, token, reply).await;
    assert_eq!(seen["comment"]["id"], reply);
    assert_eq!(seen["comment"]["parent_id"], busy[0]);
    assert_eq!(seen["comment"]["status"], "pending");
    assert_eq!(seen["comment"]["author"]["email"], "replier@example.com");
    assert_eq!(seen["parent"]["id"], busy[0]);
    assert_eq!(seen["parent"]["body"], "busy 0");
    assert!(
        seen["parent"].get("email").is_none() && !seen["parent"].to_string().contains("guest@"),
        "the parent is shown as the public sees it: {}",
        seen["parent"]
    );
    let history = seen["history"].as_array().unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["action"], "trash");
    assert_eq!(history[0]["moderator_id"], moderator.id);
    assert_eq!(history[1]["action"], "restore");
    assert_eq!(history[1]["moderator_id"], admin.id);
    assert_eq!(history[1]["from_status"], "trash");
    assert_eq!(history[1]["to_status"], "pending");
    let top = detail(&app, token, busy[1]).await;
    assert!(top["parent"].is_null());
    assert!(top["history"].as_array().unwrap().is_empty());
    expect_error(
        app.get_as("/api/v1/moderation/comments/987654", token)
            .await,
        StatusCode::NOT_FOUND,
        "comment_not_found",
    )
    .await;
}

#[tokio::test]
async fn the_log_filters_by_moderator_and_comment_and_pages_back_in_time() {
    let app = spawn_app().await;
    let mod1 = app.user(Role::Moderator, "one@example.com").await;
    let mod2 = app.user(Role::Moderator, "two@example.com").await;
    let c = id_of(&app.guest_comment("log", "parent").await);
    let r = id_of(&app.guest_reply("log", c, "reply").await);
    let own = app.guest_comment("log", "regrets").await;

    decided(&app, &mod1.token, c, "trash").await;
    decided(&app, &mod2.token, c, "restore").await;
    decided(&app, &mod1.token, c, "spam").await;
    // A moderator deleting someone's comment is logged; an author deleting
    // their own is not.
    expect_status(
        send(
            &app,
            Method::DELETE,
            &format!("/api/v1/comments/{r}"),
            Some(&mod2.token),
            None,
        )
        .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    expect_status(
        app.request(Method::DELETE, &format!("/api/v1/comments/{}", id_of(&own)))
            .header("X-Edit-Token", own["edit_token"].as_str().unwrap())
            .send()
            .await
            .unwrap(),
        StatusCode::NO_CONTENT,
    )
    .await;

    let everything = log(&app, &mod1.token, "").await;
    assert_eq!(
        actions(&everything),
        vec![
            ("delete".to_string(), Some(r)),
            ("spam".to_string(), Some(c)),
            ("restore".to_string(), Some(c)),
            ("trash".to_string(), Some(c)),
        ]
    );
    assert!(everything["next_cursor"].is_null());
    let delete = &everything["entries"][0];
    assert_eq!(delete["moderator_id"], mod2.id);
    assert_eq!(delete["from_status"], "approved");
    assert_eq!(delete["to_status"], "deleted");
    assert_eq!(
        actions(&log(&app, &mod1.token, &format!("?moderator={}", mod1.id)).await),
        vec![
            ("spam".to_string(), Some(c)),
            ("trash".to_string(), Some(c))
        ]
    );
    assert_eq!(
        actions(&log(&app, &mod1.token, &format!("?comment={r}")).await),
        vec![("delete".to_string(), Some(r))]
    );
    assert_eq!(
        actions(
            &log(
                &app,
                &mod1.token,
                &format!("?moderator={}&comment={c}", mod2.id)
            )
            .await
        ),
        vec![("restore".to_string(), Some(c))]
    );

    // Pages of one, newest first, each entry once.
    let mut paged = Vec::new();
    let mut query = "?limit=1".to_string();
    loop {
        let page = log(&app, &mod2.token, &query).await;
        assert_eq!(page["entries"].as_array().unwrap().len(), 1);
        paged.extend(actions(&page));
        match page["next_cursor"].as_str() {
            Some(next) => query = format!("?limit=1&cursor={next}"),
            None => break,
        }
        assert!(paged.len() < 10);
    }
    assert_eq!(paged, actions(&everything));

    // Deleted comments are past moderating.
    let gone = detail(&app, &mod1.token, r).await;
    assert_eq!(gone["comment"]["status"], "deleted");
    expect_error(
        decide(&app, &mod1.token, r, &json!({"action": "approve"})).await,
        StatusCode::CONFLICT,
        "not_actionable",
    )
    .await;
}

// -------------------------------------------------------------- decisions

#[tokio::test]
async fn two_moderators_on_one_comment_agree_quietly_and_disagree_with_a_conflict() {
    let app = spawn_app_with("[moderation]\nmode = \"all\"").await;
    let ann = app.user(Role::Moderator, "ann.mod@example.com").await;
    let ben = app.user(Role::Moderator, "ben.mod@example.com").await;
    let c = id_of(&app.guest_comment("occ", "please approve me").await);
    let seen = detail(&app, &ann.token, c).await["comment"]["version"]
        .as_i64()
        .unwrap();
    assert_eq!(
        detail(&app, &ben.token, c).await["comment"]["version"],
        seen
    );

    let first = expect_status(
        decide(
            &app,
            &ann.token,
            c,
            &json!({"action": "approve", "version": seen}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(first["status"], "approved");
    let now = first["version"].as_i64().unwrap();
    assert!(now > seen);

    // Ben, from the same stale view, makes the same decision: nothing to do.
    let second = expect_status(
        decide(
            &app,
            &ben.token,
            c,
            &json!({"action": "approve", "version": seen}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(second["status"], "approved");
    assert_eq!(second["version"], now);
    // Ben, from the same stale view, wants something else: conflict.
    expect_error(
        decide(
            &app,
            &ben.token,
            c,
            &json!({"action": "spam", "version": seen}),
        )
        .await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    expect_error(
        decide(
            &app,
            &ben.token,
            c,
            &json!({"action": "trash", "version": seen}),
        )
        .await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    let after = detail(&app, &ann.token, c).await;
    assert_eq!(after["comment"]["status"], "approved");
    assert_eq!(after["comment"]["version"], now);
    assert!(after["comment"]["verdict"].is_null());
    let history = after["history"].as_array().unwrap();
    assert_eq!(history.len(), 1, "one decision, one entry: {history:?}");
    assert_eq!(history[0]["moderator_id"], ann.id);
    // With the current version, Ben may change it.
    let changed = expect_status(
        decide(
            &app,
            &ben.token,
            c,
            &json!({"action": "trash", "version": now}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(changed["status"], "trash");

    // An author's edit while the moderator looks is a change too.
    let created = app.guest_comment("occ", "tpyo").await;
    let edited_id = id_of(&created);
    let looked = detail(&app, &ann.token, edited_id).await["comment"]["version"].clone();
    app.guest_edit(&created, "now with a link to casino.example.com")
        .await;
    expect_error(
        decide(
            &app,
            &ann.token,
            edited_id,
            &json!({"action": "approve", "version": looked}),
        )
        .await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    let fresh = detail(&app, &ann.token, edited_id).await;
    assert_eq!(fresh["comment"]["status"], "pending");
    assert!(fresh["comment"]["body"]
        .as_str()
        .unwrap()
        .contains("casino"));
    let approved = expect_status(
        decide(
            &app,
            &ann.token,
            edited_id,
            &json!({"action": "approve", "version": fresh["comment"]["version"]}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(approved["status"], "approved");
}

#[tokio::test]
async fn bulk_decisions_are_all_or_nothing() {
    let app = spawn_app_with("[moderation]\nmode = \"all\"").await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let token = moderator.token.as_str();
    let a = id_of(&app.guest_comment("bulk", "a").await);
    let b = id_of(&app.guest_comment("bulk", "b").await);
    let c = id_of(&app.guest_comment("bulk", "c").await);
    let gone = app.guest_comment("bulk", "d").await;
    let d = id_of(&gone);
    expect_status(
        app.request(Method::DELETE, &format!("/api/v1/comments/{d}"))
            .header("X-Edit-Token", gone["edit_token"].as_str().unwrap())
            .send()
            .await
            .unwrap(),
        StatusCode::NO_CONTENT,
    )
    .await;

    expect_error(
        bulk(
            &app,
            token,
            &json!({"ids": [a, b, 987_654, c], "action": "approve"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "comment_not_found",
    )
    .await;
    expect_error(
        bulk(&app, token, &json!({"ids": [a, d, b], "action": "spam"})).await,
        StatusCode::CONFLICT,
        "not_actionable",
    )
    .await;
    expect_error(
        bulk(&app, token, &json!({"ids": [a, b], "action": "restore"})).await,
        StatusCode::CONFLICT,
        "not_actionable",
    )
    .await;
    // Nothing changed, nothing logged, nothing published.
    assert_eq!(queue_ids(&app, token, "").await, vec![c, b, a]);
    assert!(log(&app, token, "").await["entries"]
        .as_array()
        .unwrap()
        .is_empty());
    assert!(thread_ids(&app.thread("bulk").await).is_empty());

    let done = expect_status(
        bulk(
            &app,
            token,
            &json!({"ids": [c, a, b, a], "action": "approve", "reason": "fine"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let outcome = done["decided"].as_array().unwrap();
    assert_eq!(outcome.len(), 3, "each comment once: {done}");
    assert_eq!(sorted(ids(&done["decided"])), vec![a, b, c]);
    for item in outcome {
        assert_eq!(item["status"], "approved");
        let current = detail(&app, token, id_of(item)).await;
        assert_eq!(current["comment"]["version"], item["version"]);
    }
    assert_eq!(thread_ids(&app.thread("bulk").await), vec![a, b, c]);
    let entries = log(&app, token, "").await;
    assert_eq!(entries["entries"].as_array().unwrap().len(), 3);
    assert!(entries["entries"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["action"] == "approve" && e["reason"] == "fine"));

    // Approving again changes nothing and logs nothing.
    expect_status(
        bulk(&app, token, &json!({"ids": [a, b, c], "action": "approve"})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        log(&app, token, "").await["entries"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let too_many: Vec<i64> = (1..=501).collect();
    let error = expect_error(
        bulk(&app, token, &json!({"ids": too_many, "action": "trash"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    )
    .await;
    assert_eq!(error["error"]["field"], "ids");
}

#[tokio::test]
async fn restore_puts_a_trashed_comment_back_where_it_was() {
    let app = spawn_app().await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let token = moderator.token.as_str();
    let published = id_of(&app.guest_comment("bin", "published").await);
    let held = id_of(
        &app.guest_comment("bin", "see https://a.example/x and https://b.example/y")
            .await,
    );
    assert_eq!(
        detail(&app, token, held).await["comment"]["status"],
        "pending"
    );
    let spam = id_of(&app.guest_comment("bin", "junk").await);
    decided(&app, token, spam, "spam").await;

    for id in [published, held, spam] {
        assert_eq!(decided(&app, token, id, "trash").await["status"], "trash");
    }
    assert!(thread_ids(&app.thread("bin").await).is_empty());
    assert_eq!(
        queue_ids(&app, token, "?status=trash").await,
        vec![spam, held, published]
    );

    assert_eq!(
        decided(&app, token, published, "restore").await["status"],
        "approved"
    );
    assert_eq!(
        decided(&app, token, held, "restore").await["status"],
        "pending"
    );
    let restored = decided(&app, token, spam, "restore").await;
    assert_eq!(restored["status"], "spam");
    assert_eq!(restored["verdict"], "spam");
    assert_eq!(thread_ids(&app.thread("bin").await), vec![published]);
    assert!(queue_ids(&app, token, "?status=trash").await.is_empty());

    // Restore is only for the trash; deleted and unknown comments are not
    // moderated.
    expect_error(
        decide(&app, token, published, &json!({"action": "restore"})).await,
        StatusCode::CONFLICT,
        "not_actionable",
    )
    .await;
    expect_error(
        decide(&app, token, 987_654, &json!({"action": "approve"})).await,
        StatusCode::NOT_FOUND,
        "comment_not_found",
    )
    .await;
    send(
        &app,
        Method::DELETE,
        &format!("/api/v1/comments/{published}"),
        Some(token),
        None,
    )
    .await;
    for action in ["approve", "trash", "restore", "spam"] {
        expect_error(
            decide(&app, token, published, &json!({ "action": action })).await,
            StatusCode::CONFLICT,
            "not_actionable",
        )
        .await;
    }
    let history = detail(&app, token, held).await["history"].clone();
    let history: Vec<(&str, &str)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["to_status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(history, vec![("trash", "trash"), ("restore", "pending")]);
}

// ------------------------------------------------------------------- bans

#[tokio::test]
async fn a_shadow_banned_commenter_seems_to_post_but_nobody_sees_it() {
    let app = spawn_app().await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let token = moderator.token.as_str();
    let created = ban(
        &app,
        token,
        &json!({"kind": "email", "value": "troll@example.com", "shadow": true}),
    )
    .await;
    assert_eq!(created["ban"]["shadow"], true);

    let response = post_guest(
        &app,
        "shadow",
        ("Troll", "troll@example.com"),
        "you are all wrong",
        None,
    )
    .await;
    let posted = expect_status(response, StatusCode::CREATED).await;
    assert_eq!(posted["status"], "pending", "the author is not told");
    let id = id_of(&posted);
    let seen = detail(&app, token, id).await;
    assert_eq!(seen["comment"]["status"], "spam");
    assert_eq!(seen["comment"]["author"]["banned"], true);
    let other = id_of(&app.guest_comment("shadow", "a normal comment").await);
    assert_eq!(thread_ids(&app.thread("shadow").await), vec![other]);
}

#[tokio::test]
async fn a_ban_with_a_duration_ends_by_itself() {
    let app = spawn_app().await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let token = moderator.token.as_str();
    let who = ("Hothead", "hothead@example.com");
    let created = ban(
        &app,
        token,
        &json!({"kind": "email", "value": "Hothead@example.com", "duration": "800ms", "reason": "cool down"}),
    )
    .await;
    let ban_id = id_of(&created["ban"]);
    assert_eq!(created["ban"]["value"], "hothead@example.com");
    assert_eq!(created["ban"]["active"], true);
    assert_eq!(created["ban"]["reason"], "cool down");
    let expires =
        chrono::DateTime::parse_from_rfc3339(created["ban"]["expires_at"].as_str().unwrap())
            .unwrap()
            .timestamp_millis();
    let now = chrono::Utc::now().timestamp_millis();
    assert!(expires > now && expires <= now + 800, "{expires} vs {now}");

    let refused = expect_error(
        post_guest(&app, "cool", who, "one more thing", None).await,
        StatusCode::FORBIDDEN,
        "banned",
    )
    .await;
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("until"),
        "{refused}"
    );
    assert_eq!(app.thread("cool").await["total"], 0);

    tokio::time::sleep(Duration::from_millis(900)).await;
    guest(&app, "cool", who, "one more thing").await;
    let listed = bans(&app, token).await;
    let listed = listed.iter().find(|b| id_of(b) == ban_id).unwrap();
    assert_eq!(listed["active"], false);
    assert!(listed["lifted_at"].is_null());

    // An explicit end time works the same way.
    let until = (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339();
    let week = ban(
        &app,
        token,
        &json!({"kind": "email", "value": "week@example.com", "expires_at": until}),
    )
    .await;
    let expires =
        chrono::DateTime::parse_from_rfc3339(week["ban"]["expires_at"].as_str().unwrap()).unwrap();
    let wanted = chrono::DateTime::parse_from_rfc3339(&until).unwrap();
    assert_eq!(expires.timestamp_millis(), wanted.timestamp_millis());
    assert_eq!(week["ban"]["active"], true);
    expect_error(
        post_guest(&app, "cool", ("Week", "week@example.com"), "hello", None).await,
        StatusCode::FORBIDDEN,
        "banned",
    )
    .await;
}

#[tokio::test]
async fn lifting_a_ban_lets_the_commenter_back_in() {
    let app = spawn_app().await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let token = moderator.token.as_str();
    let member = app.user(Role::Commenter, "member@example.com").await;
    account_comment(&app, "lift", "before the ban", &member.token).await;

    let created = ban(
        &app,
        token,
        &json!({"kind": "user", "value": member.id.to_string(), "reason": "rude"}),
    )
    .await;
    let ban_id = id_of(&created["ban"]);
    assert_eq!(created["ban"]["kind"], "user");
    assert_eq!(created["ban"]["value"], member.id.to_string());
    assert!(created["ban"]["expires_at"].is_null());
    expect_error(
        app.post_json_as(
            "/api/v1/articles/lift/comments",
            &json!({"body": "let me speak"}),
            &member.token,
        )
        .await,
        StatusCode::FORBIDDEN,
        "banned",
    )
    .await;
    let commenter = commenters(&app, token, "?q=member").await;
    assert_eq!(commenter.len(), 1);
    assert_eq!(commenter[0]["banned"], true);

    let lifted = expect_status(
        send(
            &app,
            Method::DELETE,
            &format!("/api/v1/moderation/bans/{ban_id}"),
            Some(token),
            None,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(lifted["id"], ban_id);
    assert_eq!(lifted["active"], false);
    assert!(lifted["lifted_at"].is_string());
    account_comment(&app, "lift", "let me speak", &member.token).await;
    assert_eq!(
        commenters(&app, token, "?q=member").await[0]["banned"],
        false
    );

    for id in [ban_id, 987_654] {
        expect_error(
            send(
                &app,
                Method::DELETE,
                &format!("/api/v1/moderation/bans/{id}"),
                Some(token),
                None,
            )
            .await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
    let listed = bans(&app, token).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["active"], false);
    assert!(listed[0]["lifted_at"].is_string());
    let entries = log(&app, token, "").await;
    let entries = entries["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["action"], "unban");
    assert_eq!(entries[1]["action"], "ban");
    assert_eq!(entries[1]["reason"], "rude");
    for e in entries {
        assert_eq!(e["subject"], format!("user:{}", member.id));
    }
}

#[tokio::test]
async fn banning_with_trash_existing_sweeps_the_commenters_comments() {
    let app = spawn_app_with(PROXIED).await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let token = moderator.token.as_str();
    let spammy = ("Spammy", "spammy@example.com");
    let s1 = id_of(&guest_from(&app, "sweep", spammy, "first", "203.0.113.5").await);
    let s2 = id_of(&guest_from(&app, "other", spammy, "second", "203.0.113.6").await);
    let s3 = id_of(
        &guest_from(
            &app,
            "sweep",
            ("Another Name", "alias@example.com"),
            "same range",
            "203.0.113.200",
        )
        .await,
    );
    let s4 = guest_from(
        &app,
        "sweep",
        spammy,
        "see https://a.example/x and https://b.example/y",
        "203.0.113.5",
    )
    .await;
    assert_eq!(s4["status"], "pending");
    let s4 = id_of(&s4);
    let s5 = id_of(&guest_from(&app, "sweep", spammy, "junk", "203.0.113.5").await);
    decided(&app, token, s5, "spam").await;
    let innocent = id_of(
        &guest_from(
            &app,
            "sweep",
            ("Innocent", "innocent@example.com"),
            "hello",
            "198.51.100.9",
        )
        .await,
    );

    let created = ban(
        &app,
        token,
        &json!({"kind": "ip", "value": "203.0.113.77/24", "trash_existing": true}),
    )
    .await;
    assert_eq!(created["ban"]["value"], "203.0.113.0/24");
    assert_eq!(created["comments_trashed"], 4);
    let ban_id = id_of(&created["ban"]);

    assert_eq!(
        queue_ids(&app, token, "?status=trash").await,
        vec![s4, s3, s2, s1]
    );
    assert_eq!(queue_ids(&app, token, "?status=spam").await, vec![s5]);
    assert_eq!(thread_ids(&app.thread("sweep").await), vec![innocent]);
    assert!(thread_ids(&app.thread("other").await).is_empty());
    let entries = log(&app, token, "").await;
    let trashed: Vec<&Value> = entries["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "trash")
        .collect();
    assert_eq!(trashed.len(), 4);
    assert!(trashed
        .iter()
        .all(|e| e["reason"] == format!("ban #{ban_id}") && e["to_status"] == "trash"));
    // The sweep is undoable one by one.
    assert_eq!(
        decided(&app, token, s4, "restore").await["status"],
        "pending"
    );
    assert_eq!(
        decided(&app, token, s1, "restore").await["status"],
        "approved"
    );

    // By account, too.
    let other = app.user(Role::Commenter, "sweep.me@example.com").await;
    let mine = id_of(&account_comment(&app, "sweep", "mine", &other.token).await);
    let by_email = ban(
        &app,
        token,
        &json!({"kind": "user", "value": other.id.to_string(), "trash_existing": true}),
    )
    .await;
    assert_eq!(by_email["comments_trashed"], 1);
    assert_eq!(
        detail(&app, token, mine).await["comment"]["status"],
        "trash"
    );
}

// ------------------------------------------------------------- commenters

#[tokio::test]
async fn commenters_are_listed_with_their_record_and_found_by_name_or_email() {
    let app = spawn_app().await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let token = moderator.token.as_str();
    let member = app.user(Role::Commenter, "member@example.com").await;
    account_comment(&app, "people", "first words", &member.token).await;
    let trashed = id_of(&account_comment(&app, "people", "second words", &member.token).await);
    decided(&app, token, trashed, "trash").await;
    let gail = ("Gail", "Gail@Example.com");
    let g1 = guest(&app, "people", gail, "hello from gail").await;
    let g2 = id_of(&guest(&app, "people", gail, "buy my stuff").await);
    decided(&app, token, g2, "spam").await;

    let everyone = commenters(&app, token, "").await;
    let account = everyone
        .iter()
        .find(|c| c["account"]["id"] == member.id)
        .expect("the member is listed");
    assert_eq!(account["kind"], "account");
    assert_eq!(account["email"], "member@example.com");
    assert_eq!(account["account"]["role"], "commenter");
    assert_eq!(account["account"]["trusted"], false);
    assert_eq!(account["approved"], 1);
    assert_eq!(account["trash"], 1);
    assert_eq!(account["pending"], 0);
    assert_eq!(account["spam"], 0);
    assert!(account["first_seen"].is_string());
    assert_eq!(account["banned"], false);
    let staff = everyone
        .iter()
        .find(|c| c["account"]["id"] == moderator.id)
        .expect("accounts without comments are listed too");
    assert_eq!(staff["approved"], 0);
    assert!(staff["first_seen"].is_null());

    let guest_entry = everyone
        .iter()
        .find(|c| c["kind"] == "guest")
        .expect("the guest is listed");
    assert_eq!(guest_entry["email"], "gail@example.com");
    assert_eq!(guest_entry["name"], "Gail");
    assert!(guest_entry["account"].is_null());
    assert_eq!(guest_entry["approved"], 1);
    assert_eq!(guest_entry["spam"], 1);
    assert_eq!(guest_entry["pending"], 0);
    assert_eq!(guest_entry["first_seen"], g1["created_at"]);
    let first = guest_entry["first_seen"].as_str().unwrap();
    let last = guest_entry["last_seen"].as_str().unwrap();
    assert!(last >= first, "{first} .. {last}");
    assert_eq!(guest_entry["banned"], false);
    assert_eq!(
        everyone.iter().filter(|c| c["kind"] == "guest").count(),
        1,
        "one guest, however many comments"
    );

    let found = commenters(&app, token, "?q=GAIL").await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["email"], "gail@example.com");
    let found = commenters(&app, token, "?q=member%40").await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["account"]["id"], member.id);
    assert!(commenters(&app, token, "?q=nobody+at+all").await.is_empty());
    assert!(
        commenters(&app, token, "?q=%25").await.is_empty(),
        "% is literal"
    );

    ban(
        &app,
        token,
        &json!({"kind": "email", "value": "gail@example.com"}),
    )
    .await;
    assert_eq!(commenters(&app, token, "?q=gail").await[0]["banned"], true);
}

#[tokio::test]
async fn an_accounts_last_seen_is_its_latest_comment() {
    let app = spawn_app().await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let member = app.user(Role::Commenter, "member@example.com").await;
    let first = account_comment(&app, "seen", "first", &member.token).await;
    let last = account_comment(&app, "seen", "last", &member.token).await;
    let found = commenters(&app, &moderator.token, "?q=member%40").await;
    assert_eq!(found[0]["first_seen"], first["created_at"]);
    assert_eq!(found[0]["last_seen"], last["created_at"]);
}

#[tokio::test]
async fn trusting_a_commenter_lets_them_skip_first_time_holding() {
    let app = spawn_app_with("[moderation]\nmode = \"first_time\"").await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let token = moderator.token.as_str();
    let alice = app.user(Role::Commenter, "alice@example.com").await;
    let bob = app.user(Role::Commenter, "bob@example.com").await;

    assert_eq!(
        account_comment(&app, "trust", "hello", &alice.token).await["status"],
        "pending"
    );
    let trusted = expect_status(
        patch_user(&app, token, alice.id, &json!({"trusted": true})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(trusted["id"], alice.id);
    assert_eq!(trusted["trusted"], true);
    assert_eq!(trusted["role"], "commenter");
    assert_eq!(
        account_comment(&app, "trust", "hello again", &alice.token).await["status"],
        "approved"
    );

    // Trust taken back before the first comment: held as any newcomer.
    patch_user(&app, token, bob.id, &json!({"trusted": true})).await;
    let untrusted = expect_status(
        patch_user(&app, token, bob.id, &json!({"trusted": false})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(untrusted["trusted"], false);
    assert_eq!(
        account_comment(&app, "trust", "bob here", &bob.token).await["status"],
        "pending"
    );
    // Setting what is already so changes (and logs) nothing.
    expect_status(
        patch_user(&app, token, bob.id, &json!({"trusted": false})).await,
        StatusCode::OK,
    )
    .await;

    let entries = log(&app, token, "").await;
    let entries: Vec<(String, String)> = entries["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_string(),
                e["subject"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        entries,
        vec![
            ("untrust".to_string(), format!("user:{}", bob.id)),
            ("trust".to_string(), format!("user:{}", bob.id)),
            ("trust".to_string(), format!("user:{}", alice.id)),
        ]
    );
}

#[tokio::test]
async fn first_time_mode_publishes_a_guest_once_a_moderator_approved_them() {
    let app = spawn_app_with("[moderation]\nmode = \"first_time\"").await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let who = ("Newbie", "newbie@example.com");
    let first = guest(&app, "ft", who, "hi all").await;
    assert_eq!(first["status"], "pending");
    let still = returning_guest(&app, "ft", who, "anyone?", &first).await;
    assert_eq!(still["status"], "pending", "held until one is approved");
    decided(&app, &moderator.token, id_of(&first), "approve").await;
    let next = returning_guest(
        &app,
        "ft",
        ("Newbie", "NEWBIE@example.com"),
        "thanks!",
        &first,
    )
    .await;
    assert_eq!(next["status"], "approved");
    let stranger = guest(&app, "ft", ("Other", "other@example.com"), "me too").await;
    assert_eq!(stranger["status"], "pending");
}

#[tokio::test]
async fn first_time_trust_cannot_be_borrowed_with_an_approved_guests_email() {
    let app = spawn_app_with(&format!("{PROXIED}[moderation]\nmode = \"first_time\"")).await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let regular = ("Regular", "regular@example.com");
    let first = guest_from(&app, "borrow", regular, "first words", "198.51.100.1").await;
    decided(&app, &moderator.token, id_of(&first), "approve").await;

    // A stranger who knows the address, under another name and address.
    let borrowed = ("Not Regular", "regular@example.com");
    let posing = guest_from(&app, "borrow", borrowed, "buy my stuff", "203.0.113.50").await;
    assert_eq!(posing["status"], "pending");
    // Even under the same name, and with a made-up or someone else's token.
    let real = first["author_token"].as_str().unwrap();
    let tampered = format!(
        "{}{}",
        &real[..real.len() - 1],
        if real.ends_with('x') { 'y' } else { 'x' }
    );
    for token in ["made-up", tampered.as_str()] {
        let response = app
            .request(Method::POST, "/api/v1/articles/borrow/comments")
            .header("X-Forwarded-For", "203.0.113.50")
            .json(&json!({"body": format!("still me {token}"),
                          "author": {"name": "Regular", "email": "regular@example.com", "token": token}}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            expect_status(response, StatusCode::CREATED).await["status"],
            "pending"
        );
    }
    let other = guest(&app, "borrow", ("Other", "other@example.com"), "hello").await;
    let with_wrong_token = app
        .post_json(
            "/api/v1/articles/borrow/comments",
            &json!({"body": "mixing tokens", "author": {"name": "Regular",
                    "email": "regular@example.com", "token": other["author_token"]}}),
        )
        .await;
    assert_eq!(
        expect_status(with_wrong_token, StatusCode::CREATED).await["status"],
        "pending"
    );
    // The real one, from anywhere, with their token.
    let back = returning_guest(&app, "borrow", regular, "back again", &first).await;
    assert_eq!(back["status"], "approved");
    // A thread shows the same avatar key for both, and no token.
    let thread = app.thread("borrow").await;
    assert!(!thread
        .to_string()
        .contains(first["author_token"].as_str().unwrap()));
}

// ------------------------------------------------------------------- GDPR

#[tokio::test]
async fn a_commenter_exports_their_data_and_deleting_the_account_anonymizes_comments() {
    let app = spawn_app_with(PROXIED).await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let member = app.user(Role::Commenter, "member@example.com").await;
    let other = app.user(Role::Commenter, "other@example.com").await;
    let post_as_member = |body: &'static str| {
        app.request(Method::POST, "/api/v1/articles/gdpr/comments")
            .bearer_auth(&member.token)
            .header("X-Forwarded-For", "192.0.2.10")
            .header("User-Agent", "MemberBrowser/1.0")
            .json(&json!({"body": body, "author": {"url": "https://member.example"}}))
            .send()
    };
    let c1 = id_of(
        &expect_status(
            post_as_member("my first").await.unwrap(),
            StatusCode::CREATED,
        )
        .await,
    );
    let c2 = id_of(
        &expect_status(
            post_as_member("my second").await.unwrap(),
            StatusCode::CREATED,
        )
        .await,
    );
    let theirs = id_of(&account_comment(&app, "gdpr", "not yours", &other.token).await);

    let export = expect_status(
        app.get_as("/api/v1/me/export", &member.token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(export["account"]["id"], member.id);
    assert_eq!(export["account"]["email"], "member@example.com");
    assert_eq!(export["account"]["role"], "commenter");
    assert_eq!(ids(&export["comments"]), vec![c1, c2]);
    let exported = &export["comments"][0];
    assert_eq!(exported["body"], "my first");
    assert_eq!(exported["article"], "gdpr");
    assert_eq!(exported["ip"], "192.0.2.10");
    assert_eq!(exported["user_agent"], "MemberBrowser/1.0");
    assert_eq!(exported["author_url"], "https://member.example/");
    assert!(!export.to_string().contains("not yours"));

    expect_error(
        send(
            &app,
            Method::DELETE,
            "/api/v1/me",
            Some(&member.token),
            Some(&json!({"password": "wrong password"})),
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    expect_status(
        app.get_as("/api/v1/me", &member.token).await,
        StatusCode::OK,
    )
    .await;
    // A second session, as on another device.
    let other_device = expect_status(
        app.post_json(
            "/api/v1/auth/login",
            &json!({"email": member.email, "password": member.password}),
        )
        .await,
        StatusCode::OK,
    )
    .await["token"]
        .as_str()
        .unwrap()
        .to_string();

    let deleted = expect_status(
        send(
            &app,
            Method::DELETE,
            "/api/v1/me",
            Some(&member.token),
            Some(&json!({"password": member.password})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        deleted,
        json!({"deleted": true, "comments_affected": 2, "comments": "anonymized"})
    );
    for token in [&member.token, &other_device] {
        for path in ["/api/v1/me", "/api/v1/me/export"] {
            let response = app.get_as(path, token).await;
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
        }
    }
    expect_error(
        app.post_json(
            "/api/v1/auth/login",
            &json!({"email": member.email, "password": member.password}),
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;

    // The words stay; who wrote them does not.
    let thread = app.thread("gdpr").await;
    assert_eq!(thread_ids(&thread), vec![c1, c2, theirs]);
    assert_eq!(thread["comments"][0]["body"], "my first");
    assert_eq!(thread["comments"][0]["author"]["name"], "Deleted user");
    assert_eq!(thread["comments"][0]["author"]["registered"], false);
    assert!(thread["comments"][0]["author"]["avatar"].is_null());
    let seen = detail(&app, &moderator.token, c1).await["comment"].clone();
    assert_eq!(seen["author"]["name"], "Deleted user");
    for field in ["email", "url", "user_id", "avatar"] {
        assert!(seen["author"][field].is_null(), "{field}: {seen}");
    }
    assert!(
        seen["ip"].is_null() && seen["user_agent"].is_null(),
        "{seen}"
    );
    assert!(!seen.to_string().contains("member@example.com"));
    assert!(!seen.to_string().contains("192.0.2.10"));
    assert!(commenters(&app, &moderator.token, "?q=member%40")
        .await
        .is_empty());
    assert_eq!(
        detail(&app, &moderator.token, theirs).await["comment"]["author"]["user_id"],
        other.id
    );
}

#[tokio::test]
async fn deleting_an_account_can_delete_its_comments_keeping_placeholders_for_replies() {
    let app = spawn_app_with("[accounts]\non_delete = \"delete\"").await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let member = app.user(Role::Commenter, "member@example.com").await;
    let lonely = id_of(&account_comment(&app, "gone", "nobody answers this", &member.token).await);
    let answered = id_of(&account_comment(&app, "gone", "this gets a reply", &member.token).await);
    let reply = id_of(&app.guest_reply("gone", answered, "a reply").await);

    let deleted = expect_status(
        send(
            &app,
            Method::DELETE,
            "/api/v1/me",
            Some(&member.token),
            Some(&json!({"password": member.password})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        deleted,
        json!({"deleted": true, "comments_affected": 2, "comments": "deleted"})
    );
    expect_error(
        app.get_as("/api/v1/me", &member.token).await,
        StatusCode::UNAUTHORIZED,
        "invalid_session",
    )
    .await;

    let thread = app.thread("gone").await;
    assert_eq!(thread_ids(&thread), vec![answered, reply]);
    let placeholder = &thread["comments"][0];
    assert_eq!(placeholder["deleted"], true);
    assert_eq!(placeholder["body"], "");
    assert!(placeholder["author"].is_null());
    assert_eq!(thread["comments"][1]["parent_id"], answered);
    assert_eq!(thread["total"], 1);
    let text = thread.to_string();
    assert!(!text.contains("nobody answers") && !text.contains("gets a reply"));

    for id in [lonely, answered] {
        let seen = detail(&app, &moderator.token, id).await["comment"].clone();
        assert_eq!(seen["status"], "deleted");
        assert_eq!(seen["body"], "");
        assert!(seen["author"]["email"].is_null());
        assert!(seen["author"]["user_id"].is_null());
    }
    assert_eq!(
        sorted(queue_ids(&app, &moderator.token, "?status=deleted").await),
        vec![lonely, answered]
    );
}

// -------------------------------------------------------------- retention

#[tokio::test]
async fn retention_purges_spam_then_trash_then_client_data_and_logs_it() {
    let app = spawn_app().await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let token = moderator.token.as_str();
    let spam = id_of(&app.guest_comment("keep", "spam to purge").await);
    decided(&app, token, spam, "spam").await;
    let trash = id_of(&app.guest_comment("keep", "trash to purge").await);
    decided(&app, token, trash, "trash").await;
    let kept = id_of(&app.guest_comment("keep", "stays forever").await);
    assert_eq!(
        detail(&app, token, kept).await["comment"]["ip"],
        "127.0.0.1"
    );
    let purge = |now: i64| {
        moderato::moderation::retention::purge(&app.state.db, &app.state.settings.retention, now)
    };
    let now = chrono::Utc::now().timestamp_millis();

    let first = purge(now + 16 * DAY_MS).await.expect("purge");
    assert_eq!((first.spam, first.trash, first.client_data), (1, 0, 0));
    expect_error(
        app.get_as(&format!("/api/v1/moderation/comments/{spam}"), token)
            .await,
        StatusCode::NOT_FOUND,
        "comment_not_found",
    )
    .await;
    assert_eq!(
        detail(&app, token, trash).await["comment"]["status"],
        "trash"
    );
    assert_eq!(
        detail(&app, token, kept).await["comment"]["ip"],
        "127.0.0.1"
    );
    assert!(queue_ids(&app, token, "?status=spam").await.is_empty());
    let entries = log(&app, token, "").await;
    let newest = &entries["entries"][0];
    assert_eq!(newest["action"], "purge");
    assert!(newest["moderator_id"].is_null());
    let reason = newest["reason"].as_str().unwrap();
    assert!(
        reason.contains("1 spam") && reason.contains("0 trash"),
        "{reason}"
    );

    let second = purge(now + 31 * DAY_MS).await.expect("purge");
    assert_eq!((second.spam, second.trash, second.client_data), (0, 1, 1));
    expect_error(
        app.get_as(&format!("/api/v1/moderation/comments/{trash}"), token)
            .await,
        StatusCode::NOT_FOUND,
        "comment_not_found",
    )
    .await;
    let survivor = detail(&app, token, kept).await["comment"].clone();
    assert!(survivor["ip"].is_null(), "{survivor}");
    assert!(survivor["user_agent"].is_null(), "{survivor}");
    assert_eq!(survivor["body"], "stays forever");
    assert_eq!(thread_ids(&app.thread("keep").await), vec![kept]);
    let entries = log(&app, token, "").await;
    let newest = &entries["entries"][0];
    assert_eq!(newest["action"], "purge");
    let reason = newest["reason"].as_str().unwrap();
    assert!(
        reason.contains("0 spam") && reason.contains("1 trash") && reason.contains("from 1 "),
        "{reason}"
    );
    let purges = entries["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "purge")
        .count();
    assert_eq!(purges, 2);

    // A run with nothing to do leaves no trace.
    let idle = purge(now + 31 * DAY_MS).await.expect("purge");
    assert_eq!((idle.spam, idle.trash, idle.client_data), (0, 0, 0));
    let again = log(&app, token, "").await;
    assert_eq!(again["entries"], entries["entries"]);
}

// --------------------------------------------------------------- articles

#[tokio::test]
async fn an_admin_closes_and_reopens_an_article() {
    let app = spawn_app().await;
    app.guest_comment("closing", "before closing").await;
    let closed = app
        .admin_put_article("closing", &json!({"comments_open": false}))
        .await;
    assert_eq!(closed["comments_open"], false);
    expect_error(
        post_guest(
            &app,
            "closing",
            ("Late", "late@example.com"),
            "too late?",
            None,
        )
        .await,
        StatusCode::FORBIDDEN,
        "comments_closed",
    )
    .await;
    assert_eq!(app.thread("closing").await["total"], 1);
    let opened = app
        .admin_put_article("closing", &json!({"comments_open": true}))
        .await;
    assert_eq!(opened["comments_open"], true);
    guest(&app, "closing", ("Late", "late@example.com"), "too late?").await;
    assert_eq!(app.thread("closing").await["total"], 2);
}

#[tokio::test]
async fn articles_close_by_themselves_after_close_after_days() {
    let app = spawn_app_with("[articles]\nclose_after_days = 1").await;
    app.guest_comment("old-post", "while it was new").await;
    app.guest_comment("new-post", "fresh").await;
    let two_days_ago = chrono::Utc::now().timestamp_millis() - 2 * DAY_MS;
    let updated = app
        .state
        .db
        .write(move |conn| {
            diesel::sql_query(format!(
                "UPDATE articles SET created_at = {two_days_ago} WHERE \"key\" = 'old-post'"
            ))
            .execute(conn)
            .map_err(DbError::from)
        })
        .await
        .expect("backdate");
    assert_eq!(updated, 1);

    expect_error(
        post_guest(
            &app,
            "old-post",
            ("Late", "late@example.com"),
            "anyone?",
            None,
        )
        .await,
        StatusCode::FORBIDDEN,
        "comments_closed",
    )
    .await;
    guest(&app, "new-post", ("Late", "late@example.com"), "anyone?").await;
    assert_eq!(app.thread("old-post").await["total"], 1);
}

// --------------------------------------------------------------- webhooks

#[tokio::test]
async fn a_webhook_refused_once_is_delivered_on_retry_with_the_same_id() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let hook = StandIn::start_with(move |_| {
        if counter.fetch_add(1, Ordering::SeqCst) == 0 {
            Reply::status(503, "busy")
        } else {
            Reply::ok("ok")
        }
    })
    .await;
    let app = spawn_app_with(&format!("{FAST_OUTBOX}{}", webhooks_to(&hook.url, &[]))).await;
    let created = app.guest_comment("hooked", "deliver me").await;

    let got = hook.wait_for(2, Duration::from_secs(5)).await;
    let first = verified(&got[0]);
    let second = verified(&got[1]);
    assert_eq!(first["id"], second["id"], "a retry keeps its delivery id");
    assert_eq!(first["event"], "comment.created");
    assert_eq!(second["data"]["comment"]["id"], created["id"]);
    assert_eq!(second["data"]["comment"]["body"], "deliver me");
    assert_eq!(second["data"]["comment"]["article"], "hooked");
    assert_eq!(
        second["data"]["comment"]["author"]["email"],
        "guest@example.com"
    );
    assert!(
        !got[1].text().contains("127.0.0.1"),
        "events never carry the IP: {}",
        got[1].text()
    );

    let messages = settled_webhook_messages(&app).await;
    assert_eq!(messages.len(), 1);
    assert!(messages[0].delivered_at.is_some());
    assert!(messages[0].gave_up_at.is_none());
    assert_eq!(messages[0].attempts, 2);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(hook.requests().len(), 2, "nothing after success");
}

#[tokio::test]
async fn a_webhook_that_always_fails_is_given_up_after_max_attempts() {
    let hook = StandIn::start(Reply::status(500, "broken")).await;
    let app = spawn_app_with(&format!(
        "{FAST_OUTBOX}max_attempts = 3\n{}",
        webhooks_to(&hook.url, &[])
    ))
    .await;
    app.guest_comment("hooked", "nobody listens").await;

    let got = hook.wait_for(3, Duration::from_secs(5)).await;
    let delivery: HashSet<String> = got
        .iter()
        .map(|r| verified(r)["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(delivery.len(), 1, "the same message each time");
    let messages = settled_webhook_messages(&app).await;
    assert_eq!(messages.len(), 1);
    let message = &messages[0];
    assert!(message.gave_up_at.is_some(), "{message:?}");
    assert!(message.delivered_at.is_none());
    assert_eq!(message.attempts, 3);
    assert!(
        message.last_error.as_deref().unwrap_or("").contains("500"),
        "{message:?}"
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(hook.requests().len(), 3, "no attempt after giving up");
}

#[tokio::test]
async fn a_webhook_endpoint_gets_only_the_events_it_subscribed_to() {
    let hook = StandIn::start(Reply::ok("")).await;
    let app = spawn_app_with(&format!(
        "{FAST_OUTBOX}{}",
        webhooks_to(
            &hook.url,
            &[
                "comment.held",
                "comment.deleted",
                "comment.trashed",
                "commenter.banned"
            ]
        )
    ))
    .await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let published = id_of(&app.guest_comment("subs", "published at once").await);
    let held = id_of(
        &app.guest_comment("subs", "see https://a.example/x and https://b.example/y")
            .await,
    );
    decided(&app, &moderator.token, held, "approve").await;
    send(
        &app,
        Method::DELETE,
        &format!("/api/v1/comments/{published}"),
        Some(&moderator.token),
        None,
    )
    .await;

    let mut deliveries = Deliveries::new();
    deliveries
        .expect(
            &hook,
            &[("comment.held", held), ("comment.deleted", published)],
        )
        .await;
    // A ban sweeping the author's comments announces each one it trashed.
    let created = ban(
        &app,
        &moderator.token,
        &json!({"kind": "email", "value": "guest@example.com", "trash_existing": true}),
    )
    .await;
    assert_eq!(created["comments_trashed"], 1);
    deliveries
        .expect(
            &hook,
            &[
                ("comment.trashed", held),
                ("commenter.banned", id_of(&created["ban"])),
            ],
        )
        .await;
    // Back from the trash to the queue is "held" again.
    let restored = decided(&app, &moderator.token, held, "restore").await;
    assert_eq!(restored["status"], "approved");
    let pending = id_of(
        &guest(
            &app,
            "subs",
            ("Other", "other@example.com"),
            "see https://c.example/x and https://d.example/y",
        )
        .await,
    );
    decided(&app, &moderator.token, pending, "trash").await;
    decided(&app, &moderator.token, pending, "restore").await;
    deliveries
        .expect(
            &hook,
            &[
                ("comment.held", pending),
                ("comment.trashed", pending),
                ("comment.held", pending),
            ],
        )
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(hook.requests().len(), 7, "{:#?}", hook.requests());
    let banned = hook
        .requests()
        .iter()
        .map(verified)
        .find(|p| p["event"] == "commenter.banned")
        .unwrap();
    assert_eq!(banned["data"]["ban"]["kind"], "email");
    assert_eq!(banned["data"]["ban"]["value"], "guest@example.com");
    assert_eq!(banned["data"]["ban"]["comments_trashed"], 1);
    let deleted = hook
        .requests()
        .iter()
        .map(verified)
        .find(|p| p["event"] == "comment.deleted")
        .unwrap();
    assert_eq!(deleted["data"]["comment"]["status"], "deleted");
    assert_eq!(deleted["data"]["comment"]["body"], "");
}

// -------------------------------------------------------------- bad input

#[tokio::test]
async fn bad_moderation_input_gets_clear_errors_never_500() {
    let app = spawn_app().await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let admin = app.user(Role::Admin, "root@example.com").await;
    let token = moderator.token.as_str();
    let c = id_of(&app.guest_comment("bad", "a comment").await);

    for body in [
        json!({"action": "bless"}),
        json!({"action": "approve", "extra": 1}),
        json!({}),
        json!({"action": "approve", "version": "one"}),
    ] {
        expect_error(
            decide(&app, token, c, &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        )
        .await;
    }
    // serde_json reports a number where an enum belongs as a syntax error:
    // a client error either way, never a 500.
    let response = decide(&app, token, c, &json!({"action": 7})).await;
    assert!(
        response.status() == StatusCode::BAD_REQUEST
            || response.status() == StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        response.status()
    );
    let field = |error: Value| error["error"]["field"].as_str().unwrap().to_string();
    let error = expect_error(
        decide(
            &app,
            token,
            c,
            &json!({"action": "trash", "reason": "x".repeat(1001)}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    )
    .await;
    assert_eq!(field(error), "reason");
    expect_error(
        app.post_json_as(
            "/api/v1/moderation/comments/abc/decision",
            &json!({"action": "approve"}),
            token,
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    for (query, name) in [
        ("?limit=0", "limit"),
        ("?limit=201", "limit"),
        ("?cursor=abc", "cursor"),
        ("?cursor=-5", "cursor"),
        ("?author=nobody", "author"),
        ("?author=user:abc", "author"),
    ] {
        let error = expect_error(
            app.get_as(&format!("/api/v1/moderation/comments{query}"), token)
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        )
        .await;
        assert_eq!(field(error), name, "{query}");
    }
    let long_q = format!("?q={}", "a".repeat(201));
    let error = expect_error(
        app.get_as(&format!("/api/v1/moderation/comments{long_q}"), token)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    )
    .await;
    assert_eq!(field(error), "q");
    for query in [
        "?status=bogus",
        "?sort=sideways",
        "?limit=-1",
        "?limit=many",
    ] {
        let response = app
            .get_as(&format!("/api/v1/moderation/comments{query}"), token)
            .await;
        let status = response.status();
        assert!(
            status == StatusCode::BAD_REQUEST || status == StatusCode::UNPROCESSABLE_ENTITY,
            "{query}: {status}"
        );
    }
    for (query, name) in [("?limit=0", "limit"), ("?cursor=x", "cursor")] {
        let error = expect_error(
            app.get_as(&format!("/api/v1/moderation/log{query}"), token)
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        )
        .await;
        assert_eq!(field(error), name, "log{query}");
    }

    let soon = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    let past = (chrono::Utc::now() - chrono::Duration::days(1)).to_rfc3339();
    for (body, name) in [
        (json!({"kind": "ip", "value": "300.1.2.3/8"}), "value"),
        (json!({"kind": "ip", "value": "not an address"}), "value"),
        (json!({"kind": "email", "value": "not-an-email"}), "value"),
        (json!({"kind": "user", "value": "abc"}), "value"),
        (json!({"kind": "user", "value": "987654"}), "value"),
        (
            json!({"kind": "email", "value": "a@example.com", "duration": "soon"}),
            "duration",
        ),
        (
            json!({"kind": "email", "value": "a@example.com", "expires_at": "tomorrow"}),
            "expires_at",
        ),
        (
            json!({"kind": "email", "value": "a@example.com", "expires_at": past}),
            "expires_at",
        ),
        (
            json!({"kind": "email", "value": "a@example.com", "expires_at": soon, "duration": "1h"}),
            "duration",
        ),
        (
            json!({"kind": "email", "value": "a@example.com", "reason": "r".repeat(1001)}),
            "reason",
        ),
    ] {
        let error = expect_error(
            app.post_json_as("/api/v1/moderation/bans", &body, token)
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        )
        .await;
        assert_eq!(field(error), name, "{body}");
    }
    for body in [
        json!({"kind": "planet", "value": "x"}),
        json!({"kind": "email"}),
        json!({"kind": "email", "value": "a@example.com", "shadow": "yes"}),
    ] {
        expect_error(
            app.post_json_as("/api/v1/moderation/bans", &body, token)
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        )
        .await;
    }
    expect_error(
        send(
            &app,
            Method::DELETE,
            "/api/v1/moderation/bans/abc",
            Some(token),
            None,
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert!(bans(&app, token).await.is_empty(), "no bad ban was stored");

    let error = expect_error(
        bulk(&app, token, &json!({"ids": [], "action": "approve"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    )
    .await;
    assert_eq!(field(error), "ids");
    for body in [
        json!({"ids": "1", "action": "approve"}),
        json!({"ids": [c], "action": "bless"}),
        json!({"action": "approve"}),
    ] {
        expect_error(
            bulk(&app, token, &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        )
        .await;
    }
    for body in [
        json!({"role": "king"}),
        json!({"trusted": "very"}),
        json!({"nickname": "x"}),
    ] {
        expect_error(
            patch_user(&app, &admin.token, moderator.id, &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        )
        .await;
    }
    // Nothing above changed the comment.
    let still = detail(&app, token, c).await;
    assert_eq!(still["comment"]["status"], "approved");
    assert!(still["history"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn an_edit_that_sends_a_comment_back_to_review_announces_it_as_held() {
    let hook = StandIn::start(Reply::ok("")).await;
    let app = spawn_app_with(&format!(
        "{FAST_OUTBOX}{}",
        webhooks_to(&hook.url, &["comment.held"])
    ))
    .await;
    let created = app.guest_comment("edits", "innocent at first").await;
    assert_eq!(created["status"], "approved");
    let id = id_of(&created);
    let edited = app
        .guest_edit(
            &created,
            "now see https://a.example/x and https://b.example/y",
        )
        .await;
    assert_eq!(edited["status"], "pending");
    let mut deliveries = Deliveries::new();
    deliveries.expect(&hook, &[("comment.held", id)]).await;
}

#[tokio::test]
async fn a_commenter_is_refused_before_their_moderation_input_is_looked_at() {
    let app = spawn_app().await;
    let commenter = app.user(Role::Commenter, "carl@example.com").await;
    expect_error(
        bulk(
            &app,
            &commenter.token,
            &json!({"ids": [], "action": "approve"}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    expect_error(
        app.post_json_as(
            "/api/v1/moderation/bans",
            &json!({"kind": "email", "value": "a@example.com", "duration": "soon"}),
            &commenter.token,
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn searching_ignores_case_beyond_ascii_on_every_backend() {
    let app = spawn_app_with("[moderation]\nmode = \"all\"").await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let token = moderator.token.as_str();
    let id = id_of(
        &guest(
            &app,
            "utf",
            ("Ørjan Über", "orjan@example.com"),
            "Grüße aus ZÜRICH",
        )
        .await,
    );
    for q in ["z%C3%BCrich", "Z%C3%9CRICH", "%C3%B8rjan", "%C3%BCber"] {
        assert_eq!(
            queue_ids(&app, token, &format!("?q={q}")).await,
            vec![id],
            "q={q}"
        );
    }
    let found = commenters(&app, token, "?q=%C3%B8rjan").await;
    assert_eq!(found.len(), 1, "{found:?}");
}

#[tokio::test]
async fn search_follows_edits_and_finds_short_quoted_and_folded_text() {
    let app = spawn_app_with("[moderation]\nmode = \"all\"").await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let token = moderator.token.as_str();
    let created = guest(
        &app,
        "find",
        ("Kim", "kim@example.com"),
        "first draft about tulips",
    )
    .await;
    let drafted = id_of(&created);
    // U+212A KELVIN SIGN lower-cases to an ASCII 'k'.
    let quoted = id_of(
        &guest(
            &app,
            "find",
            ("Lee", "lee@example.com"),
            "she said \"ok\" about the \u{212A}ELVIN scale",
        )
        .await,
    );
    assert_eq!(queue_ids(&app, token, "?q=tulips").await, vec![drafted]);

    app.guest_edit(&created, "final word about roses").await;
    // The edit replaces what is found: the old text no longer is.
    assert!(queue_ids(&app, token, "?q=tulips").await.is_empty());
    assert_eq!(queue_ids(&app, token, "?q=ROSES").await, vec![drafted]);

    // Shorter than three characters, quotes, and case folded beyond ASCII.
    assert_eq!(queue_ids(&app, token, "?q=ok").await, vec![quoted]);
    assert_eq!(queue_ids(&app, token, "?q=%22ok%22").await, vec![quoted]);
    assert_eq!(queue_ids(&app, token, "?q=kelvin").await, vec![quoted]);
    assert_eq!(queue_ids(&app, token, "?q=ki").await, vec![drafted]);
    assert_eq!(
        queue_ids(&app, token, "?q=about").await,
        vec![quoted, drafted]
    );
    assert!(queue_ids(&app, token, "?q=%22%22%22").await.is_empty());
}

/// Past the newest 250 rows of a queue, SQLite answers a search through
/// its trigram index rather than by reading rows (`db::comments::queue_page`):
/// whichever way a page is found, it must be the same page.
#[tokio::test]
async fn searching_a_queue_larger_than_the_scan_window_finds_every_match() {
    const QUEUE: usize = 320;
    let app = spawn_app_with("[moderation]\nmode = \"all\"").await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let token = moderator.token.as_str();
    // The oldest comments, beyond the window of the newest 250.
    let mut kumquats = Vec::new();
    for n in 0..3 {
        let body = format!("an old kumquat note {n}");
        kumquats.push(app.guest_comment("window", &body).await);
    }
    let mut rest = Vec::new();
    for writer in 0..16 {
        let (client, address) = (app.client.clone(), app.address.clone());
        rest.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for n in (writer..QUEUE - 4).step_by(16) {
                let sent = client
                    .post(format!("{address}/api/v1/articles/window/comments"))
                    .json(&json!({
                        "body": format!("note number {n}"),
                        "author": {"name": "Filler", "email": format!("f{n}@example.com")}
                    }))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(sent.status(), StatusCode::CREATED);
                ids.push(id_of(&sent.json::<Value>().await.unwrap()));
            }
            ids
        }));
    }
    let mut notes = Vec::new();
    for writer in rest {
        notes.extend(writer.await.unwrap());
    }
    // The newest: in the window, with the same rare word.
    let newest = id_of(&app.guest_comment("window", "a fresh kumquat").await);
    notes.sort_unstable();

    // A rare word: the window holds one match, the rest are older.
    let old: Vec<i64> = kumquats.iter().map(id_of).collect();
    let mut expected = vec![newest, old[2], old[1], old[0]];
    assert_eq!(queue_ids(&app, token, "?q=KUMQUAT").await, expected);
    expected.reverse();
    assert_eq!(
        queue_ids(&app, token, "?q=kumquat&sort=oldest").await,
        expected
    );
    // Paged, with a cursor past the window's first rows.
    let first = queue(&app, token, "?q=kumquat&limit=2").await;
    assert_eq!(ids(&first["comments"]), vec![newest, old[2]]);
    let cursor = first["next_cursor"].as_str().expect("a next page");
    assert_eq!(
        queue_ids(&app, token, &format!("?q=kumquat&limit=2&cursor={cursor}")).await,
        vec![old[1], old[0]]
    );
    // A common text fills the page from the window.
    let newest_notes: Vec<i64> = notes.iter().rev().take(50).copied().collect();
    assert_eq!(queue_ids(&app, token, "?q=note+number").await, newest_notes);
    // A text nowhere, until an edit puts it in the oldest comment.
    assert!(queue_ids(&app, token, "?q=durian").await.is_empty());
    app.guest_edit(&kumquats[0], "now about a durian").await;
    assert_eq!(queue_ids(&app, token, "?q=durian").await, vec![old[0]]);
    assert_eq!(
        queue_ids(&app, token, "?q=kumquat").await,
        vec![newest, old[2], old[1]]
    );
}

#[tokio::test]
async fn two_moderators_making_the_same_decision_at_once_both_succeed() {
    let app = spawn_app_with("[moderation]\nmode = \"all\"").await;
    let ann = app.user(Role::Moderator, "ann.mod@example.com").await;
    let ben = app.user(Role::Moderator, "ben.mod@example.com").await;
    for n in 0..10 {
        let c = id_of(&app.guest_comment("race", &format!("race {n}")).await);
        let version = detail(&app, &ann.token, c).await["comment"]["version"].clone();
        let body = json!({"action": "approve", "version": version});
        let (a, b) = tokio::join!(
            decide(&app, &ann.token, c, &body),
            decide(&app, &ben.token, c, &body)
        );
        assert_eq!(
            (a.status(), b.status()),
            (StatusCode::OK, StatusCode::OK),
            "round {n}"
        );
        let entries = log(&app, &ann.token, &format!("?comment={c}")).await;
        assert_eq!(entries["entries"].as_array().unwrap().len(), 1);
    }
    let ids: Vec<i64> = (1..=10).collect();
    let trash = json!({"ids": ids, "action": "trash"});
    let (a, b) = tokio::join!(
        bulk(&app, &ann.token, &trash),
        bulk(&app, &ben.token, &trash)
    );
    assert_eq!((a.status(), b.status()), (StatusCode::OK, StatusCode::OK));
}

#[tokio::test]
async fn a_banned_account_can_no_longer_edit_its_published_comments() {
    let app = spawn_app().await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let member = app.user(Role::Commenter, "member@example.com").await;
    let created = account_comment(&app, "edit-ban", "a fine comment", &member.token).await;
    assert_eq!(created["status"], "approved");
    ban(
        &app,
        &moderator.token,
        &json!({"kind": "user", "value": member.id.to_string()}),
    )
    .await;
    let response = app
        .request(
            Method::PATCH,
            &format!("/api/v1/comments/{}", id_of(&created)),
        )
        .bearer_auth(&member.token)
        .json(&json!({"body": "now with a link to https://spam.example"}))
        .send()
        .await
        .unwrap();
    expect_error(response, StatusCode::FORBIDDEN, "banned").await;
    assert_eq!(
        app.thread("edit-ban").await["comments"][0]["body"],
        "a fine comment"
    );
}

#[tokio::test]
async fn ban_ends_are_validated_and_capped() {
    let app = spawn_app().await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    for (body, field) in [
        (
            json!({"kind": "ip", "value": "203.0.113.1", "duration": "9999999999years"}),
            "duration",
        ),
        (
            json!({"kind": "ip", "value": "203.0.113.1", "duration": "101years"}),
            "duration",
        ),
        (
            json!({"kind": "ip", "value": "203.0.113.1", "expires_at": "9999-01-01T00:00:00Z"}),
            "expires_at",
        ),
        (
            json!({"kind": "ip", "value": "203.0.113.1", "expires_at": "2001-01-01T00:00:00Z"}),
            "expires_at",
        ),
    ] {
        let response = app
            .post_json_as("/api/v1/moderation/bans", &body, &moderator.token)
            .await;
        let error = expect_error(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field").await;
        assert_eq!(error["error"]["field"], field, "{body}");
    }
    assert!(
        bans(&app, &moderator.token).await.is_empty(),
        "nothing stored"
    );
    let long = ban(
        &app,
        &moderator.token,
        &json!({"kind": "ip", "value": "203.0.113.1", "duration": "99years"}),
    )
    .await;
    let ends = long["ban"]["expires_at"].as_str().unwrap();
    assert!(ends > "2120", "{ends}");
    assert_eq!(long["ban"]["active"], true);
}

#[tokio::test]
async fn only_admins_act_on_admins() {
    let app = spawn_app().await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let admin = app.user(Role::Admin, "boss@example.com").await;
    for body in [
        json!({"kind": "user", "value": admin.id.to_string()}),
        json!({"kind": "email", "value": "BOSS@example.com"}),
    ] {
        let response = app
            .post_json_as("/api/v1/moderation/bans", &body, &moderator.token)
            .await;
        expect_error(response, StatusCode::FORBIDDEN, "forbidden").await;
    }
    let untrust = app
        .request(
            Method::PATCH,
            &format!("/api/v1/moderation/users/{}", admin.id),
        )
        .bearer_auth(&moderator.token)
        .json(&json!({"trusted": false}))
        .send()
        .await
        .unwrap();
    expect_error(untrust, StatusCode::FORBIDDEN, "forbidden").await;
    assert!(bans(&app, &admin.token).await.is_empty());
    // An admin may act on another admin.
    let other = app.user(Role::Admin, "other-boss@example.com").await;
    ban(
        &app,
        &admin.token,
        &json!({"kind": "user", "value": other.id.to_string(), "duration": "1h"}),
    )
    .await;
    // And a moderator on a commenter, as before.
    let member = app.user(Role::Commenter, "member@example.com").await;
    ban(
        &app,
        &moderator.token,
        &json!({"kind": "user", "value": member.id.to_string()}),
    )
    .await;
}
