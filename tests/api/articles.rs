//! Articles: admins create, update and close them; anyone reads them.

use moderato::domain::Role;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{expect_error, expect_status, spawn_app};

#[tokio::test]
async fn only_admins_may_put_articles() {
    let app = spawn_app().await;
    let body = json!({"title": "T", "url": "https://blog.example/t"});
    let stranger = app
        .request(Method::PUT, "/api/v1/articles/t")
        .json(&body)
        .send()
        .await
        .unwrap();
    expect_error(stranger, StatusCode::UNAUTHORIZED, "not_signed_in").await;
    for role in [Role::Commenter, Role::Moderator] {
        let user = app.user(role, &format!("{role}@example.com")).await;
        let response = app
            .request(Method::PUT, "/api/v1/articles/t")
            .bearer_auth(&user.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        expect_error(response, StatusCode::FORBIDDEN, "forbidden").await;
    }
    expect_error(
        app.get("/api/v1/articles/t").await,
        StatusCode::NOT_FOUND,
        "article_not_found",
    )
    .await;
}

#[tokio::test]
async fn admins_create_then_update_articles() {
    let app = spawn_app().await;
    let admin = app.user(Role::Admin, "admin@example.com").await;
    let put = |body: serde_json::Value| {
        app.request(Method::PUT, "/api/v1/articles/post-1")
            .bearer_auth(&admin.token)
            .json(&body)
            .send()
    };
    let created = expect_status(
        put(json!({"title": "Post 1", "url": "https://blog.example/1"}))
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(created["key"], "post-1");
    assert_eq!(created["comments_open"], true);
    let updated = expect_status(
        put(json!({"comments_open": false})).await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(updated["title"], "Post 1", "absent fields are kept");
    assert_eq!(updated["comments_open"], false);
    let cleared = expect_status(put(json!({"title": null})).await.unwrap(), StatusCode::OK).await;
    assert_eq!(cleared["title"], serde_json::Value::Null);
    let fetched = expect_status(app.get("/api/v1/articles/post-1").await, StatusCode::OK).await;
    assert_eq!(fetched["url"], "https://blog.example/1");
    let bad = put(json!({"url": "javascript:alert(1)"})).await.unwrap();
    let error = expect_error(bad, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field").await;
    assert_eq!(error["error"]["field"], "url");
    let unknown_field = put(json!({"titel": "typo"})).await.unwrap();
    expect_error(
        unknown_field,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_body",
    )
    .await;
}

#[tokio::test]
async fn closed_articles_refuse_comments_and_reopen() {
    let app = spawn_app().await;
    app.guest_comment("closing", "before").await;
    app.admin_put_article("closing", &json!({"comments_open": false}))
        .await;
    let response = app
        .post_json(
            "/api/v1/articles/closing/comments",
            &json!({"body": "after", "author": {"name": "A", "email": "a@example.com"}}),
        )
        .await;
    expect_error(response, StatusCode::FORBIDDEN, "comments_closed").await;
    assert_eq!(
        app.thread("closing").await["total"],
        1,
        "existing comments stay visible"
    );
    app.admin_put_article("closing", &json!({"comments_open": true}))
        .await;
    app.guest_comment("closing", "reopened").await;
}
