//! MP4 and QuickTime MOV (ISO base media file format).
//!
//! Carriers:
//! - primary: `moov/udta/meta` (a full box whose `hdlr` names the handler `mdta`) with a `keys`
//!   entry in the `mdta` namespace named `AIGC` and the matching `ilst` item (the item's box
//!   type is the 1-based key index) holding a `data` box of type 1 (UTF-8): what ffmpeg writes
//!   with `-movflags use_metadata_tags -metadata AIGC=...`;
//! - read only: the same structure in `moov/meta`, an XMP `uuid` box
//!   (BE7ACFCB-97A9-42E8-9C71-999491E3AFAC) and `moov/udta/XMP_`.
//!
//! Writing rebuilds `moov` in memory (bounded by [`Limits::max_metadata`]) and copies every
//! other top-level box unchanged, streaming. When `udta` holds an iTunes-style `meta` (handler
//! `mdir`), a second `meta` with handler `mdta` is added after it. When `moov` changes size
//! and media data follows it (`+faststart`), every `stco`/`co64` chunk offset that points past
//! the old `moov` is shifted by the change.
//!
//! Essence: the `ftyp` box and the payloads of every top-level `mdat`. The sample tables in
//! `moov` are not covered: their chunk offsets legitimately change when `moov` grows or shrinks
//! in front of the media. `moov`, `free`, `skip`, `wide`, `uuid` (XMP, C2PA, …), top-level
//! `meta` and every other top-level box are excluded.
//!
//! Limits: fragmented files (`moof`/`mfra` after `moov`) whose `moov` would change size are
//! refused (their absolute offsets are not rewritten); chunk offsets pointing past the end of
//! the file (external data references) are reported as malformed.

use std::io::{SeekFrom, Write};
use std::ops::Range;

use crate::format::{
    Carrier, Counter, Format, Layout, Limits, Piece, Source, len, push_piece, push_range, read_at,
    read_up_to, write_plan,
};
use crate::{Error, Result, xmp};

const NAME: &str = "mp4";

/// UUID of the XMP box (Adobe XMP specification part 3).
const XMP_UUID: [u8; 16] = [
    0xBE, 0x7A, 0xCF, 0xCB, 0x97, 0xA9, 0x42, 0xE8, 0x9C, 0x71, 0x99, 0x94, 0x91, 0xE3, 0xAF, 0xAC,
];
/// UUID of the C2PA manifest store box.
const C2PA_UUID: [u8; 16] = [
    0xD8, 0xFE, 0xC3, 0xD6, 0x1B, 0x0E, 0x48, 0x3C, 0x92, 0x97, 0x58, 0x28, 0x87, 0x7E, 0xC4, 0x81,
];
/// The key name of the label.
const KEY: &[u8] = b"AIGC";
/// Boxes whose payload is a list of boxes (`meta` is handled on its own: a full box).
const CONTAINERS: [&[u8; 4]; 8] = [
    b"moov", b"trak", b"mdia", b"minf", b"stbl", b"udta", b"edts", b"dinf",
];
/// `ftyp` major brands of still-image formats built on the same box structure (HEIF, AVIF,
/// Canon CR3), which this adapter does not claim.
const IMAGE_BRANDS: [&[u8; 4]; 7] = [
    b"mif1", b"heic", b"heix", b"heim", b"heis", b"avif", b"crx ",
];

/// The MP4 / MOV format.
pub struct Mp4;

/// A box header.
#[derive(Debug, Clone, Copy)]
struct Head {
    typ: [u8; 4],
    uuid: Option<[u8; 16]>,
    /// The header used the 64-bit size form.
    large: bool,
    /// Offset of the box.
    start: u64,
    /// Offset of the payload (after size, type, large size and extended type).
    body: u64,
    /// Offset just past the box.
    end: u64,
}

fn fourcc(t: &[u8]) -> String {
    format!("'{}'", t.escape_ascii())
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    let mut a = [0u8; 4];
    a.copy_from_slice(s);
    Some(u32::from_be_bytes(a))
}

fn be64(b: &[u8], at: usize) -> Option<u64> {
    let s = b.get(at..at.checked_add(8)?)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(s);
    Some(u64::from_be_bytes(a))
}

/// Parses the header of the box at `start` from `bytes` (the bytes available from `start`, at
/// least 32 unless the container ends sooner), inside a container ending at `parent_end`.
fn parse_head(bytes: &[u8], start: u64, parent_end: u64, top: bool) -> Result<Head> {
    let avail = parent_end.saturating_sub(start);
    let where_ = if top {
        "the end of the file"
    } else {
        "the end of its container"
    };
    let short = |what: &str| {
        Error::malformed(
            NAME,
            start,
            format!("{what} cut short by {where_} ({avail} bytes left)"),
        )
    };
    let (Some(size32), Some(t)) = (be32(bytes, 0), bytes.get(4..8)) else {
        return Err(short("box header"));
    };
    let mut typ = [0u8; 4];
    typ.copy_from_slice(t);
    let (size, mut hlen, large) = match size32 {
        1 => {
            let Some(s) = be64(bytes, 8) else {
                return Err(short(&format!("64-bit size of box {}", fourcc(&typ))));
            };
            (s, 16u64, true)
        }
        0 if top => (avail, 8, false),
        0 => {
            return Err(Error::malformed(
                NAME,
                start,
                format!(
                    "box {} has size 0 (to the end of the file) inside a container",
                    fourcc(&typ)
                ),
            ));
        }
        s => (u64::from(s), 8, false),
    };
    let mut uuid = None;
    if &typ == b"uuid" {
        let at = usize::try_from(hlen).unwrap_or(usize::MAX);
        let Some(u) = bytes.get(at..at.saturating_add(16)) else {
            return Err(short("extended type of box 'uuid'"));
        };
        let mut a = [0u8; 16];
        a.copy_from_slice(u);
        uuid = Some(a);
        hlen += 16;
    }
    if size < hlen {
        return Err(Error::malformed(
            NAME,
            start,
            format!(
                "box {} declares {size} bytes, less than its {hlen}-byte header",
                fourcc(&typ)
            ),
        ));
    }
    if size > avail {
        return Err(Error::malformed(
            NAME,
            start,
            format!(
                "box {} of {size} bytes runs past {where_} ({avail} bytes left)",
                fourcc(&typ)
            ),
        ));
    }
    Ok(Head {
        typ,
        uuid,
        large,
        start,
        body: start + hlen,
        end: start + size,
    })
}

/// Walks the top-level boxes, calling `f` with each header; returns the file length.
fn walk_top(
    src: &mut dyn Source,
    limits: &Limits,
    mut f: impl FnMut(&mut dyn Source, &Head) -> Result<()>,
) -> Result<u64> {
    let file_len = len(src)?;
    let mut counter = Counter::new(NAME, limits);
    let mut off = 0u64;
    while off < file_len {
        counter.tick(off)?;
        src.seek(SeekFrom::Start(off))?;
        let mut buf = [0u8; 32];
        let want = usize::try_from((file_len - off).min(32)).unwrap_or(32);
        let n = read_up_to(src, &mut buf[..want])?;
        let head = parse_head(&buf[..n], off, file_len, true)?;
        f(src, &head)?;
        off = head.end;
    }
    Ok(file_len)
}

/// The payload of an in-memory box.
#[derive(Debug, Clone)]
enum Body {
    /// Bytes of the `moov` buffer, unchanged.
    Data(Range<usize>),
    /// New bytes.
    Owned(Vec<u8>),
    /// A container: leading bytes (version and flags of a full box), child boxes, trailing
    /// bytes (the zero terminator QuickTime puts at the end of some `udta`).
    Children {
        prefix: Vec<u8>,
        kids: Vec<Node>,
        suffix: Vec<u8>,
    },
}

