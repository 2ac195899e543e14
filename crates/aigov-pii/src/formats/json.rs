//! A JSON value walker that yields every string value with its raw span, so that findings can
//! be reported in decoded offsets and redaction can splice into the original bytes (keeping
//! the line's formatting, so that restoring gives back the input byte for byte).

use std::borrow::Cow;
use std::fmt::{self, Write as _};
use std::ops::Range;

use crate::normalize::OffsetMap;

/// Deepest nesting accepted.
pub const MAX_DEPTH: usize = 128;

/// A JSON syntax error at a byte offset of the line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid JSON at byte {offset}: {message}")]
pub struct JsonError {
    /// Byte offset in the line.
    pub offset: usize,
    /// What is wrong.
    pub message: &'static str,
}

/// One step of a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment<'a> {
    /// Object key, as written (escapes not decoded).
    Key(&'a str),
    /// Array index.
    Index(usize),
}

/// A path from the root, printed as `$.messages[0].content`.
#[derive(Debug, Clone, Copy)]
pub struct Path<'p, 'a>(pub &'p [Segment<'a>]);

impl fmt::Display for Path<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('$')?;
        for s in self.0 {
            match s {
                Segment::Key(k)
                    if !k.is_empty()
                        && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') =>
                {
                    write!(f, ".{k}")?
                }
                Segment::Key(k) => write!(f, "[\"{k}\"]")?,
                Segment::Index(i) => write!(f, "[{i}]")?,
            }
        }
        Ok(())
    }
}

/// A string value.
#[derive(Debug)]
pub struct JsonString<'a> {
    /// Span of the raw content between the quotes, in the line.
    pub raw: Range<usize>,
    /// The decoded value.
    pub value: Cow<'a, str>,
    /// Maps decoded offsets to offsets in the raw content (only when escapes were present).
    pub map: Option<OffsetMap>,
}

impl JsonString<'_> {
    /// Offset in the line of decoded offset `pos`.
    pub fn raw_offset(&self, pos: usize) -> usize {
        self.raw.start + self.map.as_ref().map_or(pos, |m| m.original(pos))
    }
}

/// Which string values to visit: JSONPath-like selectors (`$.text`, `messages[*].content`,
/// `$["a b"]`); a selector also selects everything beneath it. No selector: every string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selector {
    paths: Vec<Vec<Sel>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Sel {
    Key(String),
    Index(usize),
    Any,
}

impl Selector {
    /// Parses selectors; an error names the selector and what is wrong.
    pub fn parse<S: AsRef<str>>(selectors: &[S]) -> Result<Selector, String> {
        let mut paths = Vec::new();
        for s in selectors {
            let s = s.as_ref();
            paths.push(parse_selector(s).map_err(|e| format!("field selector {s:?}: {e}"))?);
        }
        Ok(Selector { paths })
    }

    /// True when no selector was given.
    pub fn is_all(&self) -> bool {
        self.paths.is_empty()
    }

    fn matches(&self, path: &[Segment<'_>]) -> bool {
        self.is_all()
            || self.paths.iter().any(|sel| {
                sel.len() <= path.len()
                    && sel.iter().zip(path).all(|(s, p)| match (s, p) {
                        (Sel::Any, _) => true,
                        (Sel::Key(k), Segment::Key(pk)) => k == pk,
                        (Sel::Index(i), Segment::Index(pi)) => i == pi,
                        _ => false,
                    })
            })
    }
}

fn parse_selector(s: &str) -> Result<Vec<Sel>, &'static str> {
    let mut rest = s.strip_prefix('$').unwrap_or(s);
    let mut out = Vec::new();
    if !rest.is_empty() && !rest.starts_with(['.', '[']) {
        rest = s; // bare key: `text`
        let end = rest.find(['.', '[']).unwrap_or(rest.len());
        out.push(Sel::Key(rest[..end].to_string()));
        rest = &rest[end..];
    }
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            let key = &r[..end];
            if key.is_empty() {
                return Err("empty key");
            }
            out.push(if key == "*" {
                Sel::Any
            } else {
                Sel::Key(key.to_string())
            });
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix("[\"") {
            let end = r.find("\"]").ok_or("unclosed [\"")?;
            out.push(Sel::Key(r[..end].to_string()));
            rest = &r[end + 2..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']').ok_or("unclosed [")?;
            let inner = &r[..end];
            out.push(if inner == "*" {
                Sel::Any
            } else {
                Sel::Index(inner.parse().map_err(|_| "index must be a number or *")?)
            });
            rest = &r[end + 1..];
        } else {
            return Err("expected . or [");
        }
    }
    Ok(out)
}

struct Walker<'a, 's, F> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
    path: &'s mut Vec<Segment<'a>>,
    sel: &'s Selector,
    visit: F,
}

fn err(offset: usize, message: &'static str) -> JsonError {
    JsonError { offset, message }
}

