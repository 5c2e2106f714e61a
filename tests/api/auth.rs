//! Accounts: registering, signing in and out, sessions.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use moderato::domain::Role;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{expect_error, expect_status, spawn_app, spawn_app_with};

async fn register(
    app: &crate::helpers::TestApp,
    email: &str,
    password: &str,
    name: &str,
) -> serde_json::Value {
    let response = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"email": email, "password": password, "name": name}),
        )
        .await;
    expect_status(response, StatusCode::ACCEPTED).await
}

async fn login(app: &crate::helpers::TestApp, email: &str, password: &str) -> reqwest::Response {
    app.post_json(
        "/api/v1/auth/login",
        &json!({"email": email, "password": password}),
    )
    .await
}

#[tokio::test]
async fn registering_then_signing_in_gives_a_session_and_me_shows_the_account() {
    let app = spawn_app().await;
    let accepted = register(&app, "Dana@Example.com", "long enough pw", "Dana").await;
    assert_eq!(accepted["status"], "accepted");
    let session = expect_status(
        login(&app, "dana@example.com", "long enough pw").await,
        StatusCode::OK,
    )
    .await;
    let token = session["token"].as_str().unwrap();
    assert!(token.len() >= 43, "at least 256 bits");
    assert!(session["expires_at"].is_string());
    assert_eq!(session["user"]["email"], "dana@example.com");
    assert_eq!(session["user"]["role"], "commenter");
    let me = expect_status(app.get_as("/api/v1/me", token).await, StatusCode::OK).await;
    assert_eq!(me["name"], "Dana");
    assert_eq!(me["email"], "dana@example.com");
}

#[tokio::test]
async fn signing_in_sets_an_httponly_samesite_cookie_that_authenticates() {
    let app = spawn_app_with("[auth]\ncookie_secure = false").await;
    register(&app, "e@example.com", "long enough pw", "E").await;
    let response = login(&app, "e@example.com", "long enough pw").await;
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("moderato_session="))
        .expect("session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    let pair = cookie.split(';').next().unwrap().to_string();
    let me = app
        .request(Method::GET, "/api/v1/me")
        .header("cookie", pair)
        .send()
        .await
        .unwrap();
    expect_status(me, StatusCode::OK).await;
}

#[tokio::test]
async fn the_cookie_is_secure_by_default() {
    let app = spawn_app().await;
    register(&app, "s@example.com", "long enough pw", "S").await;
    let response = login(&app, "s@example.com", "long enough pw").await;
    let cookie = response
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(cookie.contains("Secure"), "{cookie}");
}

#[tokio::test]
async fn registration_validates_fields() {
    let app = spawn_app().await;
    let short = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"email": "a@example.com", "password": "short", "name": "A"}),
        )
        .await;
    let error = expect_error(short, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field").await;
    assert_eq!(error["error"]["field"], "password");
    let bad_email = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"email": "nope", "password": "long enough pw", "name": "A"}),
        )
        .await;
    let error = expect_error(bad_email, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field").await;
    assert_eq!(error["error"]["field"], "email");
    let markup = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"email": "m@example.com", "password": "long enough pw", "name": "<b>x</b>"}),
        )
        .await;
    let error = expect_error(markup, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field").await;
    assert_eq!(error["error"]["field"], "name");
}

