//! What wraps every request: CORS for the configured blog origins (for the
//! JSON API and Isso's), security headers, and request metrics.

use std::time::Instant;

use actix_cors::Cors;
use actix_web::http::{header, Method};
use std::future::{ready, Ready};

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::{DefaultHeaders, ErrorHandlerResponse, ErrorHandlers};
use actix_web::ResponseError as _;
use futures_util::future::Either;

use crate::config::Settings;
use crate::error::ApiError;

/// CORS for the blog origins in `server.cors_origins` (none by default).
/// Requests from other origins are served without CORS headers, so a
/// browser will not let a page on them read the answer; same-origin
/// deployments are unaffected.
pub fn cors(settings: &Settings) -> Cors {
    let mut exposed = vec![header::RETRY_AFTER];
    if settings.isso.enabled {
        // Isso's client reads its page cookie from X-Set-Cookie and its
        // clock offset from Date.
        exposed.extend([
            header::HeaderName::from_static(crate::compat::isso::X_SET_COOKIE),
            header::DATE,
        ]);
    }
    let mut cors = Cors::default()
        .allowed_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allowed_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            header::HeaderName::from_static(super::EDIT_TOKEN_HEADER),
        ])
        .expose_headers(exposed)
        .supports_credentials()
        .max_age(3600)
        .block_on_origin_mismatch(false);
    for origin in &settings.server.cors_origins {
        cors = cors.allowed_origin(origin.as_str());
    }
    cors
}

/// Headers on every answer: no MIME sniffing, no framing, no referrer
/// leaks, and a CSP that lets nothing load (the API serves only JSON).
pub fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::REFERRER_POLICY, "no-referrer"))
        .add((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'",
        ))
}

/// Gives every error answer the documented JSON shape (the console's HTML
/// error pages aside), including those
/// that never reached a handler: actix-cors's refusal of a preflight from
/// an origin not in `server.cors_origins` (plain text otherwise), and
/// actix's own plain-text refusals.
pub fn json_errors<B: MessageBody + 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(|answer: ServiceResponse<B>| {
        // JSON errors are already in shape; the console's error pages are
        // meant for people and stay pages.
        let shaped = answer
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json") || v.starts_with("text/html"));
        if shaped {
            return Ok(ErrorHandlerResponse::Response(answer.map_into_left_body()));
        }
        let status = answer.status();
        let preflight = answer.request().method() == Method::OPTIONS
            && answer
                .request()
                .headers()
                .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
        let error = if preflight {
            ApiError::new(
                status,
                "cors_rejected",
                "this origin may not call the API (see server.cors_origins)",
            )
        } else {
            ApiError::new(
                status,
                code_for(status),
                status.canonical_reason().unwrap_or("error").to_lowercase(),
            )
        };
        let (request, _) = answer.into_parts();
        let answer = ServiceResponse::new(request, error.error_response());
        Ok(ErrorHandlerResponse::Response(answer.map_into_right_body()))
    })
}

/// A stable code for an error answer made outside the application.
fn code_for(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "bad_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        408 => "request_timeout",
        413 => "payload_too_large",
        414 => "uri_too_long",
        415 => "unsupported_media_type",
        431 => "headers_too_large",
        s if s >= 500 => "internal",
        _ => "invalid_request",
    }
}

/// Answers 400 to a request whose path or query string holds an encoded
/// NUL (`%00`), before any handler runs: no parameter has a use for it and
/// PostgreSQL cannot store it in text.
pub fn refuse_nul_in_url<S>(
    req: ServiceRequest,
    srv: &S,
) -> Either<Ready<Result<ServiceResponse, actix_web::Error>>, S::Future>
where
    S: Service<ServiceRequest, Response = ServiceResponse, Error = actix_web::Error>,
{
    let holds_nul = |s: &str| s.contains("%00");
    if holds_nul(req.uri().path()) || holds_nul(req.query_string()) {
        let refused = ApiError::bad_request(
            "invalid_text",
            "the URL must not contain NUL characters (%00)",
        );
        let response = req.into_response(refused.error_response());
        return Either::Left(ready(Ok(response)));
    }
    Either::Right(srv.call(req))
}

/// Records a request in the Prometheus metrics. Every label has a bounded
/// set of values, whatever clients send: the route pattern (never the raw
/// path, which would make a label per article and comment, or per invented
/// path), the method among the standard ones (actix accepts any token as a
/// method) and the status code.
pub struct RequestTimer {
    route: String,
    method: &'static str,
    started: Instant,
}

impl RequestTimer {
    pub fn start(req: &actix_web::dev::ServiceRequest) -> Self {
        RequestTimer {
            route: req
                .match_pattern()
                .unwrap_or_else(|| "unmatched".to_string()),
            method: method_label(req.method()),
            started: Instant::now(),
        }
    }

    pub fn finish(self, status: u16) {
        let metrics = &crate::metrics::METRICS;
        metrics
            .http_requests
            .with_label_values(&[&self.route, self.method, &status.to_string()])
            .inc();
        metrics
            .http_seconds
            .with_label_values(&[&self.route, self.method])
            .observe(self.started.elapsed().as_secs_f64());
    }
}

/// The method as a metrics label: one of the standard methods, or `other`.
fn method_label(method: &Method) -> &'static str {
    const KNOWN: [Method; 9] = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::OPTIONS,
        Method::CONNECT,
        Method::TRACE,
    ];
    KNOWN
        .iter()
        .find(|known| *known == method)
        .map_or("other", |known| known.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_standard_methods_become_labels() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::PATCH), "PATCH");
        for invented in ["FOO", "get", "X-12345"] {
            let method = Method::from_bytes(invented.as_bytes()).unwrap();
            assert_eq!(method_label(&method), "other", "{invented}");
        }
    }
}
