//! The learned scorer: moderators' verdicts (one by one or in bulk) teach
//! it, a reversed verdict takes back what was learned, and the stored model
//! and the in-memory one stay equal.

use std::time::Duration;

use moderato::spam::classifier::Model;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{expect_status, id_of, spawn_app, spawn_app_with};
use crate::standins::Reply;

use super::{
    akismet_stand_in, akismet_toml, decide, edit, held_because, inspect, moderator, post_by,
    posted_ids, public_ids, requests_to, scorer, stored_model, strings, wait_for_delivered,
    wait_for_path, HAM_TEXTS, SPAM_PROBE, SPAM_TEXTS,
};

const HAM_PROBE: &str = "Thanks, the article made lifetimes and the borrow checker finally clear";

const IMMATURE: &str = "the model has learned few comments of one kind yet";

#[tokio::test]
async fn moderator_verdicts_teach_the_learned_scorer() {
    let app = spawn_app().await;
    let moderator = moderator(&app).await;

    let before = post_by(&app, "before", "probe@example.com", SPAM_PROBE).await;
    assert_eq!(before["status"], "approved");
    let seen = inspect(&app, &moderator.token, id_of(&before)).await;
    let untaught = scorer(&seen, "learned")["score"].as_f64().unwrap();
    assert!((0.3..=0.7).contains(&untaught), "{untaught}");

    let spam_ids = posted_ids(&app, "teach", &SPAM_TEXTS).await;
    let ham_ids = posted_ids(&app, "teach", &HAM_TEXTS).await;
    for id in &spam_ids {
        assert_eq!(
            decide(&app, &moderator.token, *id, "spam").await["status"],
            "spam"
        );
    }

    // Spam verdicts only: an opinion, but kept within [0.3, 0.7].
    let one_sided = post_by(&app, "one-sided", "probe@example.com", SPAM_PROBE).await;
    assert_eq!(one_sided["status"], "approved");
    let seen = inspect(&app, &moderator.token, id_of(&one_sided)).await;
    let learned = scorer(&seen, "learned");
    let leaning = learned["score"].as_f64().unwrap();
    assert!(leaning > untaught, "{leaning} <= {untaught}");
    assert!(
        leaning <= 0.7,
        "an immature model must not exceed 0.7: {leaning}"
    );
    assert!(strings(&learned["reasons"]).contains(&IMMATURE.to_string()));

    for id in &ham_ids {
        let decided = decide(&app, &moderator.token, *id, "not_spam").await;
        assert_eq!(decided["status"], "approved");
        assert_eq!(decided["verdict"], "ham");
    }

    // Now it has learned enough of both kinds.
    let spammy = post_by(&app, "after", "probe@example.com", SPAM_PROBE).await;
    assert_eq!(
        spammy["status"], "pending",
        "held (or spam, shown as pending)"
    );
    let seen = inspect(&app, &moderator.token, id_of(&spammy)).await;
    assert_ne!(seen["status"], "approved");
    let learned = scorer(&seen, "learned");
    let spam_score = learned["score"].as_f64().unwrap();
    assert!(spam_score > 0.9, "{learned}");
    let reasons = strings(&learned["reasons"]);
    assert!(!reasons.contains(&IMMATURE.to_string()), "{reasons:?}");
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("(spam 0.") || r.contains("(spam 1.")),
        "reasons name the spammy words: {reasons:?}"
    );
    assert!(
        held_because(&seen)
            .iter()
            .any(|h| h.starts_with("combined score")),
        "{seen}"
    );
    assert!(!public_ids(&app, "after").await.contains(&id_of(&spammy)));

    let hammy = post_by(&app, "after", "reader@example.com", HAM_PROBE).await;
    assert_eq!(hammy["status"], "approved");
    let seen = inspect(&app, &moderator.token, id_of(&hammy)).await;
    let learned = scorer(&seen, "learned");
    let ham_score = learned["score"].as_f64().unwrap();
    assert!(ham_score < 0.1, "{learned}");
    assert!(
        strings(&learned["reasons"])
            .iter()
            .any(|r| r.contains("(ham ")),
        "{learned}"
    );

    // The verdicts are in the database too, and the stored model answers
    // exactly as the server's in-memory one did.
    let (model, version) = stored_model(&app).await;
    assert_eq!(model.globals().spam, 6.0);
    assert_eq!(model.globals().ham, 6.0);
    assert!(version >= 12, "{version}");
    assert!((model.score(SPAM_PROBE).probability - spam_score).abs() < 1e-9);
    assert!((model.score(HAM_PROBE).probability - ham_score).abs() < 1e-9);
}

