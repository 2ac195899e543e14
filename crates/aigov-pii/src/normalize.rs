//! Full-width normalisation with an offset map back to the original bytes.
//!
//! Chinese text often writes identifiers with full-width forms (`１３８１２３４５６７８`,
//! `ｚｈａｎｇ＠１６３．ｃｏｍ`). The detectors work on ASCII, so before scanning the characters
//! U+FF01..U+FF5E become their ASCII twins (U+0021..U+007E) and the ideographic space U+3000
//! becomes a space. Each replaced character shrinks from three bytes to one; [`OffsetMap`] maps
//! any offset of the normalised text back to the original.
//!
//! Text without a full-width letter, digit or identifier punctuation (`+ - . @ /`) is left
//! alone: full-width commas and colons, which are everywhere in Chinese prose, are already
//! boundaries for the detectors, so they never force a copy.

/// True when `text` holds a full-width character that can be part of an identifier.
pub fn needs_normalisation(text: &str) -> bool {
    let b = text.as_bytes();
    memchr::memchr_iter(0xEF, b).any(|i| match (b.get(i + 1), b.get(i + 2)) {
        // U+FF0B + , U+FF0D - , U+FF0E . , U+FF0F / , U+FF10..FF19 digits, U+FF20 @ ,
        // U+FF21..FF3A A-Z (not the colon U+FF1A, which Chinese prose uses everywhere)
        (Some(0xBC), Some(&c)) => matches!(c, 0x8B | 0x8D..=0x99 | 0xA0..=0xBA),
        // U+FF41..FF5A a-z
        (Some(0xBD), Some(&c)) => (0x81..=0x9A).contains(&c),
        _ => false,
    })
}

/// Maps offsets of a normalised text back to the original.
#[derive(Debug, Default, Clone)]
pub struct OffsetMap {
    /// `(normalised offset, original offset)` just after each replaced character.
    points: Vec<(usize, usize)>,
}

impl OffsetMap {
    /// The original offset of normalised offset `pos`.
    pub fn original(&self, pos: usize) -> usize {
        let i = self.points.partition_point(|&(n, _)| n <= pos);
        match i.checked_sub(1).and_then(|k| self.points.get(k)) {
            Some(&(n, o)) => o + (pos - n),
            None => pos,
        }
    }

    /// Records that normalised offset `normalised` corresponds to original offset
    /// `original`, both just after a replaced sequence (points must be added in order).
    pub fn push(&mut self, normalised: usize, original: usize) {
        self.points.push((normalised, original));
    }

    /// Clears the map for reuse.
    pub fn clear(&mut self) {
        self.points.clear();
    }
}

/// Writes the normalised form of `text` into `out` (cleared first) and the offset map into
/// `map`. Both buffers are reused, so a caller that keeps them allocates only while they grow.
pub fn normalise_into(text: &str, out: &mut String, map: &mut OffsetMap) {
    out.clear();
    map.clear();
    let mut orig = 0;
    for c in text.chars() {
        let len = c.len_utf8();
        let ascii = match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0),
            '\u{3000}' => Some(' '),
            _ => None,
        };
        match ascii {
            Some(a) => {
                out.push(a);
                map.points.push((out.len(), orig + len));
            }
            None => out.push(c),
        }
        orig += len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_offsets_back() {
        let text = "电话：１３８-1234－５６７８。";
        assert!(needs_normalisation(text));
        let (mut out, mut map) = (String::new(), OffsetMap::default());
        normalise_into(text, &mut out, &mut map);
        assert_eq!(out, "电话:138-1234-5678。");
        let start = out.find('1').unwrap();
        let end = out.find('。').unwrap();
        assert_eq!(
            &text[map.original(start)..map.original(end)],
            "１３８-1234－５６７８"
        );
        assert_eq!(map.original(0), 0);
        assert_eq!(map.original(out.len()), text.len());
    }

    #[test]
    fn prose_punctuation_alone_needs_nothing() {
        assert!(!needs_normalisation("你好，世界：今天（周一）！"));
        assert!(!needs_normalisation("plain ascii 123"));
        assert!(needs_normalisation("ｚｈａｎｇ＠163.com"));
        assert!(needs_normalisation("x\u{FF10}"));
        assert!(!needs_normalisation("truncated \u{FF0C}"));
    }
}
