//! Starting the real server for a test: port 0, a fresh database (a temporary
//! SQLite file, or a fresh PostgreSQL schema when MODERATO_TEST_DATABASE_URL
//! is set), and an HTTP client aimed at it.

use std::sync::atomic::{AtomicU64, Ordering};

use diesel::connection::SimpleConnection;
use moderato::config::{Settings, Sources};
use moderato::domain::{AuthorName, Email, Password, Role};
use moderato::services::Services;
use moderato::startup::Application;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{json, Value};

pub const PG_ENV: &str = "MODERATO_TEST_DATABASE_URL";

/// A database of the test's own, removed when the test ends.
pub enum TestDatabase {
    Sqlite {
        _dir: tempfile::TempDir,
        url: String,
    },
    Postgres {
        admin_url: String,
        schema: String,
        url: String,
    },
}

impl TestDatabase {
    pub fn new() -> TestDatabase {
        match std::env::var(PG_ENV).ok().filter(|s| !s.is_empty()) {
            Some(admin_url) => {
                static NEXT: AtomicU64 = AtomicU64::new(0);
                let schema = format!(
                    "t_{}_{}_{}",
                    std::process::id(),
                    NEXT.fetch_add(1, Ordering::Relaxed),
                    rand_suffix()
                );
                let mut admin = moderato::db::connect_postgres(&admin_url).unwrap_or_else(|e| {
                    panic!("{PG_ENV} is set but PostgreSQL is unreachable: {e}")
                });
                // Migration 0007 creates pg_trgm where it is missing, in the
                // first schema of the search path: here a test's own schema,
                // whose drop would take the extension, and every other test's
                // index built on it, along. Installed once in `public`, the
                // migration finds it there, as on a real server.
                static TRIGRAMS: std::sync::Once = std::sync::Once::new();
                TRIGRAMS.call_once(|| {
                    admin
                        .batch_execute("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
                        .expect("create pg_trgm");
                });
                admin
                    .batch_execute(&format!("CREATE SCHEMA {schema}"))
                    .expect("create test schema");
                let separator = if admin_url.contains('?') { '&' } else { '?' };
                let url = format!("{admin_url}{separator}options=-csearch_path%3D{schema}");
                TestDatabase::Postgres {
                    admin_url,
                    schema,
                    url,
                }
            }
            None => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("test.db").display());
                TestDatabase::Sqlite { _dir: dir, url }
            }
        }
    }

    pub fn url(&self) -> &str {
        match self {
            TestDatabase::Sqlite { url, .. } | TestDatabase::Postgres { url, .. } => url,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let TestDatabase::Postgres {
            admin_url, schema, ..
        } = self
        {
            if let Ok(mut admin) = moderato::db::connect_postgres(admin_url) {
                // Never hang a test run on a lock held by a server still
                // shutting down; a leftover schema is harmless.
                let _ = admin.batch_execute(&format!(
                    "SET lock_timeout = '5s'; DROP SCHEMA IF EXISTS {schema} CASCADE"
                ));
            }
        }
    }
}

fn rand_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{nanos:x}")
}

pub struct TestApp {
    pub address: String,
    /// `http://127.0.0.1:PORT` of the metrics listener, when
    /// `metrics.bind` gives it one.
    pub metrics_address: Option<String>,
    /// The database URL the server uses (for a second instance).
    pub db_url: String,
    pub client: reqwest::Client,
    pub state: actix_web::web::Data<Services>,
    /// Held so the database outlives the server; dropped (removed) last.
    _db: Option<TestDatabase>,
}

/// A server with the default settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with("").await
}

/// A server with extra settings, given as TOML (e.g.
/// `"[moderation]\nmode = \"all\""`).
pub async fn spawn_app_with(settings_toml: &str) -> TestApp {
    let db = TestDatabase::new();
    let url = db.url().to_string();
    spawn_app_on(Some(db), &url, settings_toml).await
}

/// A server on a database the test prepared, reached through `url` (which
/// may differ from the database's own, e.g. through a proxy).
/// With `db: None` the database belongs to another app of the test (a
/// second instance on the same database).
pub async fn spawn_app_on(db: Option<TestDatabase>, url: &str, settings_toml: &str) -> TestApp {
    let base = format!(
        "server.bind = \"127.0.0.1:0\"\nserver.workers = 1\ndatabase.url = {}\nlog.level = \"warn\"\n\
         guards.flood_interval = \"0s\"\nguards.duplicate_window = \"0s\"\n\
         comments.rate_limit.per_ip = 0\ncomments.rate_limit.per_account = 0\n\
         auth.register_limit.per_ip = 0\nauth.login_limit.per_ip = 0\n",
        serde_json::Value::from(url)
    );
    let settings = Settings::load(&Sources {
        file: None,
        env: false,
        overrides: vec![base, settings_toml.to_string()],
    })
    .expect("test settings must load");
    moderato::telemetry::init(&settings.log);
    let app = Application::build(settings).await.expect("app must start");
    let address = format!("http://127.0.0.1:{}", app.port());
    let metrics_address = app
        .metrics_address()
        .map(|a| format!("http://127.0.0.1:{}", a.port()));
    let state = app.state();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        metrics_address,
        db_url: url.to_string(),
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
        state,
        _db: db,
    }
}

