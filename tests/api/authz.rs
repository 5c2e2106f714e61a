//! The authorization matrix: every endpoint against every kind of caller.
//! Exactly the allowed ones succeed; one commenter can never read, edit or
//! delete another's comment, nor see another's email or IP.

use moderato::domain::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{expect_status, spawn_app, TestApp};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Stranger,
    /// A guest holding the edit token of their own comment.
    Guest,
    Commenter,
    OtherCommenter,
    Moderator,
    Admin,
    Banned,
}

const CALLERS: [Caller; 7] = [
    Caller::Stranger,
    Caller::Guest,
    Caller::Commenter,
    Caller::OtherCommenter,
    Caller::Moderator,
    Caller::Admin,
    Caller::Banned,
];

struct World {
    app: TestApp,
    commenter: String,
    other: String,
    moderator: String,
    admin: String,
    banned: String,
    banned_id: i64,
    commenter_id: i64,
}

impl World {
    async fn new() -> World {
        let app = spawn_app().await;
        let commenter = app.user(Role::Commenter, "commenter@example.com").await;
        let other = app.user(Role::Commenter, "other@example.com").await;
        let moderator = app.user(Role::Moderator, "moderator@example.com").await;
        let admin = app.user(Role::Admin, "admin@example.com").await;
        let banned = app.user(Role::Commenter, "banned@example.com").await;
        let ban = app
            .post_json_as(
                "/api/v1/moderation/bans",
                &json!({"kind": "user", "value": banned.id.to_string()}),
                &moderator.token,
            )
            .await;
        expect_status(ban, StatusCode::CREATED).await;
        World {
            commenter_id: commenter.id,
            banned_id: banned.id,
            commenter: commenter.token,
            other: other.token,
            moderator: moderator.token,
            admin: admin.token,
            banned: banned.token,
            app,
        }
    }

    fn token(&self, caller: Caller) -> Option<&str> {
        match caller {
            Caller::Stranger | Caller::Guest => None,
            Caller::Commenter => Some(&self.commenter),
            Caller::OtherCommenter => Some(&self.other),
            Caller::Moderator => Some(&self.moderator),
            Caller::Admin => Some(&self.admin),
            Caller::Banned => Some(&self.banned),
        }
    }

    /// A fresh comment by the commenter account.
    async fn commenter_comment(&self) -> i64 {
        let r = self
            .app
            .post_json_as(
                "/api/v1/articles/matrix/comments",
                &json!({"body": format!("mine {}", rand())}),
                &self.commenter,
            )
            .await;
        expect_status(r, StatusCode::CREATED).await["id"]
            .as_i64()
            .unwrap()
    }

    /// A fresh guest comment and its edit token.
    async fn guest_comment(&self) -> (i64, String) {
        let created = self
            .app
            .guest_comment("matrix", &format!("guest {}", rand()))
            .await;
        (
            created["id"].as_i64().unwrap(),
            created["edit_token"].as_str().unwrap().to_string(),
        )
    }

