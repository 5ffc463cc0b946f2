//! Static assets built into the binary: stylesheets, scripts and the vendored Leaflet.
//!
//! Pages link each asset with a `?v=` content hash, so browsers may keep it for a year and
//! still fetch the new file after an upgrade.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::http::ApiError;

/// One embedded file.
struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        path: "style.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("static/style.css"),
    },
    Asset {
        path: "search.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("static/search.js"),
    },
    Asset {
        path: "widget-frame.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("static/widget-frame.css"),
    },
    Asset {
        path: "favicon.svg",
        content_type: "image/svg+xml",
        body: include_bytes!("static/favicon.svg"),
    },
    // Leaflet 1.9.4 (BSD-2-Clause, see static/leaflet/LICENSE.txt), unmodified.
    Asset {
        path: "leaflet/leaflet.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("static/leaflet/leaflet.js"),
    },
    Asset {
        path: "leaflet/leaflet.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("static/leaflet/leaflet.css"),
    },
    Asset {
        path: "leaflet/LICENSE.txt",
        content_type: "text/plain; charset=utf-8",
        body: include_bytes!("static/leaflet/LICENSE.txt"),
    },
];

/// The widget script, served at a fixed URL that host pages copy into their HTML.
const WIDGET_SCRIPT: &[u8] = include_bytes!("static/widget.js");

/// How long browsers keep a versioned asset: a year, because its URL changes with it.
const VERSIONED_CACHE_CONTROL: &str = "public, max-age=31536000, immutable";
/// How long browsers keep the widget script, whose URL never changes: an hour.
const WIDGET_CACHE_CONTROL: &str = "public, max-age=3600";

/// Content hash of every asset, computed once.
static VERSIONS: LazyLock<Vec<String>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|asset| format!("{:08x}", crate::normalize::fnv1a(asset.body) as u32))
        .collect()
});

/// The URL of an asset with its content version, for links in pages.
pub fn url(path: &str) -> String {
    match ASSETS.iter().position(|asset| asset.path == path) {
        Some(position) => format!("/static/{path}?v={}", VERSIONS[position]),
        None => format!("/static/{path}"),
    }
}

pub async fn static_asset(Path(path): Path<String>) -> Result<Response, ApiError> {
    let asset = ASSETS
        .iter()
        .find(|asset| asset.path == path)
        .ok_or_else(|| ApiError::not_found(format!("no static file {path:?}")))?;
    Ok(file_response(
        asset.content_type,
        asset.body,
        VERSIONED_CACHE_CONTROL,
    ))
}

pub async fn widget_script() -> Response {
    file_response(
        "text/javascript; charset=utf-8",
        WIDGET_SCRIPT,
        WIDGET_CACHE_CONTROL,
    )
}

fn file_response(
    content_type: &'static str,
    body: &'static [u8],
    cache_control: &'static str,
) -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static(cache_control),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            // Host pages on any origin load the widget script.
            (
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            ),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asset_urls_carry_a_version() {
        let link = url("style.css");

        assert!(link.starts_with("/static/style.css?v="), "{link}");
        assert_eq!(link.len(), "/static/style.css?v=".len() + 8);
    }
}
