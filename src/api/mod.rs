//! HTTP only: routes, request bodies, and the JSON shapes of answers.
//! Handlers extract, call a service, and map the result; the rules live in
//! the services.

mod articles;
mod auth;
pub mod client;
mod comments;
pub mod extract;
mod health;
pub mod json;
pub mod middleware;
mod moderation;
pub mod openapi;
mod site;
mod spam;
mod transfer;
pub mod views;

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Deserializer};

pub use comments::EDIT_TOKEN_HEADER;

use crate::error::ApiError;

/// `GET /metrics`, on the main listener or on `metrics.bind`'s own.
pub fn configure_metrics(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/metrics")
            .get(health::metrics)
            .default_service(allow("GET")),
    );
}

/// Every route of the service (`/metrics` too, unless it has a listener of
/// its own).
pub fn configure(cfg: &mut web::ServiceConfig, max_request_bytes: usize, with_metrics: bool) {
    if with_metrics {
        configure_metrics(cfg);
    }
    cfg.app_data(json_config(max_request_bytes))
        .app_data(web::PathConfig::default().error_handler(path_error))
        .app_data(web::QueryConfig::default().error_handler(query_error))
        .service(
            web::resource("/healthz")
                .get(health::healthz)
                .default_service(allow("GET")),
        )
        .service(
            web::resource("/readyz")
                .get(health::readyz)
                .default_service(allow("GET")),
        )
        .service(
            web::scope("/api/v1")
                .service(
                    web::resource("/openapi.json")
                        .get(openapi::openapi_json)
                        .default_service(allow("GET")),
                )
                .service(
                    web::resource("/config")
                        .get(site::client_settings)
                        .default_service(allow("GET")),
                )
                .service(
                    web::resource("/preview")
                        .post(comments::preview)
                        .default_service(allow("POST")),
                )
                .service(
                    web::resource("/articles/{key}")
                        .get(articles::get)
                        .put(articles::put)
                        .default_service(allow("GET, PUT")),
                )
                .service(
                    web::resource("/articles/{key}/comments")
                        .get(comments::list)
                        .post(comments::create)
                        .default_service(allow("GET, POST")),
                )
                .service(
                    web::resource("/counts")
                        .get(comments::counts)
                        .default_service(allow("GET")),
                )
                .service(
                    web::resource("/comments/{id}")
                        .get(comments::get_own)
                        .patch(comments::edit)
                        .delete(comments::delete)
                        .default_service(allow("GET, PATCH, DELETE")),
                )
                .service(
                    web::resource("/auth/register")
                        .post(auth::register)
                        .default_service(allow("POST")),
                )
                .service(
                    web::resource("/auth/login")
                        .post(auth::login)
                        .default_service(allow("POST")),
                )
                .service(
                    web::resource("/auth/logout")
                        .post(auth::logout)
                        .default_service(allow("POST")),
                )
                .service(
                    web::resource("/auth/logout-all")
                        .post(auth::logout_all)
                        .default_service(allow("POST")),
                )
                .service(
                    web::resource("/auth/password")
                        .post(auth::change_password)
                        .default_service(allow("POST")),
                )
                .service(
                    web::resource("/me")
                        .get(auth::me)
                        .delete(auth::delete_account)
                        .default_service(allow("GET, DELETE")),
                )
                .service(
                    web::resource("/me/export")
                        .get(auth::export)
                        .default_service(allow("GET")),
                )
                .service(
                    web::resource("/moderation/comments")
                        .get(moderation::list)
                        .default_service(allow("GET")),
                )
                .service(
                    web::resource("/moderation/comments/{id}")
                        .get(moderation::get)
                        .patch(moderation::edit)
                        .default_service(allow("GET, PATCH")),
                )
                .service(
                    web::resource("/moderation/comments/{id}/decision")
                        .post(moderation::decide)
                        .default_service(allow("POST")),
                )
                .service(
                    web::resource("/moderation/decisions")
                        .post(moderation::decide_bulk)
                        .default_service(allow("POST")),
                )
                .service(
                    web::resource("/moderation/undo")
                        .post(moderation::undo)
                        .default_service(allow("POST")),
                )
                .service(
                    web::resource("/moderation/summary")
                        .get(moderation::summary)
                        .default_service(allow("GET")),
                )
                .service(
                    web::resource("/moderation/activity")
                        .get(moderation::activity)
                        .default_service(allow("GET")),
                )
                .service(
                    web::resource("/moderation/log")
                        .get(moderation::log)
                        .default_service(allow("GET")),
                )
                .service(
                    web::resource("/moderation/commenters")
                        .get(moderation::commenters)
                        .default_service(allow("GET")),
                )
                .service(
                    web::resource("/moderation/commenters/export")
                        .get(moderation::export_commenter)
                        .default_service(allow("GET")),
                )
                .service(
                    web::resource("/moderation/commenters/erase")
                        .post(moderation::erase_commenter)
                        .default_service(allow("POST")),
                )
                .service(
                    web::resource("/moderation/users/{id}")
                        .patch(moderation::update_account)
                        .default_service(allow("PATCH")),
                )
                .service(
                    web::resource("/moderation/bans")
                        .get(moderation::list_bans)
                        .post(moderation::create_ban)
                        .default_service(allow("GET, POST")),
                )
                .service(
                    web::resource("/moderation/bans/{id}")
                        .delete(moderation::lift_ban)
                        .default_service(allow("DELETE")),
                )
                .service(
                    web::resource("/spam/wordlists")
                        .get(spam::list)
                        .post(spam::add)
                        .default_service(allow("GET, POST")),
                )
                .service(
                    web::resource("/spam/wordlists/{id}")
                        .delete(spam::remove)
                        .default_service(allow("DELETE")),
                )
                .service(
                    web::resource("/admin/export")
                        .get(transfer::export)
                        .default_service(allow("GET")),
                ),
        )
        .default_service(web::to(not_found));
}

fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(|err, _req| json_error(err).into())
}

fn json_error(err: JsonPayloadError) -> ApiError {
    match err {
        JsonPayloadError::Overflow { limit }
        | JsonPayloadError::OverflowKnownLength { limit, .. } => ApiError::new(
            actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("request body is larger than {limit} bytes"),
        ),
        JsonPayloadError::ContentType => ApiError::new(
            actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as JSON with Content-Type: application/json",
        ),
        JsonPayloadError::Deserialize(e) if e.is_data() => ApiError::new(
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            e.to_string(),
        ),
        JsonPayloadError::Deserialize(e) => {
            ApiError::bad_request("invalid_json", format!("body is not valid JSON: {e}"))
        }
        other => ApiError::bad_request("invalid_body", other.to_string()),
    }
}

fn path_error(err: PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::not_found("not_found", format!("no such resource ({err})")).into()
}

fn query_error(err: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::bad_request("invalid_query", err.to_string()).into()
}

async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found("not_found", "no such endpoint"))
}

/// The answer to a method a resource does not have: 405 with the `Allow`
/// header listing the ones it does.
fn allow(methods: &'static str) -> actix_web::Route {
    web::to(
        move || async move { Err::<HttpResponse, ApiError>(ApiError::method_not_allowed(methods)) },
    )
}

/// For `Option<Option<T>>` fields: absent stays `None`, `null` becomes
/// `Some(None)` (clear the value), anything else `Some(Some(v))`.
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}
