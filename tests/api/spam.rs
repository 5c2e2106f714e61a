//! Spam scoring through the real server (issue: pluggable spam scoring).
//!
//! The built-in scorers (links, word lists, honeypot, learned) with the
//! default settings; Akismet and the generic http scorer against local
//! stand-ins; moderators' verdicts teaching the learned scorer and going
//! out as feedback through the outbox; the guards that refuse a comment
//! before it is scored; and rescoring on edit.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use moderato::db::outbox::Message;
use moderato::db::DbError;
use moderato::domain::Role;
use moderato::spam::classifier::Model;
use moderato::spam::LearnedModel;
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::helpers::{expect_error, expect_status, spawn_app, spawn_app_with, TestApp, TestUser};
use crate::standins::{dead_url, Recorded, Reply, StandIn};

// ------------------------------------------------------------------ helpers

/// Outbox timings that let a test see retries within a second.
/// A fast outbox, and the blog's origin (whose page URLs name new
/// articles, and are passed on to the scorers).
const FAST_OUTBOX: &str = "server.cors_origins = [\"https://blog.example\"]\n[outbox]\nfirst_retry = \"50ms\"\nmax_retry = \"200ms\"\n\
                           poll_interval = \"50ms\"\nrequest_timeout = \"2s\"\n";

const AKISMET_KEY: &str = "akismet-test-key-0123";
const HTTP_SECRET: &str = "a shared secret of some length";
const THANKS: &str = "Thanks for making the web a better place.";

async fn moderator(app: &TestApp) -> TestUser {
    app.user(Role::Moderator, "moderator@example.com").await
}

async fn admin(app: &TestApp) -> TestUser {
    app.user(Role::Admin, "word-admin@example.com").await
}

fn comments_path(article: &str) -> String {
    format!("/api/v1/articles/{article}/comments")
}

/// Posts a comment body (any JSON) and asserts 201.
async fn post(app: &TestApp, article: &str, body: Value) -> Value {
    expect_status(
        app.post_json(&comments_path(article), &body).await,
        StatusCode::CREATED,
    )
    .await
}

/// A guest comment by a named author (asserting 201).
async fn post_by(app: &TestApp, article: &str, email: &str, text: &str) -> Value {
    post(
        app,
        article,
        json!({"body": text, "author": {"name": "Sam Guest", "email": email}}),
    )
    .await
}

fn id_of(comment: &Value) -> i64 {
    comment["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no id: {comment}"))
}

/// The moderator's view of one comment (`{"comment": ...}`'s inside).
async fn inspect(app: &TestApp, token: &str, id: i64) -> Value {
    let detail = expect_status(
        app.get_as(&format!("/api/v1/moderation/comments/{id}"), token)
            .await,
        StatusCode::OK,
    )
    .await;
    detail["comment"].clone()
}

async fn decide(app: &TestApp, token: &str, id: i64, action: &str) -> Value {
    expect_status(
        app.post_json_as(
            &format!("/api/v1/moderation/comments/{id}/decision"),
            &json!({"action": action}),
            token,
        )
        .await,
        StatusCode::OK,
    )
    .await
}

/// One scorer's entry in a moderator's view of a comment.
fn scorer<'a>(comment: &'a Value, kind: &str) -> &'a Value {
    comment["report"]["scorers"]
        .as_array()
        .unwrap_or_else(|| panic!("no scorers in the report: {comment}"))
        .iter()
        .find(|s| s["kind"] == kind)
        .unwrap_or_else(|| panic!("no `{kind}` scorer in the report: {comment}"))
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .map(|v| v.as_str().expect("a string").to_string())
        .collect()
}

fn held_because(comment: &Value) -> Vec<String> {
    strings(&comment["held_because"])
}

/// Ids in the public thread of an article.
async fn public_ids(app: &TestApp, article: &str) -> Vec<i64> {
    let thread = app.thread(article).await;
    thread["comments"]
        .as_array()
        .expect("comments")
        .iter()
        .map(id_of)
        .collect()
}

