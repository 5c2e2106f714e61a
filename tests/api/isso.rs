//! Isso's API (`/isso` by default): the shapes, statuses and cookies Isso's
//! client relies on, over the same services as the JSON API.

use reqwest::header::{HeaderMap, SET_COOKIE};
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{expect_status, id_of, spawn_app, spawn_app_with, TestApp};

const BLOG: &str = "https://blog.example";

/// Settings for a blog on another origin, whose requests may come from
/// several addresses (through a trusted proxy's X-Forwarded-For).
fn blog_settings(extra: &str) -> String {
    format!("[server]\ncors_origins = [\"{BLOG}\"]\ntrusted_proxies = [\"127.0.0.1\"]\n{extra}")
}

/// An Isso call as the client makes it: JSON content type, the blog's
/// origin, from `ip`, with `cookie` when given.
async fn isso(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<Value>,
    ip: &str,
    cookie: Option<&str>,
) -> Response {
    let mut request = app
        .request(method, path)
        .header("Origin", BLOG)
        .header("X-Forwarded-For", ip)
        .header("Content-Type", "application/json");
    if let Some(cookie) = cookie {
        request = request.header("Cookie", cookie);
    }
    if let Some(body) = body {
        request = request.body(body.to_string());
    }
    request.send().await.expect("request")
}

/// Posts through Isso's `/new` and returns the answer with its headers.
async fn post_new(
    app: &TestApp,
    uri: &str,
    body: Value,
    ip: &str,
) -> (StatusCode, HeaderMap, Value) {
    let response = isso(
        app,
        Method::POST,
        &format!("/isso/new?uri={}", urlencode(uri)),
        Some(body),
        ip,
        None,
    )
    .await;
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    (status, headers, json)
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn guest(text: &str) -> Value {
    json!({"text": text, "author": "Ada", "email": "ada@example.com", "website": null,
           "parent": null, "title": "Hello, world", "notification": 0})
}

/// The `Set-Cookie` for the server named `name`: its `name=value` pair and
/// its attributes, lower-cased.
fn set_cookie(headers: &HeaderMap, name: &str) -> (String, String) {
    let cookie = headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no Set-Cookie {name} in {headers:?}"));
    let (pair, attributes) = cookie.split_once(';').unwrap_or((cookie, ""));
    (pair.to_string(), attributes.to_ascii_lowercase())
}

fn x_set_cookie(headers: &HeaderMap) -> String {
    headers
        .get("x-set-cookie")
        .expect("X-Set-Cookie")
        .to_str()
        .unwrap()
        .to_string()
}

/// The native thread of `key` (URL-encoded here).
async fn native_thread(app: &TestApp, key: &str) -> Value {
    expect_status(
        app.get(&format!(
            "/api/v1/articles/{}/comments?limit=200",
            urlencode(key)
        ))
        .await,
        StatusCode::OK,
    )
    .await
}

async fn get_json(app: &TestApp, path: &str) -> Value {
    expect_status(app.get(path).await, StatusCode::OK).await
}

#[tokio::test]
async fn config_reports_the_settings_isso_clients_take_from_the_server() {
    let app = spawn_app().await;
    let config = get_json(&app, "/isso/config").await;
    assert_eq!(
        config,
        json!({"config": {"reply-to-self": false, "require-author": true, "require-email": true,
                          "reply-notifications": false, "gravatar": false, "vote": true,
                          "vote-levels": null, "feed": false}})
    );

    let app = spawn_app_with(
        "[comments]\nrequire_name_email = false\navatars = \"gravatar\"\n\
         [isso]\nreply_to_self = true\nvote = false\nvote_levels = [-5, 5, 15]\n\
         feed_base = \"https://blog.example\"\n",
    )
    .await;
    let config = get_json(&app, "/isso/config").await["config"].clone();
    assert_eq!(config["reply-to-self"], true);
    assert_eq!(config["require-author"], false);
    assert_eq!(config["require-email"], false);
    assert_eq!(config["gravatar"], true);
    assert_eq!(config["avatar"], false, "no identicons beside Gravatar");
    assert_eq!(config["vote"], false);
    assert_eq!(config["vote-levels"], json!([-5, 5, 15]));
    assert_eq!(config["feed"], true);
}

#[tokio::test]
async fn a_published_comment_answers_201_in_isso_shape_and_is_the_json_apis_too() {
    let app = spawn_app_with(&blog_settings("")).await;
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let mut body = guest("Hello **world**");
    body["website"] = json!("ada.example");
    body["unknown"] = json!("dropped, as Isso does");
    let (status, headers, created) = post_new(&app, "/blog/hello/", body, "198.51.100.1").await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert!(created["id"].as_i64().unwrap() > 0);
    assert_eq!(created["parent"], Value::Null);
    assert_eq!(created["text"], "<p>Hello <strong>world</strong></p>\n");
    assert_eq!(created["author"], "Ada");
    assert_eq!(created["website"], "http://ada.example/");
    assert_eq!(created["mode"], 1);
    let at = created["created"].as_f64().unwrap();
    assert!(
        at >= before - 1.0 && at <= before + 60.0,
        "{at} vs {before}"
    );
    assert_eq!(created["modified"], Value::Null);
    assert_eq!(
        (created["likes"].clone(), created["dislikes"].clone()),
        (json!(0), json!(0))
    );
    let hash = created["hash"].as_str().unwrap();
    assert_eq!(hash.len(), 12);
    assert!(hash.chars().all(|c| c.is_ascii_hexdigit()), "{hash}");
    assert!(created.get("email").is_none(), "{created}");
    let text = created.to_string();
    assert!(
        !text.contains("ada@example.com") && !text.contains("198.51.100.1"),
        "{text}"
    );

    let id = id_of(&created);
    let (pair, attributes) = set_cookie(&headers, &id.to_string());
    assert!(pair.len() > 40, "{pair}");
    for expected in [
        "httponly",
        "path=/isso",
        "max-age=900",
        "samesite=none",
        "secure",
    ] {
        assert!(attributes.contains(expected), "{expected} in {attributes}");
    }
    assert!(x_set_cookie(&headers).starts_with(&format!("isso-{id}=")));

    // The same comment through the JSON API, under the page's path, in the
    // article the comment created with the page's title.
    let thread = native_thread(&app, "/blog/hello/").await;
    assert_eq!(thread["total"], 1);
    assert_eq!(thread["comments"][0]["id"], id);
    assert_eq!(thread["comments"][0]["body"], "Hello **world**");
    assert_eq!(thread["article"]["title"], "Hello, world");
    assert_eq!(thread["article"]["url"], "https://blog.example/blog/hello/");
}

#[tokio::test]
async fn names_and_websites_come_escaped_for_the_html_isso_clients_build() {
    let app = spawn_app_with(&blog_settings("")).await;
    let body = json!({"text": "Hello there", "author": "Tom & Jerry", "email": "tj@example.com",
                      "website": "https://tj.example/?a='1'&b=2"});
    let (status, _, created) = post_new(&app, "/escaped/", body, "198.51.100.1").await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["author"], "Tom &amp; Jerry");
    let website = created["website"].as_str().unwrap();
    assert!(
        !website.contains('\'') && !website.contains("&b"),
        "{website}"
    );
    assert!(website.starts_with("https://tj.example/?a="), "{website}");
    // Stored as typed: the JSON API shows the name itself.
    let thread = native_thread(&app, "/escaped/").await;
    assert_eq!(thread["comments"][0]["author"]["name"], "Tom & Jerry");
}

