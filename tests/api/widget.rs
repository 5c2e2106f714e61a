//! What the comment widget needs from the server: its files (cacheable,
//! loadable from other sites), the client settings, previews, an author
//! reading back their held comment, and the root and demo pages.

use reqwest::{header, Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{expect_error, expect_status, spawn_app, spawn_app_with, TestApp};
use moderato::domain::Role;

async fn text(app: &TestApp, path: &str) -> (StatusCode, header::HeaderMap, String) {
    let response = app.get(path).await;
    let status = response.status();
    let headers = response.headers().clone();
    (status, headers, response.text().await.expect("body"))
}

#[tokio::test]
async fn the_widget_script_is_revalidated_by_etag_and_links_its_stylesheet_by_version() {
    let app = spawn_app().await;
    let (status, headers, script) = text(&app, "/embed.js").await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    assert_eq!(headers[header::CACHE_CONTROL], "no-cache");
    assert_eq!(headers["cross-origin-resource-policy"], "cross-origin");
    let etag = headers[header::ETAG].to_str().unwrap().to_string();

    // The same version again: 304, no body.
    let again = app
        .request(Method::GET, "/embed.js")
        .header(header::IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert!(again.bytes().await.unwrap().is_empty());

    // The stylesheet the script names may be kept for a year; any other
    // version of its URL may not.
    let start = script.find("/embed.css?v=").expect("the stylesheet's URL");
    let versioned: String = script[start..].chars().take_while(|c| *c != '\'').collect();
    let (status, headers, css) = text(&app, &versioned).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[header::CACHE_CONTROL]
        .to_str()
        .unwrap()
        .contains("immutable"));
    assert!(css.contains(".moderato"), "the widget's stylesheet");
    let (_, stale, _) = text(&app, "/embed.css?v=000000000000").await;
    assert_eq!(stale[header::CACHE_CONTROL], "no-cache");

    // Compressed for browsers that ask.
    let gzipped = app
        .request(Method::GET, "/embed.js")
        .header(header::ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(gzipped.headers()[header::CONTENT_ENCODING], "gzip");
}

#[tokio::test]
async fn switched_off_the_widget_and_demo_answer_404_and_the_root_page_says_so() {
    let app = spawn_app_with("[widget]\nenabled = false\ndemo = false\n").await;
    for path in ["/embed.js", "/embed.css", "/demo/"] {
        assert_eq!(
            app.get(path).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let (_, _, root) = text(&app, "/").await;
    assert!(root.contains("widget is switched off"), "{root}");
    assert!(!root.contains("/embed.js"));
    assert!(!root.contains("href=\"/demo/\""));
}

#[tokio::test]
async fn the_root_page_shows_the_two_lines_to_paste_and_links_onwards() {
    let app = spawn_app_with("[server]\npublic_url = \"https://comments.example.org\"\n").await;
    let (status, headers, page) = text(&app, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("is running"));
    assert!(
        page.contains(
            "&lt;script src=\"https://comments.example.org/embed.js\" defer&gt;&lt;/script&gt;"
        ),
        "{page}"
    );
    assert!(page.contains("&lt;div id=\"moderato-thread\" data-article="));
    for link in [
        "href=\"/demo/\"",
        "href=\"/admin/\"",
        "href=\"/api/v1/openapi.json\"",
    ] {
        assert!(page.contains(link), "{link}");
    }
    let policy = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(
        policy.contains("style-src 'self'") && !policy.contains("script-src"),
        "{policy}"
    );

    // Without public_url, the origin shown comes from the Host header,
    // escaped like any other value.
    let app = spawn_app().await;
    let spoofed = app
        .request(Method::GET, "/")
        .header(header::HOST, "x\"><script>alert(1)</script>")
        .send()
        .await
        .unwrap();
    assert_eq!(spoofed.status(), StatusCode::OK);
    let spoofed = spoofed.text().await.unwrap();
    assert!(
        spoofed.contains("http://x&#34;&#62;&#60;script&#62;alert(1)&#60;/script&#62;/embed.js")
            || spoofed.contains("http://x&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;/embed.js"),
        "{spoofed}"
    );
    assert!(!spoofed.contains("<script>alert"));
}

#[tokio::test]
async fn the_demo_page_embeds_the_widget_in_english_or_german() {
    let app = spawn_app().await;
    let (status, headers, page) = text(&app, "/demo/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<html lang=\"en\">"));
    assert!(page.contains("data-article=\"moderato-demo\""));
    assert!(page.contains("<script src=\"/embed.js\" defer></script>"));
    let policy = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(policy.contains("script-src 'self'") && policy.contains("connect-src 'self'"));
    let (_, _, german) = text(&app, "/demo/?lang=de").await;
    assert!(german.contains("<html lang=\"de\">"));
    let (_, _, other) = text(&app, "/demo/?lang=%22%3E").await;
    assert!(other.contains("<html lang=\"en\">"), "only en and de");
    let redirect = app.get("/demo").await;
    assert_eq!(redirect.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(redirect.headers()[header::LOCATION], "/demo/");
}

#[tokio::test]
async fn client_settings_say_which_fields_to_ask_for() {
    let app = spawn_app_with(
        "[comments]\nrequire_name_email = false\nedit_window = \"10m\"\n\
         [auth]\nallow_registration = false\n[widget]\nwebsite_field = false\nmax_depth = 2\n",
    )
    .await;
    let settings = expect_status(app.get("/api/v1/config").await, StatusCode::OK).await;
    assert_eq!(settings["require_name_email"], false);
    assert_eq!(settings["allow_guests"], true);
    assert_eq!(settings["allow_registration"], false);
    assert_eq!(settings["website_field"], false);
    assert_eq!(settings["edit_window_seconds"], 600);
    assert_eq!(settings["max_depth"], 2);
    assert_eq!(settings["honeypot_field"], "fax_number");
    assert_eq!(settings["avatars"], "keyed");
    assert_eq!(settings["max_body_bytes"], 65536);
}

#[tokio::test]
async fn a_bad_widget_setting_stops_the_server_with_the_reason() {
    let error = moderato::config::Settings::load(&moderato::config::Sources {
        file: None,
        env: false,
        overrides: vec!["[widget]\nmax_depth = 0\n".into()],
    })
    .expect_err("max_depth 0 must be refused");
    assert!(error.to_string().contains("widget.max_depth"), "{error}");
    let error = moderato::config::Settings::load(&moderato::config::Sources {
        file: None,
        env: false,
        overrides: vec!["[widget]\nenabled = false\n".into()],
    })
    .expect_err("a demo without the widget must be refused");
    assert!(error.to_string().contains("widget.demo"), "{error}");
}

#[tokio::test]
async fn preview_renders_markdown_as_a_comment_would_and_stores_nothing() {
    let app = spawn_app().await;
    let shown = expect_status(
        app.post_json(
            "/api/v1/preview",
            &json!({"body": "**bold** <script>alert(1)</script> [x](javascript:alert(1))"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let html = shown["html"].as_str().unwrap();
    assert!(html.contains("<strong>bold</strong>"), "{html}");
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.contains("javascript:"), "{html}");

    expect_error(
        app.post_json("/api/v1/preview", &json!({"body": "   "}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    )
    .await;
    expect_error(
        app.post_json("/api/v1/preview", &json!({"text": "x"}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_body",
    )
    .await;
    let big = "a".repeat(70_000);
    let refused = app
        .post_json("/api/v1/preview", &json!({ "body": big }))
        .await;
    assert!(refused.status().is_client_error(), "{}", refused.status());
    let thread = app.thread("anything").await;
    assert_eq!(thread["total"], 0);
}

async fn held_guest_comment(app: &TestApp) -> Value {
    let response = app
        .post_json(
            "/api/v1/articles/held/comments",
            &json!({"body": "Held for review", "author": {"name": "Hal", "email": "hal@example.com"}}),
        )
        .await;
    let created = expect_status(response, StatusCode::CREATED).await;
    assert_eq!(created["status"], "pending");
    created
}

#[tokio::test]
async fn an_author_reads_back_a_held_comment_and_nobody_else_can() {
    let app = spawn_app_with("[moderation]\nmode = \"all\"\n").await;
    let created = held_guest_comment(&app).await;
    let id = created["id"].as_i64().unwrap();
    let path = format!("/api/v1/comments/{id}");

    let read = app
        .request(Method::GET, &path)
        .header("X-Edit-Token", created["edit_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(read.headers()[header::CACHE_CONTROL], "private, no-store");
    let own = expect_status(read, StatusCode::OK).await;
    assert_eq!(own["status"], "pending");
    assert_eq!(own["body"], "Held for review");
    assert_eq!(own["article"], "held");
    assert!(own.get("edit_token").is_none(), "the token is given once");

    // Without the token, with a wrong one, or as another account: refused.
    expect_error(app.get(&path).await, StatusCode::FORBIDDEN, "not_author").await;
    let wrong = app
        .request(Method::GET, &path)
        .header("X-Edit-Token", "not-the-token")
        .send()
        .await
        .unwrap();
    expect_error(wrong, StatusCode::FORBIDDEN, "not_author").await;
    let stranger = app.user(Role::Commenter, "stranger@example.com").await;
    expect_error(
        app.get_as(&path, &stranger.token).await,
        StatusCode::FORBIDDEN,
        "not_author",
    )
    .await;
    expect_error(
        app.get("/api/v1/comments/999999").await,
        StatusCode::NOT_FOUND,
        "comment_not_found",
    )
    .await;

    // An account reads its own held comment with its session.
    let writer = app.user(Role::Commenter, "writer@example.com").await;
    let mine = expect_status(
        app.post_json_as(
            "/api/v1/articles/held/comments",
            &json!({"body": "Mine, held"}),
            &writer.token,
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let read = expect_status(
        app.get_as(&format!("/api/v1/comments/{}", mine["id"]), &writer.token)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(read["status"], "pending");
}

#[tokio::test]
async fn a_blog_on_another_origin_may_call_the_widgets_endpoints() {
    let app = spawn_app_with("[server]\ncors_origins = [\"https://blog.example\"]\n").await;
    let preflight = app
        .request(Method::OPTIONS, "/api/v1/comments/1")
        .header(header::ORIGIN, "https://blog.example")
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "GET")
        .header(
            header::ACCESS_CONTROL_REQUEST_HEADERS,
            "authorization, x-edit-token",
        )
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert_eq!(
        preflight.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://blog.example"
    );
    let settings = app
        .request(Method::GET, "/api/v1/config")
        .header(header::ORIGIN, "https://blog.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        settings.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://blog.example"
    );
    let elsewhere = app
        .request(Method::GET, "/api/v1/config")
        .header(header::ORIGIN, "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(elsewhere
        .headers()
        .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
        .is_none());
}
