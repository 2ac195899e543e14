//! MP3 (MPEG-1/2/2.5 audio, layers I–III) with ID3 tags.
//!
//! Carriers:
//! - primary: an ID3v2 `TXXX` frame whose description is `AIGC` in the ID3v2 tag at the start
//!   of the file (read from ID3v2.3 and 2.4 tags, and `TXX` in 2.2 tags);
//! - read only: the same frame in further ID3v2 tags that follow the first one, and in an
//!   ID3v2.4 tag appended at the end of the file (found by its `3DI` footer).
//!
//! Reading handles tag-level unsynchronisation (v2.3: the whole tag; v2.4: every frame),
//! per-frame unsynchronisation, grouping bytes and data length indicators (v2.4), extended
//! headers, syncsafe frame sizes in v2.4 (with a fallback to plain sizes for the iTunes bug)
//! and plain sizes in v2.3, and text encodings 0–3. Compressed or encrypted frames are skipped.
//!
//! Writing: when the file starts with an ID3v2.3 or 2.4 tag, that tag is rebuilt in the same
//! version with every frame kept (in order, payload unchanged) and the `TXXX:AIGC` frame
//! replaced (or added at the end); unsynchronisation is undone (v2.3) or moved into the frame
//! flags (v2.4), and the extended header (whose CRC would be stale), the footer and the padding
//! are dropped. Otherwise a new ID3v2.4 tag holding only the label is put in front. The rest of
//! the file is copied unchanged. A leading ID3v2.2 tag is refused (its frames would need
//! converting).
//!
//! Essence: the bytes after the leading ID3v2 tag(s), up to any trailing ID3v1 `TAG` (the last
//! 128 bytes), APEv2 tag (found by its `APETAGEX` footer) and appended ID3v2 tag. Shape:
//! `<rate>Hz/<channels>ch` from the first MPEG audio frame header.
//!
//! Limits: Lyrics3 tags and other trailers are not recognised (they stay in the essence); an
//! MP3 stream is not walked frame by frame, so a file cut inside the audio still reads.

use std::borrow::Cow;
use std::io::Write;
use std::ops::Range;

use crate::format::{
    Carrier, Counter, Format, Layout, Limits, Source, copy_range, len, push_range, read_at,
    read_up_to,
};
use crate::{Error, Result};

const NAME: &str = "mp3";

/// The `TXXX` description of the label.
const KEY: &str = "AIGC";

/// How far past the tags a first MPEG frame header is looked for.
const FRAME_SCAN: u64 = 64 * 1024;

/// Largest ID3v2 tag body (a 28-bit syncsafe size).
const MAX_ID3_BODY: usize = (1 << 28) - 1;

/// The MP3 format.
pub struct Mp3;

// ---------------------------------------------------------------------------------------------
// ID3v2 (shared with the WAV `id3 ` chunk and the FLAC ID3v2 prefix)
// ---------------------------------------------------------------------------------------------

/// A parsed ID3v2 tag header (the first 10 bytes of a tag).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Id3Header {
    /// Major version: 2, 3 or 4.
    pub major: u8,
    /// Revision.
    pub revision: u8,
    /// Header flags.
    pub flags: u8,
    /// Size of the tag after the header, excluding a footer.
    pub size: u32,
}

impl Id3Header {
    /// Parses a tag header; `None` when `b` does not start with `ID3`; an error when it does but
    /// the header is invalid.
    pub(crate) fn parse(b: &[u8], format: &'static str, offset: u64) -> Result<Option<Id3Header>> {
        if b.len() < 3 || &b[..3] != b"ID3" {
            return Ok(None);
        }
        if b.len() < 10 {
            return Err(Error::malformed(
                format,
                offset,
                "ID3v2 tag header cut short at the end of the file",
            ));
        }
        let major = b[3];
        if !(2..=4).contains(&major) || b[4] == 0xFF {
            return Err(Error::malformed(
                format,
                offset,
                format!("ID3v2 tag has unknown version 2.{}.{}", major, b[4]),
            ));
        }
        let size = syncsafe(&b[6..10]).ok_or_else(|| {
            Error::malformed(format, offset, "ID3v2 tag size is not a syncsafe integer")
        })?;
        Ok(Some(Id3Header {
            major,
            revision: b[4],
            flags: b[5],
            size,
        }))
    }

    /// Length of the whole tag: header, body and footer.
    pub(crate) fn total_len(&self) -> u64 {
        let footer = if self.major == 4 && self.flags & 0x10 != 0 {
            10
        } else {
            0
        };
        10 + u64::from(self.size) + footer
    }

    fn unsync(&self) -> bool {
        self.flags & 0x80 != 0
    }
}

/// A 28-bit syncsafe integer, `None` when a byte has its top bit set.
fn syncsafe(b: &[u8]) -> Option<u32> {
    let mut v = 0u32;
    for &x in b.iter().take(4) {
        if x & 0x80 != 0 {
            return None;
        }
        v = (v << 7) | u32::from(x);
    }
    Some(v)
}

fn syncsafe_bytes(v: usize) -> [u8; 4] {
    [
        ((v >> 21) & 0x7F) as u8,
        ((v >> 14) & 0x7F) as u8,
        ((v >> 7) & 0x7F) as u8,
        (v & 0x7F) as u8,
    ]
}

fn be_u32(b: &[u8]) -> u32 {
    b.iter().take(4).fold(0u32, |v, &x| (v << 8) | u32::from(x))
}

