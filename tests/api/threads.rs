//! Reading threads page by page, and counts for many articles.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{expect_error, expect_status, spawn_app, spawn_app_with};

fn ids(page: &Value) -> Vec<i64> {
    page["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn threads_page_through_every_comment_once_in_either_order() {
    let app = spawn_app().await;
    let mut created = Vec::new();
    for i in 0..5 {
        created.push(
            app.guest_comment("paged", &format!("comment {i}")).await["id"]
                .as_i64()
                .unwrap(),
        );
    }
    for (sort, expected) in [
        ("oldest", created.clone()),
        ("newest", created.iter().rev().copied().collect()),
    ] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut path = format!("/api/v1/articles/paged/comments?sort={sort}&limit=2");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let page = expect_status(app.get(&path).await, StatusCode::OK).await;
            assert_eq!(page["total"], 5);
            seen.extend(ids(&page));
            pages += 1;
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_string()),
                None => break,
            }
        }
        assert_eq!(seen, expected, "sort={sort}");
        assert_eq!(pages, 3, "5 comments at 2 per page");
    }
}

#[tokio::test]
async fn the_default_page_size_applies_and_the_maximum_is_enforced() {
    let app = spawn_app_with("[comments]\npage_size = 3\nmax_page_size = 4").await;
    for i in 0..4 {
        app.guest_comment("sized", &format!("c{i}")).await;
    }
    let page = expect_status(
        app.get("/api/v1/articles/sized/comments").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids(&page).len(), 3);
    assert!(page["next_cursor"].is_string());
    for bad in ["limit=5", "limit=0"] {
        let response = app
            .get(&format!("/api/v1/articles/sized/comments?{bad}"))
            .await;
        let error = expect_error(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field").await;
        assert_eq!(error["error"]["field"], "limit");
    }
}

#[tokio::test]
async fn bad_query_parameters_are_refused_clearly() {
    let app = spawn_app().await;
    app.guest_comment("q", "x").await;
    let error = expect_error(
        app.get("/api/v1/articles/q/comments?cursor=abc").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    )
    .await;
    assert_eq!(error["error"]["field"], "cursor");
    expect_error(
        app.get("/api/v1/articles/q/comments?sort=sideways").await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
    )
    .await;
    expect_error(
        app.get("/api/v1/articles/q/comments?limit=-1").await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
    )
    .await;
}

#[tokio::test]
async fn an_article_without_comments_is_an_empty_thread() {
    let app = spawn_app().await;
    let page = expect_status(
        app.get("/api/v1/articles/never-commented/comments").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page["total"], 0);
    assert_eq!(page["article"], Value::Null);
    assert!(page["comments"].as_array().unwrap().is_empty());
    assert_eq!(page["next_cursor"], Value::Null);
}

#[tokio::test]
async fn counts_cover_many_articles_at_once() {
    let app = spawn_app().await;
    app.guest_comment("one", "a").await;
    app.guest_comment("two", "a").await;
    app.guest_comment("two", "b").await;
    let counts = expect_status(
        app.get("/api/v1/counts?article=one&article=two&article=none")
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(counts["counts"]["one"], 1);
    assert_eq!(counts["counts"]["two"], 2);
    assert_eq!(counts["counts"]["none"], 0);
}

#[tokio::test]
async fn counts_need_between_one_and_a_hundred_keys() {
    let app = spawn_app().await;
    expect_error(
        app.get("/api/v1/counts").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    )
    .await;
    let many: Vec<String> = (0..101).map(|i| format!("article=a{i}")).collect();
    let response = app.get(&format!("/api/v1/counts?{}", many.join("&"))).await;
    expect_error(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field").await;
    let hundred: Vec<String> = (0..100).map(|i| format!("article=a{i}")).collect();
    let counts = expect_status(
        app.get(&format!("/api/v1/counts?{}", hundred.join("&")))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(counts["counts"].as_object().unwrap().len(), 100);
}

#[tokio::test]
async fn cached_threads_and_counts_show_every_change_at_once() {
    let app = spawn_app().await;
    let moderator = app
        .user(moderato::domain::Role::Moderator, "cache-mod@example.com")
        .await;
    let first = app.guest_comment("cached", "first").await;
    let first_id = first["id"].as_i64().unwrap();
    let token = first["edit_token"].as_str().unwrap().to_string();
    let counts = |app: &crate::helpers::TestApp| {
        let url = app.url("/api/v1/counts?article=cached");
        let client = app.client.clone();
        async move {
            let v: Value = client.get(url).send().await.unwrap().json().await.unwrap();
            v["counts"]["cached"].as_i64().unwrap()
        }
    };
    // Read twice so the page and the count are cached.
    for _ in 0..2 {
        assert_eq!(ids(&app.thread("cached").await), vec![first_id]);
        assert_eq!(counts(&app).await, 1);
    }
    let second = app.guest_comment("cached", "second").await["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        ids(&app.thread("cached").await),
        vec![first_id, second],
        "a new comment shows at once"
    );
    assert_eq!(counts(&app).await, 2);

    let decide = |id: i64, action: &'static str| {
        app.request(
            reqwest::Method::POST,
            &format!("/api/v1/moderation/comments/{id}/decision"),
        )
        .bearer_auth(&moderator.token)
        .json(&serde_json::json!({"action": action}))
        .send()
    };
    expect_status(decide(second, "trash").await.unwrap(), StatusCode::OK).await;
    assert_eq!(
        ids(&app.thread("cached").await),
        vec![first_id],
        "a decision shows at once"
    );
    assert_eq!(counts(&app).await, 1);
    expect_status(decide(second, "restore").await.unwrap(), StatusCode::OK).await;
    assert_eq!(ids(&app.thread("cached").await), vec![first_id, second]);

    let edited = app
        .request(
            reqwest::Method::PATCH,
            &format!("/api/v1/comments/{first_id}"),
        )
        .header("X-Edit-Token", &token)
        .json(&serde_json::json!({"body": "first, edited"}))
        .send()
        .await
        .unwrap();
    expect_status(edited, StatusCode::OK).await;
    assert_eq!(
        app.thread("cached").await["comments"][0]["body"],
        "first, edited"
    );

    let deleted = app
        .request(
            reqwest::Method::DELETE,
            &format!("/api/v1/comments/{first_id}"),
        )
        .header("X-Edit-Token", &token)
        .send()
        .await
        .unwrap();
    expect_status(deleted, StatusCode::NO_CONTENT).await;
    assert_eq!(ids(&app.thread("cached").await), vec![second]);
    assert_eq!(counts(&app).await, 1);
}

#[tokio::test]
async fn an_instance_sees_comments_posted_through_another_at_once() {
    // Two servers on one database: only PostgreSQL is shared by instances.
    if std::env::var(crate::helpers::PG_ENV).map_or(true, |v| v.is_empty()) {
        eprintln!(
            "skipped: needs {} (instances share PostgreSQL only)",
            crate::helpers::PG_ENV
        );
        return;
    }
    let a = spawn_app().await;
    let b = crate::helpers::spawn_app_on(None, &a.db_url, "").await;
    let first = a.guest_comment("shared", "from a").await["id"]
        .as_i64()
        .unwrap();
    for _ in 0..2 {
        assert_eq!(
            ids(&b.thread("shared").await),
            vec![first],
            "b reads (and caches) it"
        );
    }
    let second = a.guest_comment("shared", "also from a").await["id"]
        .as_i64()
        .unwrap();
    let started = std::time::Instant::now();
    loop {
        if ids(&b.thread("shared").await) == vec![first, second] {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "b still serves the old page"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    eprintln!(
        "the other instance saw the change after {:?}",
        started.elapsed()
    );
}
