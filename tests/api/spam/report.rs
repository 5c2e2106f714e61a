//! What moderators see of the scoring and how it decides: each scorer's
//! breakdown in the report, a failing scorer's error, shadow scorers that
//! do not decide, weights, and trusted staff skipping holding but not a
//! blocked word.

use moderato::domain::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{expect_status, id_of, spawn_app, spawn_app_with};
use crate::standins::{dead_url, Reply, StandIn};

use super::{
    add_entry, admin, akismet_entry, assert_held_by_failure, comments_path, held_because,
    http_entry, http_toml, inspect, moderator, post_by, public_ids, requests_to, scorer, strings,
    LINKS_ENTRY,
};

#[tokio::test]
async fn every_comment_shows_each_scorers_breakdown_to_moderators() {
    let app = spawn_app().await;
    let moderator = moderator(&app).await;
    let created = post_by(
        &app,
        "breakdown",
        "a@example.com",
        "one link: https://docs.example/guide",
    )
    .await;
    assert_eq!(created["status"], "approved");

    let seen = inspect(&app, &moderator.token, id_of(&created)).await;
    let report = &seen["report"];
    assert_eq!(report["decision"], "approved");
    assert_eq!(report["edit"], false);
    assert_eq!(report["held_because"], json!([]));
    assert_eq!(seen["held_because"], json!([]));
    let score = report["score"].as_f64().expect("combined score");
    assert_eq!(seen["score"].as_f64(), Some(score));
    assert!((0.0..0.84).contains(&score), "{score}");

    let scorers = report["scorers"].as_array().expect("scorers");
    let kinds: Vec<&str> = scorers
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["honeypot", "wordlists", "links", "learned"]);
    let mut log_odds = 0.0;
    for entry in scorers {
        assert_eq!(entry["mode"], "enforce", "{entry}");
        assert_eq!(entry["weight"], 1.0, "{entry}");
        assert_eq!(entry["error"], Value::Null, "{entry}");
        assert!(entry["elapsed_us"].is_u64(), "{entry}");
        assert!(entry["reasons"].is_array(), "{entry}");
        let s = entry["score"].as_f64().expect("a score");
        assert!((0.0..=1.0).contains(&s), "{entry}");
        log_odds += (s / (1.0 - s)).ln();
    }
    let combined = 1.0 / (1.0 + (-log_odds).exp());
    assert!(
        (combined - score).abs() < 1e-9,
        "combined {score} is not the sum of the scorers' log-odds ({combined})"
    );
    let links = scorer(&seen, "links");
    assert_eq!(links["score"], 0.7);
    assert_eq!(strings(&links["reasons"]), vec!["1 link"]);
    assert_eq!(links["rule"], Value::Null);
    assert_eq!(scorer(&seen, "honeypot")["score"], 0.5);
    let learned = scorer(&seen, "learned");
    assert!(
        strings(&learned["reasons"])
            .contains(&"the model has learned few comments of one kind yet".to_string()),
        "{learned}"
    );

    // The queue carries the same report; the public thread none of it.
    let page = expect_status(
        app.get_as(
            "/api/v1/moderation/comments?status=approved",
            &moderator.token,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page["comments"][0]["report"], *report);
    let public = app
        .get(&comments_path("breakdown"))
        .await
        .text()
        .await
        .unwrap();
    for secret in ["report", "scorers", "held_because", "elapsed_us"] {
        assert!(!public.contains(secret), "thread leaks {secret}: {public}");
    }
}

#[tokio::test]
async fn a_failing_scorer_shows_its_error_in_the_breakdown() {
    let down = dead_url();
    let app = spawn_app_with(&format!(
        "{LINKS_ENTRY}{}",
        http_entry(&format!("url = \"{down}/score\""), "")
    ))
    .await;
    let moderator = moderator(&app).await;
    let created = post_by(&app, "errors", "a@example.com", "hello there").await;
    let seen =
        assert_held_by_failure(&app, &moderator.token, &created, "http", "request failed").await;
    let links = scorer(&seen, "links");
    assert_eq!(links["score"], 0.45);
    assert_eq!(links["error"], Value::Null);
    let http = scorer(&seen, "http");
    assert!(http["elapsed_us"].is_u64());
    assert_eq!(http["reasons"], json!([]));
    // A failed scorer adds nothing to the combined score.
    assert!((seen["report"]["score"].as_f64().unwrap() - 0.45).abs() < 1e-9);
}

