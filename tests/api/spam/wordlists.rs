//! Word lists: blocked entries send a comment to spam (its author sees it
//! pending), suspect entries hold it; words, regular expressions and
//! addresses, matched against the body, IP, user agent and author; the
//! admins-only API, its validation, and removal applying at once.

use moderato::domain::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{expect_error, expect_status, id_of, spawn_app};

use super::{
    add_entry, admin, comments_path, held_because, inspect, moderator, post_by, public_ids,
    queue_ids, scorer,
};

#[tokio::test]
async fn a_blocked_word_added_by_an_admin_sends_comments_to_spam_while_the_author_sees_pending() {
    let app = spawn_app().await;
    let admin = admin(&app).await;
    let moderator = moderator(&app).await;

    let before = post_by(&app, "pills", "a@example.com", "Cheap VIAGRA, ask me").await;
    assert_eq!(before["status"], "approved", "nothing blocked yet");

    let entry = expect_status(
        add_entry(
            &app,
            &admin.token,
            json!({"list": "blocked", "pattern": "viagra", "note": "pharma spam"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert!(entry["id"].as_i64().is_some(), "{entry}");
    assert_eq!(entry["list"], "blocked");
    assert_eq!(entry["kind"], "word");
    assert_eq!(entry["pattern"], "viagra");
    assert_eq!(entry["note"], "pharma spam");

    let response = app
        .post_json(
            &comments_path("pills"),
            &json!({"body": "Buy Viagra here, best prices", "author": {"name": "B", "email": "b@example.com"}}),
        )
        .await;
    let text = response.text().await.expect("body");
    let created: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(created["status"], "pending", "{created}");
    assert!(
        !text.contains("\"spam\""),
        "the author must not learn it was classed spam: {text}"
    );

    let id = id_of(&created);
    assert_eq!(public_ids(&app, "pills").await, vec![id_of(&before)]);
    assert_eq!(app.thread("pills").await["total"], 1);

    let seen = inspect(&app, &moderator.token, id).await;
    assert_eq!(seen["status"], "spam");
    assert_eq!(
        held_because(&seen),
        vec!["wordlists: blocked entry \"viagra\" in the body"]
    );
    assert_eq!(scorer(&seen, "wordlists")["rule"], "spam");
    assert!(queue_ids(&app, &moderator.token, "spam")
        .await
        .contains(&id));
    assert!(!queue_ids(&app, &moderator.token, "pending")
        .await
        .contains(&id));
}

#[tokio::test]
async fn a_suspect_word_holds_a_comment_for_review() {
    let app = spawn_app().await;
    let admin = admin(&app).await;
    let moderator = moderator(&app).await;
    expect_status(
        add_entry(
            &app,
            &admin.token,
            json!({"list": "suspect", "kind": "word", "pattern": "casino"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;

    let held = post_by(
        &app,
        "bets",
        "a@example.com",
        "I won big at the Casino last night",
    )
    .await;
    assert_eq!(held["status"], "pending");
    let seen = inspect(&app, &moderator.token, id_of(&held)).await;
    assert_eq!(seen["status"], "pending");
    assert_eq!(
        held_because(&seen),
        vec!["wordlists: suspect entry \"casino\" in the body"]
    );
    assert_eq!(scorer(&seen, "wordlists")["rule"], "hold");

    // Whole words only.
    let fine = post_by(
        &app,
        "bets",
        "b@example.com",
        "casinos in old films look glamorous",
    )
    .await;
    assert_eq!(fine["status"], "approved");
    assert_eq!(public_ids(&app, "bets").await, vec![id_of(&fine)]);
}

#[tokio::test]
async fn word_lists_match_the_ip_user_agent_and_author_and_removal_applies_at_once() {
    let app = spawn_app().await;
    let admin = admin(&app).await;
    let moderator = moderator(&app).await;

    // Every test request comes from 127.0.0.1.
    let ip = expect_status(
        add_entry(
            &app,
            &admin.token,
            json!({"list": "blocked", "kind": "ip", "pattern": " 127.0.0.1 "}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(ip["pattern"], "127.0.0.1/32", "IPs are normalised");
    let blocked = post_by(&app, "lists", "a@example.com", "hello from my machine").await;
    assert_eq!(blocked["status"], "pending");
    let seen = inspect(&app, &moderator.token, id_of(&blocked)).await;
    assert_eq!(seen["status"], "spam");
    assert_eq!(
        held_because(&seen),
        vec!["wordlists: blocked entry \"127.0.0.1/32\" in the ip"]
    );

    expect_status(
        app.request(
            Method::DELETE,
            &format!("/api/v1/spam/wordlists/{}", id_of(&ip)),
        )
        .bearer_auth(&admin.token)
        .send()
        .await
        .expect("request"),
        StatusCode::NO_CONTENT,
    )
    .await;
    let allowed = post_by(
        &app,
        "lists",
        "a@example.com",
        "hello again from my machine",
    )
    .await;
    assert_eq!(
        allowed["status"], "approved",
        "the removed entry still applies"
    );

    // A suspect regular expression, matched against the user agent.
    expect_status(
        add_entry(
            &app,
            &admin.token,
            json!({"list": "suspect", "kind": "regex", "pattern": "^spam-?bot"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let bot = app
        .request(Method::POST, &comments_path("lists"))
        .header("user-agent", "SpamBot/2.0 (+https://bot.example)")
        .json(&json!({"body": "a fine remark", "author": {"name": "C", "email": "c@example.com"}}))
        .send()
        .await
        .expect("request");
    let bot = expect_status(bot, StatusCode::CREATED).await;
    assert_eq!(bot["status"], "pending");
    let seen = inspect(&app, &moderator.token, id_of(&bot)).await;
    assert_eq!(seen["status"], "pending");
    assert_eq!(
        held_because(&seen),
        vec!["wordlists: suspect entry \"/^spam-?bot/\" in the user agent"]
    );

    // A blocked word in the author's email.
    expect_status(
        add_entry(
            &app,
            &admin.token,
            json!({"list": "blocked", "pattern": "pills"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let by_email = post_by(&app, "lists", "pills@example.com", "nothing to see").await;
    let seen = inspect(&app, &moderator.token, id_of(&by_email)).await;
    assert_eq!(seen["status"], "spam");
    assert_eq!(
        held_because(&seen),
        vec!["wordlists: blocked entry \"pills\" in the author email"]
    );
    assert_eq!(public_ids(&app, "lists").await, vec![id_of(&allowed)]);
}

#[tokio::test]
async fn word_list_api_is_for_admins_only() {
    let app = spawn_app().await;
    let commenter = app.user(Role::Commenter, "c@example.com").await;
    let moderator = moderator(&app).await;
    let admin = admin(&app).await;
    let entry = json!({"list": "blocked", "pattern": "viagra"});

    expect_error(
        app.get("/api/v1/spam/wordlists").await,
        StatusCode::UNAUTHORIZED,
        "not_signed_in",
    )
    .await;
    expect_error(
        app.post_json("/api/v1/spam/wordlists", &entry).await,
        StatusCode::UNAUTHORIZED,
        "not_signed_in",
    )
    .await;
    expect_error(
        app.request(Method::DELETE, "/api/v1/spam/wordlists/1")
            .send()
            .await
            .expect("request"),
        StatusCode::UNAUTHORIZED,
        "not_signed_in",
    )
    .await;
    for token in [&commenter.token, &moderator.token] {
        expect_error(
            app.get_as("/api/v1/spam/wordlists", token).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
        expect_error(
            add_entry(&app, token, entry.clone()).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
    }
    // Nothing was added by the refused attempts.
    let listed = expect_status(
        app.get_as("/api/v1/spam/wordlists", &admin.token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(listed["entries"], json!([]));

    let added = expect_status(
        add_entry(&app, &admin.token, entry.clone()).await,
        StatusCode::CREATED,
    )
    .await;
    for token in [&commenter.token, &moderator.token] {
        expect_error(
            app.request(
                Method::DELETE,
                &format!("/api/v1/spam/wordlists/{}", id_of(&added)),
            )
            .bearer_auth(token)
            .send()
            .await
            .expect("request"),
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
    }
    let listed = expect_status(
        app.get_as("/api/v1/spam/wordlists", &admin.token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(listed["entries"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn word_list_entries_are_validated_and_unique() {
    let app = spawn_app().await;
    let admin = admin(&app).await;

    for bad in [
        json!({"list": "blocked", "kind": "regex", "pattern": "(unclosed"}),
        json!({"list": "blocked", "kind": "regex", "pattern": "a{1000}{1000}"}),
        json!({"list": "blocked", "kind": "ip", "pattern": "300.1.1.1"}),
        json!({"list": "blocked", "kind": "ip", "pattern": "not an address"}),
        json!({"list": "suspect", "pattern": "   "}),
        json!({"list": "suspect", "pattern": "x".repeat(501)}),
        json!({"list": "suspect", "pattern": "tab\there"}),
    ] {
        let error = expect_error(
            add_entry(&app, &admin.token, bad.clone()).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        )
        .await;
        assert_eq!(error["error"]["field"], "pattern", "for {bad}");
    }
    for malformed in [
        json!({"list": "allowed", "pattern": "x"}),
        json!({"list": "blocked", "kind": "glob", "pattern": "x"}),
        json!({"list": "blocked"}),
        json!({"list": "blocked", "pattern": "x", "colour": "red"}),
    ] {
        expect_error(
            add_entry(&app, &admin.token, malformed).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        )
        .await;
    }

    let first = expect_status(
        add_entry(
            &app,
            &admin.token,
            json!({"list": "blocked", "pattern": "viagra"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    expect_error(
        add_entry(
            &app,
            &admin.token,
            json!({"list": "blocked", "pattern": " viagra "}),
        )
        .await,
        StatusCode::CONFLICT,
        "duplicate",
    )
    .await;
    // The same word on the other list is another entry.
    let suspect = expect_status(
        add_entry(
            &app,
            &admin.token,
            json!({"list": "suspect", "pattern": "viagra"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let ip = expect_status(
        add_entry(
            &app,
            &admin.token,
            json!({"list": "blocked", "kind": "ip", "pattern": "10.0.0.1"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(ip["pattern"], "10.0.0.1/32");
    expect_error(
        add_entry(
            &app,
            &admin.token,
            json!({"list": "blocked", "kind": "ip", "pattern": "10.0.0.1/32"}),
        )
        .await,
        StatusCode::CONFLICT,
        "duplicate",
    )
    .await;
    let range = expect_status(
        add_entry(
            &app,
            &admin.token,
            json!({"list": "suspect", "kind": "ip", "pattern": "2001:db8::/32", "note": "  docs range  "}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(range["note"], "docs range");

    let listed = expect_status(
        app.get_as("/api/v1/spam/wordlists", &admin.token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        listed["entries"],
        json!([first, suspect, ip, range]),
        "every entry, in the order added"
    );

    let delete = |id: String| {
        app.request(Method::DELETE, &format!("/api/v1/spam/wordlists/{id}"))
            .bearer_auth(&admin.token)
            .send()
    };
    expect_status(
        delete(id_of(&first).to_string()).await.unwrap(),
        StatusCode::NO_CONTENT,
    )
    .await;
    expect_error(
        delete(id_of(&first).to_string()).await.unwrap(),
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    expect_error(
        delete("999999".into()).await.unwrap(),
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    expect_error(
        delete("abc".into()).await.unwrap(),
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let listed = expect_status(
        app.get_as("/api/v1/spam/wordlists", &admin.token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(listed["entries"], json!([suspect, ip, range]));
}
