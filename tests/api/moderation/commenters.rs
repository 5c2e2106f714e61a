//! The commenters list (accounts and guests with their record, found by
//! name or email), an account's last seen, and trusting a commenter.

use moderato::domain::Role;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{decided, expect_status, id_of, spawn_app, spawn_app_with};

use super::{account_comment, ban, commenters, guest, log, patch_user};

#[tokio::test]
async fn commenters_are_listed_with_their_record_and_found_by_name_or_email() {
    let app = spawn_app().await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let token = moderator.token.as_str();
    let member = app.user(Role::Commenter, "member@example.com").await;
    account_comment(&app, "people", "first words", &member.token).await;
    let trashed = id_of(&account_comment(&app, "people", "second words", &member.token).await);
    decided(&app, token, trashed, "trash").await;
    let gail = ("Gail", "Gail@Example.com");
    let g1 = guest(&app, "people", gail, "hello from gail").await;
    let g2 = id_of(&guest(&app, "people", gail, "buy my stuff").await);
    decided(&app, token, g2, "spam").await;

    let everyone = commenters(&app, token, "").await;
    let account = everyone
        .iter()
        .find(|c| c["account"]["id"] == member.id)
        .expect("the member is listed");
    assert_eq!(account["kind"], "account");
    assert_eq!(account["email"], "member@example.com");
    assert_eq!(account["account"]["role"], "commenter");
    assert_eq!(account["account"]["trusted"], false);
    assert_eq!(account["approved"], 1);
    assert_eq!(account["trash"], 1);
    assert_eq!(account["pending"], 0);
    assert_eq!(account["spam"], 0);
    assert!(account["first_seen"].is_string());
    assert_eq!(account["banned"], false);
    let staff = everyone
        .iter()
        .find(|c| c["account"]["id"] == moderator.id)
        .expect("accounts without comments are listed too");
    assert_eq!(staff["approved"], 0);
    assert!(staff["first_seen"].is_null());

    let guest_entry = everyone
        .iter()
        .find(|c| c["kind"] == "guest")
        .expect("the guest is listed");
    assert_eq!(guest_entry["email"], "gail@example.com");
    assert_eq!(guest_entry["name"], "Gail");
    assert!(guest_entry["account"].is_null());
    assert_eq!(guest_entry["approved"], 1);
    assert_eq!(guest_entry["spam"], 1);
    assert_eq!(guest_entry["pending"], 0);
    assert_eq!(guest_entry["first_seen"], g1["created_at"]);
    let first = guest_entry["first_seen"].as_str().unwrap();
    let last = guest_entry["last_seen"].as_str().unwrap();
    assert!(last >= first, "{first} .. {last}");
    assert_eq!(guest_entry["banned"], false);
    assert_eq!(
        everyone.iter().filter(|c| c["kind"] == "guest").count(),
        1,
        "one guest, however many comments"
    );

    let found = commenters(&app, token, "?q=GAIL").await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["email"], "gail@example.com");
    let found = commenters(&app, token, "?q=member%40").await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["account"]["id"], member.id);
    assert!(commenters(&app, token, "?q=nobody+at+all").await.is_empty());
    assert!(
        commenters(&app, token, "?q=%25").await.is_empty(),
        "% is literal"
    );

    ban(
        &app,
        token,
        &json!({"kind": "email", "value": "gail@example.com"}),
    )
    .await;
    assert_eq!(commenters(&app, token, "?q=gail").await[0]["banned"], true);
}

#[tokio::test]
async fn an_accounts_last_seen_is_its_latest_comment() {
    let app = spawn_app().await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let member = app.user(Role::Commenter, "member@example.com").await;
    let first = account_comment(&app, "seen", "first", &member.token).await;
    let last = account_comment(&app, "seen", "last", &member.token).await;
    let found = commenters(&app, &moderator.token, "?q=member%40").await;
    assert_eq!(found[0]["first_seen"], first["created_at"]);
    assert_eq!(found[0]["last_seen"], last["created_at"]);
}

#[tokio::test]
async fn trusting_a_commenter_lets_them_skip_first_time_holding() {
    let app = spawn_app_with("[moderation]\nmode = \"first_time\"").await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let token = moderator.token.as_str();
    let alice = app.user(Role::Commenter, "alice@example.com").await;
    let bob = app.user(Role::Commenter, "bob@example.com").await;

    assert_eq!(
        account_comment(&app, "trust", "hello", &alice.token).await["status"],
        "pending"
    );
    let trusted = expect_status(
        patch_user(&app, token, alice.id, &json!({"trusted": true})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(trusted["id"], alice.id);
    assert_eq!(trusted["trusted"], true);
    assert_eq!(trusted["role"], "commenter");
    assert_eq!(
        account_comment(&app, "trust", "hello again", &alice.token).await["status"],
        "approved"
    );

    // Trust taken back before the first comment: held as any newcomer.
    patch_user(&app, token, bob.id, &json!({"trusted": true})).await;
    let untrusted = expect_status(
        patch_user(&app, token, bob.id, &json!({"trusted": false})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(untrusted["trusted"], false);
    assert_eq!(
        account_comment(&app, "trust", "bob here", &bob.token).await["status"],
        "pending"
    );
    // Setting what is already so changes (and logs) nothing.
    expect_status(
        patch_user(&app, token, bob.id, &json!({"trusted": false})).await,
        StatusCode::OK,
    )
    .await;

    let entries = log(&app, token, "").await;
    let entries: Vec<(String, String)> = entries["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_string(),
                e["subject"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        entries,
        vec![
            ("untrust".to_string(), format!("user:{}", bob.id)),
            ("trust".to_string(), format!("user:{}", bob.id)),
            ("trust".to_string(), format!("user:{}", alice.id)),
        ]
    );
}
