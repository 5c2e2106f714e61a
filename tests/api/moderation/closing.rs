//! Closing an article to comments: by an admin (and reopening it), or by
//! itself after `articles.close_after_days`.

use diesel::RunQueryDsl;
use moderato::db::DbError;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{expect_error, spawn_app, spawn_app_with, TestApp};

use super::{guest, post_guest, DAY_MS};

#[tokio::test]
async fn an_admin_closes_and_reopens_an_article() {
    let app = spawn_app().await;
    app.guest_comment("closing", "before closing").await;
    let closed = app
        .admin_put_article("closing", &json!({"comments_open": false}))
        .await;
    assert_eq!(closed["comments_open"], false);
    expect_error(
        post_guest(
            &app,
            "closing",
            ("Late", "late@example.com"),
            "too late?",
            None,
        )
        .await,
        StatusCode::FORBIDDEN,
        "comments_closed",
    )
    .await;
    assert_eq!(app.thread("closing").await["total"], 1);
    let opened = app
        .admin_put_article("closing", &json!({"comments_open": true}))
        .await;
    assert_eq!(opened["comments_open"], true);
    guest(&app, "closing", ("Late", "late@example.com"), "too late?").await;
    assert_eq!(app.thread("closing").await["total"], 2);
}

#[tokio::test]
async fn articles_close_by_themselves_after_close_after_days() {
    let app = spawn_app_with("[articles]\nclose_after_days = 1").await;
    app.guest_comment("old-post", "while it was new").await;
    app.guest_comment("new-post", "fresh").await;
    let two_days_ago = chrono::Utc::now().timestamp_millis() - 2 * DAY_MS;
    backdate(&app, "old-post", two_days_ago).await;

    expect_error(
        post_guest(
            &app,
            "old-post",
            ("Late", "late@example.com"),
            "anyone?",
            None,
        )
        .await,
        StatusCode::FORBIDDEN,
        "comments_closed",
    )
    .await;
    guest(&app, "new-post", ("Late", "late@example.com"), "anyone?").await;
    assert_eq!(app.thread("old-post").await["total"], 1);
}

#[tokio::test]
async fn a_cached_thread_page_stops_saying_open_when_the_article_closes() {
    let app = spawn_app_with("[articles]\nclose_after_days = 1").await;
    app.guest_comment("closing-soon", "just in time").await;
    // Backdated so that the article closes by age three seconds from now.
    let closes_at = chrono::Utc::now().timestamp_millis() + 3000;
    let created_at = closes_at - DAY_MS;
    backdate(&app, "closing-soon", created_at).await;

    // Read twice, so the second answer comes from the cache.
    for _ in 0..2 {
        assert_eq!(
            app.thread("closing-soon").await["article"]["comments_open"],
            true
        );
    }
    let wait = closes_at + 200 - chrono::Utc::now().timestamp_millis();
    tokio::time::sleep(std::time::Duration::from_millis(wait.max(0) as u64)).await;
    assert_eq!(
        app.thread("closing-soon").await["article"]["comments_open"],
        false,
        "a page cached while the article was open lapses when it closes"
    );
}

/// Sets an article's creation time, as if it had been made then.
async fn backdate(app: &TestApp, key: &'static str, created_at: i64) {
    let updated = app
        .state
        .db
        .write(move |conn| {
            diesel::sql_query(format!(
                "UPDATE articles SET created_at = {created_at} WHERE \"key\" = '{key}'"
            ))
            .execute(conn)
            .map_err(DbError::from)
        })
        .await
        .expect("backdate");
    assert_eq!(updated, 1, "no article {key}");
}
