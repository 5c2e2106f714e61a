//! Logging: structured `tracing` events to stderr, as text or JSON. Each
//! request runs in a span with its own request id ([`RequestSpan`]).
//! Errors are logged with their causes ([`Chain`]).

use std::io::IsTerminal as _;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{Error, HttpMessage as _};
use tracing::Span;
use tracing_actix_web::{DefaultRootSpanBuilder, RequestId, RootSpanBuilder};
use tracing_subscriber::{fmt, EnvFilter};

use crate::config::{LogFormat, LogSettings};

/// Installs the global subscriber. `RUST_LOG`, when set, overrides
/// `log.level`. A second call (tests start many servers) is a no-op.
///
/// Requests a client malformed (actix's HTTP parser reports them at ERROR)
/// are the client's fault, not the server's: they are left out unless the
/// level is `debug` or `trace`. Colours are used only on a terminal.
pub fn init(settings: &LogSettings) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(directives(&settings.level)))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let _ = match settings.format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

fn directives(level: &str) -> String {
    let verbose = matches!(level.trim(), "debug" | "trace");
    if verbose {
        level.to_string()
    } else {
        format!("{level},actix_http::h1::dispatcher=off")
    }
}

/// Shows an error with every cause under it, outermost first:
/// `outer: cause: cause`. An error's own message says what failed at its
/// level; the causes say why, and a log without them is hard to act on.
pub struct Chain<'a>(pub &'a (dyn std::error::Error + 'static));

impl std::fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut cause = self.0.source();
        while let Some(error) = cause {
            write!(f, ": {error}")?;
            cause = error.source();
        }
        Ok(())
    }
}

/// The span every request runs in: method, route pattern, path and request
/// id, then the status. Not the query string (it can hold an email, e.g.
/// the moderation queue's author filter), nor the client's address or user
/// agent (personal data, and the address as a client claims it).
pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .map(|id| id.to_string())
            .unwrap_or_default();
        let route = request
            .match_pattern()
            .unwrap_or_else(|| "unmatched".to_string());
        tracing::info_span!(
            "request",
            request_id = %request_id,
            http.method = %request.method(),
            http.route = %route,
            http.path = %request.path(),
            http.status_code = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
            exception.message = tracing::field::Empty,
            exception.details = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

#[cfg(test)]
mod tests {
    use super::{directives, Chain};

    #[derive(Debug, thiserror::Error)]
    enum Outer {
        #[error("cannot load the settings")]
        Load(#[source] Middle),
    }

    #[derive(Debug, thiserror::Error)]
    #[error("cannot read settings.toml")]
    struct Middle(#[source] std::io::Error);

    #[test]
    fn chain_shows_every_cause_outermost_first() {
        let error = Outer::Load(Middle(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            "permission denied",
        )));
        assert_eq!(
            Chain(&error).to_string(),
            "cannot load the settings: cannot read settings.toml: permission denied"
        );
        let alone = std::io::Error::other("disk full");
        assert_eq!(Chain(&alone).to_string(), "disk full");
    }

    #[test]
    fn malformed_requests_are_logged_only_when_asked_for_detail() {
        assert_eq!(directives("info"), "info,actix_http::h1::dispatcher=off");
        assert_eq!(directives("warn"), "warn,actix_http::h1::dispatcher=off");
        assert_eq!(directives("debug"), "debug");
    }
}
