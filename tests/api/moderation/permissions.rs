//! Who may moderate: every moderation endpoint refuses strangers and
//! commenters (before looking at their input) and admits moderators and
//! admins; roles are the admins' alone, take effect at once, and only admins
//! act on admins.

use moderato::domain::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{expect_error, expect_status, id_of, spawn_app, spawn_app_with};

use super::{ban, bans, bulk, detail, log, patch_user, send, sorted, thread_ids};

/// Every moderation endpoint, aimed at `comment`, `ban`, and `account`,
/// with the status a moderator or admin gets.
fn moderation_endpoints(
    comment: i64,
    ban: i64,
    account: i64,
) -> Vec<(Method, String, Option<Value>, StatusCode)> {
    vec![
        (
            Method::GET,
            "/api/v1/moderation/comments".into(),
            None,
            StatusCode::OK,
        ),
        (
            Method::GET,
            format!("/api/v1/moderation/comments/{comment}"),
            None,
            StatusCode::OK,
        ),
        (
            Method::GET,
            "/api/v1/moderation/summary".into(),
            None,
            StatusCode::OK,
        ),
        (
            Method::POST,
            format!("/api/v1/moderation/comments/{comment}/decision"),
            Some(json!({"action": "approve"})),
            StatusCode::OK,
        ),
        (
            Method::POST,
            "/api/v1/moderation/decisions".into(),
            Some(json!({"ids": [comment], "action": "approve"})),
            StatusCode::OK,
        ),
        (
            Method::GET,
            "/api/v1/moderation/log".into(),
            None,
            StatusCode::OK,
        ),
        (
            Method::GET,
            "/api/v1/moderation/commenters".into(),
            None,
            StatusCode::OK,
        ),
        (
            Method::PATCH,
            format!("/api/v1/moderation/users/{account}"),
            Some(json!({"trusted": true})),
            StatusCode::OK,
        ),
        (
            Method::POST,
            "/api/v1/moderation/bans".into(),
            Some(json!({"kind": "email", "value": "nuisance@example.com"})),
            StatusCode::CREATED,
        ),
        (
            Method::GET,
            "/api/v1/moderation/bans".into(),
            None,
            StatusCode::OK,
        ),
        (
            Method::DELETE,
            format!("/api/v1/moderation/bans/{ban}"),
            None,
            StatusCode::OK,
        ),
    ]
}

