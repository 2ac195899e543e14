//! PNG: the label in an XMP packet (`iTXt` chunk, keyword `XML:com.adobe.xmp`); `tEXt`/`zTXt`/
//! `iTXt` chunks with keyword `AIGC` are read too. The essence is every chunk except the
//! textual and metadata ones (`tEXt`, `zTXt`, `iTXt`, `eXIf`, `tIME`) and the C2PA store
//! (`caBX`).

use std::io::{Read, Write};

use crate::format::{
    Carrier, Counter, Format, Layout, Limits, Source, copy_range, len, push_range, read_at,
};
use crate::{Error, Result, xmp};

/// The PNG format.
pub struct Png;

const SIGNATURE: &[u8; 8] = b"\x89PNG\r\n\x1a\n";
const XMP_KEYWORD: &[u8] = b"XML:com.adobe.xmp";
const NAME: &str = "png";

/// One chunk's position.
struct Chunk {
    kind: [u8; 4],
    /// Offset of the length field.
    start: u64,
    /// Data length.
    len: u64,
}

impl Chunk {
    fn data_start(&self) -> u64 {
        self.start + 8
    }
    fn end(&self) -> u64 {
        self.start + 12 + self.len
    }
}

fn chunks(src: &mut dyn Source, limits: &Limits) -> Result<Vec<Chunk>> {
    let total = len(src)?;
    let sig = read_at(src, NAME, "signature", 0, 8, 8)?;
    if sig != SIGNATURE {
        return Err(Error::malformed(NAME, 0, "not a PNG signature"));
    }
    let mut out = Vec::new();
    let mut counter = Counter::new(NAME, limits);
    let mut at = 8u64;
    loop {
        counter.tick(at)?;
        if at + 12 > total {
            return Err(Error::malformed(
                NAME,
                at,
                "file ends before IEND (chunk header cut short)",
            ));
        }
        let head = read_at(src, NAME, "chunk header", at, 8, 8)?;
        let len = u64::from(u32::from_be_bytes([head[0], head[1], head[2], head[3]]));
        let kind = [head[4], head[5], head[6], head[7]];
        if len > 0x7fff_ffff {
            return Err(Error::malformed(NAME, at, "chunk length above 2^31-1"));
        }
        if !kind.iter().all(u8::is_ascii_alphabetic) {
            return Err(Error::malformed(
                NAME,
                at,
                format!("chunk type {} is not four letters", hex::encode(kind)),
            ));
        }
        if out.is_empty() && &kind != b"IHDR" {
            return Err(Error::malformed(
                NAME,
                at,
                format!(
                    "first chunk is {}, not IHDR",
                    String::from_utf8_lossy(&kind)
                ),
            ));
        }
        let chunk = Chunk {
            kind,
            start: at,
            len,
        };
        if chunk.end() > total {
            return Err(Error::malformed(
                NAME,
                at,
                format!(
                    "{} chunk of {len} bytes runs past the end of the file",
                    String::from_utf8_lossy(&kind)
                ),
            ));
        }
        at = chunk.end();
        let is_end = &kind == b"IEND";
        out.push(chunk);
        if is_end {
            return Ok(out);
        }
    }
}

fn is_metadata(kind: &[u8; 4]) -> bool {
    matches!(
        kind,
        b"tEXt" | b"zTXt" | b"iTXt" | b"eXIf" | b"tIME" | b"caBX"
    )
}

/// A decoded textual chunk: keyword and text.
fn text_chunk(kind: &[u8; 4], data: &[u8], limits: &Limits) -> Option<(Vec<u8>, String)> {
    let nul = data.iter().position(|b| *b == 0)?;
    let keyword = data[..nul].to_vec();
    let rest = &data[nul + 1..];
    let text = match kind {
        b"tEXt" => rest.iter().map(|b| char::from(*b)).collect(), // Latin-1
        b"zTXt" => {
            let (_, compressed) = rest.split_first()?;
            String::from_utf8_lossy(&inflate(compressed, limits)?).into_owned()
        }
        b"iTXt" => {
            let [flag, _method, rest @ ..] = rest else {
                return None;
            };
            let lang_end = rest.iter().position(|b| *b == 0)?;
            let rest = &rest[lang_end + 1..];
            let tk_end = rest.iter().position(|b| *b == 0)?;
            let body = &rest[tk_end + 1..];
            if *flag == 1 {
                String::from_utf8_lossy(&inflate(body, limits)?).into_owned()
            } else {
                String::from_utf8_lossy(body).into_owned()
            }
        }
        _ => return None,
    };
    Some((keyword, text))
}

