//! The moderation queue: filters (status, article, author, literal text),
//! search (case beyond ASCII, edits, short and quoted text, past the scan
//! window), cursor pagination in both orders, one comment's detail with its
//! parent and history, and the summary's counts.

use moderato::domain::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{decided, expect_error, expect_status, id_of, spawn_app_with};

use super::{
    account_comment, ban, commenters, detail, guest, guest_from, ids, queue, queue_ids, PROXIED,
};

#[tokio::test]
async fn the_queue_filters_by_status_article_author_and_literal_text() {
    let app = spawn_app_with(&format!("{PROXIED}[moderation]\nmode = \"all\"\n")).await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let token = moderator.token.as_str();
    let member = app.user(Role::Commenter, "member@example.com").await;
    let g1 = id_of(
        &guest_from(
            &app,
            "alpha",
            ("Ann", "Ann@Example.com"),
            "I am 100% sure about this",
            "198.51.100.1",
        )
        .await,
    );
    let g2 = id_of(
        &expect_status(
            app.request(Method::POST, "/api/v1/articles/beta/comments")
                .header("X-Forwarded-For", "198.51.100.1")
                .json(&json!({"body": "A second thought from me",
                    "author": {"name": "Ann", "email": "ann@example.com", "url": "https://Ann.example/blog"}}))
                .send()
                .await
                .unwrap(),
            StatusCode::CREATED,
        )
        .await,
    );
    let g3 = id_of(
        &guest_from(
            &app,
            "alpha",
            ("Bob_Builder", "bob@example.com"),
            "Agreed, 1000 percent",
            "198.51.100.2",
        )
        .await,
    );
    let a1 = id_of(&account_comment(&app, "alpha", "bob is my uncle", &member.token).await);

    assert_eq!(queue_ids(&app, token, "").await, vec![a1, g3, g2, g1]);
    assert_eq!(
        queue_ids(&app, token, "?status=pending&sort=oldest").await,
        vec![g1, g2, g3, a1]
    );
    assert_eq!(
        queue_ids(&app, token, "?article=alpha").await,
        vec![a1, g3, g1]
    );
    assert!(queue_ids(&app, token, "?article=nowhere").await.is_empty());
    assert_eq!(
        queue_ids(&app, token, "?author=ANN%40example.com").await,
        vec![g2, g1]
    );
    assert_eq!(
        queue_ids(&app, token, "?author=198.51.100.2").await,
        vec![g3]
    );
    assert_eq!(
        queue_ids(&app, token, &format!("?author={}", member.id)).await,
        vec![a1]
    );
    assert_eq!(
        queue_ids(&app, token, &format!("?author=user:{}", member.id)).await,
        vec![a1]
    );
    assert_eq!(
        queue_ids(&app, token, "?article=alpha&author=ann%40example.com").await,
        vec![g1]
    );
    // q: case-insensitive, in body, name, email and URL; % and _ literal.
    assert_eq!(queue_ids(&app, token, "?q=100%25").await, vec![g1]);
    assert_eq!(queue_ids(&app, token, "?q=b_b").await, vec![g3]);
    assert_eq!(queue_ids(&app, token, "?q=BOB").await, vec![a1, g3]);
    assert_eq!(queue_ids(&app, token, "?q=ann.EXAMPLE").await, vec![g2]);
    assert_eq!(queue_ids(&app, token, "?q=bob%40").await, vec![g3]);
    assert_eq!(queue_ids(&app, token, "?q=SECOND+THOUGHT").await, vec![g2]);
    assert!(queue_ids(&app, token, "?q=nothing+like+it")
        .await
        .is_empty());

    // Statuses are separate queues.
    assert!(queue_ids(&app, token, "?status=approved").await.is_empty());
    decided(&app, token, g3, "approve").await;
    decided(&app, token, g2, "trash").await;
    assert_eq!(queue_ids(&app, token, "?status=approved").await, vec![g3]);
    assert_eq!(queue_ids(&app, token, "?status=trash").await, vec![g2]);
    assert_eq!(
        queue_ids(&app, token, "?status=pending").await,
        vec![a1, g1]
    );
    assert!(queue_ids(&app, token, "?status=spam").await.is_empty());

    // Each item carries its author's record.
    let page = queue(&app, token, "?author=ann%40example.com").await;
    let item = &page["comments"][0];
    assert_eq!(item["id"], g1);
    assert_eq!(item["ip"], "198.51.100.1");
    assert_eq!(item["author"]["email"], "ann@example.com");
    assert_eq!(item["author"]["pending"], 1);
    assert_eq!(item["author"]["trash"], 1);
    assert_eq!(item["author"]["approved"], 0);
    assert_eq!(item["author"]["spam"], 0);
    assert_eq!(item["author"]["banned"], false);
    let first = detail(&app, token, g1).await;
    assert_eq!(item["author"]["first_seen"], first["comment"]["created_at"]);
    let mine = &queue(&app, token, "?article=alpha").await["comments"][0];
    assert_eq!(mine["id"], a1);
    assert_eq!(mine["author"]["user_id"], member.id);
    assert_eq!(mine["author"]["pending"], 1);

    ban(
        &app,
        token,
        &json!({"kind": "email", "value": "ANN@example.com"}),
    )
    .await;
    let page = queue(&app, token, "?author=ann%40example.com").await;
    assert_eq!(page["comments"][0]["author"]["banned"], true);
    let others = queue(&app, token, "?author=198.51.100.2&status=approved").await;
    assert_eq!(others["comments"][0]["author"]["banned"], false);
}

