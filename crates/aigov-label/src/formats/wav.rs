//! WAV (RIFF `WAVE`, and its 64-bit forms RF64 and BW64).
//!
//! Carriers:
//! - primary: a chunk with id `AIGC` whose payload is the label text (UTF-8);
//! - read only: further `AIGC` chunks, and a `TXXX:AIGC` frame in an ID3v2 tag held in an
//!   `id3 ` / `ID3 ` chunk (where mutagen and others put ID3 tags in WAV files).
//!
//! Writing keeps every chunk in order and unchanged, replaces the first `AIGC` chunk in place
//! (dropping any further ones) or appends one at the end of the RIFF form, adds a missing pad
//! byte after an odd-sized last chunk, and updates the RIFF size (for RF64/BW64 the `ds64`
//! RIFF size). Bytes after the end of the RIFF form are copied unchanged.
//!
//! Essence: the RIFF form type, and the id and payload (without size field and pad byte) of
//! every chunk except the metadata chunks `LIST`, `id3 `, `ID3 `, `AIGC`, `C2PA`, `bext`,
//! `iXML`, `_PMX`, `junk`, `JUNK`, `PAD `, `FLLR`; for `ds64` the payload after its RIFF size.
//! Shape: `<rate>Hz/<channels>ch/<frames>` from `fmt ` and the `data` size (or the `fact`
//! sample count for compressed formats). A `C2PA` chunk is reported as a C2PA store.
//!
//! Limits: in RF64/BW64 files only the `data` chunk may use the `ds64` size (chunks sized
//! through the `ds64` table are refused); a RIFF form that would grow past 4 GiB is refused
//! (convert to RF64 first).

use std::io::{SeekFrom, Write};
use std::ops::Range;

use super::mp3::{Id3Header, Id3Tag};
use crate::format::{
    Carrier, Counter, Format, Layout, Limits, Source, copy_range, len, push_range, read_at,
    read_up_to,
};
use crate::{Error, Result};

const NAME: &str = "wav";

/// The chunk id of the label.
const KEY: &[u8; 4] = b"AIGC";

/// Chunks that are metadata, excluded from the essence.
const METADATA: [&[u8; 4]; 12] = [
    b"LIST", b"id3 ", b"ID3 ", b"AIGC", b"C2PA", b"bext", b"iXML", b"_PMX", b"junk", b"JUNK",
    b"PAD ", b"FLLR",
];

/// The WAV format.
pub struct Wav;

/// A chunk in the RIFF form.
#[derive(Debug, Clone)]
pub(crate) struct Chunk {
    pub(crate) id: [u8; 4],
    /// Offset of its 8-byte header.
    pub(crate) start: u64,
    /// Payload size (from `ds64` for an RF64 `data` chunk).
    pub(crate) size: u64,
    /// End of the chunk including its pad byte as present in the file.
    pub(crate) end: u64,
    /// The pad byte after an odd payload is missing (at the end of the form).
    pub(crate) pad_missing: bool,
}

impl Chunk {
    pub(crate) fn payload(&self) -> Range<u64> {
        self.start + 8..self.start + 8 + self.size
    }
}

