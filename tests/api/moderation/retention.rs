//! Retention: spam, then trash, then the client data of kept comments are
//! purged on schedule, each run that did something logged.

use moderato::domain::Role;
use reqwest::StatusCode;

use crate::helpers::{decided, expect_error, id_of, spawn_app};

use super::{detail, log, queue_ids, thread_ids, DAY_MS};

#[tokio::test]
async fn retention_purges_spam_then_trash_then_client_data_and_logs_it() {
    let app = spawn_app().await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let token = moderator.token.as_str();
    let spam = id_of(&app.guest_comment("keep", "spam to purge").await);
    decided(&app, token, spam, "spam").await;
    let trash = id_of(&app.guest_comment("keep", "trash to purge").await);
    decided(&app, token, trash, "trash").await;
    let kept = id_of(&app.guest_comment("keep", "stays forever").await);
    assert_eq!(
        detail(&app, token, kept).await["comment"]["ip"],
        "127.0.0.1"
    );
    let purge = |now: i64| {
        moderato::moderation::retention::purge(&app.state.db, &app.state.settings.retention, now)
    };
    let now = chrono::Utc::now().timestamp_millis();

    let first = purge(now + 16 * DAY_MS).await.expect("purge");
    assert_eq!((first.spam, first.trash, first.client_data), (1, 0, 0));
    expect_error(
        app.get_as(&format!("/api/v1/moderation/comments/{spam}"), token)
            .await,
        StatusCode::NOT_FOUND,
        "comment_not_found",
    )
    .await;
    assert_eq!(
        detail(&app, token, trash).await["comment"]["status"],
        "trash"
    );
    assert_eq!(
        detail(&app, token, kept).await["comment"]["ip"],
        "127.0.0.1"
    );
    assert!(queue_ids(&app, token, "?status=spam").await.is_empty());
    let entries = log(&app, token, "").await;
    let newest = &entries["entries"][0];
    assert_eq!(newest["action"], "purge");
    assert!(newest["moderator_id"].is_null());
    let reason = newest["reason"].as_str().unwrap();
    assert!(
        reason.contains("1 spam") && reason.contains("0 trash"),
        "{reason}"
    );

    let second = purge(now + 31 * DAY_MS).await.expect("purge");
    assert_eq!((second.spam, second.trash, second.client_data), (0, 1, 1));
    expect_error(
        app.get_as(&format!("/api/v1/moderation/comments/{trash}"), token)
            .await,
        StatusCode::NOT_FOUND,
        "comment_not_found",
    )
    .await;
    let survivor = detail(&app, token, kept).await["comment"].clone();
    assert!(survivor["ip"].is_null(), "{survivor}");
    assert!(survivor["user_agent"].is_null(), "{survivor}");
    assert_eq!(survivor["body"], "stays forever");
    assert_eq!(thread_ids(&app.thread("keep").await), vec![kept]);
    let entries = log(&app, token, "").await;
    let newest = &entries["entries"][0];
    assert_eq!(newest["action"], "purge");
    let reason = newest["reason"].as_str().unwrap();
    assert!(
        reason.contains("0 spam") && reason.contains("1 trash") && reason.contains("from 1 "),
        "{reason}"
    );
    let purges = entries["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "purge")
        .count();
    assert_eq!(purges, 2);

    // A run with nothing to do leaves no trace.
    let idle = purge(now + 31 * DAY_MS).await.expect("purge");
    assert_eq!((idle.spam, idle.trash, idle.client_data), (0, 0, 0));
    let again = log(&app, token, "").await;
    assert_eq!(again["entries"], entries["entries"]);
}
