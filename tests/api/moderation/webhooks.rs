//! Webhooks: signed deliveries retried with the same id, given up after
//! `max_attempts`, only the events an endpoint subscribed to, and an edit
//! sending a comment back to review announced as held.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use moderato::db::DbError;
use moderato::domain::Role;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{decided, id_of, spawn_app_with, TestApp};
use crate::standins::{Reply, StandIn};

use super::{ban, guest, send, verified, webhooks_to, Deliveries, FAST_OUTBOX};

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
