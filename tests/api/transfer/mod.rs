//! Moving in and out: `moderato import ...` and `moderato export` run as
//! the real binary against the test's database, and what they wrote read
//! back from it (and over HTTP).

mod export;
mod import;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Output;

use diesel::prelude::*;
use moderato::db::schema::{articles, comments};

use crate::cli::moderato;
use crate::helpers::TestApp;

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import")
        .join(name)
}

/// Runs `moderato ARGS --database URL`.
pub fn run(url: &str, args: &[&str]) -> Output {
    moderato()
        .args(args)
        .args(["--database", url])
        .output()
        .expect("run moderato")
}

/// Runs it and asserts success; returns standard output.
pub fn run_ok(url: &str, args: &[&str]) -> String {
    let output = run(url, args);
    assert!(
        output.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8")
}

/// A comment as stored, with its article's key and its parent's author.
#[derive(Debug, Clone)]
pub struct Stored {
    pub key: String,
    pub parent: Option<String>,
    pub status: String,
    pub user_id: Option<i64>,
    pub body: String,
    pub html: String,
    pub created_at: i64,
    pub ip: Option<String>,
    pub verdict: Option<String>,
}

type Row = (
    i64,
    i64,
    Option<i64>,
    String,
    String,
    Option<i64>,
    String,
    String,
    i64,
    Option<String>,
    Option<String>,
);

/// Every stored comment, by author name.
pub async fn stored(app: &TestApp) -> HashMap<String, Stored> {
    let (rows, keys) = app
        .state
        .db
        .read(|conn| {
            let rows: Vec<Row> = comments::table
                .select((
                    comments::id,
                    comments::article_id,
                    comments::parent_id,
                    comments::author_name,
                    comments::status,
                    comments::user_id,
                    comments::body,
                    comments::html,
                    comments::created_at,
                    comments::ip,
                    comments::verdict,
                ))
                .load(conn)?;
            let keys: Vec<(i64, String)> = articles::table
                .select((articles::id, articles::key))
                .load(conn)?;
            Ok::<_, moderato::db::DbError>((rows, keys))
        })
        .await
        .expect("read comments");
    let keys: HashMap<i64, String> = keys.into_iter().collect();
    let authors: HashMap<i64, String> = rows.iter().map(|r| (r.0, r.3.clone())).collect();
    rows.into_iter()
        .map(|r| {
            (
                r.3.clone(),
                Stored {
                    key: keys[&r.1].clone(),
                    parent: r.2.map(|p| authors[&p].clone()),
                    status: r.4,
                    user_id: r.5,
                    body: r.6,
                    html: r.7,
                    created_at: r.8,
                    ip: r.9,
                    verdict: r.10,
                },
            )
        })
        .collect()
}
