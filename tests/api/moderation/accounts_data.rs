//! A commenter's own data (GDPR): the export, and deleting the account with
//! its comments anonymized or deleted (placeholders kept for replies).

use moderato::domain::Role;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{expect_error, expect_status, id_of, spawn_app_with};

use super::{
    account_comment, commenters, detail, ids, queue_ids, send, sorted, thread_ids, PROXIED,
};

#[tokio::test]
async fn a_commenter_exports_their_data_and_deleting_the_account_anonymizes_comments() {
    let app = spawn_app_with(PROXIED).await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let member = app.user(Role::Commenter, "member@example.com").await;
    let other = app.user(Role::Commenter, "other@example.com").await;
    let post_as_member = |body: &'static str| {
        app.request(Method::POST, "/api/v1/articles/gdpr/comments")
            .bearer_auth(&member.token)
            .header("X-Forwarded-For", "192.0.2.10")
            .header("User-Agent", "MemberBrowser/1.0")
            .json(&json!({"body": body, "author": {"url": "https://member.example"}}))
            .send()
    };
    let c1 = id_of(
        &expect_status(
            post_as_member("my first").await.unwrap(),
            StatusCode::CREATED,
        )
        .await,
    );
    let c2 = id_of(
        &expect_status(
            post_as_member("my second").await.unwrap(),
            StatusCode::CREATED,
        )
        .await,
    );
    let theirs = id_of(&account_comment(&app, "gdpr", "not yours", &other.token).await);

    let export = expect_status(
        app.get_as("/api/v1/me/export", &member.token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(export["account"]["id"], member.id);
    assert_eq!(export["account"]["email"], "member@example.com");
    assert_eq!(export["account"]["role"], "commenter");
    assert_eq!(ids(&export["comments"]), vec![c1, c2]);
    let exported = &export["comments"][0];
    assert_eq!(exported["body"], "my first");
    assert_eq!(exported["article"], "gdpr");
    assert_eq!(exported["ip"], "192.0.2.10");
    assert_eq!(exported["user_agent"], "MemberBrowser/1.0");
    assert_eq!(exported["author_url"], "https://member.example/");
    assert!(!export.to_string().contains("not yours"));

    expect_error(
        send(
            &app,
            Method::DELETE,
            "/api/v1/me",
            Some(&member.token),
            Some(&json!({"password": "wrong password"})),
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    expect_status(
        app.get_as("/api/v1/me", &member.token).await,
        StatusCode::OK,
    )
    .await;
    // A second session, as on another device.
    let other_device = expect_status(
        app.post_json(
            "/api/v1/auth/login",
            &json!({"email": member.email, "password": member.password}),
        )
        .await,
        StatusCode::OK,
    )
    .await["token"]
        .as_str()
        .unwrap()
        .to_string();

    let deleted = expect_status(
        send(
            &app,
            Method::DELETE,
            "/api/v1/me",
            Some(&member.token),
            Some(&json!({"password": member.password})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        deleted,
        json!({"deleted": true, "comments_affected": 2, "comments": "anonymized"})
    );
    for token in [&member.token, &other_device] {
        for path in ["/api/v1/me", "/api/v1/me/export"] {
            let response = app.get_as(path, token).await;
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
        }
    }
    expect_error(
        app.post_json(
            "/api/v1/auth/login",
            &json!({"email": member.email, "password": member.password}),
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;

    // The words stay; who wrote them does not.
    let thread = app.thread("gdpr").await;
    assert_eq!(thread_ids(&thread), vec![c1, c2, theirs]);
    assert_eq!(thread["comments"][0]["body"], "my first");
    assert_eq!(thread["comments"][0]["author"]["name"], "Deleted user");
    assert_eq!(thread["comments"][0]["author"]["registered"], false);
    assert!(thread["comments"][0]["author"]["avatar"].is_null());
    let seen = detail(&app, &moderator.token, c1).await["comment"].clone();
    assert_eq!(seen["author"]["name"], "Deleted user");
    for field in ["email", "url", "user_id", "avatar"] {
        assert!(seen["author"][field].is_null(), "{field}: {seen}");
    }
    assert!(
        seen["ip"].is_null() && seen["user_agent"].is_null(),
        "{seen}"
    );
    assert!(!seen.to_string().contains("member@example.com"));
    assert!(!seen.to_string().contains("192.0.2.10"));
    assert!(commenters(&app, &moderator.token, "?q=member%40")
        .await
        .is_empty());
    assert_eq!(
        detail(&app, &moderator.token, theirs).await["comment"]["author"]["user_id"],
        other.id
    );
}

#[tokio::test]
async fn deleting_an_account_can_delete_its_comments_keeping_placeholders_for_replies() {
    let app = spawn_app_with("[accounts]\non_delete = \"delete\"").await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let member = app.user(Role::Commenter, "member@example.com").await;
    let lonely = id_of(&account_comment(&app, "gone", "nobody answers this", &member.token).await);
    let answered = id_of(&account_comment(&app, "gone", "this gets a reply", &member.token).await);
    let reply = id_of(&app.guest_reply("gone", answered, "a reply").await);

    let deleted = expect_status(
        send(
            &app,
            Method::DELETE,
            "/api/v1/me",
            Some(&member.token),
            Some(&json!({"password": member.password})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        deleted,
        json!({"deleted": true, "comments_affected": 2, "comments": "deleted"})
    );
    expect_error(
        app.get_as("/api/v1/me", &member.token).await,
        StatusCode::UNAUTHORIZED,
        "invalid_session",
    )
    .await;

    let thread = app.thread("gone").await;
    assert_eq!(thread_ids(&thread), vec![answered, reply]);
    let placeholder = &thread["comments"][0];
    assert_eq!(placeholder["deleted"], true);
    assert_eq!(placeholder["body"], "");
    assert!(placeholder["author"].is_null());
    assert_eq!(thread["comments"][1]["parent_id"], answered);
    assert_eq!(thread["total"], 1);
    let text = thread.to_string();
    assert!(!text.contains("nobody answers") && !text.contains("gets a reply"));

    for id in [lonely, answered] {
        let seen = detail(&app, &moderator.token, id).await["comment"].clone();
        assert_eq!(seen["status"], "deleted");
        assert_eq!(seen["body"], "");
        assert!(seen["author"]["email"].is_null());
        assert!(seen["author"]["user_id"].is_null());
    }
    assert_eq!(
        sorted(queue_ids(&app, &moderator.token, "?status=deleted").await),
        vec![lonely, answered]
    );
}
