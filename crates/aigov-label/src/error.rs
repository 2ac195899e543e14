//! The library's error type.

/// What went wrong while reading, labelling or verifying content.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The container is not what its bytes claim: a chunk, box or segment is cut short, points
    /// outside the file or breaks the format's rules.
    #[error("{format} at byte {offset}: {message}")]
    Malformed {
        /// Format being read (`png`, `mp4`, …).
        format: &'static str,
        /// Byte offset of the offending structure.
        offset: u64,
        /// What is wrong.
        message: String,
    },
    /// A structure is larger than the configured limit (a hostile or absurd declared size).
    #[error("{format} at byte {offset}: {what} of {size} bytes exceeds the limit of {limit}")]
    TooLarge {
        /// Format being read.
        format: &'static str,
        /// Byte offset of the structure.
        offset: u64,
        /// What was too large.
        what: &'static str,
        /// Declared size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// No supported format matches the file's leading bytes.
    #[error("unsupported file format: {0}")]
    Unsupported(String),
    /// The `AIGC` label itself is malformed or cannot be written as asked.
    #[error("AIGC label: {0}")]
    Label(String),
    /// A key or certificate could not be used.
    #[error("key or certificate: {0}")]
    Key(String),
    /// A signature could not be made or read.
    #[error("signature: {0}")]
    Signature(String),
    /// Image or audio rendering for a visible label failed.
    #[error("visible label: {0}")]
    Render(String),
}

/// Results of this crate.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// A malformed-container error.
    pub fn malformed(format: &'static str, offset: u64, message: impl Into<String>) -> Self {
        Error::Malformed {
            format,
            offset,
            message: message.into(),
        }
    }

    /// A size over a limit: `what`, `size` bytes (or items) at `offset`, `limit` allowed.
    pub fn too_large(
        format: &'static str,
        offset: u64,
        what: &'static str,
        size: u64,
        limit: u64,
    ) -> Self {
        Error::TooLarge {
            format,
            offset,
            what,
            size,
            limit,
        }
    }
}
