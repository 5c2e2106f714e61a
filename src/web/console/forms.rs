//! Form posts: `application/x-www-form-urlencoded` bodies read into a
//! struct. Unlike actix's own `Form`, a key given more than once (the
//! queue's checkboxes, `id=1&id=2`) fills a `Vec`.

use std::future::Future;
use std::pin::Pin;

use actix_web::{web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;

use super::PageError;
use crate::error::ApiError;

pub struct Form<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Form<T> {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, PageError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let body = body.await.map_err(|e| {
                PageError::Api(ApiError::new(
                    e.as_response_error().status_code(),
                    "invalid_form",
                    format!("the form could not be read: {e}"),
                ))
            })?;
            serde_html_form::from_bytes(&body).map(Form).map_err(|e| {
                PageError::Api(ApiError::bad_request(
                    "invalid_form",
                    format!("the form is not as expected: {e}"),
                ))
            })
        })
    }
}

/// An optional text field: absent, empty and blank are all `None`.
pub fn filled(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}
