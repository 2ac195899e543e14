//! CSV/TSV records (RFC 4180 quoting) with raw field spans, so that redaction can splice into
//! the original bytes and keep the file's quoting exactly.

use std::borrow::Cow;
use std::ops::Range;

use crate::normalize::OffsetMap;

/// One field of a record.
#[derive(Debug)]
pub struct CsvField<'a> {
    /// Span of the raw content (inside the quotes when quoted), in the record.
    pub raw: Range<usize>,
    /// Whether the field was quoted.
    pub quoted: bool,
    /// The decoded value (`""` → `"`).
    pub value: Cow<'a, str>,
    /// Maps decoded offsets to raw-content offsets (only when `""` escapes were present).
    pub map: Option<OffsetMap>,
}

impl CsvField<'_> {
    /// Offset in the record of decoded offset `pos`.
    pub fn raw_offset(&self, pos: usize) -> usize {
        self.raw.start + self.map.as_ref().map_or(pos, |m| m.original(pos))
    }
}

/// A malformed record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid CSV at byte {offset}: {message}")]
pub struct CsvError {
    /// Byte offset in the record.
    pub offset: usize,
    /// What is wrong.
    pub message: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum St {
    Start,
    Unquoted,
    Quoted,
    QuoteSeen,
}

/// Finds record ends in a byte stream fed piece by piece (a quoted field may hold newlines).
#[derive(Debug, Clone)]
pub struct RecordSplitter {
    st: St,
    delim: u8,
}

impl RecordSplitter {
    /// A splitter at the start of a record.
    pub fn new(delim: u8) -> RecordSplitter {
        RecordSplitter {
            st: St::Start,
            delim,
        }
    }

    /// Feeds the next bytes of the current record; returns the offset just after the line
    /// terminator that ends the record (and resets for the next one), or `None` when the
    /// record goes on.
    pub fn feed(&mut self, buf: &[u8]) -> Option<usize> {
        let mut i = 0;
        while i < buf.len() {
            if self.st == St::Quoted {
                match memchr::memchr(b'"', &buf[i..]) {
                    Some(k) => {
                        i += k + 1;
                        self.st = St::QuoteSeen;
                        continue;
                    }
                    None => return None,
                }
            }
            let c = buf[i];
            self.st = match (self.st, c) {
                (_, b'\n') => {
                    self.st = St::Start;
                    return Some(i + 1);
                }
                (St::Start | St::QuoteSeen, b'"') => St::Quoted,
                (_, c) if c == self.delim => St::Start,
                _ => St::Unquoted,
            };
            i += 1;
        }
        None
    }
}

/// The end of the record that starts at `buf[0]`: the offset just after its line terminator,
/// or `None` when the buffer ends inside the record.
pub fn record_end(buf: &[u8], delim: u8) -> Option<usize> {
    RecordSplitter::new(delim).feed(buf)
}

/// Splits a record (line terminator removed) into fields.
pub fn fields(rec: &str, delim: u8) -> Result<Vec<CsvField<'_>>, CsvError> {
    let b = rec.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        if b.get(i) == Some(&b'"') {
            let start = i + 1;
            let mut j = start;
            let mut escaped = false;
            loop {
                match memchr::memchr(b'"', &b[j..]) {
                    None => {
                        return Err(CsvError {
                            offset: i,
                            message: "unclosed quoted field",
                        });
                    }
                    Some(k) => {
                        j += k;
                        if b.get(j + 1) == Some(&b'"') {
                            escaped = true;
                            j += 2;
                        } else {
                            break;
                        }
                    }
                }
            }
            let raw = start..j;
            let (value, map) = if escaped {
                let mut v = String::with_capacity(j - start);
                let mut m = OffsetMap::default();
                let content = &rec[raw.clone()];
                let mut k = 0;
                while let Some(q) = content[k..].find("\"\"") {
                    v.push_str(&content[k..k + q + 1]);
                    k += q + 2;
                    m.push(v.len(), k);
                }
                v.push_str(&content[k..]);
                (Cow::Owned(v), Some(m))
            } else {
                (Cow::Borrowed(&rec[raw.clone()]), None)
            };
            out.push(CsvField {
                raw,
                quoted: true,
                value,
                map,
            });
            i = j + 1;
            match b.get(i) {
                None => return Ok(out),
                Some(&c) if c == delim => i += 1,
                Some(_) => {
                    return Err(CsvError {
                        offset: i,
                        message: "text after a closing quote",
                    });
                }
            }
        } else {
            let end = memchr::memchr(delim, &b[i..]).map_or(b.len(), |k| i + k);
            out.push(CsvField {
                raw: i..end,
                quoted: false,
                value: Cow::Borrowed(&rec[i..end]),
                map: None,
            });
            if end == b.len() {
                return Ok(out);
            }
            i = end + 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_maps() {
        let rec = r#"1,"Zhang, San","say ""hi"" 138",,x"#;
        let f = fields(rec, b',').unwrap();
        let vals: Vec<&str> = f.iter().map(|f| f.value.as_ref()).collect();
        assert_eq!(vals, ["1", "Zhang, San", "say \"hi\" 138", "", "x"]);
        let third = &f[2];
        let p = third.value.find("138").unwrap();
        assert_eq!(&rec[third.raw_offset(p)..third.raw_offset(p + 3)], "138");
        assert_eq!(fields("a\tb", b'\t').unwrap().len(), 2);
        assert!(fields(r#""open"#, b',').is_err());
        assert!(fields(r#""a"b,c"#, b',').is_err());
    }

    #[test]
    fn record_ends() {
        assert_eq!(record_end(b"a,b\nc", b','), Some(4));
        assert_eq!(record_end(b"\"a\nb\",c\nd", b','), Some(8));
        assert_eq!(record_end(b"\"a\"\"\nb\"\n", b','), Some(8));
        assert_eq!(record_end(b"\"open\n", b','), None);
        assert_eq!(record_end(b"no newline", b','), None);
    }
}