#[tokio::test]
async fn queue_pages_follow_the_cursor_without_repeats_in_both_orders() {
    let app = spawn_app_with("[moderation]\nmode = \"all\"").await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let token = moderator.token.as_str();
    let mut all = Vec::new();
    for n in 0..7 {
        all.push(id_of(
            &app.guest_comment("paged", &format!("comment number {n}"))
                .await,
        ));
    }
    app.guest_comment("elsewhere", "not on this article").await;

    for (sort, expected) in [
        ("newest", all.iter().rev().copied().collect::<Vec<_>>()),
        ("oldest", all.clone()),
    ] {
        let mut seen: Vec<i64> = Vec::new();
        let mut pages = 0;
        let mut cursor: Option<String> = None;
        loop {
            let query = match &cursor {
                Some(c) => format!("?article=paged&sort={sort}&limit=3&cursor={c}"),
                None => format!("?article=paged&sort={sort}&limit=3"),
            };
            let page = queue(&app, token, &query).await;
            let page_ids = ids(&page["comments"]);
            assert!(page_ids.len() <= 3);
            seen.extend(page_ids);
            pages += 1;
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_string()),
                None => break,
            }
            assert!(pages < 10, "pagination does not end");
        }
        assert_eq!(pages, 3, "{sort}");
        assert_eq!(seen, expected, "{sort}: every comment once, in order");
    }
    // A page that ends exactly at the last comment says there is no more.
    let page = queue(&app, token, "?article=paged&limit=7").await;
    assert_eq!(ids(&page["comments"]).len(), 7);
    assert!(page["next_cursor"].is_null());
    let first = queue(&app, token, "?limit=1").await;
    assert_eq!(ids(&first["comments"]).len(), 1);
    assert!(first["next_cursor"].is_string());
}

