//! A moderator changing a comment's text: readers see the new HTML at once,
//! the log says who and why, and there is no edit window, no scoring and no
//! status change; bad input, stale versions and other callers are refused.

use moderato::domain::Role;
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{expect_error, expect_status, id_of, spawn_app, spawn_app_with, TestApp};

use super::{account_comment, detail, log, queue_ids, send, thread_ids};

async fn patch(app: &TestApp, token: &str, id: i64, body: &Value) -> Response {
    send(
        app,
        Method::PATCH,
        &format!("/api/v1/moderation/comments/{id}"),
        Some(token),
        Some(body),
    )
    .await
}

/// The public thread's comment `id`.
async fn shown(app: &TestApp, article: &str, id: i64) -> Value {
    app.thread(article).await["comments"]
        .as_array()
        .expect("comments")
        .iter()
        .find(|c| id_of(c) == id)
        .unwrap_or_else(|| panic!("comment {id} is not shown"))
        .clone()
}

#[tokio::test]
async fn a_moderators_edit_of_an_approved_comment_is_shown_and_logged() {
    // Long past the authors' edit window, which moderators do not have.
    let app = spawn_app_with("[comments]\nedit_window = \"1ms\"").await;
    let moderator = app.user(Role::Moderator, "editor@example.com").await;
    let created = app.guest_comment("mod-edit", "teh typo here").await;
    let c = id_of(&created);
    let before = detail(&app, &moderator.token, c).await["comment"].clone();
    assert_eq!(before["status"], "approved");
    // Read once, so the cache holds the old text.
    assert!(shown(&app, "mod-edit", c).await["html"]
        .as_str()
        .unwrap()
        .contains("teh typo"));
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;

    let edited = expect_status(
        patch(
            &app,
            &moderator.token,
            c,
            &json!({"body": "the **fixed** text", "reason": " typo ", "version": before["version"]}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(edited["id"], c);
    assert_eq!(edited["status"], "approved");
    assert_eq!(edited["body"], "the **fixed** text");
    assert!(
        edited["html"]
            .as_str()
            .unwrap()
            .contains("<strong>fixed</strong>"),
        "{edited}"
    );
    assert!(edited["version"].as_i64() > before["version"].as_i64());
    assert!(edited["edited_at"].is_string(), "{edited}");
    // Not scored again: the report is the one it was published with.
    assert_eq!(edited["score"], before["score"]);

    let public = shown(&app, "mod-edit", c).await;
    assert!(
        public["html"]
            .as_str()
            .unwrap()
            .contains("<strong>fixed</strong>"),
        "{public}"
    );

    let entries = log(&app, &moderator.token, &format!("?comment={c}")).await["entries"].clone();
    assert_eq!(entries.as_array().map(Vec::len), Some(1), "{entries}");
    assert_eq!(entries[0]["action"], "edit");
    assert_eq!(entries[0]["moderator_id"], moderator.id);
    assert_eq!(entries[0]["reason"], "typo");
    assert_eq!(entries[0]["from_status"], "approved");
    assert_eq!(entries[0]["to_status"], "approved");
    let edits = log(&app, &moderator.token, "?action=edit").await;
    assert_eq!(edits["entries"].as_array().map(Vec::len), Some(1));

    // The author's own edit window stays closed.
    let response = app
        .request(Method::PATCH, &format!("/api/v1/comments/{c}"))
        .header("X-Edit-Token", created["edit_token"].as_str().unwrap())
        .json(&json!({"body": "mine again"}))
        .send()
        .await
        .unwrap();
    expect_error(response, StatusCode::FORBIDDEN, "edit_window_closed").await;
}

#[tokio::test]
async fn a_held_comment_edited_by_a_moderator_stays_held_and_unpublished() {
    let app = spawn_app_with("[moderation]\nmode = \"all\"").await;
    let moderator = app.user(Role::Moderator, "held.editor@example.com").await;
    let c = id_of(&app.guest_comment("mod-edit-held", "rude words here").await);
    let edited = expect_status(
        patch(
            &app,
            &moderator.token,
            c,
            &json!({"body": "kind words here"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(edited["status"], "pending");
    assert_eq!(edited["body"], "kind words here");
    assert!(thread_ids(&app.thread("mod-edit-held").await).is_empty());
    assert_eq!(queue_ids(&app, &moderator.token, "").await, vec![c]);
}

#[tokio::test]
async fn a_moderators_edit_refuses_bad_input_stale_versions_and_non_moderators() {
    let app = spawn_app().await;
    let moderator = app.user(Role::Moderator, "strict.editor@example.com").await;
    let commenter = app.user(Role::Commenter, "writer@example.com").await;
    let own = id_of(&account_comment(&app, "mod-edit-bad", "my words", &commenter.token).await);
    let version = detail(&app, &moderator.token, own).await["comment"]["version"].clone();

    for (body, code) in [
        (json!({"body": ""}), "invalid_field"),
        (json!({"body": "  \n "}), "invalid_field"),
        (json!({"body": "x".repeat(70_000)}), "invalid_field"),
        (
            json!({"body": "fine", "reason": "r".repeat(1001)}),
            "invalid_field",
        ),
        (
            json!({"body": "fine", "status": "approved"}),
            "invalid_body",
        ),
        (json!({"reason": "no body"}), "invalid_body"),
    ] {
        expect_error(
            patch(&app, &moderator.token, own, &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            code,
        )
        .await;
    }
    // Commenters may not, not even on their own comment.
    expect_error(
        patch(&app, &commenter.token, own, &json!({"body": "rewritten"})).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    expect_error(
        send(
            &app,
            Method::PATCH,
            &format!("/api/v1/moderation/comments/{own}"),
            None,
            Some(&json!({"body": "rewritten"})),
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "not_signed_in",
    )
    .await;

    // A version from before a change is stale.
    expect_status(
        patch(&app, &moderator.token, own, &json!({"body": "first fix"})).await,
        StatusCode::OK,
    )
    .await;
    expect_error(
        patch(
            &app,
            &moderator.token,
            own,
            &json!({"body": "second fix", "version": version}),
        )
        .await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    let now = detail(&app, &moderator.token, own).await;
    assert_eq!(now["comment"]["body"], "first fix");
    let edits: Vec<&Value> = now["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "edit")
        .collect();
    assert_eq!(edits.len(), 1, "refused edits are not logged: {now}");

    // Nothing to edit in a deleted comment, or in none at all.
    expect_status(
        send(
            &app,
            Method::DELETE,
            &format!("/api/v1/comments/{own}"),
            Some(&commenter.token),
            None,
        )
        .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    for id in [own, own + 1000] {
        expect_error(
            patch(&app, &moderator.token, id, &json!({"body": "too late"})).await,
            StatusCode::NOT_FOUND,
            "comment_not_found",
        )
        .await;
    }
}
