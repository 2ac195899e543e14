//! Classification of AI systems into risk tiers with their obligations.
//!
//! * [`facts`]: the typed fact schema a provider fills in;
//! * [`pack`]: declarative rule packs (TOML, shipped in `rules/`), loaded and linted;
//! * [`expr`]: the condition language of rules and its three-valued evaluation;
//! * [`classify`]: evaluation of all packs as of a date into a tier, obligations, open
//!   questions and an explanation;
//! * [`builtin`]: the packs and tier catalogue shipped with aigov.
//!
//! This crate does no IO and never reads the clock: the caller passes text and dates.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod builtin;
pub mod classify;
pub mod error;
pub mod expr;
pub mod facts;
pub mod pack;
pub mod tier;

#[doc(hidden)]
pub mod examples;

pub use classify::{Classification, ClassificationDiff, Classifier};
pub use error::{Error, Result};
pub use facts::{LifecycleStage, SystemFacts};
pub use pack::{Diagnostic, Pack, PackSet, Severity, load_pack};
pub use tier::{Tier, TierCatalogue};

/// Reads a fact document. `format` is `toml` or `json`; errors name the field path (JSON) or the
/// line and column (TOML).
pub fn parse_facts(text: &str, format: FactFormat) -> Result<SystemFacts> {
    match format {
        FactFormat::Toml => toml::from_str(text).map_err(|e| {
            let path = e.span().map_or_else(
                || "1:1".to_string(),
                |s| {
                    let before = &text[..s.start.min(text.len())];
                    let line = before.matches('\n').count() + 1;
                    let col = before
                        .rfind('\n')
                        .map_or(before.len(), |p| before.len() - p - 1)
                        + 1;
                    format!("line {line}, column {col}")
                },
            );
            Error::Facts {
                path,
                message: e.message().to_string(),
            }
        }),
        FactFormat::Json => {
            let de = &mut serde_json::Deserializer::from_str(text);
            serde_path_to_error::deserialize(de).map_err(|e| {
                let path = e.path().to_string();
                let inner = e.into_inner();
                Error::Facts {
                    path: if path == "." {
                        format!("line {}, column {}", inner.line(), inner.column())
                    } else {
                        path
                    },
                    message: inner.to_string(),
                }
            })
        }
    }
}

/// Format of a fact document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactFormat {
    /// TOML.
    Toml,
    /// JSON.
    Json,
}
