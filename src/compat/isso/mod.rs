//! Isso's API (as of Isso 0.14), so that pages running Isso's JavaScript
//! client can use Moderato unchanged: mounted under `isso.prefix`.
//!
//! Thin over the same services as the JSON API: a comment posted here is
//! parsed, guarded, scored, moderated, stored and announced exactly as one
//! posted there, and both APIs read the same threads. What is Isso's own:
//! how a thread is named (`uri.rs`), its one-level nesting and offset pages
//! (`nesting.rs`), its JSON shapes (`views.rs`), its edit cookies
//! (`cookies.rs`) and its Atom feed (`feed.rs`); `handlers.rs` reads the
//! requests and maps service refusals to the statuses Isso's client knows.

mod cookies;
mod feed;
mod handlers;
mod nesting;
pub mod uri;
mod views;

use actix_web::web;

use crate::config::Settings;

pub use cookies::X_SET_COOKIE;

/// Isso's routes under `isso.prefix`, when `isso.enabled`. Configure it
/// before the JSON API, whose default service answers every unknown path.
pub fn configure(cfg: &mut web::ServiceConfig, settings: &Settings) {
    let isso = &settings.isso;
    if !isso.enabled {
        return;
    }
    cfg.service(
        web::scope(&isso.prefix)
            .app_data(web::PayloadConfig::new(settings.server.max_request_bytes))
            .service(web::resource(["", "/"]).get(handlers::thread))
            .service(web::resource("/config").get(handlers::config))
            .service(web::resource("/new").post(handlers::create))
            .service(
                web::resource("/id/{id}")
                    .get(handlers::view)
                    .put(handlers::edit)
                    .delete(handlers::delete),
            )
            .service(web::resource("/id/{id}/like").post(handlers::like))
            .service(web::resource("/id/{id}/dislike").post(handlers::dislike))
            .service(web::resource("/preview").post(handlers::preview))
            .service(web::resource("/count").post(handlers::count))
            .service(web::resource("/feed").get(handlers::feed))
            .service(web::resource("/latest").get(handlers::latest)),
    );
}
