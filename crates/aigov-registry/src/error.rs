//! Errors of the registry.

use aigov_policy::LifecycleStage;

use crate::model::SystemState;

/// Everything a registry operation can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No valid credentials were presented where they are needed.
    #[error("authentication required")]
    Unauthenticated,
    /// The principal may not do this.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The entity does not exist (or is not visible to the principal).
    #[error("{0} not found")]
    NotFound(String),
    /// A field of the request is invalid.
    #[error("invalid {field}: {message}")]
    Invalid {
        /// Field path, e.g. `facts.provider.code`.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// The requested state change is not allowed from the current state.
    #[error("cannot move from {from} to {to}; allowed: {}", allowed_list(.allowed))]
    InvalidTransition {
        /// Current state.
        from: SystemState,
        /// Requested state.
        to: SystemState,
        /// States reachable from `from` by this principal.
        allowed: Vec<SystemState>,
    },
    /// The system cannot leave its lifecycle stage without the evidence its tier requires.
    #[error("stage {} is missing required evidence: {}", stage.as_str(), missing.join(", "))]
    MissingEvidence {
        /// Current stage.
        stage: LifecycleStage,
        /// Evidence kinds missing.
        missing: Vec<String>,
    },
    /// The request conflicts with the current state of the registry.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The storage backend failed.
    #[error("storage failure: {0}")]
    Store(String),
}

fn allowed_list(states: &[SystemState]) -> String {
    if states.is_empty() {
        "none".into()
    } else {
        states
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl Error {
    /// An `Invalid` error.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Result with the registry error.
pub type Result<T> = std::result::Result<T, Error>;
