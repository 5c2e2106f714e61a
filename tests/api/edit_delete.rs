//! Authors editing and deleting their comments; moderators deleting any.

use moderato::domain::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{expect_error, expect_status, spawn_app, spawn_app_with, TestApp};

async fn patch(
    app: &TestApp,
    id: i64,
    body: &str,
    token: Option<&str>,
    bearer: Option<&str>,
) -> reqwest::Response {
    let mut request = app
        .request(Method::PATCH, &format!("/api/v1/comments/{id}"))
        .json(&json!({"body": body}));
    if let Some(t) = token {
        request = request.header("X-Edit-Token", t);
    }
    if let Some(b) = bearer {
        request = request.bearer_auth(b);
    }
    request.send().await.unwrap()
}

async fn delete(
    app: &TestApp,
    id: i64,
    token: Option<&str>,
    bearer: Option<&str>,
) -> reqwest::Response {
    let mut request = app.request(Method::DELETE, &format!("/api/v1/comments/{id}"));
    if let Some(t) = token {
        request = request.header("X-Edit-Token", t);
    }
    if let Some(b) = bearer {
        request = request.bearer_auth(b);
    }
    request.send().await.unwrap()
}

fn id_and_token(created: &Value) -> (i64, String) {
    (
        created["id"].as_i64().unwrap(),
        created["edit_token"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn a_guest_edits_with_the_edit_token() {
    let app = spawn_app().await;
    let (id, token) = id_and_token(&app.guest_comment("e", "tpyo").await);
    let edited = expect_status(
        patch(&app, id, "*typo* fixed", Some(&token), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(edited["body"], "*typo* fixed");
    assert_eq!(edited["html"], "<p><em>typo</em> fixed</p>\n");
    assert!(edited["edited_at"].is_string());
    assert!(
        edited.get("edit_token").is_none(),
        "the token is shown only once"
    );
    let thread = app.thread("e").await;
    assert_eq!(thread["comments"][0]["body"], "*typo* fixed");
    assert!(thread["comments"][0]["edited_at"].is_string());
}

#[tokio::test]
async fn nobody_else_can_edit_a_guest_comment() {
    let app = spawn_app().await;
    let (id, _) = id_and_token(&app.guest_comment("e", "original").await);
    let (_, other_token) = id_and_token(&app.guest_comment("e", "another").await);
    let stranger = app.user(Role::Commenter, "stranger@example.com").await;
    expect_error(
        patch(&app, id, "hijack", None, None).await,
        StatusCode::FORBIDDEN,
        "not_author",
    )
    .await;
    expect_error(
        patch(&app, id, "hijack", Some(&other_token), None).await,
        StatusCode::FORBIDDEN,
        "not_author",
    )
    .await;
    expect_error(
        patch(&app, id, "hijack", Some("forged"), None).await,
        StatusCode::FORBIDDEN,
        "not_author",
    )
    .await;
    expect_error(
        patch(&app, id, "hijack", None, Some(&stranger.token)).await,
        StatusCode::FORBIDDEN,
        "not_author",
    )
    .await;
    assert_eq!(app.thread("e").await["comments"][0]["body"], "original");
}

#[tokio::test]
async fn an_account_edits_its_own_comment_and_not_anothers() {
    let app = spawn_app().await;
    let alice = app.user(Role::Commenter, "alice@example.com").await;
    let bob = app.user(Role::Commenter, "bob@example.com").await;
    let created = expect_status(
        app.post_json_as(
            "/api/v1/articles/e/comments",
            &json!({"body": "mine"}),
            &alice.token,
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let id = created["id"].as_i64().unwrap();
    expect_error(
        patch(&app, id, "bob was here", None, Some(&bob.token)).await,
        StatusCode::FORBIDDEN,
        "not_author",
    )
    .await;
    expect_error(
        delete(&app, id, None, Some(&bob.token)).await,
        StatusCode::FORBIDDEN,
        "not_author",
    )
    .await;
    let edited = expect_status(
        patch(&app, id, "still mine", None, Some(&alice.token)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(edited["body"], "still mine");
}

#[tokio::test]
async fn edits_after_the_window_are_refused() {
    let app = spawn_app_with("[comments]\nedit_window = \"1ms\"").await;
    let (id, token) = id_and_token(&app.guest_comment("e", "too late").await);
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    expect_error(
        patch(&app, id, "changed", Some(&token), None).await,
        StatusCode::FORBIDDEN,
        "edit_window_closed",
    )
    .await;
    // Deleting is allowed at any time.
    expect_status(
        delete(&app, id, Some(&token), None).await,
        StatusCode::NO_CONTENT,
    )
    .await;
}

#[tokio::test]
async fn edits_are_validated_like_new_comments() {
    let app = spawn_app().await;
    let (id, token) = id_and_token(&app.guest_comment("e", "fine").await);
    let error = expect_error(
        patch(&app, id, "  ", Some(&token), None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    )
    .await;
    assert_eq!(error["error"]["field"], "body");
    expect_error(
        patch(&app, 987_654, "x", Some(&token), None).await,
        StatusCode::NOT_FOUND,
        "comment_not_found",
    )
    .await;
    let response = app
        .request(Method::PATCH, "/api/v1/comments/not-a-number")
        .json(&json!({"body": "x"}))
        .send()
        .await
        .unwrap();
    expect_error(response, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn a_deleted_comment_without_replies_leaves_the_thread() {
    let app = spawn_app().await;
    let (id, token) = id_and_token(&app.guest_comment("d", "regret").await);
    expect_status(
        delete(&app, id, Some(&token), None).await,
        StatusCode::NO_CONTENT,
    )
    .await;
    let thread = app.thread("d").await;
    assert_eq!(thread["total"], 0);
    assert!(thread["comments"].as_array().unwrap().is_empty());
    expect_error(
        delete(&app, id, Some(&token), None).await,
        StatusCode::NOT_FOUND,
        "comment_not_found",
    )
    .await;
}

#[tokio::test]
async fn a_deleted_comment_with_replies_stays_as_a_placeholder() {
    let app = spawn_app().await;
    let (root, token) = id_and_token(&app.guest_comment("d", "the parent's words").await);
    let reply = app.guest_reply("d", root, "a reply").await["id"]
        .as_i64()
        .unwrap();
    expect_status(
        delete(&app, root, Some(&token), None).await,
        StatusCode::NO_CONTENT,
    )
    .await;
    let thread = app.thread("d").await;
    let comments = thread["comments"].as_array().unwrap();
    assert_eq!(comments.len(), 2);
    assert_eq!(comments[0]["id"], root);
    assert_eq!(comments[0]["deleted"], true);
    assert_eq!(comments[0]["body"], "");
    assert_eq!(comments[0]["html"], "");
    assert_eq!(comments[0]["author"], Value::Null);
    assert_eq!(comments[1]["id"], reply);
    assert_eq!(comments[1]["parent_id"], root);
    assert_eq!(thread["total"], 1, "placeholders are not counted");
    assert!(!serde_json::to_string(&thread)
        .unwrap()
        .contains("the parent's words"));
}

#[tokio::test]
async fn moderators_may_delete_any_comment_strangers_none() {
    let app = spawn_app().await;
    let (id, _) = id_and_token(&app.guest_comment("d", "rude").await);
    expect_error(
        delete(&app, id, None, None).await,
        StatusCode::FORBIDDEN,
        "not_author",
    )
    .await;
    let commenter = app.user(Role::Commenter, "c@example.com").await;
    expect_error(
        delete(&app, id, None, Some(&commenter.token)).await,
        StatusCode::FORBIDDEN,
        "not_author",
    )
    .await;
    let moderator = app.user(Role::Moderator, "m@example.com").await;
    expect_status(
        delete(&app, id, None, Some(&moderator.token)).await,
        StatusCode::NO_CONTENT,
    )
    .await;
    assert_eq!(app.thread("d").await["total"], 0);
}
