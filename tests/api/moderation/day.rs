//! A moderator's day from start to finish: newcomers held, approved in bulk,
//! a verdict corrected (and the learned scorer with it), a spammer banned by
//! address range; the audit log tells it backwards and a webhook receiver
//! hears of every step exactly once.

use std::time::Duration;

use moderato::domain::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{decided, expect_error, expect_status, id_of, spawn_app_with};
use crate::standins::{Reply, StandIn};

use super::{
    actions, ban, bulk, decide, detail, guest, guest_from, ids, log, post_guest, queue, queue_ids,
    returning_guest, sorted, thread_ids, webhooks_to, Deliveries, FAST_OUTBOX, PROXIED,
};

/// The learned scorer's score in a moderator's view of a comment.
fn learned_score(comment: &Value) -> f64 {
    comment["report"]["scorers"]
        .as_array()
        .expect("report.scorers")
        .iter()
        .find(|s| s["kind"] == "learned")
        .and_then(|s| s["score"].as_f64())
        .unwrap_or_else(|| panic!("no learned score in {comment}"))
}

#[tokio::test]
async fn a_moderators_day_is_logged_step_by_step_and_announced_once_per_event() {
    let hook = StandIn::start(Reply::ok("thanks")).await;
    let app = spawn_app_with(&format!(
        "{PROXIED}[moderation]\nmode = \"first_time\"\n{FAST_OUTBOX}{}",
        webhooks_to(&hook.url, &[])
    ))
    .await;
    let moderator = app.user(Role::Moderator, "mia@example.com").await;
    let token = moderator.token.as_str();
    let mut deliveries = Deliveries::new();

    // Morning: three newcomers, one of them a link spammer from 203.0.113.7.
    let alice_who = ("Alice", "alice@example.com");
    let alice_first = guest(
        &app,
        "day",
        alice_who,
        "What a lovely write-up, thank you for sharing it.",
    )
    .await;
    let alice = alice_first.clone();
    let spammer = guest_from(
        &app,
        "day",
        ("Cheap Pills", "pills@spam.test"),
        "Cheap pills at https://pills.example/a and https://pills.example/b and www.pills-shop.xyz",
        "203.0.113.7",
    )
    .await;
    let carol = guest(
        &app,
        "day",
        ("Carol", "carol@example.com"),
        "I disagree with the second point, but it is well argued.",
    )
    .await;
    let (alice, spammer, carol) = (id_of(&alice), id_of(&spammer), id_of(&carol));
    deliveries
        .expect(
            &hook,
            &[
                ("comment.created", alice),
                ("comment.held", alice),
                ("comment.created", spammer),
                ("comment.held", spammer),
                ("comment.created", carol),
                ("comment.held", carol),
            ],
        )
        .await;
    assert!(thread_ids(&app.thread("day").await).is_empty());

    // The pending queue shows them, newest first, with why each was held.
    let pending = queue(&app, token, "").await;
    assert_eq!(ids(&pending["comments"]), vec![carol, spammer, alice]);
    let held = &pending["comments"][1];
    assert_eq!(held["status"], "pending");
    assert_eq!(held["ip"], "203.0.113.7");
    assert_eq!(held["author"]["email"], "pills@spam.test");
    assert_eq!(held["author"]["pending"], 1);
    assert_eq!(held["article"]["key"], "day");
    let reasons: Vec<String> = serde_json::from_value(held["held_because"].clone()).unwrap();
    assert!(
        reasons.iter().any(|r| r.starts_with("links")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("first_time")),
        "{reasons:?}"
    );
    let newcomer: Vec<String> =
        serde_json::from_value(pending["comments"][2]["held_because"].clone()).unwrap();
    assert_eq!(newcomer.len(), 1, "{newcomer:?}");
    assert!(newcomer[0].contains("first_time"), "{newcomer:?}");

    // The two genuine newcomers are approved together.
    let approved = expect_status(
        bulk(
            &app,
            token,
            &json!({"ids": [carol, alice], "action": "approve", "reason": "welcome"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let outcome = approved["decided"].as_array().unwrap();
    assert_eq!(
        sorted(ids(&approved["decided"])),
        sorted(vec![alice, carol])
    );
    assert!(outcome.iter().all(|d| d["status"] == "approved"));
    deliveries
        .expect(
            &hook,
            &[("comment.approved", alice), ("comment.approved", carol)],
        )
        .await;
    assert_eq!(
        sorted(thread_ids(&app.thread("day").await)),
        sorted(vec![alice, carol])
    );
    assert_eq!(queue_ids(&app, token, "").await, vec![spammer]);

    // Alice has been approved once: her next comment (with the author
    // token her first one got) is published at once.
    let again = returning_guest(
        &app,
        "day",
        alice_who,
        "Coming back for part two!",
        &alice_first,
    )
    .await;
    assert_eq!(again["status"], "approved");
    let again = id_of(&again);
    deliveries
        .expect(&hook, &[("comment.created", again)])
        .await;

    // A cook's comment is marked spam by mistake, then corrected.
    let recipe = "The pasta recipe with fresh basil and garlic was delicious";
    let dave = id_of(&guest(&app, "day", ("Dave", "dave@example.com"), recipe).await);
    deliveries
        .expect(&hook, &[("comment.created", dave), ("comment.held", dave)])
        .await;
    let marked = decided(&app, token, dave, "spam").await;
    assert_eq!(marked["status"], "spam");
    assert_eq!(marked["verdict"], "spam");
    deliveries.expect(&hook, &[("comment.spam", dave)]).await;

    let similar = "Fresh basil and garlic in a pasta recipe: delicious";
    let erin = id_of(&guest(&app, "day", ("Erin", "erin@example.com"), similar).await);
    deliveries
        .expect(&hook, &[("comment.created", erin), ("comment.held", erin)])
        .await;
    let before = learned_score(&detail(&app, token, erin).await["comment"]);

    let corrected = expect_status(
        decide(
            &app,
            token,
            dave,
            &json!({"action": "not_spam", "version": marked["version"]}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(corrected["status"], "approved");
    assert_eq!(corrected["verdict"], "ham");
    deliveries
        .expect(&hook, &[("comment.approved", dave)])
        .await;
    assert!(thread_ids(&app.thread("day").await).contains(&dave));

    let frank = id_of(&guest(&app, "day", ("Frank", "frank@example.com"), similar).await);
    deliveries
        .expect(
            &hook,
            &[("comment.created", frank), ("comment.held", frank)],
        )
        .await;
    let after = learned_score(&detail(&app, token, frank).await["comment"]);
    assert!(
        after < before,
        "the correction should make similar text look less like spam: {before} -> {after}"
    );
    assert!(before > 0.5 && after < 0.5, "{before} -> {after}");

    // The spammer: spam, then banned by address range.
    let spam = expect_status(
        decide(
            &app,
            token,
            spammer,
            &json!({"action": "spam", "reason": "pill spam"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(spam["status"], "spam");
    deliveries.expect(&hook, &[("comment.spam", spammer)]).await;
    let banned = ban(
        &app,
        token,
        &json!({"kind": "ip", "value": "203.0.113.0/24", "reason": "pill spammer"}),
    )
    .await;
    assert_eq!(banned["ban"]["kind"], "ip");
    assert_eq!(banned["ban"]["value"], "203.0.113.0/24");
    assert_eq!(banned["ban"]["active"], true);
    assert_eq!(banned["ban"]["created_by"], moderator.id);
    assert_eq!(banned["comments_trashed"], 0);
    let ban_id = id_of(&banned["ban"]);
    deliveries
        .expect(&hook, &[("commenter.banned", ban_id)])
        .await;

    let refused = post_guest(
        &app,
        "day",
        ("Totally New", "fresh@spam.test"),
        "Pills, again",
        Some("203.0.113.99"),
    )
    .await;
    expect_error(refused, StatusCode::FORBIDDEN, "banned").await;
    assert_eq!(queue_ids(&app, token, "").await, vec![frank, erin]);
    let spam_queue = queue(&app, token, "?status=spam").await;
    assert_eq!(ids(&spam_queue["comments"]), vec![spammer]);
    assert_eq!(spam_queue["comments"][0]["author"]["banned"], true);
    assert_eq!(spam_queue["comments"][0]["author"]["spam"], 1);

    // The audit log tells the day backwards.
    let day = log(&app, token, &format!("?moderator={}", moderator.id)).await;
    assert_eq!(
        actions(&day),
        vec![
            ("ban".to_string(), None),
            ("spam".to_string(), Some(spammer)),
            ("not_spam".to_string(), Some(dave)),
            ("spam".to_string(), Some(dave)),
            ("approve".to_string(), Some(carol)),
            ("approve".to_string(), Some(alice)),
        ]
    );
    let entries = day["entries"].as_array().unwrap();
    assert_eq!(entries[0]["subject"], "ip:203.0.113.0/24");
    assert_eq!(entries[0]["reason"], "pill spammer");
    assert_eq!(entries[1]["reason"], "pill spam");
    assert_eq!(entries[1]["from_status"], "pending");
    assert_eq!(entries[1]["to_status"], "spam");
    assert_eq!(entries[2]["from_status"], "spam");
    assert_eq!(entries[2]["to_status"], "approved");
    assert_eq!(entries[5]["reason"], "welcome");
    assert!(entries
        .iter()
        .all(|e| e["moderator_id"] == moderator.id && e["created_at"].is_string()));
    let history = detail(&app, token, dave).await["history"].clone();
    let history: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(history, vec!["spam", "not_spam"]);

    // Every event arrived exactly once, and nothing else did.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let all = hook.requests();
    assert_eq!(
        all.len(),
        deliveries.consumed,
        "unexpected extra deliveries"
    );
    assert_eq!(deliveries.ids.len(), all.len(), "a delivery was repeated");
    let names: Vec<&str> = deliveries.events.iter().map(|(e, _)| e.as_str()).collect();
    let count = |name: &str| names.iter().filter(|n| **n == name).count();
    assert_eq!(count("comment.created"), 7);
    assert_eq!(count("comment.held"), 6);
    assert_eq!(count("comment.approved"), 3);
    assert_eq!(count("comment.spam"), 2);
    assert_eq!(count("commenter.banned"), 1);
    assert_eq!(names.len(), 19);
    assert_eq!(*names.last().unwrap(), "commenter.banned");
}
