//! Request extractors that turn every malformed input into a precise 400 (or 413).

use aigov_registry::model::Principal;
use aigov_registry::store::Store;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::error::ApiError;

/// A JSON body whose errors name the field path.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Store> FromRequest<AppState<S>> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState<S>) -> Result<Self, ApiError> {
        let json_type = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                let mime = v.split(';').next().unwrap_or("").trim();
                mime == "application/json" || mime.ends_with("+json")
            });
        if !json_type {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "the body must be JSON (Content-Type: application/json)",
            ));
        }
        let RawBody(bytes) = RawBody::from_request(req, state).await?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// A raw body whose rejections (too large, broken stream) are JSON errors like every other.
pub struct RawBody(pub Bytes);

impl<S: Store> FromRequest<AppState<S>> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState<S>) -> Result<Self, ApiError> {
        Bytes::from_request(req, state)
            .await
            .map(RawBody)
            .map_err(|e: BytesRejection| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "payload_too_large",
                        format!(
                            "the body is larger than the limit ({} bytes for JSON, {} for uploads)",
                            state.config.max_body, state.config.max_upload
                        ),
                    )
                } else {
                    ApiError::new(e.status(), "bad_body", e.body_text())
                }
            })
    }
}

/// Parses JSON bytes, naming the field path of any error.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let field = if path == "." {
            "body".to_string()
        } else {
            path
        };
        let msg = match inner.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                format!(
                    "malformed JSON at line {}, column {}: {inner}",
                    inner.line(),
                    inner.column()
                )
            }
            _ => inner.to_string(),
        };
        ApiError::invalid(field, msg)
    })
}

/// Query parameters whose errors are reported as 400 with the offending parameter.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(ApiQuery)
            .map_err(|e| {
                let path = e.path().to_string();
                ApiError::invalid(
                    if path == "." {
                        "query".to_string()
                    } else {
                        path
                    },
                    format!("invalid query: {}", e.into_inner()),
                )
            })
    }
}

/// The caller: anonymous without an `Authorization` header, else the token's principal.
pub struct Auth(pub Principal);

impl<S: Store> FromRequestParts<AppState<S>> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState<S>) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get(AUTHORIZATION) else {
            return Ok(Auth(Principal::anonymous()));
        };
        let secret = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthenticated",
                    "the Authorization header must be 'Bearer <token>'",
                )
            })?;
        Ok(Auth(state.registry.authenticate(Some(secret)).await?))
    }
}
