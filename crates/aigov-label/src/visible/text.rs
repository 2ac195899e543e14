//! The explicit label of a text: a notice line at the beginning and/or the end.
//!
//! [`add_notice`] writes the notice as a paragraph of its own: at the start it is followed by
//! a blank line, at the end it is preceded by one (so Markdown renders it apart from the
//! text). A YAML front matter block (`---` … `---` or `...`, after an optional byte-order mark)
//! stays first, and the start notice goes right after it. The file's newline style (CRLF or
//! LF, taken from the front matter or else the first line end) is kept. A notice already at a
//! position is not written again, so adding twice gives the same file.
//!
//! [`find_notice`] looks for a notice in the first and last [`WINDOW`] bytes of the text, the
//! trace that verification reports as an explicit mark.

use std::io::{Read, SeekFrom, Write};

use crate::format::{Limits, Source, copy_range, len, read_up_to};
use crate::formats::text::{BOM, front_matter};
use crate::visible::{BILINGUAL, CHINESE, ENGLISH, check_wording, names_ai, wording_ok};
use crate::{Error, Result};

const NAME: &str = "text";

/// How many bytes at each end of a text [`find_notice`] and [`add_notice`] look at.
pub const WINDOW: u64 = 4096;

/// Longest line (in characters, after trimming) that [`is_notice_line`] takes for a notice:
/// a notice is short; a long paragraph that merely mentions AI generation is not one.
pub const MAX_NOTICE_LINE: usize = 256;

/// The words of a notice.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Wording {
    /// [`CHINESE`]: "AI生成".
    Chinese,
    /// [`ENGLISH`]: "AI-generated".
    English,
    /// [`BILINGUAL`]: "AI生成 / AI-generated".
    #[default]
    Both,
    /// Own words, on one line, which must name AI ("AI" or "人工智能") and generation or
    /// synthesis ("生成" or "合成"): see [`crate::visible::check_wording`].
    Custom(String),
}

impl Wording {
    /// The notice's text.
    pub fn text(&self) -> &str {
        match self {
            Wording::Chinese => CHINESE,
            Wording::English => ENGLISH,
            Wording::Both => BILINGUAL,
            Wording::Custom(s) => s,
        }
    }

    /// Checks a custom wording: one non-empty line that passes
    /// [`crate::visible::check_wording`]. The standard wordings always pass.
    pub fn check(&self) -> Result<()> {
        let Wording::Custom(s) = self else {
            return Ok(());
        };
        if s.contains(['\n', '\r']) {
            return Err(Error::Label(format!(
                "the notice {s:?} must be on one line"
            )));
        }
        if s.trim() != s {
            return Err(Error::Label(format!(
                "the notice {s:?} must not start or end with white space"
            )));
        }
        check_wording(s)
    }
}

/// Where a notice goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Position {
    /// At the beginning (after any front matter).
    #[default]
    Start,
    /// At the end.
    End,
    /// At the beginning and at the end.
    Both,
}

impl Position {
    fn start(self) -> bool {
        matches!(self, Position::Start | Position::Both)
    }

    fn end(self) -> bool {
        matches!(self, Position::End | Position::Both)
    }
}

/// A notice to add to a text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Notice {
    /// Its words (default [`Wording::Both`]).
    pub wording: Wording,
    /// Where it goes (default [`Position::Start`]).
    pub position: Position,
}

/// Whether `line` is a notice: at most [`MAX_NOTICE_LINE`] characters that name AI ("AI" as a
/// word, "AIGC" or "人工智能") and generation or synthesis ("生成", "合成", or in English
/// "generated", "synthesized", "synthesised" or "synthetic", any case).
pub fn is_notice_line(line: &str) -> bool {
    let line = line.trim();
    if line.is_empty() || line.chars().count() > MAX_NOTICE_LINE {
        return false;
    }
    if wording_ok(line) {
        return true;
    }
    let lower = line.to_lowercase();
    names_ai(line)
        && ["generated", "synthesized", "synthesised", "synthetic"]
            .iter()
            .any(|w| lower.contains(w))
}