/// Undoes unsynchronisation: every `FF 00` becomes `FF`.
fn deunsync(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len());
    let mut prev_ff = false;
    for &x in b {
        if prev_ff && x == 0 {
            prev_ff = false;
            continue;
        }
        out.push(x);
        prev_ff = x == 0xFF;
    }
    out
}

/// One frame of a tag: positions in [`Id3Tag::buf`].
#[derive(Debug, Clone)]
struct Id3Frame {
    id: [u8; 4],
    flags: [u8; 2],
    data: Range<usize>,
}

/// A parsed ID3v2 tag.
#[derive(Debug, Clone)]
pub(crate) struct Id3Tag {
    /// The tag header.
    pub header: Id3Header,
    /// The frames area: the tag body after the extended header, unsynchronisation undone for
    /// v2.2/2.3 tags.
    buf: Vec<u8>,
    frames: Vec<Id3Frame>,
}

/// Result of one frame walk.
struct Walk {
    frames: Vec<Id3Frame>,
    /// The walk ended at the end of the buffer or at zero padding.
    clean: bool,
    /// A frame ran past the end of the tag: (position, message).
    overflow: Option<(usize, String)>,
}

fn walk_frames(
    buf: &[u8],
    major: u8,
    plain_sizes: bool,
    counter: &mut Counter,
    offset: u64,
) -> Result<Walk> {
    let (id_len, hdr_len) = if major == 2 { (3, 6) } else { (4, 10) };
    let mut frames = Vec::new();
    let mut pos = 0usize;
    loop {
        if pos + hdr_len > buf.len() {
            let clean = buf[pos.min(buf.len())..].iter().all(|&b| b == 0);
            return Ok(Walk {
                frames,
                clean,
                overflow: None,
            });
        }
        let idb = &buf[pos..pos + id_len];
        if idb[0] == 0 {
            let clean = buf[pos..].iter().all(|&b| b == 0);
            return Ok(Walk {
                frames,
                clean,
                overflow: None,
            });
        }
        if !idb
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        {
            return Ok(Walk {
                frames,
                clean: false,
                overflow: None,
            });
        }
        counter.tick(offset + pos as u64)?;
        let size = match major {
            2 => {
                (usize::from(buf[pos + 3]) << 16)
                    | (usize::from(buf[pos + 4]) << 8)
                    | usize::from(buf[pos + 5])
            }
            3 => be_u32(&buf[pos + 4..pos + 8]) as usize,
            _ => {
                let raw = &buf[pos + 4..pos + 8];
                match syncsafe(raw) {
                    Some(v) if !plain_sizes => v as usize,
                    _ => be_u32(raw) as usize,
                }
            }
        };
        let mut id = [0u8; 4];
        id[..id_len].copy_from_slice(idb);
        let flags = if major == 2 {
            [0, 0]
        } else {
            [buf[pos + 8], buf[pos + 9]]
        };
        let start = pos + hdr_len;
        let end = match start.checked_add(size) {
            Some(e) if e <= buf.len() => e,
            _ => {
                return Ok(Walk {
                    frames,
                    clean: false,
                    overflow: Some((
                        pos,
                        format!(
                            "ID3v2 frame {} of {} bytes runs past the end of the tag",
                            String::from_utf8_lossy(idb),
                            size
                        ),
                    )),
                });
            }
        };
        frames.push(Id3Frame {
            id,
            flags,
            data: start..end,
        });
        pos = end;
    }
}

impl Id3Tag {
    /// Parses a whole tag (`bytes` starts with its header and holds at least
    /// [`Id3Header::total_len`] bytes), found at `offset` of a file of `format`.
    pub(crate) fn parse(
        bytes: &[u8],
        format: &'static str,
        offset: u64,
        limits: &Limits,
    ) -> Result<Id3Tag> {
        let header = Id3Header::parse(bytes, format, offset)?
            .ok_or_else(|| Error::malformed(format, offset, "expected an ID3v2 tag"))?;
        let body_end = 10 + header.size as usize;
        if bytes.len() < body_end {
            return Err(Error::malformed(
                format,
                offset,
                format!(
                    "ID3v2 tag of {} bytes is cut short at the end of the file",
                    header.size
                ),
            ));
        }
        let body = &bytes[10..body_end];
        let mut buf = if header.major <= 3 && header.unsync() {
            deunsync(body)
        } else {
            body.to_vec()
        };
        let mut counter = Counter::new(format, limits);
        if header.major == 2 && header.flags & 0x40 != 0 {
            // ID3v2.2 "compression": no scheme was ever defined; the tag is to be ignored.
            buf.clear();
        } else if header.flags & 0x40 != 0 {
            let ext = if header.major == 3 {
                if buf.len() < 4 {
                    None
                } else {
                    (be_u32(&buf[..4]) as usize).checked_add(4)
                }
            } else {
                buf.get(..4).and_then(syncsafe).map(|v| v as usize)
            };
            match ext {
                Some(n) if n >= 6 && n <= buf.len() => {
                    buf.drain(..n);
                }
                _ => {
                    return Err(Error::malformed(
                        format,
                        offset + 10,
                        "ID3v2 extended header size is invalid",
                    ));
                }
            }
        }
        let base = offset + 10;
        let mut walk = walk_frames(&buf, header.major, false, &mut counter, base)?;
        if header.major == 4 && !walk.clean {
            // iTunes wrote plain 32-bit frame sizes into v2.4 tags: take them when they fit.
            let plain = walk_frames(&buf, 4, true, &mut counter, base)?;
            if plain.clean {
                walk = plain;
            }
        }
        if let Some((pos, msg)) = walk.overflow {
            return Err(Error::malformed(format, base + pos as u64, msg));
        }
        Ok(Id3Tag {
            header,
            buf,
            frames: walk.frames,
        })
    }

