//! WebP: the label in an XMP packet (`XMP ` chunk of the extended format, flagged in `VP8X`).
//! A simple-format file gains a `VP8X` header when labelled. The essence is every chunk except
//! `VP8X`, `XMP `, `EXIF` and `C2PA`; the canvas size is in the shape.

use std::io::Write;

use crate::format::{
    Carrier, Counter, Format, Layout, Limits, Source, copy_range, len, push_range, read_at,
};
use crate::{Error, Result, xmp};

/// The WebP format.
pub struct Webp;

const NAME: &str = "webp";
const XMP_FLAG: u8 = 0x04;
const ALPHA_FLAG: u8 = 0x10;

struct Chunk {
    id: [u8; 4],
    start: u64,
    size: u64,
}

impl Chunk {
    fn data(&self) -> std::ops::Range<u64> {
        self.start + 8..self.start + 8 + self.size
    }
    /// Offset past the chunk and its pad byte.
    fn end(&self) -> u64 {
        self.start + 8 + self.size + (self.size & 1)
    }
}

fn chunks(src: &mut dyn Source, limits: &Limits) -> Result<Vec<Chunk>> {
    let total = len(src)?;
    let head = read_at(src, NAME, "RIFF header", 0, 12, 12)?;
    if &head[..4] != b"RIFF" || &head[8..12] != b"WEBP" {
        return Err(Error::malformed(NAME, 0, "not a RIFF WEBP header"));
    }
    let riff_end = 8 + u64::from(u32::from_le_bytes([head[4], head[5], head[6], head[7]]));
    if riff_end > total {
        return Err(Error::malformed(
            NAME,
            4,
            format!("RIFF size says {riff_end} bytes, the file has {total}"),
        ));
    }
    let mut out = Vec::new();
    let mut counter = Counter::new(NAME, limits);
    let mut at = 12u64;
    while at < riff_end {
        counter.tick(at)?;
        if at + 8 > riff_end {
            return Err(Error::malformed(NAME, at, "chunk header cut short"));
        }
        let h = read_at(src, NAME, "chunk header", at, 8, 8)?;
        let c = Chunk {
            id: [h[0], h[1], h[2], h[3]],
            start: at,
            size: u64::from(u32::from_le_bytes([h[4], h[5], h[6], h[7]])),
        };
        if c.start + 8 + c.size > riff_end {
            return Err(Error::malformed(
                NAME,
                at,
                format!(
                    "chunk {:?} of {} bytes runs past the RIFF end",
                    String::from_utf8_lossy(&c.id),
                    c.size
                ),
            ));
        }
        at = c.end();
        out.push(c);
    }
    if out.is_empty() {
        return Err(Error::malformed(NAME, 12, "no chunks"));
    }
    Ok(out)
}

/// Canvas size and whether the image has alpha, from `VP8X`, `VP8 ` or `VP8L`.
fn canvas(src: &mut dyn Source, chunks: &[Chunk]) -> Result<(u32, u32, bool)> {
    let has_alph = chunks.iter().any(|c| &c.id == b"ALPH");
    for c in chunks {
        let d = c.data();
        match &c.id {
            b"VP8X" if c.size >= 10 => {
                let b = read_at(src, NAME, "VP8X", d.start, 10, 10)?;
                let w = u32::from_le_bytes([b[4], b[5], b[6], 0]) + 1;
                let h = u32::from_le_bytes([b[7], b[8], b[9], 0]) + 1;
                return Ok((w, h, b[0] & ALPHA_FLAG != 0));
            }
            b"VP8 " if c.size >= 10 => {
                let b = read_at(src, NAME, "VP8 frame header", d.start, 10, 10)?;
                if b[3..6] != [0x9d, 0x01, 0x2a] {
                    return Err(Error::malformed(NAME, d.start, "VP8 start code missing"));
                }
                let w = u32::from(u16::from_le_bytes([b[6], b[7]]) & 0x3fff);
                let h = u32::from(u16::from_le_bytes([b[8], b[9]]) & 0x3fff);
                return Ok((w, h, has_alph));
            }
            b"VP8L" if c.size >= 5 => {
                let b = read_at(src, NAME, "VP8L header", d.start, 5, 5)?;
                if b[0] != 0x2f {
                    return Err(Error::malformed(NAME, d.start, "VP8L signature missing"));
                }
                let v = u32::from_le_bytes([b[1], b[2], b[3], b[4]]);
                return Ok((
                    (v & 0x3fff) + 1,
                    ((v >> 14) & 0x3fff) + 1,
                    (v >> 28) & 1 == 1,
                ));
            }
            _ => {}
        }
    }
    Err(Error::malformed(NAME, 12, "no VP8X, VP8 or VP8L chunk"))
}

fn is_metadata(id: &[u8; 4]) -> bool {
    matches!(id, b"VP8X" | b"XMP " | b"EXIF" | b"C2PA")
}

fn chunk_bytes(id: &[u8; 4], data: &[u8]) -> Result<Vec<u8>> {
    let n = u32::try_from(data.len()).map_err(|_| Error::Label("chunk too large".into()))?;
    let mut out = id.to_vec();
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(data);
    if data.len() & 1 == 1 {
        out.push(0);
    }
    Ok(out)
}

