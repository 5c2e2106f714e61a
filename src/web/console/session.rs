//! Signing in to the console and out of it, and who is asking.
//!
//! The console keeps its own session cookie, apart from the API's: scoped
//! to `/admin`, HttpOnly, SameSite=Strict (a page on another site cannot
//! make the browser send it), Secure when `auth.cookie_secure` says so.
//! Sign-in goes through `auth::login`, so its rate limits and device
//! tokens are the API's.

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::http::{header, StatusCode};
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::forms::Form;
use super::{back_to, ok_page, page, see_other, see_other_with, Flash, PageError};
use crate::api::client::client_ip;
use crate::api::extract::own_origin;
use crate::auth::{self, AuthError, AuthUser, Credential};
use crate::domain::Role;
use crate::error::ApiError;
use crate::services::Services;

pub const SESSION_COOKIE: &str = "moderato_console";
/// Names a device that signed in before (see `auth::login`); kept only for
/// the sign-in form's path.
const DEVICE_COOKIE: &str = "moderato_device";

/// A signed-in moderator or admin, with the CSRF token of their session.
#[derive(Debug, Clone)]
pub struct Staff {
    pub user: AuthUser,
    pub csrf: String,
}

impl Staff {
    pub fn is_admin(&self) -> bool {
        self.user.role == Role::Admin
    }

    /// Checks a form post: its CSRF token must be this session's, and its
    /// `Origin`, when the browser sends one, this server's own.
    pub fn check(
        &self,
        req: &HttpRequest,
        services: &Services,
        token: &str,
    ) -> Result<(), PageError> {
        check_origin(req, services)?;
        if services
            .keyring
            .is_csrf_token(&self.user.session_hash, token)
        {
            Ok(())
        } else {
            Err(PageError::Api(ApiError::forbidden(
                "csrf_rejected",
                "This form is out of date or did not come from this console. Go back, \
                 reload the page and try again.",
            )))
        }
    }
}

/// A post whose `Origin` names another site is refused, whatever it holds.
fn check_origin(req: &HttpRequest, services: &Services) -> Result<(), PageError> {
    let Some(origin) = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(());
    };
    if origin == own_origin(req, &services.settings) {
        Ok(())
    } else {
        Err(PageError::Api(ApiError::forbidden(
            "csrf_rejected",
            "This form was sent from another site.",
        )))
    }
}

