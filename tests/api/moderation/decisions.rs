//! Moderators' decisions: versions (agreeing quietly, disagreeing with a
//! 409), bulk decisions all or nothing, restoring from the trash, and two
//! moderators deciding at once.

use moderato::domain::Role;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{decided, expect_error, expect_status, id_of, spawn_app, spawn_app_with};

use super::{bulk, decide, detail, ids, log, queue_ids, send, sorted, thread_ids};

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