/// A box of `moov`, parsed.
#[derive(Debug, Clone)]
struct Node {
    typ: [u8; 4],
    uuid: Option<[u8; 16]>,
    large: bool,
    /// Offset in the file (for messages).
    offset: u64,
    body: Body,
}

/// Parses the box tree of a box read into `buf` (which starts at file offset `base`).
struct TreeParser<'a> {
    buf: &'a [u8],
    base: u64,
    limits: &'a Limits,
    counter: Counter,
}

impl<'a> TreeParser<'a> {
    fn node(&mut self, head: &Head, depth: usize) -> Result<Node> {
        let buf: &'a [u8] = self.buf;
        let start = self.idx(head.body);
        let end = self.idx(head.end);
        let body = if CONTAINERS.contains(&&head.typ) {
            self.children(Vec::new(), start, end, depth + 1)?
        } else if &head.typ == b"meta" {
            // ISO `meta` is a full box; QuickTime's `meta` sometimes has no version and flags:
            // then its payload starts with a box header (`hdlr`) instead of four zero bytes.
            let payload = &buf[start..end];
            let quicktime = be32(payload, 0).is_some_and(|s| s != 0)
                && payload.get(4..8) == Some(b"hdlr".as_slice());
            if quicktime {
                self.children(Vec::new(), start, end, depth + 1)?
            } else {
                let Some(prefix) = payload.get(..4) else {
                    return Err(Error::malformed(
                        NAME,
                        head.start,
                        "box 'meta' is too short for its version and flags",
                    ));
                };
                self.children(prefix.to_vec(), start + 4, end, depth + 1)?
            }
        } else {
            Body::Data(start..end)
        };
        Ok(Node {
            typ: head.typ,
            uuid: head.uuid,
            large: head.large,
            offset: head.start,
            body,
        })
    }

    fn idx(&self, abs: u64) -> usize {
        usize::try_from(abs - self.base).unwrap_or(usize::MAX)
    }

    fn children(
        &mut self,
        prefix: Vec<u8>,
        start: usize,
        end: usize,
        depth: usize,
    ) -> Result<Body> {
        let buf: &'a [u8] = self.buf;
        let base = self.base;
        let abs = move |i: usize| base + i as u64;
        if depth > self.limits.max_depth {
            return Err(Error::too_large(
                NAME,
                abs(start),
                "box nesting depth",
                depth as u64,
                self.limits.max_depth as u64,
            ));
        }
        let mut kids = Vec::new();
        let mut at = start;
        let mut suffix = Vec::new();
        while at < end {
            let rest = &buf[at..end];
            if rest.len() < 8 && rest.iter().all(|b| *b == 0) {
                suffix = rest.to_vec();
                break;
            }
            self.counter.tick(abs(at))?;
            let head = parse_head(&rest[..rest.len().min(32)], abs(at), abs(end), false)?;
            kids.push(self.node(&head, depth)?);
            at = self.idx(head.end);
        }
        Ok(Body::Children {
            prefix,
            kids,
            suffix,
        })
    }
}

/// Reads and parses `moov`.
fn read_moov(
    src: &mut dyn Source,
    head: &Head,
    limits: &Limits,
    counter: Counter,
) -> Result<(Vec<u8>, Node)> {
    let buf = read_at(
        src,
        NAME,
        "moov box",
        head.start,
        head.end - head.start,
        limits.max_metadata,
    )?;
    let mut p = TreeParser {
        buf: &buf,
        base: head.start,
        limits,
        counter,
    };
    let node = p.node(head, 0)?;
    Ok((buf, node))
}

impl Node {
    fn kids(&self) -> &[Node] {
        match &self.body {
            Body::Children { kids, .. } => kids,
            _ => &[],
        }
    }

    fn child(&self, typ: &[u8; 4]) -> Option<&Node> {
        self.kids().iter().find(|k| &k.typ == typ)
    }

    fn bytes<'a>(&'a self, buf: &'a [u8]) -> &'a [u8] {
        match &self.body {
            Body::Data(r) => buf.get(r.clone()).unwrap_or(&[]),
            Body::Owned(v) => v,
            Body::Children { .. } => &[],
        }
    }

    fn content_len(&self) -> u64 {
        match &self.body {
            Body::Data(r) => r.len() as u64,
            Body::Owned(v) => v.len() as u64,
            Body::Children {
                prefix,
                kids,
                suffix,
            } => {
                prefix.len() as u64
                    + kids.iter().map(Node::total_len).sum::<u64>()
                    + suffix.len() as u64
            }
        }
    }

    fn header_len(&self, content: u64) -> u64 {
        let ext = if self.uuid.is_some() { 16 } else { 0 };
        if self.large || content + 8 + ext > u64::from(u32::MAX) {
            16 + ext
        } else {
            8 + ext
        }
    }

    fn total_len(&self) -> u64 {
        let c = self.content_len();
        self.header_len(c) + c
    }

    fn serialize(&self, buf: &[u8], out: &mut Vec<u8>) {
        let c = self.content_len();
        let h = self.header_len(c);
        let total = h + c;
        let long = h - if self.uuid.is_some() { 16 } else { 0 } == 16;
        match u32::try_from(total) {
            Ok(s) if !long => out.extend_from_slice(&s.to_be_bytes()),
            _ => out.extend_from_slice(&1u32.to_be_bytes()),
        }
        out.extend_from_slice(&self.typ);
        if long {
            out.extend_from_slice(&total.to_be_bytes());
        }
        if let Some(u) = &self.uuid {
            out.extend_from_slice(u);
        }
        match &self.body {
            Body::Data(_) | Body::Owned(_) => out.extend_from_slice(self.bytes(buf)),
            Body::Children {
                prefix,
                kids,
                suffix,
            } => {
                out.extend_from_slice(prefix);
                for k in kids {
                    k.serialize(buf, out);
                }
                out.extend_from_slice(suffix);
            }
        }
    }
}

/// A new leaf box.
fn leaf(typ: &[u8; 4], bytes: Vec<u8>) -> Node {
    Node {
        typ: *typ,
        uuid: None,
        large: false,
        offset: 0,
        body: Body::Owned(bytes),
    }
}

/// The handler type of a `meta` box (from its `hdlr`).
fn handler<'a>(meta: &'a Node, buf: &'a [u8]) -> Option<&'a [u8]> {
    meta.child(b"hdlr")?.bytes(buf).get(8..12)
}

/// A `keys` box: version and flags, and the (namespace, name) entries.
struct Keys {
    version_flags: [u8; 4],
    entries: Vec<([u8; 4], Vec<u8>)>,
}

fn parse_keys(node: &Node, buf: &[u8]) -> Result<Keys> {
    let b = node.bytes(buf);
    let bad = |msg: String| Error::malformed(NAME, node.offset, msg);
    let (Some(vf), Some(count)) = (b.get(..4), be32(b, 4)) else {
        return Err(bad("box 'keys' is too short for its header".into()));
    };
    let mut version_flags = [0u8; 4];
    version_flags.copy_from_slice(vf);
    if u64::from(count) > (b.len() as u64 - 8) / 8 {
        return Err(bad(format!(
            "box 'keys' declares {count} entries, more than its {} bytes hold",
            b.len()
        )));
    }
    let mut entries = Vec::new();
    let mut at = 8usize;
    for i in 0..count {
        let size = be32(b, at).unwrap_or(0) as usize;
        let Some(entry) = b.get(at..at.saturating_add(size)).filter(|_| size >= 8) else {
            return Err(bad(format!(
                "entry {} of box 'keys' (size {size}) is malformed or runs past the box",
                i + 1
            )));
        };
        let mut ns = [0u8; 4];
        ns.copy_from_slice(&entry[4..8]);
        entries.push((ns, entry[8..].to_vec()));
        at += size;
    }
    Ok(Keys {
        version_flags,
        entries,
    })
}

