//! GIF: the label in an XMP packet (application extension `XMP DataXMP`, with the XMP
//! specification's 258-byte "magic trailer" so that readers skipping sub-blocks stay in step).
//! The essence is everything after the 6-byte signature except comment extensions and the XMP
//! and C2PA application extensions.

use std::io::{BufReader, Read, Write};

use crate::format::{
    Carrier, Counter, Format, Layout, Limits, Source, copy_range, len, push_range, read_at,
};
use crate::{Error, Result, xmp};

/// The GIF format.
pub struct Gif;

const NAME: &str = "gif";
const XMP_APP: &[u8; 11] = b"XMP DataXMP";

/// A block after the screen descriptor.
struct Block {
    start: u64,
    end: u64,
    /// Application identifier of an application extension; `COMMENT` for a comment.
    app: Option<[u8; 11]>,
}

struct Parsed {
    /// End of the logical screen descriptor and global colour table.
    header_end: u64,
    width: u16,
    height: u16,
    blocks: Vec<Block>,
    /// Offset of the trailer (0x3B).
    trailer: u64,
}

const COMMENT: [u8; 11] = *b"\0COMMENT\0\0\0";

fn magic_trailer() -> Vec<u8> {
    let mut t = vec![0x01];
    t.extend((0..=255u8).rev());
    t.push(0);
    t
}

struct Walker<'a> {
    r: BufReader<&'a mut dyn Source>,
    pos: u64,
    total: u64,
}

impl Walker<'_> {
    fn byte(&mut self) -> Result<u8> {
        let mut b = [0u8];
        if self.pos >= self.total || self.r.read(&mut b)? == 0 {
            return Err(Error::malformed(NAME, self.pos, "file ends inside a block"));
        }
        self.pos += 1;
        Ok(b[0])
    }

    fn bytes(&mut self, n: usize) -> Result<Vec<u8>> {
        let mut b = vec![0u8; n];
        if self.pos + n as u64 > self.total {
            return Err(Error::malformed(NAME, self.pos, "file ends inside a block"));
        }
        self.r.read_exact(&mut b)?;
        self.pos += n as u64;
        Ok(b)
    }

    fn skip(&mut self, n: u64) -> Result<()> {
        if self.pos + n > self.total {
            return Err(Error::malformed(NAME, self.pos, "file ends inside a block"));
        }
        let i = i64::try_from(n).map_err(|_| Error::malformed(NAME, self.pos, "skip too large"))?;
        self.r.seek_relative(i)?;
        self.pos += n;
        Ok(())
    }

    fn sub_blocks(&mut self, counter: &mut Counter) -> Result<()> {
        loop {
            counter.tick(self.pos)?;
            let n = self.byte()?;
            if n == 0 {
                return Ok(());
            }
            self.skip(u64::from(n))?;
        }
    }
}

fn parse(src: &mut dyn Source, limits: &Limits) -> Result<Parsed> {
    let total = len(src)?;
    let head = read_at(src, NAME, "header", 0, 13, 13)?;
    if &head[..6] != b"GIF87a" && &head[..6] != b"GIF89a" {
        return Err(Error::malformed(NAME, 0, "not a GIF87a/GIF89a header"));
    }
    let width = u16::from_le_bytes([head[6], head[7]]);
    let height = u16::from_le_bytes([head[8], head[9]]);
    let packed = head[10];
    let gct = if packed & 0x80 != 0 {
        3u64 << ((packed & 7) + 1)
    } else {
        0
    };
    src.seek(std::io::SeekFrom::Start(13))?;
    let mut w = Walker {
        r: BufReader::with_capacity(64 * 1024, src),
        pos: 13,
        total,
    };
    w.skip(gct)?;
    let header_end = w.pos;
    let mut counter = Counter::new(NAME, limits);
    let mut blocks = Vec::new();
    loop {
        counter.tick(w.pos)?;
        let start = w.pos;
        match w.byte()? {
            0x3B => {
                return Ok(Parsed {
                    header_end,
                    width,
                    height,
                    blocks,
                    trailer: start,
                });
            }
            0x21 => {
                let label = w.byte()?;
                let mut app = None;
                if label == 0xFF {
                    let n = w.byte()?;
                    if n == 11 {
                        let id = w.bytes(11)?;
                        let mut a = [0u8; 11];
                        a.copy_from_slice(&id);
                        app = Some(a);
                    } else {
                        w.skip(u64::from(n))?;
                    }
                } else if label == 0xFE {
                    app = Some(COMMENT);
                }
                w.sub_blocks(&mut counter)?;
                blocks.push(Block {
                    start,
                    end: w.pos,
                    app,
                });
            }
            0x2C => {
                let d = w.bytes(9)?;
                let p = d[8];
                if p & 0x80 != 0 {
                    w.skip(3u64 << ((p & 7) + 1))?;
                }
                w.byte()?; // LZW minimum code size
                w.sub_blocks(&mut counter)?;
                blocks.push(Block {
                    start,
                    end: w.pos,
                    app: None,
                });
            }
            b => {
                return Err(Error::malformed(
                    NAME,
                    start,
                    format!("unknown block introducer {b:#04x}"),
                ));
            }
        }
    }
}

fn is_metadata(b: &Block) -> bool {
    matches!(&b.app, Some(a) if a == XMP_APP || a == &COMMENT || a.starts_with(b"C2PA"))
}

/// The XMP packet of an XMP application extension (raw bytes without the magic trailer).
fn xmp_of(src: &mut dyn Source, b: &Block, limits: &Limits) -> Result<String> {
    let from = b.start + 14;
    let mut raw = read_at(
        src,
        NAME,
        "XMP extension",
        from,
        b.end - from,
        limits.max_metadata,
    )?;
    let trailer = magic_trailer();
    if raw.ends_with(&trailer) {
        raw.truncate(raw.len() - trailer.len());
    }
    Ok(String::from_utf8_lossy(&raw).into_owned())
}

