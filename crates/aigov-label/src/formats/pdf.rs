//! PDF.
//!
//! Carrier: the key `/AIGC` of the document information dictionary (the trailer's `/Info`),
//! a PDF text string (read: literal or hex, PDFDocEncoding, UTF-16BE or UTF-8 with their byte
//! order marks; written: a literal string when the label is printable ASCII, else a UTF-16BE
//! hex string). Also read (not primary): `TC260:AIGC` in the catalog's XMP `/Metadata` stream.
//!
//! Writing is an incremental update: the original bytes are copied unchanged (streaming), then
//! a section is appended that starts with the comment line `%aigov-label`, holds a new version
//! of the Info object (the same object number when the document has one, with every other
//! entry copied verbatim) plus a cross-reference section for it (a classic `xref` table when the
//! newest section of the original is one, else an uncompressed cross-reference stream), and a
//! trailer with `/Size`, `/Root`, `/Info`, `/Prev` and `/ID` as before. When the newest update of
//! the file is our own and nothing follows it, it is dropped and rebuilt instead of stacking a
//! second one.
//!
//! Essence: the whole file except its *label sections*: incremental updates whose
//! cross-reference section lists exactly one object (besides the cross-reference stream itself)
//! and that object is the Info dictionary, placed before the section, and whose trailer keeps
//! the `/Root` and `/Encrypt` of the update before. Ours start at the line feed before
//! `%aigov-label`; those of other writers right after the line end that follows the previous
//! `%%EOF`; both end after their own `%%EOF` line (the one after `startxref <their offset>`),
//! and hold no other cross-reference section. Everything else, the original document and any
//! later update that changes content, is covered. Objects are never looked for (when an offset
//! is wrong) inside label sections.
//!
//! Limits: encrypted documents are not labelled (their strings would need encrypting) and their
//! label is not read; only `FlateDecode` (with PNG predictors) is decoded, for cross-reference
//! and object streams; no C2PA detection.

use std::collections::{HashMap, HashSet};
use std::io::{Read, Seek, SeekFrom, Write};
use std::ops::Range;

use crate::format::{
    Carrier, Counter, Format, Layout, Limits, Source, copy_range, len, read_at, read_up_to,
};
use crate::{Error, Result, xmp};

const NAME: &str = "pdf";
/// What our update sections start with (the line feed included).
const MARKER: &[u8] = b"\n%aigov-label\n";
/// First window read when parsing an object or a cross-reference section.
const WINDOW: u64 = 16 * 1024;
/// How far from the end of the file `startxref` is looked for.
const TAIL: u64 = 4096;
/// How far from a label section's objects the surrounding `%%EOF` lines are looked for.
const NEAR: u64 = 64 * 1024;
/// Deepest chain of indirect lookups (a stream length inside an object stream, …).
const MAX_INDIRECT: usize = 8;

/// The PDF format.
pub struct Pdf;

// ---------------------------------------------------------------------------------------------
// Lexing and parsing

/// A parsed object. Dictionary entries keep the byte range of `/Key value` in the parsed buffer.
#[derive(Debug, Clone, PartialEq)]
enum Obj {
    Null,
    Bool(bool),
    Int(i64),
    Real,
    Str(Vec<u8>),
    Name(Vec<u8>),
    Array(Vec<Obj>),
    Dict(Dict),
    Ref(u32, u16),
}

#[derive(Debug, Clone, Default, PartialEq)]
struct Dict {
    entries: Vec<(Vec<u8>, Obj, Range<usize>)>,
}

impl Dict {
    fn get(&self, key: &[u8]) -> Option<&Obj> {
        self.entries
            .iter()
            .rev()
            .find(|(k, _, _)| k == key)
            .map(|(_, v, _)| v)
    }

    fn int(&self, key: &[u8]) -> Option<i64> {
        match self.get(key) {
            Some(Obj::Int(i)) => Some(*i),
            _ => None,
        }
    }

    fn reference(&self, key: &[u8]) -> Option<(u32, u16)> {
        match self.get(key) {
            Some(Obj::Ref(n, g)) => Some((*n, *g)),
            _ => None,
        }
    }

    fn raw<'a>(&self, key: &[u8], buf: &'a [u8]) -> Option<&'a [u8]> {
        let (_, _, r) = self.entries.iter().rev().find(|(k, _, _)| k == key)?;
        let entry = buf.get(r.clone())?;
        // Drop the key: `/Key` is a name token followed by the value.
        let after = entry.iter().skip(1).position(|c| !is_regular(*c))? + 1;
        let value = &entry[after..];
        let ws = value.iter().take_while(|c| is_ws(**c)).count();
        Some(&value[ws..])
    }
}

/// Why parsing stopped.
#[derive(Debug)]
enum Fail {
    /// The buffer ended inside the structure (more bytes may complete it).
    Eof,
    /// Malformed at a position of the buffer.
    Bad(usize, String),
    /// Nesting deeper than the limit.
    Deep(usize),
}

type PResult<T> = std::result::Result<T, Fail>;

fn is_ws(c: u8) -> bool {
    matches!(c, 0 | 9 | 10 | 12 | 13 | 32)
}

fn is_delim(c: u8) -> bool {
    matches!(
        c,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}

fn is_regular(c: u8) -> bool {
    !is_ws(c) && !is_delim(c)
}

struct Lexer<'a> {
    b: &'a [u8],
    pos: usize,
    max_depth: usize,
}

