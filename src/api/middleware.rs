//! What wraps every request: CORS for the configured blog origins, security
//! headers, and request metrics.

use std::time::Instant;

use actix_cors::Cors;
use actix_web::http::{header, Method};
use actix_web::middleware::DefaultHeaders;

use crate::config::Settings;

/// CORS for the blog origins in `server.cors_origins` (none by default).
/// Requests from other origins are served without CORS headers, so a
/// browser will not let a page on them read the answer; same-origin
/// deployments are unaffected.
pub fn cors(settings: &Settings) -> Cors {
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
        .expose_headers([header::RETRY_AFTER])
        .supports_credentials()
        .max_age(3600)
        .block_on_origin_mismatch(false);
    for origin in &settings.server.cors_origins {
        cors = cors.allowed_origin(origin);
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

/// Records a request in the Prometheus metrics, by route pattern (not the
/// raw path, which would make a label per article and comment).
pub struct RequestTimer {
    route: String,
    method: String,
    started: Instant,
}

impl RequestTimer {
    pub fn start(req: &actix_web::dev::ServiceRequest) -> Self {
        RequestTimer {
            route: req
                .match_pattern()
                .unwrap_or_else(|| "unmatched".to_string()),
            method: req.method().as_str().to_string(),
            started: Instant::now(),
        }
    }

    pub fn finish(self, status: u16) {
        let metrics = &crate::metrics::METRICS;
        metrics
            .http_requests
            .with_label_values(&[&self.route, &self.method, &status.to_string()])
            .inc();
        metrics
            .http_seconds
            .with_label_values(&[&self.route, &self.method])
            .observe(self.started.elapsed().as_secs_f64());
    }
}
