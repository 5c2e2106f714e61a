//! `GET /config`: the settings a comment client (the widget) draws its
//! forms from.

use actix_web::{web, HttpResponse};
use serde::Serialize;

use super::openapi::errors;
use crate::config::AvatarScheme;
use crate::services::Services;

/// What a comment client needs to know to draw its forms: which fields
/// to ask for, their limits, and whether accounts can be made. Nothing in
/// it is secret; the widget reads it once per page.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ClientSettingsView {
    /// Whether people may comment without an account.
    allow_guests: bool,
    /// Whether a guest must give a name and an email.
    require_name_email: bool,
    /// Whether the guest form should ask for a website.
    website_field: bool,
    /// Whether `POST /auth/register` creates accounts.
    allow_registration: bool,
    /// How long after posting an author may edit a comment.
    edit_window_seconds: u64,
    max_body_bytes: usize,
    max_name_bytes: usize,
    max_email_bytes: usize,
    max_url_bytes: usize,
    min_password_chars: usize,
    /// The form field people leave empty (a bot filling it is caught);
    /// `null` when no honeypot is configured.
    honeypot_field: Option<String>,
    /// How `author.avatar` is made: `keyed` or `gravatar`.
    #[schema(value_type = String)]
    avatars: &'static str,
    /// Reply levels to indent before replies say whom they answer.
    max_depth: u8,
    /// Comments per thread page unless a page asks otherwise.
    page_size: u32,
}

#[utoipa::path(get, path = "/api/v1/config", tag = "comments",
    responses((status = 200, description = "Settings a comment client draws its forms from", body = ClientSettingsView), errors::BadRequest))]
pub async fn client_settings(state: web::Data<Services>) -> HttpResponse {
    let settings = &state.settings;
    let comments = &settings.comments;
    HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "public, max-age=60"))
        .json(ClientSettingsView {
            allow_guests: comments.allow_guests,
            require_name_email: comments.require_name_email,
            website_field: settings.widget.website_field,
            allow_registration: settings.auth.allow_registration,
            edit_window_seconds: comments.edit_window.as_secs(),
            max_body_bytes: comments.max_body_bytes,
            max_name_bytes: comments.max_name_bytes,
            max_email_bytes: comments.max_email_bytes,
            max_url_bytes: comments.max_url_bytes,
            min_password_chars: settings.auth.min_password_chars,
            honeypot_field: state.spam.honeypot_field.clone(),
            avatars: match comments.avatars {
                AvatarScheme::Keyed => "keyed",
                AvatarScheme::Gravatar => "gravatar",
            },
            max_depth: settings.widget.max_depth,
            page_size: comments.page_size,
        })
}
