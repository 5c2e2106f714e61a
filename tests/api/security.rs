//! Hostile input and abuse: stored XSS, malformed requests, CORS and CSRF,
//! security headers, rate limits, the OpenAPI description.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{expect_error, expect_status, spawn_app, spawn_app_with};
use moderato::domain::Role;

/// Filter-evasion payloads: script tags in their spellings, event
/// handlers, javascript:/data: URLs, SVG, malformed tags, entity tricks.
const XSS_PAYLOADS: &[&str] = &[
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<script\x20type=\"text/javascript\">alert(1);</script>",
    "<img src=x onerror=alert(1)>",
    "<IMG SRC=\"javascript:alert('XSS');\">",
    "<img src=javascript:alert(&quot;XSS&quot;)>",
    "<img src=`javascript:alert(1)`>",
    "<svg/onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<body onload=alert(1)>",
    "<iframe src=\"javascript:alert(1)\"></iframe>",
    "<a href=\"javascript:alert(1)\">x</a>",
    "<a href=\"jav&#x09;ascript:alert(1)\">x</a>",
    "<a href=\"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)\">x</a>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](javascript&#58;alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](vbscript:msgbox(1))",
    "![x](javascript:alert(1))",
    "![x\" onerror=\"alert(1)](https://example.com/a.png)",
    "<div style=\"background:url(javascript:alert(1))\">x</div>",
    "<style>*{background:url(javascript:alert(1))}</style>",
    "<object data=\"data:text/html,<script>alert(1)</script>\"></object>",
    "<embed src=\"javascript:alert(1)\">",
    "<form action=\"javascript:alert(1)\"><button>x</button></form>",
    "<input autofocus onfocus=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<base href=\"javascript:alert(1)//\">",
    "<<script>script>alert(1)<</script>/script>",
    "<img \"\"\"><script>alert(1)</script>\">",
    "<a href=\"https://ok.example\" onclick=\"alert(1)\">ok</a>",
    "[ok](https://ok.example \"title\\\" onmouseover=\\\"alert(1)\")",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "<!--<script>alert(1)//-->",
    "<![CDATA[<script>alert(1)</script>]]>",
    "`<script>alert(1)</script>`",
    "```\n<script>alert(1)</script>\n```",
    "<a href=\"  javascript:alert(1)\">x</a>",
    "<a href=\"java&#0;script:alert(1)\">x</a>",
];