const SEED_TEXTS: [&str; 5] = [
    "Our heirloom tomato seeds grow huge, order the seed pack today",
    "Heirloom tomato seeds for sale, order the seed pack today and save",
    "Grow huge heirloom tomatoes: order our seed pack today",
    "The seed pack of heirloom tomato seeds you need, order today",
    "Order today: heirloom tomato seed pack, grow huge tomatoes",
];

const SEED_PROBE: &str = "Order the heirloom tomato seed pack today, grow huge tomatoes";

#[tokio::test]
async fn a_not_spam_verdict_takes_back_an_earlier_spam_verdict() {
    let app = spawn_app().await;
    let moderator = moderator(&app).await;
    let ham_ids = posted_ids(&app, "learn", &HAM_TEXTS[..5]).await;
    let spam_ids = posted_ids(&app, "learn", &SPAM_TEXTS[..5]).await;
    let seed_ids = posted_ids(&app, "learn", &SEED_TEXTS).await;
    for id in &ham_ids {
        decide(&app, &moderator.token, *id, "not_spam").await;
    }
    for id in spam_ids.iter().chain(&seed_ids) {
        decide(&app, &moderator.token, *id, "spam").await;
    }
    let (model, version) = stored_model(&app).await;
    assert_eq!((model.globals().spam, model.globals().ham), (10.0, 5.0));

    let probe = post_by(&app, "probe-1", "p@example.com", SEED_PROBE).await;
    assert_eq!(probe["status"], "pending");
    let seen = inspect(&app, &moderator.token, id_of(&probe)).await;
    assert!(
        scorer(&seen, "learned")["score"].as_f64().unwrap() > 0.9,
        "{seen}"
    );

    // The same verdict again teaches nothing twice.
    decide(&app, &moderator.token, seed_ids[0], "spam").await;
    let (_, unchanged) = stored_model(&app).await;
    assert_eq!(unchanged, version, "a repeated verdict changed the model");

    // The moderator changes their mind about the seed comments.
    for id in &seed_ids {
        let decided = decide(&app, &moderator.token, *id, "not_spam").await;
        assert_eq!(decided["status"], "approved");
        assert_eq!(decided["verdict"], "ham");
    }
    let (model, _) = stored_model(&app).await;
    assert_eq!(
        (model.globals().spam, model.globals().ham),
        (5.0, 10.0),
        "reversed verdicts move between the classes, not add to both"
    );

    let probe = post_by(&app, "probe-2", "p@example.com", SEED_PROBE).await;
    assert_eq!(probe["status"], "approved");
    let seen = inspect(&app, &moderator.token, id_of(&probe)).await;
    let learned = scorer(&seen, "learned")["score"].as_f64().unwrap();
    assert!(learned < 0.1, "{seen}");
    assert!((model.score(SEED_PROBE).probability - learned).abs() < 1e-9);
    assert!(public_ids(&app, "learn")
        .await
        .iter()
        .all(|id| !spam_ids.contains(id)));
}

