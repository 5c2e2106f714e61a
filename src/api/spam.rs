//! The admins' word-list editor.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::auth::Viewer;
use crate::error::ApiError;
use crate::spam::wordlists::{self, EntryKind, List};
use crate::state::AppState;

pub async fn list(state: web::Data<AppState>, viewer: Viewer) -> Result<HttpResponse, ApiError> {
    let entries = wordlists::list_entries(&state.db, viewer.user()).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"entries": entries})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewEntry {
    list: List,
    #[serde(default = "word")]
    kind: EntryKind,
    pattern: String,
    note: Option<String>,
}

fn word() -> EntryKind {
    EntryKind::Word
}

pub async fn add(
    state: web::Data<AppState>,
    viewer: Viewer,
    body: web::Json<NewEntry>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let entry = wordlists::add_entry(
        &state.db,
        &state.spam.wordlists,
        viewer.user(),
        body.list,
        body.kind,
        &body.pattern,
        body.note,
    )
    .await?;
    Ok(HttpResponse::Created().json(entry))
}

pub async fn remove(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    wordlists::remove_entry(
        &state.db,
        &state.spam.wordlists,
        viewer.user(),
        id.into_inner(),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
