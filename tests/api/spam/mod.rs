//! Spam scoring through the real server (issue: pluggable spam scoring).
//!
//! The built-in scorers (links, word lists, honeypot, learned) with the
//! default settings; Akismet and the generic http scorer against local
//! stand-ins; moderators' verdicts teaching the learned scorer and going
//! out as feedback through the outbox; the guards that refuse a comment
//! before it is scored; and rescoring on edit. One file per area.
//!
//! Here, what several areas share: posting ([`post`], [`post_by`]), a
//! moderator's view of a comment and its report ([`inspect`], [`scorer`],
//! [`held_because`]), the public thread and the queue, the word list API,
//! scorer settings built as TOML ([`akismet_toml`], [`http_toml`]), the
//! Akismet stand-in, feedback in the outbox, and texts the learned scorer
//! is taught with.

mod akismet;
mod edits;
mod guards;
mod honeypot;
mod http_scorer;
mod instances;
mod learned;
mod links;
mod report;
mod wordlists;

use std::time::{Duration, Instant};

use moderato::db::outbox::Message;
use moderato::db::DbError;
use moderato::domain::Role;
use moderato::spam::classifier::Model;
use moderato::spam::LearnedModel;
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{expect_status, id_of, TestApp, TestUser};
// The shared decision that must succeed, under the name these tests use.
use crate::helpers::decided as decide;
use crate::standins::{Recorded, Reply, StandIn};

/// Outbox timings that let a test see retries within a second.
/// A fast outbox, and the blog's origin (whose page URLs name new
/// articles, and are passed on to the scorers).
const FAST_OUTBOX: &str = "server.cors_origins = [\"https://blog.example\"]\n[outbox]\nfirst_retry = \"50ms\"\nmax_retry = \"200ms\"\n\
                           poll_interval = \"50ms\"\nrequest_timeout = \"2s\"\n";

const AKISMET_KEY: &str = "akismet-test-key-0123";

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