#[tokio::test]
async fn bulk_verdicts_teach_and_send_feedback_for_every_comment() {
    let akismet = akismet_stand_in(|_| Reply::ok("false")).await;
    let app = spawn_app_with(&format!(
        "{}\n[[spam.scorers]]\nkind = \"learned\"\n",
        akismet_toml(&akismet.url, "", "")
    ))
    .await;
    let moderator = moderator(&app).await;
    let ids = posted_ids(&app, "bulk", &SPAM_TEXTS[..3]).await;
    let decided = expect_status(
        app.post_json_as(
            "/api/v1/moderation/decisions",
            &json!({"ids": ids, "action": "spam"}),
            &moderator.token,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(decided["decided"].as_array().unwrap().len(), 3, "{decided}");

    let sent = wait_for_path(&akismet, "/1.1/submit-spam", 3, Duration::from_secs(5)).await;
    wait_for_delivered(&app, 3, Duration::from_secs(5)).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(requests_to(&akismet, "/1.1/submit-spam").len(), 3);
    let mut contents: Vec<String> = sent
        .iter()
        .map(|r| r.form()["comment_content"].clone())
        .collect();
    contents.sort();
    let mut expected: Vec<String> = SPAM_TEXTS[..3].iter().map(|t| t.to_string()).collect();
    expected.sort();
    assert_eq!(contents, expected);

    let (model, _) = stored_model(&app).await;
    assert_eq!((model.globals().spam, model.globals().ham), (3.0, 0.0));
    let in_memory = app.state.spam.model.read(Model::globals);
    assert_eq!((in_memory.spam, in_memory.ham), (3.0, 0.0));
}

#[tokio::test]
async fn the_in_memory_model_never_counts_a_verdict_twice() {
    // The refresher reloads the model whenever the stored version moves; a
    // verdict commits (moving it) and only then updates the in-memory copy.
    // A reload landing in between already holds the verdict, which is then
    // added a second time, and the copy's version now matches the database
    // so nothing repairs it until the next change.
    let app = spawn_app_with("[spam]\nrefresh_interval = \"1ms\"").await;
    let moderator = moderator(&app).await;
    let mut texts = Vec::new();
    for i in 0..80 {
        texts.push(format!("spammy words number {i} here and there"));
    }
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let ids = posted_ids(&app, "race", &refs).await;
    for (n, id) in ids.iter().enumerate() {
        decide(&app, &moderator.token, *id, "spam").await;
        // Long enough for many refresh ticks to settle any reload.
        tokio::time::sleep(Duration::from_millis(15)).await;
        let (stored, _) = stored_model(&app).await;
        let in_memory = app.state.spam.model.read(Model::globals);
        assert_eq!(
            (in_memory.spam, in_memory.ham),
            (stored.globals().spam, stored.globals().ham),
            "after verdict {}: the in-memory model disagrees with the database",
            n + 1
        );
    }
}

#[tokio::test]
async fn a_reversed_verdict_on_an_edited_comment_leaves_the_model_exact() {
    // The spammer's trick: post something clean, have it judged, edit the
    // links in. The reversal must take back what was learned (the clean
    // text), and the stored model must stay equal to the in-memory one.
    const CLEAN: &str = "Lovely photos of the mountain trail, thanks for sharing them";
    const EDITED: &str = "Cheap watches at https://watches.example and https://deals.example now";
    let app = spawn_app().await;
    let moderator = moderator(&app).await;
    let created = post_by(&app, "edit-learn", "sly@example.com", CLEAN).await;
    let id = id_of(&created);
    decide(&app, &moderator.token, id, "not_spam").await;
    let token = created["edit_token"].as_str().unwrap();
    let edited = expect_status(edit(&app, id, token, EDITED).await, StatusCode::OK).await;
    assert_eq!(edited["status"], "pending");
    decide(&app, &moderator.token, id, "spam").await;
    // Someone else posts the same text, and it is judged not spam.
    let copy = post_by(&app, "edit-learn", "other@example.com", EDITED).await;
    decide(&app, &moderator.token, id_of(&copy), "not_spam").await;

    let (stored, _) = stored_model(&app).await;
    let in_memory = app.state.spam.model.read(Model::clone);
    let mut expected = Model::empty();
    expected.learn(EDITED, true);
    expected.learn(EDITED, false);
    assert_eq!(
        model_differences(&stored, &in_memory),
        "",
        "the stored model and this instance's copy disagree"
    );
    assert_eq!(
        model_differences(&in_memory, &expected),
        "",
        "the model should hold the edited text once as spam and once as ham, \
         and nothing of the clean text"
    );
}

/// How two models differ, briefly ("" when they are equal).
fn model_differences(left: &Model, right: &Model) -> String {
    let mut out = Vec::new();
    if left.globals() != right.globals() {
        out.push(format!(
            "globals {:?} vs {:?}",
            left.globals(),
            right.globals()
        ));
    }
    let (l, r) = (left.rows(), right.rows());
    let only_left = l.iter().filter(|row| !r.contains(row)).count();
    let only_right = r.iter().filter(|row| !l.contains(row)).count();
    if only_left + only_right > 0 {
        let sample = l.iter().find(|row| !r.contains(row)).map(|row| {
            let other = r.iter().find(|o| o.key == row.key);
            format!(
                "e.g. key {}: ({}, {}) vs {:?}",
                row.key,
                row.a,
                row.b,
                other.map(|o| (o.a, o.b))
            )
        });
        out.push(format!(
            "{only_left} rows only on the left, {only_right} only on the right; {}",
            sample.unwrap_or_default()
        ));
    }
    out.join("; ")
}
