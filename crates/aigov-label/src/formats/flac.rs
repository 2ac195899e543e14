//! FLAC (native FLAC stream, `fLaC`).
//!
//! Carriers:
//! - primary: a Vorbis comment `AIGC=<json>` in the `VORBIS_COMMENT` metadata block (field
//!   names compared case-insensitively);
//! - read only: further `AIGC=` comments (also in a second, non-conforming `VORBIS_COMMENT`
//!   block) and a `TXXX:AIGC` frame in an ID3v2 tag put in front of `fLaC` by some tools.
//!
//! Writing keeps every metadata block in order and unchanged except the first
//! `VORBIS_COMMENT`, where the first `AIGC=` comment is replaced in place (others dropped) or
//! one is appended, keeping the vendor string and every other comment; further
//! `VORBIS_COMMENT` blocks lose their `AIGC=` comments. A file without one gets a new block
//! right after `STREAMINFO`. The last-metadata-block flags are set again for the new block
//! list. An ID3v2 prefix and the audio frames are copied unchanged.
//!
//! Essence: `fLaC`, the bodies of `STREAMINFO`, `SEEKTABLE`, `CUESHEET` and unknown blocks
//! (their headers are not covered: the last-block flag may change), and the audio frames.
//! `VORBIS_COMMENT`, `PADDING`, `APPLICATION`, `PICTURE` and an ID3v2 prefix are excluded.
//! Shape: `<rate>Hz/<channels>ch/<total samples>` from `STREAMINFO` (without the sample count
//! when it is 0, that is unknown). A C2PA store is reported when an ID3v2 prefix holds a
//! `GEOB` frame of type `application/c2pa`.
//!
//! Limits: audio frames are not walked (a file cut inside the frames still reads when
//! `STREAMINFO` has a sample count and some frame data is present); existing `PADDING` is not
//! used to avoid moving the audio (the file is copied anyway).

use std::io::{SeekFrom, Write};
use std::ops::Range;

use super::mp3::{Id3Header, read_tag};
use crate::format::{
    Carrier, Counter, Format, Layout, Limits, Source, copy_range, len, push_range, read_at,
    read_up_to,
};
use crate::{Error, Result};

const NAME: &str = "flac";

/// The comment field name of the label.
const KEY: &str = "AIGC";

/// Vendor string of a `VORBIS_COMMENT` block this adapter creates.
const VENDOR: &str = "aigov";

/// Largest metadata block body (24-bit length).
const MAX_BLOCK: usize = 0x00FF_FFFF;

const STREAMINFO: u8 = 0;
const PADDING: u8 = 1;
const APPLICATION: u8 = 2;
const VORBIS_COMMENT: u8 = 4;
const PICTURE: u8 = 6;

/// The FLAC format.
pub struct Flac;

// ---------------------------------------------------------------------------------------------
// Vorbis comments (shared with Ogg)
// ---------------------------------------------------------------------------------------------

/// A parsed Vorbis comment structure: positions in the bytes it was parsed from.
#[derive(Debug, Clone)]
pub(crate) struct Comments {
    /// The vendor string (without its length).
    pub vendor: Range<usize>,
    /// Each comment (without its length).
    pub entries: Vec<Range<usize>>,
    /// Where the comment list ends (framing bit or extra data follow).
    pub end: usize,
}

fn le_u32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

impl Comments {
    /// Parses vendor string and comment list from `b`. Errors name the problem; the caller adds
    /// the format and offset.
    pub(crate) fn parse(b: &[u8]) -> std::result::Result<Comments, String> {
        let cut = |what: &str| format!("Vorbis comment {what} runs past the end of its block");
        let vlen = le_u32(b, 0).ok_or_else(|| cut("vendor length"))? as usize;
        let vendor = 4..4usize
            .checked_add(vlen)
            .filter(|&e| e <= b.len())
            .ok_or_else(|| cut("vendor string"))?;
        let count = le_u32(b, vendor.end).ok_or_else(|| cut("count"))? as usize;
        let mut pos = vendor.end + 4;
        if count > (b.len() - pos) / 4 {
            return Err(format!(
                "Vorbis comment count {count} cannot fit in a block of {} bytes",
                b.len()
            ));
        }
        let mut entries = Vec::new();
        for _ in 0..count {
            let n = le_u32(b, pos).ok_or_else(|| cut("length"))? as usize;
            let start = pos + 4;
            let end = start
                .checked_add(n)
                .filter(|&e| e <= b.len())
                .ok_or_else(|| cut("entry"))?;
            entries.push(start..end);
            pos = end;
        }
        Ok(Comments {
            vendor,
            entries,
            end: pos,
        })
    }

