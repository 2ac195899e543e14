//! One file per container format; each implements [`crate::format::Format`].

pub mod flac;
pub mod gif;
pub mod jpeg;
pub mod mp3;
pub mod mp4;
pub mod ogg;
pub mod pdf;
pub mod png;
pub mod text;
pub mod tiff;
pub mod wav;
pub mod webp;
