//! The overview's activity: comments per UTC day of creation, by their
//! status now, every day of the window present; today's held and spam.

use diesel::RunQueryDsl;
use moderato::db::DbError;
use moderato::domain::Role;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{decided, expect_error, expect_status, id_of, spawn_app_with, TestApp};

use super::{send, DAY_MS};

async fn activity(app: &TestApp, token: &str, query: &str) -> Value {
    expect_status(
        app.get_as(&format!("/api/v1/moderation/activity{query}"), token)
            .await,
        StatusCode::OK,
    )
    .await
}

/// Moves a comment's creation `days` days back.
async fn backdate(app: &TestApp, id: i64, days: i64) {
    let updated = app
        .state
        .db
        .write(move |conn| {
            diesel::sql_query(format!(
                "UPDATE comments SET created_at = created_at - {} WHERE id = {id}",
                days * DAY_MS
            ))
            .execute(conn)
            .map_err(DbError::from)
        })
        .await
        .expect("backdate");
    assert_eq!(updated, 1, "no comment {id}");
}

/// A day's counts as `[pending, approved, spam, trash, deleted]`.
fn counts(day: &Value) -> [i64; 5] {
    ["pending", "approved", "spam", "trash", "deleted"].map(|status| {
        day[status]
            .as_i64()
            .unwrap_or_else(|| panic!("no {status} count in {day}"))
    })
}

#[tokio::test]
async fn comments_count_on_the_day_they_were_written_by_their_status_now() {
    let app = spawn_app_with("[moderation]\nmode = \"all\"").await;
    let moderator = app.user(Role::Moderator, "overview@example.com").await;
    let mut today = Vec::new();
    for n in 0..6 {
        today.push(id_of(
            &app.guest_comment("activity", &format!("comment number {n}"))
                .await,
        ));
    }
    decided(&app, &moderator.token, today[0], "approve").await;
    decided(&app, &moderator.token, today[1], "spam").await;
    decided(&app, &moderator.token, today[2], "trash").await;
    expect_status(
        send(
            &app,
            Method::DELETE,
            &format!("/api/v1/comments/{}", today[3]),
            Some(&moderator.token),
            None,
        )
        .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    // Two days ago, still held; forty days ago, past the default window.
    let older = id_of(&app.guest_comment("activity", "from two days ago").await);
    backdate(&app, older, 2).await;
    let ancient = id_of(&app.guest_comment("activity", "from long ago").await);
    decided(&app, &moderator.token, ancient, "approve").await;
    backdate(&app, ancient, 40).await;

    let dates_now = || chrono::Utc::now().date_naive().to_string();
    let before = dates_now();
    let week = activity(&app, &moderator.token, "?days=7").await;
    let after = dates_now();
    let days = week["days"].as_array().expect("days");
    assert_eq!(days.len(), 7);
    let last = days[6]["day"].as_str().expect("a day");
    assert!(last == before || last == after, "today is {last}?");
    let dates: Vec<&str> = days.iter().map(|d| d["day"].as_str().unwrap()).collect();
    let mut ordered = dates.clone();
    ordered.sort_unstable();
    ordered.dedup();
    assert_eq!(ordered, dates, "oldest first, each day once");

    assert_eq!(counts(&days[6]), [2, 1, 1, 1, 1]);
    assert_eq!(counts(&days[4]), [1, 0, 0, 0, 0]);
    for quiet in [0, 1, 2, 3, 5] {
        assert_eq!(counts(&days[quiet]), [0; 5], "{}", days[quiet]);
    }
    assert_eq!(week["held_today"], 2);
    assert_eq!(week["spam_today"], 1);

    let default = activity(&app, &moderator.token, "").await;
    assert_eq!(default["days"].as_array().map(Vec::len), Some(30));
    let total: i64 = default["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| counts(d).iter().sum::<i64>())
        .sum();
    assert_eq!(total, 7, "the comment from forty days ago is out of it");
    let year = activity(&app, &moderator.token, "?days=365").await;
    assert_eq!(year["days"].as_array().map(Vec::len), Some(365));
    let approved: i64 = year["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["approved"].as_i64().unwrap())
        .sum();
    assert_eq!(approved, 2);
}

#[tokio::test]
async fn activity_refuses_days_out_of_range_and_non_moderators() {
    let app = spawn_app_with("").await;
    let moderator = app.user(Role::Moderator, "range@example.com").await;
    let commenter = app.user(Role::Commenter, "curious@example.com").await;
    for days in ["0", "366", "400"] {
        let body = expect_error(
            app.get_as(
                &format!("/api/v1/moderation/activity?days={days}"),
                &moderator.token,
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        )
        .await;
        assert_eq!(body["error"]["field"], "days");
    }
    for days in ["-1", "many", "99999999999"] {
        expect_error(
            app.get_as(
                &format!("/api/v1/moderation/activity?days={days}"),
                &moderator.token,
            )
            .await,
            StatusCode::BAD_REQUEST,
            "invalid_query",
        )
        .await;
    }
    expect_error(
        app.get_as("/api/v1/moderation/activity", &commenter.token)
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    expect_error(
        app.get("/api/v1/moderation/activity").await,
        StatusCode::UNAUTHORIZED,
        "not_signed_in",
    )
    .await;
}