impl<'a> Lexer<'a> {
    fn new(b: &'a [u8], pos: usize, max_depth: usize) -> Self {
        Lexer { b, pos, max_depth }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            if is_ws(c) {
                self.pos += 1;
            } else if c == b'%' {
                while let Some(c) = self.peek() {
                    if c == b'\n' || c == b'\r' {
                        break;
                    }
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
    }

    fn bad<T>(&self, msg: impl Into<String>) -> PResult<T> {
        Err(Fail::Bad(self.pos, msg.into()))
    }

    /// A run of regular characters (a number or a keyword); `Eof` when it reaches the end of
    /// the buffer, where it might continue.
    fn token(&mut self) -> PResult<&'a [u8]> {
        self.skip_ws();
        let start = self.pos;
        while self.peek().is_some_and(is_regular) {
            self.pos += 1;
        }
        if self.pos >= self.b.len() {
            return Err(Fail::Eof);
        }
        if start == self.pos {
            return self.bad("expected a number or a keyword");
        }
        Ok(&self.b[start..self.pos])
    }

    fn keyword(&mut self, kw: &[u8]) -> PResult<bool> {
        let save = self.pos;
        self.skip_ws();
        if !self.peek().is_some_and(is_regular) {
            if self.pos >= self.b.len() {
                return Err(Fail::Eof);
            }
            self.pos = save;
            return Ok(false);
        }
        if self.token()? == kw {
            Ok(true)
        } else {
            self.pos = save;
            Ok(false)
        }
    }

    fn int(&mut self) -> PResult<i64> {
        let t = self.token()?;
        match std::str::from_utf8(t).ok().and_then(|s| s.parse().ok()) {
            Some(i) => Ok(i),
            None => self.bad(format!("expected an integer, found '{}'", t.escape_ascii())),
        }
    }

    fn object(&mut self, depth: usize) -> PResult<Obj> {
        if depth > self.max_depth {
            return Err(Fail::Deep(self.pos));
        }
        self.skip_ws();
        let c = self.peek().ok_or(Fail::Eof)?;
        match c {
            b'/' => Ok(Obj::Name(self.name()?)),
            b'(' => self.literal(),
            b'<' => match self.b.get(self.pos + 1) {
                None => Err(Fail::Eof),
                Some(b'<') => self.dict(depth),
                Some(_) => self.hex(),
            },
            b'[' => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_ws();
                    match self.peek() {
                        None => return Err(Fail::Eof),
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(Obj::Array(items));
                        }
                        Some(_) => items.push(self.object(depth + 1)?),
                    }
                }
            }
            b'+' | b'-' | b'.' | b'0'..=b'9' => self.number(),
            c if is_regular(c) => match self.token()? {
                b"true" => Ok(Obj::Bool(true)),
                b"false" => Ok(Obj::Bool(false)),
                b"null" => Ok(Obj::Null),
                t => {
                    let msg = format!("unexpected keyword '{}'", t.escape_ascii());
                    self.bad(msg)
                }
            },
            c => self.bad(format!("unexpected character '{}'", c.escape_ascii())),
        }
    }

    fn name(&mut self) -> PResult<Vec<u8>> {
        self.pos += 1;
        let start = self.pos;
        while self.peek().is_some_and(is_regular) {
            self.pos += 1;
        }
        if self.pos >= self.b.len() {
            return Err(Fail::Eof);
        }
        let raw = &self.b[start..self.pos];
        let mut out = Vec::with_capacity(raw.len());
        let mut i = 0;
        while i < raw.len() {
            let h = |c: Option<&u8>| c.and_then(|c| (*c as char).to_digit(16));
            if raw[i] == b'#'
                && let (Some(a), Some(b)) = (h(raw.get(i + 1)), h(raw.get(i + 2)))
            {
                out.push((a * 16 + b) as u8);
                i += 3;
                continue;
            }
            out.push(raw[i]);
            i += 1;
        }
        Ok(out)
    }

    fn literal(&mut self) -> PResult<Obj> {
        self.pos += 1;
        let mut out = Vec::new();
        let mut nest = 1usize;
        loop {
            let c = self.peek().ok_or(Fail::Eof)?;
            self.pos += 1;
            match c {
                b'\\' => {
                    let e = self.peek().ok_or(Fail::Eof)?;
                    self.pos += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'0'..=b'7' => {
                            let mut v = u32::from(e - b'0');
                            for _ in 0..2 {
                                match self.peek() {
                                    Some(d @ b'0'..=b'7') => {
                                        v = v * 8 + u32::from(d - b'0');
                                        self.pos += 1;
                                    }
                                    _ => break,
                                }
                            }
                            out.push((v & 0xFF) as u8);
                        }
                        b'\r' => {
                            if self.peek() == Some(b'\n') {
                                self.pos += 1;
                            }
                        }
                        b'\n' => {}
                        e => out.push(e),
                    }
                }
                b'(' => {
                    nest += 1;
                    out.push(c);
                }
                b')' => {
                    nest -= 1;
                    if nest == 0 {
                        return Ok(Obj::Str(out));
                    }
                    out.push(c);
                }
                b'\r' => {
                    if self.peek() == Some(b'\n') {
                        self.pos += 1;
                    }
                    out.push(b'\n');
                }
                c => out.push(c),
            }
        }
    }

    fn hex(&mut self) -> PResult<Obj> {
        self.pos += 1;
        let mut nibbles = Vec::new();
        loop {
            let c = self.peek().ok_or(Fail::Eof)?;
            self.pos += 1;
            if c == b'>' {
                break;
            }
            if is_ws(c) {
                continue;
            }
            match (c as char).to_digit(16) {
                Some(d) => nibbles.push(d as u8),
                None => return self.bad("bad character in a hex string"),
            }
        }
        if nibbles.len() % 2 == 1 {
            nibbles.push(0);
        }
        Ok(Obj::Str(
            nibbles.chunks_exact(2).map(|p| p[0] * 16 + p[1]).collect(),
        ))
    }

    fn dict(&mut self, depth: usize) -> PResult<Obj> {
        self.pos += 2;
        let mut d = Dict::default();
        loop {
            self.skip_ws();
            match self.peek() {
                None => return Err(Fail::Eof),
                Some(b'>') => match self.b.get(self.pos + 1) {
                    None => return Err(Fail::Eof),
                    Some(b'>') => {
                        self.pos += 2;
                        return Ok(Obj::Dict(d));
                    }
                    Some(_) => return self.bad("'>' inside a dictionary"),
                },
                Some(b'/') => {
                    let start = self.pos;
                    let key = self.name()?;
                    let value = self.object(depth + 1)?;
                    d.entries.push((key, value, start..self.pos));
                }
                Some(_) => return self.bad("dictionary key is not a name"),
            }
        }
    }

    fn number(&mut self) -> PResult<Obj> {
        let t = self.token()?;
        let s = std::str::from_utf8(t).unwrap_or("");
        let Ok(n) = s.parse::<i64>() else {
            let numeric = !s.is_empty()
                && s.bytes()
                    .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'+' | b'-'));
            return if numeric {
                Ok(Obj::Real)
            } else {
                self.bad(format!("bad number '{}'", t.escape_ascii()))
            };
        };
        // `N G R`?
        let Ok(num) = u32::try_from(n) else {
            return Ok(Obj::Int(n));
        };
        let save = self.pos;
        self.skip_ws();
        match self.peek() {
            None => return Err(Fail::Eof),
            Some(d) if d.is_ascii_digit() => {
                let g = self.token()?;
                let generation = std::str::from_utf8(g)
                    .ok()
                    .and_then(|s| s.parse::<u16>().ok());
                if let Some(generation) = generation {
                    self.skip_ws();
                    match (self.peek(), self.b.get(self.pos + 1)) {
                        (None, _) | (Some(b'R'), None) => return Err(Fail::Eof),
                        (Some(b'R'), Some(c)) if !is_regular(*c) => {
                            self.pos += 1;
                            return Ok(Obj::Ref(num, generation));
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
        self.pos = save;
        Ok(Obj::Int(n))
    }

    /// `N G obj <object>` and, for a stream, the position of its data.
    fn indirect(&mut self) -> PResult<(u32, u16, Obj, Option<usize>)> {
        let n = self.int()?;
        let g = self.int()?;
        let (Ok(n), Ok(g)) = (u32::try_from(n), u16::try_from(g)) else {
            return self.bad("bad object number or generation");
        };
        if !self.keyword(b"obj")? {
            return self.bad("expected 'obj'");
        }
        let obj = self.object(1)?;
        let mut stream = None;
        if matches!(obj, Obj::Dict(_)) && self.keyword(b"stream")? {
            match self.peek() {
                Some(b'\r') => {
                    self.pos += 1;
                    if self.peek() == Some(b'\n') {
                        self.pos += 1;
                    }
                }
                Some(b'\n') => self.pos += 1,
                None => return Err(Fail::Eof),
                Some(_) => {}
            }
            stream = Some(self.pos);
        }
        Ok((n, g, obj, stream))
    }
}

// ---------------------------------------------------------------------------------------------
// Text strings

const PDFDOC_18: [char; 8] = ['˘', 'ˇ', 'ˆ', '˙', '˝', '˛', '˚', '˜'];
const PDFDOC_80: [char; 33] = [
    '•', '†', '‡', '…', '—', '–', 'ƒ', '⁄', '‹', '›', '−', '‰', '„', '“', '”', '‘', '’', '‚', '™',
    'ﬁ', 'ﬂ', 'Ł', 'Œ', 'Š', 'Ÿ', 'Ž', 'ı', 'ł', 'œ', 'š', 'ž', '\u{fffd}', '€',
];

/// Decodes a PDF text string.
fn text(b: &[u8]) -> String {
    if let Some(u) = b.strip_prefix(&[0xFE, 0xFF]) {
        let units: Vec<u16> = u
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        return String::from_utf16_lossy(&units);
    }
    if let Some(u) = b.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return String::from_utf8_lossy(u).into_owned();
    }
    b.iter()
        .map(|&c| match c {
            0x18..=0x1F => PDFDOC_18[usize::from(c - 0x18)],
            0x80..=0xA0 => PDFDOC_80[usize::from(c - 0x80)],
            c => char::from(c),
        })
        .collect()
}

/// Encodes a text string: literal for printable ASCII, else UTF-16BE hex with a BOM.
fn encode_text(s: &str) -> Vec<u8> {
    if s.bytes()
        .all(|c| (0x20..0x7F).contains(&c) || c == b'\n' || c == b'\t')
    {
        let mut out = vec![b'('];
        for c in s.bytes() {
            match c {
                b'\\' | b'(' | b')' => out.extend_from_slice(&[b'\\', c]),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\t' => out.extend_from_slice(b"\\t"),
                c => out.push(c),
            }
        }
        out.push(b')');
        out
    } else {
        let mut out = b"<FEFF".to_vec();
        for u in s.encode_utf16() {
            out.extend_from_slice(format!("{u:04X}").as_bytes());
        }
        out.push(b'>');
        out
    }
}

// ---------------------------------------------------------------------------------------------
// Streams

fn inflate(data: &[u8], limit: u64, at: u64) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut z = flate2::read::ZlibDecoder::new(data).take(limit.saturating_add(1));
    z.read_to_end(&mut out)
        .map_err(|e| Error::malformed(NAME, at, format!("bad FlateDecode stream: {e}")))?;
    if out.len() as u64 > limit {
        return Err(Error::too_large(
            NAME,
            at,
            "decompressed stream",
            out.len() as u64,
            limit,
        ));
    }
    Ok(out)
}

fn unpredict(data: Vec<u8>, parms: Option<&Dict>, at: u64) -> Result<Vec<u8>> {
    let get = |k: &[u8], d: i64| parms.and_then(|p| p.int(k)).unwrap_or(d);
    let predictor = get(b"Predictor", 1);
    if predictor <= 1 {
        return Ok(data);
    }
    let bad = |m: &str| Error::malformed(NAME, at, m.to_string());
    if predictor < 10 {
        return Err(bad("TIFF predictor is not supported"));
    }
    let (colors, bpc, columns) = (
        get(b"Colors", 1),
        get(b"BitsPerComponent", 8),
        get(b"Columns", 1),
    );
    if !(1..=32).contains(&colors)
        || ![1, 2, 4, 8, 16].contains(&bpc)
        || !(1..=1 << 24).contains(&columns)
    {
        return Err(bad("bad predictor parameters"));
    }
    let bpp = usize::try_from((colors * bpc + 7) / 8).unwrap_or(1);
    let row = usize::try_from((colors * bpc * columns + 7) / 8).unwrap_or(1);
    if row >= data.len() {
        return Ok(Vec::new());
    }
    let mut out = Vec::with_capacity(data.len());
    let mut prev = vec![0u8; row];
    for chunk in data.chunks(row + 1) {
        if chunk.len() < row + 1 {
            break;
        }
        let kind = chunk[0];
        let mut cur = chunk[1..].to_vec();
        for i in 0..row {
            let a = if i >= bpp { cur[i - bpp] } else { 0 };
            let b = prev[i];
            let c = if i >= bpp { prev[i - bpp] } else { 0 };
            let add = match kind {
                0 => 0,
                1 => a,
                2 => b,
                3 => ((u16::from(a) + u16::from(b)) / 2) as u8,
                4 => {
                    let p = i16::from(a) + i16::from(b) - i16::from(c);
                    let (pa, pb, pc) = (
                        (p - i16::from(a)).abs(),
                        (p - i16::from(b)).abs(),
                        (p - i16::from(c)).abs(),
                    );
                    if pa <= pb && pa <= pc {
                        a
                    } else if pb <= pc {
                        b
                    } else {
                        c
                    }
                }
                _ => return Err(bad("bad PNG predictor row type")),
            };
            cur[i] = cur[i].wrapping_add(add);
        }
        out.extend_from_slice(&cur);
        prev = cur;
    }
    Ok(out)
}

/// Applies the stream's filters (FlateDecode only).
fn decode(dict: &Dict, data: Vec<u8>, limit: u64, at: u64) -> Result<Vec<u8>> {
    let filters: Vec<&Obj> = match dict.get(b"Filter") {
        None | Some(Obj::Null) => Vec::new(),
        Some(Obj::Array(a)) => a.iter().collect(),
        Some(f) => vec![f],
    };
    let parms: Vec<Option<&Dict>> = match dict.get(b"DecodeParms") {
        Some(Obj::Dict(d)) => vec![Some(d)],
        Some(Obj::Array(a)) => a
            .iter()
            .map(|p| match p {
                Obj::Dict(d) => Some(d),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    let mut data = data;
    for (i, f) in filters.iter().enumerate() {
        match f {
            Obj::Name(n) if n == b"FlateDecode" || n == b"Fl" => {
                data = inflate(&data, limit, at)?;
                data = unpredict(data, parms.get(i).copied().flatten(), at)?;
            }
            Obj::Name(n) => {
                return Err(Error::Unsupported(format!(
                    "pdf at byte {at}: stream filter /{} is not supported",
                    n.escape_ascii()
                )));
            }
            _ => return Err(Error::malformed(NAME, at, "bad /Filter")),
        }
    }
    Ok(data)
}

// ---------------------------------------------------------------------------------------------
// The document

#[derive(Debug, Clone, Copy, PartialEq)]
enum Entry {
    Free,
    Used { offset: u64, generation: u16 },
    Compressed { stream: u32, index: u32 },
}

/// One cross-reference section and its trailer.
#[derive(Debug)]
struct Section {
    /// Where `startxref`/`/Prev` pointed.
    offset: u64,
    /// Object number of the cross-reference stream (None for a classic table).
    stream_obj: Option<u32>,
    trailer: Dict,
    /// Raw bytes of the trailer's `/ID` value.
    id_raw: Option<Vec<u8>>,
    entries: Vec<(u32, Entry)>,
    /// A classic section with an `/XRefStm` (hybrid file).
    hybrid: bool,
}

/// An object read from the file.
struct Loaded {
    obj: Obj,
    /// The buffer the object's ranges refer to.
    buf: Vec<u8>,
    /// Absolute offset of the stream data, for a stream in the file.
    stream: Option<u64>,
    /// Absolute offset of the object (for messages).
    at: u64,
}

/// A decoded object stream: its number, data, and (object number, offset in data) pairs.
struct ObjStm {
    num: u32,
    data: Vec<u8>,
    members: Vec<(u32, usize)>,
}

/// Where the label sections are.
struct LabelSections {
    /// Their byte ranges, ascending.
    ranges: Vec<Range<u64>>,
    /// The newest section when it is ours and ends the file.
    ours_last: Option<Range<u64>>,
}

struct Doc<'s> {
    src: &'s mut dyn Source,
    len: u64,
    limits: Limits,
    counter: Counter,
    startxref: u64,
    /// Newest first.
    sections: Vec<Section>,
    map: HashMap<u32, Entry>,
    /// The last object stream decoded.
    objstm: Option<ObjStm>,
    /// The label sections' ranges, found on the first scan for an object.
    scan_skip: Option<Vec<Range<u64>>>,
    /// Every object number looked up (found or not, through the cross-reference sections or
    /// by scanning).
    looked_up: HashSet<u32>,
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

impl<'s> Doc<'s> {
    fn load(src: &'s mut dyn Source, limits: &Limits) -> Result<Doc<'s>> {
        let len = len(src)?;
        let head = read_at(src, NAME, "header", 0, len.min(5), 5)?;
        if head != b"%PDF-" {
            return Err(Error::malformed(NAME, 0, "no %PDF- header"));
        }
        let tail_start = len.saturating_sub(TAIL);
        let tail = read_at(src, NAME, "end of file", tail_start, len - tail_start, TAIL)?;
        let no_start = || {
            Error::malformed(
                NAME,
                len,
                "no 'startxref <offset> %%EOF' at the end of the file (truncated?)",
            )
        };
        let at = rfind(&tail, b"startxref").ok_or_else(no_start)?;
        let mut lx = Lexer::new(&tail, at + 9, limits.max_depth);
        let startxref = match lx.int() {
            Ok(v) => v,
            Err(_) => return Err(no_start()),
        };
        let rest = &tail[lx.pos..];
        let ws = rest.iter().take_while(|c| is_ws(**c)).count();
        if !rest[ws..].starts_with(b"%%EOF") {
            return Err(no_start());
        }
        let startxref = u64::try_from(startxref)
            .ok()
            .filter(|s| *s < len)
            .ok_or_else(|| {
                Error::malformed(
                    NAME,
                    tail_start + at as u64,
                    format!("startxref {startxref} points outside the file"),
                )
            })?;
        let mut doc = Doc {
            src,
            len,
            limits: *limits,
            counter: Counter::new(NAME, limits),
            startxref,
            sections: Vec::new(),
            map: HashMap::new(),
            objstm: None,
            scan_skip: None,
            looked_up: HashSet::new(),
        };
        let mut seen = HashSet::new();
        let mut next = Some(startxref);
        while let Some(off) = next {
            doc.counter.tick(off)?;
            if !seen.insert(off) {
                return Err(Error::malformed(
                    NAME,
                    off,
                    "cross-reference sections form a loop (/Prev)",
                ));
            }
            let mut sec = doc.section(off)?;
            if let Some(stm) = sec
                .trailer
                .int(b"XRefStm")
                .and_then(|v| u64::try_from(v).ok())
            {
                sec.hybrid = true;
                if seen.insert(stm) {
                    let extra = doc.section(stm)?;
                    // The section's own entries take precedence over its /XRefStm.
                    for e in extra.entries {
                        doc.map.entry(e.0).or_insert(e.1);
                    }
                }
            }
            for e in &sec.entries {
                doc.map.entry(e.0).or_insert(e.1);
            }
            next = match sec.trailer.get(b"Prev") {
                None => None,
                Some(Obj::Int(p)) => {
                    Some(u64::try_from(*p).ok().filter(|p| *p < len).ok_or_else(|| {
                        Error::malformed(NAME, off, format!("/Prev {p} points outside the file"))
                    })?)
                }
                Some(_) => return Err(Error::malformed(NAME, off, "/Prev is not an integer")),
            };
            doc.sections.push(sec);
        }
        Ok(doc)
    }

    /// Parses the structure at `offset` with `f`, reading a growing window of the file.
    fn parse_at<T>(
        &mut self,
        offset: u64,
        what: &'static str,
        mut f: impl FnMut(&mut Lexer) -> PResult<T>,
    ) -> Result<(T, Vec<u8>)> {
        let mut size = WINDOW;
        loop {
            let left = self.len.saturating_sub(offset);
            let n = size.min(left).min(self.limits.max_metadata);
            let buf = read_at(self.src, NAME, what, offset, n, self.limits.max_metadata)?;
            let mut lx = Lexer::new(&buf, 0, self.limits.max_depth);
            match f(&mut lx) {
                Ok(t) => return Ok((t, buf)),
                Err(Fail::Eof) if n < left && n < self.limits.max_metadata => size *= 4,
                Err(Fail::Eof) if n < left => {
                    return Err(Error::too_large(
                        NAME,
                        offset,
                        what,
                        left,
                        self.limits.max_metadata,
                    ));
                }
                Err(Fail::Eof) => {
                    return Err(Error::malformed(
                        NAME,
                        offset,
                        format!("{what} is cut short by the end of the file"),
                    ));
                }
                Err(Fail::Bad(p, m)) => {
                    return Err(Error::malformed(
                        NAME,
                        offset + p as u64,
                        format!("{what}: {m}"),
                    ));
                }
                Err(Fail::Deep(p)) => {
                    return Err(Error::too_large(
                        NAME,
                        offset + p as u64,
                        "object nesting depth",
                        self.limits.max_depth as u64 + 1,
                        self.limits.max_depth as u64,
                    ));
                }
            }
        }
    }

    /// Reads the cross-reference section at `off` (classic or stream).
    fn section(&mut self, off: u64) -> Result<Section> {
        let max = self.limits.max_structures;
        let (classic, buf) = self.parse_at(off, "cross-reference section", |lx| {
            if !lx.keyword(b"xref")? {
                return Ok(None);
            }
            let mut entries = Vec::new();
            loop {
                if lx.keyword(b"trailer")? {
                    let pos = lx.pos;
                    return match lx.object(1)? {
                        Obj::Dict(d) => Ok(Some((entries, d))),
                        _ => Err(Fail::Bad(pos, "trailer is not a dictionary".into())),
                    };
                }
                let start = lx.int()?;
                let count = lx.int()?;
                let (Ok(start), Ok(count)) = (u32::try_from(start), usize::try_from(count)) else {
                    return lx.bad("bad cross-reference subsection header");
                };
                if count > max || entries.len() + count > max {
                    return lx.bad(format!(
                        "cross-reference subsection of {count} entries exceeds the limit of {max} \
                         structures"
                    ));
                }
                for i in 0..count {
                    let o = lx.int()?;
                    let g = lx.int()?;
                    let kind = lx.token()?;
                    let num = start.checked_add(i as u32);
                    let (Some(num), Ok(o), Ok(g)) = (num, u64::try_from(o), u16::try_from(g))
                    else {
                        return lx.bad("bad cross-reference entry");
                    };
                    let e = match kind {
                        b"n" => Entry::Used {
                            offset: o,
                            generation: g,
                        },
                        b"f" => Entry::Free,
                        _ => return lx.bad("cross-reference entry is neither 'n' nor 'f'"),
                    };
                    entries.push((num, e));
                }
            }
        })?;
        if let Some((entries, trailer)) = classic {
            for _ in 0..entries.len() {
                self.counter.tick(off)?;
            }
            let id_raw = trailer.raw(b"ID", &buf).map(<[u8]>::to_vec);
            return Ok(Section {
                offset: off,
                stream_obj: None,
                trailer,
                id_raw,
                entries,
                hybrid: false,
            });
        }
        // A cross-reference stream.
        let ((num, _, obj, stream), buf) =
            self.parse_at(off, "cross-reference stream", |lx| lx.indirect())?;
        let (Obj::Dict(dict), Some(data_at)) = (obj, stream) else {
            return Err(Error::malformed(
                NAME,
                off,
                "startxref does not point at 'xref' or a cross-reference stream",
            ));
        };
        if dict.get(b"Type") != Some(&Obj::Name(b"XRef".to_vec())) {
            return Err(Error::malformed(
                NAME,
                off,
                "stream at the cross-reference offset is not /Type /XRef",
            ));
        }
        let id_raw = dict.raw(b"ID", &buf).map(<[u8]>::to_vec);
        drop(buf);
        let length = dict
            .int(b"Length")
            .and_then(|l| u64::try_from(l).ok())
            .ok_or_else(|| {
                Error::malformed(NAME, off, "cross-reference stream without a direct /Length")
            })?;
        let raw = read_at(
            self.src,
            NAME,
            "cross-reference stream data",
            off + data_at as u64,
            length,
            self.limits.max_metadata,
        )?;
        let data = decode(&dict, raw, self.limits.max_metadata, off)?;
        let bad = |m: String| Error::malformed(NAME, off, m);
        let w: Vec<usize> = match dict.get(b"W") {
            Some(Obj::Array(a)) if a.len() == 3 => a
                .iter()
                .map(|x| match x {
                    Obj::Int(i) if (0..=8).contains(i) => Ok(*i as usize),
                    _ => Err(bad("bad /W in cross-reference stream".into())),
                })
                .collect::<Result<_>>()?,
            _ => return Err(bad("cross-reference stream without /W [a b c]".into())),
        };
        let size = dict.int(b"Size").unwrap_or(0);
        let index: Vec<i64> = match dict.get(b"Index") {
            Some(Obj::Array(a)) => a
                .iter()
                .map(|x| match x {
                    Obj::Int(i) => Ok(*i),
                    _ => Err(bad("bad /Index in cross-reference stream".into())),
                })
                .collect::<Result<_>>()?,
            _ => vec![0, size],
        };
        let row: usize = w.iter().sum();
        if row == 0 {
            return Err(bad("cross-reference stream with /W [0 0 0]".into()));
        }
        let field = |r: &[u8], k: usize| -> u64 {
            let s: usize = w[..k].iter().sum();
            r[s..s + w[k]]
                .iter()
                .fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
        };
        let mut entries = Vec::new();
        let mut rows = data.chunks_exact(row);
        for pair in index.chunks(2) {
            let [start, count] = pair else {
                return Err(bad("odd /Index in cross-reference stream".into()));
            };
            let (Ok(start), Ok(count)) = (u32::try_from(*start), u64::try_from(*count)) else {
                return Err(bad("bad /Index in cross-reference stream".into()));
            };
            for i in 0..count {
                self.counter.tick(off)?;
                let Some(r) = rows.next() else {
                    return Err(bad(format!(
                        "cross-reference stream data ends before entry {} of /Index",
                        u64::from(start) + i
                    )));
                };
                let kind = if w[0] == 0 { 1 } else { field(r, 0) };
                let Some(num) = u32::try_from(i).ok().and_then(|i| start.checked_add(i)) else {
                    return Err(bad("object number overflow in /Index".into()));
                };
                let e = match kind {
                    0 => Entry::Free,
                    1 => Entry::Used {
                        offset: field(r, 1),
                        generation: u16::try_from(field(r, 2)).unwrap_or(u16::MAX),
                    },
                    2 => Entry::Compressed {
                        stream: u32::try_from(field(r, 1)).unwrap_or(u32::MAX),
                        index: u32::try_from(field(r, 2)).unwrap_or(u32::MAX),
                    },
                    _ => continue, // Reserved types are ignored (null references).
                };
                entries.push((num, e));
            }
        }
        Ok(Section {
            offset: off,
            stream_obj: Some(num),
            trailer: dict,
            id_raw,
            entries,
            hybrid: false,
        })
    }

    fn trailer(&self) -> &Dict {
        // `load` always reads at least one section.
        static EMPTY: Dict = Dict {
            entries: Vec::new(),
        };
        self.sections.first().map_or(&EMPTY, |s| &s.trailer)
    }

    fn encrypted(&self) -> bool {
        self.trailer().get(b"Encrypt").is_some()
    }

    /// Reads object `num generation`; `None` when it does not exist or is free.
    fn object(&mut self, num: u32, generation: u16, depth: usize) -> Result<Option<Loaded>> {
        self.looked_up.insert(num);
        if depth > MAX_INDIRECT {
            return Err(Error::malformed(
                NAME,
                0,
                "indirect references nest too deeply",
            ));
        }
        match self.map.get(&num).copied() {
            Some(Entry::Used {
                offset,
                generation: g,
            }) if g == generation && offset < self.len => {
                let ((n, g2, obj, stream), buf) =
                    match self.parse_at(offset, "object", |lx| lx.indirect()) {
                        Ok(v) => v,
                        Err(Error::Malformed { .. }) => return self.scan_object(num, generation),
                        Err(e) => return Err(e),
                    };
                if n != num || g2 != generation {
                    return self.scan_object(num, generation);
                }
                Ok(Some(Loaded {
                    obj,
                    buf,
                    stream: stream.map(|s| offset + s as u64),
                    at: offset,
                }))
            }
            Some(Entry::Compressed { stream, .. }) if generation == 0 => {
                self.compressed(num, stream, depth)
            }
            Some(Entry::Free) => Ok(None),
            _ => self.scan_object(num, generation),
        }
    }

    /// Reads an object from an object stream.
    fn compressed(&mut self, num: u32, stream: u32, depth: usize) -> Result<Option<Loaded>> {
        if self.objstm.as_ref().map(|o| o.num) != Some(stream) {
            let Some(l) = self.object(stream, 0, depth + 1)? else {
                return Ok(None);
            };
            let data = self.stream_data(&l, depth)?;
            let Obj::Dict(d) = &l.obj else {
                return Ok(None);
            };
            let (Some(n), Some(first)) = (d.int(b"N"), d.int(b"First")) else {
                return Err(Error::malformed(
                    NAME,
                    l.at,
                    "object stream without /N and /First",
                ));
            };
            let (Ok(n), Ok(first)) = (usize::try_from(n), usize::try_from(first)) else {
                return Err(Error::malformed(
                    NAME,
                    l.at,
                    "bad /N or /First in object stream",
                ));
            };
            if n > data.len() / 2 || first > data.len() {
                return Err(Error::malformed(
                    NAME,
                    l.at,
                    "object stream /N or /First exceeds its data",
                ));
            }
            let mut lx = Lexer::new(&data[..first], 0, 1);
            let mut pairs = Vec::with_capacity(n);
            for _ in 0..n {
                self.counter.tick(l.at)?;
                let (Ok(o), Ok(p)) = (lx.int(), lx.int()) else {
                    return Err(Error::malformed(NAME, l.at, "bad object stream header"));
                };
                let (Ok(o), Ok(p)) = (u32::try_from(o), usize::try_from(p)) else {
                    return Err(Error::malformed(NAME, l.at, "bad object stream header"));
                };
                pairs.push((o, first.saturating_add(p)));
            }
            self.objstm = Some(ObjStm {
                num: stream,
                data,
                members: pairs,
            });
        }
        let Some(ObjStm { data, members, .. }) = &self.objstm else {
            return Ok(None);
        };
        let Some(&(_, p)) = members.iter().find(|(o, _)| *o == num) else {
            return Ok(None);
        };
        let mut lx = Lexer::new(data, p, self.limits.max_depth);
        let end = match lx.object(1) {
            Ok(_) => lx.pos,
            Err(Fail::Deep(_)) => {
                return Err(Error::too_large(
                    NAME,
                    0,
                    "object nesting depth",
                    self.limits.max_depth as u64 + 1,
                    self.limits.max_depth as u64,
                ));
            }
            Err(_) => {
                return Err(Error::malformed(
                    NAME,
                    0,
                    format!("object {num} in object stream {stream} is malformed"),
                ));
            }
        };
        // Re-parse the object alone so that its ranges refer to its own bytes.
        let mut own = data.get(p..end).unwrap_or(&[]).to_vec();
        own.push(b' ');
        let mut lx = Lexer::new(&own, 0, self.limits.max_depth);
        let obj = lx
            .object(1)
            .map_err(|_| Error::malformed(NAME, 0, "object stream member"))?;
        Ok(Some(Loaded {
            obj,
            buf: own,
            stream: None,
            at: 0,
        }))
    }

    /// The decoded data of a stream object.
    fn stream_data(&mut self, l: &Loaded, depth: usize) -> Result<Vec<u8>> {
        let (Obj::Dict(d), Some(at)) = (&l.obj, l.stream) else {
            return Err(Error::malformed(NAME, l.at, "expected a stream"));
        };
        let length = match d.get(b"Length") {
            Some(Obj::Int(i)) => *i,
            Some(Obj::Ref(n, g)) => match self.object(*n, *g, depth + 1)? {
                Some(Loaded {
                    obj: Obj::Int(i), ..
                }) => i,
                _ => {
                    return Err(Error::malformed(
                        NAME,
                        l.at,
                        "stream /Length does not resolve to an integer",
                    ));
                }
            },
            _ => return Err(Error::malformed(NAME, l.at, "stream without /Length")),
        };
        let length = u64::try_from(length)
            .map_err(|_| Error::malformed(NAME, l.at, "negative stream /Length"))?;
        let raw = read_at(
            self.src,
            NAME,
            "stream data",
            at,
            length,
            self.limits.max_metadata,
        )?;
        decode(d, raw, self.limits.max_metadata, l.at)
    }

    /// Finds `num generation obj` by scanning the file (the last one wins), for broken offsets.
    /// Label sections are not scanned: relabelling rewrites them, and the document must
    /// resolve to the same objects before and after (a label section holds the Info object
    /// only, which its own cross-reference section locates).
    fn scan_object(&mut self, num: u32, generation: u16) -> Result<Option<Loaded>> {
        let skip = match &self.scan_skip {
            Some(s) => s.clone(),
            None => {
                let s = self.label_sections()?.ranges;
                self.scan_skip = Some(s.clone());
                s
            }
        };
        let needle = format!("{num} {generation} obj");
        let needle = needle.as_bytes();
        const CHUNK: u64 = 1 << 20;
        let mut found = None;
        let mut off = 0u64;
        let mut buf = vec![0u8; (CHUNK as usize) + needle.len() + 1];
        while off < self.len {
            self.src.seek(SeekFrom::Start(off))?;
            let n = read_up_to(self.src, &mut buf)?;
            let hay = &buf[..n];
            let mut from = 0;
            while let Some(i) = find(&hay[from..], needle).map(|i| i + from) {
                let before_ok = i == 0 && off == 0 || i > 0 && !hay[i - 1].is_ascii_digit();
                let after_ok = hay.get(i + needle.len()).is_none_or(|c| !is_regular(*c));
                let at = off + i as u64;
                if before_ok
                    && after_ok
                    && (i as u64) < CHUNK
                    && !skip.iter().any(|r| r.contains(&at))
                {
                    found = Some(at);
                }
                from = i + 1;
            }
            off += CHUNK;
        }
        let Some(at) = found else { return Ok(None) };
        let ((n, g, obj, stream), buf) = self.parse_at(at, "object", |lx| lx.indirect())?;
        if n != num || g != generation {
            return Ok(None);
        }
        Ok(Some(Loaded {
            obj,
            buf,
            stream: stream.map(|s| at + s as u64),
            at,
        }))
    }

    /// Resolves a direct value or a reference.
    fn value(&mut self, v: &Obj) -> Result<Option<Obj>> {
        match v {
            Obj::Ref(n, g) => Ok(self.object(*n, *g, 0)?.map(|l| l.obj)),
            v => Ok(Some(v.clone())),
        }
    }

    /// The Info dictionary: (number, generation, loaded object).
    fn info(&mut self) -> Result<Option<(u32, u16, Loaded)>> {
        let Some((n, g)) = self.trailer().reference(b"Info") else {
            return Ok(None);
        };
        Ok(match self.object(n, g, 0)? {
            Some(l) if matches!(l.obj, Obj::Dict(_)) => Some((n, g, l)),
            _ => None,
        })
    }

    fn label(&mut self) -> Result<Option<String>> {
        let Some((_, _, l)) = self.info()? else {
            return Ok(None);
        };
        let Obj::Dict(d) = &l.obj else {
            return Ok(None);
        };
        let Some(v) = d.get(b"AIGC").cloned() else {
            return Ok(None);
        };
        Ok(match self.value(&v)? {
            Some(Obj::Str(s)) => Some(text(&s)),
            _ => None,
        })
    }

    fn catalog(&mut self) -> Result<Option<Dict>> {
        let Some((n, g)) = self.trailer().reference(b"Root") else {
            return Ok(None);
        };
        Ok(match self.object(n, g, 0)? {
            Some(Loaded {
                obj: Obj::Dict(d), ..
            }) => Some(d),
            _ => None,
        })
    }

    fn shape(&mut self) -> Result<String> {
        let Some(root) = self.catalog()? else {
            return Ok(String::new());
        };
        let Some(pages) = root.get(b"Pages").cloned() else {
            return Ok(String::new());
        };
        Ok(match self.value(&pages)? {
            Some(Obj::Dict(p)) => p
                .int(b"Count")
                .map(|c| format!("pages={c}"))
                .unwrap_or_default(),
            _ => String::new(),
        })
    }

    fn xmp_label(&mut self) -> Result<Option<String>> {
        let Some(root) = self.catalog()? else {
            return Ok(None);
        };
        let Some((n, g)) = root.reference(b"Metadata") else {
            return Ok(None);
        };
        let Some(l) = self.object(n, g, 0)? else {
            return Ok(None);
        };
        if l.stream.is_none() {
            return Ok(None);
        }
        let data = self.stream_data(&l, 0)?;
        Ok(xmp::find_aigc(&String::from_utf8_lossy(&data)))
    }

    /// Finds the label sections.
    fn label_sections(&mut self) -> Result<LabelSections> {
        let mut out: Vec<Range<u64>> = Vec::new();
        let mut ours_last = None;
        // Where every cross-reference section of the chain is (hybrid files: their /XRefStm
        // too), sorted: a label section's bytes must hold no other.
        let mut xrefs: Vec<u64> = self
            .sections
            .iter()
            .flat_map(|s| {
                let stm = s
                    .trailer
                    .int(b"XRefStm")
                    .filter(|_| s.hybrid)
                    .and_then(|v| u64::try_from(v).ok());
                std::iter::once(s.offset).chain(stm)
            })
            .collect();
        xrefs.sort_unstable();
        for i in 0..self.sections.len() {
            let sec = &self.sections[i];
            if sec.trailer.get(b"Prev").is_none() || sec.hybrid {
                continue;
            }
            let used: Vec<(u32, Entry)> = sec
                .entries
                .iter()
                .filter(|(n, e)| *e != Entry::Free && Some(*n) != sec.stream_obj)
                .copied()
                .collect();
            let Some(info) = sec.trailer.reference(b"Info") else {
                continue;
            };
            let [
                (
                    num,
                    Entry::Used {
                        offset: o,
                        generation,
                    },
                ),
            ] = used[..]
            else {
                continue;
            };
            if (num, generation) != info {
                continue;
            }
            // A label section changes the Info dictionary only: a trailer that switches the
            // catalog (or adds encryption) changes what the document shows, so that update is
            // content. (Rebuilding such a section of ours would also have restored the older
            // trailer's /Root, which the reader did not use before.)
            let older = self.sections.get(i + 1).map(|s| &s.trailer);
            let same = |key: &[u8]| older.is_some_and(|o| o.get(key) == sec.trailer.get(key));
            if sec.trailer.reference(b"Root").is_none() || !same(b"Root") || !same(b"Encrypt") {
                continue;
            }
            let xref = sec.offset;
            // The Info object comes before its cross-reference section, as every writer of
            // updates puts it. (An entry pointing past it, even past the end of the file, made
            // the section's extent depend on what was appended later.)
            if o >= xref {
                continue;
            }
            // Start.
            let back = o.min(NEAR);
            let before = read_at(self.src, NAME, "update section", o - back, back, NEAR)?;
            let (start, ours) = if before.ends_with(MARKER) {
                (o - MARKER.len() as u64, true)
            } else {
                let Some(p) = rfind(&before, b"%%EOF") else {
                    continue;
                };
                let mut s = p + 5;
                if before[s..].starts_with(b"\r\n") {
                    s += 2;
                } else if before[s..].starts_with(b"\n") || before[s..].starts_with(b"\r") {
                    s += 1;
                }
                (o - back + s as u64, false)
            };
            // End: the first `%%EOF` after the cross-reference section, which must be this
            // section's own (`startxref <its offset>` before it), not a later section's.
            let fwd = (self.len - xref).min(NEAR);
            let after = read_at(self.src, NAME, "update section", xref, fwd, NEAR)?;
            let Some(p) = find(&after, b"%%EOF") else {
                continue;
            };
            let own = format!("startxref{xref}");
            let tail: Vec<u8> = after[..p]
                .iter()
                .rev()
                .take(own.len() + 64)
                .filter(|c| !is_ws(**c))
                .take(own.len())
                .copied()
                .collect();
            if !tail.iter().rev().eq(own.as_bytes()) {
                continue;
            }
            let mut e = p + 5;
            if after[e..].starts_with(b"\r\n") {
                e += 2;
            } else if after[e..].starts_with(b"\n") || after[e..].starts_with(b"\r") {
                e += 1;
            }
            let end = xref + e as u64;
            // No other section of the chain inside: excluding a content update from the
            // essence along with the label would let the content change unnoticed.
            let first = xrefs.partition_point(|x| *x < start);
            if xrefs[first..]
                .iter()
                .take_while(|x| **x < end)
                .any(|x| *x != xref)
            {
                continue;
            }
            if i == 0 && ours && end == self.len {
                ours_last = Some(start..end);
            }
            out.push(start..end);
        }
        out.sort_by_key(|r| r.start);
        // Drop overlapping ranges (a malformed file): keep the first.
        let mut clean: Vec<Range<u64>> = Vec::new();
        for r in out {
            if clean.last().is_none_or(|l| l.end <= r.start) {
                clean.push(r);
            }
        }
        Ok(LabelSections {
            ranges: clean,
            ours_last,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Writing

/// The first `len` bytes of a source.
struct Prefix<'a> {
    inner: &'a mut dyn Source,
    len: u64,
    pos: u64,
}

impl Read for Prefix<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self.len.saturating_sub(self.pos);
        let n = usize::try_from(left).unwrap_or(usize::MAX).min(buf.len());
        if n == 0 {
            return Ok(0);
        }
        self.inner.seek(SeekFrom::Start(self.pos))?;
        let k = self.inner.read(&mut buf[..n])?;
        self.pos += k as u64;
        Ok(k)
    }
}

impl Seek for Prefix<'_> {
    fn seek(&mut self, p: SeekFrom) -> std::io::Result<u64> {
        let new = match p {
            SeekFrom::Start(s) => Some(s),
            SeekFrom::End(e) => self.len.checked_add_signed(e),
            SeekFrom::Current(c) => self.pos.checked_add_signed(c),
        };
        self.pos = new.ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "seek before start")
        })?;
        Ok(self.pos)
    }
}

fn append(src: &mut dyn Source, dst: &mut dyn Write, json: &str, limits: &Limits) -> Result<()> {
    let mut doc = Doc::load(src, limits)?;
    if doc.encrypted() {
        return Err(Error::Unsupported(
            "pdf: encrypted document (the label string would have to be encrypted)".into(),
        ));
    }
    let trailer = doc.trailer().clone();
    let classic = doc.sections.first().is_some_and(|s| s.stream_obj.is_none());
    let id_raw = doc.sections.first().and_then(|s| s.id_raw.clone());
    let Some((root_n, root_g)) = trailer.reference(b"Root") else {
        return Err(Error::malformed(
            NAME,
            doc.startxref,
            "trailer without /Root",
        ));
    };
    let size = trailer
        .int(b"Size")
        .and_then(|s| u32::try_from(s).ok())
        .ok_or_else(|| Error::malformed(NAME, doc.startxref, "trailer without a valid /Size"))?;
    // Object numbers of the new objects come after every number in use, whatever /Size says
    // (a /Size at or below the Info object's number made the cross-reference stream take the
    // Info object's number, and the update stopped reading as a label section), and are none
    // that reading the document looks up: in a broken file those are found by scanning, and
    // a new object of that number would take their place (a stream /Length resolving to the
    // new Info dictionary, say).
    let size = doc
        .map
        .keys()
        .map(|n| n.saturating_add(1))
        .fold(size, u32::max);
    let info = doc.info()?;
    let _ = (doc.label(), doc.xmp_label(), doc.shape());
    let startxref = doc.startxref;
    let no_number = || {
        Error::malformed(
            NAME,
            startxref,
            "no object number left for the label's objects",
        )
    };
    let fresh = |from: u32| {
        (from..u32::MAX).find(|n| !doc.map.contains_key(n) && !doc.looked_up.contains(n))
    };
    let mut entries: Vec<Vec<u8>> = Vec::new();
    let (num, generation, mut new_size) = match info {
        Some((n, g, l)) => {
            if let Obj::Dict(d) = &l.obj {
                for (k, _, r) in &d.entries {
                    if k != b"AIGC" {
                        entries.push(l.buf.get(r.clone()).unwrap_or(&[]).to_vec());
                    }
                }
            }
            (n, g, size.max(n.saturating_add(1)))
        }
        None => {
            let n = fresh(size).ok_or_else(no_number)?;
            (n, 0, n + 1)
        }
    };
    if new_size == u32::MAX || new_size <= num {
        return Err(no_number());
    }
    let xnum = if classic {
        0
    } else {
        let x = fresh(new_size).ok_or_else(no_number)?;
        new_size = x + 1;
        x
    };
    let prev = doc.startxref;
    let base = doc.len;
    drop(doc);
    copy_range(src, dst, NAME, 0..base)?;

    let mut s = MARKER.to_vec();
    let info_at = base + s.len() as u64;
    s.extend_from_slice(format!("{num} {generation} obj\n<<").as_bytes());
    for e in &entries {
        s.push(b' ');
        s.extend_from_slice(e);
    }
    s.extend_from_slice(b" /AIGC ");
    s.extend_from_slice(&encode_text(json));
    s.extend_from_slice(b" >>\nendobj\n");
    let id = id_raw
        .map(|r| [b" /ID ".as_slice(), &r].concat())
        .unwrap_or_default();
    let xref_at = base + s.len() as u64;
    if classic {
        s.extend_from_slice(
            format!("xref\n{num} 1\n{info_at:010} {generation:05} n \ntrailer\n<< /Size {new_size} /Root {root_n} {root_g} R /Info {num} {generation} R /Prev {prev}").as_bytes(),
        );
        s.extend_from_slice(&id);
        s.extend_from_slice(format!(" >>\nstartxref\n{xref_at}\n%%EOF\n").as_bytes());
    } else {
        let w = if xref_at > u64::from(u32::MAX) { 8 } else { 4 };
        let mut data = Vec::new();
        for (o, g) in [(info_at, generation), (xref_at, 0)] {
            data.push(1u8);
            data.extend_from_slice(&o.to_be_bytes()[8 - w..]);
            data.extend_from_slice(&g.to_be_bytes());
        }
        s.extend_from_slice(
            format!(
                "{xnum} 0 obj\n<< /Type /XRef /Size {new_size} /W [1 {w} 2] /Index [{num} 1 {xnum} 1] /Root {root_n} {root_g} R /Info {num} {generation} R /Prev {prev}"
            )
            .as_bytes(),
        );
        s.extend_from_slice(&id);
        s.extend_from_slice(format!(" /Length {} >>\nstream\n", data.len()).as_bytes());
        s.extend_from_slice(&data);
        s.extend_from_slice(
            format!("\nendstream\nendobj\nstartxref\n{xref_at}\n%%EOF\n").as_bytes(),
        );
    }
    dst.write_all(&s)?;
    Ok(())
}

impl Format for Pdf {
    fn name(&self) -> &'static str {
        NAME
    }

    fn media_type(&self) -> &'static str {
        "application/pdf"
    }

    fn patchable(&self) -> bool {
        true
    }

    fn detect(&self, head: &[u8]) -> bool {
        head.starts_with(b"%PDF-")
    }

    fn layout(&self, src: &mut dyn Source, limits: &Limits) -> Result<Layout> {
        let mut doc = Doc::load(src, limits)?;
        let mut layout = Layout::default();
        let sections = doc.label_sections()?;
        let mut at = 0;
        for r in sections.ranges {
            if r.start > at {
                layout.essence.push(at..r.start);
            }
            at = r.end;
        }
        if doc.len > at {
            layout.essence.push(at..doc.len);
        }
        if !doc.encrypted() {
            if let Some(text) = doc.xmp_label()? {
                layout.carriers.push(Carrier {
                    kind: "pdf:Metadata:XMP".into(),
                    primary: false,
                    text,
                });
            }
            if let Some(text) = doc.label()? {
                layout.carriers.push(Carrier {
                    kind: "pdf:Info:AIGC".into(),
                    primary: true,
                    text,
                });
            }
        }
        layout.shape = doc.shape().unwrap_or_default();
        Ok(layout)
    }

    fn write(
        &self,
        src: &mut dyn Source,
        dst: &mut dyn Write,
        json: &str,
        limits: &Limits,
    ) -> Result<()> {
        if json.len() as u64 > limits.max_metadata / 4 {
            return Err(Error::too_large(
                NAME,
                0,
                "AIGC label",
                json.len() as u64,
                limits.max_metadata / 4,
            ));
        }
        let ours_last = {
            let mut doc = Doc::load(src, limits)?;
            doc.label_sections()?.ours_last
        };
        match ours_last {
            // Our own update ends the file: rebuild it on the bytes before it.
            Some(r) => {
                let mut view = Prefix {
                    inner: src,
                    len: r.start,
                    pos: 0,
                };
                append(&mut view, dst, json, limits)
            }
            None => append(src, dst, json, limits),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// Builds PDFs object by object.
    struct B {
        out: Vec<u8>,
        offsets: Vec<(u32, u64)>,
    }

    impl B {
        fn new() -> B {
            B {
                out: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec(),
                offsets: Vec::new(),
            }
        }

        fn from(bytes: &[u8]) -> B {
            B {
                out: bytes.to_vec(),
                offsets: Vec::new(),
            }
        }

        fn obj(&mut self, num: u32, body: &[u8]) -> &mut Self {
            self.offsets.push((num, self.out.len() as u64));
            self.out
                .extend_from_slice(format!("{num} 0 obj\n").as_bytes());
            self.out.extend_from_slice(body);
            self.out.extend_from_slice(b"\nendobj\n");
            self
        }

        fn stream(&mut self, num: u32, dict: &str, data: &[u8]) -> &mut Self {
            let mut body = format!("<< {dict} /Length {} >>\nstream\n", data.len()).into_bytes();
            body.extend_from_slice(data);
            body.extend_from_slice(b"\nendstream");
            self.obj(num, &body)
        }

        /// A classic xref section for the objects written since the last one.
        fn classic(&mut self, trailer: &str) -> Vec<u8> {
            let at = self.out.len();
            let mut s = String::from("xref\n");
            self.offsets.sort();
            if self.offsets.first().map(|o| o.0) == Some(1) {
                s.push_str(&format!(
                    "0 {}\n0000000000 65535 f \n",
                    self.offsets.len() + 1
                ));
            } else {
                s.push_str(&format!("{} {}\n", self.offsets[0].0, self.offsets.len()));
            }
            for (_, o) in &self.offsets {
                s.push_str(&format!("{o:010} 00000 n \n"));
            }
            s.push_str(&format!(
                "trailer\n<< {trailer} >>\nstartxref\n{at}\n%%EOF\n"
            ));
            self.out.extend_from_slice(s.as_bytes());
            self.offsets.clear();
            self.out.clone()
        }

        /// An uncompressed cross-reference stream (object `xnum`) for objects 0..xnum.
        fn xstream(&mut self, xnum: u32, trailer: &str, compressed: &[(u32, u32, u32)]) -> Vec<u8> {
            let at = self.out.len() as u64;
            self.offsets.push((xnum, at));
            let mut data = Vec::new();
            for n in 0..=xnum {
                if let Some((_, s, i)) = compressed.iter().find(|c| c.0 == n) {
                    data.push(2u8);
                    data.extend_from_slice(&s.to_be_bytes());
                    data.extend_from_slice(&(*i as u16).to_be_bytes());
                } else if let Some((_, o)) = self.offsets.iter().find(|o| o.0 == n) {
                    data.push(1u8);
                    data.extend_from_slice(&(*o as u32).to_be_bytes());
                    data.extend_from_slice(&[0, 0]);
                } else {
                    data.extend_from_slice(&[0, 0, 0, 0, 0, 0xFF, 0xFF]);
                }
            }
            let mut body = format!(
                "{xnum} 0 obj\n<< /Type /XRef /Size {} /W [1 4 2] {trailer} /Length {} >>\nstream\n",
                xnum + 1,
                data.len()
            )
            .into_bytes();
            body.extend_from_slice(&data);
            body.extend_from_slice(
                format!("\nendstream\nendobj\nstartxref\n{at}\n%%EOF\n").as_bytes(),
            );
            self.out.extend_from_slice(&body);
            self.offsets.clear();
            self.out.clone()
        }
    }

    const CONTENT: &[u8] = b"0 0 m 50 50 l S";

    fn body(b: &mut B, info: Option<&[u8]>) {
        b.obj(1, b"<< /Type /Catalog /Pages 2 0 R >>")
            .obj(2, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
            .obj(
                3,
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] /Contents 4 0 R >>",
            )
            .stream(4, "", CONTENT);
        if let Some(i) = info {
            b.obj(5, i);
        }
    }

    const INFO: &[u8] = br"<< /Title (A \(t\) \\ x) /Producer <FEFF0041> >>";

    fn classic() -> Vec<u8> {
        let mut b = B::new();
        body(&mut b, Some(INFO));
        b.classic("/Size 6 /Root 1 0 R /Info 5 0 R /ID [<0102><0304>]")
    }

    fn xref_stream() -> Vec<u8> {
        let mut b = B::new();
        body(&mut b, Some(INFO));
        b.xstream(6, "/Root 1 0 R /Info 5 0 R /ID [<0102><0304>]", &[])
    }

    /// Info (object 5) inside a compressed object stream (object 6), xref stream 7.
    fn objstm() -> Vec<u8> {
        use std::io::Write as _;
        let mut b = B::new();
        body(&mut b, None);
        let members = b"5 0 ";
        let mut data = members.to_vec();
        data.extend_from_slice(INFO);
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(&data).unwrap();
        let z = z.finish().unwrap();
        b.stream(
            6,
            &format!(
                "/Type /ObjStm /N 1 /First {} /Filter /FlateDecode",
                members.len()
            ),
            &z,
        );
        b.xstream(7, "/Root 1 0 R /Info 5 0 R", &[(5, 6, 0)])
    }

    fn layout(b: &[u8]) -> Result<Layout> {
        Pdf.layout(&mut Cursor::new(b), &Limits::default())
    }

    fn write(b: &[u8], json: &str) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        Pdf.write(&mut Cursor::new(b), &mut out, json, &Limits::default())?;
        Ok(out)
    }

    fn essence(b: &[u8]) -> Vec<u8> {
        layout(b)
            .unwrap()
            .essence
            .iter()
            .flat_map(|r| b[r.start as usize..r.end as usize].to_vec())
            .collect()
    }

    fn primaries(b: &[u8]) -> Vec<String> {
        layout(b)
            .unwrap()
            .carriers
            .into_iter()
            .filter(|c| c.primary)
            .map(|c| c.text)
            .collect()
    }

    fn count(hay: &[u8], needle: &[u8]) -> usize {
        hay.windows(needle.len()).filter(|w| *w == needle).count()
    }

    #[test]
    fn detects() {
        assert!(Pdf.detect(b"%PDF-1.7\n"));
        assert!(!Pdf.detect(b"%!PS-Adobe"));
        assert!(!Pdf.detect(b""));
    }

    #[test]
    fn round_trip() {
        let json = r#"{"AIGC":{"Label":"1","ProduceID":"a (b) \ c"}}"#;
        let json2 = r#"{"AIGC":{"Label":"2","ContentProducer":"生成"}}"#;
        for (name, base) in [
            ("classic", classic()),
            ("stream", xref_stream()),
            ("objstm", objstm()),
        ] {
            let l0 = layout(&base).unwrap();
            assert!(l0.carriers.is_empty(), "{name}");
            assert_eq!(l0.shape, "pages=1", "{name}");
            assert_eq!(l0.essence, vec![0..base.len() as u64]);
            let out = write(&base, json).unwrap();
            assert!(out.starts_with(&base));
            let tail = &out[base.len()..];
            assert!(tail.starts_with(MARKER));
            assert_eq!(count(tail, br"/Title (A \(t\) \\ x)"), 1, "{name}");
            assert_eq!(count(tail, b"/Producer <FEFF0041>"), 1, "{name}");
            assert_eq!(count(tail, b"/Type /XRef"), usize::from(name != "classic"));
            assert_eq!(
                count(tail, b"/ID [<0102><0304>]"),
                usize::from(name != "objstm")
            );
            assert_eq!(primaries(&out), [json], "{name}");
            assert_eq!(essence(&out), base, "{name}");
            assert_eq!(layout(&out).unwrap().shape, "pages=1");
            // Relabel: our section is rebuilt, not stacked.
            let out2 = write(&out, json2).unwrap();
            assert_eq!(primaries(&out2), [json2], "{name}");
            assert_eq!(count(&out2, b"%aigov-label"), 1);
            assert_eq!(essence(&out2), base);
            assert_eq!(write(&out2, json).unwrap(), out, "{name}");
        }
    }

    #[test]
    fn without_info_a_new_object_is_added() {
        let mut b = B::new();
        body(&mut b, None);
        let base = b.classic("/Size 5 /Root 1 0 R");
        let out = write(&base, "label").unwrap();
        assert_eq!(count(&out, b"5 0 obj\n<< /AIGC (label) >>"), 1);
        assert_eq!(count(&out, b"/Size 6"), 1);
        assert_eq!(primaries(&out), ["label"]);
        let out2 = write(&out, "other").unwrap();
        assert_eq!(count(&out2, b"5 0 obj\n<< /AIGC (other) >>"), 1);
        assert_eq!(essence(&out2), base);
    }

    #[test]
    fn foreign_updates() {
        // Someone else's Info-only update: read, excluded from the essence.
        let base = classic();
        let mut b = B::from(&base);
        b.obj(5, br"<< /Title (T) /AIGC (foreign) >>");
        let startxref = rfind(&base, b"startxref").map(|i| {
            let s = &base[i + 10..];
            std::str::from_utf8(&s[..s.iter().position(|c| *c == b'\n').unwrap()])
                .unwrap()
                .to_string()
        });
        let sx = startxref.unwrap();
        let foreign = b.classic(&format!("/Size 6 /Root 1 0 R /Info 5 0 R /Prev {sx}"));
        assert_eq!(primaries(&foreign), ["foreign"]);
        assert_eq!(essence(&foreign), base);
        let out = write(&foreign, "ours").unwrap();
        assert_eq!(primaries(&out), ["ours"]);
        assert_eq!(essence(&out), base);
        assert_eq!(count(&out, b"/Title (T) /AIGC (ours)"), 1);

        // A content update after our label is part of the essence; relabelling keeps it.
        let labelled = write(&base, "ours").unwrap();
        let sx = {
            let i = rfind(&labelled, b"startxref").unwrap();
            let s = &labelled[i + 10..];
            std::str::from_utf8(&s[..s.iter().position(|c| *c == b'\n').unwrap()])
                .unwrap()
                .to_string()
        };
        let mut b = B::from(&labelled);
        b.stream(4, "", b"0 0 m 99 99 l S");
        let edited = b.classic(&format!("/Size 6 /Root 1 0 R /Info 5 0 R /Prev {sx}"));
        let e = essence(&edited);
        assert_eq!(e.len(), edited.len() - (labelled.len() - base.len()));
        let out = write(&edited, "again").unwrap();
        assert!(out.starts_with(&edited));
        assert_eq!(essence(&out), e);
        assert_eq!(primaries(&out), ["again"]);
        let out2 = write(&out, "and again").unwrap();
        assert_eq!(essence(&out2), e);
        assert_eq!(out2.len(), out.len() + 4);
    }

    #[test]
    fn an_update_that_switches_the_catalog_is_content() {
        // Fuzz (label_pdf): our section's trailer had lost its /Root (`/Ro2t`); the section
        // still counted as a label section, so relabelling dropped it and took /Root from the
        // older trailer, and the labelled copy read a catalog (with a broken /Metadata) that
        // the original never used. Such an update is not a label section.
        let base = classic();
        let labelled = write(&base, "ours").unwrap();
        let mut broken = labelled.clone();
        let at = rfind(&broken, b"/Root 1 0 R").unwrap();
        broken[at..at + 5].copy_from_slice(b"/Ro2t");
        assert_eq!(essence(&broken), broken);
        assert!(
            write(&broken, "again")
                .unwrap_err()
                .to_string()
                .contains("trailer without /Root")
        );
        // An Info-only update pointing /Root at another (existing) catalog is content too.
        let mut b = B::new();
        body(&mut b, Some(INFO));
        b.obj(
            6,
            b"<< /Type /Catalog /Pages 2 0 R /OpenAction [3 0 R /Fit] >>",
        );
        let base = b.classic("/Size 7 /Root 1 0 R /Info 5 0 R");
        let prev = {
            let i = rfind(&base, b"startxref").unwrap();
            let s = &base[i + 10..];
            std::str::from_utf8(&s[..s.iter().position(|c| *c == b'\n').unwrap()])
                .unwrap()
                .to_string()
        };
        let mut b = B::from(&base);
        b.out.extend_from_slice(b"\n%aigov-label\n");
        b.obj(5, b"<< /AIGC (x) >>");
        let switched = b.classic(&format!("/Size 7 /Root 6 0 R /Info 5 0 R /Prev {prev}"));
        assert_eq!(essence(&switched), switched);
        let out = write(&switched, "y").unwrap();
        assert!(out.starts_with(&switched));
        assert_eq!(essence(&out), switched);
        assert_eq!(primaries(&out), ["y"]);
    }

    #[test]
    fn text_strings() {
        assert_eq!(text(b"\xfe\xff\x00A\x75\x1f"), "A生");
        assert_eq!(text(b"\xef\xbb\xbfok"), "ok");
        assert_eq!(text(b"a\x80\xa0\xe9"), "a•€é");
        let mut lx = Lexer::new(b"(a\\(b\\)\\\\\\101\\\nc(d)\r\n) ", 0, 8);
        assert_eq!(lx.object(0).unwrap(), Obj::Str(b"a(b)\\Ac(d)\n".to_vec()));
        let mut lx = Lexer::new(b"<48 65 6c7> ", 0, 8);
        assert_eq!(lx.object(0).unwrap(), Obj::Str(b"Hel\x70".to_vec()));
        for s in [
            "plain",
            "with (parens) and \\",
            "tab\tand\nnewline",
            "中文 ✓",
        ] {
            let mut enc = encode_text(s);
            enc.push(b' ');
            let mut lx = Lexer::new(&enc, 0, 8);
            let Obj::Str(b) = lx.object(0).unwrap() else {
                panic!()
            };
            assert_eq!(text(&b), s);
        }
        // Names with # escapes, references, nested dictionaries.
        let mut lx = Lexer::new(b"<< /A#20B 1 0 R /C [1 2.5 -3 /D << /E null >>] >> ", 0, 8);
        let Obj::Dict(d) = lx.object(0).unwrap() else {
            panic!()
        };
        assert_eq!(d.get(b"A B"), Some(&Obj::Ref(1, 0)));
    }

    #[test]
    fn truncation_is_an_error() {
        for base in [classic(), xref_stream(), objstm()] {
            for n in 0..base.len() - 1 {
                assert!(layout(&base[..n]).is_err(), "layout of prefix {n}");
                assert!(write(&base[..n], "x").is_err(), "write of prefix {n}");
            }
            // A labelled file cut anywhere: never a panic; cut inside the original: an error.
            let out = write(&base, "label").unwrap();
            for n in 0..out.len() {
                let r = layout(&out[..n]);
                if n < base.len() - 1 {
                    assert!(r.is_err(), "layout of prefix {n}");
                }
                let _ = write(&out[..n], "x");
            }
        }
    }

    #[test]
    fn hostile_inputs() {
        let base = classic();
        let with_startxref = |b: &[u8], v: &str| {
            let i = rfind(b, b"startxref").unwrap();
            let mut o = b[..i].to_vec();
            o.extend_from_slice(format!("startxref\n{v}\n%%EOF\n").as_bytes());
            o
        };
        let e = layout(&with_startxref(&base, "999999999"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("outside the file"), "{e}");
        let e = layout(&with_startxref(&base, "3")).unwrap_err().to_string();
        assert!(e.contains("cross-reference"), "{e}");
        assert!(layout(b"%PDF-1.4\nno trailer at all").is_err());
        assert!(layout(b"not a pdf").is_err());

        // A /Prev loop.
        let at = rfind(&base, b"\nxref\n").unwrap() + 1;
        let mut b = base[..at].to_vec();
        let x = b.len();
        b.extend_from_slice(
            format!("xref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size 6 /Root 1 0 R /Prev {x} >>\nstartxref\n{x}\n%%EOF\n")
                .as_bytes(),
        );
        let e = layout(&b).unwrap_err().to_string();
        assert!(e.contains("loop"), "{e}");

        // A subsection claiming four billion entries.
        let mut b = base[..at].to_vec();
        b.extend_from_slice(
            format!("xref\n0 4000000000\n0000000000 65535 f \ntrailer\n<< /Size 6 >>\nstartxref\n{at}\n%%EOF\n")
                .as_bytes(),
        );
        let e = layout(&b).unwrap_err().to_string();
        assert!(e.contains("exceeds the limit"), "{e}");

        // An update whose only entry points far past the end of the file.
        let sx = rfind(&base, b"\nxref\n").unwrap() + 1;
        let mut b = base.clone();
        let x = b.len();
        b.extend_from_slice(
            format!("xref\n5 1\n9999999999 00000 n \ntrailer\n<< /Size 6 /Root 1 0 R /Info 5 0 R /Prev {sx} >>\nstartxref\n{x}\n%%EOF\n")
                .as_bytes(),
        );
        let l = layout(&b).unwrap();
        assert_eq!(l.essence, vec![0..b.len() as u64]);
        assert!(l.carriers.is_empty());

        // 10,000 nested arrays in the Info dictionary.
        let mut bb = B::new();
        let deep = format!("<< /Title {}{} >>", "[".repeat(10_000), "]".repeat(10_000));
        body(&mut bb, Some(deep.as_bytes()));
        let f = bb.classic("/Size 6 /Root 1 0 R /Info 5 0 R");
        match layout(&f) {
            Err(Error::TooLarge { what, .. }) => assert_eq!(what, "object nesting depth"),
            other => panic!("{other:?}"),
        }
        assert!(write(&f, "x").is_err());

        // A decompression bomb in an object stream, against a small limit.
        let mut bb = B::new();
        body(&mut bb, None);
        let mut data = b"5 0 << /AIGC (x) >>".to_vec();
        data.resize(4 << 20, b' ');
        let z = {
            use std::io::Write as _;
            let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
            z.write_all(&data).unwrap();
            z.finish().unwrap()
        };
        bb.stream(6, "/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode", &z);
        let f = bb.xstream(7, "/Root 1 0 R /Info 5 0 R", &[(5, 6, 0)]);
        assert_eq!(primaries(&f), ["x"]);
        let small = Limits {
            max_metadata: 1 << 20,
            ..Limits::default()
        };
        match Pdf.layout(&mut Cursor::new(&f), &small) {
            Err(Error::TooLarge { what, .. }) => assert_eq!(what, "decompressed stream"),
            other => panic!("{other:?}"),
        }
        // An object stream claiming a billion members.
        let mut bb = B::new();
        body(&mut bb, None);
        bb.stream(6, "/Type /ObjStm /N 1000000000 /First 4", b"5 0 << >>");
        let f = bb.xstream(7, "/Root 1 0 R /Info 5 0 R", &[(5, 6, 0)]);
        let e = layout(&f).unwrap_err().to_string();
        assert!(e.contains("/N"), "{e}");
        // An xref stream whose /Index claims more rows than it holds, and a huge /Length.
        let f = xref_stream();
        let i = find(&f, b"/W [1 4 2]").unwrap();
        let g = [&f[..i], b"/Index [0 99999999] ".as_slice(), &f[i..]].concat();
        let e = layout(&g).unwrap_err().to_string();
        assert!(e.contains("ends before entry"), "{e}");
        let i = rfind(&f, b"/Length ").unwrap();
        let mut g = f[..i].to_vec();
        g.extend_from_slice(b"/Length 99999999999");
        g.extend_from_slice(&f[f[i..].iter().position(|c| *c == b'>').unwrap() + i - 1..]);
        assert!(layout(&g).is_err());
    }

    #[test]
    fn wrong_offsets_fall_back_to_scanning() {
        // Shift everything by inserting a comment after the header: offsets are now wrong.
        let base = classic();
        let mut f = base[..15].to_vec();
        f.extend_from_slice(b"%padding\n");
        f.extend_from_slice(&base[15..]);
        // Fix startxref only.
        let i = rfind(&f, b"startxref").unwrap();
        let x = rfind(&f, b"xref\n0 6").unwrap();
        f.truncate(i);
        f.extend_from_slice(format!("startxref\n{x}\n%%EOF\n").as_bytes());
        let l = layout(&f).unwrap();
        assert_eq!(l.shape, "pages=1");
        let out = write(&f, "label").unwrap();
        assert_eq!(primaries(&out), ["label"]);
        assert_eq!(count(&out, br"/Title (A \(t\) \\ x)"), 2);
    }

    #[test]
    fn scanning_skips_label_sections() {
        // Fuzz (label_pdf): with broken offsets the catalog was found by scanning, and the last
        // `1 0 obj` in the file was a (damaged) object in our label section; relabelling
        // rebuilt that section and the catalog resolved to another object, a broken one.
        let base = classic();
        let mut f = base[..15].to_vec();
        // Every offset now points at this object, or inside another one.
        f.extend_from_slice(b"9 0 obj\nnull\nendobj\n");
        f.extend_from_slice(&base[15..]);
        let i = rfind(&f, b"startxref").unwrap();
        let x = rfind(&f, b"xref\n0 6").unwrap();
        f.truncate(i);
        f.extend_from_slice(format!("startxref\n{x}\n%%EOF\n").as_bytes());
        assert_eq!(layout(&f).unwrap().shape, "pages=1");
        let mut out = write(&f, "label").unwrap();
        let at = f.len() + rfind(&out[f.len()..], b"5 0 obj").unwrap();
        out[at] = b'1';
        let before = layout(&out).unwrap();
        assert_eq!(before.shape, "pages=1");
        assert_eq!(before.essence, vec![0..f.len() as u64]);
        let again = write(&out, "again").unwrap();
        let after = layout(&again).unwrap();
        assert_eq!(after.shape, "pages=1");
        assert_eq!(essence(&again), f);
        assert_eq!(primaries(&again), ["again"]);
    }

    #[test]
    fn new_objects_take_free_numbers_whatever_size_says() {
        // Fuzz (label_pdf): a trailer /Size equal to the Info object's number made the new
        // cross-reference stream take that number too (`/Index [7 1 7 1]`), and the update no
        // longer read as a label section: the essence changed.
        let base = xref_stream();
        let at = rfind(&base, b"/Size 7").unwrap();
        let mut small = base.clone();
        small[at..at + 7].copy_from_slice(b"/Size 5");
        let out = write(&small, "label").unwrap();
        // (/Size 5 also cuts the original stream's default /Index to objects 0-4.)
        assert_eq!(count(&out, b"/Index [5 1 6 1]"), 1);
        assert_eq!(count(&out, b"6 0 obj\n<< /Type /XRef /Size 7"), 1);
        assert_eq!(essence(&out), small);
        assert_eq!(primaries(&out), ["label"]);
        // An object outside the cross-reference table (found by scanning: the /Length of the
        // XMP stream) keeps its number: the new Info object takes the next one (fuzz,
        // label_pdf: it took that number and the stream length became a dictionary).
        let mut b = B::new();
        b.obj(1, b"<< /Type /Catalog /Pages 2 0 R /Metadata 4 0 R >>")
            .obj(2, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
            .obj(3, b"<< /Type /Page /Parent 2 0 R >>")
            .obj(
                4,
                b"<< /Type /Metadata /Subtype /XML /Length 5 0 R >>\nstream\n<x/>\nendstream",
            )
            .obj(5, b"4");
        b.offsets.retain(|(n, _)| *n != 5);
        let f = b.classic("/Size 5 /Root 1 0 R");
        assert_eq!(layout(&f).unwrap().shape, "pages=1");
        let out = write(&f, "label").unwrap();
        assert_eq!(count(&out, b"6 0 obj\n<< /AIGC (label) >>"), 1);
        assert_eq!(primaries(&out), ["label"]);
        assert_eq!(essence(&out), f);
        // No number left at all.
        let mut b = B::new();
        body(&mut b, None);
        b.obj(4294967294, b"<< >>");
        let huge = b.classic("/Size 5 /Root 1 0 R /Info 4294967294 0 R");
        let e = write(&huge, "label").unwrap_err();
        assert!(e.to_string().contains("no object number left"), "{e}");
    }

    /// The offset after `startxref` at the end of `b`.
    fn last_startxref(b: &[u8]) -> u64 {
        let i = rfind(b, b"startxref").unwrap();
        let s = &b[i + 10..];
        std::str::from_utf8(&s[..s.iter().position(|c| *c == b'\n').unwrap()])
            .unwrap()
            .parse()
            .unwrap()
    }

    #[test]
    fn an_info_entry_past_its_section_is_not_a_label_section() {
        // Fuzz (label_pdf): our section's entry for the Info object pointed past the section
        // (past the end of the file): not a label section, until relabelling appended bytes
        // there; then the old section's extent ran into the new one and the essence shrank.
        let labelled = write(&classic(), "ours").unwrap();
        let x = last_startxref(&labelled) as usize;
        let entry = x + b"xref\n5 1\n".len();
        let mut broken = labelled.clone();
        let past = format!("{:010}", labelled.len() + 50);
        broken[entry..entry + 10].copy_from_slice(past.as_bytes());
        assert_eq!(essence(&broken), broken);
        let out = write(&broken, "again").unwrap();
        assert_eq!(primaries(&out), ["again"]);
        assert_eq!(essence(&out), broken);
    }

    #[test]
    fn a_label_section_cannot_hide_a_content_update() {
        let base = classic();
        let x_f = last_startxref(&base);
        let content = b"4 0 obj\n<< /Length 15 >>\nstream\n0 0 m 99 99 l S\nendstream\nendobj\n";
        // A content update (object 4) inside the extent of a label section: after its
        // trailer, before its `startxref`, the label section's /Prev pointing at it.
        let mut f = base.clone();
        f.extend_from_slice(MARKER);
        let o_s = f.len();
        f.extend_from_slice(b"5 0 obj\n<< /AIGC (x) >>\nendobj\n");
        let x_s = f.len();
        let trailer_s = |x_u: usize| {
            format!(
                "xref\n5 1\n{o_s:010} 00000 n \ntrailer\n<< /Size 6 /Root 1 0 R /Info 5 0 R /Prev {x_u:010} >>\n"
            )
        };
        let o_u = x_s + trailer_s(0).len();
        let x_u = o_u + content.len();
        f.extend_from_slice(trailer_s(x_u).as_bytes());
        f.extend_from_slice(content);
        f.extend_from_slice(
            format!(
                "xref\n4 1\n{o_u:010} 00000 n \ntrailer\n<< /Size 6 /Root 1 0 R /Info 5 0 R /Prev {x_f} >>\nstartxref\n{x_s}\n%%EOF\n"
            )
            .as_bytes(),
        );
        assert_eq!(primaries(&f), ["x"]);
        assert_eq!(essence(&f), f, "the content update is covered");

        // A label section whose Info entry points into an earlier content update (which
        // holds the Info object too): its extent would start at that update.
        let mut f = base.clone();
        let o_u = f.len();
        f.extend_from_slice(b"5 0 obj\n<< /AIGC (x) >>\nendobj\n");
        let o_c = f.len();
        f.extend_from_slice(content);
        let x_u = f.len();
        f.extend_from_slice(
            format!(
                "xref\n4 2\n{o_c:010} 00000 n \n{o_u:010} 00000 n \ntrailer\n<< /Size 6 /Root 1 0 R /Info 5 0 R /Prev {x_f} >>\nstartxref\n{x_u}\n%%EOF\n"
            )
            .as_bytes(),
        );
        let x_s = f.len();
        f.extend_from_slice(
            format!(
                "xref\n5 1\n{o_u:010} 00000 n \ntrailer\n<< /Size 6 /Root 1 0 R /Info 5 0 R /Prev {x_u} >>\nstartxref\n{x_s}\n%%EOF\n"
            )
            .as_bytes(),
        );
        assert_eq!(primaries(&f), ["x"]);
        assert_eq!(essence(&f), f, "the content update is covered");
    }

    #[test]
    fn encrypted_documents_are_refused() {
        let mut b = B::new();
        body(&mut b, Some(INFO));
        b.obj(
            6,
            b"<< /Filter /Standard /V 1 /R 2 /O <00> /U <00> /P -4 >>",
        );
        let f = b.classic("/Size 7 /Root 1 0 R /Info 5 0 R /Encrypt 6 0 R /ID [<01><01>]");
        assert!(layout(&f).unwrap().carriers.is_empty());
        assert!(matches!(write(&f, "x"), Err(Error::Unsupported(_))));
    }

    #[test]
    fn the_labelled_copy_fits_the_limits_it_is_read_with() {
        let smallest =
            crate::formats::testing::labels_read_back_under_every_limit(&Pdf, &classic(), 2048);
        assert!(smallest > 1, "{smallest}");
    }
}
