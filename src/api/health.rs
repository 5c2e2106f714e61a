use super::openapi::errors;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use secrecy::ExposeSecret;
use serde_json::json;

use crate::auth::token;
use crate::error::ApiError;
use crate::services::Services;

/// The process is up and answering.
#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, description = "Alive", body = Object, example = json!({"status": "ok"})), errors::BadRequest))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// The database answers too; 503 otherwise, so a load balancer stops
/// sending traffic here until it does.
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses((status = 200, description = "The database answers", body = Object, example = json!({"status": "ready"})), errors::BadRequest,
              errors::Unavailable))]
pub async fn readyz(state: web::Data<Services>) -> Result<HttpResponse, ApiError> {
    state.db.ping().await?;
    Ok(HttpResponse::Ok().json(json!({"status": "ready"})))
}

/// Prometheus metrics (text exposition format). With `metrics.token` set,
/// only for `Authorization: Bearer <token>`; with `metrics.bind` set, only
/// on that address.
#[utoipa::path(get, path = "/metrics", tag = "health",
    responses((status = 200, description = "Prometheus text exposition", body = String, content_type = "text/plain"), errors::BadRequest,
              errors::Unauthorized,
              errors::Unavailable),
    security((), ("bearer" = [])))]
pub async fn metrics(
    req: HttpRequest,
    state: web::Data<Services>,
) -> Result<HttpResponse, ApiError> {
    if let Some(expected) = &state.settings.metrics.token {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if !token::hashes_equal(&token::hash(given), &token::hash(expected.expose_secret())) {
            return Err(ApiError::unauthorized(
                "metrics_token_required",
                "send the metrics token as Authorization: Bearer <token>",
            ));
        }
    }
    let text = crate::metrics::render(&state.db).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(text))
}
