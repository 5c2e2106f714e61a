//! The moderators' console at `/admin/`: sign in, the queue with its
//! decisions (one at a time, in bulk, undone), a comment's details with a
//! reply and an edit, commenters and bans, the audit log, word lists,
//! articles and an overview.
//!
//! Every page answers through [`page`], which sets a strict
//! Content-Security-Policy (scripts and styles from this server only, no
//! inline code, no framing). Every form post carries the CSRF token of the
//! session ([`session::Staff::check`]); every action goes through the same
//! service as its JSON API twin, which authorizes, validates, logs it and
//! sends its webhooks.

mod admin;
mod forms;
mod people;
mod queue;
mod session;
mod views;

use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse, HttpResponseBuilder, ResponseError};
use askama::Template;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use crate::error::ApiError;

pub use session::Staff;

/// The policy of every console page: nothing but this server's own
/// scripts, styles and images; forms post only here; no framing.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'";

/// A one-time notice shown on the next page (after a form post redirects).
const FLASH_COOKIE: &str = "moderato_flash";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/admin")
            // A malformed path or query gets a page, not the API's JSON.
            .app_data(web::PathConfig::default().error_handler(|e, _| {
                PageError::Api(ApiError::not_found(
                    "not_found",
                    format!("There is no such page ({e})."),
                ))
                .into()
            }))
            .app_data(web::QueryConfig::default().error_handler(|e, _| {
                PageError::Api(ApiError::bad_request("invalid_query", e.to_string())).into()
            }))
            .service(web::resource("").get(to_queue))
            .service(web::resource("/").get(queue::queue))
            .service(
                web::resource("/login")
                    .get(session::sign_in_page)
                    .post(session::sign_in),
            )
            .service(web::resource("/logout").post(session::sign_out))
            .service(web::resource("/decide").post(queue::decide))
            .service(web::resource("/undo").post(queue::undo))
            .service(web::resource("/pulse").get(queue::pulse))
            .service(web::resource("/comments/{id}").get(queue::detail))
            .service(web::resource("/comments/{id}/reply").post(queue::reply))
            .service(web::resource("/comments/{id}/edit").post(queue::edit))
            .service(web::resource("/commenters").get(people::commenters))
            .service(web::resource("/commenter").get(people::commenter))
            .service(web::resource("/commenter/trust").post(people::trust))
            .service(web::resource("/commenter/export").get(people::export))
            .service(web::resource("/commenter/erase").post(people::erase))
            .service(web::resource("/bans").get(people::bans).post(people::ban))
            .service(web::resource("/bans/{id}/lift").post(people::lift))
            .service(web::resource("/log").get(admin::log))
            .service(
                web::resource("/words")
                    .get(admin::words)
                    .post(admin::add_word),
            )
            .service(web::resource("/words/{id}/remove").post(admin::remove_word))
            .service(
                web::resource("/articles")
                    .get(admin::articles)
                    .post(admin::save_article),
            )
            .service(web::resource("/overview").get(admin::overview))
            .default_service(web::to(not_found)),
    );
}

async fn to_queue() -> HttpResponse {
    see_other("/admin/")
}

async fn not_found() -> Result<HttpResponse, PageError> {
    Err(PageError::Api(ApiError::not_found(
        "not_found",
        "There is no such page.",
    )))
}

/// The console's sections, for the navigation bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Queue,
    Overview,
    Commenters,
    Bans,
    Log,
    Words,
    Articles,
}

impl Section {
    const ALL: [Section; 7] = [
        Section::Queue,
        Section::Overview,
        Section::Commenters,
        Section::Bans,
        Section::Log,
        Section::Words,
        Section::Articles,
    ];

    fn label(self) -> &'static str {
        match self {
            Section::Queue => "Queue",
            Section::Overview => "Overview",
            Section::Commenters => "Commenters",
            Section::Bans => "Bans",
            Section::Log => "Audit log",
            Section::Words => "Word lists",
            Section::Articles => "Articles",
        }
    }

    fn href(self) -> &'static str {
        match self {
            Section::Queue => "/admin/",
            Section::Overview => "/admin/overview",
            Section::Commenters => "/admin/commenters",
            Section::Bans => "/admin/bans",
            Section::Log => "/admin/log",
            Section::Words => "/admin/words",
            Section::Articles => "/admin/articles",
        }
    }

    fn admins_only(self) -> bool {
        matches!(self, Section::Words | Section::Articles)
    }
}

/// A link in the navigation bar.
pub struct NavLink {
    pub label: &'static str,
    pub href: &'static str,
    pub current: bool,
}

