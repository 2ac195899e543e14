//! Personal and sensitive information in training data and model outputs (TC260 measure 5.3).
//!
//! This first part holds the validators: the check digits and structural rules that turn a
//! candidate match into a confirmed identifier (or drop it). Detection, scanning and redaction
//! build on them.
#![deny(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod validate;
