//! The aigov transparency log: RFC 9162 Merkle tree hashing with inclusion and consistency
//! proofs (and their subtree generalisation), verified against the transparency-dev vectors;
//! C2SP signed notes and checkpoints; C2SP tlog-tiles paths and contents; a compact range and
//! proofs over any store of node hashes.
//!
//! This crate does no IO: callers hand it hashes and get proofs or verdicts back.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod checkpoint;
pub mod error;
pub mod hash;
pub mod note;
pub mod rfc9162;
pub mod tile;
pub mod tree;

pub use error::{Error, Result};
pub use hash::{Hash, leaf_hash, node_hash};
