//! Persistence for the aigov registry.
//!
//! [`SqliteStore`] is the embedded default: one SQLite file in a data folder, in WAL mode, with a
//! pool of readers and a single serialised writer (`BEGIN IMMEDIATE`), so that a write
//! transaction never fails half-way because another writer got in first. All SQL of aigov lives
//! in this crate; the registry reaches it through `aigov_registry::store`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod migrate;
mod sqlite;

pub use sqlite::{SqliteStore, SqliteTx};

/// The registry's error for a storage failure.
pub(crate) fn store_err(e: impl std::fmt::Display) -> aigov_registry::Error {
    aigov_registry::Error::Store(e.to_string())
}
