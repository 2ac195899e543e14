//! aigov-label integration tests (one test binary): every container against third-party
//! readers and decoders, and the signing, verification and C2PA pipeline.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod audio;
mod images;
mod mp4pdf;
#[cfg(feature = "c2pa")]
mod pipeline;
mod visible;