impl Format for Gif {
    fn name(&self) -> &'static str {
        NAME
    }

    fn media_type(&self) -> &'static str {
        "image/gif"
    }

    fn patchable(&self) -> bool {
        true
    }

    fn detect(&self, head: &[u8]) -> bool {
        head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a")
    }

    fn layout(&self, src: &mut dyn Source, limits: &Limits) -> Result<Layout> {
        let p = parse(src, limits)?;
        let mut layout = Layout {
            shape: format!("{}x{}", p.width, p.height),
            ..Layout::default()
        };
        push_range(&mut layout.essence, 6..p.header_end);
        for b in &p.blocks {
            if !is_metadata(b) {
                push_range(&mut layout.essence, b.start..b.end);
            } else if b.app.as_ref() == Some(XMP_APP) {
                if let Some(json) = xmp::find_aigc(&xmp_of(src, b, limits)?) {
                    layout.carriers.push(Carrier {
                        kind: "gif:XMP".into(),
                        primary: true,
                        text: json,
                    });
                }
            } else if matches!(&b.app, Some(a) if a.starts_with(b"C2PA")) {
                layout.has_c2pa = true;
            }
        }
        push_range(&mut layout.essence, p.trailer..p.trailer + 1);
        Ok(layout)
    }

    fn write(
        &self,
        src: &mut dyn Source,
        dst: &mut dyn Write,
        json: &str,
        limits: &Limits,
    ) -> Result<()> {
        let p = parse(src, limits)?;
        let old = p
            .blocks
            .iter()
            .position(|b| b.app.as_ref() == Some(XMP_APP));
        let existing = match old {
            Some(i) => Some(xmp_of(src, &p.blocks[i], limits)?),
            None => None,
        };
        let packet = xmp::upsert(existing.as_deref(), json);
        if packet.as_bytes().contains(&0) {
            return Err(Error::Label(
                "an XMP packet in GIF cannot contain NUL bytes".into(),
            ));
        }
        let mut ext = vec![0x21, 0xFF, 11];
        ext.extend_from_slice(XMP_APP);
        ext.extend_from_slice(packet.as_bytes());
        ext.extend_from_slice(&magic_trailer());
        // The reader refuses a larger extension: the labelled copy must read back.
        let size = ext.len() as u64 - 14;
        if size > limits.max_metadata {
            return Err(Error::TooLarge {
                format: NAME,
                offset: old.map_or(p.header_end, |i| p.blocks[i].start),
                what: "XMP extension with the label",
                size,
                limit: limits.max_metadata,
            });
        }
        dst.write_all(b"GIF89a")?;
        copy_range(src, dst, NAME, 6..p.header_end)?;
        if old.is_none() {
            dst.write_all(&ext)?;
        }
        for (i, b) in p.blocks.iter().enumerate() {
            if Some(i) == old {
                dst.write_all(&ext)?;
            } else {
                copy_range(src, dst, NAME, b.start..b.end)?;
            }
        }
        let total = len(src)?;
        copy_range(src, dst, NAME, p.trailer..total)?;
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::formats::testing::essence;
    use std::io::Cursor;

    use super::*;

    /// A 2×2 GIF87a with a 2-colour table, a comment and one image.
    fn tiny() -> Vec<u8> {
        let mut f = b"GIF87a".to_vec();
        f.extend_from_slice(&[2, 0, 2, 0, 0x80, 0, 0]);
        f.extend_from_slice(&[0, 0, 0, 255, 255, 255]);
        f.extend_from_slice(&[0x21, 0xFE, 3, b'h', b'e', b'y', 0]);
        f.extend_from_slice(&[0x2C, 0, 0, 0, 0, 2, 0, 2, 0, 0]);
        f.extend_from_slice(&[2, 2, 0x44, 0x01, 0]);
        f.push(0x3B);
        f
    }

    #[test]
    fn round_trip_and_sub_block_readers_stay_in_step() {
        let limits = Limits::default();
        let input = tiny();
        let before = Gif.layout(&mut Cursor::new(&input), &limits).unwrap();
        assert_eq!(before.shape, "2x2");
        let mut once = Vec::new();
        Gif.write(
            &mut Cursor::new(&input),
            &mut once,
            r#"{"AIGC":{"Label":"1"}}"#,
            &limits,
        )
        .unwrap();
        let mut twice = Vec::new();
        Gif.write(
            &mut Cursor::new(&once),
            &mut twice,
            r#"{"AIGC":{"Label":"2"}}"#,
            &limits,
        )
        .unwrap();
        // The parser itself reads the XMP extension as sub-blocks: that it reaches the trailer
        // shows the magic trailer works.
        let after = Gif.layout(&mut Cursor::new(&twice), &limits).unwrap();
        assert_eq!(after.carriers.len(), 1);
        assert_eq!(after.carriers[0].text, r#"{"AIGC":{"Label":"2"}}"#);
        assert_eq!(essence(&input, &before), essence(&twice, &after));
        assert!(twice.starts_with(b"GIF89a"));
        assert!(twice.windows(3).any(|w| w == b"hey"));
    }

    #[test]
    fn truncations_are_errors() {
        let input = tiny();
        for n in 0..input.len() {
            assert!(
                Gif.layout(&mut Cursor::new(&input[..n]), &Limits::default())
                    .is_err(),
                "prefix {n}"
            );
        }
    }

    #[test]
    fn the_labelled_copy_fits_the_limits_it_is_read_with() {
        let smallest =
            crate::formats::testing::labels_read_back_under_every_limit(&Gif, &tiny(), 2048);
        assert!(smallest > 1, "{smallest}");
    }
}
