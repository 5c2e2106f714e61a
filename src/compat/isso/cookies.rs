//! Isso's edit cookies. A guest who posts gets two, as with Isso:
//!
//! - `Set-Cookie: <id>=...` for this server: `HttpOnly`, scoped to the
//!   prefix's path, carrying the comment's edit token signed with the
//!   server key until the edit window closes (`Keyring::edit_cookie`).
//!   Sent back with the client's credentialed requests, it is what edits,
//!   deletes and reads back the comment;
//! - `X-Set-Cookie: isso-<id>=...`, a header the client copies into the
//!   blog page's own cookies to know for how long to show its edit and
//!   delete links. Page scripts can read it, so it carries no token: only a
//!   signed expiry (`Keyring::edit_marker`).
//!
//! Both last as long as the comment can be edited (`comments.edit_window`
//! from its creation; an edit does not extend it). `SameSite=None; Secure`
//! when `auth.cookie_secure` (the blog may be another site), `SameSite=Lax`
//! otherwise (development over plain http, where browsers refuse
//! `SameSite=None` without `Secure`).

use actix_web::cookie::time::Duration;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::{HttpRequest, HttpResponseBuilder};

use crate::domain::CommentId;
use crate::services::Services;

/// The header Isso's client reads the page's cookie from.
pub const X_SET_COOKIE: &str = "x-set-cookie";

/// Adds both cookies for a comment its author may edit until
/// `editable_until` (ms); expired ones when that is past (or on delete).
pub fn set(
    answer: &mut HttpResponseBuilder,
    services: &Services,
    id: CommentId,
    edit_token: Option<&str>,
    editable_until: i64,
    now: i64,
) {
    // Whole seconds, rounded up: a new comment's cookie lasts the whole
    // window. The service still refuses an edit past the window's
    // millisecond.
    let expires = ceil_seconds(editable_until);
    let max_age = ceil_seconds(editable_until.saturating_sub(now)).max(0);
    let (server, page) = match edit_token.filter(|_| max_age > 0) {
        Some(token) => (
            services.keyring.edit_cookie(id, expires, token),
            services.keyring.edit_marker(id, expires),
        ),
        None => (String::new(), String::new()),
    };
    let max_age = if server.is_empty() { 0 } else { max_age };
    let secure = services.settings.auth.cookie_secure;
    let same_site = if secure {
        SameSite::None
    } else {
        SameSite::Lax
    };
    let server = Cookie::build(id.to_string(), server)
        .path(services.settings.isso.prefix.clone())
        .max_age(Duration::seconds(max_age))
        .http_only(true)
        .secure(secure)
        .same_site(same_site)
        .finish();
    let page = Cookie::build(format!("isso-{id}"), page)
        .path("/")
        .max_age(Duration::seconds(max_age))
        .secure(secure)
        .same_site(SameSite::Lax)
        .finish();
    answer.cookie(server);
    answer.insert_header((X_SET_COOKIE, page.to_string()));
}

fn ceil_seconds(millis: i64) -> i64 {
    millis.div_euclid(1000) + i64::from(millis.rem_euclid(1000) > 0)
}

/// Expires both cookies of a comment.
pub fn clear(answer: &mut HttpResponseBuilder, services: &Services, id: CommentId) {
    set(answer, services, id, None, 0, 0);
}

/// The edit token in the request's edit cookie for `id`, when this server
/// made the cookie for this comment and it has not expired.
pub fn edit_token(
    req: &HttpRequest,
    services: &Services,
    id: CommentId,
    now: i64,
) -> Option<String> {
    let cookie = req.cookie(&id.to_string())?;
    services
        .keyring
        .open_edit_cookie(id, cookie.value(), now.div_euclid(1000))
}