    fn is_label(b: &[u8], r: &Range<usize>) -> bool {
        let e = &b[r.clone()];
        e.len() > KEY.len()
            && e[KEY.len()] == b'='
            && e[..KEY.len()].eq_ignore_ascii_case(KEY.as_bytes())
    }

    /// The values of every `AIGC=` comment, in order.
    pub(crate) fn labels(&self, b: &[u8]) -> Vec<String> {
        self.entries
            .iter()
            .filter(|r| Self::is_label(b, r))
            .map(|r| String::from_utf8_lossy(&b[r.start + KEY.len() + 1..r.end]).into_owned())
            .collect()
    }

    /// Whether any comment is `AIGC=`.
    pub(crate) fn has_label(&self, b: &[u8]) -> bool {
        self.entries.iter().any(|r| Self::is_label(b, r))
    }

    /// The structure rebuilt from `b` with the first `AIGC=` comment set to `json` (or
    /// appended; `None` removes them all), everything else kept, including the bytes after the
    /// list.
    pub(crate) fn rebuild(&self, b: &[u8], json: Option<&str>) -> Vec<u8> {
        let label = json.map(|j| format!("{KEY}={j}"));
        let mut out = Vec::with_capacity(b.len() + label.as_ref().map_or(0, |l| l.len() + 4));
        out.extend_from_slice(&b[..self.vendor.end]);
        let mut list = Vec::new();
        let mut placed = false;
        for r in &self.entries {
            if Self::is_label(b, r) {
                if let (false, Some(l)) = (placed, &label) {
                    list.push(l.as_bytes());
                    placed = true;
                }
                continue;
            }
            list.push(&b[r.clone()]);
        }
        if let (false, Some(l)) = (placed, &label) {
            list.push(l.as_bytes());
        }
        out.extend_from_slice(&(list.len() as u32).to_le_bytes());
        for e in list {
            out.extend_from_slice(&(e.len() as u32).to_le_bytes());
            out.extend_from_slice(e);
        }
        out.extend_from_slice(&b[self.end..]);
        out
    }
}

/// A new comment structure holding only the label.
pub(crate) fn new_comments(vendor: &str, json: &str) -> Vec<u8> {
    let label = format!("{KEY}={json}");
    let mut out = Vec::with_capacity(vendor.len() + label.len() + 12);
    out.extend_from_slice(&(vendor.len() as u32).to_le_bytes());
    out.extend_from_slice(vendor.as_bytes());
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend_from_slice(&(label.len() as u32).to_le_bytes());
    out.extend_from_slice(label.as_bytes());
    out
}

// ---------------------------------------------------------------------------------------------
// The adapter
// ---------------------------------------------------------------------------------------------

/// A metadata block.
#[derive(Debug, Clone)]
struct Block {
    typ: u8,
    /// Offset of its 4-byte header.
    start: u64,
    len: u64,
}

impl Block {
    fn body(&self) -> Range<u64> {
        self.start + 4..self.start + 4 + self.len
    }
}

struct Scan {
    layout: Layout,
    /// Where `fLaC` is.
    magic: u64,
    blocks: Vec<Block>,
    audio: Range<u64>,
}

