use super::json::Json;
use super::openapi::errors;
use std::collections::BTreeMap;

use actix_web::http::header::ContentType;
use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::client::client_info;
use super::extract::Viewer;
use super::views::{ArticleView, AuthorComment, GuestSecrets, PublicComment};
use crate::comments::{self, ArticleHint, EditAuth, GuestAuthor, Submission, ThreadRequest};
use crate::domain::SortOrder;
use crate::domain::{ArticleKey, CommentId};
use crate::error::ApiError;
use crate::services::Services;

/// The header a guest sends their edit token in.
pub const EDIT_TOKEN_HEADER: &str = "x-edit-token";

/// A new comment. Besides these fields the body may carry the honeypot
/// field configured for the `honeypot` scorer (default `fax_number`), which
/// people leave empty.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCommentBody {
    /// Markdown, at most `comments.max_body_bytes` (64 KiB by default).
    #[schema(min_length = 1, max_length = 65536)]
    body: String,
    parent_id: Option<CommentId>,
    author: Option<AuthorBody>,
    /// Title and URL of the page, used if this comment creates the article.
    article: Option<ArticleHintBody>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthorBody {
    /// Required for guests by default (empty counts as not given); plain
    /// text without `<` or `>`.
    #[schema(max_length = 245)]
    name: Option<String>,
    /// An email address like `name@example.com`: required for guests by
    /// default (empty counts as not given); never shown publicly.
    #[schema(max_length = 100)]
    email: Option<String>,
    /// An http(s) URL.
    #[schema(max_length = 200)]
    url: Option<String>,
    /// The `author_token` a guest was given with an earlier comment under
    /// this email: without it, the email's earlier comments do not count as
    /// theirs (for `first_time` moderation and spam scoring).
    #[schema(max_length = 100)]
    token: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArticleHintBody {
    title: Option<String>,
    url: Option<String>,
}

/// `POST /articles/{key}/comments`. The body is read as a JSON object first
/// so the configured honeypot field (whatever its name) can be taken out;
/// every other key must belong to [`NewCommentBody`].
#[utoipa::path(post, path = "/api/v1/articles/{key}/comments", tag = "comments",
    params(("key" = String, Path, description = "The blog's key for the article (URL-encoded)")),
    request_body = NewCommentBody,
    responses((status = 201, description = "Stored; `status` is approved or pending", body = AuthorComment),
              errors::BadRequest, errors::Unauthorized, errors::Forbidden, errors::NotFound, errors::Conflict, errors::TooLarge, errors::NotJson, errors::Invalid, errors::RateLimited, errors::Unavailable),
    security((), ("bearer" = [])))]
pub async fn create(
    req: HttpRequest,
    state: web::Data<Services>,
    viewer: Viewer,
    key: web::Path<String>,
    body: Json<serde_json::Map<String, serde_json::Value>>,
) -> Result<HttpResponse, ApiError> {
    let key = ArticleKey::parse(&key)?;
    let mut fields = body.into_inner();
    let honeypot = match &state.spam.honeypot_field {
        // A form library may send an untouched field as null: that is empty.
        Some(name) => fields.remove(name).and_then(|v| match v {
            serde_json::Value::Null => None,
            serde_json::Value::String(s) => Some(s),
            other => Some(other.to_string()),
        }),
        None => None,
    };
    // serde would also read a struct from an array of its fields' values;
    // the API takes objects only.
    for name in ["author", "article"] {
        if fields
            .get(name)
            .is_some_and(|v| !(v.is_object() || v.is_null()))
        {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                format!("`{name}` must be an object"),
            ));
        }
    }
    let body: NewCommentBody =
        serde_json::from_value(serde_json::Value::Object(fields)).map_err(|e| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                e.to_string(),
            )
        })?;
    let submission = Submission {
        body: body.body,
        parent_id: body.parent_id,
        author: body.author.map(|a| GuestAuthor {
            name: a.name,
            email: a.email,
            url: a.url,
            token: a.token,
        }),
        article: body.article.map(|a| ArticleHint {
            title: a.title,
            url: a.url,
        }),
        honeypot,
    };
    let client = client_info(&req, &state);
    let submitted = comments::submit(&state, viewer.user(), key, submission, client).await?;
    let view = AuthorComment::new(
        &submitted.comment,
        &submitted.article.key,
        GuestSecrets {
            edit_token: submitted.edit_token,
            author_token: submitted.author_token,
        },
        edit_window_ms(&state),
        &state.avatars,
    );
    Ok(HttpResponse::Created().json(view))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ThreadQuery {
    /// Oldest first unless asked.
    #[param(inline)]
    sort: Option<SortOrder>,
    /// Page size (the default page size when absent; at most the maximum).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    cursor: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ThreadView {
    article: Option<ArticleView>,
    comments: Vec<PublicComment>,
    next_cursor: Option<String>,
    total: i64,
}

