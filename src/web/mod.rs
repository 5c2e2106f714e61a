//! Pages for people, served by the same binary: the root page, the demo
//! article, the comment widget's files, and the moderators' console at
//! `/admin/`.
//!
//! Server-rendered with askama: templates are compiled into the binary
//! (nothing to install or download, no files read at run time) and every
//! value is HTML-escaped unless a template says otherwise, which only
//! comment bodies do (they are the sanitizer's stored output). The
//! console's forms work without JavaScript; one small hand-written script
//! adds the keyboard, in-place decisions and live counts. The widget
//! (`assets/embed.js`) is the one page part that needs JavaScript: it runs
//! on the blog's pages and calls the JSON API. Pages reach the database
//! only through the same services as the JSON API.

mod assets;
mod console;

use actix_web::http::header::{self, ContentType};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use crate::api::extract::own_origin;
use crate::services::Services;

/// The article key the demo page's comments are stored under.
pub const DEMO_ARTICLE: &str = "moderato-demo";

/// What the root and demo pages may load: their stylesheet and icon, and
/// for the demo the widget's script and its calls to this server.
const PAGE_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
    base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
const DEMO_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; \
    frame-ancestors 'none'";

pub fn configure(cfg: &mut web::ServiceConfig, settings: &crate::config::Settings) {
    cfg.route("/", web::get().to(root));
    if settings.widget.demo {
        cfg.route("/demo", web::get().to(to_demo))
            .route("/demo/", web::get().to(demo));
    }
    assets::configure(cfg, settings.widget.enabled);
    console::configure(cfg);
}

#[derive(Template)]
#[template(path = "root.html")]
struct Root<'a> {
    version: &'static str,
    origin: &'a str,
    css: String,
    icon: String,
    widget: bool,
    demo: bool,
    isso: bool,
    isso_prefix: &'a str,
}

/// `GET /`: that this server runs, the two lines a blog pastes, and where
/// to go from here.
async fn root(req: HttpRequest, state: web::Data<Services>) -> HttpResponse {
    let settings = &state.settings;
    let origin = own_origin(&req, settings);
    page(
        Root {
            version: env!("CARGO_PKG_VERSION"),
            origin: &origin,
            css: assets::url("page.css"),
            icon: assets::url("icon.svg"),
            widget: settings.widget.enabled,
            demo: settings.widget.demo,
            isso: settings.isso.enabled,
            isso_prefix: &settings.isso.prefix,
        }
        .render(),
        PAGE_POLICY,
    )
}

#[derive(Template)]
#[template(path = "demo.html")]
struct Demo {
    lang: &'static str,
    title: &'static str,
    key: &'static str,
    css: String,
    icon: String,
}

async fn to_demo() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/demo/"))
        .finish()
}

/// `GET /demo/`: an article page using the widget, as a blog would
/// (`?lang=de` shows it in German).
async fn demo(req: HttpRequest) -> HttpResponse {
    let german =
        web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
            .is_ok_and(|q| q.get("lang").is_some_and(|l| l == "de"));
    let (lang, title) = if german {
        ("de", "Ein Artikel zum Ausprobieren")
    } else {
        ("en", "A demo article")
    };
    page(
        Demo {
            lang,
            title,
            key: DEMO_ARTICLE,
            css: assets::url("page.css"),
            icon: assets::url("icon.svg"),
        }
        .render(),
        DEMO_POLICY,
    )
}

fn page(rendered: askama::Result<String>, policy: &'static str) -> HttpResponse {
    match rendered {
        Ok(html) => HttpResponse::Ok()
            .content_type(ContentType::html())
            .insert_header((header::CONTENT_SECURITY_POLICY, policy))
            .body(html),
        Err(e) => {
            tracing::error!(error = %e, "a page failed to render");
            HttpResponse::InternalServerError()
                .content_type(ContentType::plaintext())
                .body("This page failed to render; the server log says why.")
        }
    }
}
