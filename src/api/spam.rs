//! The admins' word-list editor.

use super::json::Json;
use super::openapi::errors;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use super::extract::SignedIn;
use crate::domain::{WordId, WordKind, WordList};
use crate::error::ApiError;
use crate::services::Services;
use crate::spam::admin;
use crate::spam::wordlists::Entry;

#[derive(Serialize, utoipa::ToSchema)]
pub struct EntriesView {
    entries: Vec<Entry>,
}

/// Every word-list entry. Admins only.
#[utoipa::path(get, path = "/api/v1/spam/wordlists", tag = "spam",
    responses((status = 200, body = EntriesView), errors::BadRequest, errors::Unauthorized, errors::Forbidden, errors::Unavailable),
    security(("bearer" = [])))]
pub async fn list(state: web::Data<Services>, user: SignedIn) -> Result<HttpResponse, ApiError> {
    let entries = admin::list_entries(&state.db, &user.0).await?;
    Ok(HttpResponse::Ok().json(EntriesView { entries }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEntry {
    list: WordList,
    /// `word` (the default), `regex` or `ip`.
    #[serde(default = "word")]
    kind: WordKind,
    pattern: String,
    note: Option<String>,
}

fn word() -> WordKind {
    WordKind::Word
}

/// Adds a blocked or suspect entry. Admins only.
#[utoipa::path(post, path = "/api/v1/spam/wordlists", tag = "spam",
    request_body = NewEntry,
    responses((status = 201, body = Entry), errors::BadRequest, errors::Unauthorized, errors::Forbidden, errors::Conflict, errors::TooLarge, errors::NotJson, errors::Invalid, errors::Unavailable),
    security(("bearer" = [])))]
pub async fn add(
    state: web::Data<Services>,
    user: SignedIn,
    body: Json<NewEntry>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let entry = admin::add_entry(
        &state.db,
        &state.spam.wordlists,
        &user.0,
        body.list,
        body.kind,
        &body.pattern,
        body.note,
    )
    .await?;
    Ok(HttpResponse::Created().json(entry))
}

/// Removes an entry. Admins only.
#[utoipa::path(delete, path = "/api/v1/spam/wordlists/{id}", tag = "spam",
    params(("id" = i64, Path, description = "Entry id")),
    responses((status = 204, description = "Removed"), errors::BadRequest, errors::Unauthorized, errors::Forbidden, errors::NotFound, errors::Unavailable),
    security(("bearer" = [])))]
pub async fn remove(
    state: web::Data<Services>,
    user: SignedIn,
    id: web::Path<WordId>,
) -> Result<HttpResponse, ApiError> {
    admin::remove_entry(&state.db, &state.spam.wordlists, &user.0, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