#[utoipa::path(get, path = "/api/v1/articles/{key}/comments", tag = "comments",
    params(("key" = String, Path, description = "The blog's key for the article (URL-encoded)"), ThreadQuery),
    responses((status = 200, description = "A page of the public thread", body = ThreadView),
              errors::BadRequest, errors::Invalid, errors::Unavailable))]
pub async fn list(
    state: web::Data<Services>,
    key: web::Path<String>,
    query: web::Query<ThreadQuery>,
) -> Result<HttpResponse, ApiError> {
    let key = ArticleKey::parse(&key)?;
    let query = query.into_inner();
    let order = query.sort.unwrap_or(SortOrder::Oldest);
    let request =
        ThreadRequest::parse(&state.settings, order, query.limit, query.cursor.as_deref())?;
    let body = comments::public_page(
        &state.db,
        &state.cache,
        &state.settings,
        key,
        request,
        |page| {
            serde_json::to_vec(&ThreadView {
                article: page
                    .article
                    .as_ref()
                    .map(|a| ArticleView::new(a, page.total, &state.settings)),
                comments: page
                    .comments
                    .iter()
                    .map(|c| PublicComment::new(c, &state.avatars))
                    .collect(),
                next_cursor: page.next_cursor.clone(),
                total: page.total,
            })
        },
    )
    .await?;
    Ok(json_bytes(body))
}

fn json_bytes(body: Bytes) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(body)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CountsView {
    counts: BTreeMap<String, i64>,
}

/// `GET /counts?article=a&article=b`: repeated keys, which serde's query
/// extractor does not collect, so the query string is read here.
#[utoipa::path(get, path = "/api/v1/counts", tag = "comments",
    params(("article" = Vec<String>, Query, description = "Article keys (repeat the parameter, up to 100)", explode = true)),
    responses((status = 200, description = "Published-comment counts; unknown keys count 0", body = CountsView), errors::BadRequest,
              errors::Invalid, errors::Unavailable))]
