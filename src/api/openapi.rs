//! The OpenAPI 3 description of the whole API, generated from the handler
//! annotations and served at `GET /api/v1/openapi.json`.

use actix_web::HttpResponse;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{articles, auth, comments, health, moderation, site, spam, transfer};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Moderato",
        description = "Self-hosted comment backend for blogs: comments, accounts, spam scoring and moderation. \
                       Errors always have the shape {\"error\": {\"code\", \"message\", \"field\"?}}."
    ),
    paths(
        health::healthz,
        health::readyz,
        health::metrics,
        articles::get,
        articles::put,
        comments::create,
        comments::list,
        comments::counts,
        comments::get_own,
        comments::edit,
        comments::preview,
        site::client_settings,
        comments::delete,
        auth::register,
        auth::login,
        auth::logout,
        auth::logout_all,
        auth::change_password,
        auth::me,
        auth::export,
        auth::delete_account,
        transfer::export,
        moderation::list,
        moderation::get,
        moderation::edit,
        moderation::decide,
        moderation::decide_bulk,
        moderation::undo,
        moderation::summary,
        moderation::activity,
        moderation::log,
        moderation::commenters,
        moderation::export_commenter,
        moderation::erase_commenter,
        moderation::update_account,
        moderation::create_ban,
        moderation::list_bans,
        moderation::lift_ban,
        spam::list,
        spam::add,
        spam::remove,
        openapi_json,
    ),
    components(schemas(crate::error::Body)),
    modifiers(&BearerAuth),
    tags(
        (name = "comments", description = "Threads, submitting, editing and deleting comments"),
        (name = "articles", description = "The pages comments belong to"),
        (name = "accounts", description = "Registering, signing in, a commenter's own data"),
        (name = "moderation", description = "The queue, decisions, bans and commenters (moderators and admins)"),
        (name = "spam", description = "Spam word lists (admins)"),
        (name = "health", description = "Liveness, readiness, metrics"),
    )
)]
pub struct ApiDoc;

/// The error answers, each described once; every operation lists those
/// it can give (`responses((status = 200, ...), errors::BadRequest, ...)`).
/// All have the `Error` shape.
pub mod errors {
    use std::collections::BTreeMap;

    use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};

    fn answer(description: &str) -> RefOr<Response> {
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Error")))
                    .build(),
            )
            .build()
            .into()
    }

    macro_rules! error_answer {
        ($(#[$doc:meta])* $name:ident, $status:literal, $description:literal) => {
            $(#[$doc])*
            pub struct $name;

            impl utoipa::IntoResponses for $name {
                fn responses() -> BTreeMap<String, RefOr<Response>> {
                    BTreeMap::from([($status.to_string(), answer($description))])
                }
            }
        };
    }

    error_answer!(
        /// Every operation: a query or body that does not parse, or NUL in
        /// the URL.
        BadRequest,
        "400",
        "Malformed request: invalid JSON or query, or NUL (%00) in the URL"
    );
    error_answer!(
        Unauthorized,
        "401",
        "Not signed in, or the session or token is unknown"
    );
    error_answer!(Forbidden, "403", "Not allowed");
    error_answer!(NotFound, "404", "Not found");
    error_answer!(Conflict, "409", "Conflict with the current state");
    error_answer!(TooLarge, "413", "Body too large");
    error_answer!(NotJson, "415", "Not JSON");
    error_answer!(Invalid, "422", "Invalid field or body");
    error_answer!(RateLimited, "429", "Rate limited (see Retry-After)");
    error_answer!(Unavailable, "503", "Database unavailable (see Retry-After)");
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "health",
    responses((status = 200, description = "The OpenAPI 3 description of this API", body = Object), errors::BadRequest))]
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// Every route `api::configure` registers, read from its source, so a
    /// route added there without documentation fails this test.
    fn registered_routes() -> BTreeSet<(String, String)> {
        let source = include_str!("mod.rs");
        let mut routes = BTreeSet::new();
        let resource = regex::Regex::new(
            r#"web::resource\("([^"]+)"\)((?:\s*\.(?:get|post|put|patch|delete)\([^)]*\))+)"#,
        )
        .unwrap();
        let method = regex::Regex::new(r#"\.(get|post|put|patch|delete)\("#).unwrap();
        // Resources before the /api/v1 scope sit at the root.
        let scope_at = source
            .find(r#"web::scope("/api/v1")"#)
            .expect("the /api/v1 scope");
        for cap in resource.captures_iter(source) {
            let inside = cap.get(0).map_or(0, |m| m.start()) > scope_at;
            let prefix = if inside { "/api/v1" } else { "" };
            for m in method.captures_iter(&cap[2]) {
                routes.insert((m[1].to_string(), format!("{prefix}{}", &cap[1])));
            }
        }
        routes
    }

    fn documented_routes() -> BTreeSet<(String, String)> {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let mut routes = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                routes.insert((method.clone(), path.clone()));
            }
        }
        routes
    }

    #[test]
    fn every_route_is_documented_and_every_documented_route_exists() {
        let registered = registered_routes();
        assert!(
            registered.len() > 25,
            "parsed too few routes: {registered:?}"
        );
        let documented = documented_routes();
        let missing: Vec<_> = registered.difference(&documented).collect();
        assert!(
            missing.is_empty(),
            "routes without OpenAPI documentation: {missing:?}"
        );
        let phantom: Vec<_> = documented.difference(&registered).collect();
        assert!(
            phantom.is_empty(),
            "documented routes that are not registered: {phantom:?}"
        );
    }

    #[test]
    fn every_operation_documents_the_refusal_every_url_can_get() {
        // NUL in any URL is refused with 400 before routing.
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                assert!(
                    operation["responses"]["400"].is_object(),
                    "{method} {path} does not document 400"
                );
            }
        }
    }

    #[test]
    fn the_document_is_openapi_3_with_error_schema() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
        assert!(doc["components"]["schemas"]["Error"].is_object());
        assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    }
}
