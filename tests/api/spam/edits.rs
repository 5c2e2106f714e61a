//! Edits are scored again: added links hold a published comment, an added
//! blocked word sends it to spam (shown to its author as pending), and an
//! edit never moves a comment back.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{expect_error, expect_status, id_of, spawn_app};

use super::{
    add_entry, admin, edit, held_because, inspect, moderator, post_by, public_ids, queue_ids,
};

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
