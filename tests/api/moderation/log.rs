//! The moderation log: filtered by moderator, by comment and by action,
//! paged back in time; a moderator's deletion is logged, an author's own is
//! not.

use moderato::domain::Role;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{decided, expect_error, expect_status, id_of, spawn_app};

use super::{actions, decide, detail, log, send};

#[tokio::test]
async fn the_log_filters_by_moderator_and_comment_and_pages_back_in_time() {
    let app = spawn_app().await;
    let mod1 = app.user(Role::Moderator, "one@example.com").await;
    let mod2 = app.user(Role::Moderator, "two@example.com").await;
    let c = id_of(&app.guest_comment("log", "parent").await);
    let r = id_of(&app.guest_reply("log", c, "reply").await);
    let own = app.guest_comment("log", "regrets").await;

    decided(&app, &mod1.token, c, "trash").await;
    decided(&app, &mod2.token, c, "restore").await;
    decided(&app, &mod1.token, c, "spam").await;
    // A moderator deleting someone's comment is logged; an author deleting
    // their own is not.
    expect_status(
        send(
            &app,
            Method::DELETE,
            &format!("/api/v1/comments/{r}"),
            Some(&mod2.token),
            None,
        )
        .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    expect_status(
        app.request(Method::DELETE, &format!("/api/v1/comments/{}", id_of(&own)))
            .header("X-Edit-Token", own["edit_token"].as_str().unwrap())
            .send()
            .await
            .unwrap(),
        StatusCode::NO_CONTENT,
    )
    .await;

    let everything = log(&app, &mod1.token, "").await;
    assert_eq!(
        actions(&everything),
        vec![
            ("delete".to_string(), Some(r)),
            ("spam".to_string(), Some(c)),
            ("restore".to_string(), Some(c)),
            ("trash".to_string(), Some(c)),
        ]
    );
    assert!(everything["next_cursor"].is_null());
    let delete = &everything["entries"][0];
    assert_eq!(delete["moderator_id"], mod2.id);
    assert_eq!(delete["from_status"], "approved");
    assert_eq!(delete["to_status"], "deleted");
    assert_eq!(
        actions(&log(&app, &mod1.token, &format!("?moderator={}", mod1.id)).await),
        vec![
            ("spam".to_string(), Some(c)),
            ("trash".to_string(), Some(c))
        ]
    );
    assert_eq!(
        actions(&log(&app, &mod1.token, &format!("?comment={r}")).await),
        vec![("delete".to_string(), Some(r))]
    );
    assert_eq!(
        actions(
            &log(
                &app,
                &mod1.token,
                &format!("?moderator={}&comment={c}", mod2.id)
            )
            .await
        ),
        vec![("restore".to_string(), Some(c))]
    );

    // Pages of one, newest first, each entry once.
    let mut paged = Vec::new();
    let mut query = "?limit=1".to_string();
    loop {
        let page = log(&app, &mod2.token, &query).await;
        assert_eq!(page["entries"].as_array().unwrap().len(), 1);
        paged.extend(actions(&page));
        match page["next_cursor"].as_str() {
            Some(next) => query = format!("?limit=1&cursor={next}"),
            None => break,
        }
        assert!(paged.len() < 10);
    }
    assert_eq!(paged, actions(&everything));

    // Deleted comments are past moderating.
    let gone = detail(&app, &mod1.token, r).await;
    assert_eq!(gone["comment"]["status"], "deleted");
    expect_error(
        decide(&app, &mod1.token, r, &json!({"action": "approve"})).await,
        StatusCode::CONFLICT,
        "not_actionable",
    )
    .await;
}

#[tokio::test]
async fn the_log_filters_by_action_and_refuses_an_unknown_one() {
    let app = spawn_app().await;
    let moderator = app.user(Role::Moderator, "actions@example.com").await;
    let a = id_of(&app.guest_comment("log-actions", "first").await);
    let b = id_of(&app.guest_comment("log-actions", "second").await);
    decided(&app, &moderator.token, a, "trash").await;
    decided(&app, &moderator.token, b, "trash").await;
    decided(&app, &moderator.token, a, "restore").await;
    decided(&app, &moderator.token, b, "spam").await;

    let trashed = log(&app, &moderator.token, "?action=trash").await;
    assert_eq!(
        actions(&trashed),
        vec![
            ("trash".to_string(), Some(b)),
            ("trash".to_string(), Some(a))
        ]
    );
    assert_eq!(
        actions(&log(&app, &moderator.token, "?action=spam").await),
        vec![("spam".to_string(), Some(b))]
    );
    assert_eq!(
        actions(
            &log(
                &app,
                &moderator.token,
                &format!("?action=trash&comment={a}")
            )
            .await
        ),
        vec![("trash".to_string(), Some(a))]
    );
    assert!(log(&app, &moderator.token, "?action=ban").await["entries"]
        .as_array()
        .expect("entries")
        .is_empty());

    // Pages keep the filter: the cursor goes on from where the page ended.
    let first = log(&app, &moderator.token, "?action=trash&limit=1").await;
    assert_eq!(actions(&first), vec![("trash".to_string(), Some(b))]);
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let second = log(
        &app,
        &moderator.token,
        &format!("?action=trash&limit=1&cursor={cursor}"),
    )
    .await;
    assert_eq!(actions(&second), vec![("trash".to_string(), Some(a))]);
    assert!(second["next_cursor"].is_null());

    for unknown in ["publish", "Trash", ""] {
        expect_error(
            app.get_as(
                &format!("/api/v1/moderation/log?action={unknown}"),
                &moderator.token,
            )
            .await,
            StatusCode::BAD_REQUEST,
            "invalid_query",
        )
        .await;
    }
}
