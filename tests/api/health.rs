use reqwest::StatusCode;

use crate::helpers::{expect_error, expect_status, spawn_app};

#[tokio::test]
async fn healthz_says_the_process_is_up() {
    let app = spawn_app().await;
    let body = expect_status(app.get("/healthz").await, StatusCode::OK).await;
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn readyz_says_the_database_answers() {
    let app = spawn_app().await;
    let body = expect_status(app.get("/readyz").await, StatusCode::OK).await;
    assert_eq!(body["status"], "ready");
}

#[tokio::test]
async fn unknown_routes_get_a_json_404() {
    let app = spawn_app().await;
    expect_error(
        app.get("/api/v1/nothing-here").await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn wrong_method_gets_a_json_405() {
    let app = spawn_app().await;
    let response = app
        .request(reqwest::Method::DELETE, "/api/v1/counts?article=a")
        .send()
        .await
        .unwrap();
    expect_error(
        response,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    )
    .await;
}