/// Inflates zlib data, refusing output beyond the metadata limit.
fn inflate(data: &[u8], limits: &Limits) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    flate2::read::ZlibDecoder::new(data)
        .take(limits.max_metadata + 1)
        .read_to_end(&mut out)
        .ok()?;
    (out.len() as u64 <= limits.max_metadata).then_some(out)
}

fn write_chunk(dst: &mut dyn Write, kind: &[u8; 4], data: &[u8]) -> Result<()> {
    let n = u32::try_from(data.len())
        .map_err(|_| Error::Label("metadata too large for a PNG chunk".into()))?;
    dst.write_all(&n.to_be_bytes())?;
    dst.write_all(kind)?;
    dst.write_all(data)?;
    let mut crc = flate2::Crc::new();
    crc.update(kind);
    crc.update(data);
    dst.write_all(&crc.sum().to_be_bytes())?;
    Ok(())
}

/// The XMP iTXt chunk's data.
fn xmp_chunk(packet: &str) -> Vec<u8> {
    let mut data = XMP_KEYWORD.to_vec();
    data.extend_from_slice(&[0, 0, 0, 0, 0]); // NUL, uncompressed, method, empty lang, empty key
    data.extend_from_slice(packet.as_bytes());
    data
}

impl Format for Png {
    fn name(&self) -> &'static str {
        NAME
    }

    fn media_type(&self) -> &'static str {
        "image/png"
    }

    fn detect(&self, head: &[u8]) -> bool {
        head.starts_with(SIGNATURE)
    }

    fn layout(&self, src: &mut dyn Source, limits: &Limits) -> Result<Layout> {
        let chunks = chunks(src, limits)?;
        let mut layout = Layout::default();
        push_range(&mut layout.essence, 0..8);
        for c in &chunks {
            if &c.kind == b"IHDR" && c.len >= 8 {
                let d = read_at(src, NAME, "IHDR", c.data_start(), 8, 8)?;
                let w = u32::from_be_bytes([d[0], d[1], d[2], d[3]]);
                let h = u32::from_be_bytes([d[4], d[5], d[6], d[7]]);
                layout.shape = format!("{w}x{h}");
            }
            if !is_metadata(&c.kind) {
                push_range(&mut layout.essence, c.start..c.end());
                continue;
            }
            if &c.kind == b"caBX" {
                layout.has_c2pa = true;
                continue;
            }
            if !matches!(&c.kind, b"tEXt" | b"zTXt" | b"iTXt") {
                continue;
            }
            // Only the keyword decides whether the chunk is read whole.
            let peek = read_at(src, NAME, "text chunk", c.data_start(), c.len.min(80), 80)?;
            let is_xmp = &c.kind == b"iTXt" && peek.starts_with(b"XML:com.adobe.xmp\0");
            let is_aigc = peek.starts_with(b"AIGC\0");
            if !is_xmp && !is_aigc {
                continue;
            }
            let data = read_at(
                src,
                NAME,
                "text chunk",
                c.data_start(),
                c.len,
                limits.max_metadata,
            )?;
            let Some((_, text)) = text_chunk(&c.kind, &data, limits) else {
                return Err(Error::malformed(
                    NAME,
                    c.start,
                    "text chunk is malformed or inflates beyond the limit",
                ));
            };
            if is_xmp {
                if let Some(json) = xmp::find_aigc(&text) {
                    layout.carriers.push(Carrier {
                        kind: "png:iTXt:XMP".into(),
                        primary: true,
                        text: json,
                    });
                }
            } else {
                layout.carriers.push(Carrier {
                    kind: format!("png:{}:AIGC", String::from_utf8_lossy(&c.kind)),
                    primary: false,
                    text,
                });
            }
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
        let chunks = chunks(src, limits)?;
        // The existing XMP packet, merged so that other properties survive.
        let mut existing: Option<(usize, String)> = None;
        for (i, c) in chunks.iter().enumerate() {
            if &c.kind == b"iTXt" {
                let peek = read_at(src, NAME, "iTXt", c.data_start(), c.len.min(18), 18)?;
                if peek.starts_with(b"XML:com.adobe.xmp\0") {
                    let data = read_at(
                        src,
                        NAME,
                        "iTXt",
                        c.data_start(),
                        c.len,
                        limits.max_metadata,
                    )?;
                    let (_, text) = text_chunk(&c.kind, &data, limits)
                        .ok_or_else(|| Error::malformed(NAME, c.start, "XMP chunk is malformed"))?;
                    existing = Some((i, text));
                    break;
                }
            }
        }
        let packet = xmp::upsert(existing.as_ref().map(|(_, t)| t.as_str()), json);
        let data = xmp_chunk(&packet);
        // Where the packet goes: in place of the old one, or right after IHDR.
        let at = existing.as_ref().map(|(i, _)| *i).unwrap_or(1);
        // The reader refuses a larger chunk: the labelled copy must read back.
        if data.len() as u64 > limits.max_metadata {
            return Err(Error::TooLarge {
                format: NAME,
                offset: chunks.get(at).map_or(8, |c| c.start),
                what: "XMP iTXt chunk with the label",
                size: data.len() as u64,
                limit: limits.max_metadata,
            });
        }
        dst.write_all(SIGNATURE)?;
        for (i, c) in chunks.iter().enumerate() {
            if i == at {
                write_chunk(dst, b"iTXt", &data)?;
                if existing.is_some() {
                    continue;
                }
            }
            copy_range(src, dst, NAME, c.start..c.end())?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::formats::testing::essence;
    use std::io::Cursor;

    use super::*;

    pub(crate) fn tiny() -> Vec<u8> {
        let mut png = SIGNATURE.to_vec();
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(&3u32.to_be_bytes());
        ihdr.extend_from_slice(&2u32.to_be_bytes());
        ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
        write_chunk(&mut png, b"IHDR", &ihdr).unwrap();
        write_chunk(&mut png, b"tEXt", b"Comment\0hello").unwrap();
        let raw = [0u8, 1, 2, 3, 0, 4, 5, 6];
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(&raw).unwrap();
        write_chunk(&mut png, b"IDAT", &z.finish().unwrap()).unwrap();
        write_chunk(&mut png, b"IEND", &[]).unwrap();
        png
    }

    #[test]
    fn round_trip_keeps_essence_and_replaces_the_label() {
        let limits = Limits::default();
        let input = tiny();
        let before = Png.layout(&mut Cursor::new(&input), &limits).unwrap();
        assert_eq!(before.shape, "3x2");
        assert!(before.carriers.is_empty());
        let mut once = Vec::new();
        Png.write(
            &mut Cursor::new(&input),
            &mut once,
            r#"{"AIGC":{"Label":"1"}}"#,
            &limits,
        )
        .unwrap();
        let mut twice = Vec::new();
        Png.write(
            &mut Cursor::new(&once),
            &mut twice,
            r#"{"AIGC":{"Label":"2"}}"#,
            &limits,
        )
        .unwrap();
        let after = Png.layout(&mut Cursor::new(&twice), &limits).unwrap();
        assert_eq!(after.carriers.len(), 1);
        assert_eq!(after.carriers[0].text, r#"{"AIGC":{"Label":"2"}}"#);
        assert_eq!(essence(&input, &before), essence(&twice, &after));
        assert!(twice.windows(13).any(|w| w == b"Comment\0hello"));
    }

    #[test]
    fn alternative_text_carrier_is_read() {
        let mut input = tiny();
        let iend = input.len() - 12;
        let mut chunk = Vec::new();
        write_chunk(&mut chunk, b"tEXt", b"AIGC\0{\"Label\":\"1\"}").unwrap();
        input.splice(iend..iend, chunk);
        let l = Png
            .layout(&mut Cursor::new(&input), &Limits::default())
            .unwrap();
        assert_eq!(l.carriers.len(), 1);
        assert!(!l.carriers[0].primary);
        assert_eq!(l.carriers[0].text, r#"{"Label":"1"}"#);
    }

    #[test]
    fn every_truncation_is_an_error() {
        let input = tiny();
        for n in 0..input.len() {
            assert!(
                Png.layout(&mut Cursor::new(&input[..n]), &Limits::default())
                    .is_err(),
                "prefix {n}"
            );
        }
    }

    #[test]
    fn ihdr_must_come_first() {
        // Fuzz (label_png): a signature and IEND alone were read, and the label, written after
        // the first chunk, went nowhere.
        let input = b"\x89PNG\r\n\x1a\n\0\0\0\0IEND\xaeB`\x82";
        let e = Png
            .layout(&mut Cursor::new(&input[..]), &Limits::default())
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "png at byte 8: first chunk is IEND, not IHDR"
        );
        let mut out = Vec::new();
        assert!(
            Png.write(
                &mut Cursor::new(&input[..]),
                &mut out,
                "{}",
                &Limits::default()
            )
            .is_err()
        );
    }

    #[test]
    fn huge_declared_chunk_is_refused() {
        let mut input = tiny();
        input[8 + 25..8 + 29].copy_from_slice(&0x7fff_fff0u32.to_be_bytes());
        let e = Png
            .layout(&mut Cursor::new(&input), &Limits::default())
            .unwrap_err();
        assert!(e.to_string().contains("past the end"), "{e}");
    }

    #[test]
    fn the_labelled_copy_fits_the_limits_it_is_read_with() {
        let smallest =
            crate::formats::testing::labels_read_back_under_every_limit(&Png, &tiny(), 2048);
        assert!(smallest > 1, "{smallest}");
    }
}
