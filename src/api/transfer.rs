//! `GET /api/v1/admin/export`: Moderato's own export (docs/IMPORT.md),
//! streamed to an admin as it is written, so a backup can be taken without
//! shell access.

use actix_web::http::header;
use actix_web::web::{self, Bytes};
use actix_web::HttpResponse;
use futures_util::StreamExt as _;
use serde::Deserialize;

use super::extract::SignedIn;
use super::openapi::errors;
use crate::error::ApiError;
use crate::services::Services;
use crate::transfer::export::{self, ExportOptions};

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// Only this article (its key) and its comments.
    article: Option<String>,
    /// Include accounts with their password hashes (keep the file secret).
    #[serde(default)]
    accounts: bool,
}

/// The whole site (or one article) in Moderato's export format: gzipped
/// NDJSON, as `moderato export` writes it (admins).
#[utoipa::path(get, path = "/api/v1/admin/export", tag = "moderation",
    params(ExportQuery),
    responses((status = 200, description = "Gzipped NDJSON (docs/IMPORT.md)", content_type = "application/gzip", body = Vec<u8>),
        errors::BadRequest, errors::Unauthorized, errors::Forbidden, errors::NotFound, errors::Unavailable),
    security(("bearer" = [])))]
pub async fn export(
    state: web::Data<Services>,
    user: SignedIn,
    query: web::Query<ExportQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let options = ExportOptions {
        article: query.article,
        accounts: query.accounts,
    };
    let chunks = export::stream(&state.db, &user.0, options).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/gzip")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"moderato-export.ndjson.gz\"",
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .streaming(chunks.map(|chunk| chunk.map(Bytes::from))))
}
