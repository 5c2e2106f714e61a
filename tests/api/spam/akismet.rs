//! Akismet against a local stand-in: the documented fields, spam, ham and
//! discard answers, failures and timeouts holding the comment, edits
//! rechecked, and verdicts sent back as feedback through the outbox
//! (retried, waiting out an outage, corrections only, given up at last).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use moderato::domain::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{expect_status, id_of, spawn_app_with};
use crate::standins::{dead_url, Reply, StandIn};

use super::{
    akismet_entry, akismet_stand_in, akismet_toml, assert_held_by_failure, comments_path, decide,
    edit, feedback, held_because, inspect, moderator, post_by, public_ids, requests_to, scorer,
    strings, wait_for_delivered, wait_for_path, AKISMET_KEY, FAST_OUTBOX, THANKS,
};

#[tokio::test]
async fn akismet_spam_holds_the_comment_and_gets_the_documented_fields() {
    let akismet = akismet_stand_in(|_| Reply::ok("true")).await;
    let app = spawn_app_with(&akismet_toml(
        &akismet.url,
        ", is_test = true, honeypot_field_name = \"fax_number\"",
        "",
    ))
    .await;
    let moderator = moderator(&app).await;

    let verify = wait_for_path(&akismet, "/1.1/verify-key", 1, Duration::from_secs(5)).await;
    let verify = verify[0].form();
    assert_eq!(verify["api_key"], AKISMET_KEY);
    assert_eq!(verify["blog"], "https://blog.example/");

    let response = app
        .request(Method::POST, &comments_path("akismet"))
        .header("user-agent", "Mozilla/5.0 (Test)")
        .header("referer", "https://blog.example/akismet")
        .json(&json!({
            "body": "Is this spam? Ünïcode & symbols = fine",
            "author": {"name": "Ada Lovelace", "email": "ada@example.com", "url": "https://ada.example"},
            "article": {"title": "Akismet", "url": "https://blog.example/akismet"}
        }))
        .send()
        .await
        .expect("request");
    let created = expect_status(response, StatusCode::CREATED).await;
    assert_eq!(created["status"], "pending");
    assert!(public_ids(&app, "akismet").await.is_empty());

    let checks = requests_to(&akismet, "/1.1/comment-check");
    assert_eq!(checks.len(), 1);
    assert_eq!(checks[0].method, "POST");
    assert!(checks[0]
        .header("content-type")
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded")));
    let form = checks[0].form();
    let expected = [
        ("api_key", AKISMET_KEY),
        ("blog", "https://blog.example/"),
        ("user_ip", "127.0.0.1"),
        ("user_agent", "Mozilla/5.0 (Test)"),
        ("referrer", "https://blog.example/akismet"),
        ("permalink", "https://blog.example/akismet"),
        ("comment_type", "comment"),
        ("comment_author", "Ada Lovelace"),
        ("comment_author_email", "ada@example.com"),
        ("comment_author_url", "https://ada.example/"),
        ("comment_content", "Is this spam? Ünïcode & symbols = fine"),
        ("blog_lang", "en"),
        ("blog_charset", "UTF-8"),
        ("is_test", "1"),
        ("honeypot_field_name", "fax_number"),
        ("hidden_honeypot_field", ""),
    ];
    for (field, value) in expected {
        assert_eq!(
            form.get(field).map(String::as_str),
            Some(value),
            "field {field} in {form:#?}"
        );
    }
    let date = &form["comment_date_gmt"];
    assert!(
        chrono::DateTime::parse_from_rfc3339(date).is_ok() && date.ends_with('Z'),
        "{date}"
    );
    assert!(!form.contains_key("recheck_reason"), "{form:#?}");
    assert!(
        !form.contains_key("user_role"),
        "a guest has no role: {form:#?}"
    );

    let seen = inspect(&app, &moderator.token, id_of(&created)).await;
    assert_eq!(seen["status"], "pending");
    let entry = scorer(&seen, "akismet");
    assert_eq!(entry["score"], 0.95);
    assert_eq!(strings(&entry["reasons"]), vec!["Akismet says spam"]);
    assert_eq!(entry["error"], Value::Null);
    assert_eq!(
        held_because(&seen),
        vec!["combined score 0.9500 is at or above the review threshold 0.84"]
    );
}

#[tokio::test]
async fn akismet_ham_publishes_the_comment() {
    let akismet = akismet_stand_in(|_| Reply::ok("false")).await;
    let app = spawn_app_with(&akismet_toml(&akismet.url, "", "")).await;
    let moderator = moderator(&app).await;
    let user = app.user(Role::Commenter, "member@example.com").await;
    let created = expect_status(
        app.post_json_as(
            &comments_path("akismet"),
            &json!({"body": "a reader's honest opinion"}),
            &user.token,
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(created["status"], "approved");
    assert_eq!(public_ids(&app, "akismet").await, vec![id_of(&created)]);
    let form = requests_to(&akismet, "/1.1/comment-check")[0].form();
    assert_eq!(form["user_role"], "commenter");
    assert_eq!(form["comment_author_email"], "member@example.com");
    assert!(!form.contains_key("is_test"), "{form:#?}");

    let seen = inspect(&app, &moderator.token, id_of(&created)).await;
    let entry = scorer(&seen, "akismet");
    assert_eq!(entry["score"], 0.3);
    assert_eq!(strings(&entry["reasons"]), vec!["Akismet says not spam"]);
}

#[tokio::test]
async fn akismet_discard_is_spam_at_once_unless_told_otherwise() {
    let discard = || Reply::ok("true").with_header("X-akismet-pro-tip", "discard");
    let akismet = akismet_stand_in(move |_| discard()).await;
    let app = spawn_app_with(&akismet_toml(&akismet.url, "", "")).await;
    let moderator = moderator(&app).await;
    let created = post_by(&app, "discard", "bot@example.com", "blatant spam").await;
    assert_eq!(
        created["status"], "pending",
        "shown to its author as pending"
    );
    let seen = inspect(&app, &moderator.token, id_of(&created)).await;
    assert_eq!(seen["status"], "spam");
    assert_eq!(
        held_because(&seen),
        vec!["akismet: Akismet: blatant spam (pro-tip: discard)"]
    );
    assert_eq!(scorer(&seen, "akismet")["rule"], "spam");

    let lenient = spawn_app_with(&akismet_toml(&akismet.url, ", honour_discard = false", "")).await;
    let moderator = lenient.user(Role::Moderator, "m2@example.com").await;
    let created = post_by(&lenient, "discard", "bot@example.com", "blatant spam").await;
    let seen = inspect(&lenient, &moderator.token, id_of(&created)).await;
    assert_eq!(
        seen["status"], "pending",
        "held for review, not spam: {seen}"
    );
    assert_eq!(scorer(&seen, "akismet")["rule"], Value::Null);
}

#[tokio::test]
async fn akismet_garbage_holds_the_comment() {
    let akismet = akismet_stand_in(|_| {
        Reply::ok("invalid").with_header("X-akismet-debug-help", "Empty \"blog\" value")
    })
    .await;
    let app = spawn_app_with(&akismet_toml(&akismet.url, "", "")).await;
    let moderator = moderator(&app).await;
    let created = post_by(&app, "garbage", "a@example.com", "hello").await;
    assert_held_by_failure(
        &app,
        &moderator.token,
        &created,
        "akismet",
        "unexpected answer: invalid (Empty \"blog\" value)",
    )
    .await;
}

#[tokio::test]
async fn akismet_server_errors_hold_the_comment() {
    let akismet = akismet_stand_in(|_| Reply::status(500, "true")).await;
    let app = spawn_app_with(&akismet_toml(&akismet.url, "", "")).await;
    let moderator = moderator(&app).await;
    let created = post_by(&app, "error", "a@example.com", "hello").await;
    assert_held_by_failure(&app, &moderator.token, &created, "akismet", "HTTP 500").await;
}

#[tokio::test]
async fn a_slow_akismet_times_out_and_holds_the_comment() {
    let akismet = akismet_stand_in(|_| Reply::ok("false").after(Duration::from_millis(1000))).await;
    let app = spawn_app_with(&akismet_toml(&akismet.url, "", "")).await;
    let moderator = moderator(&app).await;
    let started = Instant::now();
    let created = post_by(&app, "slow", "a@example.com", "hello").await;
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "the comment waited for the slow scorer: {:?}",
        started.elapsed()
    );
    let seen = assert_held_by_failure(
        &app,
        &moderator.token,
        &created,
        "akismet",
        "timed out after 300 ms",
    )
    .await;
    let elapsed = scorer(&seen, "akismet")["elapsed_us"].as_u64().unwrap();
    assert!((300_000..900_000).contains(&elapsed), "{elapsed}");
}

#[tokio::test]
async fn akismet_down_holds_the_comment_or_is_ignored_when_configured() {
    let down = dead_url();
    let app = spawn_app_with(&akismet_toml(&down, "", "")).await;
    let moderator = moderator(&app).await;
    let created = post_by(&app, "down", "a@example.com", "hello").await;
    assert_held_by_failure(
        &app,
        &moderator.token,
        &created,
        "akismet",
        "request failed",
    )
    .await;

    let ignoring = spawn_app_with(&akismet_toml(&down, "", "on_error = \"ignore\"\n")).await;
    let moderator = ignoring.user(Role::Moderator, "m2@example.com").await;
    let created = post_by(&ignoring, "down", "a@example.com", "hello").await;
    assert_eq!(created["status"], "approved");
    let seen = inspect(&ignoring, &moderator.token, id_of(&created)).await;
    assert_eq!(seen["held_because"], json!([]));
    assert!(scorer(&seen, "akismet")["error"].is_string(), "{seen}");
}

#[tokio::test]
async fn a_spam_verdict_sends_exactly_one_submit_spam_to_akismet() {
    let akismet = akismet_stand_in(|_| Reply::ok("false")).await;
    let app = spawn_app_with(&akismet_toml(&akismet.url, "", "")).await;
    let moderator = moderator(&app).await;
    let created = post_by(
        &app,
        "feedback",
        "sly@example.com",
        "sneaky spam Akismet missed",
    )
    .await;
    assert_eq!(created["status"], "approved");
    assert!(feedback(&app).await.is_empty(), "no verdict, no feedback");

    decide(&app, &moderator.token, id_of(&created), "spam").await;
    let sent = wait_for_path(&akismet, "/1.1/submit-spam", 1, Duration::from_secs(5)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(requests_to(&akismet, "/1.1/submit-spam").len(), 1);
    assert!(requests_to(&akismet, "/1.1/submit-ham").is_empty());
    let form = sent[0].form();
    assert_eq!(form["api_key"], AKISMET_KEY);
    assert_eq!(form["blog"], "https://blog.example/");
    assert_eq!(form["comment_content"], "sneaky spam Akismet missed");
    assert_eq!(form["comment_author_email"], "sly@example.com");
    assert_eq!(form["user_ip"], "127.0.0.1");
    assert_eq!(form["comment_type"], "comment");

    let messages = wait_for_delivered(&app, 1, Duration::from_secs(5)).await;
    assert_eq!(messages.len(), 1, "{messages:#?}");
    assert_eq!(messages[0].target, "akismet");
    assert_eq!(messages[0].attempts, 1);
    assert_eq!(messages[0].last_error, None);
    assert!(
        !messages[0].payload.contains(AKISMET_KEY),
        "the API key must not be stored in the outbox: {}",
        messages[0].payload
    );

    // Deciding the same again sends nothing more.
    decide(&app, &moderator.token, id_of(&created), "spam").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(feedback(&app).await.len(), 1);
    assert_eq!(requests_to(&akismet, "/1.1/submit-spam").len(), 1);
}

#[tokio::test]
async fn a_not_spam_verdict_sends_submit_ham_to_akismet() {
    let akismet = akismet_stand_in(|_| Reply::ok("true")).await;
    let app = spawn_app_with(&akismet_toml(&akismet.url, "", "")).await;
    let moderator = moderator(&app).await;
    let created = post_by(
        &app,
        "feedback",
        "fan@example.com",
        "I genuinely liked this",
    )
    .await;
    assert_eq!(created["status"], "pending");

    let decided = decide(&app, &moderator.token, id_of(&created), "not_spam").await;
    assert_eq!(decided["status"], "approved");
    let sent = wait_for_path(&akismet, "/1.1/submit-ham", 1, Duration::from_secs(5)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(requests_to(&akismet, "/1.1/submit-ham").len(), 1);
    assert!(requests_to(&akismet, "/1.1/submit-spam").is_empty());
    let form = sent[0].form();
    assert_eq!(form["api_key"], AKISMET_KEY);
    assert_eq!(form["comment_content"], "I genuinely liked this");
    wait_for_delivered(&app, 1, Duration::from_secs(5)).await;
    assert_eq!(public_ids(&app, "feedback").await, vec![id_of(&created)]);
}

#[tokio::test]
async fn akismet_feedback_is_retried_until_the_service_takes_it() {
    let submits = Arc::new(AtomicUsize::new(0));
    let counter = submits.clone();
    let akismet = StandIn::start_with(move |request| match request.path.as_str() {
        "/1.1/verify-key" => Reply::ok("valid"),
        "/1.1/comment-check" => Reply::ok("false"),
        _ => match counter.fetch_add(1, Ordering::SeqCst) {
            0 => Reply::status(503, "down for maintenance"),
            1 => Reply::ok("something went wrong"),
            _ => Reply::ok(THANKS),
        },
    })
    .await;
    let app = spawn_app_with(&akismet_toml(&akismet.url, "", "")).await;
    let moderator = moderator(&app).await;
    let created = post_by(
        &app,
        "retry",
        "sly@example.com",
        "spam that slipped through",
    )
    .await;
    decide(&app, &moderator.token, id_of(&created), "spam").await;

    let messages = wait_for_delivered(&app, 1, Duration::from_secs(5)).await;
    assert_eq!(messages.len(), 1);
    let message = &messages[0];
    assert!(message.delivered_at.is_some());
    assert_eq!(message.gave_up_at, None);
    assert_eq!(message.attempts, 3, "{message:#?}");
    assert_eq!(message.last_error, None, "cleared once delivered");
    let sent = requests_to(&akismet, "/1.1/submit-spam");
    assert_eq!(sent.len(), 3, "two failures, then the delivery");
    for request in &sent {
        assert_eq!(
            request.form()["comment_content"],
            "spam that slipped through"
        );
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(requests_to(&akismet, "/1.1/submit-spam").len(), 3);
}

#[tokio::test]
async fn akismet_feedback_waits_in_the_outbox_while_the_service_is_down() {
    let akismet = akismet_stand_in(|_| Reply::ok("false")).await;
    let app = spawn_app_with(&akismet_toml(&akismet.url, "", "")).await;
    let moderator = moderator(&app).await;
    let created = post_by(&app, "outage", "sly@example.com", "more spam").await;
    akismet.stop().await;

    decide(&app, &moderator.token, id_of(&created), "spam").await;
    let start = Instant::now();
    let failing = loop {
        let messages = feedback(&app).await;
        assert_eq!(messages.len(), 1);
        if messages[0].attempts >= 2 {
            break messages[0].clone();
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "no retries: {messages:#?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(failing.delivered_at, None);
    assert_eq!(failing.gave_up_at, None);
    assert!(
        failing
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("request failed")),
        "{failing:#?}"
    );
}

#[tokio::test]
async fn akismet_corrections_mode_reports_only_disagreements() {
    let akismet = akismet_stand_in(|request| {
        if request.form()["comment_content"].contains("pills") {
            Reply::ok("true")
        } else {
            Reply::ok("false")
        }
    })
    .await;
    let app = spawn_app_with(&akismet_toml(
        &akismet.url,
        ", feedback = \"corrections\"",
        "",
    ))
    .await;
    let moderator = moderator(&app).await;
    let caught = post_by(&app, "corrections", "a@example.com", "cheap pills").await;
    let missed = post_by(&app, "corrections", "b@example.com", "subtle spam").await;
    assert_eq!(caught["status"], "pending");
    assert_eq!(missed["status"], "approved");

    // Akismet was right: nothing to tell it.
    decide(&app, &moderator.token, id_of(&caught), "spam").await;
    // Akismet was wrong, twice.
    decide(&app, &moderator.token, id_of(&missed), "spam").await;
    decide(&app, &moderator.token, id_of(&caught), "not_spam").await;

    let spam = wait_for_path(&akismet, "/1.1/submit-spam", 1, Duration::from_secs(5)).await;
    let ham = wait_for_path(&akismet, "/1.1/submit-ham", 1, Duration::from_secs(5)).await;
    wait_for_delivered(&app, 2, Duration::from_secs(5)).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(feedback(&app).await.len(), 2);
    assert_eq!(requests_to(&akismet, "/1.1/submit-spam").len(), 1);
    assert_eq!(requests_to(&akismet, "/1.1/submit-ham").len(), 1);
    assert_eq!(spam[0].form()["comment_content"], "subtle spam");
    assert_eq!(ham[0].form()["comment_content"], "cheap pills");
}

#[tokio::test]
async fn an_edit_is_rechecked_with_akismet() {
    let akismet = akismet_stand_in(|request| {
        if request.form()["comment_content"].contains("casino") {
            Reply::ok("true")
        } else {
            Reply::ok("false")
        }
    })
    .await;
    let app = spawn_app_with(&akismet_toml(&akismet.url, "", "")).await;
    let moderator = moderator(&app).await;
    let created = post_by(&app, "recheck", "a@example.com", "innocent at first").await;
    assert_eq!(created["status"], "approved");
    let token = created["edit_token"].as_str().unwrap();
    let edited = expect_status(
        edit(
            &app,
            id_of(&created),
            token,
            "now with an online casino offer",
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(edited["status"], "pending");
    let checks = requests_to(&akismet, "/1.1/comment-check");
    assert_eq!(checks.len(), 2);
    let form = checks[1].form();
    assert_eq!(form["recheck_reason"], "edit");
    assert_eq!(form["comment_content"], "now with an online casino offer");
    assert_eq!(form["user_ip"], "127.0.0.1");
    let seen = inspect(&app, &moderator.token, id_of(&created)).await;
    assert_eq!(seen["report"]["edit"], true);
    assert_eq!(scorer(&seen, "akismet")["score"], 0.95);
}

#[tokio::test]
async fn feedback_is_given_up_after_the_last_attempt() {
    let akismet = akismet_stand_in(|_| Reply::ok("false")).await;
    let app = spawn_app_with(&format!(
        "{FAST_OUTBOX}max_attempts = 2\n{}",
        akismet_entry(&akismet.url, "", "")
    ))
    .await;
    let moderator = moderator(&app).await;
    let created = post_by(&app, "give-up", "sly@example.com", "spam forever").await;
    assert_eq!(created["status"], "approved");
    // From now on Akismet fails every request.
    akismet.reply(Reply::status(500, "oops"));
    decide(&app, &moderator.token, id_of(&created), "spam").await;

    let start = Instant::now();
    let message = loop {
        let messages = feedback(&app).await;
        assert_eq!(messages.len(), 1);
        if messages[0].gave_up_at.is_some() {
            break messages[0].clone();
        }
        assert!(start.elapsed() < Duration::from_secs(5), "{messages:#?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(message.attempts, 2);
    assert_eq!(message.delivered_at, None);
    assert!(
        message
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("HTTP 500")),
        "{message:#?}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let submits = akismet.wait_for(1, Duration::from_secs(1)).await;
    assert_eq!(
        submits
            .iter()
            .filter(|r| r.path == "/1.1/submit-spam")
            .count(),
        2,
        "no attempt after giving up"
    );
}
