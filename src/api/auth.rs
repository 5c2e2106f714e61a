use super::json::Json;
use super::openapi::errors;
use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::client::client_ip;
use super::extract::SignedIn;
use super::views::{AccountView, ExportedAccount, ExportedComment};
use crate::auth::{self, Attempt, LoginOutcome, NewAccount};
use crate::domain::timestamp;
use crate::error::ApiError;
use crate::services::Services;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterBody {
    #[schema(format = Email, max_length = 100)]
    email: String,
    #[schema(min_length = 8, max_length = 1024)]
    password: String,
    #[schema(min_length = 1, max_length = 245)]
    name: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    email: String,
    password: String,
    /// The `device_token` an earlier sign-in to this account answered with
    /// (or send the device cookie): failed attempts from elsewhere do not
    /// slow this device down.
    #[schema(max_length = 200)]
    device_token: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SessionView {
    token: String,
    expires_at: String,
    user: AccountView,
    /// Keep it and send it with the next sign-in to this account (it is
    /// also set as a cookie).
    #[serde(skip_serializing_if = "String::is_empty")]
    device_token: String,
}

/// The cookie a device token is kept in, beside the session cookie.
const DEVICE_COOKIE: &str = "moderato_device";

/// Registers a commenter account. The answer is the same whether or not
/// the email already had an account (so it cannot be used to find out who
/// does); sign in next.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "accounts",
    request_body = RegisterBody,
    responses((status = 202, description = "Accepted: sign in with the email and password", body = RegisteredView),
              errors::BadRequest, errors::Forbidden, errors::TooLarge, errors::NotJson, errors::Invalid, errors::RateLimited, errors::Unavailable))]
pub async fn register(
    req: HttpRequest,
    state: web::Data<Services>,
    body: Json<RegisterBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let account = NewAccount {
        email: body.email,
        password: body.password,
        name: body.name,
    };
    let ip = client_ip(&req, &state.settings.server.trusted_proxies);
    auth::register(&state.db, &state.passwords, &state.settings, account, ip).await?;
    Ok(HttpResponse::Accepted().json(RegisteredView {
        status: "accepted",
        message: "If this email had no account, one was created: sign in with it. If it had one, sign in with its password.",
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RegisteredView {
    status: &'static str,
    message: &'static str,
}

#[utoipa::path(post, path = "/api/v1/auth/login", tag = "accounts",
    request_body = LoginBody,
    responses((status = 200, description = "Signed in; the token is also set as a cookie", body = SessionView),
              errors::BadRequest, errors::Unauthorized, errors::TooLarge, errors::NotJson, errors::Invalid, errors::RateLimited, errors::Unavailable))]
pub async fn login(
    req: HttpRequest,
    state: web::Data<Services>,
    body: Json<LoginBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let cookie = req.cookie(DEVICE_COOKIE);
    let attempt = Attempt {
        ip: client_ip(&req, &state.settings.server.trusted_proxies),
        device_token: body
            .device_token
            .as_deref()
            .or_else(|| cookie.as_ref().map(|c| c.value())),
    };
    let outcome = auth::login(
        &state.db,
        &state.passwords,
        &state.keyring,
        &state.settings,
        &body.email,
        body.password,
        attempt,
    )
    .await?;
    Ok(session_response(&state, HttpResponse::Ok(), outcome))
}

#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "accounts",
    responses((status = 204, description = "Session ended"), errors::BadRequest, errors::Unauthorized, errors::Forbidden, errors::Unavailable),
    security(("bearer" = [])))]
pub async fn logout(state: web::Data<Services>, user: SignedIn) -> Result<HttpResponse, ApiError> {
    auth::logout(&state.db, &user.0).await?;
    let mut gone = session_cookie(&state, String::new(), time::Duration::ZERO);
    gone.make_removal();
    Ok(HttpResponse::NoContent().cookie(gone).finish())
}

#[utoipa::path(get, path = "/api/v1/me", tag = "accounts",
    responses((status = 200, body = AccountView), errors::BadRequest, errors::Unauthorized, errors::Unavailable),
    security(("bearer" = [])))]
pub async fn me(user: SignedIn) -> HttpResponse {
    HttpResponse::Ok().json(AccountView::from(&user.0))
}

