//! The one place where errors become HTTP responses.
//!
//! Every error body has the same shape: `{"error": {"code", "message", "field"?, "allowed"?,
//! "missing"?}}`. `code` is stable and machine-readable; 5xx bodies say nothing internal (the
//! log has the details).

use aigov_registry::Error;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

/// Error body of every failed request.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// Details of an error.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code (`invalid_request`, `not_found`, `invalid_transition`, …).
    pub code: String,
    /// Human-readable message.
    pub message: String,
    /// Path of the offending field, when one is to blame.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// States that may be reached instead (invalid transitions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Vec<String>>,
    /// Evidence kinds missing (stage changes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing: Option<Vec<String>>,
}

/// An error that becomes an HTTP response.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    detail: Box<ErrorDetail>,
}

impl ApiError {
    /// A new error.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            detail: Box::new(ErrorDetail {
                code: code.into(),
                message: message.into(),
                field: None,
                allowed: None,
                missing: None,
            }),
        }
    }

    /// A 400 naming the field to blame.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut e = ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", message);
        e.detail.field = Some(field.into());
        e
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let message = e.to_string();
        match e {
            Error::Unauthenticated => {
                ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", message)
            }
            Error::Forbidden(_) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", message),
            Error::NotFound(_) => ApiError::new(StatusCode::NOT_FOUND, "not_found", message),
            Error::Invalid { field, message } => ApiError::invalid(field, message),
            Error::InvalidTransition { allowed, .. } => {
                let mut err = ApiError::new(StatusCode::CONFLICT, "invalid_transition", message);
                err.detail.allowed = Some(allowed.iter().map(|s| s.as_str().to_string()).collect());
                err
            }
            Error::MissingEvidence { missing, .. } => {
                let mut err = ApiError::new(StatusCode::CONFLICT, "missing_evidence", message);
                err.detail.missing = Some(missing);
                err
            }
            Error::Conflict(_) => ApiError::new(StatusCode::CONFLICT, "conflict", message),
            other => {
                tracing::error!(error = %other, "internal error");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error; the server log has the details",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(ErrorBody {
                error: *self.detail,
            }),
        )
            .into_response()
    }
}
