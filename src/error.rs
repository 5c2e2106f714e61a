//! How errors become HTTP answers, in one place.
//!
//! Which error type each layer uses:
//! - `domain`: [`ValidationError`] (a field and what is wrong with it);
//! - `db`: [`DbError`] (unavailable, or a failed query);
//! - services (`auth`, `comments`): their own `thiserror` enums, which wrap
//!   the two above;
//! - `api`: [`ApiError`], built from any of them by the `From` impls below;
//!   the only type that knows about status codes;
//! - `web` (the console's pages): `PageError`, which shows an `ApiError`'s
//!   status and message as a page instead of JSON.
//!
//! Every error answer has the shape
//! `{"error": {"code": "...", "message": "...", "field": "..."}}` with a
//! stable machine `code`. Causes of 5xx answers go to the log, with the
//! whole chain of their sources, never to the client.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::auth::AuthError;
use crate::comments::CommentError;
use crate::db::DbError;
use crate::domain::ValidationError;
use crate::moderation::ModerationError;
use crate::spam::admin::AdminError;
use crate::telemetry::Chain;
use crate::transfer::export::ExportError;

/// Why a request failed on our side: an error with its sources, or a
/// message.
type Cause = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    field: Option<&'static str>,
    retry_after_secs: Option<u64>,
    /// For 405: the methods the resource does accept.
    allow: Option<&'static str>,
    /// Logged, never sent.
    cause: Option<Cause>,
}

/// The body of every error answer.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Error)]
pub struct Body<'a> {
    error: Detail<'a>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ErrorDetail)]
pub struct Detail<'a> {
    /// A stable machine-readable code, e.g. `invalid_field`, `not_found`.
    code: &'a str,
    /// What went wrong, for people.
    message: &'a str,
    /// The request field at fault, when there is one (e.g. `author.email`).
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
            retry_after_secs: None,
            allow: None,
            cause: None,
        }
    }

    pub fn method_not_allowed(allow: &'static str) -> Self {
        let mut e = Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            format!("this endpoint accepts {allow}"),
        );
        e.allow = Some(allow);
        e
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn invalid_field(field: &'static str, message: impl Into<String>) -> Self {
        let mut e = Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", message);
        e.field = Some(field);
        e
    }

    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message)
    }

    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    pub fn too_many_requests(retry_after_secs: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many requests; try again in {retry_after_secs} s"),
        );
        e.retry_after_secs = Some(retry_after_secs);
        e
    }

    pub fn unavailable(cause: impl Into<Cause>) -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the service is temporarily unavailable; try again shortly",
        );
        e.cause = Some(cause.into());
        e.retry_after_secs = Some(5);
        e
    }

    pub fn internal(cause: impl Into<Cause>) -> Self {
        let mut e = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "something went wrong on our side",
        );
        e.cause = Some(cause.into());
        e
    }

    pub fn code(&self) -> &'static str {
        self.code
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// What went wrong, for people (never a 5xx's cause).
    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn retry_after_secs(&self) -> Option<u64> {
        self.retry_after_secs
    }

    /// Logs the cause of a server-side failure, with its whole chain; the
    /// answer itself never carries it.
    pub fn log_if_server_error(&self) {
        if let Some(cause) = &self.cause {
            if self.status.is_server_error() {
                tracing::error!(code = self.code, cause = %Chain(cause.as_ref()), "request failed");
            }
        }
    }

    /// The same error under another status, for a surface whose clients
    /// know other codes (Isso's client knows 400, not 422).
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        self.log_if_server_error();
        let mut builder = HttpResponse::build(self.status);
        if let Some(secs) = self.retry_after_secs {
            builder.insert_header((header::RETRY_AFTER, HeaderValue::from(secs)));
        }
        if let Some(allow) = self.allow {
            builder.insert_header((header::ALLOW, allow));
        }
        builder.json(Body {
            error: Detail {
                code: self.code,
                message: &self.message,
                field: self.field,
            },
        })
    }
}

impl From<ValidationError> for ApiError {
    fn from(e: ValidationError) -> Self {
        ApiError::invalid_field(e.field, e.to_string())
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Unavailable { .. } => ApiError::unavailable(e),
            other => ApiError::internal(other),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Invalid(v) => v.into(),
            AuthError::Db(d) => d.into(),
            AuthError::Hash(h) => ApiError::internal(h),
            AuthError::InvalidCredentials => {
                ApiError::unauthorized("invalid_credentials", "email or password is wrong")
            }
            AuthError::InvalidSession => ApiError::unauthorized(
                "invalid_session",
                "the session has expired or was ended; sign in again",
            ),
            AuthError::NotSignedIn => ApiError::unauthorized("not_signed_in", "sign in first"),
            AuthError::EmailTaken => ApiError::conflict(
                "email_taken",
                "an account with this email already exists; sign in instead",
            ),
            AuthError::RegistrationClosed => ApiError::forbidden(
                "registration_closed",
                "this site does not accept new accounts",
            ),
            AuthError::Forbidden(what) => ApiError::forbidden("forbidden", what),
            AuthError::RateLimited { retry_after_secs } => {
                ApiError::too_many_requests(retry_after_secs)
            }
        }
    }
}

