//! TIFF: the label in the XMP packet of tag 700 in the first IFD. EXIF `UserComment` (tag
//! 0x9286 in the EXIF IFD) is read as an alternative carrier, here and inside JPEG `APP1`.
//!
//! Writing appends the XMP packet and a copy of the first IFD with tag 700 set to the end of
//! the file and points the header at the new IFD; every other byte stays where it was. The
//! essence is the byte-order header and the image data of the first IFD (its strips or tiles).
//! BigTIFF is not supported.

use std::io::{Cursor, Write};

use crate::format::{
    Carrier, Format, Layout, Limits, Source, copy_range, len, push_range, read_at,
};
use crate::{Error, Result, xmp};

/// The TIFF format.
pub struct Tiff;

const NAME: &str = "tiff";
const TAG_XMP: u16 = 700;
const TAG_EXIF_IFD: u16 = 34665;
const TAG_USER_COMMENT: u16 = 0x9286;
const MAX_ENTRIES: u64 = 4096;

/// One IFD entry, raw.
#[derive(Clone)]
pub(crate) struct Entry {
    pub tag: u16,
    pub kind: u16,
    pub count: u32,
    /// The 4-byte value-or-offset field as stored.
    pub field: [u8; 4],
}

/// A TIFF structure read through a source (a whole file, or the payload of a JPEG APP1).
pub(crate) struct Reader<'a> {
    src: &'a mut dyn Source,
    le: bool,
    total: u64,
    format: &'static str,
}

fn type_size(kind: u16) -> u64 {
    match kind {
        1 | 2 | 6 | 7 => 1,
        3 | 8 => 2,
        4 | 9 | 11 | 13 => 4,
        5 | 10 | 12 => 8,
        _ => 1,
    }
}

impl<'a> Reader<'a> {
    /// Reads the header; returns the reader and the offset of IFD0.
    pub fn new(src: &'a mut dyn Source, format: &'static str) -> Result<(Self, u64)> {
        let total = len(src)?;
        let head = read_at(src, format, "TIFF header", 0, 8, 8)?;
        let le = match &head[..4] {
            b"II*\0" => true,
            b"MM\0*" => false,
            [b'I', b'I', 43, 0] | [b'M', b'M', 0, 43] => {
                return Err(Error::Unsupported("BigTIFF".into()));
            }
            _ => return Err(Error::malformed(format, 0, "not a TIFF header")),
        };
        let r = Reader {
            src,
            le,
            total,
            format,
        };
        let ifd0 = u64::from(r.u32(&head[4..8]));
        Ok((r, ifd0))
    }

    fn u16(&self, b: &[u8]) -> u16 {
        let a = [b[0], b[1]];
        if self.le {
            u16::from_le_bytes(a)
        } else {
            u16::from_be_bytes(a)
        }
    }

    fn u32(&self, b: &[u8]) -> u32 {
        let a = [b[0], b[1], b[2], b[3]];
        if self.le {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        }
    }

    /// The entries of the IFD at `offset` and the next-IFD offset.
    pub fn ifd(&mut self, offset: u64) -> Result<(Vec<Entry>, u32)> {
        if offset < 8 || offset + 2 > self.total {
            return Err(Error::malformed(
                self.format,
                offset,
                "IFD offset outside the file",
            ));
        }
        let n = read_at(self.src, self.format, "IFD", offset, 2, 2)?;
        let n = u64::from(self.u16(&n));
        if n > MAX_ENTRIES {
            return Err(Error::too_large(
                self.format,
                offset,
                "IFD entry count",
                n,
                MAX_ENTRIES,
            ));
        }
        let body = read_at(
            self.src,
            self.format,
            "IFD",
            offset + 2,
            n * 12 + 4,
            MAX_ENTRIES * 12 + 4,
        )?;
        let entries = body[..(n * 12) as usize]
            .chunks_exact(12)
            .map(|e| Entry {
                tag: self.u16(&e[0..2]),
                kind: self.u16(&e[2..4]),
                count: self.u32(&e[4..8]),
                field: [e[8], e[9], e[10], e[11]],
            })
            .collect();
        let next = self.u32(&body[(n * 12) as usize..]);
        Ok((entries, next))
    }