    /// A frame's payload with grouping bytes, data length indicator and unsynchronisation
    /// removed; `None` for compressed or encrypted frames.
    fn payload(&self, f: &Id3Frame) -> Option<Cow<'_, [u8]>> {
        let data = &self.buf[f.data.clone()];
        match self.header.major {
            2 => Some(Cow::Borrowed(data)),
            3 => {
                let fmt = f.flags[1];
                if fmt & 0xC0 != 0 {
                    return None;
                }
                let skip = if fmt & 0x20 != 0 { 1 } else { 0 };
                data.get(skip..).map(Cow::Borrowed)
            }
            _ => {
                let fmt = f.flags[1];
                if fmt & 0x0C != 0 {
                    return None;
                }
                let mut skip = 0;
                if fmt & 0x40 != 0 {
                    skip += 1;
                }
                if fmt & 0x01 != 0 {
                    skip += 4;
                }
                let d = data.get(skip..)?;
                if fmt & 0x02 != 0 || self.header.unsync() {
                    Some(Cow::Owned(deunsync(d)))
                } else {
                    Some(Cow::Borrowed(d))
                }
            }
        }
    }

    fn is_txxx(&self, f: &Id3Frame) -> bool {
        if self.header.major == 2 {
            &f.id[..3] == b"TXX"
        } else {
            &f.id == b"TXXX"
        }
    }

    /// The `(description, value)` of a user text frame.
    fn user_text(&self, f: &Id3Frame) -> Option<(String, String)> {
        if !self.is_txxx(f) {
            return None;
        }
        let p = self.payload(f)?;
        let (&enc, rest) = p.split_first()?;
        let (desc, value) = split_terminated(enc, rest)?;
        let value = first_value(enc, value);
        Some((decode_text(enc, desc)?, decode_text(enc, value)?))
    }

    fn is_label(&self, f: &Id3Frame) -> bool {
        self.user_text(f)
            .is_some_and(|(d, _)| d.eq_ignore_ascii_case(KEY))
    }

    /// The values of every `TXXX:AIGC` frame, in tag order.
    pub(crate) fn labels(&self) -> Vec<String> {
        self.frames
            .iter()
            .filter_map(|f| self.user_text(f))
            .filter(|(d, _)| d.eq_ignore_ascii_case(KEY))
            .map(|(_, v)| v)
            .collect()
    }

    /// Whether a `GEOB` frame holds a C2PA manifest store (MIME type naming `c2pa`).
    pub(crate) fn has_c2pa(&self) -> bool {
        let geob: &[u8] = if self.header.major == 2 {
            b"GEO"
        } else {
            b"GEOB"
        };
        self.frames.iter().any(|f| {
            if &f.id[..geob.len()] != geob {
                return false;
            }
            let Some(p) = self.payload(f) else {
                return false;
            };
            let mime = p.get(1..).unwrap_or_default();
            let end = mime.iter().position(|&b| b == 0).unwrap_or(mime.len());
            mime[..end]
                .to_ascii_lowercase()
                .windows(4)
                .any(|w| w == b"c2pa")
        })
    }

    /// The tag rebuilt with `json` as the only `TXXX:AIGC` frame (v2.3 and v2.4 only).
    pub(crate) fn rewrite(&self, json: &str, format: &'static str) -> Result<Vec<u8>> {
        let major = self.header.major;
        if major == 2 {
            return Err(Error::Unsupported(format!(
                "{format}: the file has an ID3v2.2 tag; convert it to ID3v2.3 or 2.4 first"
            )));
        }
        let label = label_frame(json, major);
        let mut body = Vec::new();
        let mut placed = false;
        for f in &self.frames {
            if self.is_label(f) {
                if !placed {
                    body.extend_from_slice(&label);
                    placed = true;
                }
                continue;
            }
            let data = &self.buf[f.data.clone()];
            let mut flags = f.flags;
            body.extend_from_slice(&f.id);
            if major == 4 {
                if self.header.unsync() {
                    // The tag flag said every frame is unsynchronised: say it per frame.
                    flags[1] |= 0x02;
                }
                body.extend_from_slice(&syncsafe_bytes(data.len()));
            } else {
                body.extend_from_slice(&(data.len() as u32).to_be_bytes());
            }
            body.extend_from_slice(&flags);
            body.extend_from_slice(data);
        }
        if !placed {
            body.extend_from_slice(&label);
        }
        tag_bytes(
            major,
            self.header.revision,
            self.header.flags & 0x20,
            &body,
            format,
        )
    }
}

/// A new ID3v2.4 tag holding only the label.
pub(crate) fn new_tag(json: &str, format: &'static str) -> Result<Vec<u8>> {
    tag_bytes(4, 0, 0, &label_frame(json, 4), format)
}

fn tag_bytes(
    major: u8,
    revision: u8,
    flags: u8,
    body: &[u8],
    format: &'static str,
) -> Result<Vec<u8>> {
    if body.len() > MAX_ID3_BODY {
        return Err(Error::Label(format!(
            "{format}: the ID3v2 tag would be {} bytes, more than an ID3v2 tag can hold",
            body.len()
        )));
    }
    let mut out = Vec::with_capacity(10 + body.len());
    out.extend_from_slice(b"ID3");
    out.push(major);
    out.push(revision);
    out.push(flags);
    out.extend_from_slice(&syncsafe_bytes(body.len()));
    out.extend_from_slice(body);
    Ok(out)
}