fn keys_bytes(keys: &Keys) -> Vec<u8> {
    let mut out = keys.version_flags.to_vec();
    out.extend_from_slice(&(keys.entries.len() as u32).to_be_bytes());
    for (ns, name) in &keys.entries {
        out.extend_from_slice(&((name.len() + 8) as u32).to_be_bytes());
        out.extend_from_slice(ns);
        out.extend_from_slice(name);
    }
    out
}

fn is_label_key(ns: &[u8; 4], name: &[u8]) -> bool {
    ns == b"mdta" && name == KEY
}

/// The items of an `ilst` box: (item type, byte range within the `ilst` payload).
fn parse_ilst(node: &Node, buf: &[u8]) -> Result<Vec<([u8; 4], Range<usize>)>> {
    let b = node.bytes(buf);
    let base = node.offset + 8;
    let mut out = Vec::new();
    let mut at = 0usize;
    while at < b.len() {
        let rest = &b[at..];
        let head = parse_head(
            &rest[..rest.len().min(32)],
            base + at as u64,
            base + b.len() as u64,
            false,
        )?;
        let end = at + (head.end - head.start) as usize;
        out.push((head.typ, at..end));
        at = end;
    }
    Ok(out)
}

/// The text of the first `data` box of an `ilst` item (UTF-8, or UTF-16BE for type 2).
fn item_text(item: &[u8], offset: u64) -> Result<Option<String>> {
    let head = parse_head(
        &item[..item.len().min(32)],
        offset,
        offset + item.len() as u64,
        false,
    )?;
    let mut at = (head.body - head.start) as usize;
    while at < item.len() {
        let rest = &item[at..];
        let h = parse_head(
            &rest[..rest.len().min(32)],
            offset + at as u64,
            offset + item.len() as u64,
            false,
        )?;
        let body = &rest[(h.body - h.start) as usize..(h.end - h.start) as usize];
        if &h.typ == b"data" && body.len() >= 8 {
            let kind = be32(body, 0).unwrap_or(0) & 0x00FF_FFFF;
            let value = &body[8..];
            match kind {
                1 => return Ok(Some(String::from_utf8_lossy(value).into_owned())),
                2 => {
                    let units: Vec<u16> = value
                        .chunks_exact(2)
                        .map(|c| u16::from_be_bytes([c[0], c[1]]))
                        .collect();
                    return Ok(Some(String::from_utf16_lossy(&units)));
                }
                _ => {}
            }
        }
        at += (h.end - h.start) as usize;
    }
    Ok(None)
}

/// The label items of an `mdta` meta box.
fn meta_labels(meta: &Node, buf: &[u8]) -> Result<Vec<String>> {
    if handler(meta, buf) != Some(b"mdta".as_slice()) {
        return Ok(Vec::new());
    }
    let (Some(keys), Some(ilst)) = (meta.child(b"keys"), meta.child(b"ilst")) else {
        return Ok(Vec::new());
    };
    let keys = parse_keys(keys, buf)?;
    let wanted: Vec<u32> = keys
        .entries
        .iter()
        .enumerate()
        .filter(|(_, (ns, name))| is_label_key(ns, name))
        .map(|(i, _)| i as u32 + 1)
        .collect();
    let mut out = Vec::new();
    if wanted.is_empty() {
        return Ok(out);
    }
    let b = ilst.bytes(buf);
    for (typ, r) in parse_ilst(ilst, buf)? {
        if wanted.contains(&u32::from_be_bytes(typ))
            && let Some(t) = item_text(&b[r.clone()], ilst.offset + 8 + r.start as u64)?
        {
            out.push(t);
        }
    }
    Ok(out)
}

