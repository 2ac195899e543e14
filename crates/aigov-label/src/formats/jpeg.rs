//! JPEG: the label in an XMP packet (`APP1`, namespace header `http://ns.adobe.com/xap/1.0/`);
//! EXIF `UserComment` in the EXIF `APP1` is read too. The essence is every segment except
//! `APP1` (EXIF, XMP, extended XMP), `APP11` (JUMBF: C2PA), `APP13` (IPTC) and `COM`, plus the
//! entropy-coded data from the first `SOS` to the end of the file.

use std::io::Write;

use crate::format::{
    Carrier, Counter, Format, Layout, Limits, Source, copy_range, len, push_range, read_at,
};
use crate::formats::tiff;
use crate::{Error, Result, xmp};

/// The JPEG format.
pub struct Jpeg;

const NAME: &str = "jpeg";
const XMP_HEADER: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";

/// One marker segment before the scan.
struct Segment {
    marker: u8,
    /// Offset of the 0xFF.
    start: u64,
    /// Offset just past the segment.
    end: u64,
}

impl Segment {
    fn payload(&self) -> std::ops::Range<u64> {
        self.start + 4..self.end
    }
}

/// The segments up to (not including) the first `SOS`, and that `SOS`'s offset (or the file
/// length when the image has no scan, e.g. a tables-only file).
fn segments(src: &mut dyn Source, limits: &Limits) -> Result<(Vec<Segment>, u64)> {
    let total = len(src)?;
    let soi = read_at(src, NAME, "SOI", 0, 2, 2)?;
    if soi != [0xFF, 0xD8] {
        return Err(Error::malformed(NAME, 0, "no SOI marker"));
    }
    let mut out = Vec::new();
    let mut counter = Counter::new(NAME, limits);
    let mut at = 2u64;
    loop {
        counter.tick(at)?;
        if at + 2 > total {
            return Err(Error::malformed(
                NAME,
                at,
                "file ends before the image data (SOS)",
            ));
        }
        let m = read_at(src, NAME, "marker", at, 2, 2)?;
        if m[0] != 0xFF {
            return Err(Error::malformed(
                NAME,
                at,
                format!("expected a marker, found byte {:#04x}", m[0]),
            ));
        }
        match m[1] {
            0xFF => {
                at += 1; // fill byte
                continue;
            }
            0xDA => return Ok((out, at)),
            0xD9 => return Err(Error::malformed(NAME, at, "EOI before any image data")),
            0x01 | 0xD0..=0xD7 => {
                at += 2;
                continue;
            }
            _ => {}
        }
        if at + 4 > total {
            return Err(Error::malformed(NAME, at, "segment length cut short"));
        }
        let l = read_at(src, NAME, "segment length", at + 2, 2, 2)?;
        let l = u64::from(u16::from_be_bytes([l[0], l[1]]));
        if l < 2 {
            return Err(Error::malformed(NAME, at, "segment length below 2"));
        }
        let end = at + 2 + l;
        if end > total {
            return Err(Error::malformed(
                NAME,
                at,
                format!(
                    "segment {:#04x} of {l} bytes runs past the end of the file",
                    m[1]
                ),
            ));
        }
        out.push(Segment {
            marker: m[1],
            start: at,
            end,
        });
        at = end;
    }
}

fn is_metadata(marker: u8) -> bool {
    matches!(marker, 0xE1 | 0xEB | 0xED | 0xFE)
}

/// Builds an `APP1` XMP segment.
fn xmp_segment(packet: &str) -> Result<Vec<u8>> {
    let len = 2 + XMP_HEADER.len() + packet.len();
    let len = u16::try_from(len).map_err(|_| {
        Error::Label(format!(
            "the XMP packet of {} bytes does not fit one JPEG APP1 segment (64 KiB)",
            packet.len()
        ))
    })?;
    let mut seg = vec![0xFF, 0xE1];
    seg.extend_from_slice(&len.to_be_bytes());
    seg.extend_from_slice(XMP_HEADER);
    seg.extend_from_slice(packet.as_bytes());
    Ok(seg)
}