#[tokio::test]
async fn a_held_comment_answers_202_with_mode_2_and_stays_out_of_the_thread() {
    let app = spawn_app_with(&blog_settings("[moderation]\nmode = \"all\"\n")).await;
    let (status, headers, created) =
        post_new(&app, "/held/", guest("Wait for me"), "198.51.100.1").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{created}");
    assert_eq!(created["mode"], 2);
    assert_eq!(created["text"], "<p>Wait for me</p>\n");
    // Its author may still edit it.
    set_cookie(&headers, &id_of(&created).to_string());
    let thread = get_json(&app, "/isso/?uri=%2Fheld%2F").await;
    assert_eq!(thread["total_replies"], 0);
    assert_eq!(thread["replies"], json!([]));
    assert_eq!(native_thread(&app, "/held/").await["total"], 0);
}

#[tokio::test]
async fn the_spam_pipeline_judges_isso_comments_too() {
    let app = spawn_app_with(&blog_settings("")).await;
    let (status, _, links) = post_new(
        &app,
        "/spam/",
        guest("See https://one.example and https://two.example"),
        "198.51.100.1",
    )
    .await;
    assert_eq!(
        (status, links["mode"].clone()),
        (StatusCode::ACCEPTED, json!(2))
    );
    // The honeypot field, if a bot sends it, is read as on the JSON API.
    let mut bot = guest("Nice post");
    bot["fax_number"] = json!("555-0100");
    let (status, _, trapped) = post_new(&app, "/spam/", bot, "198.51.100.2").await;
    assert_eq!(
        (status, trapped["mode"].clone()),
        (StatusCode::ACCEPTED, json!(2))
    );
    assert_eq!(native_thread(&app, "/spam/").await["total"], 0);
}

