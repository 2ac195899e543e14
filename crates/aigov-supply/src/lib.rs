//! AI supply-chain security (measure 5.5 of the TC260 framework).
//!
//! - [`oms`]: OpenSSF model signing v1.0: hashing a model into a manifest, signing and
//!   verifying bundles, interoperable with the reference tool `model_signing`.
//! - [`bom`]: AI bills of materials (CycloneDX 1.6 ML-BOM, SPDX 3.0.1 AI/Dataset) of a model
//!   folder and its Hugging Face model card, and diffs between releases.
//! - [`scan`]: unsafe-serialisation scanner (pickles, PyTorch, NumPy, Keras, safetensors,
//!   GGUF, archives) that never executes what it reads.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod bom;
pub mod oms;
pub mod scan;