#[tokio::test]
async fn shadow_scorers_are_recorded_but_do_not_decide() {
    let classifier = StandIn::start(Reply::json(json!({
        "score": 1.0, "reasons": ["the shadow model is sure"], "rule": "spam"
    })))
    .await;
    let app = spawn_app_with(&format!(
        "{LINKS_ENTRY}{}{}",
        http_entry(
            &format!("url = \"{}/score\"", classifier.url),
            "mode = \"shadow\"\n"
        ),
        akismet_entry(&dead_url(), "", "mode = \"shadow\"\n")
    ))
    .await;
    let moderator = moderator(&app).await;
    let created = post_by(&app, "shadow", "a@example.com", "an ordinary comment").await;
    assert_eq!(created["status"], "approved", "{created}");
    assert_eq!(public_ids(&app, "shadow").await, vec![id_of(&created)]);
    assert_eq!(requests_to(&classifier, "/score").len(), 1);

    let seen = inspect(&app, &moderator.token, id_of(&created)).await;
    assert_eq!(seen["held_because"], json!([]));
    let http = scorer(&seen, "http");
    assert_eq!(http["mode"], "shadow");
    assert_eq!(http["score"], 1.0);
    assert_eq!(http["rule"], "spam");
    assert_eq!(strings(&http["reasons"]), vec!["the shadow model is sure"]);
    let akismet = scorer(&seen, "akismet");
    assert_eq!(akismet["mode"], "shadow");
    assert!(
        akismet["error"]
            .as_str()
            .is_some_and(|e| e.contains("request failed")),
        "{akismet}"
    );
    // Only the enforcing links scorer counts.
    assert!(
        (seen["score"].as_f64().unwrap() - 0.45).abs() < 1e-9,
        "{seen}"
    );
}

#[tokio::test]
async fn trusted_staff_skip_holding_but_not_a_blocked_word() {
    let app = spawn_app().await;
    let admin = admin(&app).await;
    let moderator = moderator(&app).await;
    let links = expect_status(
        app.post_json_as(
            &comments_path("staff"),
            &json!({"body": "docs: https://a.example/1 https://b.example/2 https://c.example/3"}),
            &moderator.token,
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(links["status"], "approved", "{links}");
    let seen = inspect(&app, &moderator.token, id_of(&links)).await;
    assert_eq!(
        scorer(&seen, "links")["rule"],
        "hold",
        "still scored: {seen}"
    );

    expect_status(
        add_entry(
            &app,
            &admin.token,
            json!({"list": "blocked", "pattern": "zorblax"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let blocked = expect_status(
        app.post_json_as(
            &comments_path("staff"),
            &json!({"body": "get your zorblax here"}),
            &moderator.token,
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let seen = inspect(&app, &moderator.token, id_of(&blocked)).await;
    assert_eq!(seen["status"], "spam");
}

#[tokio::test]
async fn weights_scale_a_scorers_say_and_zero_leaves_only_its_rules() {
    let classifier = StandIn::start_with(|request| {
        let body = request.json()["body"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if body.contains("hold") {
            Reply::json(json!({"score": 0.99, "reasons": ["odd"], "rule": "hold"}))
        } else {
            Reply::json(json!({"score": 0.8, "reasons": ["somewhat spammy"]}))
        }
    })
    .await;
    let url = format!("url = \"{}/score\"", classifier.url);

    let single = spawn_app_with(&http_toml(&url, "")).await;
    let created = post_by(&single, "weights", "a@example.com", "hello").await;
    assert_eq!(created["status"], "approved", "0.8 is under 0.84");

    let double = spawn_app_with(&http_toml(&url, "weight = 2.0\n")).await;
    let moderator = double.user(Role::Moderator, "m2@example.com").await;
    let created = post_by(&double, "weights", "a@example.com", "hello").await;
    assert_eq!(created["status"], "pending");
    let seen = inspect(&double, &moderator.token, id_of(&created)).await;
    assert_eq!(scorer(&seen, "http")["weight"], 2.0);
    assert_eq!(scorer(&seen, "http")["score"], 0.8);
    let expected = 1.0 / (1.0 + (-2.0 * (0.8f64 / 0.2).ln()).exp());
    assert!(
        (seen["score"].as_f64().unwrap() - expected).abs() < 1e-9,
        "{seen}"
    );

    let rules_only = spawn_app_with(&http_toml(&url, "weight = 0.0\n")).await;
    let moderator = rules_only.user(Role::Moderator, "m3@example.com").await;
    let created = post_by(&rules_only, "weights", "a@example.com", "hello").await;
    assert_eq!(created["status"], "approved");
    let seen = inspect(&rules_only, &moderator.token, id_of(&created)).await;
    assert!(
        (seen["score"].as_f64().unwrap() - 0.5).abs() < 1e-9,
        "{seen}"
    );
    let held = post_by(&rules_only, "weights", "a@example.com", "please hold").await;
    assert_eq!(held["status"], "pending");
    let seen = inspect(&rules_only, &moderator.token, id_of(&held)).await;
    assert_eq!(held_because(&seen), vec!["http: odd"]);
}