#[tokio::test]
async fn bad_input_answers_400_never_422_or_500() {
    let app = spawn_app_with(&blog_settings("")).await;
    let app = &app;
    let refused = |body: Value| async move {
        let (status, _, answer) = post_new(app, "/bad/", body, "198.51.100.1").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        answer
    };
    refused(json!({"author": "Ada", "email": "ada@example.com"})).await;
    refused(json!({"text": 5})).await;
    refused(json!({"text": "hi there", "parent": "one", "author": "A", "email": "a@example.com"}))
        .await;
    let answer =
        refused(json!({"text": "hi there", "author": "Ada", "email": "not an email"})).await;
    assert_eq!(answer["error"]["field"], "author.email");
    refused(json!({"text": "hi there", "author": "Ada"})).await;
    refused(
        json!({"text": "hi there", "author": "Ada", "email": "a@example.com",
                   "website": "javascript:alert(1)"}),
    )
    .await;
    refused(json!(["not", "an", "object"])).await;
    refused(json!({"text": "NUL \u{0} inside", "author": "Ada", "email": "a@example.com"})).await;
    let not_json = isso(
        app,
        Method::POST,
        "/isso/new?uri=/bad/",
        None,
        "198.51.100.1",
        None,
    )
    .await;
    assert_eq!(not_json.status(), StatusCode::BAD_REQUEST);
    // A reply to a comment of no thread of ours.
    refused(json!({"text": "hi there", "author": "Ada", "email": "a@example.com", "parent": 999}))
        .await;
    // A form's content type is refused as forged.
    let form = app
        .request(Method::POST, "/isso/new?uri=/bad/")
        .header("Content-Type", "text/plain")
        .body(guest("hi there").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::FORBIDDEN);
    assert_eq!(native_thread(app, "/bad/").await["total"], 0);
}

#[tokio::test]
async fn refusals_keep_the_statuses_isso_clients_know() {
    let app = spawn_app_with(&blog_settings("[comments]\nallow_guests = false\n")).await;
    let (status, _, _) = post_new(&app, "/closed/", guest("hello there"), "198.51.100.1").await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let app = spawn_app_with(&blog_settings("")).await;
    app.admin_put_article("%2Fclosed%2F", &json!({"comments_open": false}))
        .await;
    let (status, _, answer) =
        post_new(&app, "/closed/", guest("hello there"), "198.51.100.1").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(answer["error"]["code"], "comments_closed");
}

/// A thread made through the JSON API: 1, 1 ← 2, 2 ← 3 (a reply to a
/// reply), and 4; returns their ids.
async fn nested_thread(app: &TestApp, key: &str) -> [i64; 4] {
    let encoded = urlencode(key);
    let first = id_of(&app.guest_comment(&encoded, "First comment").await);
    let second = id_of(&app.guest_reply(&encoded, first, "A reply").await);
    let third = id_of(
        &app.guest_reply(&encoded, second, "A reply to the reply")
            .await,
    );
    let fourth = id_of(
        &app.guest_comment(&encoded, "Second top-level comment")
            .await,
    );
    [first, second, third, fourth]
}