/// Copies the UTF-8 text `src` to `dst` with `notice` at its start, end or both.
///
/// Streams: the text is read twice (once to check it is UTF-8 and find its newline style, once
/// to copy it), never held in memory; only the front matter (bounded by
/// [`Limits::max_metadata`]) and [`WINDOW`] bytes at each end are read into memory.
///
/// A position that already holds a notice — its first (or last) non-blank line is, after
/// trimming, one of the standard wordings or this notice's own — gets none, so that adding
/// twice changes nothing. An empty body with [`Position::Both`] gets the notice once (it is
/// then both the first and the last line).
///
/// Errors: [`Error::Label`] for a custom wording that fails [`Wording::check`];
/// [`Error::Malformed`] when the file is not UTF-8 (nothing is written then).
pub fn add_notice(
    src: &mut dyn Source,
    dst: &mut dyn Write,
    notice: &Notice,
    limits: &Limits,
) -> Result<()> {
    notice.wording.check()?;
    let text = notice.wording.text();
    let total = len(src)?;
    let (body, fm_crlf) = body_start(src, limits)?;
    let first_crlf = check_utf8(src, total)?;
    let nl = if fm_crlf.or(first_crlf).unwrap_or(false) {
        "\r\n"
    } else {
        "\n"
    };
    let known = |l: &str| [CHINESE, ENGLISH, BILINGUAL, text].contains(&l.trim());

    let head = read_window(src, body, total.min(body + WINDOW))?;
    let tail_from = total.saturating_sub(WINDOW).max(body);
    let tail = read_window(src, tail_from, total)?;
    let has_start = first_line(&lossy(&head)).is_some_and(known);
    let has_end = last_line(&lossy(&tail)).is_some_and(known);
    let empty = total == body;

    copy_range(src, dst, NAME, 0..body)?;
    let mut wrote = false;
    if notice.position.start() && !has_start {
        dst.write_all(text.as_bytes())?;
        dst.write_all(nl.as_bytes())?;
        if !empty {
            dst.write_all(nl.as_bytes())?;
        }
        wrote = true;
    }
    copy_range(src, dst, NAME, body..total)?;
    if notice.position.end() && !has_end && !(empty && wrote) {
        let before = if empty || tail.ends_with(b"\n\n") || tail.ends_with(b"\n\r\n") {
            ""
        } else if tail.ends_with(b"\n") {
            nl
        } else {
            // The last line is not terminated: end it, then a blank line.
            if nl == "\n" { "\n\n" } else { "\r\n\r\n" }
        };
        dst.write_all(before.as_bytes())?;
        dst.write_all(text.as_bytes())?;
        dst.write_all(nl.as_bytes())?;
    }
    Ok(())
}

/// Whether the text has a notice ([`is_notice_line`]) on a line within its first or last
/// [`WINDOW`] bytes (the first counted after any front matter, whose `AIGC` entry is not a
/// notice).
///
/// Lenient: bytes that are not UTF-8 are replaced, and a front matter that cannot be read
/// counts as text. Only I/O errors fail.
pub fn find_notice(src: &mut dyn Source, limits: &Limits) -> Result<bool> {
    let total = len(src)?;
    let body = match body_start(src, limits) {
        Ok((b, _)) => b,
        Err(Error::Io(e)) => return Err(Error::Io(e)),
        Err(_) => 0,
    };
    let head = read_window(src, body, total.min(body + WINDOW))?;
    if lossy(&head).lines().any(is_notice_line) {
        return Ok(true);
    }
    let tail_from = total.saturating_sub(WINDOW).max(body + WINDOW);
    if tail_from >= total {
        return Ok(false);
    }
    let tail = read_window(src, tail_from, total)?;
    Ok(lossy(&tail).lines().any(is_notice_line))
}

/// Where the body starts (after any front matter, or byte-order mark) and, when there is front
/// matter, whether it uses CRLF.
fn body_start(src: &mut dyn Source, limits: &Limits) -> Result<(u64, Option<bool>)> {
    if let Some(fm) = front_matter(src, limits)? {
        return Ok((fm.end, Some(fm.crlf)));
    }
    let mut head = [0u8; 3];
    src.seek(SeekFrom::Start(0))?;
    let n = read_up_to(src, &mut head)?;
    Ok((if head[..n] == *BOM { 3 } else { 0 }, None))
}

