//! The `first_time` moderation mode: a guest is published once a moderator
//! approved them, and that trust cannot be borrowed with their email.

use moderato::domain::Role;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{decided, expect_status, id_of, spawn_app_with};

use super::{guest, guest_from, returning_guest, PROXIED};

#[tokio::test]
async fn first_time_mode_publishes_a_guest_once_a_moderator_approved_them() {
    let app = spawn_app_with("[moderation]\nmode = \"first_time\"").await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let who = ("Newbie", "newbie@example.com");
    let first = guest(&app, "ft", who, "hi all").await;
    assert_eq!(first["status"], "pending");
    let still = returning_guest(&app, "ft", who, "anyone?", &first).await;
    assert_eq!(still["status"], "pending", "held until one is approved");
    decided(&app, &moderator.token, id_of(&first), "approve").await;
    let next = returning_guest(
        &app,
        "ft",
        ("Newbie", "NEWBIE@example.com"),
        "thanks!",
        &first,
    )
    .await;
    assert_eq!(next["status"], "approved");
    let stranger = guest(&app, "ft", ("Other", "other@example.com"), "me too").await;
    assert_eq!(stranger["status"], "pending");
}

#[tokio::test]
async fn first_time_trust_cannot_be_borrowed_with_an_approved_guests_email() {
    let app = spawn_app_with(&format!("{PROXIED}[moderation]\nmode = \"first_time\"")).await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let regular = ("Regular", "regular@example.com");
    let first = guest_from(&app, "borrow", regular, "first words", "198.51.100.1").await;
    decided(&app, &moderator.token, id_of(&first), "approve").await;

    // A stranger who knows the address, under another name and address.
    let borrowed = ("Not Regular", "regular@example.com");
    let posing = guest_from(&app, "borrow", borrowed, "buy my stuff", "203.0.113.50").await;
    assert_eq!(posing["status"], "pending");
    // Even under the same name, and with a made-up or someone else's token.
    let real = first["author_token"].as_str().unwrap();
    let tampered = format!(
        "{}{}",
        &real[..real.len() - 1],
        if real.ends_with('x') { 'y' } else { 'x' }
    );
    for token in ["made-up", tampered.as_str()] {
        let response = app
            .request(Method::POST, "/api/v1/articles/borrow/comments")
            .header("X-Forwarded-For", "203.0.113.50")
            .json(&json!({"body": format!("still me {token}"),
                          "author": {"name": "Regular", "email": "regular@example.com", "token": token}}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            expect_status(response, StatusCode::CREATED).await["status"],
            "pending"
        );
    }
    let other = guest(&app, "borrow", ("Other", "other@example.com"), "hello").await;
    let with_wrong_token = app
        .post_json(
            "/api/v1/articles/borrow/comments",
            &json!({"body": "mixing tokens", "author": {"name": "Regular",
                    "email": "regular@example.com", "token": other["author_token"]}}),
        )
        .await;
    assert_eq!(
        expect_status(with_wrong_token, StatusCode::CREATED).await["status"],
        "pending"
    );
    // The real one, from anywhere, with their token.
    let back = returning_guest(&app, "borrow", regular, "back again", &first).await;
    assert_eq!(back["status"], "approved");
    // A thread shows the same avatar key for both, and no token.
    let thread = app.thread("borrow").await;
    assert!(!thread
        .to_string()
        .contains(first["author_token"].as_str().unwrap()));
}