pub(crate) struct Scan {
    pub(crate) layout: Layout,
    /// RIFF (false) or RF64/BW64 (true).
    pub(crate) rf64: bool,
    /// The chunks of the form, in file order.
    pub(crate) chunks: Vec<Chunk>,
    /// End of the last chunk.
    pub(crate) chunks_end: u64,
    /// End of the RIFF form.
    pub(crate) form_end: u64,
    pub(crate) file_len: u64,
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn le64(b: &[u8], at: usize) -> u64 {
    u64::from(le32(b, at)) | (u64::from(le32(b, at + 4)) << 32)
}

fn fourcc(id: &[u8; 4]) -> String {
    String::from_utf8_lossy(id).into_owned()
}

/// Walks the RIFF form: its chunks, the label carriers, the essence and the shape.
pub(crate) fn scan(src: &mut dyn Source, limits: &Limits) -> Result<Scan> {
    let file_len = len(src)?;
    let mut head = [0u8; 12];
    src.seek(SeekFrom::Start(0))?;
    if read_up_to(src, &mut head)? < 12 {
        return Err(Error::malformed(
            NAME,
            0,
            "RIFF header cut short at the end of the file",
        ));
    }
    let rf64 = match &head[..4] {
        b"RIFF" => false,
        b"RF64" | b"BW64" => true,
        _ => return Err(Error::malformed(NAME, 0, "expected RIFF, RF64 or BW64")),
    };
    if &head[8..12] != b"WAVE" {
        return Err(Error::malformed(
            NAME,
            8,
            format!(
                "RIFF form type is {:?}, not WAVE",
                String::from_utf8_lossy(&head[8..12])
            ),
        ));
    }
    let mut layout = Layout::default();
    push_range(&mut layout.essence, 8..12);
    let mut counter = Counter::new(NAME, limits);
    let mut pos = 12u64;
    let mut data64 = None;
    let form_end = if rf64 {
        let mut h = [0u8; 8];
        src.seek(SeekFrom::Start(12))?;
        if read_up_to(src, &mut h)? < 8 || &h[..4] != b"ds64" {
            return Err(Error::malformed(NAME, 12, "RF64 file without a ds64 chunk"));
        }
        let size = u64::from(le32(&h, 4));
        if size < 28 {
            return Err(Error::malformed(
                NAME,
                12,
                format!("ds64 chunk of {size} bytes is shorter than 28"),
            ));
        }
        let b = read_at(src, NAME, "ds64 chunk", 20, 28, 28)?;
        let table = u64::from(le32(&b, 24));
        if table > 0 {
            return Err(Error::Unsupported(format!(
                "{NAME}: RF64 ds64 chunk size table with {table} entries is not supported"
            )));
        }
        data64 = Some(le64(&b, 8));
        8u64.saturating_add(le64(&b, 0))
    } else {
        match le32(&head, 4) {
            // Placeholders left by streaming writers.
            0 | u32::MAX => file_len,
            n => 8 + u64::from(n),
        }
    };
    if form_end > file_len {
        return Err(Error::malformed(
            NAME,
            4,
            format!("RIFF form of {form_end} bytes is cut short: the file has {file_len}"),
        ));
    }
    let mut chunks = Vec::new();
    while pos + 8 <= form_end {
        counter.tick(pos)?;
        let mut h = [0u8; 8];
        src.seek(SeekFrom::Start(pos))?;
        read_up_to(src, &mut h)?;
        let id = [h[0], h[1], h[2], h[3]];
        let size32 = le32(&h, 4);
        let size = match (rf64, &id, data64) {
            (true, b"data", Some(d)) if size32 == u32::MAX => d,
            (true, _, _) if size32 == u32::MAX => {
                return Err(Error::Unsupported(format!(
                    "{NAME}: RF64 chunk {} sized through the ds64 table is not supported",
                    fourcc(&id)
                )));
            }
            _ => u64::from(size32),
        };
        let payload_end = (pos + 8).saturating_add(size);
        if payload_end > form_end {
            return Err(Error::malformed(
                NAME,
                pos,
                format!(
                    "chunk {:?} of {size} bytes runs past the end of the RIFF form at byte {form_end}",
                    fourcc(&id)
                ),
            ));
        }
        let mut end = payload_end + (size & 1);
        let mut pad_missing = false;
        if end > form_end {
            // An odd last chunk without its pad byte.
            end = payload_end;
            pad_missing = true;
        }
        chunks.push(Chunk {
            id,
            start: pos,
            size,
            end,
            pad_missing,
        });
        pos = end;
    }
    let chunks_end = pos;

    let mut fmt = None;
    let mut data_size = None;
    let mut fact = None;
    for c in &chunks {
        match &c.id {
            // The RF64 size chunk (first in the form): its RIFF size changes with labelling.
            // A `ds64` chunk anywhere else is an ordinary chunk.
            b"ds64" if rf64 && c.start == 12 => {
                push_range(&mut layout.essence, c.start..c.start + 4);
                push_range(&mut layout.essence, c.start + 16..c.payload().end);
            }
            id if METADATA.contains(&id) => {}
            _ => {
                push_range(&mut layout.essence, c.start..c.start + 4);
                push_range(&mut layout.essence, c.payload());
            }
        }
        match &c.id {
            b"fmt " if fmt.is_none() => {
                if c.size < 16 {
                    return Err(Error::malformed(
                        NAME,
                        c.start,
                        format!("fmt chunk of {} bytes is shorter than 16", c.size),
                    ));
                }
                let b = read_at(src, NAME, "fmt chunk", c.start + 8, 16, 16)?;
                let tag = u16::from_le_bytes([b[0], b[1]]);
                let channels = u16::from_le_bytes([b[2], b[3]]);
                let rate = le32(&b, 4);
                let align = u16::from_le_bytes([b[12], b[13]]);
                fmt = Some((tag, channels, rate, align));
            }
            b"data" if data_size.is_none() => data_size = Some(c.size),
            b"fact" if fact.is_none() && c.size >= 4 => {
                let b = read_at(src, NAME, "fact chunk", c.start + 8, 4, 4)?;
                fact = Some(le32(&b, 0));
            }
            b"AIGC" => {
                let b = read_at(
                    src,
                    NAME,
                    "AIGC chunk",
                    c.start + 8,
                    c.size,
                    limits.max_metadata,
                )?;
                let text = String::from_utf8_lossy(&b);
                let primary = !layout.carriers.iter().any(|x: &Carrier| x.primary);
                layout.carriers.push(Carrier {
                    kind: "wav:AIGC".into(),
                    primary,
                    text: text.trim_end_matches('\0').to_string(),
                });
            }
            b"id3 " | b"ID3 " => {
                let b = read_at(
                    src,
                    NAME,
                    "id3 chunk",
                    c.start + 8,
                    c.size,
                    limits.max_metadata,
                )?;
                if let Some(h) = Id3Header::parse(&b, NAME, c.start + 8)? {
                    if h.total_len() > c.size {
                        return Err(Error::malformed(
                            NAME,
                            c.start,
                            "ID3v2 tag runs past the end of its id3 chunk",
                        ));
                    }
                    let tag = Id3Tag::parse(&b, NAME, c.start + 8, limits)?;
                    for text in tag.labels() {
                        layout.carriers.push(Carrier {
                            kind: "wav:id3:TXXX:AIGC".into(),
                            primary: false,
                            text,
                        });
                    }
                    layout.has_c2pa |= tag.has_c2pa();
                }
            }
            b"C2PA" => layout.has_c2pa = true,
            _ => {}
        }
    }
    let Some((tag, channels, rate, align)) = fmt else {
        return Err(Error::malformed(NAME, 12, "no fmt chunk"));
    };
    let Some(data_size) = data_size else {
        return Err(Error::malformed(NAME, 12, "no data chunk"));
    };
    // PCM, IEEE float and extensible: frames from the data size; others from `fact`.
    let frames = match (tag, fact) {
        (1 | 3 | 0xFFFE, _) | (_, None) => data_size.checked_div(u64::from(align)).unwrap_or(0),
        (_, Some(n)) => u64::from(n),
    };
    layout.shape = format!("{rate}Hz/{channels}ch/{frames}");
    // Carriers are pushed in file order already; keep that order.
    Ok(Scan {
        layout,
        rf64,
        chunks,
        chunks_end,
        form_end,
        file_len,
    })
}

fn label_chunk(json: &str) -> Result<Vec<u8>> {
    let size = u32::try_from(json.len()).map_err(|_| {
        Error::Label(format!(
            "{NAME}: a label of {} bytes does not fit a chunk",
            json.len()
        ))
    })?;
    let mut c = Vec::with_capacity(json.len() + 9);
    c.extend_from_slice(KEY);
    c.extend_from_slice(&size.to_le_bytes());
    c.extend_from_slice(json.as_bytes());
    if json.len() % 2 == 1 {
        c.push(0);
    }
    Ok(c)
}

impl Format for Wav {
    fn name(&self) -> &'static str {
        NAME
    }