#[tokio::test]
async fn registering_a_taken_email_answers_the_same_and_changes_nothing() {
    let app = spawn_app().await;
    let first = register(&app, "a@example.com", "long enough pw", "A").await;
    let again = register(&app, "A@EXAMPLE.com", "another long pw", "B").await;
    assert_eq!(
        first, again,
        "the answer must not tell whether the email was taken"
    );
    expect_error(
        login(&app, "a@example.com", "another long pw").await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    let session = expect_status(
        login(&app, "a@example.com", "long enough pw").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(session["user"]["name"], "A");
}

#[tokio::test]
async fn registrations_are_limited_per_ip() {
    let app = spawn_app_with("[auth.register_limit]\nper_ip = 2\nwindow = \"1h\"").await;
    register(&app, "r1@example.com", "long enough pw", "R").await;
    register(&app, "r2@example.com", "long enough pw", "R").await;
    let third = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"email": "r3@example.com", "password": "long enough pw", "name": "R"}),
        )
        .await;
    assert!(third.headers().contains_key("retry-after"));
    expect_error(third, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    expect_error(
        login(&app, "r3@example.com", "long enough pw").await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
}

#[tokio::test]
async fn signing_out_everywhere_ends_every_session() {
    let app = spawn_app().await;
    let user = app.user(Role::Commenter, "many@example.com").await;
    let second = expect_status(
        login(&app, &user.email, &user.password).await,
        StatusCode::OK,
    )
    .await;
    let second = second["token"].as_str().unwrap().to_string();
    let response = app
        .request(Method::POST, "/api/v1/auth/logout-all")
        .bearer_auth(&user.token)
        .send()
        .await
        .unwrap();
    let ended = expect_status(response, StatusCode::OK).await;
    assert_eq!(ended["sessions_ended"], 2);
    for token in [&user.token, &second] {
        expect_error(
            app.get_as("/api/v1/me", token).await,
            StatusCode::UNAUTHORIZED,
            "invalid_session",
        )
        .await;
    }
}

#[tokio::test]
async fn changing_the_password_ends_the_other_sessions_only() {
    let app = spawn_app().await;
    let user = app.user(Role::Commenter, "pw@example.com").await;
    let other = expect_status(
        login(&app, &user.email, &user.password).await,
        StatusCode::OK,
    )
    .await;
    let other = other["token"].as_str().unwrap().to_string();
    let change = |current: &str, new: &str| {
        app.request(Method::POST, "/api/v1/auth/password")
            .bearer_auth(&user.token)
            .json(&json!({"current_password": current, "new_password": new}))
            .send()
    };
    expect_error(
        change("wrong password", "a brand new password")
            .await
            .unwrap(),
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    let error = expect_error(
        change(&user.password, "short").await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    )
    .await;
    assert_eq!(error["error"]["field"], "new_password");
    let done = expect_status(
        change(&user.password, "a brand new password")
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(done["sessions_ended"], 1);
    expect_status(app.get_as("/api/v1/me", &user.token).await, StatusCode::OK).await;
    expect_error(
        app.get_as("/api/v1/me", &other).await,
        StatusCode::UNAUTHORIZED,
        "invalid_session",
    )
    .await;
    expect_error(
        login(&app, &user.email, &user.password).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    expect_status(
        login(&app, &user.email, "a brand new password").await,
        StatusCode::OK,
    )
    .await;
}

#[tokio::test]
async fn registration_can_be_closed() {
    let app = spawn_app_with("[auth]\nallow_registration = false").await;
    let response = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"email": "a@example.com", "password": "long enough pw", "name": "A"}),
        )
        .await;
    expect_error(response, StatusCode::FORBIDDEN, "registration_closed").await;
}

#[tokio::test]
async fn wrong_passwords_and_unknown_emails_get_the_same_answer() {
    let app = spawn_app().await;
    let user = app.user(Role::Commenter, "known@example.com").await;
    let wrong = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"email": user.email, "password": "wrong password"}),
        )
        .await;
    let wrong = expect_error(wrong, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    let unknown = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"email": "nobody@example.com", "password": "wrong password"}),
        )
        .await;
    let unknown = expect_error(unknown, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    assert_eq!(wrong, unknown);
    let malformed = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"email": "not an email", "password": "x"}),
        )
        .await;
    assert_eq!(
        expect_error(malformed, StatusCode::UNAUTHORIZED, "invalid_credentials").await,
        wrong
    );
    let right = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"email": "KNOWN@example.com", "password": user.password}),
        )
        .await;
    expect_status(right, StatusCode::OK).await;
}

