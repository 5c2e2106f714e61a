//! Bad moderation input (decisions, queue and log queries, bans, bulk
//! decisions, account changes) gets a clear client error, never a 500, and
//! changes nothing.

use moderato::domain::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{expect_error, id_of, spawn_app};

use super::{bans, bulk, decide, detail, patch_user, send};

#[tokio::test]
async fn bad_moderation_input_gets_clear_errors_never_500() {
    let app = spawn_app().await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let admin = app.user(Role::Admin, "root@example.com").await;
    let token = moderator.token.as_str();
    let c = id_of(&app.guest_comment("bad", "a comment").await);

    for body in [
        json!({"action": "bless"}),
        json!({"action": "approve", "extra": 1}),
        json!({}),
        json!({"action": "approve", "version": "one"}),
    ] {
        expect_error(
            decide(&app, token, c, &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        )
        .await;
    }
    // serde_json reports a number where an enum belongs as a syntax error:
    // a client error either way, never a 500.
    let response = decide(&app, token, c, &json!({"action": 7})).await;
    assert!(
        response.status() == StatusCode::BAD_REQUEST
            || response.status() == StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        response.status()
    );
    let field = |error: Value| error["error"]["field"].as_str().unwrap().to_string();
    let error = expect_error(
        decide(
            &app,
            token,
            c,
            &json!({"action": "trash", "reason": "x".repeat(1001)}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    )
    .await;
    assert_eq!(field(error), "reason");
    expect_error(
        app.post_json_as(
            "/api/v1/moderation/comments/abc/decision",
            &json!({"action": "approve"}),
            token,
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    for (query, name) in [
        ("?limit=0", "limit"),
        ("?limit=201", "limit"),
        ("?cursor=abc", "cursor"),
        ("?cursor=-5", "cursor"),
        ("?author=nobody", "author"),
        ("?author=user:abc", "author"),
    ] {
        let error = expect_error(
            app.get_as(&format!("/api/v1/moderation/comments{query}"), token)
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        )
        .await;
        assert_eq!(field(error), name, "{query}");
    }
    let long_q = format!("?q={}", "a".repeat(201));
    let error = expect_error(
        app.get_as(&format!("/api/v1/moderation/comments{long_q}"), token)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    )
    .await;
    assert_eq!(field(error), "q");
    for query in [
        "?status=bogus",
        "?sort=sideways",
        "?limit=-1",
        "?limit=many",
    ] {
        let response = app
            .get_as(&format!("/api/v1/moderation/comments{query}"), token)
            .await;
        let status = response.status();
        assert!(
            status == StatusCode::BAD_REQUEST || status == StatusCode::UNPROCESSABLE_ENTITY,
            "{query}: {status}"
        );
    }
    for (query, name) in [("?limit=0", "limit"), ("?cursor=x", "cursor")] {
        let error = expect_error(
            app.get_as(&format!("/api/v1/moderation/log{query}"), token)
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        )
        .await;
        assert_eq!(field(error), name, "log{query}");
    }

    let soon = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    let past = (chrono::Utc::now() - chrono::Duration::days(1)).to_rfc3339();
    for (body, name) in [
        (json!({"kind": "ip", "value": "300.1.2.3/8"}), "value"),
        (json!({"kind": "ip", "value": "not an address"}), "value"),
        (json!({"kind": "email", "value": "not-an-email"}), "value"),
        (json!({"kind": "user", "value": "abc"}), "value"),
        (json!({"kind": "user", "value": "987654"}), "value"),
        (
            json!({"kind": "email", "value": "a@example.com", "duration": "soon"}),
            "duration",
        ),
        (
            json!({"kind": "email", "value": "a@example.com", "expires_at": "tomorrow"}),
            "expires_at",
        ),
        (
            json!({"kind": "email", "value": "a@example.com", "expires_at": past}),
            "expires_at",
        ),
        (
            json!({"kind": "email", "value": "a@example.com", "expires_at": soon, "duration": "1h"}),
            "duration",
        ),
        (
            json!({"kind": "email", "value": "a@example.com", "reason": "r".repeat(1001)}),
            "reason",
        ),
    ] {
        let error = expect_error(
            app.post_json_as("/api/v1/moderation/bans", &body, token)
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        )
        .await;
        assert_eq!(field(error), name, "{body}");
    }
    for body in [
        json!({"kind": "planet", "value": "x"}),
        json!({"kind": "email"}),
        json!({"kind": "email", "value": "a@example.com", "shadow": "yes"}),
    ] {
        expect_error(
            app.post_json_as("/api/v1/moderation/bans", &body, token)
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        )
        .await;
    }
    expect_error(
        send(
            &app,
            Method::DELETE,
            "/api/v1/moderation/bans/abc",
            Some(token),
            None,
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert!(bans(&app, token).await.is_empty(), "no bad ban was stored");

    let error = expect_error(
        bulk(&app, token, &json!({"ids": [], "action": "approve"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    )
    .await;
    assert_eq!(field(error), "ids");
    for body in [
        json!({"ids": "1", "action": "approve"}),
        json!({"ids": [c], "action": "bless"}),
        json!({"action": "approve"}),
    ] {
        expect_error(
            bulk(&app, token, &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        )
        .await;
    }
    for body in [
        json!({"role": "king"}),
        json!({"trusted": "very"}),
        json!({"nickname": "x"}),
    ] {
        expect_error(
            patch_user(&app, &admin.token, moderator.id, &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        )
        .await;
    }
    // Nothing above changed the comment.
    let still = detail(&app, token, c).await;
    assert_eq!(still["comment"]["status"], "approved");
    assert!(still["history"].as_array().unwrap().is_empty());
}