impl Format for Jpeg {
    fn name(&self) -> &'static str {
        NAME
    }

    fn media_type(&self) -> &'static str {
        "image/jpeg"
    }

    fn patchable(&self) -> bool {
        true
    }

    fn detect(&self, head: &[u8]) -> bool {
        head.starts_with(&[0xFF, 0xD8, 0xFF])
    }

    fn layout(&self, src: &mut dyn Source, limits: &Limits) -> Result<Layout> {
        let (segs, sos) = segments(src, limits)?;
        let total = len(src)?;
        let mut layout = Layout::default();
        push_range(&mut layout.essence, 0..2);
        for s in &segs {
            if (0xC0..=0xCF).contains(&s.marker)
                && !matches!(s.marker, 0xC4 | 0xC8 | 0xCC)
                && s.end - s.start >= 9
            {
                let d = read_at(src, NAME, "SOF", s.start + 5, 4, 4)?;
                let h = u16::from_be_bytes([d[0], d[1]]);
                let w = u16::from_be_bytes([d[2], d[3]]);
                layout.shape = format!("{w}x{h}");
            }
            if !is_metadata(s.marker) {
                push_range(&mut layout.essence, s.start..s.end);
                continue;
            }
            let p = s.payload();
            let head = read_at(src, NAME, "segment", p.start, (p.end - p.start).min(40), 40)?;
            if s.marker == 0xEB {
                // JUMBF (ISO 19566-5) in APP11: `JP`, box instance, sequence, then boxes.
                if head.starts_with(b"JP") && head.windows(4).any(|w| w == b"jumb") {
                    layout.has_c2pa = true;
                }
            } else if s.marker == 0xE1 && head.starts_with(XMP_HEADER) {
                let data = read_at(
                    src,
                    NAME,
                    "XMP",
                    p.start,
                    p.end - p.start,
                    limits.max_metadata,
                )?;
                let text = String::from_utf8_lossy(&data[XMP_HEADER.len()..]);
                if let Some(json) = xmp::find_aigc(&text) {
                    layout.carriers.push(Carrier {
                        kind: "jpeg:APP1:XMP".into(),
                        primary: true,
                        text: json,
                    });
                }
            } else if s.marker == 0xE1 && head.starts_with(b"Exif\0\0") {
                let data = read_at(
                    src,
                    NAME,
                    "EXIF",
                    p.start,
                    p.end - p.start,
                    limits.max_metadata,
                )?;
                if let Some(c) = tiff::exif_user_comment(&data[6..], limits)
                    && tiff::looks_like_label(&c)
                {
                    layout.carriers.push(Carrier {
                        kind: "jpeg:APP1:EXIF:UserComment".into(),
                        primary: false,
                        text: c,
                    });
                }
            }
        }
        push_range(&mut layout.essence, sos..total);
        Ok(layout)
    }

    fn write(
        &self,
        src: &mut dyn Source,
        dst: &mut dyn Write,
        json: &str,
        limits: &Limits,
    ) -> Result<()> {
        let (segs, sos) = segments(src, limits)?;
        let total = len(src)?;
        let mut existing: Option<(usize, String)> = None;
        for (i, s) in segs.iter().enumerate() {
            if s.marker != 0xE1 {
                continue;
            }
            let p = s.payload();
            let head = read_at(src, NAME, "segment", p.start, (p.end - p.start).min(29), 29)?;
            if head == XMP_HEADER {
                let data = read_at(
                    src,
                    NAME,
                    "XMP",
                    p.start,
                    p.end - p.start,
                    limits.max_metadata,
                )?;
                existing = Some((
                    i,
                    String::from_utf8_lossy(&data[XMP_HEADER.len()..]).into_owned(),
                ));
                break;
            }
        }
        let seg = xmp_segment(&xmp::upsert(
            existing.as_ref().map(|(_, t)| t.as_str()),
            json,
        ))?;
        // The reader refuses a larger payload: the labelled copy must read back.
        let size = seg.len() as u64 - 4;
        if size > limits.max_metadata {
            return Err(Error::TooLarge {
                format: NAME,
                offset: existing.as_ref().map_or(2, |(i, _)| segs[*i].start),
                what: "XMP segment with the label",
                size,
                limit: limits.max_metadata,
            });
        }
        // A new packet goes after JFIF (APP0) and EXIF (APP1) segments, which must come first.
        let mut at = existing.as_ref().map(|(i, _)| *i);
        if at.is_none() {
            let mut i = 0;
            while i < segs.len() && matches!(segs[i].marker, 0xE0 | 0xE1) {
                i += 1;
            }
            at = Some(i);
        }
        dst.write_all(&[0xFF, 0xD8])?;
        let mut written = false;
        for (i, s) in segs.iter().enumerate() {
            if Some(i) == at {
                dst.write_all(&seg)?;
                written = true;
                if existing.is_some() {
                    continue;
                }
            }
            copy_range(src, dst, NAME, s.start..s.end)?;
        }
        if !written {
            dst.write_all(&seg)?;
        }
        copy_range(src, dst, NAME, sos..total)?;
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::formats::testing::essence;
    use std::io::Cursor;

    use super::*;

    /// A structurally valid JPEG skeleton: SOI, APP0, an EXIF APP1 with a UserComment, DQT,
    /// SOF0 (16×8), SOS and some scan bytes, EOI.
    fn tiny() -> Vec<u8> {
        let mut f = vec![0xFF, 0xD8];
        let seg = |f: &mut Vec<u8>, m: u8, p: &[u8]| {
            f.extend_from_slice(&[0xFF, m]);
            f.extend_from_slice(&((p.len() + 2) as u16).to_be_bytes());
            f.extend_from_slice(p);
        };
        seg(&mut f, 0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
        let mut exif = b"Exif\0\0".to_vec();
        exif.extend_from_slice(&tiff::tests::tiny(false, Some(r#"{"AIGC":{"Label":"3"}}"#)));
        seg(&mut f, 0xE1, &exif);
        seg(&mut f, 0xDB, &[0; 65]);
        seg(&mut f, 0xC0, &[8, 0, 8, 0, 16, 1, 1, 0x11, 0]);
        seg(&mut f, 0xDA, &[1, 1, 0, 0, 63, 0]);
        f.extend_from_slice(&[0x12, 0x34, 0xFF, 0x00, 0x56, 0xFF, 0xD9]);
        f
    }

    #[test]
    fn round_trip_with_exif_alternative() {
        let limits = Limits::default();
        let input = tiny();
        let before = Jpeg.layout(&mut Cursor::new(&input), &limits).unwrap();
        assert_eq!(before.shape, "16x8");
        assert_eq!(before.carriers.len(), 1);
        assert!(!before.carriers[0].primary);
        let mut once = Vec::new();
        Jpeg.write(
            &mut Cursor::new(&input),
            &mut once,
            r#"{"AIGC":{"Label":"1"}}"#,
            &limits,
        )
        .unwrap();
        let mut twice = Vec::new();
        Jpeg.write(
            &mut Cursor::new(&once),
            &mut twice,
            r#"{"AIGC":{"Label":"2"}}"#,
            &limits,
        )
        .unwrap();
        let after = Jpeg.layout(&mut Cursor::new(&twice), &limits).unwrap();
        let primary: Vec<_> = after.carriers.iter().filter(|c| c.primary).collect();
        assert_eq!(primary.len(), 1);
        assert_eq!(primary[0].text, r#"{"AIGC":{"Label":"2"}}"#);
        assert_eq!(essence(&input, &before), essence(&twice, &after));
        assert_eq!(
            twice
                .windows(XMP_HEADER.len())
                .filter(|w| *w == XMP_HEADER)
                .count(),
            1
        );
    }

    #[test]
    fn every_truncation_before_the_scan_is_an_error() {
        let input = tiny();
        let sos = input.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
        for n in 0..=sos + 1 {
            assert!(
                Jpeg.layout(&mut Cursor::new(&input[..n]), &Limits::default())
                    .is_err(),
                "prefix {n}"
            );
        }
    }

    #[test]
    fn the_labelled_copy_fits_the_limits_it_is_read_with() {
        let smallest =
            crate::formats::testing::labels_read_back_under_every_limit(&Jpeg, &tiny(), 2048);
        assert!(smallest > 1, "{smallest}");
    }
}
