//! The aigov registry: organisations, AI systems and their filings, lifecycle evidence, API
//! tokens and an append-only, hash-chained audit log.
//!
//! The crate holds the domain rules and the service layer. It knows no SQL and no HTTP: storage
//! is reached through the [`store`] traits (implemented by `aigov-store`), and the HTTP server
//! (`aigov-server`) calls the [`service::Registry`]. Time is always passed in.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod audit;
pub mod error;
pub mod filing;
pub mod log;
pub mod model;
pub mod service;
pub mod store;

pub use error::{Error, Result};
pub use filing::FilingNumber;
pub use service::{Config, Registry};