#[tokio::test]
async fn failed_logins_from_one_address_are_limited_with_retry_after() {
    let app = spawn_app_with(
        "[auth.login_limit]\nper_email_ip = 3\nper_email = 100\nper_ip = 100\nwindow = \"10m\"",
    )
    .await;
    let user = app.user(Role::Commenter, "target@example.com").await;
    for _ in 0..3 {
        let response = app
            .post_json(
                "/api/v1/auth/login",
                &json!({"email": user.email, "password": "guess guess"}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let limited = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"email": user.email, "password": user.password}),
        )
        .await;
    let retry_after: u64 = limited
        .headers()
        .get("retry-after")
        .expect("Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after > 0 && retry_after <= 600, "{retry_after}");
    expect_error(limited, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    // Another account is not affected by the first one's limit.
    let other = app.user(Role::Commenter, "other@example.com").await;
    assert!(!other.token.is_empty());
}

/// Signs in from `ip` (the app trusts the test client as a proxy), with a
/// device token when given; returns the status, Retry-After and body.
async fn login_from(
    app: &crate::helpers::TestApp,
    ip: &str,
    email: &str,
    password: &str,
    device_token: Option<&str>,
) -> (StatusCode, Option<u64>, serde_json::Value) {
    let response = app
        .request(Method::POST, "/api/v1/auth/login")
        .header("X-Forwarded-For", ip)
        .json(&json!({"email": email, "password": password, "device_token": device_token}))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    (
        status,
        retry_after,
        response.json().await.unwrap_or_default(),
    )
}

#[tokio::test]
async fn guessing_at_an_account_from_everywhere_never_locks_its_owner_out() {
    let app = spawn_app_with(
        "[server]\ntrusted_proxies = [\"127.0.0.1/32\"]\n\
         [auth.login_limit]\nper_ip = 30\nper_email_ip = 5\nper_email = 10\nslow_interval = \"1s\"\nwindow = \"15m\"",
    )
    .await;
    let admin = app.user(Role::Admin, "admin@example.com").await;
    let (status, _, session) =
        login_from(&app, "198.51.100.1", &admin.email, &admin.password, None).await;
    assert_eq!(status, StatusCode::OK);
    let device = session["device_token"]
        .as_str()
        .expect("a device token")
        .to_string();

    // An attack from twelve addresses, five guesses each.
    let started = std::time::Instant::now();
    let mut answers = Vec::new();
    for attacker in 0..12 {
        for guess in 0..5 {
            let ip = format!("203.0.113.{attacker}");
            let (status, retry, _) =
                login_from(&app, &ip, &admin.email, &format!("guess {guess}"), None).await;
            answers.push((status, retry));
        }
    }
    let unauthorized = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::UNAUTHORIZED)
        .count();
    let slowed: Vec<u64> = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::TOO_MANY_REQUESTS)
        .map(|(_, retry)| retry.expect("Retry-After"))
        .collect();
    // Ten attempts at the account from unknown devices (the owner's two
    // sign-ins above among them) get through; beyond them, one per second.
    let seconds = started.elapsed().as_secs() as usize;
    assert!(
        (8..=10 + seconds).contains(&unauthorized),
        "{unauthorized} in {seconds} s: {answers:?}"
    );
    assert_eq!(unauthorized + slowed.len(), 60);
    assert!(slowed.iter().all(|s| *s == 1), "{slowed:?}");

    // One address guessing on is refused for the window.
    let (status, retry, _) = login_from(&app, "203.0.113.0", &admin.email, "guess 6", None).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(retry.unwrap() > 60, "{retry:?}");

    // The owner signs in at once from the device they used before, even
    // from a new address...
    let (status, _, _) = login_from(
        &app,
        "192.0.2.77",
        &admin.email,
        &admin.password,
        Some(&device),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // ...and from a new device after at most a second's wait.
    let (status, retry, _) =
        login_from(&app, "192.0.2.78", &admin.email, &admin.password, None).await;
    if status == StatusCode::TOO_MANY_REQUESTS {
        assert_eq!(retry, Some(1));
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let (status, _, _) =
            login_from(&app, "192.0.2.78", &admin.email, &admin.password, None).await;
        assert_eq!(status, StatusCode::OK);
    } else {
        assert_eq!(status, StatusCode::OK);
    }
    // A device token is worth nothing for another account.
    let other = app.user(Role::Commenter, "other@example.com").await;
    for _ in 0..5 {
        login_from(
            &app,
            "192.0.2.79",
            &other.email,
            "wrong wrong",
            Some(&device),
        )
        .await;
    }
    let (status, _, _) = login_from(
        &app,
        "192.0.2.79",
        &other.email,
        &other.password,
        Some(&device),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "counted per address, not per device"
    );
}

#[tokio::test]
async fn current_password_checks_are_limited_per_account() {
    let app = spawn_app_with("[auth.login_limit]\nper_email_ip = 3").await;
    let user = app.user(Role::Commenter, "checked@example.com").await;
    for _ in 0..2 {
        let response = app
            .post_json_as(
                "/api/v1/auth/password",
                &json!({"current_password": "nope nope", "new_password": "a brand new one"}),
                &user.token,
            )
            .await;
        expect_error(response, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    }
    let delete_guess = app
        .request(Method::DELETE, "/api/v1/me")
        .bearer_auth(&user.token)
        .json(&json!({"password": "still guessing"}))
        .send()
        .await
        .unwrap();
    expect_error(
        delete_guess,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    // The fourth check, even with the right password, waits.
    let limited = app
        .post_json_as(
            "/api/v1/auth/password",
            &json!({"current_password": user.password, "new_password": "a brand new one"}),
            &user.token,
        )
        .await;
    expect_error(limited, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    expect_status(app.get_as("/api/v1/me", &user.token).await, StatusCode::OK).await;
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = spawn_app().await;
    let user = app.user(Role::Commenter, "bye@example.com").await;
    expect_status(app.get_as("/api/v1/me", &user.token).await, StatusCode::OK).await;
    let response = app
        .request(Method::POST, "/api/v1/auth/logout")
        .bearer_auth(&user.token)
        .send()
        .await
        .unwrap();
    expect_status(response, StatusCode::NO_CONTENT).await;
    expect_error(
        app.get_as("/api/v1/me", &user.token).await,
        StatusCode::UNAUTHORIZED,
        "invalid_session",
    )
    .await;
}

#[tokio::test]
async fn me_needs_a_valid_session() {
    let app = spawn_app().await;
    expect_error(
        app.get("/api/v1/me").await,
        StatusCode::UNAUTHORIZED,
        "not_signed_in",
    )
    .await;
    expect_error(
        app.get_as("/api/v1/me", "garbage").await,
        StatusCode::UNAUTHORIZED,
        "invalid_session",
    )
    .await;
    let logout = app
        .request(Method::POST, "/api/v1/auth/logout")
        .send()
        .await
        .unwrap();
    expect_error(logout, StatusCode::UNAUTHORIZED, "not_signed_in").await;
}

#[tokio::test]
async fn sessions_expire() {
    let app = spawn_app_with("[auth]\nsession_ttl = \"300ms\"").await;
    let user = app.user(Role::Commenter, "brief@example.com").await;
    expect_status(app.get_as("/api/v1/me", &user.token).await, StatusCode::OK).await;
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    expect_error(
        app.get_as("/api/v1/me", &user.token).await,
        StatusCode::UNAUTHORIZED,
        "invalid_session",
    )
    .await;
}

#[derive(QueryableByName)]
struct Stored {
    #[diesel(sql_type = Text)]
    secret: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[tokio::test]
async fn tokens_and_passwords_are_stored_only_as_hashes() {
    let app = spawn_app().await;
    let user = app.user(Role::Commenter, "hashed@example.com").await;
    let guest = app.guest_comment("h", "hi").await;
    let edit_token = guest["edit_token"].as_str().unwrap().to_string();
    let (token, password) = (user.token.clone(), user.password.clone());
    let stored: Vec<String> = app
        .state
        .db
        .read(move |conn| {
            let mut all = Vec::new();
            for sql in [
                "SELECT token_hash AS secret FROM sessions",
                "SELECT password_hash AS secret FROM users",
                "SELECT edit_token_hash AS secret FROM comments",
            ] {
                let rows: Vec<Stored> = diesel::sql_query(sql).load(conn)?;
                all.extend(rows.into_iter().map(|r| r.secret));
            }
            Ok::<_, moderato::db::DbError>(all)
        })
        .await
        .map_err(|e| e.to_string())
        .unwrap();
    assert!(
        stored.iter().any(|s| s.starts_with("$argon2id$")),
        "{stored:?}"
    );
    for secret in &stored {
        assert!(
            !secret.contains(&token)
                && !secret.contains(&password)
                && !secret.contains(&edit_token)
        );
    }
    let sessions: i64 = app
        .state
        .db
        .read(|conn| {
            diesel::sql_query("SELECT COUNT(*) AS n FROM sessions")
                .get_result::<Count>(conn)
                .map(|c| c.n)
                .map_err(moderato::db::DbError::from)
        })
        .await
        .unwrap();
    assert_eq!(sessions, 1);
}