impl From<CommentError> for ApiError {
    fn from(e: CommentError) -> Self {
        match e {
            CommentError::Invalid(v) => v.into(),
            CommentError::Db(d) => d.into(),
            CommentError::Auth(a) => a.into(),
            CommentError::ArticleNotFound => {
                ApiError::not_found("article_not_found", "no article with this key")
            }
            CommentError::NotFound => ApiError::not_found("comment_not_found", "no such comment"),
            CommentError::Closed => {
                ApiError::forbidden("comments_closed", "comments are closed on this article")
            }
            CommentError::GuestsNotAllowed => ApiError::unauthorized(
                "sign_in_required",
                "this site accepts comments only from signed-in commenters",
            ),
            CommentError::NotAuthor => ApiError::forbidden(
                "not_author",
                "only the author (signed in, or holding the edit token) may do this",
            ),
            CommentError::EditWindowClosed => ApiError::forbidden(
                "edit_window_closed",
                "the time to edit this comment is over",
            ),
            CommentError::NotEditable => {
                ApiError::conflict("not_editable", "this comment can no longer be edited")
            }
            CommentError::Conflict => ApiError::conflict(
                "conflict",
                "the comment was changed at the same time; reload and try again",
            ),
            CommentError::Duplicate => {
                ApiError::conflict("duplicate", "you already posted this comment here")
            }
            CommentError::Flood { retry_after_secs } => {
                let mut e = ApiError::too_many_requests(retry_after_secs);
                e.message = format!("you are commenting too fast; wait {retry_after_secs} s");
                e
            }
            CommentError::Internal(cause) => ApiError::internal(cause),
            CommentError::RateLimited { retry_after_secs } => {
                ApiError::too_many_requests(retry_after_secs)
            }
            CommentError::Banned { until } => ApiError::forbidden(
                "banned",
                match until {
                    Some(at) => format!(
                        "you may not comment here until {}",
                        crate::domain::timestamp(at)
                    ),
                    None => "you may not comment here".to_string(),
                },
            ),
        }
    }
}

impl From<ModerationError> for ApiError {
    fn from(e: ModerationError) -> Self {
        match e {
            ModerationError::Invalid(v) => v.into(),
            ModerationError::Auth(a) => a.into(),
            ModerationError::Db(d) => d.into(),
            ModerationError::CommentNotFound(id) => {
                ApiError::not_found("comment_not_found", format!("no comment {id}"))
            }
            ModerationError::NotFound => ApiError::not_found("not_found", "no such item"),
            ModerationError::Conflict { id, current } => ApiError::conflict(
                "conflict",
                format!("comment {id} was changed by someone else meanwhile; it is now {current}"),
            ),
            ModerationError::NotActionable(why) => ApiError::conflict("not_actionable", why),
            ModerationError::NothingToUndo => {
                ApiError::not_found("nothing_to_undo", "you have no decision left to undo")
            }
            ModerationError::Internal(cause) => ApiError::internal(cause),
        }
    }
}

impl From<ExportError> for ApiError {
    fn from(e: ExportError) -> Self {
        match e {
            ExportError::Auth(a) => a.into(),
            ExportError::ArticleNotFound(key) => {
                ApiError::not_found("not_found", format!("no article with key `{key}`"))
            }
            ExportError::Db(d) => d.into(),
            ExportError::Write(w) => ApiError::internal(w),
        }
    }
}

impl From<AdminError> for ApiError {
    fn from(e: AdminError) -> Self {
        match e {
            AdminError::Invalid(v) => v.into(),
            AdminError::Auth(a) => a.into(),
            AdminError::Db(d) => d.into(),
            AdminError::Duplicate => {
                ApiError::conflict("duplicate", "this entry is already on the list")
            }
            AdminError::NotFound => ApiError::not_found("not_found", "no such entry"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::to_bytes;

    #[actix_web::test]
    async fn error_bodies_have_the_documented_shape() {
        let response = ApiError::invalid_field("author.email", "must be an email").error_response();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = to_bytes(response.into_body()).await.unwrap();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["error"]["code"], "invalid_field");
        assert_eq!(json["error"]["field"], "author.email");
        assert_eq!(json["error"]["message"], "must be an email");
    }

    #[actix_web::test]
    async fn internal_causes_never_reach_the_client() {
        let response = ApiError::internal("password column corrupt at row 7").error_response();
        let body = to_bytes(response.into_body()).await.unwrap();
        let text = String::from_utf8(body.to_vec()).unwrap();
        assert!(!text.contains("corrupt"), "{text}");
        assert!(text.contains("\"internal\""), "{text}");
    }

    #[test]
    fn unavailable_database_is_503_with_retry_after() {
        let response = ApiError::from(DbError::unavailable("timed out")).error_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(response.headers().contains_key(header::RETRY_AFTER));
    }

    #[actix_web::test]
    async fn database_causes_are_kept_for_the_log_and_never_sent() {
        use diesel::result::{DatabaseErrorKind, Error as DieselError};
        let failed = |message: &str, kind| {
            DbError::from(DieselError::DatabaseError(
                kind,
                Box::new(message.to_string()),
            ))
        };
        let locked = failed(
            "database is locked: users_by_email",
            DatabaseErrorKind::Unknown,
        );
        assert!(matches!(locked, DbError::Unavailable { .. }));
        let broken = failed(
            "constraint users_by_email failed",
            DatabaseErrorKind::CheckViolation,
        );
        assert!(matches!(broken, DbError::Query(_)));
        for (error, status) in [
            (locked, StatusCode::SERVICE_UNAVAILABLE),
            (broken, StatusCode::INTERNAL_SERVER_ERROR),
        ] {
            assert!(Chain(&error).to_string().contains("users_by_email"));
            let api = ApiError::from(error);
            assert!(format!("{api:?}").contains("users_by_email"));
            let response = api.error_response();
            assert_eq!(response.status(), status);
            let body = to_bytes(response.into_body()).await.unwrap();
            let text = String::from_utf8(body.to_vec()).unwrap();
            assert!(!text.contains("users_by_email"), "{text}");
        }
    }
}