    /// The value bytes of an entry (inline or at its offset), up to `limit`.
    pub fn value(&mut self, e: &Entry, limit: u64) -> Result<Vec<u8>> {
        let size = type_size(e.kind) * u64::from(e.count);
        if size <= 4 {
            return Ok(e.field[..size as usize].to_vec());
        }
        let at = u64::from(self.u32(&e.field));
        if at + size > self.total {
            return Err(Error::malformed(
                self.format,
                at,
                format!("value of tag {} runs past the end", e.tag),
            ));
        }
        read_at(self.src, self.format, "tag value", at, size, limit)
    }

    /// The unsigned integers of a SHORT or LONG entry.
    pub fn uints(&mut self, e: &Entry, limit: u64) -> Result<Vec<u64>> {
        let bytes = self.value(e, limit)?;
        Ok(match e.kind {
            3 => bytes
                .chunks_exact(2)
                .map(|b| u64::from(self.u16(b)))
                .collect(),
            4 | 13 => bytes
                .chunks_exact(4)
                .map(|b| u64::from(self.u32(b)))
                .collect(),
            _ => {
                return Err(Error::malformed(
                    self.format,
                    0,
                    format!("tag {} is neither SHORT nor LONG", e.tag),
                ));
            }
        })
    }

    /// EXIF `UserComment` of the IFD holding `entries`, decoded, if any.
    pub fn user_comment(&mut self, entries: &[Entry], limits: &Limits) -> Result<Option<String>> {
        let Some(exif) = entries.iter().find(|e| e.tag == TAG_EXIF_IFD) else {
            return Ok(None);
        };
        let at = u64::from(self.u32(&exif.field));
        let (exif_entries, _) = self.ifd(at)?;
        let Some(uc) = exif_entries.iter().find(|e| e.tag == TAG_USER_COMMENT) else {
            return Ok(None);
        };
        let bytes = self.value(uc, limits.max_metadata)?;
        Ok(Some(decode_user_comment(&bytes)))
    }
}

/// Decodes a `UserComment`: an 8-byte character code, then the text.
pub(crate) fn decode_user_comment(bytes: &[u8]) -> String {
    let (code, text) = bytes.split_at(bytes.len().min(8));
    let text = match code {
        b"UNICODE\0" => {
            // UCS-2 in the file's byte order is ambiguous; try both and keep the one that
            // looks like text.
            let be: String = char::decode_utf16(
                text.chunks_exact(2)
                    .map(|c| u16::from_be_bytes([c[0], c[1]])),
            )
            .map(|c| c.unwrap_or('\u{fffd}'))
            .collect();
            if be.starts_with('{') {
                be
            } else {
                char::decode_utf16(
                    text.chunks_exact(2)
                        .map(|c| u16::from_le_bytes([c[0], c[1]])),
                )
                .map(|c| c.unwrap_or('\u{fffd}'))
                .collect()
            }
        }
        _ => String::from_utf8_lossy(text).into_owned(),
    };
    text.trim_end_matches(['\0', ' ']).to_string()
}

/// Whether a comment looks like an `AIGC` label.
pub(crate) fn looks_like_label(text: &str) -> bool {
    let t = text.trim_start();
    t.starts_with('{') && (t.contains("AIGC") || t.contains("\"Label\""))
}