/// A signed-in account and its session token.
pub struct TestUser {
    pub id: i64,
    pub email: String,
    pub password: String,
    pub token: String,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path))
    }

    pub async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path)
            .send()
            .await
            .expect("request")
    }

    pub async fn get_as(&self, path: &str, token: &str) -> Response {
        self.request(Method::GET, path)
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.request(Method::POST, path)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn post_json_as(&self, path: &str, body: &Value, token: &str) -> Response {
        self.request(Method::POST, path)
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    /// Posts a guest comment and returns the answer's JSON (asserting 201).
    pub async fn guest_comment(&self, article: &str, body: &str) -> Value {
        let response = self
            .post_json(
                &format!("/api/v1/articles/{article}/comments"),
                &json!({"body": body, "author": {"name": "Guest", "email": "guest@example.com"}}),
            )
            .await;
        expect_status(response, StatusCode::CREATED).await
    }

    /// Changes the body of a guest comment with the edit token its creation
    /// answer (`created`) holds; returns the answer's JSON (asserting 200).
    pub async fn guest_edit(&self, created: &Value, body: &str) -> Value {
        let id = created["id"].as_i64().expect("the comment's id");
        let response = self
            .request(Method::PATCH, &format!("/api/v1/comments/{id}"))
            .header("X-Edit-Token", created["edit_token"].as_str().unwrap())
            .json(&json!({ "body": body }))
            .send()
            .await
            .expect("request");
        expect_status(response, StatusCode::OK).await
    }

    /// Posts a guest comment replying to `parent` (asserting 201).
    pub async fn guest_reply(&self, article: &str, parent: i64, body: &str) -> Value {
        let response = self
            .post_json(
                &format!("/api/v1/articles/{article}/comments"),
                &json!({"body": body, "parent_id": parent,
                        "author": {"name": "Replier", "email": "replier@example.com"}}),
            )
            .await;
        expect_status(response, StatusCode::CREATED).await
    }

    /// The public thread of an article (asserting 200).
    pub async fn thread(&self, article: &str) -> Value {
        expect_status(
            self.get(&format!("/api/v1/articles/{article}/comments?limit=200"))
                .await,
            StatusCode::OK,
        )
        .await
    }

    /// Creates an account with `role` directly (as the CLI does) and signs
    /// it in over HTTP.
    pub async fn user(&self, role: Role, email: &str) -> TestUser {
        let password = "correct horse battery".to_string();
        let created = moderato::auth::create_user(
            &self.state.db,
            &self.state.passwords,
            Email::parse(email, 100, "email").unwrap(),
            AuthorName::parse(&email.replace('@', " at "), 100, "name").unwrap(),
            Password::parse(password.clone(), 8, 1024).unwrap(),
            role,
        )
        .await
        .expect("create user");
        let session = expect_status(
            self.post_json(
                "/api/v1/auth/login",
                &json!({"email": email, "password": password}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        TestUser {
            id: created.id.0,
            email: email.to_string(),
            password,
            token: session["token"].as_str().expect("token").to_string(),
        }
    }

    /// Comments stored in every status, as the moderation summary counts
    /// them (`token`: a moderator's).
    pub async fn stored_count(&self, token: &str) -> i64 {
        let summary = expect_status(
            self.get_as("/api/v1/moderation/summary", token).await,
            StatusCode::OK,
        )
        .await;
        summary["overall"]
            .as_object()
            .expect("overall counts")
            .values()
            .map(|v| v.as_i64().expect("a count"))
            .sum()
    }

    /// Creates (or updates) an article as a fresh admin.
    pub async fn admin_put_article(&self, key: &str, body: &Value) -> Value {
        let admin = self
            .user(Role::Admin, &format!("admin-{}@example.com", rand_suffix()))
            .await;
        let response = self
            .request(Method::PUT, &format!("/api/v1/articles/{key}"))
            .bearer_auth(&admin.token)
            .json(body)
            .send()
            .await
            .expect("request");
        assert!(
            response.status().is_success(),
            "PUT article: {}",
            response.status()
        );
        response.json().await.expect("json")
    }
}

/// Asserts the status and returns the JSON body (or `Value::Null` when the
/// body is empty).
pub async fn expect_status(response: Response, status: StatusCode) -> Value {
    let actual = response.status();
    let text = response.text().await.expect("body");
    assert_eq!(actual, status, "unexpected status; body: {text}");
    if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    }
}

/// Asserts an error answer: status, and the stable error code.
pub async fn expect_error(response: Response, status: StatusCode, code: &str) -> Value {
    let body = expect_status(response, status).await;
    assert_eq!(body["error"]["code"], code, "error body: {body}");
    assert!(body["error"]["message"].is_string(), "error body: {body}");
    body
}

/// The `id` of a comment (or of any record) in an answer's JSON.
pub fn id_of(value: &Value) -> i64 {
    value["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no id in {value}"))
}

/// A moderator's decision on one comment (`action`: approve, spam,
/// not_spam, trash or restore) that must succeed; returns the comment as
/// moderators see it.
pub async fn decided(app: &TestApp, token: &str, id: i64, action: &str) -> Value {
    expect_status(
        app.post_json_as(
            &format!("/api/v1/moderation/comments/{id}/decision"),
            &json!({ "action": action }),
            token,
        )
        .await,
        StatusCode::OK,
    )
    .await
}
