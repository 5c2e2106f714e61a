//! The honeypot: a filled hidden field is spam, an empty (or null) one is
//! not, its name is configurable, and an ordinary form's `website` field is
//! never taken for a bot.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{expect_error, id_of, spawn_app, spawn_app_with};

use super::{comments_path, held_because, inspect, moderator, post, public_ids, queue_ids, scorer};

#[tokio::test]
async fn a_filled_honeypot_is_spam_and_an_empty_one_is_not() {
    let app = spawn_app().await;
    let moderator = moderator(&app).await;

    let empty = post(
        &app,
        "honey",
        json!({"body": "a person wrote this", "fax_number": "",
               "author": {"name": "Human", "email": "h@example.com"}}),
    )
    .await;
    assert_eq!(empty["status"], "approved");

    let bot = post(
        &app,
        "honey",
        json!({"body": "a bot wrote this", "fax_number": "http://bot.example",
               "author": {"name": "Bot", "email": "bot@example.com"}}),
    )
    .await;
    assert_eq!(bot["status"], "pending", "the bot is not told: {bot}");
    assert_eq!(public_ids(&app, "honey").await, vec![id_of(&empty)]);
    let seen = inspect(&app, &moderator.token, id_of(&bot)).await;
    assert_eq!(seen["status"], "spam");
    assert_eq!(
        held_because(&seen),
        vec!["honeypot: the hidden field `fax_number` was filled in"]
    );
    let honeypot = scorer(&seen, "honeypot");
    assert_eq!(honeypot["score"], 1.0);
    assert_eq!(honeypot["rule"], "spam");
}

#[tokio::test]
async fn the_honeypot_field_name_is_configurable() {
    let app = spawn_app_with(
        "[[spam.scorers]]\nkind = \"honeypot\"\nsettings = { field = \"hp_trap\" }\n",
    )
    .await;
    let moderator = moderator(&app).await;
    let bot = post(
        &app,
        "honey",
        json!({"body": "filled everything", "hp_trap": 12345,
               "author": {"name": "Bot", "email": "bot@example.com"}}),
    )
    .await;
    assert_eq!(bot["status"], "pending");
    let seen = inspect(&app, &moderator.token, id_of(&bot)).await;
    assert_eq!(seen["status"], "spam");
    assert_eq!(
        held_because(&seen),
        vec!["honeypot: the hidden field `hp_trap` was filled in"]
    );
    // `fax_number` is no field of this form any more.
    expect_error(
        app.post_json(
            &comments_path("honey"),
            &json!({"body": "x", "fax_number": "y", "author": {"name": "A", "email": "a@example.com"}}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_body",
    )
    .await;
}

#[tokio::test]
async fn an_ordinary_form_with_a_website_field_is_never_taken_for_a_bot() {
    let app = spawn_app().await;
    let moderator = moderator(&app).await;
    // The author's site where the API takes it: published.
    let with_site = post(
        &app,
        "ordinary",
        json!({"body": "a reader with a blog", "author": {"name": "Reader",
               "email": "reader@example.com", "url": "https://reader.example"}}),
    )
    .await;
    assert_eq!(with_site["status"], "approved");
    // A form that sends `website` at the top level is told so, and nothing
    // is stored as spam behind its back.
    let refused = expect_error(
        app.post_json(
            &comments_path("ordinary"),
            &json!({"body": "another reader", "website": "https://other.example",
                    "author": {"name": "Other", "email": "other@example.com"}}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_body",
    )
    .await;
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("website"),
        "{refused}"
    );
    assert_eq!(
        queue_ids(&app, &moderator.token, "spam").await,
        Vec::<i64>::new()
    );
    // And a honeypot may not be named like a field forms send.
    let settings = moderato::config::Settings::load(&moderato::config::Sources {
        overrides: vec![
            "[[spam.scorers]]\nkind = \"honeypot\"\nsettings = { field = \"website\" }\n".into(),
        ],
        ..Default::default()
    })
    .unwrap();
    let refused = moderato::spam::Spam::build(
        &settings.spam,
        reqwest::Client::new(),
        moderato::cpu::CpuPool::start(1).unwrap(),
    )
    .err()
    .expect("a honeypot named website is refused");
    assert!(
        refused.to_string().contains("real comment forms send"),
        "{refused}"
    );
}

#[tokio::test]
async fn a_null_honeypot_field_is_an_empty_one() {
    // Form libraries often send an untouched optional field as null.
    let app = spawn_app().await;
    let created = post(
        &app,
        "honey-null",
        json!({"body": "a person wrote this", "fax_number": null,
               "author": {"name": "Human", "email": "h@example.com"}}),
    )
    .await;
    assert_eq!(created["status"], "approved", "{created}");
    assert_eq!(public_ids(&app, "honey-null").await, vec![id_of(&created)]);
}