    async fn call(
        &self,
        caller: Caller,
        method: Method,
        path: &str,
        body: Option<Value>,
        edit_token: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut request = self.app.request(method, path);
        if let Some(token) = self.token(caller) {
            request = request.bearer_auth(token);
        }
        if let (Caller::Guest, Some(t)) = (caller, edit_token) {
            request = request.header("X-Edit-Token", t);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

fn rand() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

fn allowed(status: StatusCode) -> bool {
    status.is_success()
}

fn denied(status: StatusCode) -> bool {
    status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN
}

fn check(caller: Caller, what: &str, ok: bool, status: StatusCode, body: &Value) {
    if ok {
        assert!(
            allowed(status),
            "{caller:?} should be allowed to {what}, got {status} {body}"
        );
    } else {
        assert!(
            denied(status),
            "{caller:?} should be refused {what}, got {status} {body}"
        );
    }
}

#[tokio::test]
async fn public_reads_are_open_to_everyone() {
    let w = World::new().await;
    w.commenter_comment().await;
    for caller in CALLERS {
        for path in [
            "/api/v1/articles/matrix/comments",
            "/api/v1/counts?article=matrix",
            "/api/v1/articles/matrix",
            "/healthz",
            "/api/v1/openapi.json",
        ] {
            let (status, body) = w.call(caller, Method::GET, path, None, None).await;
            check(caller, path, true, status, &body);
        }
    }
}

#[tokio::test]
async fn posting_is_open_except_to_the_banned() {
    let w = World::new().await;
    for caller in CALLERS {
        let mut body = json!({"body": format!("hello from {caller:?}")});
        if matches!(caller, Caller::Stranger | Caller::Guest) {
            body["author"] = json!({"name": "Guest", "email": "guest@example.com"});
        }
        let (status, answer) = w
            .call(
                caller,
                Method::POST,
                "/api/v1/articles/matrix/comments",
                Some(body),
                None,
            )
            .await;
        check(
            caller,
            "post a comment",
            caller != Caller::Banned,
            status,
            &answer,
        );
        if caller == Caller::Banned {
            assert_eq!(answer["error"]["code"], "banned");
        }
    }
}

#[tokio::test]
async fn only_the_author_edits_and_the_author_or_staff_delete() {
    let w = World::new().await;
    for caller in CALLERS {
        let id = w.commenter_comment().await;
        let (status, body) = w
            .call(
                caller,
                Method::PATCH,
                &format!("/api/v1/comments/{id}"),
                Some(json!({"body": "edited"})),
                None,
            )
            .await;
        check(
            caller,
            "edit the commenter's comment",
            caller == Caller::Commenter,
            status,
            &body,
        );

        let (guest_id, token) = w.guest_comment().await;
        let (status, body) = w
            .call(
                caller,
                Method::PATCH,
                &format!("/api/v1/comments/{guest_id}"),
                Some(json!({"body": "edited"})),
                Some(&token),
            )
            .await;
        check(
            caller,
            "edit the guest's comment",
            caller == Caller::Guest,
            status,
            &body,
        );

        let id = w.commenter_comment().await;
        let (status, body) = w
            .call(
                caller,
                Method::DELETE,
                &format!("/api/v1/comments/{id}"),
                None,
                None,
            )
            .await;
        let may = matches!(
            caller,
            Caller::Commenter | Caller::Moderator | Caller::Admin
        );
        check(caller, "delete the commenter's comment", may, status, &body);

        let (guest_id, token) = w.guest_comment().await;
        let (status, body) = w
            .call(
                caller,
                Method::DELETE,
                &format!("/api/v1/comments/{guest_id}"),
                None,
                Some(&token),
            )
            .await;
        let may = matches!(caller, Caller::Guest | Caller::Moderator | Caller::Admin);
        check(caller, "delete the guest's comment", may, status, &body);
    }
}

#[tokio::test]
async fn account_endpoints_need_a_session() {
    let w = World::new().await;
    for caller in CALLERS {
        let signed_in = w.token(caller).is_some();
        for path in ["/api/v1/me", "/api/v1/me/export"] {
            let (status, body) = w.call(caller, Method::GET, path, None, None).await;
            check(caller, path, signed_in, status, &body);
        }
    }
}

#[tokio::test]
async fn moderation_endpoints_are_for_moderators_and_admins() {
    let w = World::new().await;
    for caller in CALLERS {
        let staff = matches!(caller, Caller::Moderator | Caller::Admin);
        let id = w.commenter_comment().await;
        let reads = [
            "/api/v1/moderation/comments?status=approved".to_string(),
            format!("/api/v1/moderation/comments/{id}"),
            "/api/v1/moderation/summary".to_string(),
            "/api/v1/moderation/activity".to_string(),
            "/api/v1/moderation/log?action=trash".to_string(),
            "/api/v1/moderation/commenters".to_string(),
            "/api/v1/moderation/bans".to_string(),
        ];
        for path in reads {
            let (status, body) = w.call(caller, Method::GET, &path, None, None).await;
            check(caller, &path, staff, status, &body);
        }
        let (status, body) = w
            .call(
                caller,
                Method::POST,
                &format!("/api/v1/moderation/comments/{id}/decision"),
                Some(json!({"action": "trash"})),
                None,
            )
            .await;
        check(caller, "decide", staff, status, &body);
        let (status, body) = w
            .call(
                caller,
                Method::POST,
                "/api/v1/moderation/decisions",
                Some(json!({"ids": [id], "action": "restore"})),
                None,
            )
            .await;
        check(caller, "decide in bulk", staff, status, &body);
        let (status, body) = w
            .call(caller, Method::POST, "/api/v1/moderation/undo", None, None)
            .await;
        check(caller, "undo a decision", staff, status, &body);
        let (status, body) = w
            .call(
                caller,
                Method::PATCH,
                &format!("/api/v1/moderation/comments/{id}"),
                Some(json!({"body": "said better"})),
                None,
            )
            .await;
        check(caller, "edit a comment's text", staff, status, &body);
        let (status, body) = w
            .call(
                caller,
                Method::POST,
                "/api/v1/moderation/bans",
                Some(json!({"kind": "email", "value": format!("x{}@example.com", rand())})),
                None,
            )
            .await;
        check(caller, "ban", staff, status, &body);
        if allowed(status) {
            let ban = body["ban"]["id"].as_i64().unwrap();
            let (status, body) = w
                .call(
                    caller,
                    Method::DELETE,
                    &format!("/api/v1/moderation/bans/{ban}"),
                    None,
                    None,
                )
                .await;
            check(caller, "lift a ban", staff, status, &body);
        }
        let (status, body) = w
            .call(
                caller,
                Method::PATCH,
                &format!("/api/v1/moderation/users/{}", w.commenter_id),
                Some(json!({"trusted": true})),
                None,
            )
            .await;
        check(caller, "trust an account", staff, status, &body);
        let (status, body) = w
            .call(
                caller,
                Method::PATCH,
                &format!("/api/v1/moderation/users/{}", w.banned_id),
                Some(json!({"role": "commenter"})),
                None,
            )
            .await;
        check(
            caller,
            "change a role",
            caller == Caller::Admin,
            status,
            &body,
        );
    }
}

#[tokio::test]
async fn articles_and_word_lists_are_for_admins() {
    let w = World::new().await;
    for caller in CALLERS {
        let admin = caller == Caller::Admin;
        let (status, body) = w
            .call(
                caller,
                Method::PUT,
                "/api/v1/articles/admin-only",
                Some(json!({"title": "T"})),
                None,
            )
            .await;
        check(caller, "put an article", admin, status, &body);
        let (status, body) = w
            .call(caller, Method::GET, "/api/v1/spam/wordlists", None, None)
            .await;
        check(caller, "read word lists", admin, status, &body);
        let (status, body) = w
            .call(
                caller,
                Method::POST,
                "/api/v1/spam/wordlists",
                Some(json!({"list": "suspect", "pattern": format!("w{}", rand())})),
                None,
            )
            .await;
        check(caller, "add to word lists", admin, status, &body);
        if allowed(status) {
            let id = body["id"].as_i64().unwrap();
            let (status, body) = w
                .call(
                    caller,
                    Method::DELETE,
                    &format!("/api/v1/spam/wordlists/{id}"),
                    None,
                    None,
                )
                .await;
            check(caller, "remove from word lists", admin, status, &body);
        }
    }
}

#[tokio::test]
async fn no_commenter_sees_another_ones_email_or_ip() {
    let w = World::new().await;
    w.commenter_comment().await;
    let secrets = ["commenter@example.com", "127.0.0.1"];
    for caller in [Caller::Stranger, Caller::OtherCommenter, Caller::Banned] {
        for path in [
            "/api/v1/articles/matrix/comments",
            "/api/v1/articles/matrix",
            "/api/v1/counts?article=matrix",
            "/api/v1/me",
            "/api/v1/me/export",
        ] {
            let (_, body) = w.call(caller, Method::GET, path, None, None).await;
            let text = body.to_string();
            for secret in secrets {
                assert!(
                    !text.contains(secret),
                    "{caller:?} GET {path} shows {secret}: {text}"
                );
            }
        }
    }
    // The owner sees their own data in the export, IP included.
    let (_, export) = w
        .call(
            Caller::Commenter,
            Method::GET,
            "/api/v1/me/export",
            None,
            None,
        )
        .await;
    assert_eq!(export["account"]["email"], "commenter@example.com");
    assert_eq!(export["comments"][0]["ip"], "127.0.0.1");
}