/// A notice carried to the next page; with `undo`, it offers to undo the
/// decision it reports.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Flash {
    pub text: String,
    #[serde(default)]
    pub undo: bool,
    #[serde(default)]
    pub error: bool,
}

impl Flash {
    /// A plain notice.
    pub fn notice(text: impl Into<String>) -> Flash {
        Flash {
            text: text.into(),
            undo: false,
            error: false,
        }
    }

    /// A notice that something did not work.
    pub fn warning(text: impl Into<String>) -> Flash {
        Flash {
            text: text.into(),
            undo: false,
            error: true,
        }
    }

    /// A service's refusal (4xx) becomes a notice on the page the form came
    /// from, `what` saying what did not happen; a failure (5xx) stays an
    /// error page.
    pub fn refused(what: &str, e: impl Into<ApiError>) -> Result<Flash, PageError> {
        let e = e.into();
        if e.status().is_client_error() {
            Ok(Flash::warning(format!("{what}: {}", e.message())))
        } else {
            Err(e.into())
        }
    }
}

/// What every signed-in page shares: title, navigation, the signed-in
/// moderator, the CSRF token for its forms, a notice, and asset URLs.
pub struct Layout {
    pub title: String,
    pub nav: Vec<NavLink>,
    pub user_name: String,
    pub csrf: String,
    pub flash: Option<Flash>,
    pub css: String,
    pub js: String,
    pub icon: String,
    /// The page's own path and query, where its forms come back to.
    pub here: String,
}

impl Layout {
    pub fn new(
        req: &HttpRequest,
        staff: &Staff,
        section: Section,
        title: impl Into<String>,
    ) -> Self {
        let is_admin = staff.is_admin();
        Layout {
            title: title.into(),
            nav: Section::ALL
                .iter()
                .filter(|s| is_admin || !s.admins_only())
                .map(|s| NavLink {
                    label: s.label(),
                    href: s.href(),
                    current: *s == section,
                })
                .collect(),
            user_name: staff.user.name.clone(),
            csrf: staff.csrf.clone(),
            flash: read_flash(req),
            css: super::assets::url("console.css"),
            js: super::assets::url("console.js"),
            icon: super::assets::url("icon.svg"),
            here: here(req),
        }
    }
}

/// The request's path and query.
fn here(req: &HttpRequest) -> String {
    match req.query_string() {
        "" => req.path().to_string(),
        q => format!("{}?{q}", req.path()),
    }
}

fn read_flash(req: &HttpRequest) -> Option<Flash> {
    let cookie = req.cookie(FLASH_COOKIE)?;
    let bytes = URL_SAFE_NO_PAD.decode(cookie.value()).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn flash_cookie(flash: &Flash) -> Cookie<'static> {
    let value = URL_SAFE_NO_PAD.encode(serde_json::to_vec(flash).unwrap_or_default());
    Cookie::build(FLASH_COOKIE, value)
        .path("/admin")
        .http_only(true)
        .same_site(SameSite::Strict)
        .max_age(time::Duration::minutes(5))
        .finish()
}

/// Headers every console answer carries.
fn console_headers(builder: &mut HttpResponseBuilder) {
    builder
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::REFERRER_POLICY, "same-origin"));
}

/// Renders a page. A notice the page showed is spent.
pub fn page(req: &HttpRequest, status: StatusCode, template: &impl Template) -> HttpResponse {
    let html = match template.render() {
        Ok(html) => html,
        Err(e) => return PageError::Api(ApiError::internal(e)).error_response(),
    };
    let mut builder = HttpResponse::build(status);
    console_headers(&mut builder);
    if req.cookie(FLASH_COOKIE).is_some() {
        let mut spent = flash_cookie(&Flash {
            text: String::new(),
            undo: false,
            error: false,
        });
        spent.make_removal();
        builder.cookie(spent);
    }
    builder.content_type("text/html; charset=utf-8").body(html)
}

pub fn ok_page(req: &HttpRequest, template: &impl Template) -> HttpResponse {
    page(req, StatusCode::OK, template)
}

/// 303 to `to`.
pub fn see_other(to: &str) -> HttpResponse {
    let mut builder = HttpResponse::SeeOther();
    console_headers(&mut builder);
    builder.insert_header((header::LOCATION, to)).finish()
}

/// 303 to `to`, with a notice for the page there.
pub fn see_other_with(to: &str, flash: Flash) -> HttpResponse {
    let mut response = see_other(to);
    let _ = response.add_cookie(&flash_cookie(&flash));
    response
}