/// Walks one JSON document (a JSONL line), calling `visit(path, string)` for every selected
/// string value (object keys are not values). Stops at the first syntax error.
pub fn walk<'a, F>(line: &'a str, sel: &Selector, visit: F) -> Result<(), JsonError>
where
    F: FnMut(&[Segment<'a>], JsonString<'a>),
{
    walk_with(line, sel, &mut Vec::new(), visit)
}

/// [`walk`] with the caller's path stack (emptied first), so that walking many lines of one
/// buffer allocates it once.
pub fn walk_with<'a, F>(
    line: &'a str,
    sel: &Selector,
    path: &mut Vec<Segment<'a>>,
    visit: F,
) -> Result<(), JsonError>
where
    F: FnMut(&[Segment<'a>], JsonString<'a>),
{
    path.clear();
    let mut w = Walker {
        s: line,
        b: line.as_bytes(),
        i: 0,
        path,
        sel,
        visit,
    };
    w.ws();
    w.value(0)?;
    w.ws();
    if w.i != w.b.len() {
        return Err(err(w.i, "trailing characters after the value"));
    }
    Ok(())
}

impl<'a, F> Walker<'a, '_, F>
where
    F: FnMut(&[Segment<'a>], JsonString<'a>),
{
    fn ws(&mut self) {
        while matches!(self.b.get(self.i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<(), JsonError> {
        if depth > MAX_DEPTH {
            return Err(err(self.i, "nested deeper than 128 levels"));
        }
        match self.b.get(self.i) {
            None => Err(err(self.i, "unexpected end of line")),
            Some(b'{') => {
                self.i += 1;
                self.ws();
                if self.b.get(self.i) == Some(&b'}') {
                    self.i += 1;
                    return Ok(());
                }
                loop {
                    self.ws();
                    if self.b.get(self.i) != Some(&b'"') {
                        return Err(err(self.i, "expected a string key"));
                    }
                    let (raw, _) = self.string_span()?;
                    let key = &self.s[raw];
                    self.ws();
                    if self.b.get(self.i) != Some(&b':') {
                        return Err(err(self.i, "expected ':'"));
                    }
                    self.i += 1;
                    self.ws();
                    self.path.push(Segment::Key(key));
                    self.value(depth + 1)?;
                    self.path.pop();
                    self.ws();
                    match self.b.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(());
                        }
                        _ => return Err(err(self.i, "expected ',' or '}'")),
                    }
                }
            }
            Some(b'[') => {
                self.i += 1;
                self.ws();
                if self.b.get(self.i) == Some(&b']') {
                    self.i += 1;
                    return Ok(());
                }
                let mut n = 0;
                loop {
                    self.ws();
                    self.path.push(Segment::Index(n));
                    self.value(depth + 1)?;
                    self.path.pop();
                    n += 1;
                    self.ws();
                    match self.b.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(());
                        }
                        _ => return Err(err(self.i, "expected ',' or ']'")),
                    }
                }
            }
            Some(b'"') => {
                let (raw, escaped) = self.string_span()?;
                if self.sel.matches(self.path) {
                    let js = if escaped {
                        let (value, map) = decode(&self.s[raw.clone()]);
                        JsonString {
                            raw,
                            value: Cow::Owned(value),
                            map: Some(map),
                        }
                    } else {
                        JsonString {
                            value: Cow::Borrowed(&self.s[raw.clone()]),
                            raw,
                            map: None,
                        }
                    };
                    (self.visit)(self.path, js);
                }
                Ok(())
            }
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(err(self.i, "expected a value")),
        }
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), JsonError> {
        if self.b[self.i..].starts_with(word) {
            self.i += word.len();
            Ok(())
        } else {
            Err(err(self.i, "invalid literal"))
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while self.b.get(self.i).is_some_and(u8::is_ascii_digit) {
            self.i += 1;
        }
        self.i - start
    }

    fn number(&mut self) -> Result<(), JsonError> {
        if self.b.get(self.i) == Some(&b'-') {
            self.i += 1;
        }
        let lead_zero = self.b.get(self.i) == Some(&b'0');
        let n = self.digits();
        if n == 0 || (lead_zero && n > 1) {
            return Err(err(self.i, "invalid number"));
        }
        if self.b.get(self.i) == Some(&b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return Err(err(self.i, "invalid number"));
            }
        }
        if matches!(self.b.get(self.i), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.b.get(self.i), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if self.digits() == 0 {
                return Err(err(self.i, "invalid number"));
            }
        }
        Ok(())
    }

    /// Scans a string starting at its opening quote; returns the content span and whether it
    /// holds escapes.
    fn string_span(&mut self) -> Result<(Range<usize>, bool), JsonError> {
        let start = self.i + 1;
        let mut j = start;
        let mut escaped = false;
        loop {
            let Some(k) = memchr::memchr3(b'"', b'\\', b'\n', &self.b[j..]) else {
                return Err(err(self.b.len(), "unterminated string"));
            };
            j += k;
            match self.b[j] {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    match self.b.get(j + 1) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => j += 2,
                        Some(b'u')
                            if self
                                .b
                                .get(j + 2..j + 6)
                                .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) =>
                        {
                            j += 6
                        }
                        _ => return Err(err(j, "invalid escape")),
                    }
                }
                _ => return Err(err(j, "control character in string")),
            }
        }
        // A branch-free pass (it vectorises); the position only when there is one.
        if self.b[start..j].iter().fold(false, |a, &c| a | (c < 0x20))
            && let Some(p) = self.b[start..j].iter().position(|c| *c < 0x20)
        {
            return Err(err(start + p, "control character in string"));
        }
        self.i = j + 1;
        Ok((start..j, escaped))
    }
}