fn ids(list: &Value) -> Vec<i64> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn threads_nest_one_level_deep_and_page_by_limit_and_offset() {
    let app = spawn_app().await;
    let [first, second, third, fourth] = nested_thread(&app, "/nested/").await;
    let thread = get_json(
        &app,
        "/isso/?uri=%2Fnested%2F&sort=oldest&offset=0&nested_limit=5",
    )
    .await;
    assert_eq!(thread["id"], Value::Null);
    assert_eq!(thread["total_replies"], 4);
    assert_eq!(thread["hidden_replies"], 0);
    assert_eq!(ids(&thread["replies"]), [first, fourth]);
    assert_eq!(thread["config"]["vote"], true);
    let top = &thread["replies"][0];
    assert_eq!(top["total_replies"], 2);
    assert_eq!(top["hidden_replies"], 0);
    assert_eq!(ids(&top["replies"]), [second, third]);
    // The reply to the reply is filed under the top-level comment.
    assert_eq!(top["replies"][1]["parent"], first);
    assert_eq!(top["replies"][1]["text"], "<p>A reply to the reply</p>\n");
    assert_eq!(thread["replies"][1]["replies"], json!([]));
    assert_eq!(thread["replies"][1]["total_replies"], 0);

    let limited = get_json(&app, "/isso/?uri=/nested/&limit=1&nested_limit=1").await;
    assert_eq!(ids(&limited["replies"]), [first]);
    assert_eq!(limited["hidden_replies"], 1);
    assert_eq!(limited["total_replies"], 4);
    assert_eq!(ids(&limited["replies"][0]["replies"]), [second]);
    assert_eq!(limited["replies"][0]["hidden_replies"], 1);

    // "Load more": the replies of one comment from an offset.
    let more = get_json(
        &app,
        &format!("/isso/?uri=/nested/&parent={first}&limit=5&offset=1"),
    )
    .await;
    assert_eq!(more["id"], first);
    assert_eq!(ids(&more["replies"]), [third]);
    assert_eq!(
        (
            more["total_replies"].clone(),
            more["hidden_replies"].clone()
        ),
        (json!(2), json!(0))
    );
    assert!(more["replies"][0].get("replies").is_none());

    let newest = get_json(&app, "/isso/?uri=/nested/&sort=newest").await;
    assert_eq!(ids(&newest["replies"]), [fourth, first]);
    let plain = get_json(&app, "/isso/?uri=/nested/&plain=1").await;
    assert_eq!(plain["replies"][1]["text"], "Second top-level comment");
    let after = get_json(&app, "/isso/?uri=/nested/&after=4102444800").await;
    assert_eq!(after["replies"], json!([]));
    assert_eq!(after["total_replies"], 4);

    let unknown = get_json(&app, "/isso/?uri=/nobody-here/").await;
    assert_eq!(
        (unknown["total_replies"].clone(), unknown["replies"].clone()),
        (json!(0), json!([]))
    );
    for bad in [
        "sort=best",
        "limit=-1",
        "limit=x",
        "offset=-2",
        "nested_limit=y",
        "parent=z",
    ] {
        let response = app.get(&format!("/isso/?uri=/nested/&{bad}")).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
}

#[tokio::test]
async fn a_uri_is_the_articles_key_and_one_that_cannot_be_one_is_400() {
    let app = spawn_app_with(&blog_settings("")).await;
    // Escaped letters are decoded; characters keys refuse are escaped.
    let (status, _, _) = post_new(&app, "/caf%C3%A9/it's/", guest("Ça va"), "198.51.100.1").await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(native_thread(&app, "/café/it%27s/").await["total"], 1);
    let counts = expect_status(
        isso(
            &app,
            Method::POST,
            "/isso/count",
            Some(json!(["/café/it's/"])),
            "198.51.100.9",
            None,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(counts, json!([1]));

    for bad in [
        "/isso/?uri=",
        "/isso/?uri=%25G1",
        "/isso/",
        &format!("/isso/?uri=/{}", "a".repeat(300)),
    ] {
        let response = app.get(bad).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    let (status, _, _) = post_new(&app, "", guest("hello there"), "198.51.100.1").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// Posts a comment and returns its id and the `Cookie` header that carries
/// its edit cookie back.
async fn post_with_cookie(
    app: &TestApp,
    uri: &str,
    text: &str,
    ip: &str,
) -> (i64, String, HeaderMap) {
    let (status, headers, created) = post_new(app, uri, guest(text), ip).await;
    assert!(status.is_success(), "{status}: {created}");
    let id = id_of(&created);
    let (pair, _) = set_cookie(&headers, &id.to_string());
    (id, pair, headers)
}

#[tokio::test]
async fn edits_reads_and_deletes_need_the_comments_own_edit_cookie() {
    let app = spawn_app_with(&blog_settings("")).await;
    let (id, cookie, _) = post_with_cookie(&app, "/edit/", "First version", "198.51.100.1").await;
    let (other, other_cookie, _) =
        post_with_cookie(&app, "/edit/", "Someone else's", "198.51.100.2").await;
    let path = format!("/isso/id/{id}");
    let ip = "198.51.100.1";

    // Without the cookie, or with another comment's cookie under this id's
    // name, nothing is allowed.
    let forged = other_cookie.replacen(&format!("{other}="), &format!("{id}="), 1);
    for cookie in [None, Some(forged.as_str())] {
        let edit = isso(
            &app,
            Method::PUT,
            &path,
            Some(json!({"text": "Hijacked"})),
            ip,
            cookie,
        )
        .await;
        assert_eq!(edit.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            isso(&app, Method::GET, &path, None, ip, cookie)
                .await
                .status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            isso(&app, Method::DELETE, &path, None, ip, cookie)
                .await
                .status(),
            StatusCode::FORBIDDEN
        );
    }

    let viewed = expect_status(
        isso(
            &app,
            Method::GET,
            &format!("{path}?plain=1"),
            None,
            ip,
            Some(&cookie),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(viewed["text"], "First version");
    let edited = isso(
        &app,
        Method::PUT,
        &path,
        Some(json!({"text": "Second *version*"})),
        ip,
        Some(&cookie),
    )
    .await;
    let headers = edited.headers().clone();
    let edited = expect_status(edited, StatusCode::OK).await;
    assert_eq!(edited["text"], "<p>Second <em>version</em></p>\n");
    assert!(edited["modified"].as_f64().unwrap() >= edited["created"].as_f64().unwrap());
    let (_, attributes) = set_cookie(&headers, &id.to_string());
    assert!(attributes.contains("max-age=")); // renewed, up to the window's end
    assert_eq!(
        native_thread(&app, "/edit/").await["comments"][0]["body"],
        "Second *version*"
    );

    let deleted = isso(&app, Method::DELETE, &path, None, ip, Some(&cookie)).await;
    let headers = deleted.headers().clone();
    assert_eq!(expect_status(deleted, StatusCode::OK).await, Value::Null);
    let (pair, attributes) = set_cookie(&headers, &id.to_string());
    assert_eq!(pair, format!("{id}="));
    assert!(attributes.contains("max-age=0"), "{attributes}");
    assert!(x_set_cookie(&headers).contains("Max-Age=0"));
    // Gone: the cookie is of no use any more.
    assert_eq!(
        isso(&app, Method::GET, &path, None, ip, Some(&cookie))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        ids(&native_thread(&app, "/edit/").await["comments"]),
        [other]
    );
    assert_eq!(
        isso(&app, Method::GET, "/isso/id/99999", None, ip, Some(&cookie))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_deleted_comment_with_replies_answers_as_a_mode_4_placeholder() {
    let app = spawn_app_with(&blog_settings("")).await;
    let (id, cookie, _) = post_with_cookie(&app, "/kept/", "Soon gone", "198.51.100.1").await;
    // Someone else replies through Isso (the client sends the parent).
    let (status, _, reply) = post_new(
        &app,
        "/kept/",
        json!({"text": "An answer", "author": "Bo", "email": "bo@example.com", "parent": id}),
        "198.51.100.2",
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(reply["parent"], id);
    let deleted = expect_status(
        isso(
            &app,
            Method::DELETE,
            &format!("/isso/id/{id}"),
            None,
            "198.51.100.1",
            Some(&cookie),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(deleted["id"], id);
    assert_eq!(deleted["mode"], 4);
    assert_eq!(deleted["text"], "");
    assert_eq!(deleted["author"], Value::Null);
    let thread = get_json(&app, "/isso/?uri=/kept/").await;
    assert_eq!(thread["replies"][0]["mode"], 4);
    assert_eq!(ids(&thread["replies"][0]["replies"]), [id_of(&reply)]);
}

#[tokio::test]
async fn replying_to_ones_own_comment_waits_for_the_edit_window_unless_allowed() {
    let app = spawn_app_with(&blog_settings("")).await;
    let (id, cookie, _) = post_with_cookie(&app, "/self/", "My point", "198.51.100.1").await;
    let reply = json!({"text": "And another thing", "author": "Ada", "email": "ada@example.com", "parent": id});
    // From the same address, or with the comment's cookie from another.
    let same_address = post_new(&app, "/self/", reply.clone(), "198.51.100.1").await;
    assert_eq!(same_address.0, StatusCode::FORBIDDEN, "{}", same_address.2);
    let with_cookie = isso(
        &app,
        Method::POST,
        "/isso/new?uri=/self/",
        Some(reply.clone()),
        "198.51.100.7",
        Some(&cookie),
    )
    .await;
    assert_eq!(with_cookie.status(), StatusCode::FORBIDDEN);
    // Anyone else may.
    assert_eq!(
        post_new(&app, "/self/", reply.clone(), "198.51.100.8")
            .await
            .0,
        StatusCode::CREATED
    );

    let app = spawn_app_with(&blog_settings("[isso]\nreply_to_self = true\n")).await;
    let (id, _, _) = post_with_cookie(&app, "/self/", "My point", "198.51.100.1").await;
    let mut reply = reply;
    reply["parent"] = json!(id);
    assert_eq!(
        post_new(&app, "/self/", reply, "198.51.100.1").await.0,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn the_edit_cookie_lasts_the_edit_window_and_carries_no_token_to_scripts() {
    let app = spawn_app_with(&blog_settings("[comments]\nedit_window = \"5m\"\n")).await;
    let (id, cookie, headers) = post_with_cookie(&app, "/window/", "Timed", "198.51.100.1").await;
    let (_, attributes) = set_cookie(&headers, &id.to_string());
    assert!(attributes.contains("max-age=300"), "{attributes}");
    let page = x_set_cookie(&headers);
    assert!(
        page.contains("Max-Age=300") && page.contains("Path=/;"),
        "{page}"
    );
    // The server cookie is <id>.<expiry>.<edit token>.<signature>; the
    // page's copy holds no part of the token.
    let token = cookie.split('.').nth(2).unwrap();
    assert_eq!(token.len(), 43, "{cookie}");
    assert!(!page.contains(token), "{page}");

    let app = spawn_app_with(&blog_settings("[comments]\nedit_window = \"1s\"\n")).await;
    let (id, cookie, _) = post_with_cookie(&app, "/window/", "Quick", "198.51.100.1").await;
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let late = isso(
        &app,
        Method::PUT,
        &format!("/isso/id/{id}"),
        Some(json!({"text": "Too late"})),
        "198.51.100.1",
        Some(&cookie),
    )
    .await;
    assert_eq!(late.status(), StatusCode::FORBIDDEN);
}

async fn vote(app: &TestApp, id: i64, how: &str, ip: &str, cookie: Option<&str>) -> Value {
    expect_status(
        isso(
            app,
            Method::POST,
            &format!("/isso/id/{id}/{how}"),
            None,
            ip,
            cookie,
        )
        .await,
        StatusCode::OK,
    )
    .await
}

#[tokio::test]
async fn votes_count_once_per_address_and_never_on_ones_own_comment() {
    let app = spawn_app_with(&blog_settings("")).await;
    let (id, cookie, _) = post_with_cookie(&app, "/votes/", "Vote on me", "198.51.100.1").await;
    let (other, _, _) = post_with_cookie(&app, "/votes/", "Or on me", "198.51.100.2").await;

    assert_eq!(
        vote(&app, id, "like", "203.0.113.1", None).await,
        json!({"likes": 1, "dislikes": 0})
    );
    let again = vote(&app, id, "like", "203.0.113.1", None).await;
    assert_eq!(
        (again["likes"].clone(), again["dislikes"].clone()),
        (json!(1), json!(0))
    );
    assert!(again["message"].is_string());
    // One vote per address, whichever way.
    assert_eq!(
        vote(&app, id, "dislike", "203.0.113.1", None).await["dislikes"],
        0
    );
    assert_eq!(
        vote(&app, id, "dislike", "203.0.113.2", None).await,
        json!({"likes": 1, "dislikes": 1})
    );
    // Not on one's own: from its address, or with its edit cookie.
    let own = vote(&app, id, "like", "198.51.100.1", None).await;
    assert_eq!(
        (own["likes"].clone(), own["message"].is_string()),
        (json!(1), true)
    );
    let own = vote(&app, id, "like", "203.0.113.3", Some(&cookie)).await;
    assert_eq!(own["likes"], 1);

    vote(&app, other, "like", "203.0.113.1", None).await;
    vote(&app, other, "like", "203.0.113.2", None).await;
    let thread = get_json(&app, "/isso/?uri=/votes/&sort=upvotes").await;
    assert_eq!(ids(&thread["replies"]), [other, id]);
    assert_eq!(thread["replies"][0]["likes"], 2);
    assert_eq!(
        (
            thread["replies"][1]["likes"].clone(),
            thread["replies"][1]["dislikes"].clone()
        ),
        (json!(1), json!(1))
    );

    let missing = isso(
        &app,
        Method::POST,
        "/isso/id/99999/like",
        None,
        "203.0.113.1",
        None,
    )
    .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let off = spawn_app_with(&blog_settings("[isso]\nvote = false\n")).await;
    let (id, _, _) = post_with_cookie(&off, "/votes/", "No votes here", "198.51.100.1").await;
    let refused = isso(
        &off,
        Method::POST,
        &format!("/isso/id/{id}/like"),
        None,
        "203.0.113.1",
        None,
    )
    .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn held_comments_take_no_votes() {
    let app = spawn_app_with(&blog_settings("[moderation]\nmode = \"all\"\n")).await;
    let (id, _, _) = post_with_cookie(&app, "/votes/", "Held", "198.51.100.1").await;
    let held = isso(
        &app,
        Method::POST,
        &format!("/isso/id/{id}/like"),
        None,
        "203.0.113.1",
        None,
    )
    .await;
    assert_eq!(held.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn preview_renders_with_the_comment_renderer_and_sanitizes() {
    let app = spawn_app().await;
    let preview = expect_status(
        app.post_json(
            "/isso/preview",
            &json!({"text": "**bold** <script>alert(1)</script> [x](javascript:alert(1))"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let html = preview["text"].as_str().unwrap();
    assert!(html.contains("<strong>bold</strong>"), "{html}");
    assert!(html.contains("&lt;script&gt;"), "{html}");
    assert!(
        !html.contains("<script") && !html.contains("javascript:"),
        "{html}"
    );
    let missing = app.post_json("/isso/preview", &json!({"body": "x"})).await;
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn count_answers_published_counts_in_the_order_asked() {
    let app = spawn_app().await;
    app.guest_comment("%2Fa%2F", "One on a").await;
    app.guest_comment("%2Fa%2F", "Two on a").await;
    app.guest_comment("%2Fb%2F", "One on b").await;
    let counts = expect_status(
        app.post_json(
            "/isso/count",
            &json!(["/b/", "/a/", "/none/", "/a/", "", "/a%G1"]),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(counts, json!([1, 2, 0, 2, 0, 0]));
    assert_eq!(
        expect_status(
            app.post_json("/isso/count", &json!([])).await,
            StatusCode::OK
        )
        .await,
        json!([])
    );
    for bad in [json!({"uri": "/a/"}), json!([1, 2])] {
        assert_eq!(
            app.post_json("/isso/count", &bad).await.status(),
            StatusCode::BAD_REQUEST
        );
    }
}

#[tokio::test]
async fn the_feed_is_atom_with_every_text_escaped() {
    let app = spawn_app_with(&blog_settings(
        "[isso]\nfeed_base = \"https://blog.example/\"\n",
    ))
    .await;
    let (status, _, first) = post_new(
        &app,
        "/feed/",
        json!({"text": "Tags like <b> & \"quotes\" stay text", "author": "Ada & Bo",
               "email": "ada@example.com"}),
        "198.51.100.1",
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let reply = app
        .guest_reply("%2Ffeed%2F", id_of(&first), "A reply")
        .await;
    let response = app.get("/isso/feed?uri=/feed/").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/atom+xml"));
    let xml = response.text().await.unwrap();
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\""), "{xml}");
    assert_eq!(xml.matches("<entry>").count(), 2, "{xml}");
    // Newest first, each linking to its place on the page.
    let reply_at = xml
        .find(&format!("comment:{}</id>", id_of(&reply)))
        .unwrap();
    let first_at = xml
        .find(&format!("comment:{}</id>", id_of(&first)))
        .unwrap();
    assert!(reply_at < first_at, "{xml}");
    assert!(
        xml.contains("href=\"https://blog.example/feed/#isso-"),
        "{xml}"
    );
    assert!(xml.contains("<name>Ada &amp; Bo</name>"), "{xml}");
    // The HTML is text inside the feed: its own escapes escaped again.
    assert!(
        xml.contains("&lt;p&gt;Tags like &amp;lt;b&amp;gt; &amp;amp; "),
        "{xml}"
    );
    assert!(
        xml.contains("&quot;quotes&quot; stay text&lt;/p&gt;"),
        "{xml}"
    );
    assert!(!xml.contains("<b>") && !xml.contains("<p>"), "{xml}");
    assert!(xml.contains("<thr:in-reply-to"), "{xml}");
    assert!(xml.trim_end().ends_with("</feed>"));

    let empty = app
        .get("/isso/feed?uri=/nothing-yet/")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(empty.matches("<entry>").count(), 0);
    assert!(
        empty.contains("<updated>1970-01-01T00:00:00.000Z</updated>"),
        "{empty}"
    );

    let off = spawn_app().await;
    assert_eq!(
        off.get("/isso/feed?uri=/feed/").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn cors_lets_the_blog_call_with_credentials_and_read_the_isso_headers() {
    let app = spawn_app_with(&blog_settings("")).await;
    let preflight = app
        .request(Method::OPTIONS, "/isso/id/1")
        .header("Origin", BLOG)
        .header("Access-Control-Request-Method", "PUT")
        .header("Access-Control-Request-Headers", "content-type")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), StatusCode::OK);
    let headers = preflight.headers();
    assert_eq!(headers["access-control-allow-origin"], BLOG);
    assert_eq!(headers["access-control-allow-credentials"], "true");
    let methods = headers["access-control-allow-methods"].to_str().unwrap();
    assert!(
        methods.contains("PUT") && methods.contains("DELETE"),
        "{methods}"
    );

    let (_, headers, _) = post_new(&app, "/cors/", guest("Across origins"), "198.51.100.1").await;
    assert_eq!(headers["access-control-allow-origin"], BLOG);
    assert_eq!(headers["access-control-allow-credentials"], "true");
    let exposed = headers["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    for header in ["x-set-cookie", "date"] {
        assert!(exposed.contains(header), "{header} in {exposed}");
    }
    assert!(headers.contains_key("date"));

    // Another origin gets no CORS headers, so its pages cannot read.
    let stranger = app
        .request(Method::GET, "/isso/config")
        .header("Origin", "https://elsewhere.example")
        .send()
        .await
        .unwrap();
    assert!(!stranger
        .headers()
        .contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn the_prefix_setting_moves_the_api_and_enabled_false_removes_it() {
    let app = spawn_app_with(&blog_settings("[isso]\nprefix = \"/comments/isso\"\n")).await;
    assert_eq!(
        app.get("/comments/isso/config").await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.get("/isso/config").await.status(),
        StatusCode::NOT_FOUND
    );
    let response = isso(
        &app,
        Method::POST,
        "/comments/isso/new?uri=/moved/",
        Some(guest("Under another prefix")),
        "198.51.100.1",
        None,
    )
    .await;
    let headers = response.headers().clone();
    let created = expect_status(response, StatusCode::CREATED).await;
    let (_, attributes) = set_cookie(&headers, &id_of(&created).to_string());
    assert!(attributes.contains("path=/comments/isso"), "{attributes}");

    let off = spawn_app_with("[isso]\nenabled = false\n").await;
    for path in ["/isso/config", "/isso/?uri=/x/"] {
        assert_eq!(
            off.get(path).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    off.guest_comment("still-works", "The JSON API is unaffected")
        .await;
}

#[tokio::test]
async fn latest_lists_the_newest_published_comments_of_every_thread_when_on() {
    let off = spawn_app().await;
    assert_eq!(
        off.get("/isso/latest?limit=5").await.status(),
        StatusCode::NOT_FOUND
    );

    let app = spawn_app_with("[isso]\nlatest = true\n").await;
    let first = id_of(&app.guest_comment("%2Fone%2F", "The first comment").await);
    let second = id_of(&app.guest_comment("%2Ftwo%2F", "The second comment").await);
    let third = id_of(
        &app.guest_reply("%2Fone%2F", first, "The third comment")
            .await,
    );
    // A held comment is not listed.
    app.guest_comment("%2Fone%2F", "See https://a.example and https://b.example")
        .await;
    let latest = get_json(&app, "/isso/latest?limit=2").await;
    assert_eq!(
        ids(&latest),
        [second, third],
        "the newest two, oldest first"
    );
    assert_eq!(latest[0]["uri"], "/two/");
    assert_eq!(latest[1]["uri"], "/one/");
    assert_eq!(latest[1]["parent"], first);
    assert_eq!(latest[1]["text"], "<p>The third comment</p>\n");
    assert_eq!(latest[1]["mode"], 1);
    for bad in [
        "/isso/latest",
        "/isso/latest?limit=0",
        "/isso/latest?limit=x",
    ] {
        assert_eq!(
            app.get(bad).await.status(),
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }
}

#[tokio::test]
async fn a_page_holds_at_most_max_page_size_comments_and_replies_each() {
    let app = spawn_app_with("[comments]\npage_size = 2\nmax_page_size = 2\n").await;
    let [first, second, third, fourth] = nested_thread(&app, "/big/").await;
    let fifth = id_of(
        &app.guest_comment("%2Fbig%2F", "Third top-level comment")
            .await,
    );
    let sixth = id_of(&app.guest_reply("%2Fbig%2F", first, "Another reply").await);
    // What Isso's client asks by default: every top-level comment.
    let thread = get_json(&app, "/isso/?uri=/big/&sort=oldest&offset=0").await;
    assert_eq!(ids(&thread["replies"]), [first, fourth]);
    assert_eq!(thread["hidden_replies"], 1, "the client offers the rest");
    let replies = &thread["replies"][0];
    assert_eq!(ids(&replies["replies"]), [second, third]);
    assert_eq!(
        (
            replies["total_replies"].clone(),
            replies["hidden_replies"].clone()
        ),
        (json!(3), json!(1))
    );
    let asked_more = get_json(&app, "/isso/?uri=/big/&limit=50&offset=2").await;
    assert_eq!(ids(&asked_more["replies"]), [fifth]);
    let rest = get_json(
        &app,
        &format!("/isso/?uri=/big/&parent={first}&offset=2&limit=9"),
    )
    .await;
    assert_eq!(ids(&rest["replies"]), [sixth]);
}

#[tokio::test]
async fn cached_threads_follow_every_change_comments_votes_edits_decisions() {
    let app = spawn_app_with(&blog_settings("")).await;
    let moderator = app
        .user(moderato::domain::Role::Moderator, "mod@example.com")
        .await;
    let thread = |app: &TestApp| {
        let app_url = app.url("/isso/?uri=%2Fcached%2F");
        let client = app.client.clone();
        async move {
            client
                .get(app_url)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    // An empty thread is answered (and kept) before the article exists.
    assert_eq!(thread(&app).await["total_replies"], 0);
    assert_eq!(thread(&app).await["total_replies"], 0);

    let (id, cookie, _) = post_with_cookie(&app, "/cached/", "First", "198.51.100.1").await;
    let seen = thread(&app).await;
    assert_eq!(
        seen["total_replies"], 1,
        "a new comment drops the kept answer"
    );
    assert_eq!(seen["replies"][0]["likes"], 0);

    vote(&app, id, "like", "203.0.113.9", None).await;
    assert_eq!(thread(&app).await["replies"][0]["likes"], 1, "a vote too");
    // A vote that does not count changes nothing, and needs no new answer.
    vote(&app, id, "like", "203.0.113.9", None).await;
    assert_eq!(thread(&app).await["replies"][0]["likes"], 1);

    let edited = isso(
        &app,
        Method::PUT,
        &format!("/isso/id/{id}"),
        Some(json!({"text": "First, edited"})),
        "198.51.100.1",
        Some(&cookie),
    )
    .await;
    assert_eq!(edited.status(), StatusCode::OK);
    assert!(thread(&app).await["replies"][0]["text"]
        .as_str()
        .unwrap()
        .contains("First, edited"));

    crate::helpers::decided(&app, &moderator.token, id, "trash").await;
    assert_eq!(
        thread(&app).await["total_replies"],
        0,
        "a moderator's decision too"
    );
}
