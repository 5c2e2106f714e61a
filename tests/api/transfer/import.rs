//! Importing WordPress, Disqus and Isso exports.

use diesel::connection::SimpleConnection;
use diesel::Connection;
use diesel::{QueryDsl, RunQueryDsl};
use moderato::domain::Role;
use reqwest::StatusCode;
use serde_json::json;
use std::collections::HashMap;

use super::{fixture, run, run_ok, stored};
use crate::helpers::{expect_status, spawn_app, TestApp};

fn path(name: &str) -> String {
    fixture(name).display().to_string()
}

async fn count(app: &TestApp) -> usize {
    stored(app).await.len()
}

#[tokio::test]
async fn wordpress_import_keeps_statuses_threads_dates_and_links_registered_users() {
    let app = spawn_app().await;
    let ada = app.user(Role::Commenter, "ada@example.com").await;
    let summary = run_ok(
        &app.db_url,
        &["import", "wordpress", &path("wordpress.xml")],
    );
    assert!(
        summary.contains("articles: 2 created, 0 matched"),
        "{summary}"
    );
    assert!(
        summary
            .contains("comments imported: 8 (1 pending, 4 approved, 1 spam, 2 trash, 0 deleted)"),
        "{summary}"
    );
    assert!(summary.contains("1 pingbacks and trackbacks"), "{summary}");
    assert!(summary.contains("1 invalid email address"), "{summary}");
    assert!(summary.contains("1 no valid date"), "{summary}");
    assert!(
        summary.contains("its parent 20/999 is not in the file; kept at the top level"),
        "{summary}"
    );

    let comments = stored(&app).await;
    assert_eq!(comments.len(), 8);
    let ada_comment = &comments["Ada"];
    assert_eq!(ada_comment.key, "/2020/01/hello-world/");
    assert_eq!(ada_comment.status, "approved");
    assert_eq!(
        ada_comment.user_id,
        Some(ada.id),
        "registered user linked by email"
    );
    assert_eq!(ada_comment.ip.as_deref(), Some("203.0.113.7"));
    // 2020-01-02 10:00:00 GMT, not the local 12:00.
    assert_eq!(ada_comment.created_at, 1_577_959_200_000);
    assert!(!ada_comment.html.contains("script") && !ada_comment.html.contains("onclick"));
    assert!(ada_comment
        .html
        .contains("<a href=\"https://example.com/\""));
    assert_eq!(
        ada_comment.body,
        "First line\nsecond line\n\nA [link](https://example.com/) & bold"
    );
    // Bob replies to Carol, who comes after him in the file.
    assert_eq!(comments["Bob"].parent.as_deref(), Some("Carol"));
    assert_eq!(comments["Carol"].parent.as_deref(), Some("Ada"));
    assert_eq!(comments["Carol"].status, "pending");
    assert_eq!(comments["Spammer"].status, "spam");
    assert_eq!(comments["Dan"].status, "trash");
    assert_eq!(comments["Frank"].status, "trash", "post-trashed");
    assert_eq!(comments["Heidi"].parent, None);
    assert_eq!(comments["Bob"].user_id, None);
    assert!(!comments.contains_key("Another Blog"), "pingback skipped");

    // Readers see the approved ones, threaded.
    let thread = app.thread("%2F2020%2F01%2Fhello-world%2F").await;
    let items = thread["comments"].as_array().expect("comments");
    assert_eq!(items.len(), 2, "{thread}");
}

#[tokio::test]
async fn importing_the_same_file_again_adds_nothing_and_a_dry_run_writes_nothing() {
    let app = spawn_app().await;
    let file = path("wordpress.xml");
    let dry = run_ok(&app.db_url, &["import", "wordpress", &file, "--dry-run"]);
    assert!(dry.starts_with("dry run: nothing was written"), "{dry}");
    assert_eq!(count(&app).await, 0, "the dry run wrote nothing");
    let first = run_ok(&app.db_url, &["import", "wordpress", &file]);
    assert_eq!(
        dry.lines().skip(1).collect::<Vec<_>>(),
        first.lines().collect::<Vec<_>>(),
        "the dry run's summary is the import's"
    );
    assert_eq!(count(&app).await, 8);
    let again = run_ok(&app.db_url, &["import", "wordpress", &file]);
    assert!(again.contains("comments imported: 0"), "{again}");
    assert!(again.contains("8 already imported"), "{again}");
    assert!(again.contains("articles: 0 created, 0 matched"), "{again}");
    assert_eq!(count(&app).await, 8);
    // Keyed otherwise, the same comments are still the same records.
    let by_slug = run_ok(
        &app.db_url,
        &["import", "wordpress", &file, "--key-from", "slug"],
    );
    assert!(by_slug.contains("8 already imported"), "{by_slug}");
}