/// Checks that the whole source is UTF-8, streaming; returns whether its first line end is
/// CRLF (`None` when it has none).
fn check_utf8(src: &mut dyn Source, total: u64) -> Result<Option<bool>> {
    src.seek(SeekFrom::Start(0))?;
    let mut buf = vec![0u8; 64 * 1024];
    // Bytes of a character cut by the end of the previous block.
    let mut carry = 0usize;
    let mut pos = 0u64;
    let mut first_crlf = None;
    let mut prev = 0u8;
    loop {
        let n = src.read(&mut buf[carry..])?;
        if n == 0 {
            if carry > 0 {
                return Err(Error::malformed(
                    NAME,
                    pos,
                    "the text ends inside a UTF-8 character",
                ));
            }
            break;
        }
        let filled = carry + n;
        if first_crlf.is_none()
            && let Some(i) = buf[carry..filled].iter().position(|&b| b == b'\n')
        {
            let at = carry + i;
            let before = if at > 0 { buf[at - 1] } else { prev };
            first_crlf = Some(before == b'\r');
        }
        prev = buf[filled - 1];
        let valid = match std::str::from_utf8(&buf[..filled]) {
            Ok(_) => filled,
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(e) => {
                return Err(Error::malformed(
                    NAME,
                    pos + e.valid_up_to() as u64,
                    "the text is not valid UTF-8",
                ));
            }
        };
        pos += valid as u64;
        buf.copy_within(valid..filled, 0);
        carry = filled - valid;
    }
    if pos != total {
        return Err(Error::malformed(
            NAME,
            pos,
            "the text changed while it was read",
        ));
    }
    Ok(first_crlf)
}

fn read_window(src: &mut dyn Source, from: u64, to: u64) -> Result<Vec<u8>> {
    src.seek(SeekFrom::Start(from))?;
    let mut buf = Vec::new();
    (&mut *src)
        .take(to.saturating_sub(from))
        .read_to_end(&mut buf)?;
    Ok(buf)
}

/// A window as text, with invalid or cut characters replaced.
fn lossy(window: &[u8]) -> String {
    String::from_utf8_lossy(window).into_owned()
}

fn first_line(window: &str) -> Option<&str> {
    window.lines().find(|l| !l.trim().is_empty())
}

