//! Record formats parsed in memory (no IO): JSON lines and CSV/TSV, with raw spans.

pub mod csv;
pub mod json;
