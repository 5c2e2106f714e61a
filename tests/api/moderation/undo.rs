//! Undoing a moderator's latest decision: comments go back to their status
//! and verdict, the learned scorer forgets what it was taught, a second
//! undo takes back the decision before, and anything done to a comment
//! since makes the undo a conflict that changes nothing.

use moderato::domain::Role;
use moderato::spam::classifier::Model;
use moderato::spam::LearnedModel;
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{
    decided, expect_error, expect_status, id_of, spawn_app, spawn_app_with, TestApp,
};

use super::{actions, bulk, detail, log, queue_ids, send, sorted, thread_ids};

async fn undo(app: &TestApp, token: &str) -> Response {
    send(
        app,
        Method::POST,
        "/api/v1/moderation/undo",
        Some(token),
        None,
    )
    .await
}

/// An undo that must succeed; returns `(id, status)` of each comment it put
/// back, by id.
async fn undone(app: &TestApp, token: &str) -> Vec<(i64, String)> {
    let answer = expect_status(undo(app, token).await, StatusCode::OK).await;
    let mut back: Vec<(i64, String)> = answer["undone"]
        .as_array()
        .unwrap_or_else(|| panic!("no undone list in {answer}"))
        .iter()
        .map(|c| (id_of(c), c["status"].as_str().expect("status").to_string()))
        .collect();
    back.sort();
    back
}

/// `(status, version)` of each comment.
async fn versions(app: &TestApp, token: &str, ids: &[i64]) -> Vec<(Value, Value)> {
    let mut seen = Vec::new();
    for id in ids {
        let comment = detail(app, token, *id).await["comment"].clone();
        seen.push((comment["status"].clone(), comment["version"].clone()));
    }
    seen
}

/// The learned model as stored.
async fn stored(app: &TestApp) -> Model {
    app.state
        .db
        .read(LearnedModel::load)
        .await
        .expect("the model")
        .0
}

async fn status_of(app: &TestApp, token: &str, id: i64) -> Value {
    detail(app, token, id).await["comment"]["status"].clone()
}

#[tokio::test]
async fn undoing_an_approval_puts_the_comment_back_in_the_queue_and_off_the_thread() {
    let app = spawn_app_with("[moderation]\nmode = \"all\"").await;
    let moderator = app.user(Role::Moderator, "undo.mod@example.com").await;
    let c = id_of(&app.guest_comment("undo-approve", "worth publishing").await);
    assert_eq!(status_of(&app, &moderator.token, c).await, "pending");
    let approved = decided(&app, &moderator.token, c, "approve").await;
    // Read once so the cache holds the thread with the comment in it.
    assert_eq!(thread_ids(&app.thread("undo-approve").await), vec![c]);

    assert_eq!(
        undone(&app, &moderator.token).await,
        vec![(c, "pending".to_string())]
    );
    let back = detail(&app, &moderator.token, c).await;
    assert_eq!(back["comment"]["status"], "pending");
    assert!(
        back["comment"]["version"].as_i64() > approved["version"].as_i64(),
        "an undo is a change like any other: {back}"
    );
    assert!(thread_ids(&app.thread("undo-approve").await).is_empty());
    let pending = queue_ids(&app, &moderator.token, "?status=pending").await;
    assert_eq!(pending, vec![c]);

    // The log keeps the decision, marked undone, and the undo after it.
    let entries = log(&app, &moderator.token, &format!("?comment={c}")).await;
    assert_eq!(
        actions(&entries),
        vec![
            ("undo".to_string(), Some(c)),
            ("approve".to_string(), Some(c))
        ]
    );
    let (undo_entry, approval) = (&entries["entries"][0], &entries["entries"][1]);
    assert_eq!(undo_entry["moderator_id"], moderator.id);
    assert_eq!(undo_entry["from_status"], "approved");
    assert_eq!(undo_entry["to_status"], "pending");
    assert!(undo_entry["undone_at"].is_null());
    assert!(approval["undone_at"].is_string(), "{approval}");
}

