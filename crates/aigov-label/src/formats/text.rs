//! Markdown and plain text: the label as the `AIGC` key of a YAML front matter block
//! (`---` … `---`) at the top of the file, written as a single-quoted JSON string. Reading also
//! accepts double-quoted and plain scalars and a nested mapping of the seven fields. The
//! essence is the text after the front matter (a UTF-8 byte-order mark is not part of it).

use std::io::{BufRead, BufReader, Read, Write};

use serde_json::{Map, Value};

use crate::format::{Carrier, Format, Layout, Limits, Source, copy_range, len};
use crate::{Error, Result};

/// UTF-8 text (Markdown or plain).
pub struct Text;

const NAME: &str = "text";
pub(crate) const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The front matter as lines, where it ends, and the newline style.
pub(crate) struct FrontMatter {
    pub(crate) bom: bool,
    /// Lines between the fences, without their line ends.
    pub(crate) lines: Vec<String>,
    /// Offset just past the closing fence's line end.
    pub(crate) end: u64,
    pub(crate) crlf: bool,
}

pub(crate) fn front_matter(src: &mut dyn Source, limits: &Limits) -> Result<Option<FrontMatter>> {
    src.seek(std::io::SeekFrom::Start(0))?;
    let mut r = BufReader::new((&mut *src).take(limits.max_metadata));
    let mut line = Vec::new();
    r.read_until(b'\n', &mut line)?;
    let mut pos = line.len() as u64;
    let bom = line.starts_with(BOM);
    let first = if bom { &line[3..] } else { &line[..] };
    let crlf = first.ends_with(b"\r\n");
    if trim_eol(first) != b"---" || !first.ends_with(b"\n") {
        return Ok(None);
    }
    let mut lines = Vec::new();
    loop {
        line.clear();
        let n = r.read_until(b'\n', &mut line)?;
        if n == 0 {
            return Ok(None); // never closed: a thematic break, not front matter
        }
        pos += n as u64;
        let t = trim_eol(&line);
        if t == b"---" || t == b"..." {
            return Ok(Some(FrontMatter {
                bom,
                lines,
                end: pos,
                crlf,
            }));
        }
        let s = std::str::from_utf8(t)
            .map_err(|_| Error::malformed(NAME, pos - n as u64, "front matter is not UTF-8"))?;
        lines.push(s.to_string());
    }
}

fn trim_eol(l: &[u8]) -> &[u8] {
    let l = l.strip_suffix(b"\n").unwrap_or(l);
    l.strip_suffix(b"\r").unwrap_or(l)
}

/// Index range of the `AIGC` entry's lines (the key line and any indented lines under it).
fn aigc_lines(lines: &[String]) -> Option<std::ops::Range<usize>> {
    let i = lines.iter().position(|l| {
        l.starts_with("AIGC:") || l.starts_with("\"AIGC\":") || l.starts_with("'AIGC':")
    })?;
    let mut j = i + 1;
    while j < lines.len() && (lines[j].starts_with(' ') || lines[j].starts_with('\t')) {
        j += 1;
    }
    Some(i..j)
}

/// A YAML scalar as text: single-quoted, double-quoted (JSON escapes) or plain.
fn scalar(v: &str) -> String {
    let v = v.trim();
    if let Some(inner) = v.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')) {
        return inner.replace("''", "'");
    }
    if v.starts_with('"')
        && let Ok(s) = serde_json::from_str::<String>(v)
    {
        return s;
    }
    v.to_string()
}

/// The label text of the `AIGC` entry.
fn entry_text(lines: &[String]) -> String {
    let key = &lines[0];
    let value = key.split_once(':').map(|x| x.1).unwrap_or("").trim();
    if !value.is_empty() {
        return scalar(value);
    }
    // A nested mapping of the fields.
    let mut map = Map::new();
    for l in &lines[1..] {
        if let Some((k, v)) = l.trim().split_once(':') {
            map.insert(scalar(k), Value::String(scalar(v)));
        }
    }
    Value::Object(map).to_string()
}

