//! The container formats that carry an `AIGC` label, behind one trait, registered in one table
//! ([`FORMATS`]): adding a format is adding a file under `formats/` and a line in the table.
//!
//! A format does two things, both streaming (never the whole file in memory):
//! - [`Format::layout`] finds the label carriers and the byte ranges of the *essence*: the bytes
//!   the content digest covers. The essence excludes every metadata carrier (XMP, text chunks,
//!   ID3 tags, Vorbis comments, C2PA stores, …) so that writing or updating a label, or adding a
//!   C2PA manifest, leaves the digest unchanged.
//! - [`Format::write`] copies the file with the `AIGC` label set in the format's primary
//!   carrier, replacing the one there, leaving the essence bytes identical.

use std::io::{Read, Seek, SeekFrom, Write};
use std::ops::Range;

use crate::{Error, Result};

/// Anything a format reads from.
pub trait Source: Read + Seek {}
impl<T: Read + Seek + ?Sized> Source for T {}

/// Bounds on what a hostile file can make a reader do.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest metadata structure read into memory (a carrier, a header, a box that must be
    /// rewritten such as `moov`).
    pub max_metadata: u64,
    /// Most structures (chunks, boxes, segments, pages) walked in one file.
    pub max_structures: usize,
    /// Deepest nesting of containers.
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_metadata: 64 * 1024 * 1024,
            max_structures: 1_000_000,
            max_depth: 32,
        }
    }
}

/// A label carrier found in a file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Carrier {
    /// Where it was found, e.g. `png:iTXt:XMP`, `png:tEXt:AIGC`, `jpeg:APP1:EXIF:UserComment`.
    pub kind: String,
    /// Whether this is the carrier aigov writes for the format (others are read only).
    pub primary: bool,
    /// The label text as found (JSON, unescaped from the carrier's own encoding).
    pub text: String,
}

/// What [`Format::layout`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layout {
    /// Label carriers, in file order.
    pub carriers: Vec<Carrier>,
    /// Byte ranges of the essence, in file order, non-overlapping.
    pub essence: Vec<Range<u64>>,
    /// A short description of the content's shape that survives relabelling and tells
    /// copies apart from edits: `1024x768` for images, `44100Hz/2ch` for audio, and so on.
    pub shape: String,
    /// Whether a C2PA manifest store is present.
    pub has_c2pa: bool,
}

/// One container format.
pub trait Format: Sync {
    /// Short name (`png`).
    fn name(&self) -> &'static str;
    /// IANA media type (`image/png`).
    fn media_type(&self) -> &'static str;
    /// Whether the file's first bytes (up to 64) are this format's.
    fn detect(&self, head: &[u8]) -> bool;
    /// Finds the carriers and the essence.
    fn layout(&self, src: &mut dyn Source, limits: &Limits) -> Result<Layout>;
    /// Whether [`Format::write`] stores the label's printable-ASCII values byte for byte and no
    /// checksum covers them, so that a value of the same length can be patched in place in
    /// the written file (PNG chunks and Ogg pages carry CRCs: not patchable).
    fn patchable(&self) -> bool {
        false
    }
    /// Copies `src` to `dst` with `json` as the label in the primary carrier.
    fn write(
        &self,
        src: &mut dyn Source,
        dst: &mut dyn Write,
        json: &str,
        limits: &Limits,
    ) -> Result<()>;
    /// What [`Format::write`] writes, as new bytes and ranges of `src` copied unchanged, for
    /// formats whose labelled copy is mostly the source's bytes in order (MP4: everything
    /// but `moov`). File-to-file labelling copies those ranges inside the kernel
    /// (`copy_file_range`) instead of through memory. `None`: the format has no plan.
    fn plan(
        &self,
        src: &mut dyn Source,
        json: &str,
        limits: &Limits,
    ) -> Result<Option<Vec<Piece>>> {
        let _ = (src, json, limits);
        Ok(None)
    }
}

/// A part of a labelled copy (see [`Format::plan`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// New bytes.
    Bytes(Vec<u8>),
    /// A range of the source, copied unchanged.
    Copy(Range<u64>),
}

