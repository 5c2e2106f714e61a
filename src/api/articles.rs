use super::json::Json;
use super::openapi::errors;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::extract::SignedIn;
use super::views::ArticleView;
use crate::comments::articles::{self, ArticleChanges};
use crate::domain::ArticleKey;
use crate::error::ApiError;
use crate::services::Services;

/// An article and its count of published comments.
#[utoipa::path(get, path = "/api/v1/articles/{key}", tag = "articles",
    params(("key" = String, Path, description = "The blog's key for the article (URL-encoded)")),
    responses((status = 200, body = ArticleView), errors::BadRequest,
              errors::NotFound,
              errors::Invalid,
              errors::Unavailable))]
pub async fn get(
    state: web::Data<Services>,
    key: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let key = ArticleKey::parse(&key)?;
    let found = articles::get(&state.db, key).await?;
    Ok(HttpResponse::Ok().json(ArticleView::of(&found, &state.settings)))
}

/// Absent fields keep their value; `null` clears `title` or `url`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutArticle {
    #[serde(default, deserialize_with = "super::present")]
    #[schema(value_type = Option<String>, max_length = 500)]
    title: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::present")]
    #[schema(value_type = Option<String>)]
    url: Option<Option<String>>,
    comments_open: Option<bool>,
}

/// Creates (201) or updates (200) an article. Admins only.
#[utoipa::path(put, path = "/api/v1/articles/{key}", tag = "articles",
    params(("key" = String, Path, description = "The blog's key for the article (URL-encoded)")),
    request_body = PutArticle,
    responses((status = 200, description = "Updated", body = ArticleView), errors::BadRequest,
              (status = 201, description = "Created", body = ArticleView), errors::Unauthorized,
              errors::Forbidden, errors::TooLarge,
              errors::NotJson, errors::Invalid,
              errors::Unavailable),
    security(("bearer" = [])))]
pub async fn put(
    state: web::Data<Services>,
    user: SignedIn,
    key: web::Path<String>,
    body: Json<PutArticle>,
) -> Result<HttpResponse, ApiError> {
    let key = ArticleKey::parse(&key)?;
    let body = body.into_inner();
    let changes = ArticleChanges {
        title: body.title,
        url: body.url,
        comments_open: body.comments_open,
    };
    let (article, created) = articles::put(
        &state.db,
        &state.settings,
        &state.cache,
        &user.0,
        key,
        changes,
    )
    .await?;
    let mut response = if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    Ok(response.json(ArticleView::of(&article, &state.settings)))
}
