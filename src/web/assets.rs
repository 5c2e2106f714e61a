//! Stylesheets, scripts and the icon, compiled into the binary.
//!
//! The console's and the pages' assets are linked with a hash of their
//! content in the URL (`/admin/assets/NAME?v=HASH`), so a browser may keep
//! them for a year and still fetches a new version at once. The widget's
//! script has a fixed URL a blog pastes (`/embed.js`): browsers revalidate
//! it with its ETag, and it links its stylesheet by content hash.

use std::collections::HashMap;
use std::sync::LazyLock;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};

struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: Vec<u8>,
    /// 12 hex digits of the content's SHA-256.
    version: String,
}

impl Asset {
    fn new(name: &'static str, content_type: &'static str, bytes: Vec<u8>) -> Self {
        let version = hex::encode(&Sha256::digest(&bytes)[..6]);
        Asset {
            name,
            content_type,
            bytes,
            version,
        }
    }
}

const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    let embed_css = Asset::new(
        "embed.css",
        CSS,
        include_bytes!("assets/embed.css").to_vec(),
    );
    // The script names the stylesheet's current version, so a new release's
    // styles reach pages as soon as the script does.
    let embed_js = include_str!("assets/embed.js")
        .replace("__MODERATO_CSS_VERSION__", &embed_css.version)
        .into_bytes();
    vec![
        Asset::new(
            "console.css",
            CSS,
            include_bytes!("assets/console.css").to_vec(),
        ),
        Asset::new(
            "console.js",
            JS,
            include_bytes!("assets/console.js").to_vec(),
        ),
        Asset::new("page.css", CSS, include_bytes!("assets/page.css").to_vec()),
        Asset::new(
            "icon.svg",
            "image/svg+xml",
            include_bytes!("assets/icon.svg").to_vec(),
        ),
        embed_css,
        Asset::new("embed.js", JS, embed_js),
    ]
});

fn find(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.name == name)
}

/// The URL pages link a console asset by: its path and content hash.
pub fn url(name: &str) -> String {
    match find(name) {
        Some(asset) => format!("/admin/assets/{name}?v={}", asset.version),
        None => format!("/admin/assets/{name}"),
    }
}

pub fn configure(cfg: &mut web::ServiceConfig, widget: bool) {
    // Gzipped for browsers that ask. Pages are not: they carry the CSRF
    // token beside text a visitor may choose (a search), which compression
    // could leak by length (BREACH); the assets hold no secret.
    cfg.service(
        web::resource("/admin/assets/{name}")
            .wrap(actix_web::middleware::Compress::default())
            .get(console_asset),
    );
    if widget {
        for name in ["embed.js", "embed.css"] {
            cfg.service(
                web::resource(format!("/{name}"))
                    .wrap(actix_web::middleware::Compress::default())
                    .get(move |req: HttpRequest| async move { widget_asset(&req, name) }),
            );
        }
    }
}

async fn console_asset(req: HttpRequest, name: web::Path<String>) -> HttpResponse {
    match find(&name) {
        Some(asset) if !asset.name.starts_with("embed.") => serve(&req, asset),
        _ => HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("no such asset"),
    }
}

/// The widget's files, which blogs on other origins load: marked as
/// loadable cross-origin, for pages that require it (COEP).
fn widget_asset(req: &HttpRequest, name: &str) -> HttpResponse {
    let Some(asset) = find(name) else {
        return HttpResponse::NotFound().finish();
    };
    let mut answer = serve(req, asset);
    answer.headers_mut().insert(
        header::HeaderName::from_static("cross-origin-resource-policy"),
        header::HeaderValue::from_static("cross-origin"),
    );
    answer
}

fn serve(req: &HttpRequest, asset: &'static Asset) -> HttpResponse {
    // Only a URL naming the current version may be kept for long: an old
    // page asking for an old version gets today's, to be asked again.
    let asked = web::Query::<HashMap<String, String>>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.get("v").cloned());
    let cache = if asked.as_deref() == Some(asset.version.as_str()) {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let etag = format!("\"{}\"", asset.version);
    let unchanged = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut answer = if unchanged {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    answer
        .insert_header((header::CACHE_CONTROL, cache))
        .insert_header((header::ETAG, etag));
    if unchanged {
        return answer.finish();
    }
    answer
        .insert_header((header::CONTENT_TYPE, asset.content_type))
        .body(asset.bytes.as_slice())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asset_urls_carry_their_content_hash() {
        let css = url("console.css");
        assert!(css.starts_with("/admin/assets/console.css?v="), "{css}");
        assert_eq!(css.len(), "/admin/assets/console.css?v=".len() + 12);
        assert_ne!(url("console.css"), url("console.js"));
    }

    #[test]
    fn the_widget_script_names_its_stylesheets_current_version() {
        let js = String::from_utf8(find("embed.js").unwrap().bytes.clone()).unwrap();
        let css = find("embed.css").unwrap();
        assert!(
            js.contains(&format!("/embed.css?v={}'", css.version)),
            "the script must link the stylesheet's current version"
        );
        assert!(!js.contains("__MODERATO_CSS_VERSION__"));
    }
}