fn scan(src: &mut dyn Source, limits: &Limits) -> Result<Scan> {
    let file_len = len(src)?;
    let mut layout = Layout::default();
    let mut counter = Counter::new(NAME, limits);
    let mut pos = 0u64;
    loop {
        let mut head = [0u8; 10];
        src.seek(SeekFrom::Start(pos))?;
        let n = read_up_to(src, &mut head)?;
        let Some(h) = Id3Header::parse(&head[..n], NAME, pos)? else {
            break;
        };
        counter.tick(pos)?;
        let tag = read_tag(src, &h, NAME, pos, file_len, limits)?;
        for text in tag.labels() {
            layout.carriers.push(Carrier {
                kind: "flac:ID3v2:TXXX:AIGC".into(),
                primary: false,
                text,
            });
        }
        layout.has_c2pa |= tag.has_c2pa();
        pos += h.total_len();
    }
    let magic = pos;
    let mut m = [0u8; 4];
    src.seek(SeekFrom::Start(pos))?;
    let n = read_up_to(src, &mut m)?;
    if n < 4 || &m != b"fLaC" {
        return Err(Error::malformed(
            NAME,
            pos,
            "expected the FLAC signature fLaC",
        ));
    }
    pos += 4;
    push_range(&mut layout.essence, magic..pos);
    let mut blocks = Vec::new();
    let mut primary_done = false;
    let mut shape = None;
    loop {
        counter.tick(pos)?;
        let mut h = [0u8; 4];
        src.seek(SeekFrom::Start(pos))?;
        if read_up_to(src, &mut h)? < 4 {
            return Err(Error::malformed(
                NAME,
                pos,
                "metadata block header cut short at the end of the file",
            ));
        }
        let last = h[0] & 0x80 != 0;
        let typ = h[0] & 0x7F;
        let blen = (u64::from(h[1]) << 16) | (u64::from(h[2]) << 8) | u64::from(h[3]);
        let block = Block {
            typ,
            start: pos,
            len: blen,
        };
        if typ == 127 {
            return Err(Error::malformed(
                NAME,
                pos,
                "metadata block type 127 is invalid",
            ));
        }
        if block.body().end > file_len {
            return Err(Error::malformed(
                NAME,
                pos,
                format!(
                    "metadata block of type {typ} and {blen} bytes is cut short at the end of the file"
                ),
            ));
        }
        if blocks.is_empty() != (typ == STREAMINFO) {
            return Err(Error::malformed(
                NAME,
                pos,
                "STREAMINFO must be the first metadata block, and only the first",
            ));
        }
        match typ {
            STREAMINFO => {
                if blen < 34 {
                    return Err(Error::malformed(
                        NAME,
                        pos,
                        format!("STREAMINFO of {blen} bytes is shorter than 34"),
                    ));
                }
                let b = read_at(src, NAME, "STREAMINFO", pos + 4, 34, 34)?;
                let rate =
                    (u32::from(b[10]) << 12) | (u32::from(b[11]) << 4) | (u32::from(b[12]) >> 4);
                let channels = ((b[12] >> 1) & 7) + 1;
                let total = (u64::from(b[13] & 0x0F) << 32)
                    | u64::from(u32::from_be_bytes([b[14], b[15], b[16], b[17]]));
                shape = Some((rate, channels, total));
                push_range(&mut layout.essence, block.body());
            }
            VORBIS_COMMENT => {
                let b = read_at(
                    src,
                    NAME,
                    "VORBIS_COMMENT block",
                    pos + 4,
                    blen,
                    limits.max_metadata,
                )?;
                let c = Comments::parse(&b).map_err(|m| Error::malformed(NAME, pos, m))?;
                for (i, text) in c.labels(&b).into_iter().enumerate() {
                    layout.carriers.push(Carrier {
                        kind: "flac:VORBIS_COMMENT:AIGC".into(),
                        primary: !primary_done && i == 0,
                        text,
                    });
                }
                primary_done = true;
            }
            PADDING | APPLICATION | PICTURE => {}
            _ => push_range(&mut layout.essence, block.body()),
        }
        pos = block.body().end;
        blocks.push(block);
        if last {
            break;
        }
    }
    let Some((rate, channels, total)) = shape else {
        return Err(Error::malformed(NAME, magic, "no STREAMINFO block"));
    };
    if pos < file_len {
        let mut s = [0u8; 2];
        src.seek(SeekFrom::Start(pos))?;
        let n = read_up_to(src, &mut s)?;
        if n < 2 || s[0] != 0xFF || s[1] & 0xFE != 0xF8 {
            return Err(Error::malformed(
                NAME,
                pos,
                "expected a FLAC frame sync code after the metadata blocks",
            ));
        }
    } else if total > 0 {
        return Err(Error::malformed(
            NAME,
            pos,
            format!("STREAMINFO states {total} samples but the file ends after the metadata"),
        ));
    }
    push_range(&mut layout.essence, pos..file_len);
    layout.shape = if total > 0 {
        format!("{rate}Hz/{channels}ch/{total}")
    } else {
        format!("{rate}Hz/{channels}ch")
    };
    Ok(Scan {
        layout,
        magic,
        blocks,
        audio: pos..file_len,
    })
}