#[tokio::test]
async fn one_comment_comes_with_its_parent_and_history_and_the_summary_counts_everything() {
    let app = spawn_app_with("[moderation]\nmode = \"all\"").await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let token = moderator.token.as_str();
    let admin = app.user(Role::Admin, "root@example.com").await;

    // busy: 4 comments, 1 approved; quiet: 2, 1 spam; calm: 2, 1 trashed, 1
    // deleted by its author.
    let busy: Vec<i64> = {
        let mut v = Vec::new();
        for n in 0..4 {
            v.push(id_of(
                &app.guest_comment("busy", &format!("busy {n}")).await,
            ));
        }
        v
    };
    let quiet_a = id_of(&app.guest_comment("quiet", "quiet a").await);
    app.guest_comment("quiet", "quiet b").await;
    let calm_a = id_of(&app.guest_comment("calm", "calm a").await);
    let calm_b = app.guest_comment("calm", "calm b").await;
    decided(&app, token, busy[0], "approve").await;
    decided(&app, token, quiet_a, "spam").await;
    decided(&app, &admin.token, calm_a, "trash").await;
    expect_status(
        app.request(
            Method::DELETE,
            &format!("/api/v1/comments/{}", id_of(&calm_b)),
        )
        .header("X-Edit-Token", calm_b["edit_token"].as_str().unwrap())
        .send()
        .await
        .unwrap(),
        StatusCode::NO_CONTENT,
    )
    .await;

    let summary = expect_status(
        app.get_as("/api/v1/moderation/summary", token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        summary["overall"],
        json!({"pending": 4, "approved": 1, "spam": 1, "trash": 1, "deleted": 1})
    );
    let keys: Vec<&str> = summary["articles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["article"]["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, vec!["busy", "quiet", "calm"], "most pending first");
    assert_eq!(
        summary["articles"][0]["counts"],
        json!({"pending": 3, "approved": 1, "spam": 0, "trash": 0, "deleted": 0})
    );
    assert_eq!(
        summary["articles"][2]["counts"],
        json!({"pending": 0, "approved": 0, "spam": 0, "trash": 1, "deleted": 1})
    );

    // A reply's detail: its parent as the public sees it, and its history.
    let reply = id_of(&app.guest_reply("busy", busy[0], "a reply").await);
    decided(&app, token, reply, "trash").await;
    decided(&app, &admin.token, reply, "restore").await;
    let seen = detail(&app, token, reply).await;
    assert_eq!(seen["comment"]["id"], reply);
    assert_eq!(seen["comment"]["parent_id"], busy[0]);
    assert_eq!(seen["comment"]["status"], "pending");
    assert_eq!(seen["comment"]["author"]["email"], "replier@example.com");
    assert_eq!(seen["parent"]["id"], busy[0]);
    assert_eq!(seen["parent"]["body"], "busy 0");
    assert!(
        seen["parent"].get("email").is_none() && !seen["parent"].to_string().contains("guest@"),
        "the parent is shown as the public sees it: {}",
        seen["parent"]
    );
    let history = seen["history"].as_array().unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["action"], "trash");
    assert_eq!(history[0]["moderator_id"], moderator.id);
    assert_eq!(history[1]["action"], "restore");
    assert_eq!(history[1]["moderator_id"], admin.id);
    assert_eq!(history[1]["from_status"], "trash");
    assert_eq!(history[1]["to_status"], "pending");
    let top = detail(&app, token, busy[1]).await;
    assert!(top["parent"].is_null());
    assert!(top["history"].as_array().unwrap().is_empty());
    expect_error(
        app.get_as("/api/v1/moderation/comments/987654", token)
            .await,
        StatusCode::NOT_FOUND,
        "comment_not_found",
    )
    .await;
}

#[tokio::test]
async fn searching_ignores_case_beyond_ascii_on_every_backend() {
    let app = spawn_app_with("[moderation]\nmode = \"all\"").await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let token = moderator.token.as_str();
    let id = id_of(
        &guest(
            &app,
            "utf",
            ("Ørjan Über", "orjan@example.com"),
            "Grüße aus ZÜRICH",
        )
        .await,
    );
    for q in ["z%C3%BCrich", "Z%C3%9CRICH", "%C3%B8rjan", "%C3%BCber"] {
        assert_eq!(
            queue_ids(&app, token, &format!("?q={q}")).await,
            vec![id],
            "q={q}"
        );
    }
    let found = commenters(&app, token, "?q=%C3%B8rjan").await;
    assert_eq!(found.len(), 1, "{found:?}");
}