/// Every carrier inside `moov`, with its offset.
fn moov_carriers(moov: &Node, buf: &[u8]) -> Result<Vec<(u64, Carrier)>> {
    let mut out = Vec::new();
    for k in moov.kids() {
        match &k.typ {
            b"udta" => {
                for u in k.kids() {
                    match &u.typ {
                        b"meta" => {
                            for text in meta_labels(u, buf)? {
                                out.push((
                                    u.offset,
                                    Carrier {
                                        kind: "mp4:moov/udta/meta:mdta:AIGC".into(),
                                        primary: true,
                                        text,
                                    },
                                ));
                            }
                        }
                        b"XMP_" => {
                            let x = String::from_utf8_lossy(u.bytes(buf));
                            if let Some(text) = xmp::find_aigc(&x) {
                                out.push((
                                    u.offset,
                                    Carrier {
                                        kind: "mp4:moov/udta/XMP_".into(),
                                        primary: false,
                                        text,
                                    },
                                ));
                            }
                        }
                        _ => {}
                    }
                }
            }
            b"meta" => {
                for text in meta_labels(k, buf)? {
                    out.push((
                        k.offset,
                        Carrier {
                            kind: "mp4:moov/meta:mdta:AIGC".into(),
                            primary: false,
                            text,
                        },
                    ));
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

/// Visits the `stco` and `co64` boxes of every track.
fn chunk_offset_boxes<'a>(moov: &'a Node, out: &mut Vec<&'a Node>) {
    for trak in moov.kids().iter().filter(|k| &k.typ == b"trak") {
        let stbl = trak
            .child(b"mdia")
            .and_then(|m| m.child(b"minf"))
            .and_then(|m| m.child(b"stbl"));
        if let Some(stbl) = stbl {
            out.extend(
                stbl.kids()
                    .iter()
                    .filter(|k| &k.typ == b"stco" || &k.typ == b"co64"),
            );
        }
    }
}

/// Checks every chunk offset against the file length; with `shift`, moves those at or past
/// `from` by `delta`.
fn check_offsets(
    moov: &Node,
    buf: &mut [u8],
    file_len: u64,
    shift: Option<(u64, i64)>,
) -> Result<()> {
    let mut boxes = Vec::new();
    chunk_offset_boxes(moov, &mut boxes);
    for node in boxes {
        let Body::Data(r) = &node.body else {
            continue;
        };
        let width = if &node.typ == b"co64" { 8 } else { 4 };
        if r.len() < 8 {
            return Err(Error::malformed(
                NAME,
                node.offset,
                format!("box {} is too short for its entry count", fourcc(&node.typ)),
            ));
        }
        let table = r.start + 8..r.end;
        let count = be32(buf, r.start + 4).unwrap_or(0) as usize;
        if count > table.len() / width {
            return Err(Error::malformed(
                NAME,
                node.offset,
                format!(
                    "box {} declares {count} chunk offsets, more than its {} bytes hold",
                    fourcc(&node.typ),
                    table.len()
                ),
            ));
        }
        for i in 0..count {
            let at = table.start + i * width;
            let v = if width == 8 {
                be64(buf, at)
            } else {
                be32(buf, at).map(u64::from)
            }
            .unwrap_or(0);
            if v > file_len {
                return Err(Error::malformed(
                    NAME,
                    node.offset,
                    format!(
                        "chunk offset {v} (entry {} of box {}) points past the end of the file \
                         ({file_len} bytes)",
                        i + 1,
                        fourcc(&node.typ)
                    ),
                ));
            }
            let Some((from, delta)) = shift else { continue };
            if v < from {
                continue;
            }
            let moved = v.checked_add_signed(delta).ok_or_else(|| {
                Error::malformed(NAME, node.offset, "chunk offset out of range after shift")
            })?;
            if width == 8 {
                buf[at..at + 8].copy_from_slice(&moved.to_be_bytes());
            } else {
                let m = u32::try_from(moved).map_err(|_| {
                    Error::malformed(
                        NAME,
                        node.offset,
                        format!(
                            "chunk offset {v} (entry {} of box 'stco') would become {moved}, \
                             which does not fit in 32 bits: the label cannot be written in front \
                             of the media (move the moov box after mdat, or use co64)",
                            i + 1
                        ),
                    )
                })?;
                buf[at..at + 4].copy_from_slice(&m.to_be_bytes());
            }
        }
    }
    Ok(())
}

/// `WxH` of the first video track, `audio` when there is only sound, empty otherwise.
fn shape(moov: &Node, buf: &[u8]) -> String {
    let mut audio = false;
    for trak in moov.kids().iter().filter(|k| &k.typ == b"trak") {
        let mdia = trak.child(b"mdia");
        let handler = mdia
            .and_then(|m| m.child(b"hdlr"))
            .and_then(|h| h.bytes(buf).get(8..12));
        match handler {
            Some(b"vide") => {
                let (mut w, mut h) = (0, 0);
                if let Some(tkhd) = trak.child(b"tkhd") {
                    let b = tkhd.bytes(buf);
                    let at = if b.first() == Some(&1) { 88 } else { 76 };
                    w = be32(b, at).unwrap_or(0) >> 16;
                    h = be32(b, at + 4).unwrap_or(0) >> 16;
                }
                if w == 0 || h == 0 {
                    // Fall back to the first visual sample entry.
                    let stsd = mdia
                        .and_then(|m| m.child(b"minf"))
                        .and_then(|m| m.child(b"stbl"))
                        .and_then(|s| s.child(b"stsd"))
                        .map(|s| s.bytes(buf))
                        .unwrap_or(&[]);
                    let wb = stsd.get(40..42);
                    let hb = stsd.get(42..44);
                    if let (Some(wb), Some(hb)) = (wb, hb) {
                        w = u32::from(u16::from_be_bytes([wb[0], wb[1]]));
                        h = u32::from(u16::from_be_bytes([hb[0], hb[1]]));
                    }
                }
                return format!("{w}x{h}");
            }
            Some(b"soun") => audio = true,
            _ => {}
        }
    }
    if audio { "audio".into() } else { String::new() }
}

/// The new `ilst` item for the label at key index `index`.
fn label_item(index: u32, json: &str) -> Vec<u8> {
    let data_len = 16 + json.len();
    let mut out = Vec::with_capacity(8 + data_len);
    out.extend_from_slice(&((8 + data_len) as u32).to_be_bytes());
    out.extend_from_slice(&index.to_be_bytes());
    out.extend_from_slice(&(data_len as u32).to_be_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&1u32.to_be_bytes());
    out.extend_from_slice(&0u32.to_be_bytes());
    out.extend_from_slice(json.as_bytes());
    out
}

/// A new `meta` box with handler `mdta` and empty `keys` and `ilst`.
fn new_meta() -> Node {
    let mut hdlr = vec![0u8; 8];
    hdlr.extend_from_slice(b"mdta");
    hdlr.extend_from_slice(&[0u8; 13]);
    Node {
        typ: *b"meta",
        uuid: None,
        large: false,
        offset: 0,
        body: Body::Children {
            prefix: vec![0; 4],
            kids: vec![
                leaf(b"hdlr", hdlr),
                leaf(b"keys", vec![0; 8]),
                leaf(b"ilst", Vec::new()),
            ],
            suffix: Vec::new(),
        },
    }
}

/// Sets (`Some`) or removes (`None`) the label in an `mdta` meta box, keeping every other key
/// and item; duplicate `AIGC` keys are removed and the items of the keys after them renumbered.
fn edit_meta(meta: &mut Node, buf: &[u8], json: Option<&str>) -> Result<()> {
    let Body::Children { kids, .. } = &mut meta.body else {
        return Ok(());
    };
    let keys_at = match kids.iter().position(|k| &k.typ == b"keys") {
        Some(i) => i,
        None => {
            let at = kids
                .iter()
                .position(|k| &k.typ == b"hdlr")
                .map_or(0, |i| i + 1);
            kids.insert(at, leaf(b"keys", vec![0; 8]));
            at
        }
    };
    let ilst_at = match kids.iter().position(|k| &k.typ == b"ilst") {
        Some(i) => i,
        None => {
            kids.push(leaf(b"ilst", Vec::new()));
            kids.len() - 1
        }
    };
    let keys = parse_keys(&kids[keys_at], buf)?;
    let label_keys: Vec<usize> = keys
        .entries
        .iter()
        .enumerate()
        .filter(|(_, (ns, name))| is_label_key(ns, name))
        .map(|(i, _)| i + 1)
        .collect();
    if json.is_none() && label_keys.is_empty() {
        return Ok(());
    }
    let keep = json.and(label_keys.first().copied());
    // Old 1-based index → new 1-based index (0: removed).
    let mut map = vec![0u32; keys.entries.len() + 1];
    let mut entries = Vec::new();
    for (i, e) in keys.entries.iter().enumerate() {
        let idx = i + 1;
        if label_keys.contains(&idx) && Some(idx) != keep {
            continue;
        }
        entries.push(e.clone());
        map[idx] = entries.len() as u32;
    }
    let label_index = match (json, keep) {
        (None, _) => None,
        (Some(_), Some(k)) => Some(map[k]),
        (Some(_), None) => {
            entries.push((*b"mdta", KEY.to_vec()));
            Some(entries.len() as u32)
        }
    };
    let old_count = keys.entries.len();
    let new_keys = Keys {
        version_flags: keys.version_flags,
        entries,
    };
    let ilst = &kids[ilst_at];
    let old = ilst.bytes(buf);
    let mut items = Vec::with_capacity(old.len() + json.map_or(0, str::len) + 24);
    let mut placed = false;
    for (typ, r) in parse_ilst(ilst, buf)? {
        let idx = u32::from_be_bytes(typ) as usize;
        let item = &old[r];
        if (1..=old_count).contains(&idx) {
            if label_keys.contains(&idx) {
                if let (Some(json), Some(li)) = (json, label_index)
                    && !placed
                {
                    items.extend_from_slice(&label_item(li, json));
                    placed = true;
                }
                continue;
            }
            let mut item = item.to_vec();
            item[4..8].copy_from_slice(&map[idx].to_be_bytes());
            items.extend_from_slice(&item);
        } else if idx > old_count && idx <= new_keys.entries.len() {
            // An item without a key would now be read as the key added here: drop it (it
            // had no name before either).
            continue;
        } else {
            items.extend_from_slice(item);
        }
    }
    if let (Some(json), Some(li)) = (json, label_index)
        && !placed
    {
        items.extend_from_slice(&label_item(li, json));
    }
    kids[keys_at].body = Body::Owned(keys_bytes(&new_keys));
    kids[ilst_at].body = Body::Owned(items);
    Ok(())
}

/// Puts the label into `moov/udta/meta` (handler `mdta`), creating what is missing.
fn set_label(moov: &mut Node, buf: &[u8], json: &str) -> Result<()> {
    let Body::Children { kids, .. } = &mut moov.body else {
        return Ok(());
    };
    let udta_at = match kids.iter().position(|k| &k.typ == b"udta") {
        Some(i) => i,
        None => {
            kids.push(Node {
                typ: *b"udta",
                uuid: None,
                large: false,
                offset: 0,
                body: Body::Children {
                    prefix: Vec::new(),
                    kids: Vec::new(),
                    suffix: Vec::new(),
                },
            });
            kids.len() - 1
        }
    };
    let Body::Children { kids: ukids, .. } = &mut kids[udta_at].body else {
        return Ok(());
    };
    let mdta: Vec<usize> = ukids
        .iter()
        .enumerate()
        .filter(|(_, k)| &k.typ == b"meta" && handler(k, buf) == Some(b"mdta".as_slice()))
        .map(|(i, _)| i)
        .collect();
    let first = match mdta.first() {
        Some(i) => *i,
        None => {
            ukids.push(new_meta());
            ukids.len() - 1
        }
    };
    edit_meta(&mut ukids[first], buf, Some(json))?;
    for i in mdta.into_iter().skip(1) {
        edit_meta(&mut ukids[i], buf, None)?;
    }
    Ok(())
}

/// What a first pass over the top-level boxes found.
struct Top {
    moov: Option<Head>,
    /// `moof`/`mfra` after `moov` (fragmented file with absolute offsets we do not rewrite).
    fragmented: bool,
    file_len: u64,
}

fn scan_top(
    src: &mut dyn Source,
    limits: &Limits,
    mut f: impl FnMut(&mut dyn Source, &Head) -> Result<()>,
) -> Result<Top> {
    let mut moov: Option<Head> = None;
    let mut fragmented = false;
    let file_len = walk_top(src, limits, |src, h| {
        match &h.typ {
            b"moov" => {
                if moov.is_some() {
                    return Err(Error::malformed(NAME, h.start, "a second 'moov' box"));
                }
                moov = Some(*h);
            }
            b"moof" | b"mfra" if moov.is_some() => fragmented = true,
            _ => {}
        }
        f(src, h)
    })?;
    Ok(Top {
        moov,
        fragmented,
        file_len,
    })
}

impl Format for Mp4 {
    fn name(&self) -> &'static str {
        NAME
    }

    fn media_type(&self) -> &'static str {
        "video/mp4"
    }

    fn patchable(&self) -> bool {
        true
    }

    fn detect(&self, head: &[u8]) -> bool {
        let Some(t) = head.get(4..8) else {
            return false;
        };
        match t {
            b"ftyp" => head
                .get(8..12)
                .is_some_and(|brand| !IMAGE_BRANDS.iter().any(|b| b.as_slice() == brand)),
            b"moov" | b"mdat" | b"wide" | b"free" | b"skip" => {
                be32(head, 0).is_some_and(|s| s == 1 || s >= 8)
            }
            _ => false,
        }
    }

    fn layout(&self, src: &mut dyn Source, limits: &Limits) -> Result<Layout> {
        let mut layout = Layout::default();
        let mut found: Vec<(u64, Carrier)> = Vec::new();
        let top = scan_top(src, limits, |src, h| {
            match &h.typ {
                b"ftyp" => push_range(&mut layout.essence, h.start..h.end),
                b"mdat" => push_range(&mut layout.essence, h.body..h.end),
                b"uuid" if h.uuid == Some(C2PA_UUID) => layout.has_c2pa = true,
                b"uuid" if h.uuid == Some(XMP_UUID) => {
                    let x = read_at(
                        src,
                        NAME,
                        "XMP uuid box",
                        h.body,
                        h.end - h.body,
                        limits.max_metadata,
                    )?;
                    if let Some(text) = xmp::find_aigc(&String::from_utf8_lossy(&x)) {
                        found.push((
                            h.start,
                            Carrier {
                                kind: "mp4:uuid:XMP".into(),
                                primary: false,
                                text,
                            },
                        ));
                    }
                }
                _ => {}
            }
            Ok(())
        })?;
        let Some(moov_head) = top.moov else {
            return Err(Error::malformed(NAME, 0, "no 'moov' box in the file"));
        };
        let counter = Counter::new(NAME, limits);
        let (mut buf, moov) = read_moov(src, &moov_head, limits, counter)?;
        check_offsets(&moov, &mut buf, top.file_len, None)?;
        found.extend(moov_carriers(&moov, &buf)?);
        found.sort_by_key(|(o, _)| *o);
        layout.carriers = found.into_iter().map(|(_, c)| c).collect();
        layout.shape = shape(&moov, &buf);
        Ok(layout)
    }

    fn write(
        &self,
        src: &mut dyn Source,
        dst: &mut dyn Write,
        json: &str,
        limits: &Limits,
    ) -> Result<()> {
        let plan = plan(src, json, limits)?;
        write_plan(src, dst, NAME, &plan)
    }

    fn plan(
        &self,
        src: &mut dyn Source,
        json: &str,
        limits: &Limits,
    ) -> Result<Option<Vec<Piece>>> {
        plan(src, json, limits).map(Some)
    }
}

/// The labelled copy: every top-level box unchanged but `moov`, rewritten with the label (and
/// its chunk offsets moved when it grows in front of the media).
fn plan(src: &mut dyn Source, json: &str, limits: &Limits) -> Result<Vec<Piece>> {
    if json.len() as u64 > limits.max_metadata {
        return Err(Error::too_large(
            NAME,
            0,
            "AIGC label",
            json.len() as u64,
            limits.max_metadata,
        ));
    }
    let top = scan_top(src, limits, |_, _| Ok(()))?;
    let Some(moov_head) = top.moov else {
        return Err(Error::malformed(NAME, 0, "no 'moov' box in the file"));
    };
    let counter = Counter::new(NAME, limits);
    let (mut buf, mut moov) = read_moov(src, &moov_head, limits, counter)?;
    check_offsets(&moov, &mut buf, top.file_len, None)?;
    set_label(&mut moov, &buf, json)?;
    let old_len = moov_head.end - moov_head.start;
    let new_len = moov.total_len();
    if new_len > limits.max_metadata {
        return Err(Error::too_large(
            NAME,
            moov_head.start,
            "rewritten moov box",
            new_len,
            limits.max_metadata,
        ));
    }
    let delta =
        i64::try_from(new_len).unwrap_or(i64::MAX) - i64::try_from(old_len).unwrap_or(i64::MAX);
    if delta != 0 && top.fragmented {
        return Err(Error::Unsupported(format!(
            "mp4 at byte {}: fragmented file (moof/mfra after moov): writing the label \
             would change the size of moov and the absolute offsets of the fragments",
            moov_head.start
        )));
    }
    if delta != 0 {
        check_offsets(&moov, &mut buf, top.file_len, Some((moov_head.end, delta)))?;
    }
    let mut new_moov = Vec::with_capacity(usize::try_from(new_len).unwrap_or(0));
    moov.serialize(&buf, &mut new_moov);
    drop(buf);
    let mut new_moov = Some(new_moov);
    let mut pieces = Vec::new();
    walk_top(src, limits, |_, h| {
        let piece = match new_moov.take_if(|_| h.start == moov_head.start) {
            Some(m) => Piece::Bytes(m),
            None => Piece::Copy(h.start..h.end),
        };
        push_piece(&mut pieces, piece);
        Ok(())
    })?;
    Ok(pieces)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use std::io::{Cursor, Read, Seek};

    fn bx(typ: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut v = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
        v.extend_from_slice(typ);
        v.extend_from_slice(payload);
        v
    }

    fn cat(parts: &[Vec<u8>]) -> Vec<u8> {
        parts.concat()
    }

    fn tkhd(w: u32, h: u32) -> Vec<u8> {
        let mut p = vec![0u8; 84];
        p[76..80].copy_from_slice(&(w << 16).to_be_bytes());
        p[80..84].copy_from_slice(&(h << 16).to_be_bytes());
        bx(b"tkhd", &p)
    }

    fn hdlr(h: &[u8; 4]) -> Vec<u8> {
        let mut p = vec![0u8; 8];
        p.extend_from_slice(h);
        p.extend_from_slice(&[0u8; 13]);
        bx(b"hdlr", &p)
    }

    fn stco(offsets: &[u32]) -> Vec<u8> {
        let mut p = vec![0u8; 4];
        p.extend_from_slice(&(offsets.len() as u32).to_be_bytes());
        for o in offsets {
            p.extend_from_slice(&o.to_be_bytes());
        }
        bx(b"stco", &p)
    }

    fn co64(offsets: &[u64]) -> Vec<u8> {
        let mut p = vec![0u8; 4];
        p.extend_from_slice(&(offsets.len() as u32).to_be_bytes());
        for o in offsets {
            p.extend_from_slice(&o.to_be_bytes());
        }
        bx(b"co64", &p)
    }

    fn keys(names: &[&str]) -> Vec<u8> {
        let mut p = vec![0u8; 4];
        p.extend_from_slice(&(names.len() as u32).to_be_bytes());
        for n in names {
            p.extend_from_slice(&((n.len() + 8) as u32).to_be_bytes());
            p.extend_from_slice(b"mdta");
            p.extend_from_slice(n.as_bytes());
        }
        bx(b"keys", &p)
    }

    fn item(index: u32, text: &str) -> Vec<u8> {
        label_item(index, text)
    }

    fn meta(kids: &[Vec<u8>]) -> Vec<u8> {
        let mut p = vec![0u8; 4];
        p.extend_from_slice(&kids.concat());
        bx(b"meta", &p)
    }

    fn itunes_meta() -> Vec<u8> {
        let too = {
            let mut d = vec![0, 0, 0, 1, 0, 0, 0, 0];
            d.extend_from_slice(b"Lavf");
            bx(b"\xa9too", &bx(b"data", &d))
        };
        meta(&[hdlr(b"mdir"), bx(b"ilst", &too)])
    }

    const MEDIA1: &[u8] = b"VIDEO-CHUNK-ONE.AUDIO-CHUNK-ONE.";
    const MEDIA2: &[u8] = b"VIDEO-CHUNK-TWO.";

    /// ftyp + moov + mdat (faststart) or ftyp + mdat + moov, with chunk offsets into the media.
    fn fixture(faststart: bool, udta: &[Vec<u8>], wide_offsets: bool) -> Vec<u8> {
        let ftyp = bx(b"ftyp", b"isom\0\0\x02\0isomiso2mp41");
        let build_moov = |offs: [u64; 3]| {
            let table = if wide_offsets {
                co64(&offs)
            } else {
                stco(&offs.map(|o| o as u32))
            };
            let stbl = bx(b"stbl", &cat(&[bx(b"stsd", &[0u8; 8]), table]));
            let minf = bx(b"minf", &cat(&[bx(b"dinf", &bx(b"dref", &[0u8; 8])), stbl]));
            let mdia = bx(b"mdia", &cat(&[hdlr(b"vide"), minf]));
            let trak = bx(b"trak", &cat(&[tkhd(320, 240), mdia]));
            let mut parts = vec![bx(b"mvhd", &[0u8; 100]), trak];
            if !udta.is_empty() {
                parts.push(bx(b"udta", &udta.concat()));
            }
            bx(b"moov", &cat(&parts))
        };
        let mdat1 = bx(b"mdat", MEDIA1);
        let mdat2 = bx(b"mdat", MEDIA2);
        let moov_len = build_moov([0; 3]).len() as u64;
        let media_start = ftyp.len() as u64 + if faststart { moov_len } else { 0 };
        let offs = [
            media_start + 8,
            media_start + 8 + 16,
            media_start + mdat1.len() as u64 + 8,
        ];
        let moov = build_moov(offs);
        if faststart {
            cat(&[ftyp, moov, mdat1, mdat2])
        } else {
            cat(&[ftyp, mdat1, mdat2, moov])
        }
    }

    fn layout(b: &[u8]) -> Result<Layout> {
        Mp4.layout(&mut Cursor::new(b), &Limits::default())
    }

    fn write(b: &[u8], json: &str) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        Mp4.write(&mut Cursor::new(b), &mut out, json, &Limits::default())?;
        Ok(out)
    }

    fn essence(b: &[u8]) -> Vec<u8> {
        let l = layout(b).unwrap();
        l.essence
            .iter()
            .flat_map(|r| b[r.start as usize..r.end as usize].to_vec())
            .collect()
    }

    /// The 16 bytes at every chunk offset.
    fn chunks(b: &[u8]) -> Vec<Vec<u8>> {
        let mut src = Cursor::new(b);
        let top = scan_top(&mut src, &Limits::default(), |_, _| Ok(())).unwrap();
        let (buf, moov) = read_moov(
            &mut src,
            &top.moov.unwrap(),
            &Limits::default(),
            Counter::new(NAME, &Limits::default()),
        )
        .unwrap();
        let mut boxes = Vec::new();
        chunk_offset_boxes(&moov, &mut boxes);
        let mut out = Vec::new();
        for n in boxes {
            let d = n.bytes(&buf);
            let w = if &n.typ == b"co64" { 8 } else { 4 };
            for c in d[8..].chunks(w) {
                let o = if w == 8 {
                    be64(c, 0).unwrap()
                } else {
                    u64::from(be32(c, 0).unwrap())
                } as usize;
                out.push(b[o..o + 16].to_vec());
            }
        }
        out
    }

    fn primaries(l: &Layout) -> Vec<&str> {
        l.carriers
            .iter()
            .filter(|c| c.primary)
            .map(|c| c.text.as_str())
            .collect()
    }

    #[test]
    fn detects() {
        let f = fixture(true, &[], false);
        assert!(Mp4.detect(&f[..64]));
        assert!(Mp4.detect(b"\0\0\0\x14ftypqt  \0\0\0\0qt  "));
        assert!(Mp4.detect(b"\0\0\0\x08wide\0\0\0\x10mdat"));
        assert!(!Mp4.detect(b"\0\0\0\x18ftypheic\0\0\0\0"));
        assert!(!Mp4.detect(b"\x89PNG\r\n\x1a\n"));
        assert!(!Mp4.detect(b"\0\0"));
    }

    #[test]
    fn round_trip_all_layouts() {
        let json = r#"{"AIGC":{"Label":"1","ContentProducer":"x"}}"#;
        let json2 = r#"{"AIGC":{"Label":"2","ContentProducer":"a much longer producer"}}"#;
        for faststart in [true, false] {
            for wide in [false, true] {
                for udta in [vec![], vec![itunes_meta()]] {
                    let f = fixture(faststart, &udta, wide);
                    let l0 = layout(&f).unwrap();
                    assert!(l0.carriers.is_empty());
                    assert_eq!(l0.shape, "320x240");
                    let c0 = chunks(&f);
                    assert_eq!(c0[0], MEDIA1[..16]);
                    assert_eq!(c0[2], MEDIA2[..16]);
                    let out = write(&f, json).unwrap();
                    let l1 = layout(&out).unwrap();
                    assert_eq!(primaries(&l1), vec![json]);
                    assert_eq!(essence(&f), essence(&out));
                    assert_eq!(l1.shape, "320x240");
                    assert_eq!(chunks(&out), c0, "faststart={faststart} co64={wide}");
                    if !faststart {
                        let mut src = Cursor::new(&f[..]);
                        let top = scan_top(&mut src, &Limits::default(), |_, _| Ok(())).unwrap();
                        let m = top.moov.unwrap().start as usize;
                        assert_eq!(out[..m], f[..m]);
                    }
                    let out2 = write(&out, json2).unwrap();
                    let l2 = layout(&out2).unwrap();
                    assert_eq!(primaries(&l2), vec![json2]);
                    assert_eq!(l2.carriers.len(), 1);
                    assert_eq!(essence(&f), essence(&out2));
                    assert_eq!(chunks(&out2), c0);
                    // Writing back the first label gives the first file again.
                    assert_eq!(write(&out2, json).unwrap(), out);
                }
            }
        }
    }

    #[test]
    fn keeps_other_keys_and_renumbers_duplicates() {
        let m = meta(&[
            hdlr(b"mdta"),
            keys(&["encoder", "AIGC", "title", "AIGC", "artist"]),
            bx(
                b"ilst",
                &cat(&[
                    item(1, "Lavf"),
                    item(2, "old label"),
                    item(3, "My title"),
                    item(4, "duplicate label"),
                    item(5, "Someone"),
                ]),
            ),
        ]);
        let f = fixture(true, &[m], false);
        let l = layout(&f).unwrap();
        assert_eq!(primaries(&l), vec!["old label", "duplicate label"]);
        let out = write(&f, "{}").unwrap();
        assert_eq!(primaries(&layout(&out).unwrap()), vec!["{}"]);
        assert_eq!(essence(&f), essence(&out));
        // Read back keys and items.
        let mut src = Cursor::new(&out[..]);
        let top = scan_top(&mut src, &Limits::default(), |_, _| Ok(())).unwrap();
        let lim = Limits::default();
        let (buf, moov) =
            read_moov(&mut src, &top.moov.unwrap(), &lim, Counter::new(NAME, &lim)).unwrap();
        let meta = moov.child(b"udta").unwrap().child(b"meta").unwrap();
        let k = parse_keys(meta.child(b"keys").unwrap(), &buf).unwrap();
        let names: Vec<_> = k
            .entries
            .iter()
            .map(|(_, n)| String::from_utf8(n.clone()).unwrap())
            .collect();
        assert_eq!(names, ["encoder", "AIGC", "title", "artist"]);
        let ilst = meta.child(b"ilst").unwrap();
        let b = ilst.bytes(&buf);
        let items: Vec<(u32, String)> = parse_ilst(ilst, &buf)
            .unwrap()
            .into_iter()
            .map(|(t, r)| (u32::from_be_bytes(t), item_text(&b[r], 0).unwrap().unwrap()))
            .collect();
        assert_eq!(
            items,
            [
                (1, "Lavf".to_string()),
                (2, "{}".to_string()),
                (3, "My title".to_string()),
                (4, "Someone".to_string())
            ]
        );
    }

    #[test]
    fn reads_secondary_carriers_and_c2pa() {
        // QuickTime-style moov/meta without version/flags, XMP uuid, XMP_ in udta, C2PA uuid.
        let qt_meta = {
            let body = cat(&[hdlr(b"mdta"), keys(&["AIGC"]), bx(b"ilst", &item(1, "qt"))]);
            bx(b"meta", &body)
        };
        let xmp_box = {
            let mut p = XMP_UUID.to_vec();
            p.extend_from_slice(xmp::packet("from-uuid").as_bytes());
            bx(b"uuid", &p)
        };
        let c2pa = {
            let mut p = C2PA_UUID.to_vec();
            p.extend_from_slice(b"jumbf...");
            bx(b"uuid", &p)
        };
        let xmp_ = bx(b"XMP_", xmp::packet("from-udta").as_bytes());
        let f = fixture(false, &[xmp_], false);
        // Insert moov/meta at the end of moov and append uuid boxes.
        let mut src = Cursor::new(&f[..]);
        let top = scan_top(&mut src, &Limits::default(), |_, _| Ok(())).unwrap();
        let m = top.moov.unwrap();
        let mut moov = f[m.start as usize..m.end as usize].to_vec();
        moov.extend_from_slice(&qt_meta);
        let n = moov.len() as u32;
        moov[..4].copy_from_slice(&n.to_be_bytes());
        let file = cat(&[f[..m.start as usize].to_vec(), moov, xmp_box, c2pa]);
        let l = layout(&file).unwrap();
        assert!(l.has_c2pa);
        let got: Vec<_> = l
            .carriers
            .iter()
            .map(|c| (c.kind.as_str(), c.primary, c.text.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("mp4:moov/udta/XMP_", false, "from-udta"),
                ("mp4:moov/meta:mdta:AIGC", false, "qt"),
                ("mp4:uuid:XMP", false, "from-uuid"),
            ]
        );
        let out = write(&file, "new").unwrap();
        let l2 = layout(&out).unwrap();
        assert_eq!(l2.carriers.len(), 4);
        assert_eq!(primaries(&l2), ["new"]);
        assert_eq!(essence(&file), essence(&out));
        assert!(l2.has_c2pa);
    }

    #[test]
    fn truncation_is_an_error() {
        let f = write(&fixture(true, &[itunes_meta()], false), "label").unwrap();
        for n in 0..f.len() {
            let p = &f[..n];
            assert!(layout(p).is_err(), "layout of prefix {n}");
            assert!(write(p, "x").is_err(), "write of prefix {n}");
        }
        let f = write(&fixture(false, &[], true), "label").unwrap();
        for n in 0..f.len() {
            assert!(layout(&f[..n]).is_err(), "layout of prefix {n}");
        }
    }

    #[test]
    fn hostile_sizes() {
        // A 64-bit size of 2^63.
        let mut f = b"\0\0\0\x01mdat".to_vec();
        f.extend_from_slice(&(1u64 << 63).to_be_bytes());
        f.extend_from_slice(&[0; 32]);
        let e = layout(&f).unwrap_err().to_string();
        assert!(e.contains("'mdat'") && e.contains("runs past"), "{e}");
        // Size smaller than the header.
        let e = layout(b"\0\0\0\x04free").unwrap_err().to_string();
        assert!(e.contains("less than its 8-byte header"), "{e}");
        // A 64-bit size of 0..15.
        let mut f = b"\0\0\0\x01free".to_vec();
        f.extend_from_slice(&9u64.to_be_bytes());
        assert!(layout(&f).is_err());
        // Size 0 inside a container.
        let f = cat(&[bx(b"moov", b"\0\0\0\0trak")]);
        let e = layout(&f).unwrap_err().to_string();
        assert!(e.contains("size 0"), "{e}");
        // A child running past its parent.
        let f = bx(b"moov", b"\0\0\0\x40trak\0\0\0\0");
        let e = layout(&f).unwrap_err().to_string();
        assert!(e.contains("end of its container"), "{e}");
        // 10,000 nested boxes.
        let mut nested = Vec::new();
        for _ in 0..10_000 {
            nested = bx(b"trak", &nested);
        }
        let f = bx(b"moov", &nested);
        match layout(&f) {
            Err(Error::TooLarge { what, .. }) => assert_eq!(what, "box nesting depth"),
            other => panic!("{other:?}"),
        }
        // A million and one tiny boxes.
        let f = b"\0\0\0\x08free".repeat(1_000_001);
        let t = std::time::Instant::now();
        match layout(&f) {
            Err(Error::TooLarge { what, .. }) => assert_eq!(what, "number of structures"),
            other => panic!("{other:?}"),
        }
        assert!(t.elapsed().as_secs() < 20);
        // Counts too big for their boxes.
        let mut big_keys = keys(&["AIGC"]);
        big_keys[12..16].copy_from_slice(&u32::MAX.to_be_bytes());
        let m = meta(&[hdlr(b"mdta"), big_keys, bx(b"ilst", &item(1, "x"))]);
        let e = layout(&fixture(true, std::slice::from_ref(&m), false))
            .unwrap_err()
            .to_string();
        assert!(e.contains("'keys'"), "{e}");
        assert!(write(&fixture(true, &[m], false), "x").is_err());
        let mut f = fixture(false, &[], false);
        let at = f.windows(4).position(|w| w == b"stco").unwrap();
        f[at + 8..at + 12].copy_from_slice(&u32::MAX.to_be_bytes());
        let e = layout(&f).unwrap_err().to_string();
        assert!(e.contains("chunk offsets"), "{e}");
        // A chunk offset past the end of the file.
        let mut f = fixture(false, &[], false);
        let at = f.windows(4).position(|w| w == b"stco").unwrap();
        f[at + 12..at + 16].copy_from_slice(&u32::MAX.to_be_bytes());
        let e = layout(&f).unwrap_err().to_string();
        assert!(e.contains("past the end of the file"), "{e}");
        // moov over the metadata limit.
        let f = fixture(true, &[], false);
        let small = Limits {
            max_metadata: 64,
            ..Limits::default()
        };
        assert!(matches!(
            Mp4.layout(&mut Cursor::new(&f), &small),
            Err(Error::TooLarge { .. })
        ));
        // No moov at all.
        assert!(layout(&bx(b"ftyp", b"isom")).is_err());
    }

    /// A source of `len` bytes: `head`, then zeros.
    struct Sparse {
        head: Vec<u8>,
        len: u64,
        pos: u64,
    }

    impl Read for Sparse {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = (self.len.saturating_sub(self.pos)).min(buf.len() as u64) as usize;
            for (i, b) in buf[..n].iter_mut().enumerate() {
                *b = self
                    .head
                    .get((self.pos + i as u64) as usize)
                    .copied()
                    .unwrap_or(0);
            }
            self.pos += n as u64;
            Ok(n)
        }
    }

    impl Seek for Sparse {
        fn seek(&mut self, p: SeekFrom) -> std::io::Result<u64> {
            self.pos = match p {
                SeekFrom::Start(s) => s,
                SeekFrom::End(e) => self.len.saturating_add_signed(e),
                SeekFrom::Current(c) => self.pos.saturating_add_signed(c),
            };
            Ok(self.pos)
        }
    }

    #[test]
    fn stco_overflow_is_a_clear_error() {
        // moov in front of a 4 GiB mdat whose last chunk sits just below 2^32.
        let f = fixture(true, &[], false);
        let mut src = Cursor::new(&f[..]);
        let top = scan_top(&mut src, &Limits::default(), |_, _| Ok(())).unwrap();
        let m = top.moov.unwrap();
        let mut head = f[..m.end as usize].to_vec();
        let at = head.windows(4).position(|w| w == b"stco").unwrap();
        head[at + 20..at + 24].copy_from_slice(&(u32::MAX - 2).to_be_bytes());
        let total = u64::from(u32::MAX) + 100;
        let mdat_size = total - m.end;
        head.extend_from_slice(&1u32.to_be_bytes());
        head.extend_from_slice(b"mdat");
        head.extend_from_slice(&mdat_size.to_be_bytes());
        let mut s = Sparse {
            head,
            len: total,
            pos: 0,
        };
        let l = Mp4.layout(&mut s, &Limits::default()).unwrap();
        assert_eq!(l.essence, vec![0..28, m.end + 16..total]);
        let mut out = Vec::new();
        let e = Mp4
            .write(&mut s, &mut out, "label", &Limits::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("does not fit in 32 bits"), "{e}");
        assert!(out.is_empty());
    }

    #[test]
    fn size_forms_terminators_and_orphans() {
        // moov last with size 0 (to the end of the file); mdat with a 64-bit header.
        let f = fixture(false, &[], false);
        let mut src = Cursor::new(&f[..]);
        let top = scan_top(&mut src, &Limits::default(), |_, _| Ok(())).unwrap();
        let m = top.moov.unwrap();
        let mut g = f.clone();
        g[m.start as usize..m.start as usize + 4].copy_from_slice(&[0; 4]);
        let out = write(&g, "zero").unwrap();
        assert_eq!(primaries(&layout(&out).unwrap()), ["zero"]);
        assert_eq!(essence(&g), essence(&out));
        // Size 0 anywhere but last is impossible (it runs to the end); inside moov it is refused.
        let ftyp = bx(b"ftyp", b"isom\0\0\0\0");
        let mut large = 1u32.to_be_bytes().to_vec();
        large.extend_from_slice(b"mdat");
        large.extend_from_slice(&(16 + MEDIA1.len() as u64).to_be_bytes());
        large.extend_from_slice(MEDIA1);
        let moov_for = |at: u32| {
            let stbl = bx(b"stbl", &stco(&[at]));
            let minf = bx(b"minf", &stbl);
            let mdia = bx(b"mdia", &cat(&[hdlr(b"soun"), minf]));
            // udta ending with QuickTime's 32-bit zero terminator.
            let udta = bx(b"udta", &cat(&[bx(b"name", b"x"), vec![0; 4]]));
            bx(b"moov", &cat(&[bx(b"trak", &mdia), udta]))
        };
        let at = (ftyp.len() + moov_for(0).len() + 16) as u32;
        let f = cat(&[ftyp.clone(), moov_for(at), large]);
        let l = layout(&f).unwrap();
        assert_eq!(l.shape, "audio");
        assert_eq!(
            l.essence,
            vec![0..ftyp.len() as u64, at as u64..f.len() as u64]
        );
        let out = write(&f, "label").unwrap();
        assert_eq!(essence(&f), essence(&out));
        assert_eq!(chunks(&out), chunks(&f));
        // The terminator stays at the end of udta (which ends moov, then the 64-bit mdat).
        assert_eq!(count_of(&out, b"label\0\0\0\0\0\0\0\x01mdat"), 1);

        // An ilst item whose index has no key is dropped when the label takes that index.
        let m = meta(&[
            hdlr(b"mdta"),
            keys(&["encoder"]),
            bx(b"ilst", &cat(&[item(1, "Lavf"), item(2, "orphan")])),
        ]);
        let f = fixture(true, &[m], false);
        assert!(layout(&f).unwrap().carriers.is_empty());
        let out = write(&f, "label").unwrap();
        assert_eq!(primaries(&layout(&out).unwrap()), ["label"]);
        assert_eq!(count_of(&out, b"orphan"), 0);
        assert_eq!(count_of(&out, b"Lavf"), 1);
    }

    fn count_of(hay: &[u8], needle: &[u8]) -> usize {
        hay.windows(needle.len()).filter(|w| *w == needle).count()
    }

    #[test]
    fn fragmented_files_are_refused_when_moov_moves_fragments() {
        let f = fixture(false, &[], false);
        let frag = cat(&[
            f.clone(),
            bx(b"moof", &bx(b"mfhd", &[0; 8])),
            bx(b"mdat", b"fragment"),
        ]);
        assert!(layout(&frag).is_ok());
        assert!(matches!(write(&frag, "x"), Err(Error::Unsupported(_))));
    }

    #[test]
    fn the_labelled_copy_fits_the_limits_it_is_read_with() {
        let smallest = crate::formats::testing::labels_read_back_under_every_limit(
            &Mp4,
            &fixture(true, &[], false),
            2048,
        );
        assert!(smallest > 1, "{smallest}");
    }
}