fn hex4(s: &[u8]) -> u32 {
    s.iter()
        .fold(0, |n, c| n * 16 + (*c as char).to_digit(16).unwrap_or(0))
}

/// Decodes string content whose escapes were checked by `string_span`.
fn decode(raw: &str) -> (String, OffsetMap) {
    let b = raw.as_bytes();
    let mut out = String::with_capacity(raw.len());
    let mut map = OffsetMap::default();
    let mut i = 0;
    while i < b.len() {
        let Some(k) = memchr::memchr(b'\\', &b[i..]) else {
            out.push_str(&raw[i..]);
            break;
        };
        out.push_str(&raw[i..i + k]);
        i += k;
        let (c, len) = match b.get(i + 1) {
            Some(b'n') => ('\n', 2),
            Some(b't') => ('\t', 2),
            Some(b'r') => ('\r', 2),
            Some(b'b') => ('\u{8}', 2),
            Some(b'f') => ('\u{c}', 2),
            Some(b'u') => {
                let hi = hex4(&b[i + 2..i + 6]);
                let lo_ok = b.get(i + 6..i + 8) == Some(b"\\u") && b.len() >= i + 12;
                if (0xD800..0xDC00).contains(&hi) && lo_ok {
                    let lo = hex4(&b[i + 8..i + 12]);
                    if (0xDC00..0xE000).contains(&lo) {
                        let c = char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00));
                        (c.unwrap_or('\u{FFFD}'), 12)
                    } else {
                        ('\u{FFFD}', 6)
                    }
                } else {
                    (char::from_u32(hi).unwrap_or('\u{FFFD}'), 6)
                }
            }
            Some(c) => (char::from(*c), 2),
            None => ('\u{FFFD}', 1),
        };
        out.push(c);
        i += len;
        map.push(out.len(), i);
    }
    (out, map)
}

/// Escapes `s` for use inside a JSON string.
pub fn escape_into(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(line: &str, sel: &[&str]) -> Result<Vec<(String, String)>, JsonError> {
        let sel = Selector::parse(sel).unwrap();
        let mut v = Vec::new();
        walk(line, &sel, |p, s| {
            v.push((Path(p).to_string(), s.value.into_owned()))
        })?;
        Ok(v)
    }

    #[test]
    fn walks_strings_with_paths() {
        let line = r#"{"id": 1, "text": "a\nb\u00e9\ud83d\ude00", "msgs": [{"content": "hi"}, {"content": "yo", "x": [true, null, -1.5e3]}], "we ird": "k"}"#;
        let all = strings(line, &[]).unwrap();
        assert_eq!(
            all,
            vec![
                ("$.text".into(), "a\nbé😀".into()),
                ("$.msgs[0].content".into(), "hi".into()),
                ("$.msgs[1].content".into(), "yo".into()),
                ("$[\"we ird\"]".into(), "k".into()),
            ]
        );
        assert_eq!(strings(line, &["$.msgs[*].content"]).unwrap().len(), 2);
        assert_eq!(strings(line, &["msgs[1]"]).unwrap().len(), 1);
        assert_eq!(strings(line, &["text"]).unwrap().len(), 1);
        assert!(Selector::parse(&["$..x"]).is_err());
        assert!(Selector::parse(&["$[x]"]).is_err());
    }

    #[test]
    fn raw_offsets_follow_escapes() {
        let line = r#"{"t":"\u0031\"38 x"}"#;
        let sel = Selector::default();
        walk(line, &sel, |_, s| {
            assert_eq!(s.value, "1\"38 x");
            let (a, b) = (s.raw_offset(0), s.raw_offset(4));
            assert_eq!(&line[a..b], r#"\u0031\"38"#);
        })
        .unwrap();
    }

    #[test]
    fn errors_name_the_offset() {
        for (line, off) in [
            ("{\"a\":}", 5),
            ("[1,2", 4),
            ("{\"a\":\"x}", 8),
            ("tru", 0),
            ("{} x", 3),
            ("01", 2),
            ("\"a\\q\"", 2),
        ] {
            let e = strings(line, &[]).unwrap_err();
            assert_eq!(e.offset, off, "{line}: {e}");
        }
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert!(strings(&deep, &[]).unwrap_err().message.contains("128"));
    }

    #[test]
    fn escape() {
        let mut s = String::new();
        escape_into("a\"b\\c\nd\u{1}", &mut s);
        assert_eq!(s, r#"a\"b\\c\nd\u0001"#);
    }
}