fn session_response(
    state: &Services,
    mut builder: actix_web::HttpResponseBuilder,
    outcome: LoginOutcome,
) -> HttpResponse {
    let ttl = time::Duration::try_from(state.settings.auth.session_ttl)
        .unwrap_or(time::Duration::days(30));
    builder.cookie(session_cookie(state, outcome.token.clone(), ttl));
    if !outcome.device_token.is_empty() {
        let device = Cookie::build(DEVICE_COOKIE, outcome.device_token.clone())
            .path("/api/v1/auth/login")
            .http_only(true)
            .secure(state.settings.auth.cookie_secure)
            .same_site(SameSite::Strict)
            .max_age(time::Duration::days(400))
            .finish();
        builder.cookie(device);
    }
    builder.json(SessionView {
        token: outcome.token,
        expires_at: timestamp(outcome.expires_at),
        user: AccountView::from(&outcome.user),
        device_token: outcome.device_token,
    })
}

fn session_cookie(state: &Services, value: String, max_age: time::Duration) -> Cookie<'static> {
    let settings = &state.settings.auth;
    Cookie::build(settings.cookie_name.clone(), value)
        .path("/")
        .http_only(true)
        .secure(settings.cookie_secure)
        .same_site(SameSite::Lax)
        .max_age(max_age)
        .finish()
}

/// `GET /me/export`: everything stored about the signed-in commenter.
#[utoipa::path(get, path = "/api/v1/me/export", tag = "accounts",
    responses((status = 200, description = "Everything stored about the signed-in commenter", body = ExportView), errors::BadRequest, errors::Unauthorized, errors::Unavailable),
    security(("bearer" = [])))]
pub async fn export(state: web::Data<Services>, user: SignedIn) -> Result<HttpResponse, ApiError> {
    let export = auth::export_own_data(&state.db, &user.0).await?;
    Ok(HttpResponse::Ok().json(ExportView {
        account: ExportedAccount::from(&export.user),
        comments: ExportedComment::all(&export.comments),
    }))
}

/// A commenter's own data (GDPR export).
#[derive(Serialize, utoipa::ToSchema)]
pub struct ExportView {
    account: ExportedAccount,
    comments: Vec<ExportedComment>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DeletedView {
    deleted: bool,
    comments_affected: usize,
    /// `anonymized` or `deleted`, as `accounts.on_delete` says.
    comments: &'static str,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteAccountBody {
    password: String,
}

/// `DELETE /me`: deletes the signed-in account (password required).
#[utoipa::path(delete, path = "/api/v1/me", tag = "accounts",
    request_body = DeleteAccountBody,
    responses((status = 200, description = "Account deleted", body = DeletedView), errors::RateLimited,
              errors::BadRequest, errors::Unauthorized, errors::Forbidden, errors::TooLarge, errors::NotJson, errors::Invalid, errors::Unavailable),
    security(("bearer" = [])))]
pub async fn delete_account(
    state: web::Data<Services>,
    user: SignedIn,
    body: Json<DeleteAccountBody>,
) -> Result<HttpResponse, ApiError> {
    let affected = auth::delete_own_account(&state, &user.0, body.into_inner().password).await?;
    let mut gone = session_cookie(&state, String::new(), time::Duration::ZERO);
    gone.make_removal();
    Ok(HttpResponse::Ok().cookie(gone).json(DeletedView {
        deleted: true,
        comments_affected: affected,
        comments: state.settings.accounts.on_delete_label(),
    }))
}

/// Ends every session of the signed-in account, on every device.
#[utoipa::path(post, path = "/api/v1/auth/logout-all", tag = "accounts",
    responses((status = 200, description = "Sessions ended", body = SessionsEndedView), errors::BadRequest, errors::Unauthorized, errors::Forbidden, errors::Unavailable),
    security(("bearer" = [])))]
pub async fn logout_all(
    state: web::Data<Services>,
    user: SignedIn,
) -> Result<HttpResponse, ApiError> {
    let ended = auth::logout_everywhere(&state.db, &user.0).await?;
    let mut gone = session_cookie(&state, String::new(), time::Duration::ZERO);
    gone.make_removal();
    Ok(HttpResponse::Ok().cookie(gone).json(SessionsEndedView {
        sessions_ended: ended,
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SessionsEndedView {
    sessions_ended: usize,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    current_password: String,
    new_password: String,
}

/// Changes the password; every other session of the account ends.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "accounts",
    request_body = PasswordBody,
    responses((status = 200, description = "Changed; other sessions ended", body = SessionsEndedView), errors::RateLimited,
              errors::BadRequest, errors::Unauthorized, errors::Forbidden, errors::TooLarge, errors::NotJson, errors::Invalid, errors::Unavailable),
    security(("bearer" = [])))]
pub async fn change_password(
    state: web::Data<Services>,
    user: SignedIn,
    body: Json<PasswordBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let ended = auth::change_password(
        &state.db,
        &state.passwords,
        &state.settings,
        &user.0,
        body.current_password,
        body.new_password,
    )
    .await?;
    Ok(HttpResponse::Ok().json(SessionsEndedView {
        sessions_ended: ended,
    }))
}