impl Format for Tiff {
    fn name(&self) -> &'static str {
        NAME
    }

    fn media_type(&self) -> &'static str {
        "image/tiff"
    }

    fn patchable(&self) -> bool {
        true
    }

    fn detect(&self, head: &[u8]) -> bool {
        head.starts_with(b"II*\0") || head.starts_with(b"MM\0*")
    }

    fn layout(&self, src: &mut dyn Source, limits: &Limits) -> Result<Layout> {
        let (mut r, ifd0) = Reader::new(src, NAME)?;
        let (entries, _) = r.ifd(ifd0)?;
        let mut layout = Layout::default();
        let find = |tag: u16| entries.iter().find(|e| e.tag == tag).cloned();
        let dims = |r: &mut Reader, tag| -> Result<u64> {
            match find(tag) {
                Some(e) => Ok(r.uints(&e, 8)?.first().copied().unwrap_or(0)),
                None => Ok(0),
            }
        };
        layout.shape = format!("{}x{}", dims(&mut r, 256)?, dims(&mut r, 257)?);
        if let Some(e) = find(TAG_XMP) {
            let bytes = r.value(&e, limits.max_metadata)?;
            if let Some(json) = xmp::find_aigc(&String::from_utf8_lossy(&bytes)) {
                layout.carriers.push(Carrier {
                    kind: "tiff:XMP".into(),
                    primary: true,
                    text: json,
                });
            }
        }
        if let Ok(Some(c)) = r.user_comment(&entries, limits)
            && looks_like_label(&c)
        {
            layout.carriers.push(Carrier {
                kind: "tiff:EXIF:UserComment".into(),
                primary: false,
                text: c,
            });
        }
        let (offsets, counts) = match (find(273), find(279), find(324), find(325)) {
            (Some(o), Some(c), _, _) | (_, _, Some(o), Some(c)) => (o, c),
            _ => {
                return Err(Error::malformed(
                    NAME,
                    ifd0,
                    "first IFD has no strips or tiles",
                ));
            }
        };
        let limit = limits.max_metadata;
        let offsets = r.uints(&offsets, limit)?;
        let counts = r.uints(&counts, limit)?;
        if offsets.len() != counts.len() {
            return Err(Error::malformed(
                NAME,
                ifd0,
                "strip/tile offsets and byte counts differ in number",
            ));
        }
        let mut ranges: Vec<_> = offsets
            .iter()
            .zip(&counts)
            .map(|(o, c)| *o..o.saturating_add(*c))
            .collect();
        if let Some(bad) = ranges.iter().find(|x| x.end > r.total) {
            return Err(Error::malformed(
                NAME,
                bad.start,
                "image data runs past the end of the file",
            ));
        }
        // Labelling rewrites the IFD offset in bytes 4..8: image data there would change.
        if let Some(bad) = ranges.iter().find(|x| !x.is_empty() && x.start < 8) {
            return Err(Error::malformed(
                NAME,
                bad.start,
                "image data overlaps the 8-byte TIFF header",
            ));
        }
        ranges.sort_by_key(|x| x.start);
        push_range(&mut layout.essence, 0..4);
        for x in ranges {
            match layout.essence.last_mut() {
                Some(last) if x.start < last.end => last.end = last.end.max(x.end),
                _ => push_range(&mut layout.essence, x),
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
        let (mut r, ifd0) = Reader::new(src, NAME)?;
        let le = r.le;
        let total = r.total;
        let (mut entries, next) = r.ifd(ifd0)?;
        let existing = match entries.iter().find(|e| e.tag == TAG_XMP).cloned() {
            Some(e) => {
                Some(String::from_utf8_lossy(&r.value(&e, limits.max_metadata)?).into_owned())
            }
            None => None,
        };
        let packet = xmp::upsert(existing.as_deref(), json);
        // The reader refuses a larger value: the labelled copy must read back.
        if packet.len() as u64 > limits.max_metadata {
            return Err(Error::too_large(
                NAME,
                ifd0,
                "XMP packet with the label",
                packet.len() as u64,
                limits.max_metadata,
            ));
        }
        let xmp_at = total + (total & 1);
        let ifd_at = xmp_at + packet.len() as u64 + (packet.len() as u64 & 1);
        let u32le = |v: u64| -> Result<[u8; 4]> {
            let v = u32::try_from(v)
                .map_err(|_| Error::Unsupported("TIFF larger than 4 GiB (BigTIFF)".into()))?;
            Ok(if le { v.to_le_bytes() } else { v.to_be_bytes() })
        };
        let u16b = |v: u16| if le { v.to_le_bytes() } else { v.to_be_bytes() };
        entries.retain(|e| e.tag != TAG_XMP);
        entries.push(Entry {
            tag: TAG_XMP,
            kind: 1,
            count: u32::try_from(packet.len()).map_err(|_| Error::Label("XMP too large".into()))?,
            field: u32le(xmp_at)?,
        });
        entries.sort_by_key(|e| e.tag);
        // The reader refuses more entries than this: the labelled copy must read back.
        if entries.len() as u64 > MAX_ENTRIES {
            return Err(Error::too_large(
                NAME,
                ifd0,
                "IFD entry count with the XMP entry",
                entries.len() as u64,
                MAX_ENTRIES,
            ));
        }
        let head = read_at(r.src, NAME, "TIFF header", 0, 4, 4)?;
        dst.write_all(&head)?;
        dst.write_all(&u32le(ifd_at)?)?;
        copy_range(r.src, dst, NAME, 8..total)?;
        if total & 1 == 1 {
            dst.write_all(&[0])?;
        }
        dst.write_all(packet.as_bytes())?;
        if packet.len() & 1 == 1 {
            dst.write_all(&[0])?;
        }
        let count = u16::try_from(entries.len())
            .map_err(|_| Error::malformed(NAME, ifd0, "too many entries"))?;
        let mut ifd = Vec::with_capacity(entries.len() * 12 + 6);
        ifd.extend_from_slice(&u16b(count));
        for e in &entries {
            ifd.extend_from_slice(&u16b(e.tag));
            ifd.extend_from_slice(&u16b(e.kind));
            ifd.extend_from_slice(&if le {
                e.count.to_le_bytes()
            } else {
                e.count.to_be_bytes()
            });
            ifd.extend_from_slice(&e.field);
        }
        ifd.extend_from_slice(&if le {
            next.to_le_bytes()
        } else {
            next.to_be_bytes()
        });
        dst.write_all(&ifd)?;
        Ok(())
    }
}

/// Reads the EXIF `UserComment` from a JPEG `APP1` payload (after `Exif\0\0`).
pub(crate) fn exif_user_comment(tiff: &[u8], limits: &Limits) -> Option<String> {
    let mut cur = Cursor::new(tiff);
    let (mut r, ifd0) = Reader::new(&mut cur, "jpeg").ok()?;
    let (entries, _) = r.ifd(ifd0).ok()?;
    r.user_comment(&entries, limits).ok().flatten()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;
    use crate::formats::testing::essence;

    /// A 4×2 8-bit greyscale TIFF, one strip, little- or big-endian, optionally with an EXIF
    /// IFD holding a `UserComment`.
    pub(crate) fn tiny(le: bool, comment: Option<&str>) -> Vec<u8> {
        let w16 = |v: u16| if le { v.to_le_bytes() } else { v.to_be_bytes() };
        let w32 = |v: u32| if le { v.to_le_bytes() } else { v.to_be_bytes() };
        let mut f = if le {
            b"II*\0".to_vec()
        } else {
            b"MM\0*".to_vec()
        };
        f.extend_from_slice(&w32(8));
        let pixels = [10u8, 20, 30, 40, 50, 60, 70, 80];
        let mut entries: Vec<(u16, u16, u32, [u8; 4])> = vec![
            (256, 3, 1, [0; 4]),
            (257, 3, 1, [0; 4]),
            (258, 3, 1, [0; 4]),
            (262, 3, 1, [0; 4]),
            (273, 4, 1, [0; 4]),
            (277, 3, 1, [0; 4]),
            (278, 3, 1, [0; 4]),
            (279, 4, 1, [0; 4]),
        ];
        let n = entries.len() + usize::from(comment.is_some());
        let ifd_len = 2 + 12 * n + 4;
        let pix_at = 8 + ifd_len;
        let exif_at = pix_at + pixels.len();
        let short = |v: u16| {
            let b = w16(v);
            [b[0], b[1], 0, 0]
        };
        entries[0].3 = short(4);
        entries[1].3 = short(2);
        entries[2].3 = short(8);
        entries[3].3 = short(1);
        entries[4].3 = w32(pix_at as u32);
        entries[5].3 = short(1);
        entries[6].3 = short(2);
        entries[7].3 = w32(pixels.len() as u32);
        if comment.is_some() {
            entries.push((TAG_EXIF_IFD, 4, 1, w32(exif_at as u32)));
        }
        f.extend_from_slice(&w16(n as u16));
        for (tag, kind, count, field) in &entries {
            f.extend_from_slice(&w16(*tag));
            f.extend_from_slice(&w16(*kind));
            f.extend_from_slice(&w32(*count));
            f.extend_from_slice(field);
        }
        f.extend_from_slice(&w32(0));
        f.extend_from_slice(&pixels);
        if let Some(c) = comment {
            let mut value = b"ASCII\0\0\0".to_vec();
            value.extend_from_slice(c.as_bytes());
            let value_at = exif_at + 2 + 12 + 4;
            f.extend_from_slice(&w16(1));
            f.extend_from_slice(&w16(TAG_USER_COMMENT));
            f.extend_from_slice(&w16(7));
            f.extend_from_slice(&w32(value.len() as u32));
            f.extend_from_slice(&w32(value_at as u32));
            f.extend_from_slice(&w32(0));
            f.extend_from_slice(&value);
        }
        f
    }

    #[test]
    fn round_trip_both_byte_orders() {
        let limits = Limits::default();
        for le in [true, false] {
            let input = tiny(le, Some(r#"{"Label":"3"}"#));
            let before = Tiff.layout(&mut Cursor::new(&input), &limits).unwrap();
            assert_eq!(before.shape, "4x2");
            assert_eq!(before.carriers.len(), 1, "user comment read");
            let mut once = Vec::new();
            Tiff.write(
                &mut Cursor::new(&input),
                &mut once,
                r#"{"AIGC":{"Label":"1"}}"#,
                &limits,
            )
            .unwrap();
            let mut twice = Vec::new();
            Tiff.write(
                &mut Cursor::new(&once),
                &mut twice,
                r#"{"AIGC":{"Label":"2"}}"#,
                &limits,
            )
            .unwrap();
            let after = Tiff.layout(&mut Cursor::new(&twice), &limits).unwrap();
            let primary: Vec<_> = after.carriers.iter().filter(|c| c.primary).collect();
            assert_eq!(primary.len(), 1);
            assert_eq!(primary[0].text, r#"{"AIGC":{"Label":"2"}}"#);
            assert_eq!(essence(&input, &before), essence(&twice, &after));
        }
    }

    #[test]
    fn truncations_and_bad_offsets_are_errors() {
        let input = tiny(true, None);
        for n in 0..input.len() {
            assert!(
                Tiff.layout(&mut Cursor::new(&input[..n]), &Limits::default())
                    .is_err(),
                "prefix {n}"
            );
        }
        let mut bad = input.clone();
        bad[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(
            Tiff.layout(&mut Cursor::new(&bad), &Limits::default())
                .is_err()
        );
    }

    #[test]
    fn a_full_ifd_is_not_made_unreadable() {
        // An IFD with the most entries the reader takes, none of them XMP: one more would make
        // the labelled copy unreadable.
        let mut input = tiny(true, None);
        let n = MAX_ENTRIES as usize;
        let mut ifd = (n as u16).to_le_bytes().to_vec();
        ifd.extend_from_slice(&input[10..10 + 8 * 12]);
        for tag in 0..(n - 8) as u16 {
            ifd.extend_from_slice(&(1000 + tag).to_le_bytes());
            ifd.extend_from_slice(&[1, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
        }
        ifd.extend_from_slice(&0u32.to_le_bytes());
        let at = input.len() as u32;
        input.extend_from_slice(&ifd);
        input[4..8].copy_from_slice(&at.to_le_bytes());
        assert!(
            Tiff.layout(&mut Cursor::new(&input), &Limits::default())
                .is_ok()
        );
        let e = Tiff
            .write(
                &mut Cursor::new(&input),
                &mut Vec::new(),
                "{}",
                &Limits::default(),
            )
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("IFD entry count with the XMP entry of 4097"),
            "{e}"
        );
    }

    #[test]
    fn image_data_over_the_header_is_refused() {
        // Fuzz (label_tiff): a strip at offset 0 covered the IFD offset that labelling
        // rewrites, so the labelled copy's essence differed.
        let mut input = tiny(true, None);
        let strip_offset = 8 + 2 + 4 * 12 + 8; // value field of StripOffsets (5th entry)
        input[strip_offset..strip_offset + 4].copy_from_slice(&0u32.to_le_bytes());
        let e = Tiff
            .layout(&mut Cursor::new(&input), &Limits::default())
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "tiff at byte 0: image data overlaps the 8-byte TIFF header"
        );
    }

    #[test]
    fn the_labelled_copy_fits_the_limits_it_is_read_with() {
        let smallest = crate::formats::testing::labels_read_back_under_every_limit(
            &Tiff,
            &tiny(true, None),
            2048,
        );
        assert!(smallest > 1, "{smallest}");
    }
}
