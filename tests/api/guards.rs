//! The guards in front of new comments and edits: decided in the write
//! transaction (so simultaneous requests cannot all slip past), on
//! normalized text, across articles, and for edits too.

use futures_util::future::join_all;
use moderato::domain::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{expect_error, expect_status, spawn_app_with, TestApp};

const PROXIED: &str = "[server]\ntrusted_proxies = [\"127.0.0.1/32\"]\n";

fn comments_path(article: &str) -> String {
    format!("/api/v1/articles/{article}/comments")
}

/// Posts a guest comment from `ip` (the app trusts the test client as a
/// proxy) and returns the answer's status and body.
async fn post_from(app: &TestApp, article: &str, ip: &str, body: &Value) -> (StatusCode, Value) {
    let response = app
        .request(Method::POST, &comments_path(article))
        .header("X-Forwarded-For", ip)
        .json(body)
        .send()
        .await
        .expect("request");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn guest_body(name: &str, email: &str, text: &str) -> Value {
    json!({"body": text, "author": {"name": name, "email": email}})
}

/// Sends all requests at once and returns their statuses.
async fn all_at_once(app: &TestApp, requests: Vec<(String, &str, Value)>) -> Vec<StatusCode> {
    join_all(
        requests
            .iter()
            .map(|(article, ip, body)| post_from(app, article, ip, body)),
    )
    .await
    .into_iter()
    .map(|(status, _)| status)
    .collect()
}

fn count(statuses: &[StatusCode], status: StatusCode) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

#[tokio::test]
async fn forty_identical_comments_sent_at_once_are_stored_once() {
    let app = spawn_app_with(PROXIED).await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let body = guest_body("Sam", "sam@example.com", "First! Great post, visit my site");
    let requests = (0..40)
        .map(|_| ("race".to_string(), "198.51.100.7", body.clone()))
        .collect();
    let statuses = all_at_once(&app, requests).await;
    assert_eq!(count(&statuses, StatusCode::CREATED), 1, "{statuses:?}");
    assert_eq!(count(&statuses, StatusCode::CONFLICT), 39, "{statuses:?}");
    assert_eq!(app.stored_count(&moderator.token).await, 1);
}

#[tokio::test]
async fn fifty_comments_sent_at_once_from_one_address_pass_the_flood_guard_once() {
    let app = spawn_app_with(&format!("{PROXIED}[guards]\nflood_interval = \"15s\"\n")).await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let requests = (0..50)
        .map(|n| {
            let body = guest_body(
                &format!("Bot {n}"),
                &format!("bot{n}@example.com"),
                &format!("message number {n}"),
            );
            (format!("flood-{}", n % 5), "198.51.100.8", body)
        })
        .collect();
    let statuses = all_at_once(&app, requests).await;
    assert_eq!(count(&statuses, StatusCode::CREATED), 1, "{statuses:?}");
    assert_eq!(
        count(&statuses, StatusCode::TOO_MANY_REQUESTS),
        49,
        "{statuses:?}"
    );
    assert_eq!(app.stored_count(&moderator.token).await, 1);
    // Another address is another client.
    let (status, _) = post_from(
        &app,
        "flood-0",
        "198.51.100.9",
        &guest_body("Ann", "ann@example.com", "hello"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn the_same_words_are_a_duplicate_whatever_the_case_punctuation_or_invisible_characters() {
    let app = spawn_app_with(PROXIED).await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let (status, _) = post_from(
        &app,
        "dup",
        "198.51.100.1",
        &guest_body("Sam", "sam@example.com", "Great post, thanks for sharing"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    for variant in [
        "great post thanks for sharing",
        "GREAT POST, THANKS FOR SHARING!!!",
        "Great\u{200B} post,\n\nthanks   for sharing.",
        "Ｇｒｅａｔ post, thanks for sharing",
    ] {
        let (status, body) = post_from(
            &app,
            "dup",
            "198.51.100.1",
            &guest_body("Sam", "sam@example.com", variant),
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{variant:?}: {body}");
        assert_eq!(body["error"]["code"], "duplicate");
    }
    // Someone else may say the same thing on the same article.
    let (status, _) = post_from(
        &app,
        "dup",
        "198.51.100.2",
        &guest_body("Kim", "kim@example.com", "Great post, thanks for sharing!"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(app.stored_count(&moderator.token).await, 2);
}

#[tokio::test]
async fn a_spam_wave_across_articles_is_refused_within_the_window() {
    let app = spawn_app_with(&format!("{PROXIED}[guards]\nduplicate_window = \"1h\"\n")).await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let pitch = "Cheap replica watches, best prices, free shipping worldwide";
    let (status, _) = post_from(
        &app,
        "wave-1",
        "203.0.113.5",
        &guest_body("Watches", "w@spam.example", pitch),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    // The same author on another article, and the same address under
    // another name and email.
    for (article, ip, who, email) in [
        ("wave-2", "203.0.113.6", "Watches", "w@spam.example"),
        (
            "wave-3",
            "203.0.113.5",
            "Totally Different",
            "other@spam.example",
        ),
    ] {
        let (status, body) = post_from(
            &app,
            article,
            ip,
            &guest_body(who, email, &pitch.to_uppercase()),
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{article}: {body}");
    }
    // Someone else, elsewhere, may say it; so may anyone say "Thanks!" on
    // every article.
    let (status, _) = post_from(
        &app,
        "wave-4",
        "198.51.100.3",
        &guest_body("Fan", "fan@example.com", pitch),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    for article in ["thanks-1", "thanks-2"] {
        let (status, _) = post_from(
            &app,
            article,
            "203.0.113.5",
            &guest_body("Watches", "w@spam.example", "Thanks!"),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{article}");
    }
    assert_eq!(app.stored_count(&moderator.token).await, 4);
}

/// Edits a guest comment with its edit token, from `ip`.
async fn edit_from(app: &TestApp, created: &Value, ip: &str, text: &str) -> reqwest::Response {
    let id = created["id"].as_i64().expect("id");
    app.request(Method::PATCH, &format!("/api/v1/comments/{id}"))
        .header("X-Forwarded-For", ip)
        .header(
            "X-Edit-Token",
            created["edit_token"].as_str().expect("edit token"),
        )
        .json(&json!({ "body": text }))
        .send()
        .await
        .expect("request")
}

#[tokio::test]
async fn a_second_edit_at_once_is_refused_by_the_flood_guard() {
    let app = spawn_app_with(&format!("{PROXIED}[guards]\nflood_interval = \"15s\"\n")).await;
    let (status, created) = post_from(
        &app,
        "edits",
        "198.51.100.4",
        &guest_body("Ed", "ed@example.com", "frist"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    // A typo fixed right after posting is fine...
    let edited = expect_status(
        edit_from(&app, &created, "198.51.100.4", "first").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(edited["body"], "first");
    // ...a second edit at once is not, and changes nothing.
    let response = edit_from(&app, &created, "198.51.100.4", "first!").await;
    assert!(response.headers().contains_key("retry-after"));
    expect_error(response, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    let thread = app.thread("edits").await;
    assert_eq!(thread["comments"][0]["body"], "first");
}

#[tokio::test]
async fn edits_count_against_the_rate_limit_with_new_comments() {
    let app = spawn_app_with(&format!(
        "{PROXIED}[comments.rate_limit]\nper_ip = 3\nwindow = \"1h\"\n"
    ))
    .await;
    let ip = "198.51.100.4";
    let (status, created) = post_from(
        &app,
        "limit",
        ip,
        &guest_body("Ed", "ed@example.com", "one"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    expect_status(
        edit_from(&app, &created, ip, "one, edited").await,
        StatusCode::OK,
    )
    .await;
    let (status, _) = post_from(
        &app,
        "limit-2",
        ip,
        &guest_body("Ed", "ed@example.com", "two"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    // The fourth action from the address this hour, an edit, is refused.
    expect_error(
        edit_from(&app, &created, ip, "one, edited again").await,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
    )
    .await;
    let (status, _) = post_from(
        &app,
        "limit-3",
        ip,
        &guest_body("Ed", "ed@example.com", "three"),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn sixty_four_kilobytes_of_nesting_are_stored_flattened() {
    let app = spawn_app_with(PROXIED).await;
    let (_, created) = post_from(
        &app,
        "nest",
        "198.51.100.5",
        &guest_body("Deep", "deep@example.com", "a start"),
    )
    .await;
    for nested in [
        format!("{}deep", "> ".repeat(30_000)),
        format!("{}deep", "- ".repeat(30_000)),
        format!("{}deep", "> 1. ".repeat(12_000)),
    ] {
        let edited = expect_status(
            edit_from(&app, &created, "198.51.100.5", &nested).await,
            StatusCode::OK,
        )
        .await;
        let html = edited["html"].as_str().expect("html");
        assert!(html.contains("deep"), "the text is kept");
        let opened = ["<blockquote>", "<ul>", "<ol>", "<li>"]
            .iter()
            .map(|tag| html.matches(tag).count())
            .sum::<usize>();
        assert!(opened <= 16, "{opened} elements opened");
        assert!(
            html.len() <= nested.len() * 8 + 1024,
            "{} bytes of HTML",
            html.len()
        );
    }
}

#[tokio::test]
async fn names_that_hide_invisible_characters_are_refused() {
    let app = spawn_app_with(PROXIED).await;
    for name in [
        "Ad\u{200B}min",
        "\u{3164}",
        "Admin\u{2060}",
        "\u{202E}nimdA",
    ] {
        let (status, body) = post_from(
            &app,
            "names",
            "198.51.100.6",
            &guest_body(name, "n@example.com", &format!("hi {}", name.len())),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{name:?}: {body}");
        assert_eq!(body["error"]["field"], "author.name");
    }
    let (status, created) = post_from(
        &app,
        "names",
        "198.51.100.6",
        &guest_body("Zoe\u{301}  Smith", "z@example.com", "hello"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(created["author"]["name"], "Zo\u{e9} Smith");
}
