//! Ogg Vorbis and Ogg Opus (one logical stream).
//!
//! Carriers:
//! - primary: a comment `AIGC=<json>` in the comment header, the second packet of the stream
//!   (`\x03vorbis…` with its framing bit, or `OpusTags…`); field names are compared
//!   case-insensitively;
//! - read only: further `AIGC=` comments in it.
//!
//! Writing copies the first page (the identification header) unchanged, rebuilds the pages of
//! the comment header (with the first `AIGC=` comment replaced and others dropped, or one
//! appended; vendor string, other comments, Opus extra data kept) and, for Vorbis, of the
//! setup header (same bytes, on its own pages), then copies every following page with its
//! sequence number shifted by the change in the number of header pages and its CRC
//! recomputed. Granule positions, flags, lacing and bodies of those pages are unchanged. Pages
//! are streamed one by one.
//!
//! Essence: the identification header packet, the Vorbis setup header packet and the bodies
//! of every page after the header pages (not their headers: sequence numbers and CRCs change).
//! Shape: `<rate>Hz/<channels>ch` from the identification header (Opus: 48000 Hz, the rate it
//! always decodes at).
//!
//! Limits: multiplexed streams (a second `BOS` page or another serial number, as with Ogg
//! Skeleton or video) and chained streams (pages after the end of the first stream) are
//! refused, as are codecs other than Vorbis and Opus, an identification header that does not
//! sit alone on the first page, and audio data that shares a page with the header packets.
//! Page CRCs are not checked when reading; audio packets are not decoded.

use std::io::{Read, SeekFrom, Write};
use std::ops::Range;

use super::flac::Comments;
use crate::format::{
    Carrier, Counter, Format, Layout, Limits, Source, copy_range, len, push_range, read_at,
};
use crate::{Error, Result};

const NAME: &str = "ogg";

/// Largest page: 27-byte header, 255 lacing values, 255 × 255 body bytes.
const MAX_PAGE: usize = 27 + 255 + 255 * 255;

/// The Ogg format.
pub struct Ogg;

// ---------------------------------------------------------------------------------------------
// Pages
// ---------------------------------------------------------------------------------------------

const fn crc_table() -> [u32; 256] {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut r = (i as u32) << 24;
        let mut j = 0;
        while j < 8 {
            r = if r & 0x8000_0000 != 0 {
                (r << 1) ^ 0x04C1_1DB7
            } else {
                r << 1
            };
            j += 1;
        }
        t[i] = r;
        i += 1;
    }
    t
}

static CRC_TABLE: [u32; 256] = crc_table();

/// The Ogg CRC-32 (polynomial 0x04c11db7, not reflected, initial value 0, no final xor).
fn crc32(data: &[u8]) -> u32 {
    data.iter().fold(0u32, |c, &b| {
        (c << 8) ^ CRC_TABLE[usize::from(((c >> 24) as u8) ^ b)]
    })
}

/// Sets the CRC of a whole page held in `page`.
fn seal(page: &mut [u8]) {
    page[22..26].fill(0);
    let crc = crc32(page);
    page[22..26].copy_from_slice(&crc.to_le_bytes());
}

const CONTINUED: u8 = 0x01;
const BOS: u8 = 0x02;
const EOS: u8 = 0x04;

/// A page header.
#[derive(Debug, Clone)]
struct Page {
    offset: u64,
    flags: u8,
    serial: u32,
    seq: u32,
    lacing: Vec<u8>,
}

impl Page {
    fn header_len(&self) -> u64 {
        27 + self.lacing.len() as u64
    }
    fn body_len(&self) -> u64 {
        self.lacing.iter().map(|&l| u64::from(l)).sum()
    }
    fn body(&self) -> Range<u64> {
        let s = self.offset + self.header_len();
        s..s + self.body_len()
    }
    fn end(&self) -> u64 {
        self.body().end
    }
}

