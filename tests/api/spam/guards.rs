//! The guards that refuse a comment before it is scored, and store
//! nothing: duplicates (409) and commenting too fast (429 with
//! Retry-After).

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{expect_error, id_of, spawn_app, spawn_app_with};

use super::{comments_path, moderator, post, post_by, public_ids, stored_count};

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
