//! Moderato's own export: the round trip, merging, cut files, and the
//! admins' HTTP export.

use std::io::Read;

use flate2::read::GzDecoder;
use moderato::domain::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{fixture, run, run_ok, stored};
use crate::helpers::{
    decided, expect_error, expect_status, id_of, spawn_app, spawn_app_on, TestApp, TestDatabase,
};

/// The records of a gzipped export, its header without the time it was
/// taken.
fn records(gzipped: &[u8]) -> Vec<Value> {
    let mut text = String::new();
    GzDecoder::new(gzipped)
        .read_to_string(&mut text)
        .expect("a gzipped export");
    text.lines()
        .map(|line| {
            let mut record: Value = serde_json::from_str(line).expect("a JSON line");
            if record["type"] == "header" {
                record.as_object_mut().unwrap().remove("exported_at");
            }
            record
        })
        .collect()
}

/// `moderato export ARGS` of the database at `url`.
fn export(url: &str, args: &[&str]) -> Vec<u8> {
    let output = crate::cli::moderato()
        .arg("export")
        .args(args)
        .args(["--database", url])
        .output()
        .expect("run moderato export");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// A site with a bit of everything: accounts, threads, every status, a
/// spam report, a ban, a word-list entry, imported comments.
async fn busy_site() -> (TestApp, String) {
    let app = spawn_app().await;
    let admin = app.user(Role::Admin, "root@example.com").await;
    let member = app.user(Role::Commenter, "ada@example.com").await;
    let first = app.guest_comment("post-1", "A first comment").await;
    app.guest_reply("post-1", id_of(&first), "A reply").await;
    let spam = app.guest_comment("post-1", "buy cheap pills now").await;
    decided(&app, &admin.token, id_of(&spam), "spam").await;
    let trashed = app.guest_comment("post-2", "thrown away").await;
    decided(&app, &admin.token, id_of(&trashed), "trash").await;
    let signed = app
        .post_json_as(
            "/api/v1/articles/post-2/comments",
            &json!({"body": "written **signed in**"}),
            &member.token,
        )
        .await;
    expect_status(signed, StatusCode::CREATED).await;
    let ban = app
        .post_json_as(
            "/api/v1/moderation/bans",
            &json!({"kind": "ip", "value": "198.51.100.0/24", "reason": "flood"}),
            &admin.token,
        )
        .await;
    expect_status(ban, StatusCode::CREATED).await;
    let word = app
        .post_json_as(
            "/api/v1/spam/wordlists",
            &json!({"list": "blocked", "kind": "word", "pattern": "pills"}),
            &admin.token,
        )
        .await;
    expect_status(word, StatusCode::CREATED).await;
    run_ok(
        &app.db_url,
        &[
            "import",
            "wordpress",
            &fixture("wordpress.xml").display().to_string(),
        ],
    );
    (app, admin.token)
}

#[tokio::test]
async fn export_then_restore_into_an_empty_database_then_export_gives_the_same_records() {
    let (app, _) = busy_site().await;
    let first = export(&app.db_url, &["--include-accounts"]);
    let first_records = records(&first);
    let kinds = |kind: &str| first_records.iter().filter(|r| r["type"] == kind).count();
    assert_eq!(kinds("account"), 2);
    assert_eq!(kinds("comment"), 5 + 8);
    assert_eq!(kinds("ban"), 1);
    assert_eq!(kinds("word"), 1);
    let account = first_records
        .iter()
        .find(|r| r["type"] == "account")
        .unwrap();
    assert_eq!(account["secret"], true);
    assert!(account["password_hash"]
        .as_str()
        .unwrap()
        .starts_with("$argon2"));
    let reported = first_records
        .iter()
        .find(|r| r["type"] == "comment" && r["status"] == "spam" && r["spam_report"].is_object());
    assert!(reported.is_some(), "spam reports are kept");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("site.ndjson.gz");
    std::fs::write(&file, &first).unwrap();
    let file = file.display().to_string();
    let target = TestDatabase::new();
    let summary = run_ok(target.url(), &["import", "moderato", &file]);
    assert!(summary.contains("comments imported: 13"), "{summary}");
    let second = export(target.url(), &["--include-accounts"]);
    assert_eq!(records(&second), first_records);

    // The restored site knows its records: importing the file again, or
    // the WordPress file they came from, adds nothing.
    let again = run_ok(target.url(), &["import", "moderato", &file]);
    assert!(again.contains("comments imported: 0"), "{again}");
    assert!(again.contains("13 already imported"), "{again}");
    let wordpress = run_ok(
        target.url(),
        &[
            "import",
            "wordpress",
            &fixture("wordpress.xml").display().to_string(),
        ],
    );
    assert!(wordpress.contains("8 already imported"), "{wordpress}");
}

/// What readers see of a thread, without the avatar keys (keyed by each
/// site's own secret, which an export does not carry).
async fn thread_shape(app: &TestApp, key: &str) -> Vec<Value> {
    app.thread(key).await["comments"]
        .as_array()
        .expect("comments")
        .iter()
        .map(|c| {
            json!([
                c["id"],
                c["parent_id"],
                c["author"]["name"],
                c["html"],
                c["created_at"]
            ])
        })
        .collect()
}

#[tokio::test]
async fn a_restored_site_serves_its_threads_and_its_accounts_sign_in() {
    let (app, _) = busy_site().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("site.ndjson.gz");
    std::fs::write(&file, export(&app.db_url, &["--include-accounts"])).unwrap();
    let target = TestDatabase::new();
    let url = target.url().to_string();
    run_ok(&url, &["import", "moderato", &file.display().to_string()]);
    let restored = spawn_app_on(Some(target), &url, "").await;
    let shape = thread_shape(&app, "post-1").await;
    assert_eq!(shape.len(), 2);
    assert_eq!(thread_shape(&restored, "post-1").await, shape);
    let login = restored
        .post_json(
            "/api/v1/auth/login",
            &json!({"email": "ada@example.com", "password": "correct horse battery"}),
        )
        .await;
    expect_status(login, StatusCode::OK).await;
    // New comments get new ids past the restored ones.
    let new = restored.guest_comment("post-1", "after the restore").await;
    let largest = stored(&app).await.len() as i64;
    assert!(id_of(&new) > largest, "{new}");
}

#[tokio::test]
async fn merging_an_export_into_a_site_in_use_adds_each_record_once() {
    let (app, _) = busy_site().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("site.ndjson.gz");
    std::fs::write(&file, export(&app.db_url, &[])).unwrap();
    let file = file.display().to_string();
    // Into the site it came from: everything is there already.
    let own = run_ok(&app.db_url, &["import", "moderato", &file]);
    assert!(own.contains("comments imported: 0"), "{own}");
    // Into another site in use: added once, matched the second time.
    let other = spawn_app().await;
    other.guest_comment("post-1", "the other site's own").await;
    let merged = run_ok(&other.db_url, &["import", "moderato", &file]);
    assert!(merged.contains("comments imported: 13"), "{merged}");
    assert!(
        merged.contains("articles: 3 created, 1 matched"),
        "{merged}"
    );
    let comments = stored(&other).await;
    assert_eq!(comments["Replier"].parent.as_deref(), Some("Guest"));
    let again = run_ok(&other.db_url, &["import", "moderato", &file]);
    assert!(again.contains("13 already imported"), "{again}");
}

#[tokio::test]
async fn a_cut_or_foreign_file_is_refused_with_its_record_number_and_nothing_is_kept() {
    let (app, _) = busy_site().await;
    let whole = export(&app.db_url, &[]);
    let dir = tempfile::tempdir().unwrap();
    let mut plain = String::new();
    GzDecoder::new(&whole[..])
        .read_to_string(&mut plain)
        .unwrap();
    let lines: Vec<&str> = plain.lines().collect();
    let cases = [
        (
            "cut.gz",
            whole[..whole.len() / 2].to_vec(),
            "is it cut short?",
        ),
        (
            "no-end.ndjson",
            format!("{}\n", lines[..lines.len() - 1].join("\n")).into_bytes(),
            "the file ends before its `end` line",
        ),
        (
            "bad-line.ndjson",
            format!("{}\n{{\"type\":\"comment\",\"id\":\"x\"}}\n", lines[0]).into_bytes(),
            "record 2: not a record of Moderato's export",
        ),
        (
            "future.ndjson",
            format!("{}\n", lines[0].replace("\"version\":1", "\"version\":99")).into_bytes(),
            "record 1: format version 99",
        ),
        (
            "wxr.xml",
            b"<rss></rss>\n".to_vec(),
            "record 1: not a record",
        ),
    ];
    for (name, bytes, message) in cases {
        let file = dir.path().join(name);
        std::fs::write(&file, bytes).unwrap();
        let target = TestDatabase::new();
        let url = target.url().to_string();
        let output = run(&url, &["import", "moderato", &file.display().to_string()]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{name} accepted");
        assert!(stderr.contains(message), "{name}: {stderr}");
        let restored = spawn_app_on(Some(target), &url, "").await;
        assert!(stored(&restored).await.is_empty(), "{name}: something kept");
    }
}

#[tokio::test]
async fn admins_take_the_export_over_http_and_no_one_else_can() {
    let (app, admin) = busy_site().await;
    let response = app.get_as("/api/v1/admin/export", &admin).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "application/gzip"
    );
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body = response.bytes().await.unwrap();
    let over_http = records(&body);
    assert_eq!(over_http, records(&export(&app.db_url, &[])));
    assert!(over_http.iter().all(|r| r["type"] != "account"));

    let with_accounts = app
        .get_as("/api/v1/admin/export?accounts=true", &admin)
        .await;
    let with_accounts = records(&with_accounts.bytes().await.unwrap());
    assert_eq!(
        with_accounts
            .iter()
            .filter(|r| r["type"] == "account")
            .count(),
        2
    );

    let one = app
        .get_as("/api/v1/admin/export?article=post-2", &admin)
        .await;
    let one = records(&one.bytes().await.unwrap());
    assert_eq!(one.iter().filter(|r| r["type"] == "article").count(), 1);
    assert!(one
        .iter()
        .filter(|r| r["type"] == "comment")
        .all(|r| r["article_id"] == one[1]["id"]));
    assert_eq!(one.iter().filter(|r| r["type"] == "comment").count(), 2);

    expect_error(
        app.get_as("/api/v1/admin/export?article=nowhere", &admin)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    expect_error(
        app.get_as("/api/v1/admin/export", &moderator.token).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    expect_error(
        app.get("/api/v1/admin/export").await,
        StatusCode::UNAUTHORIZED,
        "not_signed_in",
    )
    .await;
    expect_error(
        app.get_as("/api/v1/admin/export?accounts=maybe", &admin)
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
    )
    .await;
}