/// Reads the page header at `offset`; `None` at the end of the file.
fn read_page(src: &mut dyn Source, offset: u64, file_len: u64) -> Result<Option<Page>> {
    if offset >= file_len {
        return Ok(None);
    }
    if file_len - offset < 27 {
        return Err(Error::malformed(
            NAME,
            offset,
            "Ogg page header cut short at the end of the file",
        ));
    }
    let h = read_at(src, NAME, "Ogg page header", offset, 27, 27)?;
    if &h[..4] != b"OggS" {
        return Err(Error::malformed(
            NAME,
            offset,
            "expected an Ogg page (OggS)",
        ));
    }
    if h[4] != 0 {
        return Err(Error::malformed(
            NAME,
            offset,
            format!("Ogg page version {} is unknown", h[4]),
        ));
    }
    let n = u64::from(h[26]);
    let lacing = read_at(src, NAME, "Ogg lacing table", offset + 27, n, 255)?;
    let page = Page {
        offset,
        flags: h[5],
        serial: u32::from_le_bytes([h[14], h[15], h[16], h[17]]),
        seq: u32::from_le_bytes([h[18], h[19], h[20], h[21]]),
        lacing,
    };
    if page.end() > file_len {
        return Err(Error::malformed(
            NAME,
            offset,
            format!(
                "Ogg page body of {} bytes is cut short at the end of the file",
                page.body_len()
            ),
        ));
    }
    Ok(Some(page))
}

/// Splits `packet` into pages (granule 0 on the page where it ends, -1 before).
fn paginate(packet: &[u8], serial: u32, seq: &mut u32, out: &mut Vec<Vec<u8>>) {
    let mut lacing: Vec<u8> = vec![255; packet.len() / 255];
    lacing.push((packet.len() % 255) as u8);
    let mut body_pos = 0usize;
    let chunks: Vec<&[u8]> = lacing.chunks(255).collect();
    for (i, lace) in chunks.iter().enumerate() {
        let last = i + 1 == chunks.len();
        let body_len: usize = lace.iter().map(|&l| usize::from(l)).sum();
        let mut p = Vec::with_capacity(27 + lace.len() + body_len);
        p.extend_from_slice(b"OggS");
        p.push(0);
        p.push(if i > 0 { CONTINUED } else { 0 });
        let granule: u64 = if last { 0 } else { u64::MAX };
        p.extend_from_slice(&granule.to_le_bytes());
        p.extend_from_slice(&serial.to_le_bytes());
        p.extend_from_slice(&seq.to_le_bytes());
        p.extend_from_slice(&[0; 4]);
        p.push(lace.len() as u8);
        p.extend_from_slice(lace);
        p.extend_from_slice(&packet[body_pos..body_pos + body_len]);
        body_pos += body_len;
        seal(&mut p);
        out.push(p);
        *seq = seq.wrapping_add(1);
    }
}

// ---------------------------------------------------------------------------------------------
// Headers
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Codec {
    Vorbis,
    Opus,
}

impl Codec {
    fn comment_magic(self) -> &'static [u8] {
        match self {
            Codec::Vorbis => b"\x03vorbis",
            Codec::Opus => b"OpusTags",
        }
    }
}

/// What the header pages hold.
struct Headers {
    codec: Codec,
    /// The first page (the identification header).
    first: Page,
    /// The comment packet.
    comment: Vec<u8>,
    /// The Vorbis setup packet and where its bytes lie in the file.
    setup: Option<(Vec<u8>, Vec<Range<u64>>)>,
    /// Pages after the first that hold the comment and setup headers.
    pages: u32,
    /// End of the header pages.
    end: u64,
    shape: String,
}

fn unsupported(msg: String) -> Error {
    Error::Unsupported(format!("{NAME}: {msg}"))
}

