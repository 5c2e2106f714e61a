//! Several instances on one database: word list and model changes made on
//! one reach the others.

use std::time::{Duration, Instant};

use moderato::spam::classifier::Model;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{expect_status, id_of, spawn_app_with, TestApp};

use super::{
    add_entry, admin, comments_path, decide, inspect, moderator, posted_ids, scorer, stored_model,
    HAM_TEXTS, SPAM_PROBE, SPAM_TEXTS,
};

/// A second server on the same database, as another instance behind a load
/// balancer would be.
struct Instance {
    address: String,
    state: actix_web::web::Data<moderato::services::Services>,
}

async fn another_instance(app: &TestApp) -> Instance {
    let settings = (*app.state.settings).clone();
    let instance = moderato::startup::Application::build(settings)
        .await
        .expect("a second instance must start");
    let address = format!("http://127.0.0.1:{}", instance.port());
    let state = instance.state();
    tokio::spawn(instance.run_until_stopped());
    Instance { address, state }
}

/// Waits until `check` holds (or panics after `within`).
async fn eventually(what: &str, within: Duration, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < within, "not within {within:?}: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn word_list_and_model_changes_reach_other_instances() {
    let app = spawn_app_with("[spam]\nrefresh_interval = \"50ms\"").await;
    let other = another_instance(&app).await;
    let admin = admin(&app).await;
    let moderator = moderator(&app).await;
    let post_to_other = |text: &str| {
        app.client
            .post(format!("{}{}", other.address, comments_path("shared")))
            .json(&json!({"body": text, "author": {"name": "Visitor", "email": "v@example.com"}}))
            .send()
    };

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
    let lists_version = app.state.spam.wordlists.version();
    eventually(
        "the other instance loads the word list",
        Duration::from_secs(3),
        || other.state.spam.wordlists.version() == lists_version,
    )
    .await;
    let created = expect_status(
        post_to_other("zorblax for sale").await.unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let seen = inspect(&app, &moderator.token, id_of(&created)).await;
    assert_eq!(seen["status"], "spam", "{seen}");

    let spam_ids = posted_ids(&app, "teach", &SPAM_TEXTS[..5]).await;
    let ham_ids = posted_ids(&app, "teach", &HAM_TEXTS[..5]).await;
    for id in &spam_ids {
        decide(&app, &moderator.token, *id, "spam").await;
    }
    for id in &ham_ids {
        decide(&app, &moderator.token, *id, "not_spam").await;
    }
    let (_, model_version) = stored_model(&app).await;
    eventually(
        "the other instance loads the model",
        Duration::from_secs(3),
        || other.state.spam.model.version() == model_version,
    )
    .await;
    let in_memory = other.state.spam.model.read(Model::globals);
    assert_eq!((in_memory.spam, in_memory.ham), (5.0, 5.0));
    let probe = expect_status(
        post_to_other(SPAM_PROBE).await.unwrap(),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(probe["status"], "pending");
    let seen = inspect(&app, &moderator.token, id_of(&probe)).await;
    assert!(
        scorer(&seen, "learned")["score"].as_f64().unwrap() > 0.9,
        "{seen}"
    );
}
