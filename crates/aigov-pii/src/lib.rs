//! Personal and sensitive information in training data and model outputs (TC260 measure 5.3).
//!
//! The core is pure (no IO): [`entity`] names what is found, [`normalize`] maps full-width
//! text to ASCII with an offset map, [`detect`] finds candidates in one multi-pattern pass and
//! confirms them with the [`validate`] functions and context words, [`redact`] applies
//! operators (replace, mask, redact, keyed HMAC, reversible AES-GCM-SIV).
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod detect;
pub mod entity;
pub mod formats;
#[cfg(feature = "io")]
pub mod io;
pub mod normalize;
pub mod redact;
pub mod report;
pub mod validate;

pub use detect::{DenyList, Finding, Scanner, ScannerConfig};
pub use entity::{Entity, EntityType};
