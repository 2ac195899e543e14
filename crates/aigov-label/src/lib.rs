//! Labels for AI-generated content (TC260 measure 5.2; GB 45438-2025; CAC Labelling Measures).
//!
//! - [`gb45438`]: the implicit `AIGC` label's seven fields, strict writer, lenient reader.
//! - [`format`] and [`formats`]: the containers that carry it, one file per format, found by
//!   their leading bytes; each reports its carriers and the *essence* (the bytes a content
//!   digest covers, excluding every metadata carrier) and writes a labelled copy, streaming.
//! - [`xmp`]: the `TC260:AIGC` XMP property.
//! - [`sign`]: producer (`ReservedCode1`) and propagator (`ReservedCode2`) signatures, with the
//!   exact signed bytes.
//! - [`content`]: inspect, label and propagate a file.
//! - [`visible`]: explicit labels: a notice in text, drawn on images, a tone cue in audio.
//! - [`verify`]: the verification report (art. 6 outcome, signers, every check).
//! - `c2pa` (feature `c2pa`, on by default): C2PA manifests signed with the registry
//!   certificate, and their validation.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(feature = "c2pa")]
pub mod c2pa;
pub mod content;
mod error;
pub mod format;
pub mod formats;
pub mod gb45438;
pub mod sign;
pub mod verify;
pub mod visible;
pub mod xmp;

pub use error::{Error, Result};
pub use gb45438::{Aigc, LabelKind, Warning};