impl FromRequest for Staff {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, PageError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let services = req.app_data::<web::Data<Services>>().cloned();
        let token = req.cookie(SESSION_COOKIE).map(|c| c.value().to_string());
        // A post is not repeated after signing in: back to where it was
        // posted from, or to the queue.
        let next = if req.method() == actix_web::http::Method::GET {
            super::here(req)
        } else {
            "/admin/".to_string()
        };
        Box::pin(async move {
            let services =
                services.ok_or_else(|| ApiError::internal("application state missing"))?;
            let Some(token) = token else {
                return Err(PageError::SignIn { next });
            };
            let user = match auth::session_user(&services.db, &token, Credential::Cookie).await {
                Ok(user) => user,
                Err(AuthError::InvalidSession) => return Err(PageError::SignIn { next }),
                Err(e) => return Err(e.into()),
            };
            if !user.role.can_moderate() {
                return Err(PageError::NotStaff);
            }
            let csrf = services.keyring.csrf_token(&user.session_hash);
            Ok(Staff { user, csrf })
        })
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct SignInPage {
    css: String,
    icon: String,
    next: String,
    email: String,
    error: Option<String>,
    flash: Option<Flash>,
    /// Why signing in cannot work from here, when it cannot.
    warning: Option<&'static str>,
}

/// A `Secure` cookie set over plain HTTP is dropped by browsers, except
/// on loopback addresses, which they treat as secure.
fn cookie_would_be_dropped(req: &HttpRequest, services: &Services) -> bool {
    if !services.settings.auth.cookie_secure {
        return false;
    }
    let origin = own_origin(req, &services.settings);
    let Some(host) = origin.strip_prefix("http://") else {
        return false;
    };
    let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
    !matches!(host, "localhost" | "127.0.0.1" | "[::1]")
}

#[derive(Deserialize)]
pub struct SignInQuery {
    next: Option<String>,
}

fn sign_in_form(req: &HttpRequest, next: &str, email: &str, error: Option<String>) -> SignInPage {
    let insecure = req
        .app_data::<web::Data<Services>>()
        .is_some_and(|services| cookie_would_be_dropped(req, services));
    SignInPage {
        warning: insecure.then_some(
            "This page came over plain HTTP, but auth.cookie_secure is on, so your browser \
             will not keep the sign-in cookie. Serve the console over HTTPS (docs/DEPLOY.md), \
             or for a trial on a private network set auth.cookie_secure = false.",
        ),
        css: crate::web::assets::url("console.css"),
        icon: crate::web::assets::url("icon.svg"),
        next: next.to_string(),
        email: email.to_string(),
        error,
        flash: super::read_flash(req),
    }
}

/// `GET /admin/login`: the sign-in form (or on, when already signed in).
pub async fn sign_in_page(
    req: HttpRequest,
    services: web::Data<Services>,
    query: web::Query<SignInQuery>,
) -> HttpResponse {
    let next = back_to(query.next.as_deref(), "/admin/");
    if let Some(cookie) = req.cookie(SESSION_COOKIE) {
        let signed_in = auth::session_user(&services.db, cookie.value(), Credential::Cookie).await;
        if signed_in.is_ok_and(|u| u.role.can_moderate()) {
            return see_other(&next);
        }
    }
    ok_page(&req, &sign_in_form(&req, &next, "", None))
}

#[derive(Deserialize)]
pub struct SignInForm {
    email: String,
    password: String,
    next: Option<String>,
}

/// `POST /admin/login`.
pub async fn sign_in(
    req: HttpRequest,
    services: web::Data<Services>,
    form: Form<SignInForm>,
) -> Result<HttpResponse, PageError> {
    // Signing a moderator in to an account of the attacker's choosing is
    // refused like any other cross-site post.
    check_origin(&req, &services)?;
    let form = form.0;
    let next = back_to(form.next.as_deref(), "/admin/");
    let device = req.cookie(DEVICE_COOKIE);
    let attempt = auth::Attempt {
        ip: client_ip(&req, &services.settings.server.trusted_proxies),
        device_token: device.as_ref().map(|c| c.value()),
    };
    let outcome = auth::login(
        &services.db,
        &services.passwords,
        &services.keyring,
        &services.settings,
        &form.email,
        form.password,
        attempt,
    )
    .await;
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(AuthError::InvalidCredentials | AuthError::Invalid(_)) => {
            let again = sign_in_form(
                &req,
                &next,
                &form.email,
                Some("That email and password do not match an account.".into()),
            );
            return Ok(page(&req, StatusCode::UNAUTHORIZED, &again));
        }
        Err(AuthError::RateLimited { retry_after_secs }) => {
            let again = sign_in_form(
                &req,
                &next,
                &form.email,
                Some(format!(
                    "Too many sign-in attempts. Try again in {retry_after_secs} seconds."
                )),
            );
            let mut response = page(&req, StatusCode::TOO_MANY_REQUESTS, &again);
            if let Ok(value) = header::HeaderValue::from_str(&retry_after_secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            return Ok(response);
        }
        Err(e) => return Err(e.into()),
    };
    if !outcome.user.role.can_moderate() {
        // The password was right, but this is no moderator: the session
        // just made ends at once.
        if let Ok(user) = auth::session_user(&services.db, &outcome.token, Credential::Cookie).await
        {
            auth::logout(&services.db, &user).await?;
        }
        return Err(PageError::NotStaff);
    }
    tracing::info!(user_id = %outcome.user.id, "signed in to the console");
    let ttl = time::Duration::try_from(services.settings.auth.session_ttl)
        .unwrap_or(time::Duration::days(30));
    let mut response = see_other(&next);
    let _ = response.add_cookie(&session_cookie(&services, outcome.token, ttl));
    if !outcome.device_token.is_empty() {
        let device = Cookie::build(DEVICE_COOKIE, outcome.device_token)
            .path("/admin/login")
            .http_only(true)
            .secure(services.settings.auth.cookie_secure)
            .same_site(SameSite::Strict)
            .max_age(time::Duration::days(400))
            .finish();
        let _ = response.add_cookie(&device);
    }
    Ok(response)
}

fn session_cookie(services: &Services, value: String, max_age: time::Duration) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, value)
        .path("/admin")
        .http_only(true)
        .secure(services.settings.auth.cookie_secure)
        .same_site(SameSite::Strict)
        .max_age(max_age)
        .finish()
}

#[derive(Deserialize)]
pub struct SignOutForm {
    csrf: String,
}

/// `POST /admin/logout`: ends this session.
pub async fn sign_out(
    req: HttpRequest,
    services: web::Data<Services>,
    staff: Staff,
    form: Form<SignOutForm>,
) -> Result<HttpResponse, PageError> {
    staff.check(&req, &services, &form.0.csrf)?;
    auth::logout(&services.db, &staff.user).await?;
    let mut gone = session_cookie(&services, String::new(), time::Duration::ZERO);
    gone.make_removal();
    let mut response = see_other_with("/admin/login", Flash::notice("Signed out."));
    let _ = response.add_cookie(&gone);
    Ok(response)
}