/// Ids of the moderation queue with this status.
async fn queue_ids(app: &TestApp, token: &str, status: &str) -> Vec<i64> {
    let page = expect_status(
        app.get_as(
            &format!("/api/v1/moderation/comments?status={status}&limit=100"),
            token,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    page["comments"]
        .as_array()
        .expect("comments")
        .iter()
        .map(id_of)
        .collect()
}

/// Every comment stored, whatever its status.
async fn stored_count(app: &TestApp, token: &str) -> i64 {
    app.stored_count(token).await
}

async fn add_entry(app: &TestApp, token: &str, entry: Value) -> Response {
    app.post_json_as("/api/v1/spam/wordlists", &entry, token)
        .await
}

async fn edit(app: &TestApp, id: i64, edit_token: &str, body: &str) -> Response {
    app.request(Method::PATCH, &format!("/api/v1/comments/{id}"))
        .header("x-edit-token", edit_token)
        .json(&json!({ "body": body }))
        .send()
        .await
        .expect("request")
}

/// Messages queued for external scorers.
async fn feedback(app: &TestApp) -> Vec<Message> {
    app.state
        .db
        .read(|conn| {
            moderato::db::outbox::all_of_topic(conn, "spam_feedback").map_err(DbError::from)
        })
        .await
        .expect("read the outbox")
}

/// Waits until `n` feedback messages are delivered; returns all of them.
async fn wait_for_delivered(app: &TestApp, n: usize, within: Duration) -> Vec<Message> {
    let start = Instant::now();
    loop {
        let messages = feedback(app).await;
        if messages.iter().filter(|m| m.delivered_at.is_some()).count() >= n {
            return messages;
        }
        assert!(
            start.elapsed() < within,
            "{n} feedback messages not delivered within {within:?}: {messages:#?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Requests the stand-in received at this path.
fn requests_to(stand_in: &StandIn, path: &str) -> Vec<Recorded> {
    stand_in
        .requests()
        .into_iter()
        .filter(|r| r.path == path)
        .collect()
}

/// Waits until at least `n` requests reached `path`.
async fn wait_for_path(
    stand_in: &StandIn,
    path: &str,
    n: usize,
    within: Duration,
) -> Vec<Recorded> {
    let start = Instant::now();
    loop {
        let got = requests_to(stand_in, path);
        if got.len() >= n {
            return got;
        }
        assert!(
            start.elapsed() < within,
            "{path}: got {} of {n} requests within {within:?}: {:#?}",
            got.len(),
            stand_in.requests()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// An Akismet stand-in: verify-key says "valid", feedback says thanks, and
/// comment-check answers as `check` says.
async fn akismet_stand_in(check: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> StandIn {
    StandIn::start_with(move |request| match request.path.as_str() {
        "/1.1/verify-key" => Reply::ok("valid"),
        "/1.1/comment-check" => check(request),
        _ => Reply::ok(THANKS),
    })
    .await
}

/// An Akismet scorer entry. `settings` are extra keys of its settings
/// table (each starting with ", "), `entry` extra keys of the entry (each a
/// line).
fn akismet_entry(base_url: &str, settings: &str, entry: &str) -> String {
    format!(
        "\n[[spam.scorers]]\nkind = \"akismet\"\ntimeout = \"300ms\"\n{entry}\
         settings = {{ api_key = \"{AKISMET_KEY}\", blog = \"https://blog.example/\", \
         base_url = \"{base_url}\"{settings} }}\n"
    )
}

/// Settings with Akismet as the only scorer, and a fast outbox.
fn akismet_toml(base_url: &str, settings: &str, entry: &str) -> String {
    format!("{FAST_OUTBOX}{}", akismet_entry(base_url, settings, entry))
}

/// An http scorer entry; `settings` is the inside of its settings table.
fn http_entry(settings: &str, entry: &str) -> String {
    format!(
        "\n[[spam.scorers]]\nkind = \"http\"\ntimeout = \"300ms\"\n{entry}\
         settings = {{ {settings} }}\n"
    )
}

/// Settings with the http scorer as the only scorer, and a fast outbox.
fn http_toml(settings: &str, entry: &str) -> String {
    format!("{FAST_OUTBOX}{}", http_entry(settings, entry))
}

/// The links scorer with its defaults.
const LINKS_ENTRY: &str = "\n[[spam.scorers]]\nkind = \"links\"\n";

fn signature(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Asserts a request carries a valid, fresh signature made with `secret`.
fn assert_signed(request: &Recorded, secret: &str) {
    let timestamp = request
        .header("x-moderato-timestamp")
        .unwrap_or_else(|| panic!("no timestamp header: {request:#?}"));
    let sent: i64 = timestamp.parse().expect("Unix seconds");
    let now = chrono::Utc::now().timestamp();
    assert!(
        (now - sent).abs() <= 60,
        "stale timestamp {sent} (now {now})"
    );
    let given = request
        .header("x-moderato-signature")
        .unwrap_or_else(|| panic!("no signature header: {request:#?}"));
    assert_eq!(
        given,
        signature(secret, timestamp, &request.body),
        "the signature does not verify with the shared secret"
    );
    assert_ne!(
        given,
        signature("another secret", timestamp, &request.body),
        "the signature must depend on the secret"
    );
}

/// Asserts a stored comment waits for a moderator because a scorer failed:
/// pending, in the queue, not public, with the error in its report.
async fn assert_held_by_failure(
    app: &TestApp,
    token: &str,
    created: &Value,
    kind: &str,
    error_contains: &str,
) -> Value {
    assert_eq!(created["status"], "pending", "{created}");
    let id = id_of(created);
    let article = created["article"].as_str().expect("article key");
    assert!(!public_ids(app, article).await.contains(&id), "published");
    assert!(
        queue_ids(app, token, "pending").await.contains(&id),
        "not in the pending queue"
    );
    let seen = inspect(app, token, id).await;
    assert_eq!(seen["status"], "pending", "{seen}");
    let entry = scorer(&seen, kind);
    assert_eq!(entry["score"], Value::Null, "{entry}");
    let error = entry["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error recorded: {entry}"));
    assert!(error.contains(error_contains), "error: {error}");
    let held = held_because(&seen);
    assert!(
        held.iter()
            .any(|h| h.starts_with(&format!("{kind} failed (")) && h.contains(error_contains)),
        "held_because: {held:?}"
    );
    seen
}

// ------------------------------------------------- links, lists, honeypot

#[tokio::test]
async fn a_comment_with_three_links_is_held_with_the_reason() {
    let app = spawn_app().await;
    let moderator = moderator(&app).await;

    let one = post_by(
        &app,
        "links",
        "one@example.com",
        "my notes are at https://notes.example/rust",
    )
    .await;
    assert_eq!(one["status"], "approved", "one link is fine: {one}");

    let three = post_by(
        &app,
        "links",
        "three@example.com",
        "see https://a.example/x and http://b.example and www.c.example for more",
    )
    .await;
    assert_eq!(three["status"], "pending", "{three}");
    assert_eq!(public_ids(&app, "links").await, vec![id_of(&one)]);

    let seen = inspect(&app, &moderator.token, id_of(&three)).await;
    assert_eq!(seen["status"], "pending");
    let held = held_because(&seen);
    assert!(
        held.contains(&"links: 3 links (held at 2)".to_string()),
        "{held:?}"
    );
    let links = scorer(&seen, "links");
    assert_eq!(strings(&links["reasons"]), vec!["3 links (held at 2)"]);
    assert_eq!(links["rule"], "hold");
    assert!(queue_ids(&app, &moderator.token, "pending")
        .await
        .contains(&id_of(&three)));
}

#[tokio::test]
async fn the_author_url_counts_as_a_link() {
    let app = spawn_app().await;
    let moderator = moderator(&app).await;
    let created = post(
        &app,
        "links",
        json!({"body": "read my post at https://me.example/post",
               "author": {"name": "Linky", "email": "l@example.com", "url": "https://me.example"}}),
    )
    .await;
    assert_eq!(created["status"], "pending");
    let seen = inspect(&app, &moderator.token, id_of(&created)).await;
    assert_eq!(held_because(&seen), vec!["links: 2 links (held at 2)"]);
}

#[tokio::test]
async fn a_blocked_word_added_by_an_admin_sends_comments_to_spam_while_the_author_sees_pending() {
    let app = spawn_app().await;
    let admin = admin(&app).await;
    let moderator = moderator(&app).await;

    let before = post_by(&app, "pills", "a@example.com", "Cheap VIAGRA, ask me").await;
    assert_eq!(before["status"], "approved", "nothing blocked yet");

    let entry = expect_status(
        add_entry(
            &app,
            &admin.token,
            json!({"list": "blocked", "pattern": "viagra", "note": "pharma spam"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert!(entry["id"].as_i64().is_some(), "{entry}");
    assert_eq!(entry["list"], "blocked");
    assert_eq!(entry["kind"], "word");
    assert_eq!(entry["pattern"], "viagra");
    assert_eq!(entry["note"], "pharma spam");

    let response = app
        .post_json(
            &comments_path("pills"),
            &json!({"body": "Buy Viagra here, best prices", "author": {"name": "B", "email": "b@example.com"}}),
        )
        .await;
    let text = response.text().await.expect("body");
    let created: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(created["status"], "pending", "{created}");
    assert!(
        !text.contains("\"spam\""),
        "the author must not learn it was classed spam: {text}"
    );

    let id = id_of(&created);
    assert_eq!(public_ids(&app, "pills").await, vec![id_of(&before)]);
    assert_eq!(app.thread("pills").await["total"], 1);

    let seen = inspect(&app, &moderator.token, id).await;
    assert_eq!(seen["status"], "spam");
    assert_eq!(
        held_because(&seen),
        vec!["wordlists: blocked entry \"viagra\" in the body"]
    );
    assert_eq!(scorer(&seen, "wordlists")["rule"], "spam");
    assert!(queue_ids(&app, &moderator.token, "spam")
        .await
        .contains(&id));
    assert!(!queue_ids(&app, &moderator.token, "pending")
        .await
        .contains(&id));
}

#[tokio::test]
async fn a_suspect_word_holds_a_comment_for_review() {
    let app = spawn_app().await;
    let admin = admin(&app).await;
    let moderator = moderator(&app).await;
    expect_status(
        add_entry(
            &app,
            &admin.token,
            json!({"list": "suspect", "kind": "word", "pattern": "casino"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;

    let held = post_by(
        &app,
        "bets",
        "a@example.com",
        "I won big at the Casino last night",
    )
    .await;
    assert_eq!(held["status"], "pending");
    let seen = inspect(&app, &moderator.token, id_of(&held)).await;
    assert_eq!(seen["status"], "pending");
    assert_eq!(
        held_because(&seen),
        vec!["wordlists: suspect entry \"casino\" in the body"]
    );
    assert_eq!(scorer(&seen, "wordlists")["rule"], "hold");

    // Whole words only.
    let fine = post_by(
        &app,
        "bets",
        "b@example.com",
        "casinos in old films look glamorous",
    )
    .await;
    assert_eq!(fine["status"], "approved");
    assert_eq!(public_ids(&app, "bets").await, vec![id_of(&fine)]);
}

#[tokio::test]
async fn word_lists_match_the_ip_user_agent_and_author_and_removal_applies_at_once() {
    let app = spawn_app().await;
    let admin = admin(&app).await;
    let moderator = moderator(&app).await;

    // Every test request comes from 127.0.0.1.
    let ip = expect_status(
        add_entry(
            &app,
            &admin.token,
            json!({"list": "blocked", "kind": "ip", "pattern": " 127.0.0.1 "}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(ip["pattern"], "127.0.0.1/32", "IPs are normalised");
    let blocked = post_by(&app, "lists", "a@example.com", "hello from my machine").await;
    assert_eq!(blocked["status"], "pending");
    let seen = inspect(&app, &moderator.token, id_of(&blocked)).await;
    assert_eq!(seen["status"], "spam");
    assert_eq!(
        held_because(&seen),
        vec!["wordlists: blocked entry \"127.0.0.1/32\" in the ip"]
    );

    expect_status(
        app.request(
            Method::DELETE,
            &format!("/api/v1/spam/wordlists/{}", id_of(&ip)),
        )
        .bearer_auth(&admin.token)
        .send()
        .await
        .expect("request"),
        StatusCode::NO_CONTENT,
    )
    .await;
    let allowed = post_by(
        &app,
        "lists",
        "a@example.com",
        "hello again from my machine",
    )
    .await;
    assert_eq!(
        allowed["status"], "approved",
        "the removed entry still applies"
    );

    // A suspect regular expression, matched against the user agent.
    expect_status(
        add_entry(
            &app,
            &admin.token,
            json!({"list": "suspect", "kind": "regex", "pattern": "^spam-?bot"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let bot = app
        .request(Method::POST, &comments_path("lists"))
        .header("user-agent", "SpamBot/2.0 (+https://bot.example)")
        .json(&json!({"body": "a fine remark", "author": {"name": "C", "email": "c@example.com"}}))
        .send()
        .await
        .expect("request");
    let bot = expect_status(bot, StatusCode::CREATED).await;
    assert_eq!(bot["status"], "pending");
    let seen = inspect(&app, &moderator.token, id_of(&bot)).await;
    assert_eq!(seen["status"], "pending");
    assert_eq!(
        held_because(&seen),
        vec!["wordlists: suspect entry \"/^spam-?bot/\" in the user agent"]
    );

    // A blocked word in the author's email.
    expect_status(
        add_entry(
            &app,
            &admin.token,
            json!({"list": "blocked", "pattern": "pills"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let by_email = post_by(&app, "lists", "pills@example.com", "nothing to see").await;
    let seen = inspect(&app, &moderator.token, id_of(&by_email)).await;
    assert_eq!(seen["status"], "spam");
    assert_eq!(
        held_because(&seen),
        vec!["wordlists: blocked entry \"pills\" in the author email"]
    );
    assert_eq!(public_ids(&app, "lists").await, vec![id_of(&allowed)]);
}

#[tokio::test]
async fn word_list_api_is_for_admins_only() {
    let app = spawn_app().await;
    let commenter = app.user(Role::Commenter, "c@example.com").await;
    let moderator = moderator(&app).await;
    let admin = admin(&app).await;
    let entry = json!({"list": "blocked", "pattern": "viagra"});

    expect_error(
        app.get("/api/v1/spam/wordlists").await,
        StatusCode::UNAUTHORIZED,
        "not_signed_in",
    )
    .await;
    expect_error(
        app.post_json("/api/v1/spam/wordlists", &entry).await,
        StatusCode::UNAUTHORIZED,
        "not_signed_in",
    )
    .await;
    expect_error(
        app.request(Method::DELETE, "/api/v1/spam/wordlists/1")
            .send()
            .await
            .expect("request"),
        StatusCode::UNAUTHORIZED,
        "not_signed_in",
    )
    .await;
    for token in [&commenter.token, &moderator.token] {
        expect_error(
            app.get_as("/api/v1/spam/wordlists", token).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
        expect_error(
            add_entry(&app, token, entry.clone()).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
    }
    // Nothing was added by the refused attempts.
    let listed = expect_status(
        app.get_as("/api/v1/spam/wordlists", &admin.token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(listed["entries"], json!([]));

    let added = expect_status(
        add_entry(&app, &admin.token, entry.clone()).await,
        StatusCode::CREATED,
    )
    .await;
    for token in [&commenter.token, &moderator.token] {
        expect_error(
            app.request(
                Method::DELETE,
                &format!("/api/v1/spam/wordlists/{}", id_of(&added)),
            )
            .bearer_auth(token)
            .send()
            .await
            .expect("request"),
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
    }
    let listed = expect_status(
        app.get_as("/api/v1/spam/wordlists", &admin.token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(listed["entries"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn word_list_entries_are_validated_and_unique() {
    let app = spawn_app().await;
    let admin = admin(&app).await;

    for bad in [
        json!({"list": "blocked", "kind": "regex", "pattern": "(unclosed"}),
        json!({"list": "blocked", "kind": "regex", "pattern": "a{1000}{1000}"}),
        json!({"list": "blocked", "kind": "ip", "pattern": "300.1.1.1"}),
        json!({"list": "blocked", "kind": "ip", "pattern": "not an address"}),
        json!({"list": "suspect", "pattern": "   "}),
        json!({"list": "suspect", "pattern": "x".repeat(501)}),
        json!({"list": "suspect", "pattern": "tab\there"}),
    ] {
        let error = expect_error(
            add_entry(&app, &admin.token, bad.clone()).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        )
        .await;
        assert_eq!(error["error"]["field"], "pattern", "for {bad}");
    }
    for malformed in [
        json!({"list": "allowed", "pattern": "x"}),
        json!({"list": "blocked", "kind": "glob", "pattern": "x"}),
        json!({"list": "blocked"}),
        json!({"list": "blocked", "pattern": "x", "colour": "red"}),
    ] {
        expect_error(
            add_entry(&app, &admin.token, malformed).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        )
        .await;
    }

    let first = expect_status(
        add_entry(
            &app,
            &admin.token,
            json!({"list": "blocked", "pattern": "viagra"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    expect_error(
        add_entry(
            &app,
            &admin.token,
            json!({"list": "blocked", "pattern": " viagra "}),
        )
        .await,
        StatusCode::CONFLICT,
        "duplicate",
    )
    .await;
    // The same word on the other list is another entry.
    let suspect = expect_status(
        add_entry(
            &app,
            &admin.token,
            json!({"list": "suspect", "pattern": "viagra"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let ip = expect_status(
        add_entry(
            &app,
            &admin.token,
            json!({"list": "blocked", "kind": "ip", "pattern": "10.0.0.1"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(ip["pattern"], "10.0.0.1/32");
    expect_error(
        add_entry(
            &app,
            &admin.token,
            json!({"list": "blocked", "kind": "ip", "pattern": "10.0.0.1/32"}),
        )
        .await,
        StatusCode::CONFLICT,
        "duplicate",
    )
    .await;
    let range = expect_status(
        add_entry(
            &app,
            &admin.token,
            json!({"list": "suspect", "kind": "ip", "pattern": "2001:db8::/32", "note": "  docs range  "}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(range["note"], "docs range");

    let listed = expect_status(
        app.get_as("/api/v1/spam/wordlists", &admin.token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        listed["entries"],
        json!([first, suspect, ip, range]),
        "every entry, in the order added"
    );

    let delete = |id: String| {
        app.request(Method::DELETE, &format!("/api/v1/spam/wordlists/{id}"))
            .bearer_auth(&admin.token)
            .send()
    };
    expect_status(
        delete(id_of(&first).to_string()).await.unwrap(),
        StatusCode::NO_CONTENT,
    )
    .await;
    expect_error(
        delete(id_of(&first).to_string()).await.unwrap(),
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    expect_error(
        delete("999999".into()).await.unwrap(),
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    expect_error(
        delete("abc".into()).await.unwrap(),
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let listed = expect_status(
        app.get_as("/api/v1/spam/wordlists", &admin.token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(listed["entries"], json!([suspect, ip, range]));
}

#[tokio::test]
async fn a_filled_honeypot_is_spam_and_an_empty_one_is_not() {
    let app = spawn_app().await;
    let moderator = moderator(&app).await;

    let empty = post(
        &app,
        "honey",
        json!({"body": "a person wrote this", "fax_number": "",
               "author": {"name": "Human", "email": "h@example.com"}}),
    )
    .await;
    assert_eq!(empty["status"], "approved");

    let bot = post(
        &app,
        "honey",
        json!({"body": "a bot wrote this", "fax_number": "http://bot.example",
               "author": {"name": "Bot", "email": "bot@example.com"}}),
    )
    .await;
    assert_eq!(bot["status"], "pending", "the bot is not told: {bot}");
    assert_eq!(public_ids(&app, "honey").await, vec![id_of(&empty)]);
    let seen = inspect(&app, &moderator.token, id_of(&bot)).await;
    assert_eq!(seen["status"], "spam");
    assert_eq!(
        held_because(&seen),
        vec!["honeypot: the hidden field `fax_number` was filled in"]
    );
    let honeypot = scorer(&seen, "honeypot");
    assert_eq!(honeypot["score"], 1.0);
    assert_eq!(honeypot["rule"], "spam");
}

#[tokio::test]
async fn the_honeypot_field_name_is_configurable() {
    let app = spawn_app_with(
        "[[spam.scorers]]\nkind = \"honeypot\"\nsettings = { field = \"hp_trap\" }\n",
    )
    .await;
    let moderator = moderator(&app).await;
    let bot = post(
        &app,
        "honey",
        json!({"body": "filled everything", "hp_trap": 12345,
               "author": {"name": "Bot", "email": "bot@example.com"}}),
    )
    .await;
    assert_eq!(bot["status"], "pending");
    let seen = inspect(&app, &moderator.token, id_of(&bot)).await;
    assert_eq!(seen["status"], "spam");
    assert_eq!(
        held_because(&seen),
        vec!["honeypot: the hidden field `hp_trap` was filled in"]
    );
    // `fax_number` is no field of this form any more.
    expect_error(
        app.post_json(
            &comments_path("honey"),
            &json!({"body": "x", "fax_number": "y", "author": {"name": "A", "email": "a@example.com"}}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_body",
    )
    .await;
}

#[tokio::test]
async fn an_ordinary_form_with_a_website_field_is_never_taken_for_a_bot() {
    let app = spawn_app().await;
    let moderator = moderator(&app).await;
    // The author's site where the API takes it: published.
    let with_site = post(
        &app,
        "ordinary",
        json!({"body": "a reader with a blog", "author": {"name": "Reader",
               "email": "reader@example.com", "url": "https://reader.example"}}),
    )
    .await;
    assert_eq!(with_site["status"], "approved");
    // A form that sends `website` at the top level is told so, and nothing
    // is stored as spam behind its back.
    let refused = expect_error(
        app.post_json(
            &comments_path("ordinary"),
            &json!({"body": "another reader", "website": "https://other.example",
                    "author": {"name": "Other", "email": "other@example.com"}}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_body",
    )
    .await;
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("website"),
        "{refused}"
    );
    assert_eq!(
        queue_ids(&app, &moderator.token, "spam").await,
        Vec::<i64>::new()
    );
    // And a honeypot may not be named like a field forms send.
    let settings = moderato::config::Settings::load(&moderato::config::Sources {
        overrides: vec![
            "[[spam.scorers]]\nkind = \"honeypot\"\nsettings = { field = \"website\" }\n".into(),
        ],
        ..Default::default()
    })
    .unwrap();
    let refused = moderato::spam::Spam::build(
        &settings.spam,
        reqwest::Client::new(),
        moderato::cpu::CpuPool::start(1).unwrap(),
    )
    .err()
    .expect("a honeypot named website is refused");
    assert!(
        refused.to_string().contains("real comment forms send"),
        "{refused}"
    );
}

// ------------------------------------------------------- report and modes

#[tokio::test]
async fn every_comment_shows_each_scorers_breakdown_to_moderators() {
    let app = spawn_app().await;
    let moderator = moderator(&app).await;
    let created = post_by(
        &app,
        "breakdown",
        "a@example.com",
        "one link: https://docs.example/guide",
    )
    .await;
    assert_eq!(created["status"], "approved");

    let seen = inspect(&app, &moderator.token, id_of(&created)).await;
    let report = &seen["report"];
    assert_eq!(report["decision"], "approved");
    assert_eq!(report["edit"], false);
    assert_eq!(report["held_because"], json!([]));
    assert_eq!(seen["held_because"], json!([]));
    let score = report["score"].as_f64().expect("combined score");
    assert_eq!(seen["score"].as_f64(), Some(score));
    assert!((0.0..0.84).contains(&score), "{score}");

    let scorers = report["scorers"].as_array().expect("scorers");
    let kinds: Vec<&str> = scorers
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["honeypot", "wordlists", "links", "learned"]);
    let mut log_odds = 0.0;
    for entry in scorers {
        assert_eq!(entry["mode"], "enforce", "{entry}");
        assert_eq!(entry["weight"], 1.0, "{entry}");
        assert_eq!(entry["error"], Value::Null, "{entry}");
        assert!(entry["elapsed_us"].is_u64(), "{entry}");
        assert!(entry["reasons"].is_array(), "{entry}");
        let s = entry["score"].as_f64().expect("a score");
        assert!((0.0..=1.0).contains(&s), "{entry}");
        log_odds += (s / (1.0 - s)).ln();
    }
    let combined = 1.0 / (1.0 + (-log_odds).exp());
    assert!(
        (combined - score).abs() < 1e-9,
        "combined {score} is not the sum of the scorers' log-odds ({combined})"
    );
    let links = scorer(&seen, "links");
    assert_eq!(links["score"], 0.7);
    assert_eq!(strings(&links["reasons"]), vec!["1 link"]);
    assert_eq!(links["rule"], Value::Null);
    assert_eq!(scorer(&seen, "honeypot")["score"], 0.5);
    let learned = scorer(&seen, "learned");
    assert!(
        strings(&learned["reasons"])
            .contains(&"the model has learned few comments of one kind yet".to_string()),
        "{learned}"
    );

    // The queue carries the same report; the public thread none of it.
    let page = expect_status(
        app.get_as(
            "/api/v1/moderation/comments?status=approved",
            &moderator.token,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page["comments"][0]["report"], *report);
    let public = app
        .get(&comments_path("breakdown"))
        .await
        .text()
        .await
        .unwrap();
    for secret in ["report", "scorers", "held_because", "elapsed_us"] {
        assert!(!public.contains(secret), "thread leaks {secret}: {public}");
    }
}

#[tokio::test]
async fn a_failing_scorer_shows_its_error_in_the_breakdown() {
    let down = dead_url();
    let app = spawn_app_with(&format!(
        "{LINKS_ENTRY}{}",
        http_entry(&format!("url = \"{down}/score\""), "")
    ))
    .await;
    let moderator = moderator(&app).await;
    let created = post_by(&app, "errors", "a@example.com", "hello there").await;
    let seen =
        assert_held_by_failure(&app, &moderator.token, &created, "http", "request failed").await;
    let links = scorer(&seen, "links");
    assert_eq!(links["score"], 0.45);
    assert_eq!(links["error"], Value::Null);
    let http = scorer(&seen, "http");
    assert!(http["elapsed_us"].is_u64());
    assert_eq!(http["reasons"], json!([]));
    // A failed scorer adds nothing to the combined score.
    assert!((seen["report"]["score"].as_f64().unwrap() - 0.45).abs() < 1e-9);
}

#[tokio::test]
async fn shadow_scorers_are_recorded_but_do_not_decide() {
    let classifier = StandIn::start(Reply::json(json!({
        "score": 1.0, "reasons": ["the shadow model is sure"], "rule": "spam"
    })))
    .await;
    let app = spawn_app_with(&format!(
        "{LINKS_ENTRY}{}{}",
        http_entry(
            &format!("url = \"{}/score\"", classifier.url),
            "mode = \"shadow\"\n"
        ),
        akismet_entry(&dead_url(), "", "mode = \"shadow\"\n")
    ))
    .await;
    let moderator = moderator(&app).await;
    let created = post_by(&app, "shadow", "a@example.com", "an ordinary comment").await;
    assert_eq!(created["status"], "approved", "{created}");
    assert_eq!(public_ids(&app, "shadow").await, vec![id_of(&created)]);
    assert_eq!(requests_to(&classifier, "/score").len(), 1);

    let seen = inspect(&app, &moderator.token, id_of(&created)).await;
    assert_eq!(seen["held_because"], json!([]));
    let http = scorer(&seen, "http");
    assert_eq!(http["mode"], "shadow");
    assert_eq!(http["score"], 1.0);
    assert_eq!(http["rule"], "spam");
    assert_eq!(strings(&http["reasons"]), vec!["the shadow model is sure"]);
    let akismet = scorer(&seen, "akismet");
    assert_eq!(akismet["mode"], "shadow");
    assert!(
        akismet["error"]
            .as_str()
            .is_some_and(|e| e.contains("request failed")),
        "{akismet}"
    );
    // Only the enforcing links scorer counts.
    assert!(
        (seen["score"].as_f64().unwrap() - 0.45).abs() < 1e-9,
        "{seen}"
    );
}

// ------------------------------------------------------------- learning

const SPAM_TEXTS: [&str; 6] = [
    "Earn money fast from home with this amazing crypto offer, click now",
    "Amazing crypto offer: earn money fast, limited spots, click now",
    "Click now to earn money fast with our crypto offer from home",
    "Limited crypto offer, earn money fast from home today, click now",
    "Earn money fast: the amazing crypto offer everyone wants, click now",
    "Work from home and earn money fast with crypto, amazing offer, click now",
];

const HAM_TEXTS: [&str; 6] = [
    "Thanks for the thoughtful article, the part about lifetimes finally made sense",
    "Great explanation of the borrow checker, the lifetimes example helped a lot",
    "I tried the lifetimes example from the article and it compiled first time, thanks",
    "Thoughtful article; the borrow checker section answered my question",
    "The explanation of lifetimes in this article is the clearest I have read, thanks",
    "Helpful article, the borrow checker diagrams made the lifetimes part clear",
];

const SPAM_PROBE: &str = "Click now: amazing crypto offer, earn money fast from home";
const HAM_PROBE: &str = "Thanks, the article made lifetimes and the borrow checker finally clear";

const IMMATURE: &str = "the model has learned few comments of one kind yet";

/// The learned model as stored in the database, and its version.
async fn stored_model(app: &TestApp) -> (Model, i64) {
    app.state
        .db
        .read(LearnedModel::load)
        .await
        .expect("load the model")
}

async fn posted_ids(app: &TestApp, article: &str, texts: &[&str]) -> Vec<i64> {
    let mut ids = Vec::new();
    for text in texts {
        let created = app.guest_comment(article, text).await;
        ids.push(id_of(&created));
    }
    ids
}

#[tokio::test]
async fn moderator_verdicts_teach_the_learned_scorer() {
    let app = spawn_app().await;
    let moderator = moderator(&app).await;

    let before = post_by(&app, "before", "probe@example.com", SPAM_PROBE).await;
    assert_eq!(before["status"], "approved");
    let seen = inspect(&app, &moderator.token, id_of(&before)).await;
    let untaught = scorer(&seen, "learned")["score"].as_f64().unwrap();
    assert!((0.3..=0.7).contains(&untaught), "{untaught}");

    let spam_ids = posted_ids(&app, "teach", &SPAM_TEXTS).await;
    let ham_ids = posted_ids(&app, "teach", &HAM_TEXTS).await;
    for id in &spam_ids {
        assert_eq!(
            decide(&app, &moderator.token, *id, "spam").await["status"],
            "spam"
        );
    }

    // Spam verdicts only: an opinion, but kept within [0.3, 0.7].
    let one_sided = post_by(&app, "one-sided", "probe@example.com", SPAM_PROBE).await;
    assert_eq!(one_sided["status"], "approved");
    let seen = inspect(&app, &moderator.token, id_of(&one_sided)).await;
    let learned = scorer(&seen, "learned");
    let leaning = learned["score"].as_f64().unwrap();
    assert!(leaning > untaught, "{leaning} <= {untaught}");
    assert!(
        leaning <= 0.7,
        "an immature model must not exceed 0.7: {leaning}"
    );
    assert!(strings(&learned["reasons"]).contains(&IMMATURE.to_string()));

    for id in &ham_ids {
        let decided = decide(&app, &moderator.token, *id, "not_spam").await;
        assert_eq!(decided["status"], "approved");
        assert_eq!(decided["verdict"], "ham");
    }

    // Now it has learned enough of both kinds.
    let spammy = post_by(&app, "after", "probe@example.com", SPAM_PROBE).await;
    assert_eq!(
        spammy["status"], "pending",
        "held (or spam, shown as pending)"
    );
    let seen = inspect(&app, &moderator.token, id_of(&spammy)).await;
    assert_ne!(seen["status"], "approved");
    let learned = scorer(&seen, "learned");
    let spam_score = learned["score"].as_f64().unwrap();
    assert!(spam_score > 0.9, "{learned}");
    let reasons = strings(&learned["reasons"]);
    assert!(!reasons.contains(&IMMATURE.to_string()), "{reasons:?}");
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("(spam 0.") || r.contains("(spam 1.")),
        "reasons name the spammy words: {reasons:?}"
    );
    assert!(
        held_because(&seen)
            .iter()
            .any(|h| h.starts_with("combined score")),
        "{seen}"
    );
    assert!(!public_ids(&app, "after").await.contains(&id_of(&spammy)));

    let hammy = post_by(&app, "after", "reader@example.com", HAM_PROBE).await;
    assert_eq!(hammy["status"], "approved");
    let seen = inspect(&app, &moderator.token, id_of(&hammy)).await;
    let learned = scorer(&seen, "learned");
    let ham_score = learned["score"].as_f64().unwrap();
    assert!(ham_score < 0.1, "{learned}");
    assert!(
        strings(&learned["reasons"])
            .iter()
            .any(|r| r.contains("(ham ")),
        "{learned}"
    );

    // The verdicts are in the database too, and the stored model answers
    // exactly as the server's in-memory one did.
    let (model, version) = stored_model(&app).await;
    assert_eq!(model.globals().spam, 6.0);
    assert_eq!(model.globals().ham, 6.0);
    assert!(version >= 12, "{version}");
    assert!((model.score(SPAM_PROBE).probability - spam_score).abs() < 1e-9);
    assert!((model.score(HAM_PROBE).probability - ham_score).abs() < 1e-9);
}

const SEED_TEXTS: [&str; 5] = [
    "Our heirloom tomato seeds grow huge, order the seed pack today",
    "Heirloom tomato seeds for sale, order the seed pack today and save",
    "Grow huge heirloom tomatoes: order our seed pack today",
    "The seed pack of heirloom tomato seeds you need, order today",
    "Order today: heirloom tomato seed pack, grow huge tomatoes",
];

const SEED_PROBE: &str = "Order the heirloom tomato seed pack today, grow huge tomatoes";

#[tokio::test]
async fn a_not_spam_verdict_takes_back_an_earlier_spam_verdict() {
    let app = spawn_app().await;
    let moderator = moderator(&app).await;
    let ham_ids = posted_ids(&app, "learn", &HAM_TEXTS[..5]).await;
    let spam_ids = posted_ids(&app, "learn", &SPAM_TEXTS[..5]).await;
    let seed_ids = posted_ids(&app, "learn", &SEED_TEXTS).await;
    for id in &ham_ids {
        decide(&app, &moderator.token, *id, "not_spam").await;
    }
    for id in spam_ids.iter().chain(&seed_ids) {
        decide(&app, &moderator.token, *id, "spam").await;
    }
    let (model, version) = stored_model(&app).await;
    assert_eq!((model.globals().spam, model.globals().ham), (10.0, 5.0));

    let probe = post_by(&app, "probe-1", "p@example.com", SEED_PROBE).await;
    assert_eq!(probe["status"], "pending");
    let seen = inspect(&app, &moderator.token, id_of(&probe)).await;
    assert!(
        scorer(&seen, "learned")["score"].as_f64().unwrap() > 0.9,
        "{seen}"
    );

    // The same verdict again teaches nothing twice.
    decide(&app, &moderator.token, seed_ids[0], "spam").await;
    let (_, unchanged) = stored_model(&app).await;
    assert_eq!(unchanged, version, "a repeated verdict changed the model");

    // The moderator changes their mind about the seed comments.
    for id in &seed_ids {
        let decided = decide(&app, &moderator.token, *id, "not_spam").await;
        assert_eq!(decided["status"], "approved");
        assert_eq!(decided["verdict"], "ham");
    }
    let (model, _) = stored_model(&app).await;
    assert_eq!(
        (model.globals().spam, model.globals().ham),
        (5.0, 10.0),
        "reversed verdicts move between the classes, not add to both"
    );

    let probe = post_by(&app, "probe-2", "p@example.com", SEED_PROBE).await;
    assert_eq!(probe["status"], "approved");
    let seen = inspect(&app, &moderator.token, id_of(&probe)).await;
    let learned = scorer(&seen, "learned")["score"].as_f64().unwrap();
    assert!(learned < 0.1, "{seen}");
    assert!((model.score(SEED_PROBE).probability - learned).abs() < 1e-9);
    assert!(public_ids(&app, "learn")
        .await
        .iter()
        .all(|id| !spam_ids.contains(id)));
}

// ---------------------------------------------------------------- Akismet

#[tokio::test]
async fn akismet_spam_holds_the_comment_and_gets_the_documented_fields() {
    let akismet = akismet_stand_in(|_| Reply::ok("true")).await;
    let app = spawn_app_with(&akismet_toml(
        &akismet.url,
        ", is_test = true, honeypot_field_name = \"fax_number\"",
        "",
    ))
    .await;
    let moderator = moderator(&app).await;

    let verify = wait_for_path(&akismet, "/1.1/verify-key", 1, Duration::from_secs(5)).await;
    let verify = verify[0].form();
    assert_eq!(verify["api_key"], AKISMET_KEY);
    assert_eq!(verify["blog"], "https://blog.example/");

    let response = app
        .request(Method::POST, &comments_path("akismet"))
        .header("user-agent", "Mozilla/5.0 (Test)")
        .header("referer", "https://blog.example/akismet")
        .json(&json!({
            "body": "Is this spam? Ünïcode & symbols = fine",
            "author": {"name": "Ada Lovelace", "email": "ada@example.com", "url": "https://ada.example"},
            "article": {"title": "Akismet", "url": "https://blog.example/akismet"}
        }))
        .send()
        .await
        .expect("request");
    let created = expect_status(response, StatusCode::CREATED).await;
    assert_eq!(created["status"], "pending");
    assert!(public_ids(&app, "akismet").await.is_empty());

    let checks = requests_to(&akismet, "/1.1/comment-check");
    assert_eq!(checks.len(), 1);
    assert_eq!(checks[0].method, "POST");
    assert!(checks[0]
        .header("content-type")
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded")));
    let form = checks[0].form();
    let expected = [
        ("api_key", AKISMET_KEY),
        ("blog", "https://blog.example/"),
        ("user_ip", "127.0.0.1"),
        ("user_agent", "Mozilla/5.0 (Test)"),
        ("referrer", "https://blog.example/akismet"),
        ("permalink", "https://blog.example/akismet"),
        ("comment_type", "comment"),
        ("comment_author", "Ada Lovelace"),
        ("comment_author_email", "ada@example.com"),
        ("comment_author_url", "https://ada.example/"),
        ("comment_content", "Is this spam? Ünïcode & symbols = fine"),
        ("blog_lang", "en"),
        ("blog_charset", "UTF-8"),
        ("is_test", "1"),
        ("honeypot_field_name", "fax_number"),
        ("hidden_honeypot_field", ""),
    ];
    for (field, value) in expected {
        assert_eq!(
            form.get(field).map(String::as_str),
            Some(value),
            "field {field} in {form:#?}"
        );
    }
    let date = &form["comment_date_gmt"];
    assert!(
        chrono::DateTime::parse_from_rfc3339(date).is_ok() && date.ends_with('Z'),
        "{date}"
    );
    assert!(!form.contains_key("recheck_reason"), "{form:#?}");
    assert!(
        !form.contains_key("user_role"),
        "a guest has no role: {form:#?}"
    );

    let seen = inspect(&app, &moderator.token, id_of(&created)).await;
    assert_eq!(seen["status"], "pending");
    let entry = scorer(&seen, "akismet");
    assert_eq!(entry["score"], 0.95);
    assert_eq!(strings(&entry["reasons"]), vec!["Akismet says spam"]);
    assert_eq!(entry["error"], Value::Null);
    assert_eq!(
        held_because(&seen),
        vec!["combined score 0.9500 is at or above the review threshold 0.84"]
    );
}

#[tokio::test]
async fn akismet_ham_publishes_the_comment() {
    let akismet = akismet_stand_in(|_| Reply::ok("false")).await;
    let app = spawn_app_with(&akismet_toml(&akismet.url, "", "")).await;
    let moderator = moderator(&app).await;
    let user = app.user(Role::Commenter, "member@example.com").await;
    let created = expect_status(
        app.post_json_as(
            &comments_path("akismet"),
            &json!({"body": "a reader's honest opinion"}),
            &user.token,
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(created["status"], "approved");
    assert_eq!(public_ids(&app, "akismet").await, vec![id_of(&created)]);
    let form = requests_to(&akismet, "/1.1/comment-check")[0].form();
    assert_eq!(form["user_role"], "commenter");
    assert_eq!(form["comment_author_email"], "member@example.com");
    assert!(!form.contains_key("is_test"), "{form:#?}");

    let seen = inspect(&app, &moderator.token, id_of(&created)).await;
    let entry = scorer(&seen, "akismet");
    assert_eq!(entry["score"], 0.3);
    assert_eq!(strings(&entry["reasons"]), vec!["Akismet says not spam"]);
}

#[tokio::test]
async fn akismet_discard_is_spam_at_once_unless_told_otherwise() {
    let discard = || Reply::ok("true").with_header("X-akismet-pro-tip", "discard");
    let akismet = akismet_stand_in(move |_| discard()).await;
    let app = spawn_app_with(&akismet_toml(&akismet.url, "", "")).await;
    let moderator = moderator(&app).await;
    let created = post_by(&app, "discard", "bot@example.com", "blatant spam").await;
    assert_eq!(
        created["status"], "pending",
        "shown to its author as pending"
    );
    let seen = inspect(&app, &moderator.token, id_of(&created)).await;
    assert_eq!(seen["status"], "spam");
    assert_eq!(
        held_because(&seen),
        vec!["akismet: Akismet: blatant spam (pro-tip: discard)"]
    );
    assert_eq!(scorer(&seen, "akismet")["rule"], "spam");

    let lenient = spawn_app_with(&akismet_toml(&akismet.url, ", honour_discard = false", "")).await;
    let moderator = lenient.user(Role::Moderator, "m2@example.com").await;
    let created = post_by(&lenient, "discard", "bot@example.com", "blatant spam").await;
    let seen = inspect(&lenient, &moderator.token, id_of(&created)).await;
    assert_eq!(
        seen["status"], "pending",
        "held for review, not spam: {seen}"
    );
    assert_eq!(scorer(&seen, "akismet")["rule"], Value::Null);
}

#[tokio::test]
async fn akismet_garbage_holds_the_comment() {
    let akismet = akismet_stand_in(|_| {
        Reply::ok("invalid").with_header("X-akismet-debug-help", "Empty \"blog\" value")
    })
    .await;
    let app = spawn_app_with(&akismet_toml(&akismet.url, "", "")).await;
    let moderator = moderator(&app).await;
    let created = post_by(&app, "garbage", "a@example.com", "hello").await;
    assert_held_by_failure(
        &app,
        &moderator.token,
        &created,
        "akismet",
        "unexpected answer: invalid (Empty \"blog\" value)",
    )
    .await;
}

#[tokio::test]
async fn akismet_server_errors_hold_the_comment() {
    let akismet = akismet_stand_in(|_| Reply::status(500, "true")).await;
    let app = spawn_app_with(&akismet_toml(&akismet.url, "", "")).await;
    let moderator = moderator(&app).await;
    let created = post_by(&app, "error", "a@example.com", "hello").await;
    assert_held_by_failure(&app, &moderator.token, &created, "akismet", "HTTP 500").await;
}

#[tokio::test]
async fn a_slow_akismet_times_out_and_holds_the_comment() {
    let akismet = akismet_stand_in(|_| Reply::ok("false").after(Duration::from_millis(1000))).await;
    let app = spawn_app_with(&akismet_toml(&akismet.url, "", "")).await;
    let moderator = moderator(&app).await;
    let started = Instant::now();
    let created = post_by(&app, "slow", "a@example.com", "hello").await;
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "the comment waited for the slow scorer: {:?}",
        started.elapsed()
    );
    let seen = assert_held_by_failure(
        &app,
        &moderator.token,
        &created,
        "akismet",
        "timed out after 300 ms",
    )
    .await;
    let elapsed = scorer(&seen, "akismet")["elapsed_us"].as_u64().unwrap();
    assert!((300_000..900_000).contains(&elapsed), "{elapsed}");
}

#[tokio::test]
async fn akismet_down_holds_the_comment_or_is_ignored_when_configured() {
    let down = dead_url();
    let app = spawn_app_with(&akismet_toml(&down, "", "")).await;
    let moderator = moderator(&app).await;
    let created = post_by(&app, "down", "a@example.com", "hello").await;
    assert_held_by_failure(
        &app,
        &moderator.token,
        &created,
        "akismet",
        "request failed",
    )
    .await;

    let ignoring = spawn_app_with(&akismet_toml(&down, "", "on_error = \"ignore\"\n")).await;
    let moderator = ignoring.user(Role::Moderator, "m2@example.com").await;
    let created = post_by(&ignoring, "down", "a@example.com", "hello").await;
    assert_eq!(created["status"], "approved");
    let seen = inspect(&ignoring, &moderator.token, id_of(&created)).await;
    assert_eq!(seen["held_because"], json!([]));
    assert!(scorer(&seen, "akismet")["error"].is_string(), "{seen}");
}

#[tokio::test]
async fn a_spam_verdict_sends_exactly_one_submit_spam_to_akismet() {
    let akismet = akismet_stand_in(|_| Reply::ok("false")).await;
    let app = spawn_app_with(&akismet_toml(&akismet.url, "", "")).await;
    let moderator = moderator(&app).await;
    let created = post_by(
        &app,
        "feedback",
        "sly@example.com",
        "sneaky spam Akismet missed",
    )
    .await;
    assert_eq!(created["status"], "approved");
    assert!(feedback(&app).await.is_empty(), "no verdict, no feedback");

    decide(&app, &moderator.token, id_of(&created), "spam").await;
    let sent = wait_for_path(&akismet, "/1.1/submit-spam", 1, Duration::from_secs(5)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(requests_to(&akismet, "/1.1/submit-spam").len(), 1);
    assert!(requests_to(&akismet, "/1.1/submit-ham").is_empty());
    let form = sent[0].form();
    assert_eq!(form["api_key"], AKISMET_KEY);
    assert_eq!(form["blog"], "https://blog.example/");
    assert_eq!(form["comment_content"], "sneaky spam Akismet missed");
    assert_eq!(form["comment_author_email"], "sly@example.com");
    assert_eq!(form["user_ip"], "127.0.0.1");
    assert_eq!(form["comment_type"], "comment");

    let messages = wait_for_delivered(&app, 1, Duration::from_secs(5)).await;
    assert_eq!(messages.len(), 1, "{messages:#?}");
    assert_eq!(messages[0].target, "akismet");
    assert_eq!(messages[0].attempts, 1);
    assert_eq!(messages[0].last_error, None);
    assert!(
        !messages[0].payload.contains(AKISMET_KEY),
        "the API key must not be stored in the outbox: {}",
        messages[0].payload
    );

    // Deciding the same again sends nothing more.
    decide(&app, &moderator.token, id_of(&created), "spam").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(feedback(&app).await.len(), 1);
    assert_eq!(requests_to(&akismet, "/1.1/submit-spam").len(), 1);
}

#[tokio::test]
async fn a_not_spam_verdict_sends_submit_ham_to_akismet() {
    let akismet = akismet_stand_in(|_| Reply::ok("true")).await;
    let app = spawn_app_with(&akismet_toml(&akismet.url, "", "")).await;
    let moderator = moderator(&app).await;
    let created = post_by(
        &app,
        "feedback",
        "fan@example.com",
        "I genuinely liked this",
    )
    .await;
    assert_eq!(created["status"], "pending");

    let decided = decide(&app, &moderator.token, id_of(&created), "not_spam").await;
    assert_eq!(decided["status"], "approved");
    let sent = wait_for_path(&akismet, "/1.1/submit-ham", 1, Duration::from_secs(5)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(requests_to(&akismet, "/1.1/submit-ham").len(), 1);
    assert!(requests_to(&akismet, "/1.1/submit-spam").is_empty());
    let form = sent[0].form();
    assert_eq!(form["api_key"], AKISMET_KEY);
    assert_eq!(form["comment_content"], "I genuinely liked this");
    wait_for_delivered(&app, 1, Duration::from_secs(5)).await;
    assert_eq!(public_ids(&app, "feedback").await, vec![id_of(&created)]);
}

#[tokio::test]
async fn akismet_feedback_is_retried_until_the_service_takes_it() {
    let submits = Arc::new(AtomicUsize::new(0));
    let counter = submits.clone();
    let akismet = StandIn::start_with(move |request| match request.path.as_str() {
        "/1.1/verify-key" => Reply::ok("valid"),
        "/1.1/comment-check" => Reply::ok("false"),
        _ => match counter.fetch_add(1, Ordering::SeqCst) {
            0 => Reply::status(503, "down for maintenance"),
            1 => Reply::ok("something went wrong"),
            _ => Reply::ok(THANKS),
        },
    })
    .await;
    let app = spawn_app_with(&akismet_toml(&akismet.url, "", "")).await;
    let moderator = moderator(&app).await;
    let created = post_by(
        &app,
        "retry",
        "sly@example.com",
        "spam that slipped through",
    )
    .await;
    decide(&app, &moderator.token, id_of(&created), "spam").await;

    let messages = wait_for_delivered(&app, 1, Duration::from_secs(5)).await;
    assert_eq!(messages.len(), 1);
    let message = &messages[0];
    assert!(message.delivered_at.is_some());
    assert_eq!(message.gave_up_at, None);
    assert_eq!(message.attempts, 3, "{message:#?}");
    assert_eq!(message.last_error, None, "cleared once delivered");
    let sent = requests_to(&akismet, "/1.1/submit-spam");
    assert_eq!(sent.len(), 3, "two failures, then the delivery");
    for request in &sent {
        assert_eq!(
            request.form()["comment_content"],
            "spam that slipped through"
        );
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(requests_to(&akismet, "/1.1/submit-spam").len(), 3);
}

#[tokio::test]
async fn akismet_feedback_waits_in_the_outbox_while_the_service_is_down() {
    let akismet = akismet_stand_in(|_| Reply::ok("false")).await;
    let app = spawn_app_with(&akismet_toml(&akismet.url, "", "")).await;
    let moderator = moderator(&app).await;
    let created = post_by(&app, "outage", "sly@example.com", "more spam").await;
    akismet.stop().await;

    decide(&app, &moderator.token, id_of(&created), "spam").await;
    let start = Instant::now();
    let failing = loop {
        let messages = feedback(&app).await;
        assert_eq!(messages.len(), 1);
        if messages[0].attempts >= 2 {
            break messages[0].clone();
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "no retries: {messages:#?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(failing.delivered_at, None);
    assert_eq!(failing.gave_up_at, None);
    assert!(
        failing
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("request failed")),
        "{failing:#?}"
    );
}

#[tokio::test]
async fn akismet_corrections_mode_reports_only_disagreements() {
    let akismet = akismet_stand_in(|request| {
        if request.form()["comment_content"].contains("pills") {
            Reply::ok("true")
        } else {
            Reply::ok("false")
        }
    })
    .await;
    let app = spawn_app_with(&akismet_toml(
        &akismet.url,
        ", feedback = \"corrections\"",
        "",
    ))
    .await;
    let moderator = moderator(&app).await;
    let caught = post_by(&app, "corrections", "a@example.com", "cheap pills").await;
    let missed = post_by(&app, "corrections", "b@example.com", "subtle spam").await;
    assert_eq!(caught["status"], "pending");
    assert_eq!(missed["status"], "approved");

    // Akismet was right: nothing to tell it.
    decide(&app, &moderator.token, id_of(&caught), "spam").await;
    // Akismet was wrong, twice.
    decide(&app, &moderator.token, id_of(&missed), "spam").await;
    decide(&app, &moderator.token, id_of(&caught), "not_spam").await;

    let spam = wait_for_path(&akismet, "/1.1/submit-spam", 1, Duration::from_secs(5)).await;
    let ham = wait_for_path(&akismet, "/1.1/submit-ham", 1, Duration::from_secs(5)).await;
    wait_for_delivered(&app, 2, Duration::from_secs(5)).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(feedback(&app).await.len(), 2);
    assert_eq!(requests_to(&akismet, "/1.1/submit-spam").len(), 1);
    assert_eq!(requests_to(&akismet, "/1.1/submit-ham").len(), 1);
    assert_eq!(spam[0].form()["comment_content"], "subtle spam");
    assert_eq!(ham[0].form()["comment_content"], "cheap pills");
}

#[tokio::test]
async fn an_edit_is_rechecked_with_akismet() {
    let akismet = akismet_stand_in(|request| {
        if request.form()["comment_content"].contains("casino") {
            Reply::ok("true")
        } else {
            Reply::ok("false")
        }
    })
    .await;
    let app = spawn_app_with(&akismet_toml(&akismet.url, "", "")).await;
    let moderator = moderator(&app).await;
    let created = post_by(&app, "recheck", "a@example.com", "innocent at first").await;
    assert_eq!(created["status"], "approved");
    let token = created["edit_token"].as_str().unwrap();
    let edited = expect_status(
        edit(
            &app,
            id_of(&created),
            token,
            "now with an online casino offer",
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(edited["status"], "pending");
    let checks = requests_to(&akismet, "/1.1/comment-check");
    assert_eq!(checks.len(), 2);
    let form = checks[1].form();
    assert_eq!(form["recheck_reason"], "edit");
    assert_eq!(form["comment_content"], "now with an online casino offer");
    assert_eq!(form["user_ip"], "127.0.0.1");
    let seen = inspect(&app, &moderator.token, id_of(&created)).await;
    assert_eq!(seen["report"]["edit"], true);
    assert_eq!(scorer(&seen, "akismet")["score"], 0.95);
}

// ------------------------------------------------------------ http scorer

/// A classifier stand-in: spammy if the comment's body says "buy", with a
/// hard rule if it says "rule:spam" or "rule:hold".
fn classify(request: &Recorded) -> Reply {
    if request.path != "/score" {
        return Reply::ok("");
    }
    let body = request.json()["body"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if body.contains("rule:spam") {
        Reply::json(json!({"score": 0.2, "reasons": ["known spam campaign"], "rule": "spam"}))
    } else if body.contains("rule:hold") {
        Reply::json(json!({"score": 0.1, "reasons": ["new campaign, have a look"], "rule": "hold"}))
    } else if body.contains("buy") {
        Reply::json(json!({"score": 0.97, "reasons": ["sales pitch", "urgency"]}))
    } else {
        Reply::json(json!({"score": 0.05, "reasons": ["friendly"]}))
    }
}

#[tokio::test]
async fn the_http_scorer_decides_with_its_score_and_reasons_and_signs_its_requests() {
    let classifier = StandIn::start_with(classify).await;
    let app = spawn_app_with(&http_toml(
        &format!(
            "url = \"{}/score\", secret = \"{HTTP_SECRET}\"",
            classifier.url
        ),
        "",
    ))
    .await;
    let moderator = moderator(&app).await;

    let friendly = app
        .request(Method::POST, &comments_path("http"))
        .header("user-agent", "Mozilla/5.0 (Test)")
        .json(&json!({"body": "what a nice post", "author": {"name": "Ann", "email": "ann@example.com"},
                      "article": {"title": "Http", "url": "https://blog.example/http"}}))
        .send()
        .await
        .expect("request");
    let friendly = expect_status(friendly, StatusCode::CREATED).await;
    assert_eq!(friendly["status"], "approved");

    let pitch = post_by(&app, "http", "seller@example.com", "buy my course").await;
    assert_eq!(pitch["status"], "pending");
    let seen = inspect(&app, &moderator.token, id_of(&pitch)).await;
    let entry = scorer(&seen, "http");
    assert_eq!(entry["score"], 0.97);
    assert_eq!(strings(&entry["reasons"]), vec!["sales pitch", "urgency"]);
    assert_eq!(
        held_because(&seen),
        vec!["combined score 0.9700 is at or above the review threshold 0.84"]
    );
    assert!((seen["score"].as_f64().unwrap() - 0.97).abs() < 1e-9);

    let ruled = post_by(&app, "http", "x@example.com", "rule:spam but low score").await;
    assert_eq!(ruled["status"], "pending");
    let seen = inspect(&app, &moderator.token, id_of(&ruled)).await;
    assert_eq!(seen["status"], "spam");
    assert_eq!(held_because(&seen), vec!["http: known spam campaign"]);
    let held = post_by(&app, "http", "y@example.com", "rule:hold please").await;
    let seen = inspect(&app, &moderator.token, id_of(&held)).await;
    assert_eq!(seen["status"], "pending");
    assert_eq!(held_because(&seen), vec!["http: new campaign, have a look"]);
    assert_eq!(public_ids(&app, "http").await, vec![id_of(&friendly)]);

    let requests = requests_to(&classifier, "/score");
    assert_eq!(requests.len(), 4);
    for request in &requests {
        assert_eq!(request.method, "POST");
        assert_eq!(request.header("content-type"), Some("application/json"));
        assert_signed(request, HTTP_SECRET);
    }
    let candidate = requests[0].json();
    assert_eq!(candidate["body"], "what a nice post");
    assert_eq!(candidate["author_name"], "Ann");
    assert_eq!(candidate["author_email"], "ann@example.com");
    assert_eq!(candidate["ip"], "127.0.0.1");
    assert_eq!(candidate["user_agent"], "Mozilla/5.0 (Test)");
    assert_eq!(candidate["article"]["key"], "http");
    assert_eq!(candidate["article"]["url"], "https://blog.example/http");
    assert_eq!(candidate["is_edit"], false);
}

#[tokio::test]
async fn http_scorer_requests_are_unsigned_without_a_secret() {
    let classifier = StandIn::start_with(classify).await;
    let app = spawn_app_with(&http_toml(
        &format!("url = \"{}/score\"", classifier.url),
        "",
    ))
    .await;
    post_by(&app, "unsigned", "a@example.com", "hello").await;
    let request = &requests_to(&classifier, "/score")[0];
    assert_eq!(request.header("x-moderato-signature"), None);
}

#[tokio::test]
async fn http_scorer_failures_hold_the_comment() {
    let classifier = StandIn::start_with(|request| {
        let body = request.json()["body"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        match body.as_str() {
            "garbage" => Reply::ok("<html>not json</html>"),
            "missing score" => Reply::json(json!({"reasons": ["no score"]})),
            "out of range" => Reply::json(json!({"score": 1.5})),
            "server error" => Reply::status(500, "{\"score\": 0.1}"),
            "slow" => Reply::json(json!({"score": 0.1})).after(Duration::from_millis(1000)),
            _ => Reply::json(json!({"score": 0.1})),
        }
    })
    .await;
    let app = spawn_app_with(&http_toml(
        &format!("url = \"{}/score\"", classifier.url),
        "",
    ))
    .await;
    let moderator = moderator(&app).await;
    for (body, error) in [
        ("garbage", "not the expected JSON"),
        ("missing score", "not the expected JSON"),
        ("out of range", "score 1.5 is outside 0..=1"),
        ("server error", "HTTP 500"),
        ("slow", "timed out after 300 ms"),
    ] {
        let created = post_by(&app, "failures", "a@example.com", body).await;
        assert_held_by_failure(&app, &moderator.token, &created, "http", error).await;
    }
    assert_eq!(
        stored_count(&app, &moderator.token).await,
        5,
        "none was lost"
    );
    let fine = post_by(&app, "failures", "a@example.com", "fine").await;
    assert_eq!(fine["status"], "approved");

    let down = spawn_app_with(&http_toml(&format!("url = \"{}/score\"", dead_url()), "")).await;
    let moderator = down.user(Role::Moderator, "m2@example.com").await;
    let created = post_by(&down, "failures", "a@example.com", "hello").await;
    assert_held_by_failure(&down, &moderator.token, &created, "http", "request failed").await;
}

#[tokio::test]
async fn http_scorer_on_error_ignore_lets_the_comment_through() {
    let app = spawn_app_with(&format!(
        "{LINKS_ENTRY}{}",
        http_entry(
            &format!("url = \"{}/score\"", dead_url()),
            "on_error = \"ignore\"\n"
        )
    ))
    .await;
    let moderator = moderator(&app).await;
    let created = post_by(&app, "ignore", "a@example.com", "the classifier is down").await;
    assert_eq!(created["status"], "approved");
    assert_eq!(public_ids(&app, "ignore").await, vec![id_of(&created)]);
    let seen = inspect(&app, &moderator.token, id_of(&created)).await;
    assert_eq!(seen["held_because"], json!([]));
    let http = scorer(&seen, "http");
    assert!(
        http["error"]
            .as_str()
            .is_some_and(|e| e.contains("request failed")),
        "the failure is still recorded: {http}"
    );
    // The other scorers still apply.
    let links = post_by(
        &app,
        "ignore",
        "b@example.com",
        "https://a.example https://b.example",
    )
    .await;
    assert_eq!(links["status"], "pending");
}

#[tokio::test]
async fn http_scorer_feedback_url_receives_verdicts() {
    let classifier = StandIn::start_with(|request| {
        if request.path == "/feedback" {
            Reply::ok("")
        } else {
            classify(request)
        }
    })
    .await;
    let app = spawn_app_with(&http_toml(
        &format!(
            "url = \"{0}/score\", secret = \"{HTTP_SECRET}\", feedback_url = \"{0}/feedback\"",
            classifier.url
        ),
        "",
    ))
    .await;
    let moderator = moderator(&app).await;
    let missed = post_by(&app, "fb", "sly@example.com", "sneaky but friendly-looking").await;
    let wrong = post_by(&app, "fb", "fan@example.com", "I want to buy you a coffee").await;
    assert_eq!(missed["status"], "approved");
    assert_eq!(wrong["status"], "pending");

    decide(&app, &moderator.token, id_of(&missed), "spam").await;
    decide(&app, &moderator.token, id_of(&wrong), "not_spam").await;
    let sent = wait_for_path(&classifier, "/feedback", 2, Duration::from_secs(5)).await;
    wait_for_delivered(&app, 2, Duration::from_secs(5)).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(requests_to(&classifier, "/feedback").len(), 2);

    let mut verdicts: Vec<(String, String)> = sent
        .iter()
        .map(|r| {
            assert_signed(r, HTTP_SECRET);
            let payload = r.json();
            (
                payload["verdict"].as_str().unwrap().to_string(),
                payload["candidate"]["body"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    verdicts.sort();
    assert_eq!(
        verdicts,
        vec![
            ("ham".to_string(), "I want to buy you a coffee".to_string()),
            (
                "spam".to_string(),
                "sneaky but friendly-looking".to_string()
            ),
        ]
    );
    let spam = sent
        .iter()
        .map(Recorded::json)
        .find(|p| p["verdict"] == "spam")
        .unwrap();
    assert_eq!(spam["candidate"]["author_email"], "sly@example.com");
    assert_eq!(spam["candidate"]["ip"], "127.0.0.1");
}

#[tokio::test]
async fn without_a_feedback_url_verdicts_queue_nothing() {
    let classifier = StandIn::start_with(classify).await;
    let app = spawn_app_with(&http_toml(
        &format!("url = \"{}/score\"", classifier.url),
        "",
    ))
    .await;
    let moderator = moderator(&app).await;
    let created = post_by(&app, "nofb", "a@example.com", "buy buy buy").await;
    decide(&app, &moderator.token, id_of(&created), "spam").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(feedback(&app).await.is_empty());
    assert_eq!(classifier.requests().len(), 1, "only the scoring request");
}

// --------------------------------------------------------- guards, edits

#[tokio::test]
async fn a_duplicate_comment_is_refused_with_409_and_not_stored() {
    let app = spawn_app().await;
    let moderator = moderator(&app).await;
    let first = post_by(&app, "dup", "a@example.com", "Great post!").await;
    let again = app
        .post_json(
            &comments_path("dup"),
            &json!({"body": "Great post!", "author": {"name": "Sam Guest", "email": "a@example.com"}}),
        )
        .await;
    expect_error(again, StatusCode::CONFLICT, "duplicate").await;
    assert_eq!(public_ids(&app, "dup").await, vec![id_of(&first)]);
    assert_eq!(stored_count(&app, &moderator.token).await, 1);

    // Someone else may say the same; so may the same author elsewhere.
    post_by(&app, "dup", "b@example.com", "Great post!").await;
    post_by(&app, "other", "a@example.com", "Great post!").await;
    assert_eq!(stored_count(&app, &moderator.token).await, 3);
}

#[tokio::test]
async fn a_refused_duplicate_of_spam_is_not_stored_either() {
    let app = spawn_app().await;
    let moderator = moderator(&app).await;
    let body = json!({"body": "spam spam", "fax_number": "http://bot.example",
                      "author": {"name": "Bot", "email": "bot@example.com"}});
    post(&app, "dup", body.clone()).await;
    expect_error(
        app.post_json(&comments_path("dup"), &body).await,
        StatusCode::CONFLICT,
        "duplicate",
    )
    .await;
    assert_eq!(stored_count(&app, &moderator.token).await, 1);
}

#[tokio::test]
async fn commenting_too_fast_is_refused_with_429_and_retry_after_and_not_stored() {
    let app = spawn_app_with("[guards]\nflood_interval = \"15s\"").await;
    let moderator = moderator(&app).await;
    let first = post_by(&app, "flood", "a@example.com", "first thought").await;
    for (email, text) in [
        ("a@example.com", "second thought"),
        // Another name from the same address is the same client.
        ("other@example.com", "a different person, honest"),
    ] {
        let response = app
            .post_json(
                &comments_path("flood"),
                &json!({"body": text, "author": {"name": "X", "email": email}}),
            )
            .await;
        let retry_after: u64 = response
            .headers()
            .get("retry-after")
            .expect("Retry-After header")
            .to_str()
            .unwrap()
            .parse()
            .expect("seconds");
        assert!((1..=15).contains(&retry_after), "{retry_after}");
        expect_error(response, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    }
    assert_eq!(public_ids(&app, "flood").await, vec![id_of(&first)]);
    assert_eq!(stored_count(&app, &moderator.token).await, 1);
}

#[tokio::test]
async fn an_edit_that_adds_links_is_rescored_and_held() {
    let app = spawn_app().await;
    let moderator = moderator(&app).await;
    let created = post_by(&app, "edits", "a@example.com", "a harmless first version").await;
    assert_eq!(created["status"], "approved");
    let id = id_of(&created);
    let token = created["edit_token"].as_str().unwrap();

    let wrong = edit(
        &app,
        id,
        "not-the-token",
        "https://a.example https://b.example",
    )
    .await;
    expect_error(wrong, StatusCode::FORBIDDEN, "not_author").await;

    let edited = expect_status(
        edit(
            &app,
            id,
            token,
            "now see https://a.example/1 and https://b.example/2 and https://c.example/3",
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(edited["status"], "pending");
    assert!(
        public_ids(&app, "edits").await.is_empty(),
        "still published"
    );
    let seen = inspect(&app, &moderator.token, id).await;
    assert_eq!(seen["status"], "pending");
    assert_eq!(seen["report"]["edit"], true);
    let held = held_because(&seen);
    assert!(
        held.contains(&"links: 3 links (held at 2)".to_string()),
        "{held:?}"
    );
    assert!(queue_ids(&app, &moderator.token, "pending")
        .await
        .contains(&id));
}

#[tokio::test]
async fn an_edit_that_adds_a_blocked_word_is_spam_shown_as_pending() {
    let app = spawn_app().await;
    let admin = admin(&app).await;
    let moderator = moderator(&app).await;
    expect_status(
        add_entry(
            &app,
            &admin.token,
            json!({"list": "blocked", "pattern": "viagra"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let created = post_by(&app, "edits", "a@example.com", "clean at first").await;
    let id = id_of(&created);
    let token = created["edit_token"].as_str().unwrap();
    let response = edit(&app, id, token, "clean at first, viagra later").await;
    let text = response.text().await.unwrap();
    let edited: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(edited["status"], "pending", "{text}");
    assert!(!text.contains("\"spam\""), "{text}");
    let seen = inspect(&app, &moderator.token, id).await;
    assert_eq!(seen["status"], "spam");
    assert_eq!(seen["report"]["edit"], true);
    assert!(public_ids(&app, "edits").await.is_empty());

    // An edit never moves a comment back: a clean text stays where it is.
    let response = edit(&app, id, token, "clean again").await;
    assert!(
        response.status() == StatusCode::OK || response.status().is_client_error(),
        "{}",
        response.status()
    );
    let seen = inspect(&app, &moderator.token, id).await;
    assert_eq!(seen["status"], "spam");
    assert!(public_ids(&app, "edits").await.is_empty());
}

// ------------------------------ staff, bulk, instances, weights, outbox

#[tokio::test]
async fn trusted_staff_skip_holding_but_not_a_blocked_word() {
    let app = spawn_app().await;
    let admin = admin(&app).await;
    let moderator = moderator(&app).await;
    let links = expect_status(
        app.post_json_as(
            &comments_path("staff"),
            &json!({"body": "docs: https://a.example/1 https://b.example/2 https://c.example/3"}),
            &moderator.token,
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(links["status"], "approved", "{links}");
    let seen = inspect(&app, &moderator.token, id_of(&links)).await;
    assert_eq!(
        scorer(&seen, "links")["rule"],
        "hold",
        "still scored: {seen}"
    );

    expect_status(
        add_entry(
            &app,
            &admin.token,
            json!({"list": "blocked", "pattern": "zorblax"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let blocked = expect_status(
        app.post_json_as(
            &comments_path("staff"),
            &json!({"body": "get your zorblax here"}),
            &moderator.token,
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let seen = inspect(&app, &moderator.token, id_of(&blocked)).await;
    assert_eq!(seen["status"], "spam");
}

#[tokio::test]
async fn http_scorer_reasons_are_bounded() {
    let classifier = StandIn::start(Reply::json(json!({
        "score": 0.2,
        "reasons": (0..12).map(|i| format!("{i}{}", "x".repeat(300))).collect::<Vec<_>>(),
    })))
    .await;
    let app = spawn_app_with(&http_toml(
        &format!("url = \"{}/score\"", classifier.url),
        "",
    ))
    .await;
    let moderator = moderator(&app).await;
    let created = post_by(&app, "verbose", "a@example.com", "hello").await;
    assert_eq!(created["status"], "approved");
    let seen = inspect(&app, &moderator.token, id_of(&created)).await;
    let reasons = strings(&scorer(&seen, "http")["reasons"]);
    assert_eq!(reasons.len(), 10, "{reasons:?}");
    assert!(
        reasons.iter().all(|r| r.chars().count() == 200),
        "{reasons:?}"
    );
    assert!(reasons[9].starts_with('9'));
}

#[tokio::test]
async fn bulk_verdicts_teach_and_send_feedback_for_every_comment() {
    let akismet = akismet_stand_in(|_| Reply::ok("false")).await;
    let app = spawn_app_with(&format!(
        "{}\n[[spam.scorers]]\nkind = \"learned\"\n",
        akismet_toml(&akismet.url, "", "")
    ))
    .await;
    let moderator = moderator(&app).await;
    let ids = posted_ids(&app, "bulk", &SPAM_TEXTS[..3]).await;
    let decided = expect_status(
        app.post_json_as(
            "/api/v1/moderation/decisions",
            &json!({"ids": ids, "action": "spam"}),
            &moderator.token,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(decided["decided"].as_array().unwrap().len(), 3, "{decided}");

    let sent = wait_for_path(&akismet, "/1.1/submit-spam", 3, Duration::from_secs(5)).await;
    wait_for_delivered(&app, 3, Duration::from_secs(5)).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(requests_to(&akismet, "/1.1/submit-spam").len(), 3);
    let mut contents: Vec<String> = sent
        .iter()
        .map(|r| r.form()["comment_content"].clone())
        .collect();
    contents.sort();
    let mut expected: Vec<String> = SPAM_TEXTS[..3].iter().map(|t| t.to_string()).collect();
    expected.sort();
    assert_eq!(contents, expected);

    let (model, _) = stored_model(&app).await;
    assert_eq!((model.globals().spam, model.globals().ham), (3.0, 0.0));
    let in_memory = app.state.spam.model.read(Model::globals);
    assert_eq!((in_memory.spam, in_memory.ham), (3.0, 0.0));
}

/// A second server on the same database, as another instance behind a load
/// balancer would be.
struct Instance {
    address: String,
    state: actix_web::web::Data<moderato::state::AppState>,
}

async fn another_instance(app: &TestApp) -> Instance {
    let settings = (*app.state.settings).clone();
    let instance = moderato::startup::Application::build(settings)
        .await
        .expect("a second instance must start");
    let address = format!("http://127.0.0.1:{}", instance.port());
    let state = instance.state();
    tokio::spawn(instance.run_until_stopped());
    Instance { address, state }
}

/// Waits until `check` holds (or panics after `within`).
async fn eventually(what: &str, within: Duration, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < within, "not within {within:?}: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn word_list_and_model_changes_reach_other_instances() {
    let app = spawn_app_with("[spam]\nrefresh_interval = \"50ms\"").await;
    let other = another_instance(&app).await;
    let admin = admin(&app).await;
    let moderator = moderator(&app).await;
    let post_to_other = |text: &str| {
        app.client
            .post(format!("{}{}", other.address, comments_path("shared")))
            .json(&json!({"body": text, "author": {"name": "Visitor", "email": "v@example.com"}}))
            .send()
    };

    expect_status(
        add_entry(
            &app,
            &admin.token,
            json!({"list": "blocked", "pattern": "zorblax"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let lists_version = app.state.spam.wordlists.version();
    eventually(
        "the other instance loads the word list",
        Duration::from_secs(3),
        || other.state.spam.wordlists.version() == lists_version,
    )
    .await;
    let created = expect_status(
        post_to_other("zorblax for sale").await.unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let seen = inspect(&app, &moderator.token, id_of(&created)).await;
    assert_eq!(seen["status"], "spam", "{seen}");

    let spam_ids = posted_ids(&app, "teach", &SPAM_TEXTS[..5]).await;
    let ham_ids = posted_ids(&app, "teach", &HAM_TEXTS[..5]).await;
    for id in &spam_ids {
        decide(&app, &moderator.token, *id, "spam").await;
    }
    for id in &ham_ids {
        decide(&app, &moderator.token, *id, "not_spam").await;
    }
    let (_, model_version) = stored_model(&app).await;
    eventually(
        "the other instance loads the model",
        Duration::from_secs(3),
        || other.state.spam.model.version() == model_version,
    )
    .await;
    let in_memory = other.state.spam.model.read(Model::globals);
    assert_eq!((in_memory.spam, in_memory.ham), (5.0, 5.0));
    let probe = expect_status(
        post_to_other(SPAM_PROBE).await.unwrap(),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(probe["status"], "pending");
    let seen = inspect(&app, &moderator.token, id_of(&probe)).await;
    assert!(
        scorer(&seen, "learned")["score"].as_f64().unwrap() > 0.9,
        "{seen}"
    );
}

#[tokio::test]
async fn weights_scale_a_scorers_say_and_zero_leaves_only_its_rules() {
    let classifier = StandIn::start_with(|request| {
        let body = request.json()["body"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if body.contains("hold") {
            Reply::json(json!({"score": 0.99, "reasons": ["odd"], "rule": "hold"}))
        } else {
            Reply::json(json!({"score": 0.8, "reasons": ["somewhat spammy"]}))
        }
    })
    .await;
    let url = format!("url = \"{}/score\"", classifier.url);

    let single = spawn_app_with(&http_toml(&url, "")).await;
    let created = post_by(&single, "weights", "a@example.com", "hello").await;
    assert_eq!(created["status"], "approved", "0.8 is under 0.84");

    let double = spawn_app_with(&http_toml(&url, "weight = 2.0\n")).await;
    let moderator = double.user(Role::Moderator, "m2@example.com").await;
    let created = post_by(&double, "weights", "a@example.com", "hello").await;
    assert_eq!(created["status"], "pending");
    let seen = inspect(&double, &moderator.token, id_of(&created)).await;
    assert_eq!(scorer(&seen, "http")["weight"], 2.0);
    assert_eq!(scorer(&seen, "http")["score"], 0.8);
    let expected = 1.0 / (1.0 + (-2.0 * (0.8f64 / 0.2).ln()).exp());
    assert!(
        (seen["score"].as_f64().unwrap() - expected).abs() < 1e-9,
        "{seen}"
    );

    let rules_only = spawn_app_with(&http_toml(&url, "weight = 0.0\n")).await;
    let moderator = rules_only.user(Role::Moderator, "m3@example.com").await;
    let created = post_by(&rules_only, "weights", "a@example.com", "hello").await;
    assert_eq!(created["status"], "approved");
    let seen = inspect(&rules_only, &moderator.token, id_of(&created)).await;
    assert!(
        (seen["score"].as_f64().unwrap() - 0.5).abs() < 1e-9,
        "{seen}"
    );
    let held = post_by(&rules_only, "weights", "a@example.com", "please hold").await;
    assert_eq!(held["status"], "pending");
    let seen = inspect(&rules_only, &moderator.token, id_of(&held)).await;
    assert_eq!(held_because(&seen), vec!["http: odd"]);
}

#[tokio::test]
async fn feedback_is_given_up_after_the_last_attempt() {
    let akismet = akismet_stand_in(|_| Reply::ok("false")).await;
    let app = spawn_app_with(&format!(
        "{FAST_OUTBOX}max_attempts = 2\n{}",
        akismet_entry(&akismet.url, "", "")
    ))
    .await;
    let moderator = moderator(&app).await;
    let created = post_by(&app, "give-up", "sly@example.com", "spam forever").await;
    assert_eq!(created["status"], "approved");
    // From now on Akismet fails every request.
    akismet.reply(Reply::status(500, "oops"));
    decide(&app, &moderator.token, id_of(&created), "spam").await;

    let start = Instant::now();
    let message = loop {
        let messages = feedback(&app).await;
        assert_eq!(messages.len(), 1);
        if messages[0].gave_up_at.is_some() {
            break messages[0].clone();
        }
        assert!(start.elapsed() < Duration::from_secs(5), "{messages:#?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(message.attempts, 2);
    assert_eq!(message.delivered_at, None);
    assert!(
        message
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("HTTP 500")),
        "{message:#?}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let submits = akismet.wait_for(1, Duration::from_secs(1)).await;
    assert_eq!(
        submits
            .iter()
            .filter(|r| r.path == "/1.1/submit-spam")
            .count(),
        2,
        "no attempt after giving up"
    );
}

// ------------------------------------------------ known product bugs

#[tokio::test]
async fn the_in_memory_model_never_counts_a_verdict_twice() {
    // The refresher reloads the model whenever the stored version moves; a
    // verdict commits (moving it) and only then updates the in-memory copy.
    // A reload landing in between already holds the verdict, which is then
    // added a second time, and the copy's version now matches the database
    // so nothing repairs it until the next change.
    let app = spawn_app_with("[spam]\nrefresh_interval = \"1ms\"").await;
    let moderator = moderator(&app).await;
    let mut texts = Vec::new();
    for i in 0..80 {
        texts.push(format!("spammy words number {i} here and there"));
    }
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let ids = posted_ids(&app, "race", &refs).await;
    for (n, id) in ids.iter().enumerate() {
        decide(&app, &moderator.token, *id, "spam").await;
        // Long enough for many refresh ticks to settle any reload.
        tokio::time::sleep(Duration::from_millis(15)).await;
        let (stored, _) = stored_model(&app).await;
        let in_memory = app.state.spam.model.read(Model::globals);
        assert_eq!(
            (in_memory.spam, in_memory.ham),
            (stored.globals().spam, stored.globals().ham),
            "after verdict {}: the in-memory model disagrees with the database",
            n + 1
        );
    }
}

#[tokio::test]
async fn a_reversed_verdict_on_an_edited_comment_leaves_the_model_exact() {
    // The spammer's trick: post something clean, have it judged, edit the
    // links in. The reversal must take back what was learned (the clean
    // text), and the stored model must stay equal to the in-memory one.
    const CLEAN: &str = "Lovely photos of the mountain trail, thanks for sharing them";
    const EDITED: &str = "Cheap watches at https://watches.example and https://deals.example now";
    let app = spawn_app().await;
    let moderator = moderator(&app).await;
    let created = post_by(&app, "edit-learn", "sly@example.com", CLEAN).await;
    let id = id_of(&created);
    decide(&app, &moderator.token, id, "not_spam").await;
    let token = created["edit_token"].as_str().unwrap();
    let edited = expect_status(edit(&app, id, token, EDITED).await, StatusCode::OK).await;
    assert_eq!(edited["status"], "pending");
    decide(&app, &moderator.token, id, "spam").await;
    // Someone else posts the same text, and it is judged not spam.
    let copy = post_by(&app, "edit-learn", "other@example.com", EDITED).await;
    decide(&app, &moderator.token, id_of(&copy), "not_spam").await;

    let (stored, _) = stored_model(&app).await;
    let in_memory = app.state.spam.model.read(Model::clone);
    let mut expected = Model::empty();
    expected.learn(EDITED, true);
    expected.learn(EDITED, false);
    assert_eq!(
        model_differences(&stored, &in_memory),
        "",
        "the stored model and this instance's copy disagree"
    );
    assert_eq!(
        model_differences(&in_memory, &expected),
        "",
        "the model should hold the edited text once as spam and once as ham, \
         and nothing of the clean text"
    );
}

/// How two models differ, briefly ("" when they are equal).
fn model_differences(left: &Model, right: &Model) -> String {
    let mut out = Vec::new();
    if left.globals() != right.globals() {
        out.push(format!(
            "globals {:?} vs {:?}",
            left.globals(),
            right.globals()
        ));
    }
    let (l, r) = (left.rows(), right.rows());
    let only_left = l.iter().filter(|row| !r.contains(row)).count();
    let only_right = r.iter().filter(|row| !l.contains(row)).count();
    if only_left + only_right > 0 {
        let sample = l.iter().find(|row| !r.contains(row)).map(|row| {
            let other = r.iter().find(|o| o.key == row.key);
            format!(
                "e.g. key {}: ({}, {}) vs {:?}",
                row.key,
                row.a,
                row.b,
                other.map(|o| (o.a, o.b))
            )
        });
        out.push(format!(
            "{only_left} rows only on the left, {only_right} only on the right; {}",
            sample.unwrap_or_default()
        ));
    }
    out.join("; ")
}

#[tokio::test]
async fn a_null_honeypot_field_is_an_empty_one() {
    // Form libraries often send an untouched optional field as null.
    let app = spawn_app().await;
    let created = post(
        &app,
        "honey-null",
        json!({"body": "a person wrote this", "fax_number": null,
               "author": {"name": "Human", "email": "h@example.com"}}),
    )
    .await;
    assert_eq!(created["status"], "approved", "{created}");
    assert_eq!(public_ids(&app, "honey-null").await, vec![id_of(&created)]);
}