/// Appends a piece to a plan, merging adjacent copies.
pub fn push_piece(plan: &mut Vec<Piece>, piece: Piece) {
    if let (Some(Piece::Copy(last)), Piece::Copy(r)) = (plan.last_mut(), &piece)
        && last.end == r.start
    {
        last.end = r.end;
        return;
    }
    plan.push(piece);
}

/// Writes a plan through `dst` (the streaming route, for any writer).
pub fn write_plan(
    src: &mut dyn Source,
    dst: &mut dyn Write,
    format: &'static str,
    plan: &[Piece],
) -> Result<()> {
    for piece in plan {
        match piece {
            Piece::Bytes(b) => dst.write_all(b)?,
            Piece::Copy(r) => copy_range(src, dst, format, r.clone())?,
        }
    }
    Ok(())
}

/// Writes a plan from one file into another, at `dst`'s current position: new bytes with one
/// write each, copied ranges inside the kernel (`std::io::copy` between files uses
/// `copy_file_range` where the system has it). Returns the offsets (from where writing began)
/// at which `needle` occurs in the new bytes.
pub fn write_plan_file(
    src: &std::fs::File,
    dst: &std::fs::File,
    format: &'static str,
    plan: &[Piece],
    needle: &[u8],
) -> Result<Vec<u64>> {
    let (mut src, mut dst) = (src, dst);
    let mut pos = 0u64;
    let mut found = Vec::new();
    for piece in plan {
        match piece {
            Piece::Bytes(b) => {
                if !needle.is_empty() {
                    found.extend(memchr::memmem::find_iter(b, needle).map(|i| pos + i as u64));
                }
                dst.write_all(b)?;
                pos += b.len() as u64;
            }
            Piece::Copy(r) => {
                let want = r.end.saturating_sub(r.start);
                src.seek(SeekFrom::Start(r.start))?;
                let got = std::io::copy(&mut Read::take(src, want), &mut dst)?;
                if got < want {
                    return Err(Error::malformed(
                        format,
                        r.start + got,
                        "file ends inside a structure (did it shrink while being copied?)",
                    ));
                }
                pos += want;
            }
        }
    }
    Ok(found)
}

impl std::fmt::Debug for dyn Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Every supported format, most specific magic first (plain text last: it is the fallback).
pub static FORMATS: &[&dyn Format] = &[
    &crate::formats::png::Png,
    &crate::formats::jpeg::Jpeg,
    &crate::formats::webp::Webp,
    &crate::formats::gif::Gif,
    &crate::formats::tiff::Tiff,
    &crate::formats::flac::Flac,
    &crate::formats::wav::Wav,
    &crate::formats::ogg::Ogg,
    &crate::formats::mp4::Mp4,
    &crate::formats::pdf::Pdf,
    // After every format with a proper signature: an MPEG frame sync is a weak signal.
    &crate::formats::mp3::Mp3,
    &crate::formats::text::Text,
];

/// The format of a file, by its leading bytes.
pub fn detect(src: &mut dyn Source) -> Result<&'static dyn Format> {
    let mut head = [0u8; 64];
    src.seek(SeekFrom::Start(0))?;
    let n = read_up_to(src, &mut head)?;
    src.seek(SeekFrom::Start(0))?;
    // An ID3v2 tag (a C2PA manifest, say) can push FLAC's signature past the window.
    if n >= 10 && head.starts_with(b"ID3") {
        let size = head[6..10]
            .iter()
            .fold(0u64, |a, b| (a << 7) | u64::from(b & 0x7f));
        let footer = if head[5] & 0x10 != 0 { 10 } else { 0 };
        let mut magic = [0u8; 4];
        src.seek(SeekFrom::Start(10 + size + footer))?;
        let m = read_up_to(src, &mut magic)?;
        src.seek(SeekFrom::Start(0))?;
        if m == 4 && &magic == b"fLaC" {
            return Ok(&crate::formats::flac::Flac);
        }
    }
    FORMATS
        .iter()
        .copied()
        .find(|f| f.detect(&head[..n]))
        .ok_or_else(|| {
            Error::Unsupported(format!(
                "leading bytes {} match no supported format",
                hex::encode(&head[..n.min(16)])
            ))
        })
}