fn last_line(window: &str) -> Option<&str> {
    window.lines().rev().find(|l| !l.trim().is_empty())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::io::Cursor;

    use super::*;

    fn add(input: &str, notice: &Notice) -> String {
        let mut out = Vec::new();
        add_notice(
            &mut Cursor::new(input.as_bytes()),
            &mut out,
            notice,
            &Limits::default(),
        )
        .unwrap();
        String::from_utf8(out).unwrap()
    }

    fn notice(wording: Wording, position: Position) -> Notice {
        Notice { wording, position }
    }

    fn found(input: &[u8]) -> bool {
        find_notice(&mut Cursor::new(input), &Limits::default()).unwrap()
    }

    #[test]
    fn start_end_and_both() {
        let n = notice(Wording::Chinese, Position::Start);
        assert_eq!(add("正文。\n", &n), "AI生成\n\n正文。\n");
        let n = notice(Wording::English, Position::End);
        assert_eq!(add("body\n", &n), "body\n\nAI-generated\n");
        assert_eq!(add("body", &n), "body\n\nAI-generated\n");
        assert_eq!(add("body\n\n", &n), "body\n\nAI-generated\n");
        let n = notice(Wording::Both, Position::Both);
        assert_eq!(
            add("a\nb\n", &n),
            "AI生成 / AI-generated\n\na\nb\n\nAI生成 / AI-generated\n"
        );
        assert_eq!(add("", &n), "AI生成 / AI-generated\n");
        assert_eq!(
            add("AI生成 / AI-generated\n", &n),
            "AI生成 / AI-generated\n"
        );
    }

    #[test]
    fn front_matter_bom_and_crlf() {
        let n = notice(Wording::Chinese, Position::Both);
        let fm = "---\nAIGC: '{}'\n---\n# 标题\n";
        assert_eq!(
            add(fm, &n),
            "---\nAIGC: '{}'\n---\nAI生成\n\n# 标题\n\nAI生成\n"
        );
        let crlf = "\u{feff}---\r\ntitle: x\r\n---\r\nline1\r\nline2";
        assert_eq!(
            add(crlf, &n),
            "\u{feff}---\r\ntitle: x\r\n---\r\nAI生成\r\n\r\nline1\r\nline2\r\n\r\nAI生成\r\n"
        );
        let bom = "\u{feff}x\r\ny\r\n";
        assert_eq!(
            add(bom, &n),
            "\u{feff}AI生成\r\n\r\nx\r\ny\r\n\r\nAI生成\r\n"
        );
        // Front matter with nothing after it.
        assert_eq!(add("---\na: 1\n---\n", &n), "---\na: 1\n---\nAI生成\n");
    }

    #[test]
    fn idempotent() {
        for input in [
            "",
            "x",
            "正文\n",
            "---\na: 1\n---\nbody\r\n",
            "\u{feff}a\r\n\r\n",
        ] {
            for position in [Position::Start, Position::End, Position::Both] {
                for wording in [
                    Wording::Chinese,
                    Wording::English,
                    Wording::Both,
                    Wording::Custom("本文由人工智能合成".into()),
                ] {
                    let n = notice(wording, position);
                    let once = add(input, &n);
                    assert_eq!(add(&once, &n), once, "{input:?} {n:?}");
                }
            }
        }
        // A standard notice already in place counts, whichever wording is asked for.
        let once = add("x\n", &notice(Wording::English, Position::Start));
        assert_eq!(add(&once, &notice(Wording::Chinese, Position::Start)), once);
        // Only the start had one: the end gets one.
        let both = add(&once, &notice(Wording::Chinese, Position::Both));
        assert_eq!(both, "AI-generated\n\nx\n\nAI生成\n");
    }

    #[test]
    fn custom_wording_is_checked() {
        let ok = notice(Wording::Custom("【人工智能生成】".into()), Position::Start);
        assert_eq!(add("x\n", &ok), "【人工智能生成】\n\nx\n");
        for bad in [
            "Made by a machine",
            "AI",
            "生成",
            "AI生成\n第二行",
            " AI生成",
        ] {
            let n = notice(Wording::Custom(bad.into()), Position::Start);
            let r = add_notice(
                &mut Cursor::new(b"x\n"),
                &mut Vec::new(),
                &n,
                &Limits::default(),
            );
            assert!(matches!(r, Err(Error::Label(_))), "{bad}: {r:?}");
        }
    }

    #[test]
    fn refuses_invalid_utf8_before_writing() {
        let n = Notice::default();
        for bad in [&b"ok\xff\n"[..], b"cut \xe7\x94", b"\xc0\x80"] {
            let mut out = Vec::new();
            let r = add_notice(&mut Cursor::new(bad), &mut out, &n, &Limits::default());
            assert!(matches!(r, Err(Error::Malformed { .. })), "{r:?}");
            assert!(out.is_empty());
        }
        // A character across the 64 KiB block boundary is fine.
        let mut long = "a".repeat(64 * 1024 - 1);
        long.push_str("生成\n");
        let out = add(&long, &n);
        assert!(out.ends_with("生成\n") && out.starts_with(BILINGUAL));
    }

    #[test]
    fn finds_notices() {
        assert!(found("AI生成\n\n正文".as_bytes()));
        assert!(found(b"Text.\n\nThis content is AI-generated.\n"));
        assert!(found("> **本内容由人工智能合成**\r\n".as_bytes()));
        assert!(found(b"Generated by AI\n"));
        assert!(!found("普通的文章，没有标识。\n".as_bytes()));
        assert!(!found(b"He SAID it was generated.\n"));
        assert!(!found(b""));
        // The AIGC entry of the front matter is not a notice.
        assert!(!found(
            "---\nAIGC: '{\"x\":\"AI生成\"}'\n---\nbody\n".as_bytes()
        ));
        // Only the ends of the file are searched.
        let mut middle = "x\n".repeat(5000);
        middle.push_str("AI生成\n");
        middle.push_str(&"y\n".repeat(5000));
        assert!(!found(middle.as_bytes()));
        let mut end = "x\n".repeat(5000);
        end.push_str("AI生成\n");
        assert!(found(end.as_bytes()));
        // A long paragraph that mentions AI generation is not a notice.
        let para = format!("{}AI生成{}", "字".repeat(200), "字".repeat(200));
        assert!(!found(para.as_bytes()));
        // Not UTF-8: lenient.
        assert!(found(b"\xff\xfe\nAI-generated\n"));
    }
}