fn read_headers(
    src: &mut dyn Source,
    file_len: u64,
    limits: &Limits,
    counter: &mut Counter,
) -> Result<Headers> {
    let first =
        read_page(src, 0, file_len)?.ok_or_else(|| Error::malformed(NAME, 0, "empty file"))?;
    counter.tick(0)?;
    if first.flags & BOS == 0 || first.flags & CONTINUED != 0 {
        return Err(Error::malformed(
            NAME,
            0,
            "the first Ogg page does not begin a stream",
        ));
    }
    let alone = match first.lacing.split_last() {
        Some((&last, rest)) => last < 255 && rest.iter().all(|&l| l == 255),
        None => false,
    };
    if !alone {
        return Err(unsupported(
            "the identification header is not alone on the first page".into(),
        ));
    }
    let id = read_at(
        src,
        NAME,
        "identification header",
        first.body().start,
        first.body_len(),
        limits.max_metadata,
    )?;
    let (codec, shape, headers) = if id.len() >= 30 && id.starts_with(b"\x01vorbis") {
        let channels = id[11];
        let rate = u32::from_le_bytes([id[12], id[13], id[14], id[15]]);
        (Codec::Vorbis, format!("{rate}Hz/{channels}ch"), 2)
    } else if id.len() >= 19 && id.starts_with(b"OpusHead") {
        (Codec::Opus, format!("48000Hz/{}ch", id[9]), 1)
    } else {
        return Err(unsupported(
            "the stream's codec is not Vorbis or Opus".into(),
        ));
    };
    let mut packets: Vec<Vec<u8>> = Vec::new();
    let mut ranges: Vec<Vec<Range<u64>>> = Vec::new();
    let mut cur: Vec<u8> = Vec::new();
    let mut cur_ranges: Vec<Range<u64>> = Vec::new();
    let mut partial = false;
    let mut pos = first.end();
    let mut pages = 0u32;
    while packets.len() < headers {
        let page = read_page(src, pos, file_len)?.ok_or_else(|| {
            Error::malformed(
                NAME,
                pos,
                "the Ogg header packets are cut short at the end of the file",
            )
        })?;
        counter.tick(pos)?;
        if page.serial != first.serial || page.flags & BOS != 0 {
            return Err(unsupported(format!(
                "multiplexed Ogg streams (a second logical stream at byte {pos})"
            )));
        }
        if (page.flags & CONTINUED != 0) != partial {
            return Err(Error::malformed(
                NAME,
                pos,
                "Ogg page continuation flag does not match the packet before it",
            ));
        }
        let body = read_at(
            src,
            NAME,
            "Ogg header page",
            page.body().start,
            page.body_len(),
            MAX_PAGE as u64,
        )?;
        let mut at = 0usize;
        for (i, &l) in page.lacing.iter().enumerate() {
            if packets.len() == headers {
                return Err(unsupported(format!(
                    "audio data shares the Ogg page at byte {pos} with the header packets (segment {i})"
                )));
            }
            let seg = &body[at..at + usize::from(l)];
            if (cur.len() + seg.len()) as u64 > limits.max_metadata {
                return Err(Error::too_large(
                    NAME,
                    pos,
                    "Ogg header packet",
                    (cur.len() + seg.len()) as u64,
                    limits.max_metadata,
                ));
            }
            cur.extend_from_slice(seg);
            let abs = page.body().start + at as u64;
            push_range(&mut cur_ranges, abs..abs + u64::from(l));
            at += usize::from(l);
            if l < 255 {
                packets.push(std::mem::take(&mut cur));
                ranges.push(std::mem::take(&mut cur_ranges));
                partial = false;
            } else {
                partial = true;
            }
        }
        pages += 1;
        pos = page.end();
    }
    let comment = packets.remove(0);
    ranges.remove(0);
    if !comment.starts_with(codec.comment_magic()) {
        return Err(Error::malformed(
            NAME,
            first.end(),
            "the second Ogg packet is not a comment header",
        ));
    }
    let setup = match codec {
        Codec::Vorbis => {
            let p = packets.remove(0);
            if !p.starts_with(b"\x05vorbis") {
                return Err(Error::malformed(
                    NAME,
                    first.end(),
                    "the third Ogg packet is not a Vorbis setup header",
                ));
            }
            Some((p, ranges.remove(0)))
        }
        Codec::Opus => None,
    };
    Ok(Headers {
        codec,
        first,
        comment,
        setup,
        pages,
        end: pos,
        shape,
    })
}

