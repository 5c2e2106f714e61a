//! Test fixtures for the queries' unit tests: a migrated SQLite database
//! in a temporary folder, and comments to fill it with.

use std::time::Duration;

use super::models::{Article, NewArticle, NewComment};
use super::{run_migrations, AnyConnection, ConnectionManager, DatabaseUrl};
use crate::config::{SqliteSettings, SqliteSynchronous};
use crate::domain::{ArticleId, AuthorName, CommentBody, CommentStatus, Email};

/// A migrated database; it lives as long as the returned folder.
pub fn database() -> (tempfile::TempDir, AnyConnection) {
    let dir = tempfile::tempdir().unwrap();
    let manager = ConnectionManager::new(
        DatabaseUrl::Sqlite(dir.path().join("t.db")),
        SqliteSettings {
            busy_timeout: Duration::from_secs(5),
            synchronous: SqliteSynchronous::Normal,
        },
    );
    let mut conn = manager.establish().unwrap();
    run_migrations(&mut conn).unwrap();
    (dir, conn)
}

/// A new article, open for comments, under `key`.
pub fn article(conn: &mut AnyConnection, key: &str) -> Article {
    let new = NewArticle {
        key,
        title: None,
        url: None,
        comments_open: true,
        created_at: 0,
        updated_at: 0,
    };
    super::articles::find_or_insert(conn, &new).unwrap().0
}

/// The `n`th guest comment of a series, by `a{n}@example.com`.
pub fn comment(article_id: ArticleId, n: usize, body: String, status: CommentStatus) -> NewComment {
    NewComment {
        article_id,
        parent_id: None,
        user_id: None,
        author_name: AuthorName::parse(&format!("Author {n}"), 100, "name").unwrap(),
        author_email: Some(Email::parse(&format!("a{n}@example.com"), 100, "email").unwrap()),
        author_url: None,
        fingerprint: None,
        html: body.clone(),
        body: CommentBody::parse(&body, 100_000).unwrap(),
        status,
        edit_token_hash: None,
        ip: None,
        user_agent: None,
        referrer: None,
        created_at: n as i64,
        status_changed_at: n as i64,
        spam_score: None,
        spam_report: None,
    }
}
