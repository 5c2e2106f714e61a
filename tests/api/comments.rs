//! Submitting comments: guests, accounts, replies, validation, policies.

use moderato::domain::Role;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{expect_error, expect_status, spawn_app, spawn_app_with};

#[tokio::test]
async fn guest_comment_is_stored_approved_and_shown_in_the_thread() {
    let app = spawn_app().await;
    let created = app
        .post_json(
            "/api/v1/articles/hello-world/comments",
            &json!({"body": "First!", "author": {"name": "Ada", "email": "Ada@Example.com", "url": "https://ada.example"}}),
        )
        .await;
    let created = expect_status(created, StatusCode::CREATED).await;
    assert!(created["id"].as_i64().unwrap() > 0);
    assert_eq!(created["status"], "approved");
    assert_eq!(created["article"], "hello-world");
    assert_eq!(created["author"]["name"], "Ada");
    assert_eq!(created["author"]["url"], "https://ada.example/");
    assert_eq!(created["author"]["registered"], false);
    assert_eq!(created["edit_token"].as_str().unwrap().len(), 43);

    let thread = app.thread("hello-world").await;
    assert_eq!(thread["total"], 1);
    assert_eq!(thread["article"]["key"], "hello-world");
    let only = &thread["comments"][0];
    assert_eq!(only["id"], created["id"]);
    assert_eq!(only["body"], "First!");
    assert_eq!(only["html"], "<p>First!</p>\n");
    assert!(only["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(only["edited_at"], serde_json::Value::Null);
    // Same person, same avatar key, whatever the case of their email.
    assert_eq!(only["author"]["avatar"].as_str().unwrap().len(), 64);
}

#[tokio::test]
async fn public_answers_never_reveal_emails_ips_or_tokens() {
    let app = spawn_app().await;
    let created = app
        .post_json(
            "/api/v1/articles/privacy/comments",
            &json!({"body": "hello", "author": {"name": "Ada", "email": "secret.ada@example.com"}}),
        )
        .await;
    let created_text = created.text().await.unwrap();
    assert!(!created_text.contains("secret.ada"), "{created_text}");
    assert!(!created_text.contains("127.0.0.1"), "{created_text}");

    let thread = app
        .get("/api/v1/articles/privacy/comments")
        .await
        .text()
        .await
        .unwrap();
    for secret in [
        "secret.ada",
        "127.0.0.1",
        "edit_token",
        "user_agent",
        "reqwest",
    ] {
        assert!(!thread.contains(secret), "thread leaks {secret}: {thread}");
    }
}

#[tokio::test]
async fn markdown_is_rendered_to_sanitized_html_and_the_source_kept() {
    let app = spawn_app().await;
    let source = "**bold** [me](https://example.com) [bad](javascript:alert(1)) <img src=x onerror=alert(1)>";
    let created = app.guest_comment("md", source).await;
    assert_eq!(created["body"], source);
    let html = created["html"].as_str().unwrap();
    assert!(html.contains("<strong>bold</strong>"), "{html}");
    assert!(html.contains("rel=\"nofollow ugc noopener\""), "{html}");
    assert!(!html.contains("javascript:"), "{html}");
    assert!(!html.contains("<img"), "{html}");
    assert!(html.contains("&lt;img"), "{html}");
}

#[tokio::test]
async fn guests_must_give_a_name_and_an_email() {
    let app = spawn_app().await;
    let no_author = app
        .post_json("/api/v1/articles/a/comments", &json!({"body": "hi"}))
        .await;
    let body = expect_error(no_author, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field").await;
    assert_eq!(body["error"]["field"], "author.name");

    let no_email = app
        .post_json(
            "/api/v1/articles/a/comments",
            &json!({"body": "hi", "author": {"name": "Ada"}}),
        )
        .await;
    let body = expect_error(no_email, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field").await;
    assert_eq!(body["error"]["field"], "author.email");

    // Nothing was stored by the refused attempts.
    assert_eq!(app.thread("a").await["total"], 0);
}

#[tokio::test]
async fn guests_without_email_are_accepted_when_the_site_allows_it() {
    let app = spawn_app_with("[comments]\nrequire_name_email = false").await;
    let created = expect_status(
        app.post_json(
            "/api/v1/articles/a/comments",
            &json!({"body": "anonymous thought"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(created["author"]["name"], "Anonymous");
    assert_eq!(created["author"]["avatar"], serde_json::Value::Null);
}

#[tokio::test]
async fn invalid_fields_are_named_in_the_error() {
    let app = spawn_app().await;
    let cases = [
        (
            json!({"body": "hi", "author": {"name": "Ada", "email": "not-an-email"}}),
            "author.email",
        ),
        (
            json!({"body": "hi", "author": {"name": "Ada", "email": "a@example.com", "url": "javascript:alert(1)"}}),
            "author.url",
        ),
        (
            json!({"body": "hi", "author": {"name": "x".repeat(246), "email": "a@example.com"}}),
            "author.name",
        ),
        (
            json!({"body": "hi", "author": {"name": "Ada\u{202E}", "email": "a@example.com"}}),
            "author.name",
        ),
        (
            json!({"body": "   ", "author": {"name": "Ada", "email": "a@example.com"}}),
            "body",
        ),
        (
            json!({"body": "hi", "author": {"name": "Ada", "email": format!("{}@example.com", "a".repeat(95))}}),
            "author.email",
        ),
        (
            // Lower-cased, the domain would hold a combining dot (found by
            // the `validation` fuzz target): checked as it would be stored.
            json!({"body": "hi", "author": {"name": "Ada", "email": "a@İ.com"}}),
            "author.email",
        ),
    ];
    for (body, field) in cases {
        let response = app.post_json("/api/v1/articles/a/comments", &body).await;
        let error = expect_error(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field").await;
        assert_eq!(error["error"]["field"], field, "for {body}");
    }
    assert_eq!(app.thread("a").await["total"], 0);
}

#[tokio::test]
async fn author_and_article_must_be_objects() {
    let app = spawn_app().await;
    for body in [
        json!({"body": "hi", "author": ["Ada", "ada@example.com", null, null]}),
        json!({"body": "hi", "author": {"name": "Ada", "email": "ada@example.com"}, "article": [null, null]}),
        json!({"body": "hi", "author": "Ada"}),
    ] {
        let response = app.post_json("/api/v1/articles/a/comments", &body).await;
        expect_error(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body").await;
    }
    assert_eq!(app.thread("a").await["total"], 0);
}

#[tokio::test]
async fn a_signed_in_writers_author_block_is_checked_too() {
    // The block is ignored for an account, but an invalid one is refused.
    let app = spawn_app().await;
    let user = app.user(Role::Commenter, "bounds@example.com").await;
    let cases = [
        (json!({"token": "t".repeat(101)}), "author.token"),
        (json!({"name": "x".repeat(246)}), "author.name"),
        (
            json!({"email": format!("{}@example.com", "a".repeat(95))}),
            "author.email",
        ),
        (json!({"email": "not-an-email"}), "author.email"),
        (json!({"name": "Ada\u{202E}"}), "author.name"),
    ];
    for (author, field) in cases {
        let body = json!({"body": "hi", "author": author});
        let response = app
            .post_json_as("/api/v1/articles/a/comments", &body, &user.token)
            .await;
        let error = expect_error(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field").await;
        assert_eq!(error["error"]["field"], field, "for {body}");
    }
    assert_eq!(app.thread("a").await["total"], 0);
    let fine = json!({"body": "hi", "author": {"token": "t".repeat(100)}});
    let response = app
        .post_json_as("/api/v1/articles/a/comments", &fine, &user.token)
        .await;
    expect_status(response, StatusCode::CREATED).await;
}

#[tokio::test]
async fn malformed_bodies_get_clear_errors_never_500() {
    let app = spawn_app().await;
    let path = "/api/v1/articles/a/comments";
    let send_raw = |body: &'static str| {
        app.request(reqwest::Method::POST, path)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    expect_error(
        send_raw("{\"body\":").await.unwrap(),
        StatusCode::BAD_REQUEST,
        "invalid_json",
    )
    .await;
    expect_error(
        send_raw("{\"body\": 42}").await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_body",
    )
    .await;
    expect_error(
        send_raw("{\"bdy\": \"x\"}").await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_body",
    )
    .await;
    expect_error(
        send_raw("[]").await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_body",
    )
    .await;
    let invalid_utf8 = app
        .request(reqwest::Method::POST, path)
        .header("content-type", "application/json")
        .body(vec![
            b'{', b'"', b'b', b'o', b'd', b'y', b'"', b':', b'"', 0xff, 0xfe, b'"', b'}',
        ])
        .send()
        .await
        .unwrap();
    expect_error(invalid_utf8, StatusCode::BAD_REQUEST, "invalid_json").await;
    let text_plain = app
        .request(reqwest::Method::POST, path)
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await
        .unwrap();
    expect_error(
        text_plain,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
}

#[tokio::test]
async fn oversized_requests_get_413_and_oversized_bodies_422() {
    let app = spawn_app().await;
    // Over server.max_request_bytes (256 KiB): refused as a whole.
    let huge = "x".repeat(300 * 1024);
    let response = app
        .post_json(
            "/api/v1/articles/a/comments",
            &json!({"body": huge, "author": {"name": "A", "email": "a@example.com"}}),
        )
        .await;
    expect_error(response, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    // Under the request limit but over comments.max_body_bytes (64 KiB).
    let long = "x".repeat(65 * 1024);
    let response = app
        .post_json(
            "/api/v1/articles/a/comments",
            &json!({"body": long, "author": {"name": "A", "email": "a@example.com"}}),
        )
        .await;
    let error = expect_error(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field").await;
    assert_eq!(error["error"]["field"], "body");
    // Exactly at the limit is fine.
    let at_limit = "y".repeat(64 * 1024);
    app.guest_comment("a", &at_limit).await;
}

#[tokio::test]
async fn unicode_and_sql_looking_text_are_stored_exactly() {
    let app = spawn_app().await;
    let body = "Robert'); DROP TABLE comments;-- 🦀 مرحبا \u{200B} e\u{301} 👩‍👩‍👧";
    let created = app.guest_comment("unicode", body).await;
    assert_eq!(created["body"], body);
    let thread = app.thread("unicode").await;
    assert_eq!(thread["comments"][0]["body"], body);
}

#[tokio::test]
async fn replies_nest_to_any_depth() {
    let app = spawn_app().await;
    let root = app.guest_comment("nest", "root").await["id"]
        .as_i64()
        .unwrap();
    let mut parent = root;
    for depth in 1..=5 {
        let reply = app
            .guest_reply("nest", parent, &format!("depth {depth}"))
            .await;
        assert_eq!(reply["parent_id"], parent);
        parent = reply["id"].as_i64().unwrap();
    }
    let thread = app.thread("nest").await;
    let comments = thread["comments"].as_array().unwrap();
    assert_eq!(comments.len(), 6);
    assert_eq!(comments[0]["parent_id"], serde_json::Value::Null);
    for pair in comments.windows(2) {
        assert_eq!(pair[1]["parent_id"], pair[0]["id"]);
    }
}

#[tokio::test]
async fn a_reply_must_be_to_a_published_comment_of_the_same_article() {
    let app = spawn_app().await;
    let elsewhere = app.guest_comment("other-article", "elsewhere").await["id"]
        .as_i64()
        .unwrap();
    app.guest_comment("this-article", "here").await;
    for parent in [elsewhere, 999_999] {
        let response = app
            .post_json(
                "/api/v1/articles/this-article/comments",
                &json!({"body": "reply", "parent_id": parent, "author": {"name": "A", "email": "a@example.com"}}),
            )
            .await;
        let error = expect_error(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field").await;
        assert_eq!(error["error"]["field"], "parent_id");
    }
    assert_eq!(app.thread("this-article").await["total"], 1);
}

#[tokio::test]
async fn signed_in_commenters_are_known_by_their_session() {
    let app = spawn_app().await;
    let user = app.user(Role::Commenter, "carol@example.com").await;
    let response = app
        .post_json_as(
            "/api/v1/articles/a/comments",
            &json!({"body": "as myself", "author": {"name": "Impostor", "email": "fake@example.com"}}),
            &user.token,
        )
        .await;
    let created = expect_status(response, StatusCode::CREATED).await;
    assert_eq!(created["author"]["name"], "carol at example.com");
    assert_eq!(created["author"]["registered"], true);
    assert!(
        created.get("edit_token").is_none(),
        "accounts need no edit token: {created}"
    );
}

#[tokio::test]
async fn an_invalid_bearer_token_is_refused_not_treated_as_a_guest() {
    let app = spawn_app().await;
    let response = app
        .post_json_as(
            "/api/v1/articles/a/comments",
            &json!({"body": "hi", "author": {"name": "A", "email": "a@example.com"}}),
            "not-a-real-token",
        )
        .await;
    expect_error(response, StatusCode::UNAUTHORIZED, "invalid_session").await;
}

#[tokio::test]
async fn sites_can_refuse_guests() {
    let app = spawn_app_with("[comments]\nallow_guests = false").await;
    let response = app
        .post_json(
            "/api/v1/articles/a/comments",
            &json!({"body": "hi", "author": {"name": "A", "email": "a@example.com"}}),
        )
        .await;
    expect_error(response, StatusCode::UNAUTHORIZED, "sign_in_required").await;
    let user = app.user(Role::Commenter, "member@example.com").await;
    let response = app
        .post_json_as(
            "/api/v1/articles/a/comments",
            &json!({"body": "hi"}),
            &user.token,
        )
        .await;
    expect_status(response, StatusCode::CREATED).await;
}

#[tokio::test]
async fn moderation_mode_all_holds_every_comment_out_of_the_thread() {
    let app = spawn_app_with("[moderation]\nmode = \"all\"").await;
    let created = app.guest_comment("held", "wait for me").await;
    assert_eq!(created["status"], "pending");
    let thread = app.thread("held").await;
    assert_eq!(thread["total"], 0);
    assert_eq!(thread["comments"].as_array().unwrap().len(), 0);
    let counts = expect_status(app.get("/api/v1/counts?article=held").await, StatusCode::OK).await;
    assert_eq!(counts["counts"]["held"], 0);
}

#[tokio::test]
async fn first_time_mode_holds_newcomers_but_not_trusted_staff() {
    let app = spawn_app_with("[moderation]\nmode = \"first_time\"").await;
    assert_eq!(
        app.guest_comment("ft", "new here").await["status"],
        "pending"
    );
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let response = app
        .post_json_as(
            "/api/v1/articles/ft/comments",
            &json!({"body": "staff"}),
            &moderator.token,
        )
        .await;
    assert_eq!(
        expect_status(response, StatusCode::CREATED).await["status"],
        "approved"
    );
    let commenter = app.user(Role::Commenter, "newbie@example.com").await;
    let response = app
        .post_json_as(
            "/api/v1/articles/ft/comments",
            &json!({"body": "me too"}),
            &commenter.token,
        )
        .await;
    assert_eq!(
        expect_status(response, StatusCode::CREATED).await["status"],
        "pending"
    );
}

#[tokio::test]
async fn unknown_articles_are_created_by_their_first_comment() {
    let app = spawn_app_with("[server]\ncors_origins = [\"https://blog.example\"]").await;
    expect_error(
        app.get("/api/v1/articles/brand-new").await,
        StatusCode::NOT_FOUND,
        "article_not_found",
    )
    .await;
    app.post_json(
        "/api/v1/articles/brand-new/comments",
        &json!({"body": "hi", "author": {"name": "A", "email": "a@example.com"},
                "article": {"title": "Brand new", "url": "https://blog.example/brand-new"}}),
    )
    .await;
    let article = expect_status(app.get("/api/v1/articles/brand-new").await, StatusCode::OK).await;
    assert_eq!(article["title"], "Brand new");
    assert_eq!(article["url"], "https://blog.example/brand-new");
    assert_eq!(article["comment_count"], 1);
    assert_eq!(article["comments_open"], true);
}

#[tokio::test]
async fn a_first_comment_names_its_article_only_from_a_page_of_the_blog() {
    let app = spawn_app_with("[server]\npublic_url = \"https://comments.example\"\ncors_origins = [\"https://blog.example\"]").await;
    async fn first(app: &crate::helpers::TestApp, key: &str, url: &str) {
        let body = json!({"body": "hi", "author": {"name": "A", "email": format!("{key}@example.com")},
                          "article": {"title": "Cheap pills here", "url": url}});
        let path = format!("/api/v1/articles/{key}/comments");
        expect_status(app.post_json(&path, &body).await, StatusCode::CREATED).await;
    }
    for (key, url) in [
        ("elsewhere", "https://spam.example/pills"),
        ("lookalike", "https://blog.example.spam.example/pills"),
        ("other-port", "https://blog.example:8443/pills"),
    ] {
        first(&app, key, url).await;
        let article = expect_status(
            app.get(&format!("/api/v1/articles/{key}")).await,
            StatusCode::OK,
        )
        .await;
        assert!(article["title"].is_null(), "{url}: {article}");
        assert!(article["url"].is_null(), "{url}: {article}");
    }
    for (key, url) in [
        ("on-the-blog", "https://blog.example/posts/1"),
        ("on-this-server", "https://comments.example/demo/"),
    ] {
        first(&app, key, url).await;
        let article = expect_status(
            app.get(&format!("/api/v1/articles/{key}")).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(article["title"], "Cheap pills here");
        assert_eq!(article["url"], url);
    }
}

#[tokio::test]
async fn article_keys_hold_only_what_a_url_path_may() {
    let app = spawn_app().await;
    for key in [
        "%3Cscript%3E",
        "a%20b",
        "a%22b",
        "a%E2%80%8Bb",
        "a%60b",
        "a%7Bb%7D",
    ] {
        let response = app
            .post_json(
                &format!("/api/v1/articles/{key}/comments"),
                &json!({"body": "hi", "author": {"name": "A", "email": "a@example.com"}}),
            )
            .await;
        let body = expect_error(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field").await;
        assert_eq!(body["error"]["field"], "key", "{key}");
        expect_error(
            app.get(&format!("/api/v1/articles/{key}/comments")).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        )
        .await;
    }
    let created = app
        .post_json(
            "/api/v1/articles/%2F2024%2F%C3%BCber-uns%2F/comments",
            &json!({"body": "hi", "author": {"name": "A", "email": "a@example.com"}}),
        )
        .await;
    assert_eq!(
        expect_status(created, StatusCode::CREATED).await["article"],
        "/2024/über-uns/"
    );
}

#[tokio::test]
async fn auto_creation_can_be_off_or_limited_to_url_prefixes() {
    let off = spawn_app_with("[articles]\nauto_create = false").await;
    let response = off
        .post_json(
            "/api/v1/articles/x/comments",
            &json!({"body": "hi", "author": {"name": "A", "email": "a@example.com"}}),
        )
        .await;
    expect_error(response, StatusCode::NOT_FOUND, "article_not_found").await;

    let limited =
        spawn_app_with("[articles]\nauto_create_url_prefixes = [\"https://blog.example/\"]").await;
    let comment = |url: &str| json!({"body": "hi", "author": {"name": "A", "email": "a@example.com"}, "article": {"url": url}});
    let outside = limited
        .post_json(
            "/api/v1/articles/x/comments",
            &comment("https://evil.example/x"),
        )
        .await;
    expect_error(outside, StatusCode::NOT_FOUND, "article_not_found").await;
    let inside = limited
        .post_json(
            "/api/v1/articles/x/comments",
            &comment("https://blog.example/x"),
        )
        .await;
    expect_status(inside, StatusCode::CREATED).await;
}

#[tokio::test]
async fn article_keys_may_be_paths_when_url_encoded() {
    let app = spawn_app().await;
    let created = app
        .guest_comment("%2Fblog%2F2024%2Fhello%2F", "path key")
        .await;
    assert_eq!(created["article"], "/blog/2024/hello/");
    let counts = expect_status(
        app.get("/api/v1/counts?article=%2Fblog%2F2024%2Fhello%2F")
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(counts["counts"]["/blog/2024/hello/"], 1);
}
