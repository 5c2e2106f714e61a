//! The moderators' console at `/admin/`, over plain HTTP (no browser):
//! signing in and out, who may, CSRF, the queue and its decisions as forms
//! and as the script's JSON, undo, bans, the admins' pages, and bad input.
//! What a person sees in a browser is tested in tests/browser.

use moderato::domain::Role;
use reqwest::header::{CONTENT_SECURITY_POLICY, LOCATION, SET_COOKIE};
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{expect_status, id_of, spawn_app, spawn_app_with, TestApp, TestUser};

const HELD: &str = "[moderation]\nmode = \"all\"\n";
const PROXIED_AND_HELD: &str =
    "[moderation]\nmode = \"all\"\n[server]\ntrusted_proxies = [\"127.0.0.1/32\"]\n";

/// A browser signed in to the console: its session cookie and the CSRF
/// token its pages carry.
struct Console<'a> {
    app: &'a TestApp,
    cookie: String,
    csrf: String,
}

/// The `name=value` of a cookie a response sets.
fn set_cookie(response: &Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_string)
}

fn location(response: &Response) -> String {
    response.headers()[LOCATION].to_str().unwrap().to_string()
}

/// The value of the first `name="csrf"` field of a page.
fn csrf_of(page: &str) -> String {
    let at = page
        .find("name=\"csrf\" value=\"")
        .expect("a form with a CSRF token");
    let rest = &page[at + "name=\"csrf\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_string()
}

async fn sign_in_form(app: &TestApp, email: &str, password: &str) -> Response {
    app.request(Method::POST, "/admin/login")
        .form(&[
            ("email", email),
            ("password", password),
            ("next", "/admin/"),
        ])
        .send()
        .await
        .unwrap()
}

impl<'a> Console<'a> {
    async fn sign_in(app: &'a TestApp, user: &TestUser) -> Console<'a> {
        let response = sign_in_form(app, &user.email, &user.password).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let cookie = set_cookie(&response, "moderato_console").expect("a session cookie");
        let cookie = cookie.split(';').next().unwrap().to_string();
        let mut console = Console {
            app,
            cookie,
            csrf: String::new(),
        };
        let queue = console.page("/admin/").await;
        console.csrf = csrf_of(&queue);
        console
    }

    async fn get(&self, path: &str) -> Response {
        self.app
            .request(Method::GET, path)
            .header("Cookie", &self.cookie)
            .send()
            .await
            .unwrap()
    }

    /// A page's HTML (asserting 200, HTML and the console's CSP).
    async fn page(&self, path: &str) -> String {
        let response = self.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        let csp = response.headers()[CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap();
        assert!(csp.contains("script-src 'self'"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        response.text().await.unwrap()
    }

    /// Posts a form with this session's cookie and CSRF token.
    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        let mut form: Vec<(&str, &str)> = vec![("csrf", self.csrf.as_str())];
        form.extend_from_slice(fields);
        self.app
            .request(Method::POST, path)
            .header("Cookie", &self.cookie)
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    /// As the console's script posts: JSON back.
    async fn post_for_json(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        let mut form: Vec<(&str, &str)> = vec![("csrf", self.csrf.as_str())];
        form.extend_from_slice(fields);
        self.app
            .request(Method::POST, path)
            .header("Cookie", &self.cookie)
            .header("Accept", "application/json")
            .form(&form)
            .send()
            .await
            .unwrap()
    }
}

/// A comment as the moderation API shows it.
async fn moderated(app: &TestApp, token: &str, id: i64) -> Value {
    expect_status(
        app.get_as(&format!("/api/v1/moderation/comments/{id}"), token)
            .await,
        StatusCode::OK,
    )
    .await["comment"]
        .clone()
}

async fn status_of(app: &TestApp, token: &str, id: i64) -> String {
    moderated(app, token, id).await["status"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn the_console_asks_for_a_sign_in_first_and_comes_back() {
    let app = spawn_app().await;
    let response = app.get("/admin/?status=spam").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&response),
        "/admin/login?next=%2Fadmin%2F%3Fstatus%3Dspam"
    );
    let response = app.get("/admin").await;
    assert_eq!(location(&response), "/admin/");

    let response = app
        .get("/admin/login?next=%2Fadmin%2F%3Fstatus%3Dspam")
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let csp = response.headers()[CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("frame-ancestors 'none'"));
    let page = response.text().await.unwrap();
    assert!(page.contains("<label for=\"email\">Email</label>"));
    assert!(page.contains("<label for=\"password\">Password</label>"));
    assert!(page.contains("value=\"/admin/?status=spam\""));

    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let response = app
        .request(Method::POST, "/admin/login")
        .form(&[
            ("email", moderator.email.as_str()),
            ("password", moderator.password.as_str()),
            ("next", "/admin/?status=spam"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&response), "/admin/?status=spam");
    // Never off to another site after signing in.
    let response = app
        .request(Method::POST, "/admin/login")
        .form(&[
            ("email", moderator.email.as_str()),
            ("password", moderator.password.as_str()),
            ("next", "https://evil.example/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&response), "/admin/");
}

#[tokio::test]
async fn the_session_cookie_is_httponly_strict_and_kept_to_the_console() {
    let app = spawn_app_with("[auth]\ncookie_secure = true").await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let response = sign_in_form(&app, &moderator.email, &moderator.password).await;
    let cookie = set_cookie(&response, "moderato_console").unwrap();
    for part in ["HttpOnly", "SameSite=Strict", "Path=/admin", "Secure"] {
        assert!(cookie.contains(part), "{cookie} lacks {part}");
    }
}

#[tokio::test]
async fn a_wrong_password_is_refused_on_the_form_without_a_session() {
    let app = spawn_app().await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let response = sign_in_form(&app, &moderator.email, "not the password").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(set_cookie(&response, "moderato_console").is_none());
    let page = response.text().await.unwrap();
    assert!(page.contains("do not match an account"));
    assert!(
        page.contains("value=\"mod@example.com\""),
        "the email is kept"
    );
}

#[tokio::test]
async fn sign_in_attempts_are_rate_limited_as_in_the_api() {
    let app = spawn_app_with("[auth.login_limit]\nper_ip = 2\nwindow = \"1m\"").await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let mut last = StatusCode::OK;
    for _ in 0..4 {
        last = sign_in_form(&app, &moderator.email, "wrong password")
            .await
            .status();
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_commenter_gets_a_clear_403_page_and_keeps_no_session() {
    let app = spawn_app().await;
    let commenter = app.user(Role::Commenter, "reader@example.com").await;
    let response = sign_in_form(&app, &commenter.email, &commenter.password).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(set_cookie(&response, "moderato_console").is_none());
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let page = response.text().await.unwrap();
    assert!(page.contains("Moderators only"), "{page}");
    // A commenter's API session does not open the console either.
    let response = app
        .request(Method::GET, "/admin/")
        .header("Cookie", format!("moderato_console={}", commenter.token))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_queue_shows_why_each_comment_was_held_and_escapes_what_commenters_wrote() {
    let app = spawn_app_with(HELD).await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let response = app
        .post_json(
            "/api/v1/articles/hello/comments",
            &json!({"body": "Nice post! <script>alert(1)</script> <img src=x onerror=alert(2)> **bold**",
                    "author": {"name": "Eve & \"friends\"", "email": "eve@example.com"}}),
        )
        .await;
    let id = id_of(&expect_status(response, StatusCode::CREATED).await);
    let console = Console::sign_in(&app, &moderator).await;
    let page = console.page("/admin/").await;
    assert!(page.contains(&format!("id=\"c{id}\"")));
    assert!(page.contains("Held because"));
    assert!(page.contains("every comment is held (moderation.mode = all)"));
    assert!(page.contains("<strong>bold</strong>"));
    assert!(!page.contains("<script>alert(1)"), "the body is sanitized");
    assert!(!page.contains("onerror=alert(2)>"), "the body is sanitized");
    assert!(
        page.contains("Eve &#38; &#34;friends&#34;"),
        "the name is escaped"
    );
    assert!(!page.contains("Eve & \"friends\""), "quotes too");
    assert!(page.contains(">Approve</button>"));
    assert!(page.contains(">Spam</button>"));
    assert!(page.contains(">Trash</button>"));
    // The count in the Pending tab.
    assert!(page.contains("<span class=\"count\" data-count=\"pending\">1</span>"));
}

#[tokio::test]
async fn a_decision_needs_this_sessions_csrf_token_and_this_sites_origin() {
    let app = spawn_app_with(HELD).await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let id = id_of(&app.guest_comment("hello", "please approve").await);
    let console = Console::sign_in(&app, &moderator).await;
    let id_text = id.to_string();

    let forged = app
        .request(Method::POST, "/admin/decide")
        .header("Cookie", &console.cookie)
        .form(&[("csrf", "forged"), ("action", "approve"), ("id", &id_text)])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let missing = app
        .request(Method::POST, "/admin/decide")
        .header("Cookie", &console.cookie)
        .form(&[("action", "approve"), ("id", &id_text)])
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    let elsewhere = app
        .request(Method::POST, "/admin/decide")
        .header("Cookie", &console.cookie)
        .header("Origin", "https://evil.example")
        .form(&[
            ("csrf", console.csrf.as_str()),
            ("action", "approve"),
            ("id", &id_text),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.status(), StatusCode::FORBIDDEN);
    assert_eq!(status_of(&app, &moderator.token, id).await, "pending");

    // Another session's token is no good either.
    let other = app.user(Role::Moderator, "other@example.com").await;
    let other_console = Console::sign_in(&app, &other).await;
    assert_ne!(other_console.csrf, console.csrf);
    let crossed = app
        .request(Method::POST, "/admin/decide")
        .header("Cookie", &console.cookie)
        .form(&[
            ("csrf", other_console.csrf.as_str()),
            ("action", "approve"),
            ("id", &id_text),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(crossed.status(), StatusCode::FORBIDDEN);
    assert_eq!(status_of(&app, &moderator.token, id).await, "pending");
}

#[tokio::test]
async fn approving_from_the_console_publishes_logs_and_undo_takes_it_back() {
    let app = spawn_app_with(HELD).await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let id = id_of(&app.guest_comment("hello", "please approve me").await);
    let console = Console::sign_in(&app, &moderator).await;
    let version = moderated(&app, &moderator.token, id).await["version"]
        .as_i64()
        .unwrap()
        .to_string();

    let response = console
        .post(
            "/admin/decide",
            &[
                ("action", "approve"),
                ("id", &id.to_string()),
                ("version", &version),
                ("view", "pending"),
                ("return_to", "/admin/?status=pending"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/admin/?status=pending");
    let flash = set_cookie(&response, "moderato_flash").expect("a notice for the next page");
    let thread = app.thread("hello").await;
    assert_eq!(thread["comments"][0]["id"], id);
    let log = expect_status(
        app.get_as("/api/v1/moderation/log", &moderator.token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(log["entries"][0]["action"], "approve");
    assert_eq!(log["entries"][0]["moderator_id"], moderator.id);

    // The next page shows the notice with its undo button.
    let page = app
        .request(Method::GET, "/admin/")
        .header(
            "Cookie",
            format!("{}; {}", console.cookie, flash.split(';').next().unwrap()),
        )
        .send()
        .await
        .unwrap();
    assert!(set_cookie(&page, "moderato_flash").is_some(), "spent");
    let page = page.text().await.unwrap();
    assert!(page.contains("Approved 1 comment."));
    assert!(page.contains(">Undo</button>"));

    let response = console
        .post("/admin/undo", &[("return_to", "/admin/")])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(status_of(&app, &moderator.token, id).await, "pending");
    assert!(app.thread("hello").await["comments"]
        .as_array()
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn the_script_gets_json_with_the_fresh_card_or_none_when_it_leaves_the_tab() {
    let app = spawn_app_with(HELD).await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let first = id_of(&app.guest_comment("hello", "first").await);
    let second = id_of(&app.guest_comment("hello", "second").await);
    let console = Console::sign_in(&app, &moderator).await;
    let version = |id| {
        let app = &app;
        let token = moderator.token.clone();
        async move {
            moderated(app, &token, id).await["version"]
                .as_i64()
                .unwrap()
                .to_string()
        }
    };
    let (first_version, second_version) = (version(first).await, version(second).await);

    let answer = expect_status(
        console
            .post_for_json(
                "/admin/decide",
                &[
                    ("action", "spam"),
                    ("id", &first.to_string()),
                    ("version", &first_version),
                    ("view", "pending"),
                ],
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(answer["notice"], "Marked 1 comment as spam.");
    assert_eq!(answer["comments"][0]["id"], first);
    assert_eq!(answer["comments"][0]["status"], "spam");
    assert!(answer["comments"][0]["card"].is_null(), "it leaves Pending");
    assert_eq!(status_of(&app, &moderator.token, first).await, "spam");

    let answer = expect_status(
        console
            .post_for_json(
                "/admin/decide",
                &[
                    ("action", "approve"),
                    ("id", &second.to_string()),
                    ("version", &second_version),
                    ("view", "all"),
                ],
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let card = answer["comments"][0]["card"].as_str().unwrap();
    assert!(card.contains(&format!("id=\"c{second}\"")));
    assert!(card.contains("status-approved"));
}

#[tokio::test]
async fn when_another_moderator_acted_first_the_script_is_told_and_shown_the_state() {
    let app = spawn_app_with(HELD).await;
    let ann = app.user(Role::Moderator, "ann@example.com").await;
    let ben = app.user(Role::Moderator, "ben@example.com").await;
    let id = id_of(&app.guest_comment("hello", "contested").await);
    let console = Console::sign_in(&app, &ann).await;
    let seen = moderated(&app, &ann.token, id).await["version"]
        .as_i64()
        .unwrap();
    expect_status(
        app.post_json_as(
            &format!("/api/v1/moderation/comments/{id}/decision"),
            &json!({"action": "trash"}),
            &ben.token,
        )
        .await,
        StatusCode::OK,
    )
    .await;

    let response = console
        .post_for_json(
            "/admin/decide",
            &[
                ("action", "approve"),
                ("id", &id.to_string()),
                ("version", &seen.to_string()),
                ("view", "all"),
            ],
        )
        .await;
    let answer = expect_status(response, StatusCode::CONFLICT).await;
    assert!(answer["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Another moderator acted first"));
    assert_eq!(answer["comments"][0]["status"], "trash");
    assert!(answer["comments"][0]["card"]
        .as_str()
        .unwrap()
        .contains(">Restore</button>"));
    assert_eq!(status_of(&app, &ann.token, id).await, "trash");

    // Without the script: back to the queue, saying so.
    let response = console
        .post(
            "/admin/decide",
            &[
                ("action", "approve"),
                ("id", &id.to_string()),
                ("version", &seen.to_string()),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(set_cookie(&response, "moderato_flash").is_some());
    assert_eq!(status_of(&app, &ann.token, id).await, "trash");
}

#[tokio::test]
async fn three_trashed_at_once_come_back_with_one_undo() {
    let app = spawn_app_with(HELD).await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let mut ids = Vec::new();
    for n in 0..4 {
        ids.push(id_of(
            &app.guest_comment("hello", &format!("comment {n}")).await,
        ));
    }
    let console = Console::sign_in(&app, &moderator).await;
    let chosen: Vec<String> = ids[..3].iter().map(i64::to_string).collect();
    let mut form = vec![("action", "trash"), ("view", "pending")];
    form.extend(chosen.iter().map(|id| ("id", id.as_str())));
    let response = console.post("/admin/decide", &form).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    for id in &ids[..3] {
        assert_eq!(status_of(&app, &moderator.token, *id).await, "trash");
    }
    assert_eq!(status_of(&app, &moderator.token, ids[3]).await, "pending");

    console.post("/admin/undo", &[]).await;
    for id in &ids {
        assert_eq!(status_of(&app, &moderator.token, *id).await, "pending");
    }
    // Nothing left to undo is said, not an error page.
    let response = console.post("/admin/undo", &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_ban_by_ip_range_from_the_console_refuses_that_commenters_next_comment() {
    let app = spawn_app_with(PROXIED_AND_HELD).await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let from = |ip: &'static str| {
        app.request(Method::POST, "/api/v1/articles/hello/comments")
            .header("X-Forwarded-For", ip)
            .json(&json!({"body": format!("buy now, from {ip}"),
                          "author": {"name": "Spammer", "email": format!("s@{ip}.example")}}))
    };
    let first = from("203.0.113.7").send().await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let console = Console::sign_in(&app, &moderator).await;
    let page = console.page("/admin/commenter?ip=203.0.113.7").await;
    assert!(page.contains("IP address 203.0.113.7"));

    let response = console
        .post(
            "/admin/bans",
            &[
                ("kind", "ip"),
                ("value", "203.0.113.0/24"),
                ("duration", "7days"),
                ("reason", "spam run"),
                ("return_to", "/admin/commenter?ip=203.0.113.7"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let refused = from("203.0.113.99").send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let elsewhere = from("198.51.100.1").send().await.unwrap();
    assert_eq!(elsewhere.status(), StatusCode::CREATED);

    let bans = expect_status(
        app.get_as("/api/v1/moderation/bans", &moderator.token)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(bans["bans"][0]["value"], "203.0.113.0/24");
    assert!(bans["bans"][0]["expires_at"].is_string());
    let page = console.page("/admin/bans").await;
    assert!(page.contains("203.0.113.0/24"));

    // A bad range is said on the page, and no ban is made.
    let response = console
        .post(
            "/admin/bans",
            &[("kind", "ip"), ("value", "not an address")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let bans = expect_status(
        app.get_as("/api/v1/moderation/bans", &moderator.token)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(bans["bans"].as_array().unwrap().len(), 1);

    let ban_id = bans["bans"][0]["id"].as_i64().unwrap();
    let response = console
        .post(&format!("/admin/bans/{ban_id}/lift"), &[])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let again = from("203.0.113.99").send().await.unwrap();
    assert_eq!(again.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn word_lists_and_articles_are_for_admins() {
    let app = spawn_app_with(HELD).await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let admin = app.user(Role::Admin, "admin@example.com").await;
    app.guest_comment("hello", "a comment").await;
    let console = Console::sign_in(&app, &moderator).await;
    assert_eq!(
        console.get("/admin/words").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        console.get("/admin/articles").await.status(),
        StatusCode::FORBIDDEN
    );
    let queue = console.page("/admin/").await;
    assert!(
        !queue.contains("href=\"/admin/words\""),
        "not offered either"
    );

    let console = Console::sign_in(&app, &admin).await;
    let response = console
        .post(
            "/admin/words",
            &[("list", "suspect"), ("kind", "word"), ("pattern", "casino")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let words = console.page("/admin/words").await;
    assert!(words.contains("<code>casino</code>"));
    let lists = expect_status(
        app.get_as("/api/v1/spam/wordlists", &admin.token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(lists["entries"][0]["pattern"], "casino");

    let response = console
        .post(
            "/admin/articles",
            &[
                ("key", "hello"),
                ("title", "Hello, world"),
                ("url", "https://blog.example/hello"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let article = expect_status(app.get("/api/v1/articles/hello").await, StatusCode::OK).await;
    assert_eq!(article["title"], "Hello, world");
    assert_eq!(article["comments_open"], false, "the box was not ticked");
    let page = console.page("/admin/articles").await;
    assert!(page.contains("value=\"Hello, world\""));
}

#[tokio::test]
async fn every_page_renders_for_an_admin_and_the_log_says_who_did_what() {
    let app = spawn_app_with(HELD).await;
    let admin = app.user(Role::Admin, "admin@example.com").await;
    let id = id_of(&app.guest_comment("hello", "judge me").await);
    let console = Console::sign_in(&app, &admin).await;
    console
        .post(
            "/admin/decide",
            &[("action", "spam"), ("id", &id.to_string())],
        )
        .await;
    for path in [
        "/admin/",
        "/admin/?status=spam",
        "/admin/?status=all&sort=oldest&q=judge",
        "/admin/overview",
        "/admin/commenters",
        "/admin/commenters?q=guest",
        "/admin/commenter?email=guest%40example.com",
        "/admin/bans",
        "/admin/log",
        "/admin/log?action=spam",
        "/admin/words",
        "/admin/articles",
        &format!("/admin/comments/{id}"),
    ] {
        console.page(path).await;
    }
    let log = console.page("/admin/log?action=spam").await;
    assert!(log.contains(&format!("comment {id}")));
    assert!(log.contains("admin at example.com"));
    assert!(log.contains("pending → spam"));
    let spam = console.page("/admin/?status=spam").await;
    assert!(spam.contains(">Not spam</button>"));
    let overview = console.page("/admin/overview").await;
    assert!(overview.contains("<svg class=\"chart\""));
    assert!(overview.contains("spam caught today"));
}

#[tokio::test]
async fn a_moderator_replies_at_once_and_corrects_a_comment_on_its_page() {
    let app = spawn_app_with(HELD).await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let id = id_of(&app.guest_comment("hello", "Teh question").await);
    let console = Console::sign_in(&app, &moderator).await;
    let page = console.page(&format!("/admin/comments/{id}")).await;
    assert!(page.contains("<label for=\"reply-body\">Reply</label>"));
    // Replies go under published comments: a held one is approved with
    // the reply.
    assert!(page.contains(">Approve and reply</button>"));
    let version = moderated(&app, &moderator.token, id).await["version"]
        .as_i64()
        .unwrap()
        .to_string();

    let response = console
        .post(
            &format!("/admin/comments/{id}/reply"),
            &[
                ("body", "Thanks for asking!"),
                ("approve", "on"),
                ("version", &version),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let reply_page = location(&response);
    let reply_id: i64 = reply_page
        .strip_prefix("/admin/comments/")
        .unwrap()
        .parse()
        .unwrap();
    let reply = moderated(&app, &moderator.token, reply_id).await;
    assert_eq!(reply["status"], "approved", "published at once");
    assert_eq!(reply["parent_id"], id);
    assert_eq!(reply["author"]["user_id"], moderator.id);
    assert!(reply["html"]
        .as_str()
        .unwrap()
        .contains("Thanks for asking!"));
    assert_eq!(status_of(&app, &moderator.token, id).await, "approved");

    let response = console
        .post(
            &format!("/admin/comments/{id}/edit"),
            &[("body", "The question"), ("reason", "typo")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let comment = moderated(&app, &moderator.token, id).await;
    assert_eq!(comment["body"], "The question");
    let page = console.page(&format!("/admin/comments/{id}")).await;
    assert!(page.contains("typo"), "the reason shows in the history");

    // An empty text changes nothing.
    console
        .post(&format!("/admin/comments/{id}/edit"), &[("body", "  ")])
        .await;
    assert_eq!(
        moderated(&app, &moderator.token, id).await["body"],
        "The question"
    );
}

#[tokio::test]
async fn trust_from_the_commenter_page() {
    let app = spawn_app().await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let reader = app.user(Role::Commenter, "reader@example.com").await;
    let console = Console::sign_in(&app, &moderator).await;
    let page = console
        .page("/admin/commenter?email=reader%40example.com")
        .await;
    assert!(page.contains(">Trust this account</button>"));
    let response = console
        .post(
            "/admin/commenter/trust",
            &[("user", &reader.id.to_string()), ("trusted", "true")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let page = console
        .page("/admin/commenter?email=reader%40example.com")
        .await;
    assert!(page.contains(">Stop trusting</button>"));
}

#[tokio::test]
async fn the_pulse_counts_the_queue_for_live_updates() {
    let app = spawn_app_with(HELD).await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let console = Console::sign_in(&app, &moderator).await;
    let before = expect_status(console.get("/admin/pulse").await, StatusCode::OK).await;
    assert_eq!(before["pending"], 0);
    let id = id_of(&app.guest_comment("hello", "new arrival").await);
    let after = expect_status(console.get("/admin/pulse").await, StatusCode::OK).await;
    assert_eq!(after["pending"], 1);
    assert_eq!(after["newest_pending"], id);
    // Signed out, it is a sign-in redirect, not data.
    assert_eq!(
        app.get("/admin/pulse").await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn signing_out_ends_the_session() {
    let app = spawn_app().await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let console = Console::sign_in(&app, &moderator).await;
    let response = console.post("/admin/logout", &[]).await;
    assert_eq!(location(&response), "/admin/login");
    let removal = set_cookie(&response, "moderato_console").unwrap();
    assert!(removal.contains("Max-Age=0"), "{removal}");
    assert_eq!(console.get("/admin/").await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn bad_form_input_is_a_clear_refusal_never_a_500() {
    let app = spawn_app_with(HELD).await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let id = id_of(&app.guest_comment("hello", "stay pending").await);
    let console = Console::sign_in(&app, &moderator).await;
    let id_text = id.to_string();
    for (fields, status) in [
        (
            vec![("action", "obliterate"), ("id", id_text.as_str())],
            StatusCode::BAD_REQUEST,
        ),
        (
            vec![("action", "approve"), ("id", "abc")],
            StatusCode::BAD_REQUEST,
        ),
        (
            vec![("action", "approve"), ("id", "99999")],
            StatusCode::SEE_OTHER,
        ),
        (vec![("action", "approve")], StatusCode::SEE_OTHER),
    ] {
        let response = console.post("/admin/decide", &fields).await;
        assert_eq!(response.status(), status, "{fields:?}");
    }
    assert_eq!(status_of(&app, &moderator.token, id).await, "pending");
    for path in [
        "/admin/comments/99999",
        "/admin/comments/abc",
        "/admin/no-such-page",
        "/admin/commenter",
        "/admin/log?action=nonsense",
        "/admin/?cursor=%7Bbroken",
    ] {
        let response = console.get(path).await;
        assert!(
            response.status().is_client_error(),
            "{path}: {}",
            response.status()
        );
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
    }
}

#[tokio::test]
async fn assets_are_embedded_and_kept_for_long_only_under_their_hash() {
    let app = spawn_app().await;
    let login = app.get("/admin/login").await.text().await.unwrap();
    let at = login.find("/admin/assets/console.css?v=").unwrap();
    let href = &login[at..at + login[at..].find('"').unwrap()];
    let css = app.get(href).await;
    assert_eq!(css.status(), StatusCode::OK);
    assert!(css.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("immutable"));
    assert!(css.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/css"));
    let gzipped = app
        .request(Method::GET, href)
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(gzipped.headers()["content-encoding"], "gzip");
    let stale = app.get("/admin/assets/console.css?v=old").await;
    assert_eq!(stale.headers()["cache-control"], "no-cache");
    let js = app.get("/admin/assets/console.js").await;
    assert!(js.text().await.unwrap().contains("use strict"));
    assert_eq!(
        app.get("/admin/assets/nothing.js").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_sign_in_page_warns_when_its_cookie_could_not_be_kept() {
    let app = spawn_app().await;
    let warning = "will not keep the sign-in cookie";
    let local = app.get("/admin/login").await.text().await.unwrap();
    assert!(!local.contains(warning), "loopback is fine");
    let remote = app
        .request(Method::GET, "/admin/login")
        .header("Host", "comments.example:8080")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(remote.contains(warning));
    let relaxed = spawn_app_with("[auth]\ncookie_secure = false").await;
    let page = relaxed
        .request(Method::GET, "/admin/login")
        .header("Host", "comments.example:8080")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains(warning));
}

#[tokio::test]
async fn an_admin_exports_and_erases_a_guests_data_and_the_log_keeps_no_trace_of_who() {
    let app = spawn_app().await;
    let admin = app.user(Role::Admin, "admin@example.com").await;
    let first = id_of(&app.guest_comment("hello", "my first words").await);
    app.guest_comment("other", "my second words").await;
    let console = Console::sign_in(&app, &admin).await;
    let page = console
        .page("/admin/commenter?email=guest%40example.com")
        .await;
    assert!(page.contains(">Erase their data</button>"));

    let download = console
        .get("/admin/commenter/export?email=guest%40example.com")
        .await;
    assert_eq!(download.status(), StatusCode::OK);
    assert!(download.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    let export: Value = download.json().await.unwrap();
    assert_eq!(export["email"], "guest@example.com");
    assert!(export["account"].is_null());
    assert_eq!(export["comments"].as_array().unwrap().len(), 2);
    assert_eq!(export["comments"][0]["body"], "my first words");
    assert_eq!(export["comments"][0]["ip"], "127.0.0.1");

    // Not without the box ticked.
    let response = console
        .post("/admin/commenter/erase", &[("email", "guest@example.com")])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        moderated(&app, &admin.token, first).await["author"]["email"],
        "guest@example.com"
    );

    let response = console
        .post(
            "/admin/commenter/erase",
            &[("email", "guest@example.com"), ("confirm", "on")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let comment = moderated(&app, &admin.token, first).await;
    assert!(comment["author"]["email"].is_null());
    assert_eq!(comment["author"]["name"], "Deleted user");
    assert!(comment["ip"].is_null());
    assert_eq!(comment["body"], "my first words", "anonymized, text kept");
    let log = expect_status(
        app.get_as("/api/v1/moderation/log?action=erase", &admin.token)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(log["entries"][0]["subject"], "guest");
    assert!(!log.to_string().contains("guest@example.com"));
    // Nothing is left to find under that email.
    assert_eq!(
        console
            .get("/admin/commenter/export?email=guest%40example.com")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn erasing_an_account_is_for_admins_and_never_their_own() {
    let app = spawn_app().await;
    let admin = app.user(Role::Admin, "admin@example.com").await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let reader = app.user(Role::Commenter, "reader@example.com").await;
    let posted = app
        .post_json_as(
            "/api/v1/articles/hello/comments",
            &json!({"body": "signed in words"}),
            &reader.token,
        )
        .await;
    let id = id_of(&expect_status(posted, StatusCode::CREATED).await);

    let erase = |token: String, email: &'static str| {
        let app = &app;
        async move {
            app.post_json_as(
                "/api/v1/moderation/commenters/erase",
                &json!({ "email": email }),
                &token,
            )
            .await
        }
    };
    assert_eq!(
        erase(moderator.token.clone(), "reader@example.com")
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get_as(
            "/api/v1/moderation/commenters/export?email=reader@example.com",
            &moderator.token
        )
        .await
        .status(),
        StatusCode::FORBIDDEN
    );
    let export = expect_status(
        app.get_as(
            "/api/v1/moderation/commenters/export?email=reader@example.com",
            &admin.token,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(export["account"]["email"], "reader@example.com");
    assert_eq!(export["comments"][0]["id"], id);

    assert_eq!(
        erase(admin.token.clone(), "admin@example.com")
            .await
            .status(),
        StatusCode::CONFLICT
    );
    assert_eq!(
        erase(admin.token.clone(), "nobody@example.com")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        erase(admin.token.clone(), "not an email").await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let erased = expect_status(
        erase(admin.token.clone(), "reader@example.com").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(erased["account_removed"], true);
    assert_eq!(erased["comments_affected"], 1);
    assert_eq!(erased["comments"], "anonymized");
    // The account is gone: its session and its password no longer work.
    assert_eq!(
        app.get_as("/api/v1/me", &reader.token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let login = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"email": "reader@example.com", "password": reader.password}),
        )
        .await;
    assert_eq!(login.status(), StatusCode::UNAUTHORIZED);
    assert!(moderated(&app, &admin.token, id).await["author"]["user_id"].is_null());
}
