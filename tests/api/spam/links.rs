//! The links scorer: a comment with too many links (the author's URL
//! counting as one) is held with the reason.

use serde_json::json;

use crate::helpers::{id_of, spawn_app};

use super::{
    held_because, inspect, moderator, post, post_by, public_ids, queue_ids, scorer, strings,
};

#[tokio::test]
async fn a_comment_with_three_links_is_held_with_the_reason() {
    let app = spawn_app().await;
    let moderator = moderator(&app).await;

    let one = post_by(
        &app,
        "links",
        "one@example.com",
        "my notes are at https://notes.example/rust",
    )
    .await;
    assert_eq!(one["status"], "approved", "one link is fine: {one}");

    let three = post_by(
        &app,
        "links",
        "three@example.com",
        "see https://a.example/x and http://b.example and www.c.example for more",
    )
    .await;
    assert_eq!(three["status"], "pending", "{three}");
    assert_eq!(public_ids(&app, "links").await, vec![id_of(&one)]);

    let seen = inspect(&app, &moderator.token, id_of(&three)).await;
    assert_eq!(seen["status"], "pending");
    let held = held_because(&seen);
    assert!(
        held.contains(&"links: 3 links (held at 2)".to_string()),
        "{held:?}"
    );
    let links = scorer(&seen, "links");
    assert_eq!(strings(&links["reasons"]), vec!["3 links (held at 2)"]);
    assert_eq!(links["rule"], "hold");
    assert!(queue_ids(&app, &moderator.token, "pending")
        .await
        .contains(&id_of(&three)));
}

#[tokio::test]
async fn the_author_url_counts_as_a_link() {
    let app = spawn_app().await;
    let moderator = moderator(&app).await;
    let created = post(
        &app,
        "links",
        json!({"body": "read my post at https://me.example/post",
               "author": {"name": "Linky", "email": "l@example.com", "url": "https://me.example"}}),
    )
    .await;
    assert_eq!(created["status"], "pending");
    let seen = inspect(&app, &moderator.token, id_of(&created)).await;
    assert_eq!(held_because(&seen), vec!["links: 2 links (held at 2)"]);
}
