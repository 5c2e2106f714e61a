//! Pages for people, served by the same binary: the root page, and the
//! moderators' console at `/admin/`.
//!
//! Server-rendered with askama: templates are compiled into the binary
//! (nothing to install or download, no files read at run time) and every
//! value is HTML-escaped unless a template says otherwise, which only
//! comment bodies do (they are the sanitizer's stored output). Forms work
//! without JavaScript; one small hand-written script adds the keyboard,
//! in-place decisions and live counts. Pages reach the database only
//! through the same services as the JSON API.

mod assets;
mod console;

use actix_web::http::header::ContentType;
use actix_web::{web, HttpResponse};
use askama::Template;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(root));
    assets::configure(cfg);
    console::configure(cfg);
}

#[derive(Template)]
#[template(path = "root.html")]
struct Root {
    version: &'static str,
}

/// `GET /`: what this server is, and where to go from here.
async fn root() -> HttpResponse {
    static PAGE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        Root {
            version: env!("CARGO_PKG_VERSION"),
        }
        .render()
        .unwrap_or_else(|e| format!("Moderato {}: {e}", env!("CARGO_PKG_VERSION")))
    });
    HttpResponse::Ok()
        .content_type(ContentType::html())
        .body(PAGE.as_str())
}