/// The comment list inside a comment packet.
fn comments(h: &Headers) -> Result<(usize, Comments)> {
    let skip = h.codec.comment_magic().len();
    let c = Comments::parse(&h.comment[skip..])
        .map_err(|m| Error::malformed(NAME, h.first.end(), m))?;
    Ok((skip, c))
}

/// Checks an audio page against the stream.
fn check_audio_page(page: &Page, serial: u32, ended: bool) -> Result<()> {
    if ended {
        return Err(unsupported(format!(
            "chained Ogg streams (a page at byte {} after the end of the first stream)",
            page.offset
        )));
    }
    if page.serial != serial || page.flags & BOS != 0 {
        return Err(unsupported(format!(
            "multiplexed Ogg streams (a second logical stream at byte {})",
            page.offset
        )));
    }
    Ok(())
}

impl Format for Ogg {
    fn name(&self) -> &'static str {
        NAME
    }

    fn media_type(&self) -> &'static str {
        "audio/ogg"
    }

    fn detect(&self, head: &[u8]) -> bool {
        if head.len() < 27 || &head[..4] != b"OggS" || head[4] != 0 {
            return false;
        }
        let body = 27 + usize::from(head[26]);
        match head.get(body..body + 8) {
            Some(m) => m.starts_with(b"\x01vorbis") || m == b"OpusHead",
            None => true,
        }
    }

    fn layout(&self, src: &mut dyn Source, limits: &Limits) -> Result<Layout> {
        let file_len = len(src)?;
        let mut counter = Counter::new(NAME, limits);
        let h = read_headers(src, file_len, limits, &mut counter)?;
        let mut layout = Layout {
            shape: h.shape.clone(),
            ..Layout::default()
        };
        let (skip, c) = comments(&h)?;
        let kind = match h.codec {
            Codec::Vorbis => "ogg:VorbisComment:AIGC",
            Codec::Opus => "ogg:OpusTags:AIGC",
        };
        for (i, text) in c.labels(&h.comment[skip..]).into_iter().enumerate() {
            layout.carriers.push(Carrier {
                kind: kind.into(),
                primary: i == 0,
                text,
            });
        }
        push_range(&mut layout.essence, h.first.body());
        if let Some((_, ranges)) = &h.setup {
            for r in ranges {
                push_range(&mut layout.essence, r.clone());
            }
        }
        let mut pos = h.end;
        let mut ended = h.first.flags & EOS != 0;
        while let Some(page) = read_page(src, pos, file_len)? {
            counter.tick(pos)?;
            check_audio_page(&page, h.first.serial, ended)?;
            ended = page.flags & EOS != 0;
            push_range(&mut layout.essence, page.body());
            pos = page.end();
        }
        Ok(layout)
    }

    fn write(
        &self,
        src: &mut dyn Source,
        dst: &mut dyn Write,
        json: &str,
        limits: &Limits,
    ) -> Result<()> {
        let file_len = len(src)?;
        let mut counter = Counter::new(NAME, limits);
        let h = read_headers(src, file_len, limits, &mut counter)?;
        let (skip, c) = comments(&h)?;
        let mut packet = h.comment[..skip].to_vec();
        packet.extend_from_slice(&c.rebuild(&h.comment[skip..], Some(json)));
        if h.codec == Codec::Vorbis && c.end == h.comment.len() - skip {
            // The framing bit was missing.
            packet.push(1);
        }
        // The reader refuses a larger header packet: the labelled copy must read back.
        if packet.len() as u64 > limits.max_metadata {
            return Err(Error::too_large(
                NAME,
                h.first.end(),
                "Ogg comment header with the label",
                packet.len() as u64,
                limits.max_metadata,
            ));
        }
        copy_range(src, dst, NAME, 0..h.first.end())?;
        let mut seq = h.first.seq.wrapping_add(1);
        let mut pages = Vec::new();
        paginate(&packet, h.first.serial, &mut seq, &mut pages);
        if let Some((setup, _)) = &h.setup {
            paginate(setup, h.first.serial, &mut seq, &mut pages);
        }
        for p in &pages {
            dst.write_all(p)?;
        }
        let shift = (pages.len() as u32).wrapping_sub(h.pages);
        let mut pos = h.end;
        let mut ended = h.first.flags & EOS != 0;
        let mut buf = Vec::with_capacity(MAX_PAGE);
        while let Some(page) = read_page(src, pos, file_len)? {
            counter.tick(pos)?;
            check_audio_page(&page, h.first.serial, ended)?;
            ended = page.flags & EOS != 0;
            buf.clear();
            src.seek(SeekFrom::Start(pos))?;
            let want = page.end() - pos;
            src.take(want).read_to_end(&mut buf)?;
            if (buf.len() as u64) < want {
                return Err(Error::malformed(
                    NAME,
                    pos,
                    "Ogg page cut short at the end of the file",
                ));
            }
            buf[18..22].copy_from_slice(&page.seq.wrapping_add(shift).to_le_bytes());
            seal(&mut buf);
            dst.write_all(&buf)?;
            pos = page.end();
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::formats::testing::{essence, primary};
    use std::io::Cursor;

    const JSON: &str = r#"{"AIGC":{"Label":"1","ContentProducer":"p","ProduceID":"id1","ReservedCode1":"","ContentPropagator":"","PropagateID":"","ReservedCode2":""}}"#;

    fn page(flags: u8, granule: u64, seq: u32, segments: &[&[u8]], end_open: bool) -> Vec<u8> {
        // Each segment list entry is one packet (or packet piece when end_open on the last).
        let mut lacing = Vec::new();
        let mut body = Vec::new();
        for (i, p) in segments.iter().enumerate() {
            let mut l = vec![255u8; p.len() / 255];
            let open = end_open && i + 1 == segments.len();
            if !open {
                l.push((p.len() % 255) as u8);
            }
            lacing.extend(l);
            body.extend_from_slice(p);
        }
        let mut out = b"OggS\0".to_vec();
        out.push(flags);
        out.extend(granule.to_le_bytes());
        out.extend(0x1234u32.to_le_bytes());
        out.extend(seq.to_le_bytes());
        out.extend([0; 4]);
        out.push(lacing.len() as u8);
        out.extend(lacing);
        out.extend(body);
        seal(&mut out);
        out
    }

    fn comment_packet(magic: &[u8], entries: &[&str], tail: &[u8]) -> Vec<u8> {
        let mut p = magic.to_vec();
        p.extend(4u32.to_le_bytes());
        p.extend(b"vend");
        p.extend((entries.len() as u32).to_le_bytes());
        for e in entries {
            p.extend((e.len() as u32).to_le_bytes());
            p.extend(e.as_bytes());
        }
        p.extend(tail);
        p
    }

    fn vorbis_id() -> Vec<u8> {
        let mut p = b"\x01vorbis".to_vec();
        p.extend(0u32.to_le_bytes());
        p.push(2);
        p.extend(44100u32.to_le_bytes());
        p.extend([0; 12]);
        p.push(0xB8);
        p.push(1);
        p
    }

    fn audio_pages(first_seq: u32, n: u32) -> Vec<u8> {
        let mut out = Vec::new();
        for i in 0..n {
            let a: Vec<u8> = (0..300 + i as usize)
                .map(|j| (j * 3 + i as usize) as u8)
                .collect();
            let b = vec![i as u8; 40];
            let flags = if i + 1 == n { EOS } else { 0 };
            out.extend(page(
                flags,
                1000 * u64::from(i + 1),
                first_seq + i,
                &[&a, &b],
                false,
            ));
        }
        out
    }

    fn vorbis_file(entries: &[&str]) -> Vec<u8> {
        let mut setup = b"\x05vorbis".to_vec();
        setup.extend((0..600).map(|i| (i % 200) as u8));
        let comment = comment_packet(b"\x03vorbis", entries, &[1]);
        let mut f = page(BOS, 0, 0, &[&vorbis_id()], false);
        // Comment and setup share pages; the setup spans two.
        f.extend(page(0, u64::MAX, 1, &[&comment, &setup[..510]], true));
        f.extend(page(CONTINUED, 0, 2, &[&setup[510..]], false));
        f.extend(audio_pages(3, 3));
        f
    }

    fn opus_file(entries: &[&str]) -> Vec<u8> {
        let mut id = b"OpusHead".to_vec();
        id.extend([1, 2, 0x38, 0x01, 0x80, 0xBB, 0, 0, 0, 0, 0]);
        let comment = comment_packet(b"OpusTags", entries, b"\x01extra");
        let mut f = page(BOS, 0, 0, &[&id], false);
        f.extend(page(0, 0, 1, &[&comment], false));
        f.extend(audio_pages(2, 3));
        f
    }

    fn layout(b: &[u8]) -> Result<Layout> {
        Ogg.layout(&mut Cursor::new(b), &Limits::default())
    }

    fn write(b: &[u8], json: &str) -> Vec<u8> {
        let mut out = Vec::new();
        Ogg.write(&mut Cursor::new(b), &mut out, json, &Limits::default())
            .unwrap();
        out
    }

    /// Every page's CRC is right and sequence numbers count up from 0.
    fn check_pages(b: &[u8]) {
        let mut pos = 0u64;
        let mut seq = 0;
        let mut c = Cursor::new(b);
        while let Some(p) = read_page(&mut c, pos, b.len() as u64).unwrap() {
            let mut raw = b[pos as usize..p.end() as usize].to_vec();
            let crc = u32::from_le_bytes([raw[22], raw[23], raw[24], raw[25]]);
            seal(&mut raw);
            assert_eq!(
                crc,
                u32::from_le_bytes([raw[22], raw[23], raw[24], raw[25]])
            );
            assert_eq!(p.seq, seq);
            seq += 1;
            pos = p.end();
        }
    }

    fn round_trip(f: &[u8]) -> Vec<u8> {
        check_pages(f);
        let l0 = layout(f).unwrap();
        let e0 = essence(f, &l0);
        let once = write(f, JSON);
        check_pages(&once);
        let l1 = layout(&once).unwrap();
        assert_eq!(primary(&l1), vec![JSON.to_string()]);
        assert_eq!(essence(&once, &l1), e0);
        assert_eq!(l1.shape, l0.shape);
        let long = format!(
            "{{\"AIGC\":{{\"Label\":\"2\",\"ReservedCode1\":\"{}\"}}}}",
            "ab".repeat(40_000)
        );
        let twice = write(&once, &long);
        check_pages(&twice);
        let l2 = layout(&twice).unwrap();
        assert_eq!(primary(&l2), vec![long.clone()]);
        assert_eq!(l2.carriers.len(), 1);
        assert_eq!(essence(&twice, &l2), e0);
        let thrice = write(&twice, JSON);
        check_pages(&thrice);
        assert_eq!(essence(&thrice, &layout(&thrice).unwrap()), e0);
        thrice
    }

    #[test]
    fn crc_known_value() {
        // CRC-32/CKSUM (same polynomial and initial value, final xor 0xFFFFFFFF) checks
        // "123456789" to 0x765E7680.
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"123456789") ^ 0xFFFF_FFFF, 0x765E_7680);
    }

    #[test]
    fn detect() {
        let f = vorbis_file(&[]);
        assert!(Ogg.detect(&f[..64]));
        assert!(Ogg.detect(&opus_file(&[])[..64]));
        let mut other = f[..64].to_vec();
        other[29..35].copy_from_slice(b"theora");
        assert!(!Ogg.detect(&other));
        assert!(!Ogg.detect(b"RIFF"));
    }

    #[test]
    fn vorbis_round_trip() {
        let f = vorbis_file(&["TITLE=t", "aigc=old", "AIGC=dup"]);
        let l = layout(&f).unwrap();
        assert_eq!(l.shape, "44100Hz/2ch");
        assert_eq!(primary(&l), vec!["old".to_string()]);
        assert_eq!(l.carriers.len(), 2);
        let out = round_trip(&f);
        let h = read_headers(
            &mut Cursor::new(&out),
            out.len() as u64,
            &Limits::default(),
            &mut Counter::new(NAME, &Limits::default()),
        )
        .unwrap();
        let (skip, c) = comments(&h).unwrap();
        assert_eq!(c.entries.len(), 2);
        assert_eq!(&h.comment[skip..][c.end..], &[1]);
    }

    #[test]
    fn opus_round_trip() {
        let f = opus_file(&["ENCODER=x"]);
        let l = layout(&f).unwrap();
        assert_eq!(l.shape, "48000Hz/2ch");
        assert!(l.carriers.is_empty());
        let out = round_trip(&f);
        let h = read_headers(
            &mut Cursor::new(&out),
            out.len() as u64,
            &Limits::default(),
            &mut Counter::new(NAME, &Limits::default()),
        )
        .unwrap();
        assert!(h.comment.ends_with(b"\x01extra"));
    }

    #[test]
    fn refuses_multiplexed_and_chained() {
        let f = opus_file(&[]);
        let mut chained = f.clone();
        chained.extend(&f);
        assert!(matches!(layout(&chained), Err(Error::Unsupported(_))));
        let mut mux = page(BOS, 0, 0, &[&vorbis_id()], false);
        let mut second = page(BOS, 0, 0, &[b"fishead\0xxxxxxxxxxxxxxxxxxxxxx"], false);
        second[14..18].copy_from_slice(&7u32.to_le_bytes());
        seal(&mut second);
        mux.extend(second);
        assert!(matches!(layout(&mux), Err(Error::Unsupported(_))));
    }

    #[test]
    fn truncation() {
        for f in [vorbis_file(&["AIGC=x"]), opus_file(&["AIGC=x"])] {
            let mut boundaries = vec![];
            let mut pos = 0;
            while let Some(p) = read_page(&mut Cursor::new(&f), pos, f.len() as u64).unwrap() {
                pos = p.end();
                boundaries.push(pos as usize);
            }
            let headers_end = boundaries[boundaries.len() - 4];
            for n in 0..f.len() {
                let r = layout(&f[..n]);
                if n < headers_end || !boundaries.contains(&n) {
                    assert!(r.is_err(), "prefix {n}: {r:?}");
                }
                let mut out = Vec::new();
                let _ = Ogg.write(
                    &mut Cursor::new(&f[..n]),
                    &mut out,
                    JSON,
                    &Limits::default(),
                );
            }
        }
    }

    #[test]
    fn hostile_sizes() {
        // Comment count that cannot fit.
        let mut f = opus_file(&[]);
        let at = 28 + 19 + 28 + 8 + 4 + 4; // second page body: magic, vendor len, vendor
        f[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(
            matches!(layout(&f), Err(Error::Malformed { .. })),
            "{:?}",
            layout(&f)
        );
        // A header packet that never ends, over the metadata limit.
        let mut f = page(BOS, 0, 0, &[&vorbis_id()], false);
        let big = vec![3u8; 255 * 255];
        for i in 0..3 {
            f.extend(page(
                if i > 0 { CONTINUED } else { 0 },
                u64::MAX,
                i + 1,
                &[&big],
                true,
            ));
        }
        let limits = Limits {
            max_metadata: 100_000,
            ..Limits::default()
        };
        let r = Ogg.layout(&mut Cursor::new(&f), &limits);
        assert!(matches!(r, Err(Error::TooLarge { .. })), "{r:?}");
        // Many empty audio pages are bounded.
        let mut f = opus_file(&[]);
        f.truncate(f.len() - audio_pages(2, 3).len());
        for i in 0..100 {
            f.extend(page(0, 0, 5 + i, &[], false));
        }
        let limits = Limits {
            max_structures: 50,
            ..Limits::default()
        };
        let r = Ogg.layout(&mut Cursor::new(&f), &limits);
        assert!(matches!(r, Err(Error::TooLarge { .. })), "{r:?}");
        // Not Ogg at all.
        assert!(matches!(
            layout(b"OggX\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"),
            Err(Error::Malformed { .. })
        ));
    }

    #[test]
    fn the_labelled_copy_fits_the_limits_it_is_read_with() {
        let smallest = crate::formats::testing::labels_read_back_under_every_limit(
            &Ogg,
            &vorbis_file(&["TITLE=t"]),
            2048,
        );
        assert!(smallest > 1, "{smallest}");
    }
}