    fn media_type(&self) -> &'static str {
        "audio/wav"
    }

    fn patchable(&self) -> bool {
        true
    }

    fn detect(&self, head: &[u8]) -> bool {
        head.len() >= 12
            && matches!(&head[..4], b"RIFF" | b"RF64" | b"BW64")
            && &head[8..12] == b"WAVE"
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
        // The reader refuses a larger chunk: the labelled copy must read back.
        if json.len() as u64 > limits.max_metadata {
            return Err(Error::too_large(
                NAME,
                s.chunks_end,
                "AIGC chunk",
                json.len() as u64,
                limits.max_metadata,
            ));
        }
        let label = label_chunk(json)?;
        // Size of the form after the 8-byte RIFF header.
        let mut form = 4u64;
        let mut placed = false;
        for c in &s.chunks {
            if &c.id == KEY {
                if !placed {
                    form += label.len() as u64;
                    placed = true;
                }
                continue;
            }
            form += 8 + c.size + (c.size & 1);
        }
        if !placed {
            form += label.len() as u64;
        }
        // Stray bytes between the last chunk and the end of the form are kept.
        form += s.form_end - s.chunks_end;
        if s.rf64 {
            copy_range(src, dst, NAME, 0..12)?;
        } else {
            let size = u32::try_from(form).map_err(|_| {
                Error::too_large(
                    NAME,
                    4,
                    "RIFF form (convert to RF64)",
                    form,
                    u64::from(u32::MAX),
                )
            })?;
            dst.write_all(b"RIFF")?;
            dst.write_all(&size.to_le_bytes())?;
            dst.write_all(b"WAVE")?;
        }
        let mut placed = false;
        for c in &s.chunks {
            if &c.id == KEY {
                if !placed {
                    dst.write_all(&label)?;
                    placed = true;
                }
                continue;
            }
            if s.rf64 && c.start == 12 {
                dst.write_all(b"ds64")?;
                copy_range(src, dst, NAME, c.start + 4..c.start + 8)?;
                dst.write_all(&form.to_le_bytes())?;
                copy_range(src, dst, NAME, c.start + 16..c.end)?;
                continue;
            }
            copy_range(src, dst, NAME, c.start..c.end)?;
            if c.pad_missing {
                dst.write_all(&[0])?;
            }
        }
        if !placed {
            dst.write_all(&label)?;
        }
        copy_range(src, dst, NAME, s.chunks_end..s.file_len)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::formats::testing::{essence, primary};
    use std::io::Cursor;

    const JSON: &str = r#"{"AIGC":{"Label":"1","ContentProducer":"p","ProduceID":"id1","ReservedCode1":"","ContentPropagator":"","PropagateID":"","ReservedCode2":""}}"#;
    const JSON2: &str = r#"{"AIGC":{"Label":"2","ContentProducer":"生成者","ProduceID":"id2","ReservedCode1":"","ContentPropagator":"","PropagateID":"","ReservedCode2":"x"}}"#;

    fn chunk(id: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut c = id.to_vec();
        c.extend((body.len() as u32).to_le_bytes());
        c.extend(body);
        if body.len() % 2 == 1 {
            c.push(0);
        }
        c
    }

    fn fmt() -> Vec<u8> {
        let mut b = 1u16.to_le_bytes().to_vec();
        b.extend(2u16.to_le_bytes());
        b.extend(44100u32.to_le_bytes());
        b.extend((44100u32 * 4).to_le_bytes());
        b.extend(4u16.to_le_bytes());
        b.extend(16u16.to_le_bytes());
        b
    }

    fn riff(chunks: &[Vec<u8>]) -> Vec<u8> {
        let body: Vec<u8> = chunks.concat();
        let mut f = b"RIFF".to_vec();
        f.extend(((body.len() + 4) as u32).to_le_bytes());
        f.extend(b"WAVE");
        f.extend(body);
        f
    }

    fn samples() -> Vec<u8> {
        (0..400).map(|i| (i * 7 % 256) as u8).collect()
    }

    fn layout(b: &[u8]) -> Result<Layout> {
        Wav.layout(&mut Cursor::new(b), &Limits::default())
    }

    fn write(b: &[u8], json: &str) -> Vec<u8> {
        let mut out = Vec::new();
        Wav.write(&mut Cursor::new(b), &mut out, json, &Limits::default())
            .unwrap();
        out
    }

    fn ids(b: &[u8]) -> Vec<[u8; 4]> {
        let s = scan(&mut Cursor::new(b), &Limits::default()).unwrap();
        assert_eq!(s.form_end, s.chunks_end);
        s.chunks.iter().map(|c| c.id).collect()
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
        assert_eq!(
            l2.carriers.iter().filter(|c| c.kind == "wav:AIGC").count(),
            1
        );
        assert_eq!(essence(&twice, &l2), e0);
        let s = scan(&mut Cursor::new(&twice), &Limits::default()).unwrap();
        if &twice[..4] == b"RIFF" && s.form_end == s.file_len {
            assert_eq!(le32(&twice, 4) as usize, twice.len() - 8);
        }
        twice
    }

    #[test]
    fn detect() {
        assert!(Wav.detect(b"RIFF\0\0\0\0WAVE"));
        assert!(Wav.detect(b"RF64\xFF\xFF\xFF\xFFWAVE"));
        assert!(!Wav.detect(b"RIFF\0\0\0\0WEBP"));
    }

    #[test]
    fn appends_and_replaces() {
        let f = riff(&[
            chunk(b"fmt ", &fmt()),
            chunk(b"LIST", b"INFOxxxx"),
            chunk(b"data", &samples()),
        ]);
        let l = layout(&f).unwrap();
        assert_eq!(l.shape, "44100Hz/2ch/100");
        let out = round_trip(&f);
        assert_eq!(ids(&out), vec![*b"fmt ", *b"LIST", *b"data", *b"AIGC"]);
        // An existing chunk is replaced in place; a duplicate is dropped.
        let f = riff(&[
            chunk(b"fmt ", &fmt()),
            chunk(b"AIGC", b"old"),
            chunk(b"data", &samples()),
            chunk(b"AIGC", b"dup"),
        ]);
        let l = layout(&f).unwrap();
        assert_eq!(primary(&l), vec!["old".to_string()]);
        assert_eq!(l.carriers.len(), 2);
        let out = round_trip(&f);
        assert_eq!(ids(&out), vec![*b"fmt ", *b"AIGC", *b"data"]);
    }

    #[test]
    fn odd_sizes_and_missing_pad() {
        // Odd data chunk whose pad byte is missing at the end of the file.
        let mut data = chunk(b"data", &samples()[..101]);
        data.pop();
        let mut f = riff(&[chunk(b"fmt ", &fmt()), chunk(b"odd ", b"abc"), data]);
        let n = f.len() as u32 - 8;
        f[4..8].copy_from_slice(&n.to_le_bytes());
        let out = round_trip(&f);
        assert_eq!(ids(&out), vec![*b"fmt ", *b"odd ", *b"data", *b"AIGC"]);
        // Odd-length json gets a pad byte.
        let c = label_chunk("{}x").unwrap();
        assert_eq!(c.len(), 12);
    }

    #[test]
    fn trailing_bytes_and_id3_chunk() {
        let mut p = b"\x03AIGC\x00from-id3".to_vec();
        let mut fr = b"TXXX".to_vec();
        fr.extend([0, 0, 0, p.len() as u8, 0, 0]);
        fr.append(&mut p);
        let mut id3 = b"ID3\x04\x00\x00\x00\x00\x00".to_vec();
        id3.push(fr.len() as u8);
        id3.extend(&fr);
        let mut f = riff(&[
            chunk(b"fmt ", &fmt()),
            chunk(b"data", &samples()),
            chunk(b"id3 ", &id3),
            chunk(b"C2PA", b"jumb"),
        ]);
        f.extend(b"trailing junk");
        let l = layout(&f).unwrap();
        assert!(l.has_c2pa);
        assert_eq!(l.carriers.len(), 1);
        assert!(!l.carriers[0].primary);
        assert_eq!(l.carriers[0].text, "from-id3");
        let out = round_trip(&f);
        assert!(out.ends_with(b"trailing junk"));
        assert_eq!(le32(&out, 4) as usize, out.len() - 8 - 13);
    }

    #[test]
    fn rf64() {
        let data = samples();
        let mut ds64 = 0u64.to_le_bytes().to_vec();
        ds64.extend((data.len() as u64).to_le_bytes());
        ds64.extend(100u64.to_le_bytes());
        ds64.extend(0u32.to_le_bytes());
        let mut dc = b"data".to_vec();
        dc.extend(u32::MAX.to_le_bytes());
        dc.extend(&data);
        let body = [chunk(b"ds64", &ds64), chunk(b"fmt ", &fmt()), dc].concat();
        let mut f = b"RF64\xFF\xFF\xFF\xFFWAVE".to_vec();
        f.extend(body);
        let riff_size = f.len() as u64 - 8;
        f[20..28].copy_from_slice(&riff_size.to_le_bytes());
        let l = layout(&f).unwrap();
        assert_eq!(l.shape, "44100Hz/2ch/100");
        let out = round_trip(&f);
        assert_eq!(le64(&out, 20), out.len() as u64 - 8);
    }

    #[test]
    fn a_ds64_chunk_in_a_riff_file_is_an_ordinary_chunk() {
        // Fuzz (label_wav): a `ds64` chunk of 0 bytes in a RIFF (not RF64) file was written
        // back with an 8-byte RIFF size inside it, and the chunks after it no longer lined up.
        let f = riff(&[
            chunk(b"ds64", b""),
            chunk(b"fmt ", &fmt()),
            chunk(b"data", &samples()),
        ]);
        let l = layout(&f).unwrap();
        assert_eq!(l.essence[0], 8..16);
        let out = round_trip(&f);
        assert_eq!(&out[12..20], b"ds64\0\0\0\0");
        // Nor is a second one in an RF64 file the size chunk.
        let mut ds64 = 0u64.to_le_bytes().to_vec();
        ds64.extend((samples().len() as u64).to_le_bytes());
        ds64.extend(100u64.to_le_bytes());
        ds64.extend(0u32.to_le_bytes());
        let body = [
            chunk(b"ds64", &ds64),
            chunk(b"ds64", b"x"),
            chunk(b"fmt ", &fmt()),
            chunk(b"data", &samples()),
        ]
        .concat();
        let mut f = b"RF64\xFF\xFF\xFF\xFFWAVE".to_vec();
        f.extend(body);
        let riff_size = f.len() as u64 - 8;
        f[20..28].copy_from_slice(&riff_size.to_le_bytes());
        let out = round_trip(&f);
        assert_eq!(&out[48..58], b"ds64\x01\0\0\0x\0");
    }

    #[test]
    fn truncation() {
        let f = riff(&[
            chunk(b"fmt ", &fmt()),
            chunk(b"AIGC", b"old"),
            chunk(b"data", &samples()[..60]),
        ]);
        for n in 0..f.len() {
            let r = layout(&f[..n]);
            assert!(
                matches!(r, Err(Error::Malformed { .. })),
                "prefix {n}: {r:?}"
            );
            let mut out = Vec::new();
            assert!(
                Wav.write(
                    &mut Cursor::new(&f[..n]),
                    &mut out,
                    JSON,
                    &Limits::default()
                )
                .is_err()
            );
        }
    }

    #[test]
    fn hostile_sizes() {
        // Chunk larger than the form.
        let mut f = riff(&[chunk(b"fmt ", &fmt()), chunk(b"data", &samples())]);
        let at = 12 + 8 + 16 + 4;
        f[at..at + 4].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
        assert!(matches!(layout(&f), Err(Error::Malformed { .. })));
        // AIGC chunk over the metadata limit.
        let f = riff(&[
            chunk(b"fmt ", &fmt()),
            chunk(b"AIGC", &[b'x'; 5000]),
            chunk(b"data", &samples()),
        ]);
        let limits = Limits {
            max_metadata: 1000,
            ..Limits::default()
        };
        let r = Wav.layout(&mut Cursor::new(&f), &limits);
        assert!(matches!(r, Err(Error::TooLarge { .. })), "{r:?}");
        // Many empty chunks are bounded.
        let mut chunks = vec![chunk(b"fmt ", &fmt())];
        chunks.extend((0..100).map(|_| chunk(b"JUNK", b"")));
        chunks.push(chunk(b"data", &samples()));
        let f = riff(&chunks);
        let limits = Limits {
            max_structures: 50,
            ..Limits::default()
        };
        let r = Wav.layout(&mut Cursor::new(&f), &limits);
        assert!(matches!(r, Err(Error::TooLarge { .. })), "{r:?}");
        // RF64 with a ds64 RIFF size past the file.
        let mut ds64 = u64::MAX.to_le_bytes().to_vec();
        ds64.extend([0; 20]);
        let mut f = b"RF64\xFF\xFF\xFF\xFFWAVE".to_vec();
        f.extend(chunk(b"ds64", &ds64));
        assert!(matches!(layout(&f), Err(Error::Malformed { .. })));
        // Missing fmt.
        let f = riff(&[chunk(b"data", &samples())]);
        assert!(matches!(layout(&f), Err(Error::Malformed { .. })));
    }

    #[test]
    fn the_labelled_copy_fits_the_limits_it_is_read_with() {
        let smallest = crate::formats::testing::labels_read_back_under_every_limit(
            &Wav,
            &riff(&[chunk(b"fmt ", &fmt()), chunk(b"data", &samples())]),
            2048,
        );
        assert!(smallest > 1, "{smallest}");
    }
}