/// Writes `src` with its audio replaced by a new stream: `encode` gets `src` positioned at its
/// FLAC stream (after any ID3v2 tags, the structure checked) and returns a whole FLAC stream
/// from an encoder. Written: the bytes before `fLaC` (ID3v2 tags), then the new STREAMINFO, then
/// every metadata block of `src` in order but its STREAMINFO and SEEKTABLE (whose frame offsets
/// no longer hold), then the new frames.
pub(crate) fn with_new_audio(
    src: &mut dyn Source,
    dst: &mut dyn Write,
    limits: &Limits,
    encode: impl FnOnce(&mut dyn Source, u64) -> Result<Vec<u8>>,
) -> Result<()> {
    const SEEKTABLE: u8 = 3;
    let s = scan(src, limits)?;
    src.seek(SeekFrom::Start(s.magic))?;
    let encoded = encode(src, s.magic)?;
    let encoded = encoded.as_slice();
    // The encoder's output: fLaC, STREAMINFO first, the frames after the last block.
    let bad = |m: &str| Error::Render(format!("FLAC encoder output: {m}"));
    if encoded.get(..4) != Some(b"fLaC".as_slice()) {
        return Err(bad("no fLaC signature"));
    }
    let mut pos = 4usize;
    let mut info: Option<&[u8]> = None;
    loop {
        let h = encoded
            .get(pos..pos + 4)
            .ok_or_else(|| bad("metadata cut short"))?;
        let len = (usize::from(h[1]) << 16) | (usize::from(h[2]) << 8) | usize::from(h[3]);
        let body = encoded
            .get(pos + 4..pos + 4 + len)
            .ok_or_else(|| bad("metadata block cut short"))?;
        if h[0] & 0x7F == STREAMINFO {
            info = Some(body);
        }
        pos += 4 + len;
        if h[0] & 0x80 != 0 {
            break;
        }
    }
    let info = info.ok_or_else(|| bad("no STREAMINFO"))?;
    let kept: Vec<&Block> = s
        .blocks
        .iter()
        .filter(|b| b.typ != STREAMINFO && b.typ != SEEKTABLE)
        .collect();
    copy_range(src, dst, NAME, 0..s.magic)?;
    dst.write_all(b"fLaC")?;
    dst.write_all(&block_header(
        STREAMINFO,
        info.len(),
        kept.is_empty(),
        "STREAMINFO",
    )?)?;
    dst.write_all(info)?;
    for (i, b) in kept.iter().enumerate() {
        let len = usize::try_from(b.len).unwrap_or(usize::MAX);
        dst.write_all(&block_header(b.typ, len, i + 1 == kept.len(), "metadata")?)?;
        copy_range(src, dst, NAME, b.body())?;
    }
    dst.write_all(&encoded[pos..])?;
    Ok(())
}

fn block_header(typ: u8, len: usize, last: bool, what: &str) -> Result<[u8; 4]> {
    if len > MAX_BLOCK {
        return Err(Error::Label(format!(
            "{NAME}: the {what} block would be {len} bytes, more than a metadata block can hold"
        )));
    }
    Ok([
        typ | if last { 0x80 } else { 0 },
        (len >> 16) as u8,
        (len >> 8) as u8,
        len as u8,
    ])
}

