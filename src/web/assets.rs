//! The console's stylesheet, script and icon, compiled into the binary.
//! Pages link them with a hash of their content in the URL, so a browser
//! may keep them for a year and still fetches a new version at once.

use std::collections::HashMap;
use std::sync::LazyLock;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};

struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "console.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("assets/console.css"),
    },
    Asset {
        name: "console.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("assets/console.js"),
    },
    Asset {
        name: "icon.svg",
        content_type: "image/svg+xml",
        bytes: include_bytes!("assets/icon.svg"),
    },
];

/// Each asset's content hash (12 hex digits of SHA-256), by name.
static VERSIONS: LazyLock<HashMap<&'static str, String>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|a| (a.name, hex::encode(&Sha256::digest(a.bytes)[..6])))
        .collect()
});

/// The URL pages link an asset by: its path and content hash.
pub fn url(name: &str) -> String {
    match VERSIONS.get(name) {
        Some(version) => format!("/admin/assets/{name}?v={version}"),
        None => format!("/admin/assets/{name}"),
    }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    // Gzipped for browsers that ask. Pages are not: they carry the CSRF
    // token beside text a visitor may choose (a search), which compression
    // could leak by length (BREACH); the assets hold no secret.
    cfg.service(
        web::resource("/admin/assets/{name}")
            .wrap(actix_web::middleware::Compress::default())
            .get(serve),
    );
}

async fn serve(req: HttpRequest, name: web::Path<String>) -> HttpResponse {
    let Some(asset) = ASSETS.iter().find(|a| a.name == name.as_str()) else {
        return HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("no such asset");
    };
    // Only a URL naming the current version may be kept for long: an old
    // page asking for an old version gets today's, to be asked again.
    let current = VERSIONS.get(asset.name).map(String::as_str);
    let asked = web::Query::<HashMap<String, String>>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.get("v").cloned());
    let cache = if asked.as_deref() == current {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, asset.content_type))
        .insert_header((header::CACHE_CONTROL, cache))
        .body(asset.bytes)
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
}