#[tokio::test]
async fn pingbacks_are_imported_when_asked_for() {
    let app = spawn_app().await;
    run_ok(
        &app.db_url,
        &[
            "import",
            "wordpress",
            &path("wordpress.xml"),
            "--include-pingbacks",
        ],
    );
    let comments = stored(&app).await;
    assert_eq!(comments["Another Blog"].status, "approved");
    assert_eq!(comments.len(), 9);
}

#[tokio::test]
async fn a_malformed_file_fails_with_its_line_and_column_and_changes_nothing() {
    let app = spawn_app().await;
    app.guest_comment("before", "already here").await;
    for (file, message) in [
        (
            "wordpress-truncated.xml",
            "line 151, column 1: the file ends inside <comment>",
        ),
        (
            "billion-laughs.xml",
            "line 13, column 3: the document type declares entities",
        ),
        (
            "xxe.xml",
            "line 2, column 61: the document type declares entities",
        ),
        (
            "undeclared-entity.xml",
            "line 7, column 26: undefined entity &xxe;",
        ),
        (
            "disqus.xml",
            "not a WordPress export (WXR): the root element is <disqus>",
        ),
    ] {
        let started = std::time::Instant::now();
        let output = run(&app.db_url, &["import", "wordpress", &path(file)]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{file} was accepted");
        assert!(stderr.contains(message), "{file}: {stderr}");
        assert!(
            !stderr.contains("root:"),
            "{file}: no file was read: {stderr}"
        );
        assert!(started.elapsed().as_secs() < 10, "{file} took long");
        assert_eq!(count(&app).await, 1, "{file}: nothing kept");
    }
}

#[tokio::test]
async fn scoring_may_hold_an_approved_comment_but_never_publish_one() {
    let app = spawn_app().await;
    let summary = run_ok(
        &app.db_url,
        &["import", "wordpress", &path("wordpress.xml"), "--score"],
    );
    let comments = stored(&app).await;
    // Two links or more (the website counts): the links scorer holds
    // them, as it would a new comment.
    assert_eq!(comments["Ivan"].status, "pending", "{summary}");
    assert_eq!(comments["Ada"].status, "pending", "{summary}");
    assert!(
        summary.contains("held for review by spam scoring: 2"),
        "{summary}"
    );
    assert_eq!(comments["Heidi"].status, "approved");
    // Statuses other than approved stay as the source had them.
    assert_eq!(comments["Carol"].status, "pending");
    assert_eq!(comments["Spammer"].status, "spam");
    assert_eq!(comments["Dan"].status, "trash");
}

#[tokio::test]
async fn training_teaches_the_learned_scorer_the_sites_verdicts() {
    let app = spawn_app().await;
    let summary = run_ok(
        &app.db_url,
        &["import", "wordpress", &path("wordpress.xml"), "--train"],
    );
    assert!(
        summary.contains("taught to the learned spam scorer: 1 spam, 4 ham"),
        "{summary}"
    );
    let comments = stored(&app).await;
    assert_eq!(comments["Spammer"].verdict.as_deref(), Some("spam"));
    assert_eq!(comments["Ada"].verdict.as_deref(), Some("ham"));
    assert_eq!(comments["Carol"].verdict, None, "pending teaches nothing");
    let features: i64 = app
        .state
        .db
        .read(|conn| {
            use diesel::prelude::*;
            moderato::db::schema::spam_features::table
                .count()
                .get_result(conn)
                .map_err(moderato::db::DbError::from)
        })
        .await
        .unwrap();
    assert!(features > 0, "the model learned features");
}

#[tokio::test]
async fn disqus_import_keeps_statuses_and_threads_and_skips_what_has_no_article() {
    let app = spawn_app().await;
    let summary = run_ok(&app.db_url, &["import", "disqus", &path("disqus.xml")]);
    assert!(
        summary
            .contains("comments imported: 4 (0 pending, 2 approved, 1 spam, 1 trash, 0 deleted)"),
        "{summary}"
    );
    assert!(summary.contains("2 no article to put them in"), "{summary}");
    let comments = stored(&app).await;
    assert_eq!(comments["Bea"].parent.as_deref(), Some("Al"));
    assert_eq!(comments["Al"].key, "/hello/");
    assert_eq!(
        comments["Al"].body,
        "What is this about?\n\nSecond [paragraph](https://x.example/)."
    );
    assert_eq!(comments["Followers"].status, "spam");
    assert_eq!(comments["Cy"].status, "trash");
    let again = run_ok(&app.db_url, &["import", "disqus", &path("disqus.xml")]);
    assert!(again.contains("4 already imported"), "{again}");
    let by_identifier = stored(&app).await;
    assert_eq!(by_identifier.len(), 4);
    let other = crate::helpers::spawn_app().await;
    run_ok(
        &other.db_url,
        &[
            "import",
            "disqus",
            &path("disqus.xml"),
            "--key-from",
            "identifier",
        ],
    );
    assert_eq!(stored(&other).await["Al"].key, "post-hello");
}

/// An Isso database with Isso 0.14's schema (isso/db/*.py), made here.
fn isso_database(dir: &std::path::Path) -> String {
    let file = dir.join("comments.db");
    let mut conn = diesel::SqliteConnection::establish(&file.display().to_string()).unwrap();
    conn.batch_execute(
        "CREATE TABLE threads (id INTEGER PRIMARY KEY, uri VARCHAR(256) UNIQUE, title VARCHAR(256));
         CREATE TABLE comments (tid REFERENCES threads(id), id INTEGER PRIMARY KEY, parent INTEGER,
             created FLOAT NOT NULL, modified FLOAT, mode INTEGER, remote_addr VARCHAR,
             text VARCHAR, author VARCHAR, email VARCHAR, website VARCHAR,
             likes INTEGER DEFAULT 0, dislikes INTEGER DEFAULT 0, voters BLOB NOT NULL,
             notification INTEGER DEFAULT 0);
         INSERT INTO threads VALUES (1, '/posts/one/', 'One'), (2, 'no spaces allowed', 'Bad');
         INSERT INTO comments (tid, id, parent, created, mode, remote_addr, text, author, email, website, voters)
         VALUES (1, 1, NULL, 1600000000.25, 1, '127.0.0.0', 'Hello *world*', 'Ann', 'ann@example.com', 'https://ann.example', ''),
                (1, 2, 1, 1600000100.0, 2, '127.0.0.0', 'A reply', 'Ben', NULL, NULL, ''),
                (1, 3, NULL, 1600000200.0, 4, '127.0.0.0', '', NULL, NULL, NULL, ''),
                (1, 4, 3, 1600000300.0, 1, '127.0.0.0', 'Reply to a deleted one', 'Cat', NULL, NULL, ''),
                (2, 5, NULL, 1600000400.0, 1, '127.0.0.0', 'Lost', 'Dee', NULL, NULL, '');",
    )
    .unwrap();
    file.display().to_string()
}

#[tokio::test]
async fn isso_import_reads_its_database_markdown_modes_and_threads() {
    let dir = tempfile::tempdir().unwrap();
    let file = isso_database(dir.path());
    let app = spawn_app().await;
    let summary = run_ok(&app.db_url, &["import", "isso", &file]);
    assert!(
        summary
            .contains("comments imported: 4 (1 pending, 2 approved, 0 spam, 1 trash, 0 deleted)"),
        "{summary}"
    );
    let comments = stored(&app).await;
    assert_eq!(comments["Ann"].key, "/posts/one/");
    assert_eq!(comments["Ann"].body, "Hello *world*");
    assert_eq!(comments["Ann"].html, "<p>Hello <em>world</em></p>\n");
    assert_eq!(comments["Ann"].created_at, 1_600_000_000_250);
    assert_eq!(comments["Ben"].parent.as_deref(), Some("Ann"));
    assert_eq!(comments["Ben"].status, "pending");
    // Isso's deleted comment with a reply: kept empty, in the trash, and
    // the reply keeps its place.
    assert_eq!(comments["Anonymous"].status, "trash");
    assert_eq!(comments["Anonymous"].body, "");
    assert_eq!(comments["Cat"].parent.as_deref(), Some("Anonymous"));
    let again = run_ok(&app.db_url, &["import", "isso", &file]);
    assert!(again.contains("4 already imported"), "{again}");
    let missing = run(&app.db_url, &["import", "isso", "/nonexistent/comments.db"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("No such file"));
}

#[tokio::test]
async fn imported_comments_send_no_webhooks() {
    let app = crate::helpers::spawn_app_with(
        "[webhooks]\nendpoints = [{ url = \"http://127.0.0.1:9/hook\", secret = \"s3cret-s3cret-s3cret\" }]\n",
    )
    .await;
    run_ok(
        &app.db_url,
        &["import", "wordpress", &path("wordpress.xml")],
    );
    assert_eq!(outbox(&app).await, 0);
    // A comment posted the ordinary way does queue one: the endpoint works.
    let response = app
        .post_json(
            "/api/v1/articles/2020/comments",
            &json!({"body": "new", "author": {"name": "N", "email": "n@example.com"}}),
        )
        .await;
    expect_status(response, StatusCode::CREATED).await;
    assert!(outbox(&app).await > 0);
}

async fn outbox(app: &TestApp) -> i64 {
    app.state
        .db
        .read(|conn| {
            use diesel::prelude::*;
            moderato::db::schema::outbox::table
                .count()
                .get_result(conn)
                .map_err(moderato::db::DbError::from)
        })
        .await
        .unwrap()
}

/// The moderation queue's search for `text` among comments of `status`:
/// the authors found.
async fn search(app: &TestApp, token: &str, status: &str, text: &str) -> Vec<String> {
    let found = expect_status(
        app.get_as(
            &format!("/api/v1/moderation/comments?status={status}&q={text}"),
            token,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    found["comments"]
        .as_array()
        .expect("comments")
        .iter()
        .map(|c| c["author"]["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn imported_comments_are_found_by_the_queue_search_and_new_ones_still_are() {
    let app = spawn_app().await;
    let moderator = app.user(Role::Moderator, "mod@example.com").await;
    run_ok(
        &app.db_url,
        &["import", "wordpress", &path("wordpress.xml")],
    );
    assert_eq!(
        search(&app, &moderator.token, "pending", "moderator").await,
        vec!["Carol"]
    );
    assert_eq!(
        search(&app, &moderator.token, "approved", "before+its+parent").await,
        vec!["Bob"]
    );
    // The search index still follows comments written afterwards.
    app.guest_comment("later", "a comment about zeppelins")
        .await;
    assert_eq!(
        search(&app, &moderator.token, "approved", "zeppelin").await,
        vec!["Guest"]
    );
    // The queue reads a few hundred rows before asking the index: look
    // in SQLite's index itself (PostgreSQL's is the table's own).
    let sqlite = indexed(&app, "moderator").await.is_some();
    if sqlite {
        assert_eq!(indexed(&app, "moderator").await, Some(1));
        assert_eq!(indexed(&app, "zeppelin").await, Some(1));
    }
    // And a dry run leaves the index as it was.
    let other = spawn_app().await;
    let watcher = other.user(Role::Moderator, "mod@example.com").await;
    run_ok(
        &other.db_url,
        &["import", "wordpress", &path("wordpress.xml"), "--dry-run"],
    );
    other.guest_comment("later", "zeppelins again").await;
    assert_eq!(
        search(&other, &watcher.token, "approved", "zeppelin").await,
        vec!["Guest"]
    );
    if sqlite {
        assert_eq!(indexed(&other, "moderator").await, Some(0));
        assert_eq!(indexed(&other, "zeppelin").await, Some(1));
    }
}

/// On SQLite, how many comments the search index (FTS5) finds holding
/// every trigram of `text`; `None` on PostgreSQL, whose index is the
/// table's own.
async fn indexed(app: &TestApp, text: &'static str) -> Option<i64> {
    #[derive(diesel::QueryableByName)]
    struct Found {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    app.state
        .db
        .read(move |conn| {
            use diesel::RunQueryDsl;
            if conn.backend() != moderato::db::Backend::Sqlite {
                return Ok(None);
            }
            diesel::sql_query(
                "SELECT COUNT(*) AS n FROM comments_search WHERE comments_search MATCH ?",
            )
            .bind::<diesel::sql_types::Text, _>(
                moderato::db::queue::trigram_query(moderato::db::Backend::Sqlite, text)
                    .expect("a text of three characters or more"),
            )
            .get_result::<Found>(conn)
            .map(|f| Some(f.n))
            .map_err(moderato::db::DbError::from)
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn isso_generic_json_is_imported_as_approved_comments_per_thread() {
    let app = spawn_app().await;
    let file = path("isso-generic.json");
    let summary = run_ok(&app.db_url, &["import", "isso", &file]);
    assert!(
        summary.contains("comments imported: 2 (0 pending, 2 approved"),
        "{summary}"
    );
    assert!(summary.contains("1 no valid date"), "{summary}");
    let comments = stored(&app).await;
    assert_eq!(comments["Kim"].key, "/blog/first/");
    assert_eq!(
        comments["Kim"].html,
        "<p>Plain <em>markdown</em> here</p>\n"
    );
    assert_eq!(comments["Kim"].created_at, 1_273_129_689_000);
    assert_eq!(comments["Lee"].key, "/blog/second/");
    let again = run_ok(&app.db_url, &["import", "isso", &file]);
    assert!(again.contains("2 already imported"), "{again}");
    let broken = run(&app.db_url, &["import", "isso", &path("disqus.xml")]);
    assert!(!broken.status.success(), "an XML file is no Isso database");
}

/// A WordPress export of `posts` posts of `per_post` comments each, written
/// to `dir`, and what each comment's parent should be once imported (by
/// author name). Comment `n` of post `p` has the id `p * 1000 + n + 1`
/// and the author `c<id>`. By `n % 10`: 1 replies to the comment before
/// it, 3 to one 300 earlier (a batch or more before), 5 to one 2 later
/// in the file, 7 to one 290 later (a batch or more after), 9 to a
/// comment of another post (kept at the top level, with a warning); the
/// rest start threads. Email addresses repeat, every seventh comment.
/// Comment 10 of each post comes twice in a row.
fn many_comments(
    dir: &std::path::Path,
    posts: u32,
    per_post: u32,
) -> (String, HashMap<String, Option<String>>) {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<rss version=\"2.0\" \
         xmlns:content=\"http://purl.org/rss/1.0/modules/content/\" \
         xmlns:wp=\"http://wordpress.org/export/1.2/\">\n<channel>\n\
         <link>https://many.example</link>\n<wp:wxr_version>1.2</wp:wxr_version>\n\
         <wp:base_site_url>https://many.example</wp:base_site_url>\n",
    );
    let mut parents = HashMap::new();
    let statuses = ["1", "0", "spam", "trash"];
    for p in 0..posts {
        xml.push_str(&format!(
            "<item><title>Post {p}</title><link>https://many.example/post-{p}/</link>\
             <wp:post_id>{}</wp:post_id><wp:post_type>post</wp:post_type>\n",
            p + 1
        ));
        for n in 0..per_post {
            let id = p * 1000 + n + 1;
            let within = |m: i64| (0..i64::from(per_post)).contains(&m).then_some(m);
            let n = i64::from(n);
            let parent_n = match n % 10 {
                1 => within(n - 1),
                3 => within(n - 300),
                5 => within(n + 2),
                7 => within(n + 290),
                _ => None,
            };
            let mut parent = parent_n.map(|m| i64::from(p * 1000) + m + 1);
            parents.insert(format!("c{id}"), parent.map(|m| format!("c{m}")));
            if n % 10 == 9 && posts > 1 {
                parent = Some(i64::from(((p + 1) % posts) * 1000 + 1));
            }
            let comment = format!(
                "<wp:comment><wp:comment_id>{id}</wp:comment_id>\
                 <wp:comment_author>c{id}</wp:comment_author>\
                 <wp:comment_author_email>writer{}@many.example</wp:comment_author_email>\
                 <wp:comment_date_gmt>2021-03-04 05:06:07</wp:comment_date_gmt>\
                 <wp:comment_content>Comment number {id} of the many.</wp:comment_content>\
                 <wp:comment_approved>{}</wp:comment_approved>\
                 <wp:comment_type>comment</wp:comment_type>\
                 <wp:comment_parent>{}</wp:comment_parent></wp:comment>\n",
                id % 7,
                statuses[(id % 4) as usize],
                parent.unwrap_or(0),
            );
            xml.push_str(&comment);
            if n == 10 {
                xml.push_str(&comment);
            }
        }
        xml.push_str("</item>\n");
    }
    xml.push_str("</channel>\n</rss>\n");
    let file = dir.join("many.xml");
    std::fs::write(&file, xml).expect("write the export");
    (file.display().to_string(), parents)
}

#[tokio::test]
async fn a_file_of_many_batches_threads_every_reply_and_keeps_the_commenters_counts() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let (file, parents) = many_comments(dir.path(), 2, 600);
    let summary = run_ok(&app.db_url, &["import", "wordpress", &file]);
    assert!(summary.contains("comments imported: 1200"), "{summary}");
    assert!(summary.contains("2 already imported"), "{summary}");
    // The replies across posts (every tenth, 60 per post).
    assert!(summary.contains("warnings: 120"), "{summary}");

    let comments = stored(&app).await;
    assert_eq!(comments.len(), 1200);
    for (author, parent) in &parents {
        assert_eq!(&comments[author].parent, parent, "the parent of {author}");
    }
    assert_eq!(
        commenter_counts(&app).await,
        counted_from_comments(&app).await,
        "the commenters' counts are those of their comments"
    );

    let again = run_ok(&app.db_url, &["import", "wordpress", &file]);
    assert!(again.contains("comments imported: 0"), "{again}");
    assert!(again.contains("1202 already imported"), "{again}");
    assert_eq!(count(&app).await, 1200);

    // A later, larger export of the same site adds only what is new.
    let (file, _) = many_comments(dir.path(), 3, 600);
    let later = run_ok(&app.db_url, &["import", "wordpress", &file]);
    assert!(later.contains("comments imported: 600"), "{later}");
    assert!(later.contains("1203 already imported"), "{later}");
    let comments = stored(&app).await;
    assert_eq!(comments.len(), 1800);
    assert_eq!(comments["c2002"].parent.as_deref(), Some("c2001"));
    assert_eq!(comments["c2006"].parent.as_deref(), Some("c2008"));
    assert_eq!(
        commenter_counts(&app).await,
        counted_from_comments(&app).await
    );
}

type Counts = Vec<(String, i64, i64, i64, i64, i64, i64, i64)>;

/// The commenters' counts as the database keeps them.
async fn commenter_counts(app: &TestApp) -> Counts {
    use moderato::db::schema::commenter_stats as s;
    app.state
        .db
        .read(|conn| {
            s::table
                .order(s::author_key)
                .select((
                    s::author_key,
                    s::approved,
                    s::pending,
                    s::spam,
                    s::trash,
                    s::deleted,
                    s::first_seen,
                    s::last_seen,
                ))
                .load::<(String, i64, i64, i64, i64, i64, i64, i64)>(conn)
                .map_err(moderato::db::DbError::from)
        })
        .await
        .expect("read the counts")
}

/// The same counts worked out from the comments themselves.
async fn counted_from_comments(app: &TestApp) -> Counts {
    use moderato::db::schema::comments as c;
    let rows = app
        .state
        .db
        .read(|conn| {
            c::table
                .select((c::user_id, c::author_email, c::status, c::created_at))
                .load::<(Option<i64>, Option<String>, String, i64)>(conn)
                .map_err(moderato::db::DbError::from)
        })
        .await
        .expect("read the comments");
    let mut counts: std::collections::BTreeMap<String, [i64; 7]> = Default::default();
    for (user, email, status, at) in rows {
        let key = match (user, email) {
            (Some(user), _) => format!("u:{user}"),
            (None, Some(email)) => format!("e:{email}"),
            (None, None) => continue,
        };
        let entry = counts
            .entry(key)
            .or_insert([0, 0, 0, 0, 0, i64::MAX, i64::MIN]);
        let slot = ["approved", "pending", "spam", "trash", "deleted"]
            .iter()
            .position(|s| *s == status)
            .expect("a known status");
        entry[slot] += 1;
        entry[5] = entry[5].min(at);
        entry[6] = entry[6].max(at);
    }
    counts
        .into_iter()
        .map(|(k, v)| (k, v[0], v[1], v[2], v[3], v[4], v[5], v[6]))
        .collect()
}