impl Format for Webp {
    fn name(&self) -> &'static str {
        NAME
    }

    fn media_type(&self) -> &'static str {
        "image/webp"
    }

    fn patchable(&self) -> bool {
        true
    }

    fn detect(&self, head: &[u8]) -> bool {
        head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP"
    }

    fn layout(&self, src: &mut dyn Source, limits: &Limits) -> Result<Layout> {
        let chunks = chunks(src, limits)?;
        let (w, h, _) = canvas(src, &chunks)?;
        let mut layout = Layout {
            shape: format!("{w}x{h}"),
            ..Layout::default()
        };
        for c in &chunks {
            match &c.id {
                b"XMP " => {
                    let d = c.data();
                    let data =
                        read_at(src, NAME, "XMP chunk", d.start, c.size, limits.max_metadata)?;
                    if let Some(json) = xmp::find_aigc(&String::from_utf8_lossy(&data)) {
                        layout.carriers.push(Carrier {
                            kind: "webp:XMP".into(),
                            primary: true,
                            text: json,
                        });
                    }
                }
                b"C2PA" => layout.has_c2pa = true,
                id if !is_metadata(id) => push_range(&mut layout.essence, c.start..c.end()),
                _ => {}
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
        let (w, h, alpha) = canvas(src, &chunks)?;
        let existing = match chunks.iter().find(|c| &c.id == b"XMP ") {
            Some(c) => {
                let d = c.data();
                Some(
                    String::from_utf8_lossy(&read_at(
                        src,
                        NAME,
                        "XMP chunk",
                        d.start,
                        c.size,
                        limits.max_metadata,
                    )?)
                    .into_owned(),
                )
            }
            None => None,
        };
        let packet = xmp::upsert(existing.as_deref(), json);
        // The reader refuses a larger chunk: the labelled copy must read back.
        if packet.len() as u64 > limits.max_metadata {
            return Err(Error::too_large(
                NAME,
                12,
                "XMP chunk with the label",
                packet.len() as u64,
                limits.max_metadata,
            ));
        }
        let xmp_chunk = chunk_bytes(b"XMP ", packet.as_bytes())?;
        let vp8x = match chunks.iter().find(|c| &c.id == b"VP8X") {
            Some(c) => {
                let d = c.data();
                let mut data = read_at(src, NAME, "VP8X", d.start, c.size, 1024)?;
                data[0] |= XMP_FLAG;
                chunk_bytes(b"VP8X", &data)?
            }
            None => {
                let mut data = vec![XMP_FLAG | if alpha { ALPHA_FLAG } else { 0 }, 0, 0, 0];
                data.extend_from_slice(&(w - 1).to_le_bytes()[..3]);
                data.extend_from_slice(&(h - 1).to_le_bytes()[..3]);
                chunk_bytes(b"VP8X", &data)?
            }
        };
        let kept: Vec<&Chunk> = chunks
            .iter()
            .filter(|c| !matches!(&c.id, b"VP8X" | b"XMP "))
            .collect();
        let body: u64 = 4
            + vp8x.len() as u64
            + xmp_chunk.len() as u64
            + kept.iter().map(|c| c.end() - c.start).sum::<u64>();
        let riff =
            u32::try_from(body).map_err(|_| Error::Unsupported("WebP larger than 4 GiB".into()))?;
        dst.write_all(b"RIFF")?;
        dst.write_all(&riff.to_le_bytes())?;
        dst.write_all(b"WEBP")?;
        dst.write_all(&vp8x)?;
        for c in kept {
            copy_range(src, dst, NAME, c.start..c.end())?;
        }
        dst.write_all(&xmp_chunk)?;
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::formats::testing::essence;
    use std::io::Cursor;

    use super::*;

    /// A simple lossless WebP skeleton (VP8L header for 5×3, no alpha, and some bytes).
    fn tiny() -> Vec<u8> {
        let v: u32 = 4 | (2 << 14);
        let mut data = vec![0x2f];
        data.extend_from_slice(&v.to_le_bytes());
        data.extend_from_slice(&[1, 2, 3]);
        let c = chunk_bytes(b"VP8L", &data).unwrap();
        let mut f = b"RIFF".to_vec();
        f.extend_from_slice(&((4 + c.len()) as u32).to_le_bytes());
        f.extend_from_slice(b"WEBP");
        f.extend_from_slice(&c);
        f
    }

    #[test]
    fn round_trip_adds_vp8x_once() {
        let limits = Limits::default();
        let input = tiny();
        let before = Webp.layout(&mut Cursor::new(&input), &limits).unwrap();
        assert_eq!(before.shape, "5x3");
        let mut once = Vec::new();
        Webp.write(
            &mut Cursor::new(&input),
            &mut once,
            r#"{"AIGC":{"Label":"1"}}"#,
            &limits,
        )
        .unwrap();
        let mut twice = Vec::new();
        Webp.write(
            &mut Cursor::new(&once),
            &mut twice,
            r#"{"AIGC":{"Label":"2"}}"#,
            &limits,
        )
        .unwrap();
        let after = Webp.layout(&mut Cursor::new(&twice), &limits).unwrap();
        assert_eq!(after.shape, "5x3");
        assert_eq!(after.carriers.len(), 1);
        assert_eq!(after.carriers[0].text, r#"{"AIGC":{"Label":"2"}}"#);
        assert_eq!(essence(&input, &before), essence(&twice, &after));
        assert_eq!(twice.windows(4).filter(|w| w == b"VP8X").count(), 1);
        assert_eq!(
            u32::from_le_bytes([twice[4], twice[5], twice[6], twice[7]]) as usize,
            twice.len() - 8
        );
    }

    #[test]
    fn truncations_are_errors() {
        let input = tiny();
        for n in 0..input.len() {
            assert!(
                Webp.layout(&mut Cursor::new(&input[..n]), &Limits::default())
                    .is_err(),
                "prefix {n}"
            );
        }
    }

    #[test]
    fn the_labelled_copy_fits_the_limits_it_is_read_with() {
        let smallest =
            crate::formats::testing::labels_read_back_under_every_limit(&Webp, &tiny(), 2048);
        assert!(smallest > 1, "{smallest}");
    }
}
