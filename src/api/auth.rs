use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::client::client_ip;
use super::views::{timestamp, AccountView};
use crate::auth::{self, LoginOutcome, NewAccount, SignedIn};
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterBody {
    email: String,
    password: String,
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    email: String,
    password: String,
}

#[derive(Serialize)]
struct SessionView {
    token: String,
    expires_at: String,
    user: AccountView,
}

pub async fn register(
    state: web::Data<AppState>,
    body: web::Json<RegisterBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let account = NewAccount {
        email: body.email,
        password: body.password,
        name: body.name,
    };
    let outcome = auth::register(&state.db, &state.passwords, &state.settings, account).await?;
    Ok(session_response(&state, HttpResponse::Created(), outcome))
}

pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<LoginBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let ip = client_ip(&req, &state.trusted_proxies);
    let outcome = auth::login(
        &state.db,
        &state.passwords,
        &state.settings,
        &body.email,
        body.password,
        ip,
    )
    .await?;
    Ok(session_response(&state, HttpResponse::Ok(), outcome))
}

pub async fn logout(state: web::Data<AppState>, user: SignedIn) -> Result<HttpResponse, ApiError> {
    auth::logout(&state.db, &user.0).await?;
    let mut gone = session_cookie(&state, String::new(), time::Duration::ZERO);
    gone.make_removal();
    Ok(HttpResponse::NoContent().cookie(gone).finish())
}

pub async fn me(user: SignedIn) -> HttpResponse {
    HttpResponse::Ok().json(AccountView::from(&user.0))
}

fn session_response(
    state: &AppState,
    mut builder: actix_web::HttpResponseBuilder,
    outcome: LoginOutcome,
) -> HttpResponse {
    let ttl = time::Duration::try_from(state.settings.auth.session_ttl)
        .unwrap_or(time::Duration::days(30));
    builder
        .cookie(session_cookie(state, outcome.token.clone(), ttl))
        .json(SessionView {
            token: outcome.token,
            expires_at: timestamp(outcome.expires_at),
            user: AccountView::from(&outcome.user),
        })
}

fn session_cookie(state: &AppState, value: String, max_age: time::Duration) -> Cookie<'static> {
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
pub async fn export(state: web::Data<AppState>, user: SignedIn) -> Result<HttpResponse, ApiError> {
    let export = crate::moderation::commenters::export(&state, &user.0).await?;
    let comments: Vec<serde_json::Value> = export
        .comments
        .iter()
        .map(|(c, a)| {
            serde_json::json!({
                "id": c.id,
                "article": a.key,
                "parent_id": c.parent_id,
                "status": c.status().as_seen_by_author(),
                "body": c.body,
                "author_name": c.author_name,
                "author_url": c.author_url,
                "ip": c.ip,
                "user_agent": c.user_agent,
                "created_at": timestamp(c.created_at),
                "edited_at": c.edited_at.map(timestamp),
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "account": {
            "id": export.user.id,
            "email": export.user.email,
            "name": export.user.name,
            "role": export.user.role,
            "created_at": timestamp(export.user.created_at),
        },
        "comments": comments,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteAccountBody {
    password: String,
}

/// `DELETE /me`: deletes the signed-in account (password required).
pub async fn delete_account(
    state: web::Data<AppState>,
    user: SignedIn,
    body: web::Json<DeleteAccountBody>,
) -> Result<HttpResponse, ApiError> {
    let affected =
        crate::moderation::commenters::delete_account(&state, &user.0, body.into_inner().password)
            .await?;
    let mut gone = session_cookie(&state, String::new(), time::Duration::ZERO);
    gone.make_removal();
    Ok(HttpResponse::Ok()
        .cookie(gone)
        .json(serde_json::json!({"deleted": true, "comments_affected": affected, "comments": state.settings.accounts.on_delete_label()})))
}
