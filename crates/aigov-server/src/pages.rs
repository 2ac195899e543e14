//! Public web pages: `GET /verify`, where anyone checks whether a file is AI-generated and by
//! whom (TC260 measure 5.2; GB 45438 art. 6 outcomes). The page is static; its script sends
//! the file to `POST /v1/labels/verify` and renders the answer as text. A strict content
//! security policy allows only this server's own script and style, and no inline code, so
//! label fields shown on the page can never run as script.

use axum::http::header;
use axum::response::{IntoResponse, Response};

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
                   img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

fn page(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}

/// `GET /verify`: the public verification page.
pub async fn verify() -> Response {
    page(
        "text/html; charset=utf-8",
        include_str!("../web/verify.html"),
    )
}

/// `GET /assets/verify.js`: its script.
pub async fn verify_js() -> Response {
    page(
        "text/javascript; charset=utf-8",
        include_str!("../web/verify.js"),
    )
}

/// `GET /assets/verify.css`: its style sheet.
pub async fn verify_css() -> Response {
    page("text/css; charset=utf-8", include_str!("../web/verify.css"))
}
