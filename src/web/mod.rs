//! Pages for people, served by the same binary: for now the root page,
//! which says what this server is and what it offers.

use actix_web::http::header::ContentType;
use actix_web::{web, HttpResponse};

/// `GET /`: what this server is, and where to go from here.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(root));
}

async fn root() -> HttpResponse {
    static PAGE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        include_str!("root.html").replace("{version}", env!("CARGO_PKG_VERSION"))
    });
    HttpResponse::Ok()
        .content_type(ContentType::html())
        .body(PAGE.as_str())
}
