//! Finding the caller's session in a request: `Authorization: Bearer <token>`
//! first, then the session cookie; and the CSRF check on changes made with
//! a cookie. Looking the session up is the `auth` service's.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::{header, Method};
use actix_web::{web, FromRequest, HttpRequest};

use crate::auth::{self, AuthError, AuthUser, Credential};
use crate::config::Settings;
use crate::error::ApiError;
use crate::services::Services;

/// The caller, if signed in. A bad bearer token is an error (the client
/// meant to authenticate); a stale cookie is not (the visitor may still
/// comment as a guest).
#[derive(Debug, Clone)]
pub struct Viewer(pub Option<AuthUser>);

impl Viewer {
    pub fn user(&self) -> Option<&AuthUser> {
        self.0.as_ref()
    }
}

/// A caller who must be signed in; 401 otherwise.
#[derive(Debug, Clone)]
pub struct SignedIn(pub AuthUser);

type Pending<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

impl FromRequest for Viewer {
    type Error = ApiError;
    type Future = Pending<Self>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let state = req.app_data::<web::Data<Services>>().cloned();
        let presented = presented_token(req, state.as_ref().map(|s| s.get_ref()));
        let csrf_ok = match (&presented, &state) {
            (Some((_, Credential::Cookie)), Some(state)) => same_origin_or_allowed(req, state),
            _ => true,
        };
        Box::pin(async move {
            let Some((raw, credential)) = presented else {
                return Ok(Viewer(None));
            };
            if !csrf_ok {
                return Err(ApiError::forbidden(
                    "csrf_rejected",
                    "a change authenticated by cookie must come from this site or an allowed origin",
                ));
            }
            let state = state.ok_or_else(|| ApiError::internal("application state missing"))?;
            match auth::session_user(&state.db, &raw, credential).await {
                Ok(user) => Ok(Viewer(Some(user))),
                Err(AuthError::InvalidSession) if credential == Credential::Cookie => {
                    Ok(Viewer(None))
                }
                Err(e) => Err(e.into()),
            }
        })
    }
}

impl FromRequest for SignedIn {
    type Error = ApiError;
    type Future = Pending<Self>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let viewer = Viewer::from_request(req, payload);
        Box::pin(async move {
            match viewer.await?.0 {
                Some(user) => Ok(SignedIn(user)),
                None => Err(AuthError::NotSignedIn.into()),
            }
        })
    }
}

/// CSRF protection for cookie-authenticated requests that change
/// something: their `Origin` (or, failing that, `Referer`) must be this
/// server's own origin or one of `server.cors_origins`. SameSite=Lax cookies
/// already stop most cross-site posts; this covers what it does not
/// (same-site subdomains, older browsers).
fn same_origin_or_allowed(req: &HttpRequest, state: &Services) -> bool {
    let settings = &state.settings;
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return true;
    }
    let claimed = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| {
            req.headers()
                .get(header::REFERER)
                .and_then(|v| v.to_str().ok())
                .and_then(|r| url::Url::parse(r).ok())
                .map(|u| u.origin().ascii_serialization())
        });
    let Some(claimed) = claimed else {
        return false;
    };
    claimed == own_origin(req, settings)
        || settings
            .server
            .cors_origins
            .iter()
            .any(|origin| origin.as_str() == claimed)
}

/// This server's origin as browsers see it: `server.public_url` when set;
/// otherwise from the request, believing `Forwarded` / `X-Forwarded-Host` /
/// `X-Forwarded-Proto` only from a trusted proxy (anyone else could name
/// any host there and pass the check above).
pub fn own_origin(req: &HttpRequest, settings: &Settings) -> String {
    if let Some(public) = &settings.server.public_url {
        return public.to_string();
    }
    let from_proxy = req.peer_addr().is_some_and(|peer| {
        settings
            .server
            .trusted_proxies
            .iter()
            .any(|net| net.contains(&peer.ip()))
    });
    if from_proxy {
        let info = req.connection_info();
        return format!("{}://{}", info.scheme(), info.host());
    }
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()))
        .unwrap_or("");
    // Moderato speaks plain HTTP; TLS is a proxy's job.
    format!("http://{host}")
}

fn presented_token(req: &HttpRequest, state: Option<&Services>) -> Option<(String, Credential)> {
    if let Some(value) = req.headers().get(header::AUTHORIZATION) {
        let value = value.to_str().unwrap_or("");
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .unwrap_or("")
            .trim();
        // A malformed header is still an attempt to authenticate: looking up
        // the empty string fails it with 401 rather than ignoring it.
        return Some((token.to_string(), Credential::Bearer));
    }
    let name = &state?.settings.auth.cookie_name;
    req.cookie(name)
        .map(|c| (c.value().to_string(), Credential::Cookie))
}
