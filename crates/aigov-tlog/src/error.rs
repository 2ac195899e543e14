//! Errors of the transparency-log crate.

use crate::hash::Hash;

/// Why a proof or a log operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A leaf index is not inside the tree.
    #[error("leaf index {index} is outside a tree of {size} leaves")]
    IndexOutOfRange {
        /// The index.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// The proof has the wrong number of hashes for the sizes given (truncated or padded).
    #[error("the proof has {got} hashes, the sizes given need {want}")]
    ProofLength {
        /// Hashes in the proof.
        got: usize,
        /// Hashes needed.
        want: usize,
    },
    /// A hash is not 32 bytes long.
    #[error("{what} is {len} bytes long, a SHA-256 hash has 32")]
    HashLength {
        /// Which hash.
        what: String,
        /// Its length.
        len: usize,
    },
    /// The proof leads to another root than the one expected.
    #[error("the proof leads to root {calculated}, not to the expected {expected}")]
    RootMismatch {
        /// Root computed from the proof.
        calculated: Hash,
        /// Root expected.
        expected: Hash,
    },
    /// The sizes or indices given cannot describe a valid proof.
    #[error("{0}")]
    Precondition(String),
    /// A signed note or key is malformed or does not verify.
    #[error("signed note: {0}")]
    Note(String),
    /// A checkpoint is malformed.
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    /// A tile path or tile contents are malformed.
    #[error("tile: {0}")]
    Tile(String),
}

/// Result with the log error.
pub type Result<T> = std::result::Result<T, Error>;