pub async fn counts(
    req: HttpRequest,
    state: web::Data<Services>,
) -> Result<HttpResponse, ApiError> {
    let keys: Vec<String> = url::form_urlencoded::parse(req.query_string().as_bytes())
        .filter(|(name, _)| name == "article")
        .map(|(_, value)| value.into_owned())
        .collect();
    let counts = comments::counts(&state.db, &state.cache, keys).await?;
    Ok(HttpResponse::Ok().json(CountsView {
        counts: counts.into_iter().collect(),
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditBody {
    #[schema(min_length = 1, max_length = 65536)]
    body: String,
}

#[utoipa::path(patch, path = "/api/v1/comments/{id}", tag = "comments",
    params(("id" = i64, Path, description = "Comment id"), ("X-Edit-Token" = Option<String>, Header, description = "A guest's edit token")),
    request_body = EditBody,
    responses((status = 200, description = "Edited (and scored again)", body = AuthorComment),
              errors::BadRequest, errors::Unauthorized, errors::Forbidden, errors::NotFound, errors::Conflict, errors::TooLarge, errors::NotJson, errors::Invalid, errors::Unavailable),
    security((), ("bearer" = [])))]
pub async fn edit(
    req: HttpRequest,
    state: web::Data<Services>,
    viewer: Viewer,
    id: web::Path<CommentId>,
    body: Json<EditBody>,
) -> Result<HttpResponse, ApiError> {
    let auth = author_proof(&req, &viewer);
    let client = client_info(&req, &state);
    let edited = comments::edit(&state, auth, id.into_inner(), &body.body, client).await?;
    Ok(HttpResponse::Ok().json(AuthorComment::new(
        &edited.comment,
        &edited.article_key,
        GuestSecrets::default(),
        edit_window_ms(&state),
        &state.avatars,
    )))
}

/// `GET /comments/{id}`: a comment as its author sees it, whatever its
/// status (spam shows as pending), so a client can show its author a
/// comment that is waiting for a moderator. Only its author may read it
/// this way: signed in as them, or with the guest's edit token.
#[utoipa::path(get, path = "/api/v1/comments/{id}", tag = "comments",
    params(("id" = i64, Path, description = "Comment id"), ("X-Edit-Token" = Option<String>, Header, description = "A guest's edit token")),
    responses((status = 200, description = "The comment, with its status", body = AuthorComment),
              errors::BadRequest, errors::Unauthorized, errors::Forbidden, errors::NotFound, errors::Unavailable),
    security((), ("bearer" = [])))]
pub async fn get_own(
    req: HttpRequest,
    state: web::Data<Services>,
    viewer: Viewer,
    id: web::Path<CommentId>,
) -> Result<HttpResponse, ApiError> {
    let auth = author_proof(&req, &viewer);
    let found = comments::own(&state, auth, id.into_inner()).await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "private, no-store"))
        .json(AuthorComment::new(
            &found.comment,
            &found.article_key,
            GuestSecrets::default(),
            edit_window_ms(&state),
            &state.avatars,
        )))
}

#[utoipa::path(delete, path = "/api/v1/comments/{id}", tag = "comments",
    params(("id" = i64, Path, description = "Comment id"), ("X-Edit-Token" = Option<String>, Header, description = "A guest's edit token")),
    responses((status = 204, description = "Deleted"), errors::BadRequest, errors::Unauthorized, errors::Forbidden, errors::NotFound, errors::Unavailable),
    security((), ("bearer" = [])))]
pub async fn delete(
    req: HttpRequest,
    state: web::Data<Services>,
    viewer: Viewer,
    id: web::Path<CommentId>,
) -> Result<HttpResponse, ApiError> {
    let auth = author_proof(&req, &viewer);
    comments::delete(&state, auth, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewBody {
    /// Markdown, as for a new comment.
    #[schema(min_length = 1, max_length = 65536)]
    body: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PreviewView {
    /// The HTML the comment would be shown as.
    html: String,
}

/// `POST /preview`: Markdown rendered and sanitized as a comment's would
/// be, nothing stored.
#[utoipa::path(post, path = "/api/v1/preview", tag = "comments",
    request_body = PreviewBody,
    responses((status = 200, description = "The rendered HTML", body = PreviewView),
              errors::BadRequest, errors::TooLarge, errors::NotJson, errors::Invalid, errors::Unavailable))]
pub async fn preview(
    state: web::Data<Services>,
    body: Json<PreviewBody>,
) -> Result<HttpResponse, ApiError> {
    let html = comments::preview(&state, &body.body).await?;
    Ok(HttpResponse::Ok().json(PreviewView { html }))
}

/// How the caller proves they wrote a comment: their session, or a
/// guest's edit token from the `X-Edit-Token` header.
fn author_proof<'a>(req: &'a HttpRequest, viewer: &'a Viewer) -> EditAuth<'a> {
    EditAuth {
        viewer: viewer.user(),
        edit_token: req
            .headers()
            .get(EDIT_TOKEN_HEADER)
            .and_then(|v| v.to_str().ok()),
    }
}

fn edit_window_ms(state: &Services) -> i64 {
    i64::try_from(state.settings.comments.edit_window.as_millis()).unwrap_or(i64::MAX)
}