/// Whether an HTML fragment can run script in a browser: a tag outside the
/// small allow-list, an event-handler attribute, or an attribute URL that
/// is not http, https or mailto. Only real tags count: text that shows a
/// payload escaped (`&lt;script&gt;`) is harmless.
fn executable(html: &str) -> Option<String> {
    const ALLOWED: &[&str] = &[
        "a",
        "blockquote",
        "br",
        "code",
        "del",
        "em",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "li",
        "ol",
        "p",
        "pre",
        "strong",
        "table",
        "tbody",
        "td",
        "th",
        "thead",
        "tr",
        "ul",
    ];
    let tag = regex::Regex::new(r"<(/?)([A-Za-z][A-Za-z0-9]*)([^>]*)>").unwrap();
    let attr =
        regex::Regex::new(r#"\s([A-Za-z_:][-A-Za-z0-9_:.]*)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s>]+))?"#)
            .unwrap();
    for cap in tag.captures_iter(html) {
        let name = cap[2].to_ascii_lowercase();
        if !ALLOWED.contains(&name.as_str()) {
            return Some(format!("element <{name}>"));
        }
        for a in attr.captures_iter(&cap[3]) {
            let key = a[1].to_ascii_lowercase();
            let value = a
                .get(2)
                .map_or("", |v| v.as_str())
                .trim_matches(['"', '\''])
                .trim()
                .to_ascii_lowercase();
            match key.as_str() {
                k if k.starts_with("on") => return Some(format!("event handler {k} on <{name}>")),
                "href"
                    if !(value.starts_with("http://")
                        || value.starts_with("https://")
                        || value.starts_with("mailto:")) =>
                {
                    return Some(format!("href {value}"));
                }
                "href" | "rel" | "start" | "title" => {}
                other => return Some(format!("attribute {other} on <{name}>")),
            }
        }
    }
    None
}

#[test]
fn the_xss_checker_catches_what_it_must() {
    assert!(executable("<img src=x onerror=alert(1)>").is_some());
    assert!(executable("<a href=\"javascript:alert(1)\">x</a>").is_some());
    assert!(executable("<p onclick=\"x\">x</p>").is_some());
    assert!(executable("<a href=\"https://ok.example\" style=\"x\">x</a>").is_some());
    assert!(executable("<img src=x onerror=alert(1)>").is_some());
    assert_eq!(executable("<p>&lt;script&gt; <a href=\"https://ok.example\" title=\"a &quot; onclick=&quot;x\" rel=\"nofollow ugc noopener\">ok</a></p>"), None);
}

#[tokio::test]
async fn stored_xss_payloads_never_come_back_executable() {
    let app = spawn_app_with("[comments]\nmax_body_bytes = 65536\n[spam]\nreview_threshold = 1.0\nspam_threshold = 1.0\n[[spam.scorers]]\nkind = \"honeypot\"\nsettings = { field = \"fax_number\" }").await;
    for (i, payload) in XSS_PAYLOADS.iter().enumerate() {
        let response = app
            .post_json(
                "/api/v1/articles/xss/comments",
                &json!({"body": format!("{payload} #{i}"), "author": {"name": "Tester", "email": "x@example.com"}}),
            )
            .await;
        let created = expect_status(response, StatusCode::CREATED).await;
        let html = created["html"].as_str().unwrap();
        assert_eq!(
            executable(html),
            None,
            "payload {payload:?} rendered as {html:?}"
        );
    }
    let thread = app.thread("xss").await;
    let comments = thread["comments"].as_array().unwrap();
    assert_eq!(
        comments.len(),
        XSS_PAYLOADS.len(),
        "every payload stored (as text)"
    );
    for comment in comments {
        let html = comment["html"].as_str().unwrap();
        assert_eq!(executable(html), None, "{html}");
    }
}

#[tokio::test]
async fn xss_in_author_names_and_urls_is_refused_or_neutralised() {
    let app = spawn_app().await;
    for name in [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "a<svg onload=alert(1)>",
    ] {
        let response = app
            .post_json(
                "/api/v1/articles/x/comments",
                &json!({"body": "hi", "author": {"name": name, "email": "a@example.com"}}),
            )
            .await;
        let error = expect_error(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field").await;
        assert_eq!(error["error"]["field"], "author.name");
    }
    for url in [
        "javascript:alert(1)",
        "JAVASCRIPT:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        " javascript:alert(1)",
        "vbscript:x",
    ] {
        let response = app
            .post_json("/api/v1/articles/x/comments", &json!({"body": "hi", "author": {"name": "A", "email": "a@example.com", "url": url}}))
            .await;
        let error = expect_error(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field").await;
        assert_eq!(error["error"]["field"], "author.url");
    }
    // An http URL that tries to break out of an attribute is stored
    // percent-encoded, so it cannot.
    let created = app
        .post_json(
            "/api/v1/articles/x/comments",
            &json!({"body": "hi", "author": {"name": "A", "email": "a@example.com", "url": "https://ok.example/\"><script>alert(1)</script>"}}),
        )
        .await;
    let created = expect_status(created, StatusCode::CREATED).await;
    let url = created["author"]["url"].as_str().unwrap();
    assert!(!url.contains(['"', '<', '>']), "{url}");
}

#[tokio::test]
async fn malformed_requests_get_clear_errors_never_500() {
    let app = spawn_app().await;
    let path = "/api/v1/articles/m/comments";
    let raw = |body: Vec<u8>| {
        app.request(Method::POST, path)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    // Deep nesting: serde_json stops at its recursion limit.
    let deep = format!(
        "{{\"body\": \"x\", \"author\": {}{}}}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let response = raw(deep.into_bytes()).await.unwrap();
    assert!(response.status().is_client_error(), "{}", response.status());
    // Wrong types, nulls, numbers as strings.
    for body in [
        r#"{"body": null}"#,
        r#"{"body": ["x"]}"#,
        r#"{"body": "x", "parent_id": "1"}"#,
        r#"{"body": "x", "parent_id": 1.5}"#,
        r#"{"body": "x", "author": "me"}"#,
        r#"{"body": "x", "parent_id": 99999999999999999999999}"#,
    ] {
        let response = raw(body.as_bytes().to_vec()).await.unwrap();
        assert!(
            response.status().is_client_error(),
            "{body}: {}",
            response.status()
        );
    }
    // Empty body, a lone BOM, garbage bytes.
    for body in [Vec::new(), vec![0xEF, 0xBB, 0xBF], vec![0, 159, 146, 150]] {
        let response = raw(body).await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    }
    // Big headers are served or refused by the HTTP layer, never a 5xx; a
    // head far beyond any real client's is refused (or the connection
    // dropped) rather than buffered.
    for size in [16 * 1024, 100 * 1024, 4 * 1024 * 1024] {
        // A client of its own: the server may drop the connection.
        let response = reqwest::Client::new()
            .get(app.url("/healthz"))
            .header("x-huge", "x".repeat(size))
            .send()
            .await;
        if let Ok(response) = response {
            assert!(
                !response.status().is_server_error(),
                "{size}: {}",
                response.status()
            );
            if size > 1024 * 1024 {
                assert!(
                    response.status().is_client_error(),
                    "{size}: {}",
                    response.status()
                );
            }
        }
    }
    // Paths: a key too long, a comment id out of range.
    let long_key = "k".repeat(300);
    expect_error(
        app.get(&format!("/api/v1/articles/{long_key}")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    )
    .await;
    expect_error(
        app.get("/api/v1/articles/%00/comments").await,
        StatusCode::BAD_REQUEST,
        "invalid_text",
    )
    .await;
    let response = app
        .request(Method::DELETE, "/api/v1/comments/99999999999999999999")
        .send()
        .await
        .unwrap();
    expect_error(response, StatusCode::NOT_FOUND, "not_found").await;
    // The service still works afterwards.
    app.guest_comment("m", "still fine").await;
}

#[tokio::test]
async fn reply_chains_thousands_deep_are_stored_and_read() {
    let app = spawn_app().await;
    let mut parent = app.guest_comment("deep", "root").await["id"]
        .as_i64()
        .unwrap();
    let depth = 1000;
    for i in 0..depth {
        let reply = app
            .post_json(
                "/api/v1/articles/deep/comments",
                &json!({"body": format!("reply {i}"), "parent_id": parent, "author": {"name": "R", "email": "r@example.com"}}),
            )
            .await;
        parent = expect_status(reply, StatusCode::CREATED).await["id"]
            .as_i64()
            .unwrap();
    }
    let page = expect_status(
        app.get("/api/v1/articles/deep/comments?limit=200&sort=newest")
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page["total"], depth + 1);
    assert_eq!(page["comments"][0]["id"], parent);
}

#[tokio::test]
async fn every_answer_carries_security_headers() {
    let app = spawn_app().await;
    for path in ["/healthz", "/api/v1/articles/a/comments", "/api/v1/nothing"] {
        let response = app.get(path).await;
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
        assert!(
            headers["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("default-src 'none'"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn cors_is_granted_only_to_configured_origins() {
    let app = spawn_app_with("[server]\ncors_origins = [\"https://blog.example\"]").await;
    let preflight = |origin: &'static str| {
        app.request(Method::OPTIONS, "/api/v1/articles/a/comments")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let allowed = preflight("https://blog.example").await.unwrap();
    assert!(allowed.status().is_success(), "{}", allowed.status());
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://blog.example"
    );
    assert_eq!(
        allowed.headers()["access-control-allow-credentials"],
        "true"
    );
    let refused = preflight("https://evil.example").await.unwrap();
    assert!(!refused
        .headers()
        .contains_key("access-control-allow-origin"));
    // Refused in the documented JSON shape, like every other error.
    expect_error(refused, StatusCode::BAD_REQUEST, "cors_rejected").await;
    let get = app
        .request(Method::GET, "/api/v1/articles/a/comments")
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        get.status(),
        StatusCode::OK,
        "same answer, but no CORS grant"
    );
    assert!(!get.headers().contains_key("access-control-allow-origin"));

    let none = spawn_app().await;
    let response = none
        .request(Method::GET, "/api/v1/articles/a/comments")
        .header("origin", "https://blog.example")
        .send()
        .await
        .unwrap();
    assert!(
        !response
            .headers()
            .contains_key("access-control-allow-origin"),
        "no origins by default"
    );
}

#[tokio::test]
async fn cookie_authenticated_changes_need_an_allowed_origin() {
    let app = spawn_app_with(
        "[auth]\ncookie_secure = false\n[server]\ncors_origins = [\"https://blog.example\"]",
    )
    .await;
    let user = app.user(Role::Commenter, "csrf@example.com").await;
    let cookie = format!("moderato_session={}", user.token);
    let post = |origin: Option<&'static str>| {
        let mut request = app
            .request(Method::POST, "/api/v1/articles/c/comments")
            .header("cookie", cookie.clone())
            .json(&json!({"body": "via cookie"}));
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request.send()
    };
    expect_error(
        post(Some("https://evil.example")).await.unwrap(),
        StatusCode::FORBIDDEN,
        "csrf_rejected",
    )
    .await;
    expect_error(
        post(None).await.unwrap(),
        StatusCode::FORBIDDEN,
        "csrf_rejected",
    )
    .await;
    let created = expect_status(
        post(Some("https://blog.example")).await.unwrap(),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(created["author"]["registered"], true);
    let own = app.address.clone();
    let response = app
        .request(Method::POST, "/api/v1/articles/c/comments")
        .header("cookie", cookie.clone())
        .header("origin", own)
        .json(&json!({"body": "same origin"}))
        .send()
        .await
        .unwrap();
    expect_status(response, StatusCode::CREATED).await;
    // Reading with a cookie needs no Origin; bearer tokens are not cookies.
    let me = app
        .request(Method::GET, "/api/v1/me")
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    expect_status(me, StatusCode::OK).await;
    let bearer = app
        .post_json_as(
            "/api/v1/articles/c/comments",
            &json!({"body": "bearer"}),
            &user.token,
        )
        .await;
    expect_status(bearer, StatusCode::CREATED).await;
}

#[tokio::test]
async fn comment_submission_is_rate_limited_per_ip_and_account() {
    let app =
        spawn_app_with("[comments.rate_limit]\nper_ip = 3\nper_account = 2\nwindow = \"1h\"").await;
    for i in 0..3 {
        app.guest_comment("rl", &format!("guest {i}")).await;
    }
    let refused = app
        .post_json(
            "/api/v1/articles/rl/comments",
            &json!({"body": "one too many", "author": {"name": "G", "email": "g@example.com"}}),
        )
        .await;
    let retry: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0 && retry <= 3600);
    expect_error(refused, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    assert_eq!(
        app.thread("rl").await["total"],
        3,
        "the refused comment was not stored"
    );
}

#[tokio::test]
async fn account_limit_applies_across_addresses() {
    let app = spawn_app_with("[server]\ntrusted_proxies = [\"127.0.0.1/32\"]\n[comments.rate_limit]\nper_ip = 100\nper_account = 2\nwindow = \"1h\"").await;
    let user = app.user(Role::Commenter, "prolific@example.com").await;
    for (i, ip) in ["198.51.100.1", "198.51.100.2", "198.51.100.3"]
        .iter()
        .enumerate()
    {
        let response = app
            .request(Method::POST, "/api/v1/articles/rl/comments")
            .bearer_auth(&user.token)
            .header("x-forwarded-for", *ip)
            .json(&json!({"body": format!("from {ip}")}))
            .send()
            .await
            .unwrap();
        let expected = if i < 2 {
            StatusCode::CREATED
        } else {
            StatusCode::TOO_MANY_REQUESTS
        };
        assert_eq!(response.status(), expected, "comment {i}");
    }
}

#[tokio::test]
async fn the_openapi_description_is_served_and_covers_the_api() {
    let app = spawn_app().await;
    let doc: Value = expect_status(app.get("/api/v1/openapi.json").await, StatusCode::OK).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/api/v1/articles/{key}/comments",
        "/api/v1/comments/{id}",
        "/api/v1/moderation/comments",
        "/api/v1/moderation/decisions",
        "/api/v1/moderation/bans",
        "/api/v1/spam/wordlists",
        "/api/v1/auth/login",
        "/healthz",
        "/metrics",
    ] {
        assert!(paths.contains_key(path), "{path} missing");
    }
    // Every documented operation is routed: none falls through to the
    // "no such endpoint" or "method not allowed" handlers.
    for (path, item) in paths {
        let concrete = path.replace("{key}", "some-article").replace("{id}", "1");
        for method in item.as_object().unwrap().keys() {
            let method: Method = method.to_uppercase().parse().unwrap();
            let response = app.request(method.clone(), &concrete).send().await.unwrap();
            let status = response.status();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            assert_ne!(
                body["error"]["code"], "method_not_allowed",
                "{method} {concrete}"
            );
            assert!(
                !(status == StatusCode::NOT_FOUND
                    && body["error"]["code"] == "not_found"
                    && body["error"]["message"] == "no such endpoint"),
                "{method} {concrete} is documented but not routed"
            );
        }
    }
}

#[tokio::test]
async fn metrics_count_requests_and_comments() {
    let app = spawn_app().await;
    app.guest_comment("metrics", "counted").await;
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    for needle in [
        "moderato_http_requests_total{method=\"POST\",route=\"/api/v1/articles/{key}/comments\",status=\"201\"}",
        "moderato_http_request_duration_seconds_bucket",
        "moderato_comments_submitted_total{status=\"approved\"}",
        "moderato_spam_scorer_duration_seconds_count{scorer=\"links\"}",
        "moderato_comments{status=\"pending\"}",
    ] {
        assert!(text.contains(needle), "{needle} missing from:\n{text}");
    }
}

#[tokio::test]
async fn nul_characters_are_refused_at_the_edge_never_a_500() {
    let app = spawn_app().await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    let admin = app.user(Role::Admin, "admin@example.com").await;
    app.guest_comment("nul", "a comment to search for").await;
    for path in [
        "/api/v1/moderation/comments?status=approved&q=a%00b",
        "/api/v1/moderation/comments?status=approved&author=email:a%00@example.com",
        "/api/v1/moderation/commenters?q=%00",
        "/api/v1/articles/nul%00key/comments",
        "/api/v1/counts?article=nul%00",
    ] {
        let response = app.get_as(path, &moderator.token).await;
        expect_error(response, StatusCode::BAD_REQUEST, "invalid_text").await;
    }
    for (path, token, body) in [
        (
            "/api/v1/spam/wordlists",
            admin.token.as_str(),
            json!({"list": "blocked", "kind": "word", "pattern": "viagra", "note": "seen\u{0}here"}),
        ),
        (
            "/api/v1/articles/nul/comments",
            "",
            json!({"body": "hi\u{0}there", "author": {"name": "A", "email": "a@example.com"}}),
        ),
        (
            "/api/v1/articles/nul/comments",
            "",
            json!({"body": "hi", "author": {"name": "A\u{0}", "email": "a@example.com"}}),
        ),
        (
            "/api/v1/auth/login",
            "",
            json!({"email": "a\u{0}@example.com", "password": "whatever pw"}),
        ),
    ] {
        let mut request = app.request(Method::POST, path).json(&body);
        if !token.is_empty() {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        expect_error(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body").await;
    }
    // The text "\u0000", written out, is just text.
    let literal = app
        .post_json(
            "/api/v1/articles/nul/comments",
            &json!({"body": "type \\u0000 to write a NUL", "author": {"name": "A", "email": "a@example.com"}}),
        )
        .await;
    expect_status(literal, StatusCode::CREATED).await;
}

#[tokio::test]
async fn forwarded_host_headers_count_for_csrf_only_from_trusted_proxies() {
    async fn post_via_cookie(
        app: &crate::helpers::TestApp,
        token: &str,
        headers: &[(&str, &str)],
    ) -> StatusCode {
        let mut request = app
            .request(Method::POST, "/api/v1/articles/fwd/comments")
            .header("cookie", format!("moderato_session={token}"))
            .json(&json!({"body": format!("with {headers:?}")}));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.unwrap().status()
    }
    let forged: &[(&str, &str)] = &[
        ("origin", "https://evil.example"),
        ("x-forwarded-host", "evil.example"),
        ("x-forwarded-proto", "https"),
    ];
    let forged_standard: &[(&str, &str)] = &[
        ("origin", "https://evil.example"),
        ("forwarded", "host=evil.example;proto=https"),
    ];

    let direct = spawn_app_with("[auth]\ncookie_secure = false").await;
    let user = direct.user(Role::Commenter, "fwd@example.com").await;
    assert_eq!(
        post_via_cookie(&direct, &user.token, forged).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post_via_cookie(&direct, &user.token, forged_standard).await,
        StatusCode::FORBIDDEN
    );

    // Behind a trusted proxy, its forwarded host is this server's.
    let proxied = spawn_app_with(
        "[auth]\ncookie_secure = false\n[server]\ntrusted_proxies = [\"127.0.0.1/32\"]",
    )
    .await;
    let user = proxied.user(Role::Commenter, "fwd@example.com").await;
    let from_proxy: &[(&str, &str)] = &[
        ("origin", "https://comments.example"),
        ("x-forwarded-host", "comments.example"),
        ("x-forwarded-proto", "https"),
    ];
    assert_eq!(
        post_via_cookie(&proxied, &user.token, from_proxy).await,
        StatusCode::CREATED
    );

    // With server.public_url, that is the origin, whatever the headers say.
    let public = spawn_app_with(
        "[auth]\ncookie_secure = false\n[server]\ntrusted_proxies = [\"127.0.0.1/32\"]\npublic_url = \"https://comments.example\"",
    )
    .await;
    let user = public.user(Role::Commenter, "fwd@example.com").await;
    assert_eq!(
        post_via_cookie(&public, &user.token, forged).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post_via_cookie(
            &public,
            &user.token,
            &[("origin", "https://comments.example")]
        )
        .await,
        StatusCode::CREATED
    );
}
