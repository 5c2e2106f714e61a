use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::views::ArticleView;
use crate::auth::Viewer;
use crate::comments::articles::{self, ArticleChanges};
use crate::domain::ArticleKey;
use crate::error::ApiError;
use crate::state::AppState;

pub async fn get(
    state: web::Data<AppState>,
    key: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let key = ArticleKey::parse(&key)?;
    let found = articles::get(&state.db, key).await?;
    Ok(HttpResponse::Ok().json(ArticleView::from(&found)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PutArticle {
    #[serde(default, deserialize_with = "super::present")]
    title: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::present")]
    url: Option<Option<String>>,
    comments_open: Option<bool>,
}

pub async fn put(
    state: web::Data<AppState>,
    viewer: Viewer,
    key: web::Path<String>,
    body: web::Json<PutArticle>,
) -> Result<HttpResponse, ApiError> {
    let key = ArticleKey::parse(&key)?;
    let body = body.into_inner();
    let changes = ArticleChanges {
        title: body.title,
        url: body.url,
        comments_open: body.comments_open,
    };
    let (article, created) =
        articles::put(&state.db, &state.settings, viewer.user(), key, changes).await?;
    let mut response = if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    Ok(response.json(ArticleView::from(&article)))
}