#[tokio::test]
async fn undoing_a_bulk_trash_restores_all_three() {
    let app = spawn_app().await;
    let moderator = app.user(Role::Moderator, "bulk.undo@example.com").await;
    let mut trashed = Vec::new();
    for body in ["first words", "second words", "third words"] {
        trashed.push(id_of(&app.guest_comment("undo-bulk", body).await));
    }
    let untouched = id_of(&app.guest_comment("undo-bulk", "left alone").await);
    expect_status(
        bulk(
            &app,
            &moderator.token,
            &json!({"ids": trashed, "action": "trash"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(thread_ids(&app.thread("undo-bulk").await), vec![untouched]);

    let back = undone(&app, &moderator.token).await;
    assert_eq!(
        back,
        trashed
            .iter()
            .map(|id| (*id, "approved".to_string()))
            .collect::<Vec<_>>()
    );
    let mut everyone = trashed.clone();
    everyone.push(untouched);
    assert_eq!(
        sorted(thread_ids(&app.thread("undo-bulk").await)),
        sorted(everyone)
    );
    let logged = actions(&log(&app, &moderator.token, "").await);
    let undo_entries: Vec<i64> = logged
        .iter()
        .filter(|(action, _)| action == "undo")
        .filter_map(|(_, id)| *id)
        .collect();
    assert_eq!(sorted(undo_entries), trashed);
}

#[tokio::test]
async fn undoing_a_spam_verdict_clears_it_and_the_model_forgets_it() {
    let app = spawn_app().await;
    let moderator = app.user(Role::Moderator, "verdict.undo@example.com").await;
    let c = id_of(&app.guest_comment("undo-spam", "a quiet remark").await);

    assert_eq!(
        decided(&app, &moderator.token, c, "spam").await["verdict"],
        "spam"
    );
    assert!(stored(&app).await.globals().spam > 0.0);
    assert_eq!(
        undone(&app, &moderator.token).await,
        vec![(c, "approved".to_string())]
    );
    let back = detail(&app, &moderator.token, c).await["comment"].clone();
    assert_eq!(back["status"], "approved");
    assert!(back["verdict"].is_null(), "{back}");
    assert_eq!(stored(&app).await, Model::empty());
    assert_eq!(thread_ids(&app.thread("undo-spam").await), vec![c]);

    // A verdict that replaced an earlier one: the earlier one comes back,
    // and the model holds it alone again.
    decided(&app, &moderator.token, c, "not_spam").await;
    let taught_ham = stored(&app).await;
    assert!(taught_ham.globals().ham > 0.0);
    assert_eq!(
        decided(&app, &moderator.token, c, "spam").await["status"],
        "spam"
    );
    assert_eq!(
        undone(&app, &moderator.token).await,
        vec![(c, "approved".to_string())]
    );
    assert_eq!(
        detail(&app, &moderator.token, c).await["comment"]["verdict"],
        "ham"
    );
    assert_eq!(stored(&app).await, taught_ham);
    // The in-memory model follows at once.
    assert_eq!(app.state.spam.model.read(|m| m.clone()), taught_ham);
}

#[tokio::test]
async fn undoing_twice_takes_back_the_two_latest_decisions_in_turn() {
    let app = spawn_app_with("[moderation]\nmode = \"all\"").await;
    let moderator = app.user(Role::Moderator, "twice@example.com").await;
    let other = app.user(Role::Moderator, "other.twice@example.com").await;
    let a = id_of(&app.guest_comment("undo-twice", "comment a").await);
    let b = id_of(&app.guest_comment("undo-twice", "comment b").await);
    let c = id_of(&app.guest_comment("undo-twice", "comment c").await);
    decided(&app, &moderator.token, a, "approve").await;
    decided(&app, &moderator.token, b, "trash").await;
    // Someone else's decision is theirs to undo, not this moderator's.
    decided(&app, &other.token, c, "approve").await;

    assert_eq!(
        undone(&app, &moderator.token).await,
        vec![(b, "pending".to_string())]
    );
    assert_eq!(status_of(&app, &moderator.token, a).await, "approved");
    assert_eq!(
        undone(&app, &moderator.token).await,
        vec![(a, "pending".to_string())]
    );
    assert_eq!(status_of(&app, &moderator.token, c).await, "approved");
    expect_error(
        undo(&app, &moderator.token).await,
        StatusCode::NOT_FOUND,
        "nothing_to_undo",
    )
    .await;
    // The other moderator still can.
    assert_eq!(
        undone(&app, &other.token).await,
        vec![(c, "pending".to_string())]
    );
}

#[tokio::test]
async fn undoing_twice_walks_one_comment_back_two_steps() {
    let app = spawn_app_with("[moderation]\nmode = \"all\"").await;
    let moderator = app.user(Role::Moderator, "steps@example.com").await;
    let c = id_of(&app.guest_comment("undo-steps", "back and forth").await);
    decided(&app, &moderator.token, c, "approve").await;
    decided(&app, &moderator.token, c, "trash").await;
    assert_eq!(
        undone(&app, &moderator.token).await,
        vec![(c, "approved".to_string())]
    );
    assert_eq!(
        undone(&app, &moderator.token).await,
        vec![(c, "pending".to_string())]
    );
    expect_error(
        undo(&app, &moderator.token).await,
        StatusCode::NOT_FOUND,
        "nothing_to_undo",
    )
    .await;
    assert_eq!(
        actions(&log(&app, &moderator.token, "").await),
        ["undo", "undo", "trash", "approve"]
            .map(|a| (a.to_string(), Some(c)))
            .to_vec()
    );
}

#[tokio::test]
async fn nothing_to_undo_is_404() {
    let app = spawn_app().await;
    let moderator = app.user(Role::Moderator, "fresh@example.com").await;
    app.guest_comment("undo-none", "nobody decided on me").await;
    expect_error(
        undo(&app, &moderator.token).await,
        StatusCode::NOT_FOUND,
        "nothing_to_undo",
    )
    .await;
    assert!(log(&app, &moderator.token, "").await["entries"]
        .as_array()
        .expect("entries")
        .is_empty());
}

#[tokio::test]
async fn undo_after_another_moderator_acted_is_a_conflict_and_changes_nothing() {
    let app = spawn_app_with("[moderation]\nmode = \"all\"").await;
    let ann = app.user(Role::Moderator, "ann.undo@example.com").await;
    let ben = app.user(Role::Moderator, "ben.undo@example.com").await;
    let a = id_of(&app.guest_comment("undo-409", "comment a").await);
    let b = id_of(&app.guest_comment("undo-409", "comment b").await);

    // Ben moved one comment of Ann's bulk decision on: the whole undo is
    // refused.
    expect_status(
        bulk(
            &app,
            &ann.token,
            &json!({"ids": [a, b], "action": "approve"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    decided(&app, &ben.token, b, "trash").await;
    let before = versions(&app, &ann.token, &[a, b]).await;
    expect_error(
        undo(&app, &ann.token).await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    assert_eq!(versions(&app, &ann.token, &[a, b]).await, before);
    assert_eq!(status_of(&app, &ann.token, a).await, "approved");
    assert_eq!(status_of(&app, &ann.token, b).await, "trash");
    let logged = log(&app, &ann.token, "").await;
    assert!(!actions(&logged).iter().any(|(action, _)| action == "undo"));
    assert!(logged["entries"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["undone_at"].is_null()));

    // Back where Ann put it, but acted on since (trashed and restored):
    // still a conflict.
    decided(&app, &ben.token, b, "restore").await;
    assert_eq!(status_of(&app, &ann.token, b).await, "approved");
    expect_error(
        undo(&app, &ann.token).await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    assert_eq!(status_of(&app, &ann.token, a).await, "approved");
}

#[tokio::test]
async fn only_moderators_may_undo() {
    let app = spawn_app().await;
    let commenter = app.user(Role::Commenter, "plain@example.com").await;
    expect_error(
        undo(&app, &commenter.token).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    expect_error(
        send(&app, Method::POST, "/api/v1/moderation/undo", None, None).await,
        StatusCode::UNAUTHORIZED,
        "not_signed_in",
    )
    .await;
    expect_error(
        send(
            &app,
            Method::GET,
            "/api/v1/moderation/undo",
            Some(&commenter.token),
            None,
        )
        .await,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    )
    .await;
}