impl Format for Text {
    fn name(&self) -> &'static str {
        NAME
    }

    fn media_type(&self) -> &'static str {
        "text/plain"
    }

    fn patchable(&self) -> bool {
        true
    }

    fn detect(&self, head: &[u8]) -> bool {
        if head.contains(&0) {
            return false;
        }
        match std::str::from_utf8(head) {
            Ok(_) => true,
            // A multi-byte character cut by the 64-byte window is fine.
            Err(e) => e.error_len().is_none() && e.valid_up_to() + 4 > head.len(),
        }
    }

    fn layout(&self, src: &mut dyn Source, limits: &Limits) -> Result<Layout> {
        let total = len(src)?;
        let mut layout = Layout::default();
        let start = match front_matter(src, limits)? {
            Some(fm) => {
                if let Some(r) = aigc_lines(&fm.lines) {
                    layout.carriers.push(Carrier {
                        kind: "text:front-matter:AIGC".into(),
                        primary: true,
                        text: entry_text(&fm.lines[r]),
                    });
                }
                fm.end
            }
            None => {
                let head = crate::format::read_at(src, NAME, "start", 0, total.min(3), 3)?;
                if head == BOM { 3 } else { 0 }
            }
        };
        crate::format::push_range(&mut layout.essence, start..total);
        Ok(layout)
    }

    fn write(
        &self,
        src: &mut dyn Source,
        dst: &mut dyn Write,
        json: &str,
        limits: &Limits,
    ) -> Result<()> {
        if json.contains(['\n', '\r']) {
            return Err(Error::Label("the label must be on one line".into()));
        }
        let total = len(src)?;
        let entry = format!("AIGC: '{}'", json.replace('\'', "''"));
        let (bom, mut lines, body, crlf) = match front_matter(src, limits)? {
            Some(fm) => (fm.bom, fm.lines, fm.end, fm.crlf),
            None => {
                let head = crate::format::read_at(src, NAME, "start", 0, total.min(3), 3)?;
                let bom = head == BOM;
                (bom, Vec::new(), if bom { 3 } else { 0 }, false)
            }
        };
        match aigc_lines(&lines) {
            Some(r) => {
                lines.splice(r, [entry]);
            }
            None => lines.push(entry),
        }
        let nl = if crlf { "\r\n" } else { "\n" };
        if bom {
            dst.write_all(BOM)?;
        }
        let mut fm = format!("---{nl}");
        for l in &lines {
            fm.push_str(l);
            // A line that kept a carriage return of its own (`---\r\r\n`) needs CRLF to read
            // back as itself: with LF alone the reader would take that `\r` for the line end,
            // and `---\r` would become a fence that cuts the front matter short.
            fm.push_str(if l.ends_with('\r') { "\r\n" } else { nl });
        }
        fm.push_str("---");
        fm.push_str(nl);
        let header = fm.len() as u64 + if bom { 3 } else { 0 };
        if header > limits.max_metadata {
            return Err(Error::too_large(
                NAME,
                0,
                "front matter",
                header,
                limits.max_metadata,
            ));
        }
        dst.write_all(fm.as_bytes())?;
        copy_range(src, dst, NAME, body..total)?;
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::formats::testing::essence;
    use std::io::Cursor;

    use super::*;

    fn label(input: &[u8], json: &str) -> Vec<u8> {
        let mut out = Vec::new();
        Text.write(&mut Cursor::new(input), &mut out, json, &Limits::default())
            .unwrap();
        out
    }

    #[test]
    fn adds_front_matter_then_replaces_the_entry() {
        let limits = Limits::default();
        let input = "AI生成的段落。\n---\nnot front matter\n".as_bytes();
        let before = Text.layout(&mut Cursor::new(input), &limits).unwrap();
        let once = label(input, r#"{"AIGC":{"Label":"1","ProduceID":"it's"}}"#);
        let twice = label(&once, r#"{"AIGC":{"Label":"2"}}"#);
        let text = String::from_utf8(twice.clone()).unwrap();
        assert!(
            text.starts_with("---\nAIGC: '{\"AIGC\":{\"Label\":\"2\"}}'\n---\nAI生成"),
            "{text}"
        );
        let after = Text.layout(&mut Cursor::new(&twice), &limits).unwrap();
        assert_eq!(after.carriers[0].text, r#"{"AIGC":{"Label":"2"}}"#);
        assert_eq!(essence(input, &before), essence(&twice, &after));
        let quoted = Text.layout(&mut Cursor::new(&once), &limits).unwrap();
        assert_eq!(
            quoted.carriers[0].text,
            r#"{"AIGC":{"Label":"1","ProduceID":"it's"}}"#
        );
    }

    #[test]
    fn keeps_other_keys_and_reads_other_styles() {
        let limits = Limits::default();
        let input = b"\xEF\xBB\xBF---\r\ntitle: Hello\r\nAIGC:\r\n  Label: '1'\r\n  ContentProducer: x\r\n---\r\nbody\r\n";
        let l = Text.layout(&mut Cursor::new(&input[..]), &limits).unwrap();
        let (aigc, _) = crate::Aigc::parse(&l.carriers[0].text).unwrap();
        assert_eq!(
            (aigc.label.as_str(), aigc.content_producer.as_str()),
            ("1", "x")
        );
        let out = label(input, r#"{"AIGC":{"Label":"1"}}"#);
        assert!(
            out.starts_with(b"\xEF\xBB\xBF---\r\ntitle: Hello\r\nAIGC: '{"),
            "{}",
            String::from_utf8_lossy(&out)
        );
        let after = Text.layout(&mut Cursor::new(&out), &limits).unwrap();
        assert_eq!(essence(input, &l), b"body\r\n");
        assert_eq!(essence(&out, &after), b"body\r\n");
        let dq = b"---\nAIGC: \"{\\\"Label\\\":\\\"3\\\"}\"\n---\n";
        let l = Text.layout(&mut Cursor::new(&dq[..]), &limits).unwrap();
        assert_eq!(l.carriers[0].text, r#"{"Label":"3"}"#);
    }

    #[test]
    fn a_line_ending_in_a_carriage_return_stays_a_line() {
        // `---\r\r\n` is a front matter line `---\r`, not a fence; written back with LF alone it
        // read as `---` and cut the front matter short, leaving the label after it.
        let limits = Limits::default();
        let input = b"---\n---\r\r\nx\n---\nbody\n";
        let before = Text.layout(&mut Cursor::new(&input[..]), &limits).unwrap();
        let out = label(input, r#"{"AIGC":{"Label":"1"}}"#);
        assert!(out.starts_with(b"---\n---\r\r\nx\nAIGC: '"));
        let after = Text.layout(&mut Cursor::new(&out), &limits).unwrap();
        assert_eq!(after.carriers[0].text, r#"{"AIGC":{"Label":"1"}}"#);
        assert_eq!(essence(input, &before), essence(&out, &after));
    }

    #[test]
    fn front_matter_beyond_the_limit_is_not_written() {
        let limits = Limits {
            max_metadata: 64,
            ..Limits::default()
        };
        let input = format!("---\ntitle: {}\n---\nbody\n", "x".repeat(30));
        let l = Text.layout(&mut Cursor::new(&input), &limits).unwrap();
        assert_eq!(essence(input.as_bytes(), &l), b"body\n");
        let e = Text
            .write(
                &mut Cursor::new(&input),
                &mut Vec::new(),
                r#"{"AIGC":{"Label":"1"}}"#,
                &limits,
            )
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("front matter of 77 bytes exceeds the limit of 64"),
            "{e}"
        );
    }

    #[test]
    fn detection_refuses_binary() {
        assert!(Text.detect("纯文本".as_bytes()));
        assert!(Text.detect(&"生".as_bytes()[..2]));
        assert!(!Text.detect(b"ab\0cd"));
        assert!(!Text.detect(b"\xff\xfe\x00"));
    }

    #[test]
    fn the_labelled_copy_fits_the_limits_it_is_read_with() {
        let smallest = crate::formats::testing::labels_read_back_under_every_limit(
            &Text,
            "---\ntitle: x\n---\nbody\n".as_bytes(),
            2048,
        );
        assert!(smallest > 1, "{smallest}");
    }
}
