use reqwest::StatusCode;

use crate::helpers::{expect_error, expect_status, spawn_app, spawn_app_with};

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

#[tokio::test]
async fn invented_methods_and_paths_do_not_grow_the_metrics() {
    let app = spawn_app().await;
    for n in 0..300 {
        let method = reqwest::Method::from_bytes(format!("INVENTED{n}").as_bytes()).unwrap();
        app.request(method, &format!("/api/v1/made-up/{n}"))
            .send()
            .await
            .unwrap();
        app.get(&format!("/nowhere/{n}?q={n}")).await;
    }
    let after = expect_status_text(app.get("/metrics").await).await;
    assert!(!after.contains("INVENTED"), "a label per invented method");
    assert!(
        !after.contains("made-up") && !after.contains("nowhere"),
        "a label per path"
    );
    // 300 invented methods are one label value: a few series (by route
    // pattern and status), not 300.
    let other: Vec<&str> = after
        .lines()
        .filter(|l| l.starts_with("moderato_http_requests_total") && l.contains("method=\"other\""))
        .collect();
    assert!(!other.is_empty() && other.len() <= 4, "{other:#?}");
}

async fn expect_status_text(response: reqwest::Response) -> String {
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.unwrap()
}

#[tokio::test]
async fn metrics_can_require_a_bearer_token() {
    let app = spawn_app_with("[metrics]\ntoken = \"a-metrics-token-of-some-length\"").await;
    expect_error(
        app.get("/metrics").await,
        StatusCode::UNAUTHORIZED,
        "metrics_token_required",
    )
    .await;
    expect_error(
        app.get_as("/metrics", "a-metrics-token-of-some-lengtX")
            .await,
        StatusCode::UNAUTHORIZED,
        "metrics_token_required",
    )
    .await;
    let text = expect_status_text(
        app.get_as("/metrics", "a-metrics-token-of-some-length")
            .await,
    )
    .await;
    assert!(text.contains("moderato_http_requests_total"));
}

#[tokio::test]
async fn metrics_can_have_a_listener_of_their_own() {
    let app = spawn_app_with("[metrics]\nbind = \"127.0.0.1:0\"").await;
    expect_error(
        app.get("/metrics").await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let apart = app.metrics_address.clone().expect("a metrics listener");
    let text = expect_status_text(
        app.client
            .get(format!("{apart}/metrics"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(text.contains("moderato_comments"));
    let elsewhere = app
        .client
        .get(format!("{apart}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_root_page_says_what_this_server_is_and_offers() {
    let app = spawn_app().await;
    let response = app.get("/").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let page = response.text().await.unwrap();
    assert!(page.contains(&format!(
        "Moderato {} is running.",
        env!("CARGO_PKG_VERSION")
    )));
    assert!(page.contains("href=\"/api/v1/openapi.json\""));
}