/// The format with this short name.
pub fn by_name(name: &str) -> Option<&'static dyn Format> {
    FORMATS.iter().copied().find(|f| f.name() == name)
}

/// Reads until `buf` is full or the source ends; returns how much was read.
pub fn read_up_to(src: &mut dyn Source, buf: &mut [u8]) -> Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match src.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(n)
}

/// The length of a source.
pub fn len(src: &mut dyn Source) -> Result<u64> {
    Ok(src.seek(SeekFrom::End(0))?)
}

/// Reads exactly `len` bytes at `offset`, refusing lengths above `limit` and reads past the end
/// (both named with `format` and `what`).
pub fn read_at(
    src: &mut dyn Source,
    format: &'static str,
    what: &'static str,
    offset: u64,
    len: u64,
    limit: u64,
) -> Result<Vec<u8>> {
    if len > limit {
        return Err(Error::too_large(format, offset, what, len, limit));
    }
    src.seek(SeekFrom::Start(offset))?;
    let mut buf = Vec::new();
    src.take(len).read_to_end(&mut buf)?;
    if (buf.len() as u64) < len {
        return Err(Error::malformed(
            format,
            offset,
            format!("{what} of {len} bytes is cut short at the end of the file"),
        ));
    }
    Ok(buf)
}

/// Copies the bytes of `range` from `src` to `dst`.
pub fn copy_range(
    src: &mut dyn Source,
    dst: &mut dyn Write,
    format: &'static str,
    range: Range<u64>,
) -> Result<()> {
    src.seek(SeekFrom::Start(range.start))?;
    let want = range.end.saturating_sub(range.start);
    // Large reads and writes: media payloads are copied at the speed of the disk, not in
    // `io::copy`'s 8 KiB steps through two trait objects.
    let mut small = [0u8; 16 * 1024];
    let mut large = Vec::new();
    let buf: &mut [u8] = if want > small.len() as u64 {
        large.resize(
            COPY_BUFFER.min(usize::try_from(want).unwrap_or(COPY_BUFFER)),
            0,
        );
        &mut large
    } else {
        &mut small
    };
    let mut got = 0u64;
    while got < want {
        let n = usize::try_from((want - got).min(buf.len() as u64)).unwrap_or(buf.len());
        let k = match src.read(&mut buf[..n]) {
            Ok(0) => break,
            Ok(k) => k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        dst.write_all(&buf[..k])?;
        got += k as u64;
    }
    if got < want {
        return Err(Error::malformed(
            format,
            range.start + got,
            "file ends inside a structure",
        ));
    }
    Ok(())
}

/// Buffer size of [`copy_range`] for large ranges.
const COPY_BUFFER: usize = 1024 * 1024;

/// Appends `r` to `ranges`, merging it with the last range when they touch.
pub fn push_range(ranges: &mut Vec<Range<u64>>, r: Range<u64>) {
    if r.is_empty() {
        return;
    }
    match ranges.last_mut() {
        Some(last) if last.end == r.start => last.end = r.end,
        _ => ranges.push(r),
    }
}

/// Counts structures against [`Limits::max_structures`].
pub struct Counter {
    n: usize,
    max: usize,
    format: &'static str,
}

impl Counter {
    /// A counter for `format`.
    pub fn new(format: &'static str, limits: &Limits) -> Self {
        Counter {
            n: 0,
            max: limits.max_structures,
            format,
        }
    }

    /// Counts one more structure at `offset`.
    pub fn tick(&mut self, offset: u64) -> Result<()> {
        self.n += 1;
        if self.n > self.max {
            return Err(Error::too_large(
                self.format,
                offset,
                "number of structures",
                self.n as u64,
                self.max as u64,
            ));
        }
        Ok(())
    }
}
