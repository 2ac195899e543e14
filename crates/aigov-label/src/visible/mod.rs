//! Explicit (visible or audible) labels for AI-generated content: the notice a person sees or
//! hears, as opposed to the implicit `AIGC` metadata label ([`crate::gb45438`]).
//!
//! GB 45438-2025 and the CAC Labelling Measures (art. 4) ask for:
//! - **text** ([`text`]): a notice at the beginning and/or the end of the text;
//! - **images** ([`image`]): a notice drawn on the picture whose text height is at least 5% of
//!   the shorter side of the image;
//! - **audio** ([`audio`]): a spoken notice, or the rhythm *short-long-short-short* (Morse
//!   "AI": `·– ··`), at the start (and optionally the end).
//!
//! The wording must contain "AI" or "人工智能" and "生成" or "合成"; the defaults are
//! [`CHINESE`] ("AI生成") and [`ENGLISH`] ("AI-generated"). [`check_wording`] applies the rule
//! to custom wordings.
//!
//! Every writer here changes the media itself (characters, pixels or samples), so the digest
//! that an implicit label's signature covers changes too: add the visible notice first, then
//! the implicit label ([`crate::content`]) and any C2PA manifest.

pub mod audio;
pub mod image;
pub mod text;

use crate::{Error, Result};

/// The default Chinese notice.
pub const CHINESE: &str = "AI生成";
/// The default English notice.
pub const ENGLISH: &str = "AI-generated";
/// Both default notices on one line.
pub const BILINGUAL: &str = "AI生成 / AI-generated";

/// Whether `s` names artificial intelligence ("AI" as a word, "AIGC", or "人工智能") and
/// generation or synthesis ("生成" or "合成"), as the standard asks of a notice's wording.
///
/// "AI" counts only where no other ASCII letter touches it (so "AI生成", "AI-generated" and
/// "由AI合成" count; "SAID" and "MAIN" do not), or as the start of "AIGC".
pub fn wording_ok(s: &str) -> bool {
    names_ai(s) && (s.contains("生成") || s.contains("合成"))
}

/// Checks a custom wording with [`wording_ok`]; the error says what is missing.
pub fn check_wording(s: &str) -> Result<()> {
    let mut missing = Vec::new();
    if !names_ai(s) {
        missing.push("\"AI\" or \"人工智能\"");
    }
    if !(s.contains("生成") || s.contains("合成")) {
        missing.push("\"生成\" or \"合成\"");
    }
    if missing.is_empty() {
        return Ok(());
    }
    Err(Error::Label(format!(
        "the notice {s:?} does not contain {}: GB 45438 asks the wording of an explicit label \
         to name AI (\"AI\" or \"人工智能\") and generation or synthesis (\"生成\" or \"合成\"), \
         e.g. \"{CHINESE}\"",
        missing.join(" nor ")
    )))
}

/// Whether `s` contains "人工智能", or "AI" as a word (no ASCII letter on either side) or as
/// the start of "AIGC".
pub(crate) fn names_ai(s: &str) -> bool {
    if s.contains("人工智能") {
        return true;
    }
    let b = s.as_bytes();
    let mut from = 0;
    while let Some(i) = s[from..].find("AI").map(|i| i + from) {
        let before = i.checked_sub(1).map(|j| b[j]);
        let after = b.get(i + 2).copied();
        let letter = |c: Option<u8>| c.is_some_and(|c| c.is_ascii_alphabetic());
        if !letter(before) && (!letter(after) || s[i..].starts_with("AIGC")) {
            return true;
        }
        from = i + 2;
    }
    false
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn wording_rule() {
        for ok in [
            CHINESE,
            BILINGUAL,
            "本内容由人工智能生成",
            "由AI合成",
            "AIGC生成内容",
            "(AI) 生成",
        ] {
            assert!(wording_ok(ok), "{ok}");
            assert!(check_wording(ok).is_ok(), "{ok}");
        }
        for bad in [
            ENGLISH,
            "SAID 生成",
            "MAIN合成",
            "人工智能",
            "生成",
            "",
            "ai生成",
        ] {
            assert!(!wording_ok(bad), "{bad}");
        }
        let e = check_wording("hello").unwrap_err().to_string();
        assert!(
            e.contains("\"AI\" or \"人工智能\" nor \"生成\" or \"合成\""),
            "{e}"
        );
        let e = check_wording("AI made").unwrap_err().to_string();
        assert!(
            e.contains("\"生成\" or \"合成\"") && !e.contains("nor"),
            "{e}"
        );
    }
}