#[tokio::test]
async fn search_follows_edits_and_finds_short_quoted_and_folded_text() {
    let app = spawn_app_with("[moderation]\nmode = \"all\"").await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let token = moderator.token.as_str();
    let created = guest(
        &app,
        "find",
        ("Kim", "kim@example.com"),
        "first draft about tulips",
    )
    .await;
    let drafted = id_of(&created);
    // U+212A KELVIN SIGN lower-cases to an ASCII 'k'.
    let quoted = id_of(
        &guest(
            &app,
            "find",
            ("Lee", "lee@example.com"),
            "she said \"ok\" about the \u{212A}ELVIN scale",
        )
        .await,
    );
    assert_eq!(queue_ids(&app, token, "?q=tulips").await, vec![drafted]);

    app.guest_edit(&created, "final word about roses").await;
    // The edit replaces what is found: the old text no longer is.
    assert!(queue_ids(&app, token, "?q=tulips").await.is_empty());
    assert_eq!(queue_ids(&app, token, "?q=ROSES").await, vec![drafted]);

    // Shorter than three characters, quotes, and case folded beyond ASCII.
    assert_eq!(queue_ids(&app, token, "?q=ok").await, vec![quoted]);
    assert_eq!(queue_ids(&app, token, "?q=%22ok%22").await, vec![quoted]);
    assert_eq!(queue_ids(&app, token, "?q=kelvin").await, vec![quoted]);
    assert_eq!(queue_ids(&app, token, "?q=ki").await, vec![drafted]);
    assert_eq!(
        queue_ids(&app, token, "?q=about").await,
        vec![quoted, drafted]
    );
    assert!(queue_ids(&app, token, "?q=%22%22%22").await.is_empty());
}

/// Past the newest 250 rows of a queue, SQLite answers a search through
/// its trigram index rather than by reading rows (`db::comments::queue_page`):
/// whichever way a page is found, it must be the same page.
#[tokio::test]
async fn searching_a_queue_larger_than_the_scan_window_finds_every_match() {
    const QUEUE: usize = 320;
    let app = spawn_app_with("[moderation]\nmode = \"all\"").await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let token = moderator.token.as_str();
    // The oldest comments, beyond the window of the newest 250.
    let mut kumquats = Vec::new();
    for n in 0..3 {
        let body = format!("an old kumquat note {n}");
        kumquats.push(app.guest_comment("window", &body).await);
    }
    let mut rest = Vec::new();
    for writer in 0..16 {
        let (client, address) = (app.client.clone(), app.address.clone());
        rest.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for n in (writer..QUEUE - 4).step_by(16) {
                let sent = client
                    .post(format!("{address}/api/v1/articles/window/comments"))
                    .json(&json!({
                        "body": format!("note number {n}"),
                        "author": {"name": "Filler", "email": format!("f{n}@example.com")}
                    }))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(sent.status(), StatusCode::CREATED);
                ids.push(id_of(&sent.json::<Value>().await.unwrap()));
            }
            ids
        }));
    }
    let mut notes = Vec::new();
    for writer in rest {
        notes.extend(writer.await.unwrap());
    }
    // The newest: in the window, with the same rare word.
    let newest = id_of(&app.guest_comment("window", "a fresh kumquat").await);
    notes.sort_unstable();

    // A rare word: the window holds one match, the rest are older.
    let old: Vec<i64> = kumquats.iter().map(id_of).collect();
    let mut expected = vec![newest, old[2], old[1], old[0]];
    assert_eq!(queue_ids(&app, token, "?q=KUMQUAT").await, expected);
    expected.reverse();
    assert_eq!(
        queue_ids(&app, token, "?q=kumquat&sort=oldest").await,
        expected
    );
    // Paged, with a cursor past the window's first rows.
    let first = queue(&app, token, "?q=kumquat&limit=2").await;
    assert_eq!(ids(&first["comments"]), vec![newest, old[2]]);
    let cursor = first["next_cursor"].as_str().expect("a next page");
    assert_eq!(
        queue_ids(&app, token, &format!("?q=kumquat&limit=2&cursor={cursor}")).await,
        vec![old[1], old[0]]
    );
    // A common text fills the page from the window.
    let newest_notes: Vec<i64> = notes.iter().rev().take(50).copied().collect();
    assert_eq!(queue_ids(&app, token, "?q=note+number").await, newest_notes);
    // A text nowhere, until an edit puts it in the oldest comment.
    assert!(queue_ids(&app, token, "?q=durian").await.is_empty());
    app.guest_edit(&kumquats[0], "now about a durian").await;
    assert_eq!(queue_ids(&app, token, "?q=durian").await, vec![old[0]]);
    assert_eq!(
        queue_ids(&app, token, "?q=kumquat").await,
        vec![newest, old[2], old[1]]
    );
}
