//! The generic http scorer against a local stand-in: its score, reasons and
//! rules, signed requests (unsigned without a secret), failures holding the
//! comment unless ignored, bounded reasons, and verdicts sent to its
//! feedback URL.

use std::time::Duration;

use hmac::{Hmac, Mac};
use moderato::domain::Role;
use reqwest::{Method, StatusCode};
use serde_json::json;
use sha2::Sha256;

use crate::helpers::{expect_status, id_of, spawn_app_with};
use crate::standins::{dead_url, Recorded, Reply, StandIn};

use super::{
    assert_held_by_failure, comments_path, decide, feedback, held_because, http_entry, http_toml,
    inspect, moderator, post_by, public_ids, requests_to, scorer, stored_count, strings,
    wait_for_delivered, wait_for_path, LINKS_ENTRY,
};

const HTTP_SECRET: &str = "a shared secret of some length";

fn signature(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Asserts a request carries a valid, fresh signature made with `secret`.
fn assert_signed(request: &Recorded, secret: &str) {
    let timestamp = request
        .header("x-moderato-timestamp")
        .unwrap_or_else(|| panic!("no timestamp header: {request:#?}"));
    let sent: i64 = timestamp.parse().expect("Unix seconds");
    let now = chrono::Utc::now().timestamp();
    assert!(
        (now - sent).abs() <= 60,
        "stale timestamp {sent} (now {now})"
    );
    let given = request
        .header("x-moderato-signature")
        .unwrap_or_else(|| panic!("no signature header: {request:#?}"));
    assert_eq!(
        given,
        signature(secret, timestamp, &request.body),
        "the signature does not verify with the shared secret"
    );
    assert_ne!(
        given,
        signature("another secret", timestamp, &request.body),
        "the signature must depend on the secret"
    );
}

/// A classifier stand-in: spammy if the comment's body says "buy", with a
/// hard rule if it says "rule:spam" or "rule:hold".
fn classify(request: &Recorded) -> Reply {
    if request.path != "/score" {
        return Reply::ok("");
    }
    let body = request.json()["body"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if body.contains("rule:spam") {
        Reply::json(json!({"score": 0.2, "reasons": ["known spam campaign"], "rule": "spam"}))
    } else if body.contains("rule:hold") {
        Reply::json(json!({"score": 0.1, "reasons": ["new campaign, have a look"], "rule": "hold"}))
    } else if body.contains("buy") {
        Reply::json(json!({"score": 0.97, "reasons": ["sales pitch", "urgency"]}))
    } else {
        Reply::json(json!({"score": 0.05, "reasons": ["friendly"]}))
    }
}

#[tokio::test]
async fn the_http_scorer_decides_with_its_score_and_reasons_and_signs_its_requests() {
    let classifier = StandIn::start_with(classify).await;
    let app = spawn_app_with(&http_toml(
        &format!(
            "url = \"{}/score\", secret = \"{HTTP_SECRET}\"",
            classifier.url
        ),
        "",
    ))
    .await;
    let moderator = moderator(&app).await;

    let friendly = app
        .request(Method::POST, &comments_path("http"))
        .header("user-agent", "Mozilla/5.0 (Test)")
        .json(&json!({"body": "what a nice post", "author": {"name": "Ann", "email": "ann@example.com"},
                      "article": {"title": "Http", "url": "https://blog.example/http"}}))
        .send()
        .await
        .expect("request");
    let friendly = expect_status(friendly, StatusCode::CREATED).await;
    assert_eq!(friendly["status"], "approved");

    let pitch = post_by(&app, "http", "seller@example.com", "buy my course").await;
    assert_eq!(pitch["status"], "pending");
    let seen = inspect(&app, &moderator.token, id_of(&pitch)).await;
    let entry = scorer(&seen, "http");
    assert_eq!(entry["score"], 0.97);
    assert_eq!(strings(&entry["reasons"]), vec!["sales pitch", "urgency"]);
    assert_eq!(
        held_because(&seen),
        vec!["combined score 0.9700 is at or above the review threshold 0.84"]
    );
    assert!((seen["score"].as_f64().unwrap() - 0.97).abs() < 1e-9);

    let ruled = post_by(&app, "http", "x@example.com", "rule:spam but low score").await;
    assert_eq!(ruled["status"], "pending");
    let seen = inspect(&app, &moderator.token, id_of(&ruled)).await;
    assert_eq!(seen["status"], "spam");
    assert_eq!(held_because(&seen), vec!["http: known spam campaign"]);
    let held = post_by(&app, "http", "y@example.com", "rule:hold please").await;
    let seen = inspect(&app, &moderator.token, id_of(&held)).await;
    assert_eq!(seen["status"], "pending");
    assert_eq!(held_because(&seen), vec!["http: new campaign, have a look"]);
    assert_eq!(public_ids(&app, "http").await, vec![id_of(&friendly)]);

    let requests = requests_to(&classifier, "/score");
    assert_eq!(requests.len(), 4);
    for request in &requests {
        assert_eq!(request.method, "POST");
        assert_eq!(request.header("content-type"), Some("application/json"));
        assert_signed(request, HTTP_SECRET);
    }
    let candidate = requests[0].json();
    assert_eq!(candidate["body"], "what a nice post");
    assert_eq!(candidate["author_name"], "Ann");
    assert_eq!(candidate["author_email"], "ann@example.com");
    assert_eq!(candidate["ip"], "127.0.0.1");
    assert_eq!(candidate["user_agent"], "Mozilla/5.0 (Test)");
    assert_eq!(candidate["article"]["key"], "http");
    assert_eq!(candidate["article"]["url"], "https://blog.example/http");
    assert_eq!(candidate["is_edit"], false);
}

#[tokio::test]
async fn http_scorer_requests_are_unsigned_without_a_secret() {
    let classifier = StandIn::start_with(classify).await;
    let app = spawn_app_with(&http_toml(
        &format!("url = \"{}/score\"", classifier.url),
        "",
    ))
    .await;
    post_by(&app, "unsigned", "a@example.com", "hello").await;
    let request = &requests_to(&classifier, "/score")[0];
    assert_eq!(request.header("x-moderato-signature"), None);
}

#[tokio::test]
async fn http_scorer_failures_hold_the_comment() {
    let classifier = StandIn::start_with(|request| {
        let body = request.json()["body"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        match body.as_str() {
            "garbage" => Reply::ok("<html>not json</html>"),
            "missing score" => Reply::json(json!({"reasons": ["no score"]})),
            "out of range" => Reply::json(json!({"score": 1.5})),
            "server error" => Reply::status(500, "{\"score\": 0.1}"),
            "slow" => Reply::json(json!({"score": 0.1})).after(Duration::from_millis(1000)),
            _ => Reply::json(json!({"score": 0.1})),
        }
    })
    .await;
    let app = spawn_app_with(&http_toml(
        &format!("url = \"{}/score\"", classifier.url),
        "",
    ))
    .await;
    let moderator = moderator(&app).await;
    for (body, error) in [
        ("garbage", "not the expected JSON"),
        ("missing score", "not the expected JSON"),
        ("out of range", "score 1.5 is outside 0..=1"),
        ("server error", "HTTP 500"),
        ("slow", "timed out after 300 ms"),
    ] {
        let created = post_by(&app, "failures", "a@example.com", body).await;
        assert_held_by_failure(&app, &moderator.token, &created, "http", error).await;
    }
    assert_eq!(
        stored_count(&app, &moderator.token).await,
        5,
        "none was lost"
    );
    let fine = post_by(&app, "failures", "a@example.com", "fine").await;
    assert_eq!(fine["status"], "approved");

    let down = spawn_app_with(&http_toml(&format!("url = \"{}/score\"", dead_url()), "")).await;
    let moderator = down.user(Role::Moderator, "m2@example.com").await;
    let created = post_by(&down, "failures", "a@example.com", "hello").await;
    assert_held_by_failure(&down, &moderator.token, &created, "http", "request failed").await;
}

#[tokio::test]
async fn http_scorer_on_error_ignore_lets_the_comment_through() {
    let app = spawn_app_with(&format!(
        "{LINKS_ENTRY}{}",
        http_entry(
            &format!("url = \"{}/score\"", dead_url()),
            "on_error = \"ignore\"\n"
        )
    ))
    .await;
    let moderator = moderator(&app).await;
    let created = post_by(&app, "ignore", "a@example.com", "the classifier is down").await;
    assert_eq!(created["status"], "approved");
    assert_eq!(public_ids(&app, "ignore").await, vec![id_of(&created)]);
    let seen = inspect(&app, &moderator.token, id_of(&created)).await;
    assert_eq!(seen["held_because"], json!([]));
    let http = scorer(&seen, "http");
    assert!(
        http["error"]
            .as_str()
            .is_some_and(|e| e.contains("request failed")),
        "the failure is still recorded: {http}"
    );
    // The other scorers still apply.
    let links = post_by(
        &app,
        "ignore",
        "b@example.com",
        "https://a.example https://b.example",
    )
    .await;
    assert_eq!(links["status"], "pending");
}

#[tokio::test]
async fn http_scorer_feedback_url_receives_verdicts() {
    let classifier = StandIn::start_with(|request| {
        if request.path == "/feedback" {
            Reply::ok("")
        } else {
            classify(request)
        }
    })
    .await;
    let app = spawn_app_with(&http_toml(
        &format!(
            "url = \"{0}/score\", secret = \"{HTTP_SECRET}\", feedback_url = \"{0}/feedback\"",
            classifier.url
        ),
        "",
    ))
    .await;
    let moderator = moderator(&app).await;
    let missed = post_by(&app, "fb", "sly@example.com", "sneaky but friendly-looking").await;
    let wrong = post_by(&app, "fb", "fan@example.com", "I want to buy you a coffee").await;
    assert_eq!(missed["status"], "approved");
    assert_eq!(wrong["status"], "pending");

    decide(&app, &moderator.token, id_of(&missed), "spam").await;
    decide(&app, &moderator.token, id_of(&wrong), "not_spam").await;
    let sent = wait_for_path(&classifier, "/feedback", 2, Duration::from_secs(5)).await;
    wait_for_delivered(&app, 2, Duration::from_secs(5)).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(requests_to(&classifier, "/feedback").len(), 2);

    let mut verdicts: Vec<(String, String)> = sent
        .iter()
        .map(|r| {
            assert_signed(r, HTTP_SECRET);
            let payload = r.json();
            (
                payload["verdict"].as_str().unwrap().to_string(),
                payload["candidate"]["body"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    verdicts.sort();
    assert_eq!(
        verdicts,
        vec![
            ("ham".to_string(), "I want to buy you a coffee".to_string()),
            (
                "spam".to_string(),
                "sneaky but friendly-looking".to_string()
            ),
        ]
    );
    let spam = sent
        .iter()
        .map(Recorded::json)
        .find(|p| p["verdict"] == "spam")
        .unwrap();
    assert_eq!(spam["candidate"]["author_email"], "sly@example.com");
    assert_eq!(spam["candidate"]["ip"], "127.0.0.1");
}

#[tokio::test]
async fn without_a_feedback_url_verdicts_queue_nothing() {
    let classifier = StandIn::start_with(classify).await;
    let app = spawn_app_with(&http_toml(
        &format!("url = \"{}/score\"", classifier.url),
        "",
    ))
    .await;
    let moderator = moderator(&app).await;
    let created = post_by(&app, "nofb", "a@example.com", "buy buy buy").await;
    decide(&app, &moderator.token, id_of(&created), "spam").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(feedback(&app).await.is_empty());
    assert_eq!(classifier.requests().len(), 1, "only the scoring request");
}

#[tokio::test]
async fn http_scorer_reasons_are_bounded() {
    let classifier = StandIn::start(Reply::json(json!({
        "score": 0.2,
        "reasons": (0..12).map(|i| format!("{i}{}", "x".repeat(300))).collect::<Vec<_>>(),
    })))
    .await;
    let app = spawn_app_with(&http_toml(
        &format!("url = \"{}/score\"", classifier.url),
        "",
    ))
    .await;
    let moderator = moderator(&app).await;
    let created = post_by(&app, "verbose", "a@example.com", "hello").await;
    assert_eq!(created["status"], "approved");
    let seen = inspect(&app, &moderator.token, id_of(&created)).await;
    let reasons = strings(&scorer(&seen, "http")["reasons"]);
    assert_eq!(reasons.len(), 10, "{reasons:?}");
    assert!(
        reasons.iter().all(|r| r.chars().count() == 200),
        "{reasons:?}"
    );
    assert!(reasons[9].starts_with('9'));
}