/// A `TXXX` frame `AIGC` = `json`: UTF-8 in v2.4; Latin-1 (ASCII) or UTF-16 in v2.3.
fn label_frame(json: &str, major: u8) -> Vec<u8> {
    let mut payload = Vec::with_capacity(json.len() + 8);
    if major == 4 {
        payload.push(3);
        payload.extend_from_slice(KEY.as_bytes());
        payload.push(0);
        payload.extend_from_slice(json.as_bytes());
    } else if json.is_ascii() {
        payload.push(0);
        payload.extend_from_slice(KEY.as_bytes());
        payload.push(0);
        payload.extend_from_slice(json.as_bytes());
    } else {
        payload.push(1);
        for s in [KEY, json] {
            payload.extend_from_slice(&[0xFF, 0xFE]);
            for u in s.encode_utf16() {
                payload.extend_from_slice(&u.to_le_bytes());
            }
            if s == KEY {
                payload.extend_from_slice(&[0, 0]);
            }
        }
    }
    let mut out = Vec::with_capacity(payload.len() + 10);
    out.extend_from_slice(b"TXXX");
    if major == 4 {
        out.extend_from_slice(&syncsafe_bytes(payload.len()));
    } else {
        out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    }
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&payload);
    out
}

/// Splits at the first string terminator of encoding `enc`.
fn split_terminated(enc: u8, b: &[u8]) -> Option<(&[u8], &[u8])> {
    match enc {
        0 | 3 => {
            let i = b.iter().position(|&x| x == 0)?;
            Some((&b[..i], &b[i + 1..]))
        }
        1 | 2 => {
            let mut i = 0;
            while i + 1 < b.len() {
                if b[i] == 0 && b[i + 1] == 0 {
                    return Some((&b[..i], &b[i + 2..]));
                }
                i += 2;
            }
            None
        }
        _ => None,
    }
}

/// The first of possibly several null-separated values (trailing terminators dropped).
fn first_value(enc: u8, b: &[u8]) -> &[u8] {
    match split_terminated(enc, b) {
        Some((first, _)) => first,
        None => b,
    }
}

fn decode_text(enc: u8, b: &[u8]) -> Option<String> {
    match enc {
        0 => Some(b.iter().map(|&c| char::from(c)).collect()),
        3 => Some(String::from_utf8_lossy(b).into_owned()),
        1 | 2 => {
            let (be, body) = match b {
                [0xFE, 0xFF, rest @ ..] => (true, rest),
                [0xFF, 0xFE, rest @ ..] => (false, rest),
                _ => (enc == 2, b),
            };
            let units: Vec<u16> = body
                .chunks_exact(2)
                .map(|c| {
                    if be {
                        u16::from_be_bytes([c[0], c[1]])
                    } else {
                        u16::from_le_bytes([c[0], c[1]])
                    }
                })
                .collect();
            Some(String::from_utf16_lossy(&units))
        }
        _ => None,
    }
}

/// Reads the whole ID3v2 tag at `offset` (its header already parsed) and parses it.
pub(crate) fn read_tag(
    src: &mut dyn Source,
    header: &Id3Header,
    format: &'static str,
    offset: u64,
    file_len: u64,
    limits: &Limits,
) -> Result<Id3Tag> {
    let total = header.total_len();
    if offset.saturating_add(total) > file_len {
        return Err(Error::malformed(
            format,
            offset,
            format!("ID3v2 tag of {total} bytes is cut short at the end of the file"),
        ));
    }
    let bytes = read_at(src, format, "ID3v2 tag", offset, total, limits.max_metadata)?;
    Id3Tag::parse(&bytes, format, offset, limits)
}

// ---------------------------------------------------------------------------------------------
// MPEG audio frame headers
// ---------------------------------------------------------------------------------------------

/// What a frame header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FrameHeader {
    version: u8,
    layer: u8,
    rate: u32,
    channels: u8,
    /// Frame length in bytes; `None` for free-format bitrate.
    len: Option<usize>,
}

