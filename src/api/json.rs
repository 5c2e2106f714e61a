//! The JSON body extractor every handler uses: actix's own (size limit,
//! content type, the error answers of `api::json_config`), plus one
//! refusal: no string in the body may hold NUL (U+0000). PostgreSQL cannot
//! store it in text and no field has a use for it, so it is refused at the
//! edge with 422 rather than failing deep inside with a 500.

use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;

use actix_web::http::StatusCode;
use actix_web::{web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::error::ApiError;

pub struct Json<T>(pub T);

impl<T> Json<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        // Read as raw JSON first (checked to be JSON, not yet typed), so
        // the text can be looked at before it becomes strings.
        let raw = web::Json::<Box<RawValue>>::from_request(req, payload);
        Box::pin(async move {
            let raw = raw.await?.into_inner();
            if holds_nul(raw.get()) {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_body",
                    "text must not contain NUL characters (\\u0000)",
                )
                .into());
            }
            serde_json::from_str(raw.get()).map(Json).map_err(|e| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_body",
                    e.to_string(),
                )
                .into()
            })
        })
    }
}

/// Whether valid JSON text holds a NUL in a string. JSON strings cannot
/// hold a raw control character, so a NUL can only be written `\u0000`;
/// escapes are read pairwise, so an escaped backslash followed by `u0000`
/// (the text `\u0000`) is not one.
pub fn holds_nul(json: &str) -> bool {
    let bytes = json.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            if bytes.get(i + 1) == Some(&b'u') && bytes.get(i + 2..i + 6) == Some(b"0000") {
                return true;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::holds_nul;

    #[test]
    fn finds_nul_escapes_and_only_them() {
        assert!(holds_nul(r#"{"a":"x\u0000y"}"#));
        assert!(
            holds_nul(r#"["\\\u0000"]"#),
            "an escaped backslash, then NUL"
        );
        assert!(
            !holds_nul(r#"{"a":"x\\u0000y"}"#),
            "the text \\u0000, escaped"
        );
        assert!(holds_nul(r#"{"a":"\u00001"}"#), "NUL followed by a digit");
        assert!(!holds_nul(r#"{"a":"\u0001 \u1000 \n"}"#));
        assert!(!holds_nul(r#"{"a":"plain"}"#));
    }
}
