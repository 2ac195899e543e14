//! Errors of the policy crate.

use crate::pack::Diagnostic;

/// Everything that can go wrong when loading packs or classifying.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A rule pack is invalid (the first problem; lint the pack for all of them).
    #[error("invalid rule pack: {0}")]
    Pack(Diagnostic),
    /// The tier catalogue is invalid.
    #[error("invalid tier catalogue: {0}")]
    Catalogue(String),
    /// A parameter override names no parameter, or its value does not fit the rules.
    #[error("invalid rule-pack parameter {0}")]
    UnknownParam(String),
    /// A fact document could not be read.
    #[error("invalid facts at {path}: {message}")]
    Facts {
        /// Field path (`functions[2]`, `provider.code`) or `line:col`.
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// Result with the policy error.
pub type Result<T> = std::result::Result<T, Error>;