impl Format for Flac {
    fn name(&self) -> &'static str {
        NAME
    }

    fn media_type(&self) -> &'static str {
        "audio/flac"
    }

    fn patchable(&self) -> bool {
        true
    }

    fn detect(&self, head: &[u8]) -> bool {
        if head.starts_with(b"fLaC") {
            return true;
        }
        // An ID3v2 tag small enough that fLaC shows within the first bytes.
        match Id3Header::parse(head, NAME, 0) {
            Ok(Some(h)) => {
                let end = h.total_len() as usize;
                head.get(end..end + 4) == Some(&b"fLaC"[..])
            }
            _ => false,
        }
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
        let has_vc = s.blocks.iter().any(|b| b.typ == VORBIS_COMMENT);
        // What to emit per block: None = copy unchanged, Some = new body.
        enum Out<'a> {
            Copy(&'a Block),
            New(u8, Vec<u8>),
        }
        let mut out: Vec<Out> = Vec::new();
        let mut set = false;
        for b in &s.blocks {
            if b.typ == VORBIS_COMMENT {
                let body = read_at(
                    src,
                    NAME,
                    "VORBIS_COMMENT block",
                    b.start + 4,
                    b.len,
                    limits.max_metadata,
                )?;
                let c = Comments::parse(&body).map_err(|m| Error::malformed(NAME, b.start, m))?;
                if !set {
                    out.push(Out::New(VORBIS_COMMENT, c.rebuild(&body, Some(json))));
                    set = true;
                } else if c.has_label(&body) {
                    out.push(Out::New(VORBIS_COMMENT, c.rebuild(&body, None)));
                } else {
                    out.push(Out::Copy(b));
                }
            } else {
                out.push(Out::Copy(b));
            }
            if b.typ == STREAMINFO && !has_vc {
                out.push(Out::New(VORBIS_COMMENT, new_comments(VENDOR, json)));
            }
        }
        // The reader refuses a larger block: the labelled copy must read back.
        for o in &out {
            if let Out::New(_, body) = o
                && body.len() as u64 > limits.max_metadata
            {
                return Err(Error::too_large(
                    NAME,
                    s.magic + 4,
                    "VORBIS_COMMENT block with the label",
                    body.len() as u64,
                    limits.max_metadata,
                ));
            }
        }
        copy_range(src, dst, NAME, 0..s.magic + 4)?;
        let n = out.len();
        for (i, o) in out.iter().enumerate() {
            let last = i + 1 == n;
            match o {
                Out::Copy(b) => {
                    dst.write_all(&block_header(b.typ, b.len as usize, last, "metadata")?)?;
                    copy_range(src, dst, NAME, b.body())?;
                }
                Out::New(typ, body) => {
                    dst.write_all(&block_header(*typ, body.len(), last, "VORBIS_COMMENT")?)?;
                    dst.write_all(body)?;
                }
            }
        }
        copy_range(src, dst, NAME, s.audio)
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

    fn streaminfo() -> Vec<u8> {
        let mut b = vec![0x10, 0x00, 0x10, 0x00, 0, 0, 0x10, 0, 0, 0x20];
        // 44100 Hz, 2 channels, 16 bits, 1000 samples.
        let rate: u32 = 44100;
        b.push((rate >> 12) as u8);
        b.push((rate >> 4) as u8);
        b.push((((rate & 0xF) as u8) << 4) | (1 << 1));
        b.push(0xF0);
        b.extend(1000u32.to_be_bytes());
        b.extend([0xAB; 16]);
        b
    }

    fn block(typ: u8, body: &[u8], last: bool) -> Vec<u8> {
        let mut b = block_header(typ, body.len(), last, "test")
            .unwrap()
            .to_vec();
        b.extend(body);
        b
    }

    fn comments(vendor: &str, entries: &[&str]) -> Vec<u8> {
        let mut b = (vendor.len() as u32).to_le_bytes().to_vec();
        b.extend(vendor.as_bytes());
        b.extend((entries.len() as u32).to_le_bytes());
        for e in entries {
            b.extend((e.len() as u32).to_le_bytes());
            b.extend(e.as_bytes());
        }
        b
    }

    fn audio() -> Vec<u8> {
        let mut a = vec![0xFF, 0xF8, 0x69, 0x18];
        a.extend((0..300).map(|i| (i * 13 % 256) as u8));
        a
    }

    fn file(blocks: &[(u8, Vec<u8>)]) -> Vec<u8> {
        let mut f = b"fLaC".to_vec();
        for (i, (t, b)) in blocks.iter().enumerate() {
            f.extend(block(*t, b, i + 1 == blocks.len()));
        }
        f.extend(audio());
        f
    }

    fn layout(b: &[u8]) -> Result<Layout> {
        Flac.layout(&mut Cursor::new(b), &Limits::default())
    }

    fn write(b: &[u8], json: &str) -> Vec<u8> {
        let mut out = Vec::new();
        Flac.write(&mut Cursor::new(b), &mut out, json, &Limits::default())
            .unwrap();
        out
    }

    /// Block types in order and whether the last flag is right.
    fn block_types(b: &[u8]) -> Vec<u8> {
        let s = scan(&mut Cursor::new(b), &Limits::default()).unwrap();
        s.blocks.iter().map(|b| b.typ).collect()
    }

    fn round_trip(f: &[u8]) -> Vec<u8> {
        let l0 = layout(f).unwrap();
        let e0 = essence(f, &l0);
        let once = write(f, JSON);
        let l1 = layout(&once).unwrap();
        assert_eq!(primary(&l1), vec![JSON.to_string()]);
        assert_eq!(essence(&once, &l1), e0);
        assert_eq!(l1.shape, l0.shape);
        let twice = write(&once, JSON2);
        let l2 = layout(&twice).unwrap();
        assert_eq!(primary(&l2), vec![JSON2.to_string()]);
        assert_eq!(l2.carriers.len(), l1.carriers.len());
        assert_eq!(essence(&twice, &l2), e0);
        assert!(twice.ends_with(&audio()));
        twice
    }

    #[test]
    fn detect() {
        assert!(Flac.detect(b"fLaC\0\0\0\x22"));
        assert!(Flac.detect(b"ID3\x04\x00\x00\x00\x00\x00\x00fLaC"));
        assert!(!Flac.detect(b"ID3\x04\x00\x00\x00\x00\x00\x00\xFF\xFB"));
        assert!(!Flac.detect(b"OggS"));
    }

    #[test]
    fn adds_block_after_streaminfo() {
        let f = file(&[(STREAMINFO, streaminfo()), (PADDING, vec![0; 10])]);
        let l = layout(&f).unwrap();
        assert_eq!(l.shape, "44100Hz/2ch/1000");
        assert!(l.carriers.is_empty());
        let out = round_trip(&f);
        assert_eq!(block_types(&out), vec![STREAMINFO, VORBIS_COMMENT, PADDING]);
        // Only STREAMINFO: the new block becomes the last one.
        let f = file(&[(STREAMINFO, streaminfo())]);
        let out = round_trip(&f);
        assert_eq!(block_types(&out), vec![STREAMINFO, VORBIS_COMMENT]);
        assert_eq!(out[4] & 0x80, 0);
    }

    #[test]
    fn replaces_keeping_others() {
        let vc = comments(
            "reference libFLAC 1.4.3",
            &["TITLE=t", "aigc=old", "ARTIST=a", "AIGC=older"],
        );
        let f = file(&[
            (STREAMINFO, streaminfo()),
            (3, vec![0x11; 18]),
            (VORBIS_COMMENT, vc),
            (PICTURE, vec![0x22; 40]),
        ]);
        let l = layout(&f).unwrap();
        assert_eq!(primary(&l), vec!["old".to_string()]);
        assert_eq!(l.carriers.len(), 2);
        let out = round_trip(&f);
        assert_eq!(
            block_types(&out),
            vec![STREAMINFO, 3, VORBIS_COMMENT, PICTURE]
        );
        let s = scan(&mut Cursor::new(&out), &Limits::default()).unwrap();
        let b = &s.blocks[2];
        let body = &out[b.body().start as usize..b.body().end as usize];
        let c = Comments::parse(body).unwrap();
        assert_eq!(&body[c.vendor.clone()], b"reference libFLAC 1.4.3");
        let entries: Vec<_> = c
            .entries
            .iter()
            .map(|r| String::from_utf8_lossy(&body[r.clone()]).into_owned())
            .collect();
        assert_eq!(
            entries,
            vec![
                "TITLE=t".to_string(),
                format!("AIGC={JSON2}"),
                "ARTIST=a".to_string()
            ]
        );
    }

    #[test]
    fn id3_prefix_kept_and_excluded() {
        let mut p = b"\x03AIGC\x00from-id3".to_vec();
        let mut fr = b"TXXX".to_vec();
        fr.extend([0, 0, 0, p.len() as u8, 0, 0]);
        fr.append(&mut p);
        let mut id3 = b"ID3\x04\x00\x00\x00\x00\x00".to_vec();
        id3.push(fr.len() as u8);
        id3.extend(&fr);
        let mut f = id3.clone();
        f.extend(file(&[(STREAMINFO, streaminfo())]));
        let l = layout(&f).unwrap();
        assert_eq!(l.carriers.len(), 1);
        assert!(!l.carriers[0].primary);
        assert_eq!(l.essence[0].start, id3.len() as u64);
        let out = round_trip(&f);
        assert!(out.starts_with(&id3));
    }

    #[test]
    fn truncation() {
        let vc = comments("v", &["AIGC=x"]);
        let f = file(&[(STREAMINFO, streaminfo()), (VORBIS_COMMENT, vc)]);
        let meta_end = f.len() - audio().len();
        for n in 0..f.len() {
            let r = layout(&f[..n]);
            if n < meta_end + 2 {
                assert!(
                    matches!(r, Err(Error::Malformed { .. })),
                    "prefix {n}: {r:?}"
                );
            }
            let mut out = Vec::new();
            let _ = Flac.write(
                &mut Cursor::new(&f[..n]),
                &mut out,
                JSON,
                &Limits::default(),
            );
        }
    }

    #[test]
    fn hostile_sizes() {
        // Comment count far larger than the block.
        let mut vc = comments("v", &[]);
        let n = vc.len();
        vc[n - 4..].copy_from_slice(&u32::MAX.to_le_bytes());
        let f = file(&[(STREAMINFO, streaminfo()), (VORBIS_COMMENT, vc)]);
        assert!(matches!(layout(&f), Err(Error::Malformed { .. })));
        // Vendor length past the block.
        let mut vc = comments("v", &["AIGC=x"]);
        vc[..4].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
        let f = file(&[(STREAMINFO, streaminfo()), (VORBIS_COMMENT, vc)]);
        assert!(matches!(layout(&f), Err(Error::Malformed { .. })));
        // Entry length past the block.
        let mut vc = comments("v", &["AIGC=x"]);
        let at = 4 + 1 + 4;
        vc[at..at + 4].copy_from_slice(&0x7FFF_FFFFu32.to_le_bytes());
        let f = file(&[(STREAMINFO, streaminfo()), (VORBIS_COMMENT, vc)]);
        assert!(matches!(layout(&f), Err(Error::Malformed { .. })));
        // Block length past the file.
        let mut f = file(&[(STREAMINFO, streaminfo())]);
        f[5..8].copy_from_slice(&[0xFF, 0xFF, 0xFF]);
        assert!(matches!(layout(&f), Err(Error::Malformed { .. })));
        // Comment block over the metadata limit.
        let vc = comments("v", &[&"x".repeat(5000)]);
        let f = file(&[(STREAMINFO, streaminfo()), (VORBIS_COMMENT, vc)]);
        let limits = Limits {
            max_metadata: 1000,
            ..Limits::default()
        };
        let r = Flac.layout(&mut Cursor::new(&f), &limits);
        assert!(matches!(r, Err(Error::TooLarge { .. })), "{r:?}");
        // Endless zero-length blocks are bounded by the structure count.
        let mut f = b"fLaC".to_vec();
        f.extend(block(STREAMINFO, &streaminfo(), false));
        for _ in 0..100 {
            f.extend([PADDING, 0, 0, 0]);
        }
        let limits = Limits {
            max_structures: 50,
            ..Limits::default()
        };
        let r = Flac.layout(&mut Cursor::new(&f), &limits);
        assert!(matches!(r, Err(Error::TooLarge { .. })), "{r:?}");
        // STREAMINFO not first.
        let f = file(&[(PADDING, vec![0; 4]), (STREAMINFO, streaminfo())]);
        assert!(matches!(layout(&f), Err(Error::Malformed { .. })));
    }

    #[test]
    fn the_labelled_copy_fits_the_limits_it_is_read_with() {
        let smallest = crate::formats::testing::labels_read_back_under_every_limit(
            &Flac,
            &file(&[(STREAMINFO, streaminfo())]),
            2048,
        );
        assert!(smallest > 1, "{smallest}");
    }
}