#[tokio::test]
async fn moderation_endpoints_refuse_strangers_and_commenters_and_admit_moderators_and_admins() {
    let app = spawn_app_with("[moderation]\nmode = \"all\"").await;
    let commenter = app.user(Role::Commenter, "carl@example.com").await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let admin = app.user(Role::Admin, "root@example.com").await;
    let target = app.user(Role::Commenter, "target@example.com").await;
    let for_moderator = id_of(&app.guest_comment("perm", "one").await);
    let for_admin = id_of(&app.guest_comment("perm", "two").await);
    let ban_for_moderator = id_of(
        &ban(
            &app,
            &admin.token,
            &json!({"kind": "email", "value": "first@example.com"}),
        )
        .await["ban"],
    );
    let ban_for_admin = id_of(
        &ban(
            &app,
            &admin.token,
            &json!({"kind": "email", "value": "second@example.com"}),
        )
        .await["ban"],
    );

    for (method, path, body, _) in moderation_endpoints(for_moderator, ban_for_moderator, target.id)
    {
        let response = send(&app, method.clone(), &path, None, body.as_ref()).await;
        expect_error(response, StatusCode::UNAUTHORIZED, "not_signed_in").await;
        let response = send(
            &app,
            method.clone(),
            &path,
            Some(&commenter.token),
            body.as_ref(),
        )
        .await;
        expect_error(response, StatusCode::FORBIDDEN, "forbidden").await;
    }
    // Nothing the refused callers asked for happened.
    let seen = detail(&app, &admin.token, for_moderator).await;
    assert_eq!(seen["comment"]["status"], "pending");
    let all_bans = bans(&app, &admin.token).await;
    assert_eq!(all_bans.len(), 2);
    assert!(all_bans.iter().all(|b| b["active"] == true));
    assert!(log(&app, &admin.token, "").await["entries"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["action"] == "ban"));

    for (user, comment, ban_id) in [
        (&moderator, for_moderator, ban_for_moderator),
        (&admin, for_admin, ban_for_admin),
    ] {
        for (method, path, body, status) in moderation_endpoints(comment, ban_id, target.id) {
            let response = send(
                &app,
                method.clone(),
                &path,
                Some(&user.token),
                body.as_ref(),
            )
            .await;
            assert_eq!(
                response.status(),
                status,
                "{method} {path} as {}",
                user.email
            );
        }
    }
    assert_eq!(
        sorted(thread_ids(&app.thread("perm").await)),
        sorted(vec![for_moderator, for_admin])
    );
    assert!(bans(&app, &admin.token)
        .await
        .iter()
        .filter(|b| b["value"] == "first@example.com" || b["value"] == "second@example.com")
        .all(|b| b["active"] == false));

    // Roles are the admins' alone.
    let promote = json!({"role": "moderator"});
    let path = format!("/api/v1/moderation/users/{}", target.id);
    expect_error(
        send(&app, Method::PATCH, &path, None, Some(&promote)).await,
        StatusCode::UNAUTHORIZED,
        "not_signed_in",
    )
    .await;
    for refused in [&commenter, &moderator] {
        expect_error(
            patch_user(&app, &refused.token, target.id, &promote).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
    }
    let promoted = expect_status(
        patch_user(&app, &admin.token, target.id, &promote).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(promoted["role"], "moderator");

    // The data export is for any signed-in account, never a stranger.
    expect_error(
        app.get("/api/v1/me/export").await,
        StatusCode::UNAUTHORIZED,
        "not_signed_in",
    )
    .await;
    expect_status(
        app.get_as("/api/v1/me/export", &commenter.token).await,
        StatusCode::OK,
    )
    .await;
}

#[tokio::test]
async fn role_changes_take_effect_at_once_and_admins_cannot_change_their_own() {
    let app = spawn_app().await;
    let admin = app.user(Role::Admin, "root@example.com").await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let member = app.user(Role::Commenter, "member@example.com").await;
    expect_error(
        app.get_as("/api/v1/moderation/comments", &member.token)
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;

    expect_error(
        patch_user(&app, &moderator.token, member.id, &json!({"role": "admin"})).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    // A moderator may trust but not promote in the same request.
    expect_error(
        patch_user(
            &app,
            &moderator.token,
            member.id,
            &json!({"trusted": true, "role": "moderator"}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;

    let promoted = expect_status(
        patch_user(&app, &admin.token, member.id, &json!({"role": "moderator"})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(promoted["id"], member.id);
    assert_eq!(promoted["role"], "moderator");
    assert_eq!(
        promoted["trusted"], false,
        "the refused request changed nothing"
    );
    // The member's existing session now has the new role.
    expect_status(
        app.get_as("/api/v1/moderation/comments", &member.token)
            .await,
        StatusCode::OK,
    )
    .await;

    expect_error(
        patch_user(&app, &admin.token, admin.id, &json!({"role": "commenter"})).await,
        StatusCode::CONFLICT,
        "not_actionable",
    )
    .await;
    expect_error(
        patch_user(&app, &admin.token, 987_654, &json!({"role": "moderator"})).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    expect_error(
        patch_user(&app, &moderator.token, 987_654, &json!({"trusted": true})).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    let demoted = expect_status(
        patch_user(&app, &admin.token, member.id, &json!({"role": "commenter"})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(demoted["role"], "commenter");
    expect_error(
        app.get_as("/api/v1/moderation/comments", &member.token)
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;

    let entries = log(&app, &admin.token, &format!("?moderator={}", admin.id)).await;
    let entries = entries["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert!(entries.iter().all(|e| e["action"] == "role"
        && e["subject"] == format!("user:{}", member.id)
        && e["comment_id"].is_null()));
    assert_eq!(entries[0]["reason"], "moderator -> commenter");
    assert_eq!(entries[1]["reason"], "commenter -> moderator");
}

#[tokio::test]
async fn a_commenter_is_refused_before_their_moderation_input_is_looked_at() {
    let app = spawn_app().await;
    let commenter = app.user(Role::Commenter, "carl@example.com").await;
    expect_error(
        bulk(
            &app,
            &commenter.token,
            &json!({"ids": [], "action": "approve"}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    expect_error(
        app.post_json_as(
            "/api/v1/moderation/bans",
            &json!({"kind": "email", "value": "a@example.com", "duration": "soon"}),
            &commenter.token,
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn only_admins_act_on_admins() {
    let app = spawn_app().await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let admin = app.user(Role::Admin, "boss@example.com").await;
    for body in [
        json!({"kind": "user", "value": admin.id.to_string()}),
        json!({"kind": "email", "value": "BOSS@example.com"}),
    ] {
        let response = app
            .post_json_as("/api/v1/moderation/bans", &body, &moderator.token)
            .await;
        expect_error(response, StatusCode::FORBIDDEN, "forbidden").await;
    }
    let untrust = app
        .request(
            Method::PATCH,
            &format!("/api/v1/moderation/users/{}", admin.id),
        )
        .bearer_auth(&moderator.token)
        .json(&json!({"trusted": false}))
        .send()
        .await
        .unwrap();
    expect_error(untrust, StatusCode::FORBIDDEN, "forbidden").await;
    assert!(bans(&app, &admin.token).await.is_empty());
    // An admin may act on another admin.
    let other = app.user(Role::Admin, "other-boss@example.com").await;
    ban(
        &app,
        &admin.token,
        &json!({"kind": "user", "value": other.id.to_string(), "duration": "1h"}),
    )
    .await;
    // And a moderator on a commenter, as before.
    let member = app.user(Role::Commenter, "member@example.com").await;
    ban(
        &app,
        &moderator.token,
        &json!({"kind": "user", "value": member.id.to_string()}),
    )
    .await;
}
