//! Bans by email, account and address range: shadow bans, bans that end by
//! themselves (validated and capped), lifting a ban, sweeping a commenter's
//! comments into the trash, and a banned account's edits refused.

use std::time::Duration;

use moderato::domain::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{decided, expect_error, expect_status, id_of, spawn_app, spawn_app_with};

use super::{
    account_comment, ban, bans, commenters, detail, guest, guest_from, log, post_guest, queue_ids,
    send, thread_ids, PROXIED,
};

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