const BITRATES: [[u16; 15]; 5] = [
    [
        0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448,
    ],
    [
        0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384,
    ],
    [
        0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
    ],
    [
        0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256,
    ],
    [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
];

fn frame_header(b: &[u8]) -> Option<FrameHeader> {
    if b.len() < 4 || b[0] != 0xFF || b[1] & 0xE0 != 0xE0 {
        return None;
    }
    let version = (b[1] >> 3) & 3; // 0: MPEG 2.5, 2: MPEG 2, 3: MPEG 1
    let layer_bits = (b[1] >> 1) & 3; // 1: III, 2: II, 3: I
    let br = usize::from(b[2] >> 4);
    let sr = usize::from((b[2] >> 2) & 3);
    if version == 1 || layer_bits == 0 || br == 15 || sr == 3 || b[3] & 3 == 2 {
        return None;
    }
    let layer = 4 - layer_bits;
    let shift = match version {
        3 => 0,
        2 => 1,
        _ => 2,
    };
    let rate = [44100u32, 48000, 32000][sr] >> shift;
    let channels = if b[3] >> 6 == 3 { 1 } else { 2 };
    let table = match (version == 3, layer) {
        (true, 1) => 0,
        (true, 2) => 1,
        (true, _) => 2,
        (false, 1) => 3,
        (false, _) => 4,
    };
    let kbps = u32::from(BITRATES[table][br]);
    let pad = u32::from((b[2] >> 1) & 1);
    let len = (kbps != 0).then(|| {
        let bps = kbps * 1000;
        let n = match layer {
            1 => (12 * bps / rate + pad) * 4,
            2 => 144 * bps / rate + pad,
            _ if version == 3 => 144 * bps / rate + pad,
            _ => 72 * bps / rate + pad,
        };
        n as usize
    });
    Some(FrameHeader {
        version,
        layer,
        rate,
        channels,
        len,
    })
}

/// The first plausible frame header in `window`: valid, and followed by a matching header
/// when the next frame starts inside the window.
fn first_frame(window: &[u8]) -> Option<FrameHeader> {
    for i in 0..window.len() {
        if window[i] != 0xFF {
            continue;
        }
        let Some(h) = frame_header(&window[i..]) else {
            continue;
        };
        match h.len {
            Some(n) if n >= 4 && i + n + 4 <= window.len() => {
                let next = frame_header(&window[i + n..]);
                if next.is_some_and(|x| {
                    x.version == h.version && x.layer == h.layer && x.rate == h.rate
                }) {
                    return Some(h);
                }
            }
            Some(n) if n < 4 => {}
            _ => return Some(h),
        }
    }
    None
}

// ---------------------------------------------------------------------------------------------
// The adapter
// ---------------------------------------------------------------------------------------------

struct Scan {
    layout: Layout,
    /// The first tag and its length, when the file starts with one.
    first: Option<(Id3Tag, u64)>,
}

fn scan(src: &mut dyn Source, limits: &Limits) -> Result<Scan> {
    let file_len = len(src)?;
    let mut layout = Layout::default();
    let mut counter = Counter::new(NAME, limits);
    let mut first = None;
    let mut pos = 0u64;
    // Leading ID3v2 tags.
    loop {
        let mut head = [0u8; 10];
        src.seek(std::io::SeekFrom::Start(pos))?;
        let n = read_up_to(src, &mut head)?;
        let Some(header) = Id3Header::parse(&head[..n], NAME, pos)? else {
            break;
        };
        counter.tick(pos)?;
        let tag = read_tag(src, &header, NAME, pos, file_len, limits)?;
        let primary = first.is_none();
        for (i, text) in tag.labels().into_iter().enumerate() {
            layout.carriers.push(Carrier {
                kind: "mp3:ID3v2:TXXX:AIGC".into(),
                primary: primary && i == 0,
                text,
            });
        }
        layout.has_c2pa |= tag.has_c2pa();
        let total = header.total_len();
        if primary {
            first = Some((tag, total));
        }
        pos += total;
    }
    let audio_start = pos;
    let mut end = file_len;
    // Trailers: ID3v1, then APEv2 and appended ID3v2 tags in any order.
    if end >= audio_start + 128 {
        let b = read_at(src, NAME, "ID3v1 tag", end - 128, 3, 3)?;
        if b == b"TAG" {
            end -= 128;
        }
    }
    let mut appended = Vec::new();
    loop {
        counter.tick(end)?;
        if end >= audio_start + 32 {
            let f = read_at(src, NAME, "APEv2 footer", end - 32, 32, 32)?;
            if &f[..8] == b"APETAGEX" {
                let size = u64::from(u32::from_le_bytes([f[12], f[13], f[14], f[15]]));
                let flags = u32::from_le_bytes([f[20], f[21], f[22], f[23]]);
                let header = if flags & 0x8000_0000 != 0 { 32 } else { 0 };
                let tag_len = size + header;
                if size >= 32 && end - audio_start >= tag_len {
                    end -= tag_len;
                    continue;
                }
            }
        }
        if end >= audio_start + 20 {
            let f = read_at(src, NAME, "ID3v2 footer", end - 10, 10, 10)?;
            let tag_len = match syncsafe(&f[6..10]) {
                Some(size) if &f[..3] == b"3DI" => u64::from(size) + 20,
                _ => u64::MAX,
            };
            if end - audio_start >= tag_len {
                let at = end - tag_len;
                let mut head = [0u8; 10];
                src.seek(std::io::SeekFrom::Start(at))?;
                let n = read_up_to(src, &mut head)?;
                if let Ok(Some(h)) = Id3Header::parse(&head[..n], NAME, at)
                    && h.total_len() == tag_len
                {
                    let tag = read_tag(src, &h, NAME, at, file_len, limits)?;
                    appended.push(tag);
                    end = at;
                    continue;
                }
            }
        }
        break;
    }
    for tag in appended.iter().rev() {
        for text in tag.labels() {
            layout.carriers.push(Carrier {
                kind: "mp3:ID3v2-appended:TXXX:AIGC".into(),
                primary: false,
                text,
            });
        }
        layout.has_c2pa |= tag.has_c2pa();
    }
    // The first frame header.
    let want = (end - audio_start).min(FRAME_SCAN);
    let window = read_at(
        src,
        NAME,
        "MPEG audio frames",
        audio_start,
        want,
        FRAME_SCAN,
    )?;
    if window.starts_with(b"fLaC") {
        return Err(Error::Unsupported(format!(
            "{NAME}: the ID3v2 tag is followed by fLaC at byte {audio_start}: this is a FLAC file"
        )));
    }
    let frame = first_frame(&window).ok_or_else(|| {
        Error::malformed(
            NAME,
            audio_start,
            format!("no MPEG audio frame header in the {want} bytes after the ID3v2 tags"),
        )
    })?;
    layout.shape = format!("{}Hz/{}ch", frame.rate, frame.channels);
    push_range(&mut layout.essence, audio_start..end);
    Ok(Scan { layout, first })
}

impl Format for Mp3 {
    fn name(&self) -> &'static str {
        NAME
    }

    fn media_type(&self) -> &'static str {
        "audio/mpeg"
    }

    fn patchable(&self) -> bool {
        true
    }

    fn detect(&self, head: &[u8]) -> bool {
        if let Ok(Some(h)) = Id3Header::parse(head, NAME, 0) {
            // A FLAC file with a (small) ID3v2 tag in front is not MP3.
            let end = h.total_len() as usize;
            return head.get(end..end + 4) != Some(&b"fLaC"[..]);
        }
        frame_header(head).is_some()
    }

    fn layout(&self, src: &mut dyn Source, limits: &Limits) -> Result<Layout> {
        Ok(scan(src, limits)?.layout)
    }

    fn write(
        &self,
        src: &mut dyn Source,
        dst: &mut dyn Write,
        json: &str,
        limits: &Limits,
    ) -> Result<()> {
        let s = scan(src, limits)?;
        let file_len = len(src)?;
        let (tag, rest) = match &s.first {
            Some((tag, total)) => (tag.rewrite(json, NAME)?, *total),
            None => (new_tag(json, NAME)?, 0),
        };
        // The reader refuses a larger tag: the labelled copy must read back.
        if tag.len() as u64 > limits.max_metadata {
            return Err(Error::too_large(
                NAME,
                0,
                "ID3v2 tag with the label",
                tag.len() as u64,
                limits.max_metadata,
            ));
        }
        dst.write_all(&tag)?;
        copy_range(src, dst, NAME, rest..file_len)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::formats::testing::{essence, primary};
    use std::io::Cursor;

    const JSON: &str = r#"{"AIGC":{"Label":"1","ContentProducer":"p","ProduceID":"id1","ReservedCode1":"","ContentPropagator":"","PropagateID":"","ReservedCode2":""}}"#;
    const JSON2: &str = r#"{"AIGC":{"Label":"2","ContentProducer":"生成者","ProduceID":"id2","ReservedCode1":"","ContentPropagator":"","PropagateID":"","ReservedCode2":""}}"#;

    /// MPEG-1 layer III, 128 kbit/s, 44.1 kHz, joint stereo: 417 bytes per frame.
    fn frames(n: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for i in 0..n {
            let mut f = vec![0xFF, 0xFB, 0x90, 0x40];
            f.extend((0..413).map(|j| ((i * 7 + j) % 251) as u8));
            out.extend(f);
        }
        out
    }

    fn frame(id: &[u8; 4], payload: &[u8], major: u8) -> Vec<u8> {
        let mut f = id.to_vec();
        if major == 4 {
            f.extend(syncsafe_bytes(payload.len()));
        } else {
            f.extend((payload.len() as u32).to_be_bytes());
        }
        f.extend([0, 0]);
        f.extend(payload);
        f
    }

    fn tag(major: u8, flags: u8, frames: &[Vec<u8>], padding: usize) -> Vec<u8> {
        let mut body: Vec<u8> = frames.concat();
        body.extend(vec![0; padding]);
        let mut t = b"ID3".to_vec();
        t.extend([major, 0, flags]);
        t.extend(syncsafe_bytes(body.len()));
        t.extend(body);
        t
    }

    fn layout(b: &[u8]) -> Result<Layout> {
        Mp3.layout(&mut Cursor::new(b), &Limits::default())
    }

    fn write(b: &[u8], json: &str) -> Vec<u8> {
        let mut out = Vec::new();
        Mp3.write(&mut Cursor::new(b), &mut out, json, &Limits::default())
            .unwrap();
        out
    }

    fn round_trip(file: &[u8]) -> Vec<u8> {
        let l0 = layout(file).unwrap();
        let e0 = essence(file, &l0);
        let once = write(file, JSON);
        let l1 = layout(&once).unwrap();
        assert_eq!(primary(&l1), vec![JSON.to_string()]);
        assert_eq!(essence(&once, &l1), e0);
        assert_eq!(l1.shape, l0.shape);
        let twice = write(&once, JSON2);
        let l2 = layout(&twice).unwrap();
        assert_eq!(primary(&l2), vec![JSON2.to_string()]);
        assert_eq!(
            l2.carriers
                .iter()
                .filter(|c| c.kind == "mp3:ID3v2:TXXX:AIGC")
                .count(),
            1
        );
        assert_eq!(essence(&twice, &l2), e0);
        twice
    }

    #[test]
    fn detect() {
        assert!(Mp3.detect(b"ID3\x04\x00\x00\x00\x00\x00\x00"));
        assert!(Mp3.detect(&[0xFF, 0xFB, 0x90, 0x40]));
        assert!(!Mp3.detect(&[0xFF, 0xF1, 0x50, 0x80])); // ADTS AAC (layer 00)
        assert!(!Mp3.detect(b"RIFF"));
        assert!(!Mp3.detect(b"ID3\x04\x00\x00\x00\x00\x00\x00fLaC"));
    }

    #[test]
    fn bare_stream() {
        let file = frames(3);
        let l = layout(&file).unwrap();
        assert_eq!(l.shape, "44100Hz/2ch");
        assert_eq!(l.essence, vec![0..file.len() as u64]);
        let out = round_trip(&file);
        assert_eq!(&out[..4], b"ID3\x04");
    }

    #[test]
    fn keeps_frames_v23_and_v24() {
        for major in [3u8, 4] {
            let title = frame(b"TIT2", b"\x00Title", major);
            let old = frame(b"TXXX", b"\x00aigc\x00old", major);
            let other = frame(b"TXXX", b"\x00other\x00x", major);
            let mut file = tag(major, 0, &[title.clone(), old, other.clone()], 20);
            file.extend(frames(2));
            let l = layout(&file).unwrap();
            assert_eq!(primary(&l), vec!["old".to_string()]);
            let out = round_trip(&file);
            assert_eq!(out[3], major);
            let t = Id3Tag::parse(&out, NAME, 0, &Limits::default()).unwrap();
            let ids: Vec<_> = t.frames.iter().map(|f| f.id).collect();
            assert_eq!(ids, vec![*b"TIT2", *b"TXXX", *b"TXXX"]);
            assert_eq!(t.user_text(&t.frames[2]).unwrap().0, "other");
            assert_eq!(&out[10..10 + title.len()], &title[..]);
        }
    }

    #[test]
    fn encodings() {
        let utf16: Vec<u8> =
            [&[1u8, 0xFF, 0xFE][..], b"A\0I\0G\0C\0\0\0\xFF\xFEv\0a\0l\0"].concat();
        let be: Vec<u8> = [&[2u8][..], b"\0A\0I\0G\0C\0\0\0v\0a\0l"].concat();
        let latin: Vec<u8> = b"\x00AIGC\x00caf\xe9\x00".to_vec();
        for (payload, want) in [(utf16, "val"), (be, "val"), (latin, "café")] {
            let mut file = tag(3, 0, &[frame(b"TXXX", &payload, 3)], 0);
            file.extend(frames(2));
            assert_eq!(primary(&layout(&file).unwrap()), vec![want.to_string()]);
        }
        // v2.3 with non-ASCII text is written as UTF-16.
        let mut file = tag(3, 0, &[frame(b"TIT2", b"\x00T", 3)], 0);
        file.extend(frames(2));
        let out = write(&file, JSON2);
        assert_eq!(primary(&layout(&out).unwrap()), vec![JSON2.to_string()]);
    }

    #[test]
    fn unsync_and_extended_header() {
        // v2.3, whole-tag unsynchronisation, extended header of 6 bytes.
        let payload = b"\x00AIGC\x00a\xFF\xE0b".to_vec();
        let mut body = vec![0, 0, 0, 6, 0, 0, 0, 0, 0, 0];
        let mut f = frame(b"TXXX", &payload, 3);
        // Apply unsynchronisation: FF 00 -> FF 00 00.
        let mut stored = Vec::new();
        for (i, &b) in f.iter().enumerate() {
            stored.push(b);
            if b == 0xFF && f.get(i + 1).is_some_and(|&n| n == 0 || n & 0xE0 == 0xE0) {
                stored.push(0);
            }
        }
        f = stored;
        body.extend(f);
        let mut file = b"ID3\x03\x00\xC0".to_vec();
        file.extend(syncsafe_bytes(body.len()));
        file.extend(body);
        file.extend(frames(2));
        let l = layout(&file).unwrap();
        assert_eq!(primary(&l), vec!["a\u{FF}\u{E0}b".to_string()]);
        let out = round_trip(&file);
        assert_eq!(out[5] & 0xC0, 0);

        // v2.4 with tag-level unsync and a frame with a data length indicator.
        let inner = b"\x00AIGC\x00j\xFF\x00".to_vec();
        let mut data = syncsafe_bytes(inner.len() - 1).to_vec(); // DLI: size before unsync
        data.extend(&inner);
        let mut f = b"TXXX".to_vec();
        f.extend(syncsafe_bytes(data.len()));
        f.extend([0, 0x03]);
        f.extend(data);
        let title = frame(b"TIT2", b"\x03T", 4);
        let mut file = tag(4, 0x80, &[title, f], 0);
        file.extend(frames(2));
        let l = layout(&file).unwrap();
        assert_eq!(primary(&l), vec!["j\u{FF}".to_string()]);
        let out = round_trip(&file);
        let t = Id3Tag::parse(&out, NAME, 0, &Limits::default()).unwrap();
        assert_eq!(t.frames[0].flags[1] & 0x02, 0x02);
    }

    #[test]
    fn itunes_plain_sizes_in_v24() {
        let big = vec![b'x'; 300];
        let mut p = b"\x03".to_vec();
        p.extend(&big);
        let mut f = b"TIT2".to_vec();
        f.extend((p.len() as u32).to_be_bytes());
        f.extend([0, 0]);
        f.extend(&p);
        let mut f2 = b"TXXX".to_vec();
        let p2 = b"\x03AIGC\x00v";
        f2.extend((p2.len() as u32).to_be_bytes());
        f2.extend([0, 0]);
        f2.extend(p2);
        let mut file = tag(4, 0, &[f, f2], 0);
        file.extend(frames(2));
        assert_eq!(primary(&layout(&file).unwrap()), vec!["v".to_string()]);
        round_trip(&file);
    }

    #[test]
    fn trailers_excluded() {
        let audio = frames(3);
        let mut file = tag(4, 0, &[frame(b"TIT2", b"\x03T", 4)], 0);
        let start = file.len() as u64;
        file.extend(&audio);
        // APEv2 with header + footer, 32 + items(8) + 32.
        let mut ape_footer = b"APETAGEX".to_vec();
        ape_footer.extend(2000u32.to_le_bytes());
        ape_footer.extend(40u32.to_le_bytes());
        ape_footer.extend(0u32.to_le_bytes());
        ape_footer.extend(0x8000_0000u32.to_le_bytes());
        ape_footer.extend([0; 8]);
        let mut ape_header = ape_footer.clone();
        ape_header[20..24].copy_from_slice(&0xA000_0000u32.to_le_bytes());
        file.extend(&ape_header);
        file.extend([7u8; 8]);
        file.extend(&ape_footer);
        // Appended ID3v2.4 tag with footer, carrying a label.
        let appended_frames = frame(b"TXXX", b"\x03AIGC\x00tail", 4);
        let mut app = b"ID3\x04\x00\x10".to_vec();
        app.extend(syncsafe_bytes(appended_frames.len()));
        app.extend(&appended_frames);
        app.extend(b"3DI\x04\x00\x10");
        app.extend(syncsafe_bytes(appended_frames.len()));
        file.extend(&app);
        let mut v1 = b"TAG".to_vec();
        v1.extend([0u8; 125]);
        file.extend(&v1);
        let l = layout(&file).unwrap();
        assert_eq!(l.essence, vec![start..start + audio.len() as u64]);
        assert_eq!(l.carriers.len(), 1);
        assert!(!l.carriers[0].primary);
        assert_eq!(l.carriers[0].text, "tail");
        let out = round_trip(&file);
        assert!(out.ends_with(&v1));
    }

    #[test]
    fn c2pa_geob() {
        let geob = frame(
            b"GEOB",
            b"\x00application/c2pa\x00c2pa\x00c2pa manifest store\x00JUMB",
            3,
        );
        let mut file = tag(3, 0, &[geob], 0);
        file.extend(frames(2));
        assert!(layout(&file).unwrap().has_c2pa);
        let out = round_trip(&file);
        assert!(layout(&out).unwrap().has_c2pa);
    }

    #[test]
    fn refuses_v22_write_but_reads_it() {
        let mut body = b"TXX".to_vec();
        let p = b"\x00AIGC\x00v22";
        body.extend([0, 0, p.len() as u8]);
        body.extend(p);
        let mut file = b"ID3\x02\x00\x00".to_vec();
        file.extend(syncsafe_bytes(body.len()));
        file.extend(body);
        file.extend(frames(2));
        assert_eq!(primary(&layout(&file).unwrap()), vec!["v22".to_string()]);
        let mut out = Vec::new();
        let e = Mp3.write(&mut Cursor::new(&file), &mut out, JSON, &Limits::default());
        assert!(matches!(e, Err(Error::Unsupported(_))));
    }

    #[test]
    fn truncation() {
        let mut file = tag(
            3,
            0,
            &[
                frame(b"TIT2", b"\x00T", 3),
                frame(b"TXXX", b"\x00AIGC\x00v", 3),
            ],
            4,
        );
        let tag_len = file.len();
        file.extend(frames(2));
        for n in 0..file.len() {
            let r = layout(&file[..n]);
            if n < tag_len + 4 {
                assert!(
                    matches!(r, Err(Error::Malformed { .. })),
                    "prefix {n}: {r:?}"
                );
            }
            let mut out = Vec::new();
            let _ = Mp3.write(
                &mut Cursor::new(&file[..n]),
                &mut out,
                JSON,
                &Limits::default(),
            );
        }
    }

    #[test]
    fn hostile_sizes() {
        // Tag size far past the end.
        let mut file = b"ID3\x04\x00\x00\x7F\x7F\x7F\x7F".to_vec();
        file.extend(frames(1));
        assert!(matches!(layout(&file), Err(Error::Malformed { .. })));
        // Tag larger than the metadata limit.
        let mut file = tag(4, 0, &[frame(b"TIT2", &vec![b'x'; 5000], 4)], 0);
        file.extend(frames(1));
        let limits = Limits {
            max_metadata: 1000,
            ..Limits::default()
        };
        let r = Mp3.layout(&mut Cursor::new(&file), &limits);
        assert!(matches!(r, Err(Error::TooLarge { .. })), "{r:?}");
        // A frame whose size runs past the tag.
        let mut f = b"TXXX".to_vec();
        f.extend([0x7F, 0x7F, 0x7F, 0x7F, 0, 0, 0]);
        let mut file = tag(4, 0, &[f], 0);
        file.extend(frames(1));
        assert!(matches!(layout(&file), Err(Error::Malformed { .. })));
        // Extended header bigger than the tag.
        let mut file = b"ID3\x03\x00\x40\x00\x00\x00\x0A".to_vec();
        file.extend([0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0]);
        file.extend(frames(1));
        assert!(matches!(layout(&file), Err(Error::Malformed { .. })));
        // Bogus APE footer size is ignored, not trusted.
        let mut file = frames(2);
        let mut ape = b"APETAGEX".to_vec();
        ape.extend(2000u32.to_le_bytes());
        ape.extend(u32::MAX.to_le_bytes());
        ape.extend([0; 12]);
        file.extend(&ape);
        let l = layout(&file).unwrap();
        assert_eq!(l.essence, vec![0..file.len() as u64]);
        // No frame at all.
        assert!(matches!(layout(&[0u8; 100]), Err(Error::Malformed { .. })));
    }

    #[test]
    fn the_labelled_copy_fits_the_limits_it_is_read_with() {
        let smallest =
            crate::formats::testing::labels_read_back_under_every_limit(&Mp3, &frames(3), 2048);
        assert!(smallest > 1, "{smallest}");
    }
}