/// Where a form asks to come back to: a console path, never elsewhere.
pub fn back_to(return_to: Option<&str>, fallback: &str) -> String {
    match return_to {
        Some(path)
            if path.starts_with("/admin")
                && !path.starts_with("//")
                && !path.contains('\\')
                && !path.chars().any(char::is_control) =>
        {
            path.to_string()
        }
        _ => fallback.to_string(),
    }
}

/// Whether the caller (the console's script) wants JSON back rather than a
/// page or a redirect.
pub fn wants_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// Why a console request failed.
#[derive(Debug)]
pub enum PageError {
    /// Not signed in (or the session ended): to the sign-in page, then
    /// back to `next`.
    SignIn { next: String },
    /// Signed in, but not as a moderator or admin.
    NotStaff,
    /// Anything a service refused, or a failure, as the API would answer
    /// it (status and message), shown as a page.
    Api(ApiError),
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PageError::SignIn { .. } => f.write_str("not signed in"),
            PageError::NotStaff => f.write_str("not a moderator"),
            PageError::Api(e) => e.fmt(f),
        }
    }
}

/// Every service error becomes what the API would answer.
macro_rules! answered_as_the_api_would {
    ($($error:ty),*) => {$(
        impl From<$error> for PageError {
            fn from(e: $error) -> Self {
                PageError::Api(e.into())
            }
        }
    )*};
}

answered_as_the_api_would!(
    ApiError,
    crate::auth::AuthError,
    crate::comments::CommentError,
    crate::moderation::ModerationError,
    crate::spam::admin::AdminError,
    crate::domain::ValidationError,
    crate::db::DbError
);

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: &'a str,
    css: String,
    icon: String,
    show_sign_in: bool,
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            PageError::SignIn { .. } => StatusCode::SEE_OTHER,
            PageError::NotStaff => StatusCode::FORBIDDEN,
            PageError::Api(e) => e.status(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        let (title, message, show_sign_in) = match self {
            PageError::SignIn { next } => {
                let to = format!(
                    "/admin/login?next={}",
                    url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
                );
                return see_other(&to);
            }
            PageError::NotStaff => (
                "Moderators only",
                "This account is not a moderator or an admin, so it cannot use the \
                 moderation console. Sign in with a moderator's account, or ask an admin \
                 to give this one the moderator role.",
                true,
            ),
            PageError::Api(e) => {
                e.log_if_server_error();
                let title = match e.status().as_u16() {
                    403 => "Not allowed",
                    404 => "Not found",
                    409 => "Changed meanwhile",
                    429 => "Too many attempts",
                    s if s >= 500 => "Something went wrong",
                    _ => "That did not work",
                };
                (title, e.message(), false)
            }
        };
        let body = ErrorPage {
            title,
            message,
            css: super::assets::url("console.css"),
            icon: super::assets::url("icon.svg"),
            show_sign_in,
        }
        .render()
        .unwrap_or_else(|_| message.to_string());
        let mut builder = HttpResponse::build(self.status_code());
        console_headers(&mut builder);
        if let PageError::Api(e) = self {
            if let Some(secs) = e.retry_after_secs() {
                builder.insert_header((header::RETRY_AFTER, secs));
            }
        }
        builder.content_type("text/html; charset=utf-8").body(body)
    }
}

/// A failure answered as JSON (to the console's script).
pub fn json_error(error: PageError) -> HttpResponse {
    match error {
        PageError::Api(e) => e.error_response(),
        PageError::SignIn { .. } => {
            ApiError::unauthorized("not_signed_in", "your session ended; sign in again")
                .error_response()
        }
        PageError::NotStaff => {
            ApiError::forbidden("forbidden", "moderators and admins only").error_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_come_back_only_to_console_paths() {
        assert_eq!(
            back_to(Some("/admin/?status=spam"), "/admin/"),
            "/admin/?status=spam"
        );
        for elsewhere in [
            "https://evil.example/",
            "//evil.example/admin",
            "/api/v1/me",
            "/admin\\..\\x",
            "/admin/\r\nSet-Cookie: x",
        ] {
            assert_eq!(
                back_to(Some(elsewhere), "/admin/"),
                "/admin/",
                "{elsewhere}"
            );
        }
        assert_eq!(back_to(None, "/admin/bans"), "/admin/bans");
    }

    #[test]
    fn a_notice_survives_its_cookie() {
        let flash = Flash {
            text: "Approved 1 comment.".into(),
            undo: true,
            error: false,
        };
        let cookie = flash_cookie(&flash);
        let bytes = URL_SAFE_NO_PAD.decode(cookie.value()).unwrap();
        let back: Flash = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(back.text, flash.text);
        assert!(back.undo);
    }
}
