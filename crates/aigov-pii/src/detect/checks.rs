//! Checks run on candidates after the regex pass: validators, boundaries, trimming.

use super::patterns::Check;
use crate::validate;

/// What a check says about a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Confirmed by a checksum, the numbering plan or a parser: the pattern's `confirmed` score.
    Confirmed,
    /// Right shape, nothing to confirm: the pattern's base score.
    Plausible,
    /// Kept only when a context word is near (weak shape or failed checksum).
    NeedsContext,
    /// Not this entity.
    Invalid,
}

/// Copies the ASCII digits (and a trailing `X`) of `s` into `buf`; `None` if more than fit.
fn compact<'a>(s: &str, buf: &'a mut [u8; 40]) -> Option<&'a str> {
    let mut n = 0;
    for b in s.bytes() {
        if b.is_ascii_digit() || b == b'X' || b == b'x' {
            *buf.get_mut(n)? = b;
            n += 1;
        }
    }
    std::str::from_utf8(&buf[..n]).ok()
}

fn is_word(b: Option<&u8>) -> bool {
    b.is_some_and(|b| b.is_ascii_alphanumeric())
}

/// Runs the check for a candidate at `hay[start..end]`; returns the verdict and the end of
/// the finding (some checks trim or extend the match).
pub(crate) fn check(kind: Check, hay: &str, start: usize, end: usize) -> (Verdict, usize) {
    let b = hay.as_bytes();
    let cand = &hay[start..end];
    // No identifier continues into an ASCII letter or digit on either side.
    if kind != Check::Url && (is_word(b.get(end)) || (start > 0 && is_word(b.get(start - 1)))) {
        return (Verdict::Invalid, end);
    }
    let mut buf = [0u8; 40];
    let v = match kind {
        Check::ResidentId18 => match validate::resident_id(cand) {
            Some(id) if id.with_check => Verdict::Confirmed,
            _ => Verdict::Invalid,
        },
        Check::ResidentId15 => match validate::resident_id(cand) {
            Some(_) => Verdict::NeedsContext,
            None => Verdict::Invalid,
        },
        // The mod-31 check alone passes one random 18-digit string in 31: a USCC is confirmed
        // when its embedded organisation code (GB 11714) checks too, plausible otherwise.
        Check::Uscc if !validate::uscc(cand) => Verdict::Invalid,
        Check::Uscc if validate::uscc_org_code(cand) => Verdict::Confirmed,
        Check::Uscc => Verdict::NeedsContext,
        Check::BankCard => match compact(cand, &mut buf) {
            Some(d) if validate::luhn(d) => Verdict::Confirmed,
            Some(_) => Verdict::NeedsContext,
            None => Verdict::Invalid,
        },
        Check::CreditCard => match compact(cand, &mut buf) {
            Some(d)
                if (12..=19).contains(&d.len())
                    && issuer(d)
                    && validate::luhn(d)
                    && !id_shaped(d) =>
            {
                Verdict::Confirmed
            }
            _ => Verdict::Invalid,
        },

        Check::Mobile => match compact(cand, &mut buf) {
            Some(d) => yes(mobile(d), Verdict::Plausible),
            None => Verdict::Invalid,
        },
        // Written without a separator, a landline is a bare digit run: context needed.
        Check::Landline if !landline(cand) => Verdict::Invalid,
        Check::Landline if cand.contains(['-', ' ', '(']) => Verdict::Plausible,
        Check::Landline => Verdict::NeedsContext,
        Check::Passport => {
            if cand.starts_with(['E', 'G']) {
                Verdict::Plausible
            } else {
                Verdict::NeedsContext
            }
        }
        Check::Plate => Verdict::Plausible,
        Check::Iban => yes(validate::iban(cand), Verdict::Confirmed),
        Check::Email => email(cand),
        Check::Phone => return phone(hay, start, end),
        Check::Ipv4 => yes(ipv4(b, start, end), Verdict::Confirmed),
        Check::Ipv6 => {
            let ok = cand.parse::<std::net::Ipv6Addr>().is_ok()
                && !is_word(b.get(end))
                && b.get(end) != Some(&b':');
            yes(ok, Verdict::Confirmed)
        }
        Check::Mac => yes(mac(cand), Verdict::Confirmed),
        Check::SsnSeparated => {
            let cb = cand.as_bytes();
            let consistent = cb.get(3) == cb.get(6);
            yes(consistent && validate::us_ssn(cand), Verdict::Plausible)
        }
        Check::SsnCompact => yes(validate::us_ssn(cand), Verdict::NeedsContext),
        Check::Crypto => yes(validate::bitcoin_address(cand), Verdict::Confirmed),
        Check::Url => return url(hay, start, end),
        Check::PrivateKey => return private_key(hay, end),
        Check::ApiKey => Verdict::Plausible,
        Check::Jwt => jwt(cand),
    };
    (v, end)
}

fn yes(ok: bool, v: Verdict) -> Verdict {
    if ok { v } else { Verdict::Invalid }
}

/// Issuer identification ranges of payment cards (ISO/IEC 7812 prefixes in public use) with
/// the lengths each brand issues.
fn issuer(d: &str) -> bool {
    let n = |k: usize| d.get(..k).and_then(|p| p.parse::<u32>().ok()).unwrap_or(0);
    let len = d.len();
    let any = (12..=19).contains(&len);
    match d.as_bytes().first() {
        Some(b'4') => matches!(len, 13 | 16 | 19), // Visa
        Some(b'5') => {
            ((51..=55).contains(&n(2)) && len == 16) // Mastercard
                || (n(2) == 50 || (56..=58).contains(&n(2))) && any // Maestro
        }
        Some(b'2') => {
            ((2221..=2720).contains(&n(4)) && len == 16) // Mastercard 2-series
                || ((2200..=2204).contains(&n(4)) && (16..=19).contains(&len)) // Mir
                || (n(4) == 2131 && len == 15) // JCB (legacy)
        }
        Some(b'3') => {
            (matches!(n(2), 34 | 37) && len == 15) // American Express
                || ((matches!(n(2), 36 | 38 | 39) || (300..=305).contains(&n(3)) || n(4) == 3095) && (14..=19).contains(&len)) // Diners
                || (n(2) == 35 && (15..=19).contains(&len)) // JCB
        }
        Some(b'6') => {
            (n(4) == 6011 || (644..=649).contains(&n(3)) || n(2) == 65) && (16..=19).contains(&len) // Discover
                || n(2) == 60 && len == 16 // RuPay
                || n(2) == 62 && (16..=19).contains(&len) // UnionPay
                || matches!(n(4), 6304 | 6390 | 6759 | 6761 | 6762 | 6763) && any // Maestro
                || n(3) == 650 && any // Verve
        }
        Some(b'1') => n(4) == 1800 && len == 15, // JCB (legacy)
        Some(b'8') => matches!(n(2), 81 | 82) && (16..=19).contains(&len), // RuPay, UnionPay 81
        Some(b'9') => n(4) == 9792 && len == 16, // Troy
        Some(b'0') => n(4) == 604 && any,        // Maestro (0604)
        _ => false,
    }
}

/// An 18-digit number laid out like a resident ID (province code, birth date 1900–2099): a
/// mistyped ID is far likelier than one of the rare 18-digit cards.
fn id_shaped(d: &str) -> bool {
    let b = d.as_bytes();
    let num = |r: std::ops::Range<usize>| d.get(r).and_then(|p| p.parse::<u32>().ok()).unwrap_or(0);
    b.len() == 18
        && (11..=82).contains(&num(0..2))
        && (1900..=2099).contains(&num(6..10))
        && (1..=12).contains(&num(10..12))
        && (1..=31).contains(&num(12..14))
}

/// Chinese mobile: 11 digits after an optional 86/0086 prefix, in an allocated number segment.
fn mobile(d: &str) -> bool {
    let d = d
        .strip_prefix("0086")
        .or_else(|| (d.len() == 13).then(|| d.strip_prefix("86")).flatten())
        .unwrap_or(d);
    let b = d.as_bytes();
    if b.len() != 11 || b[0] != b'1' {
        return false;
    }
    match (b[1], b[2]) {
        (b'3' | b'8', _) => true,
        (b'4', c) => matches!(c, b'0' | b'1' | b'4'..=b'9'),
        (b'5', c) => c != b'4',
        (b'6', c) => matches!(c, b'2' | b'5' | b'6' | b'7'),
        (b'7', c) => c != b'9',
        (b'9', c) => c != b'4',
        _ => false,
    }
}

/// Chinese landline: area code 010/02x (8-digit number) or 0xxx (7 or 8 digits).
fn landline(s: &str) -> bool {
    let mut digits = [0u8; 40];
    let Some(d) = compact(s, &mut digits) else {
        return false;
    };
    let b = d.as_bytes();
    // Where the area code ends: at the first separator or ')'.
    let area_len = s.trim_start_matches('(').find([')', ' ', '-']).unwrap_or(
        if b.get(1) == Some(&b'1') || b.get(1) == Some(&b'2') {
            3
        } else {
            4
        },
    );
    let rest = b.len().saturating_sub(area_len);
    match (area_len, b.get(1)) {
        (3, Some(b'1' | b'2')) => rest == 8 && (b[1] == b'2' || b[2] == b'0'),
        (4, Some(b'3'..=b'9')) => rest == 7 || rest == 8,
        _ => false,
    }
}

/// Top-level domains accepted as confirmed: every two-letter country code and these.
const TLDS: &[&str] = &[
    "com", "org", "net", "edu", "gov", "mil", "int", "info", "biz", "name", "pro", "aero", "coop",
    "museum", "mobi", "asia", "tel", "travel", "jobs", "app", "dev", "xyz", "online", "site",
    "top", "shop", "store", "tech", "cloud", "email", "blog", "news", "live", "club", "vip",
    "wang", "xin", "ltd", "group", "company", "work", "world", "today", "life", "space", "art",
];

fn email(s: &str) -> Verdict {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return Verdict::Invalid;
    };
    if local.len() > 64 || domain.len() > 253 || local.contains("..") || local.ends_with('.') {
        return Verdict::Invalid;
    }
    if domain.split('.').any(|l| l.is_empty() || l.len() > 63) {
        return Verdict::Invalid;
    }
    let tld = domain.rsplit('.').next().unwrap_or("");
    let known = tld.len() == 2 || TLDS.iter().any(|t| t.eq_ignore_ascii_case(tld));
    if known {
        Verdict::Confirmed
    } else {
        Verdict::Plausible
    }
}

fn ipv4(b: &[u8], start: usize, end: usize) -> bool {
    // "1.2.3.4.5" (a version number) is not an address.
    let dotted_digit =
        |i: usize, j: usize| b.get(i) == Some(&b'.') && b.get(j).is_some_and(u8::is_ascii_digit);
    if dotted_digit(end, end + 1) || (start >= 2 && dotted_digit(start - 1, start - 2)) {
        return false;
    }
    let Ok(s) = std::str::from_utf8(&b[start..end]) else {
        return false;
    };
    s.split('.').all(|o| {
        !o.is_empty()
            && o.len() <= 3
            && !(o.len() > 1 && o.starts_with('0'))
            && o.parse::<u16>().is_ok_and(|v| v <= 255)
    })
}

fn mac(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() == 14 {
        return true; // Cisco dotted form, fully constrained by the pattern
    }
    let sep = b[2];
    b.iter().skip(2).step_by(3).all(|&c| c == sep) && !s.eq_ignore_ascii_case("00:00:00:00:00:00")
}

/// Phone numbers: the candidate, or its longest prefix ending at a digit group, that
/// libphonenumber's metadata says is a valid number.
fn phone(hay: &str, start: usize, end: usize) -> (Verdict, usize) {
    let b = hay.as_bytes();
    if start > 0 && is_word(b.get(start - 1)) {
        return (Verdict::Invalid, end);
    }
    let mut e = end;
    loop {
        let cand = &hay[start..e];
        if !is_word(b.get(e)) && valid_phone(cand) {
            return (Verdict::Confirmed, e);
        }
        // Drop the last group: back to the previous separator.
        match cand.rfind([' ', '-', '.', ')', '(']) {
            Some(i) if i > 0 => {
                e = start + cand[..i].trim_end_matches([' ', '-', '.', '(']).len();
                if e - start < 7 {
                    return (Verdict::Invalid, end);
                }
            }
            _ => return (Verdict::Invalid, end),
        }
    }
}

fn valid_phone(cand: &str) -> bool {
    let mut buf = [0u8; 40];
    let Some(digits) = compact(cand, &mut buf) else {
        return false;
    };
    if !(7..=15).contains(&digits.len()) || digits.contains(['X', 'x']) {
        return false;
    }
    if cand.starts_with('+') {
        return super::phone::valid_international(digits);
    }
    // National numbers must look like phone numbers (grouped, at least ten digits), not bare
    // digit runs or short codes; dotted ones only in the North American 3.3.4 layout (dotted
    // quads and version strings are not phone numbers).
    if digits.len() < 10 || !cand.contains([' ', '-', '.', '(']) {
        return false;
    }
    if cand.contains('.') {
        let g: Vec<usize> = cand.split('.').map(str::len).collect();
        if g != [3, 3, 4] || !cand.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return false;
        }
    }
    // The regions Presidio tries by default (US, UK, DE, FR, IN, CA share +1, AU).
    [1, 44, 49, 33, 91, 61]
        .into_iter()
        .any(|code| super::phone::valid_in(code, digits))
}

fn url(hay: &str, start: usize, end: usize) -> (Verdict, usize) {
    let b = hay.as_bytes();
    if start > 0 && is_word(b.get(start - 1)) {
        return (Verdict::Invalid, end);
    }
    let mut s = &hay[start..end];
    // Trailing punctuation belongs to the sentence; a ')' only when unbalanced.
    loop {
        let t = s.trim_end_matches(['.', ',', ';', ':', '!', '?', '\'', '"']);
        let t = if t.ends_with(')') && t.matches('(').count() < t.matches(')').count() {
            &t[..t.len() - 1]
        } else {
            t
        };
        if t.len() == s.len() {
            break;
        }
        s = t;
    }
    let host = s.split("://").nth(1).unwrap_or(s);
    let host = host.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit('@').next().unwrap_or("");
    let ok = host.contains('.') || host.starts_with("localhost") || host.starts_with('[');
    (yes(ok, Verdict::Plausible), start + s.len())
}

/// A PEM private key: the block up to its END line (searched within 64 KiB), or the header
/// alone when the block is cut off.
fn private_key(hay: &str, end: usize) -> (Verdict, usize) {
    let limit = (end + 64 * 1024).min(hay.len());
    let rest = &hay.as_bytes()[end..limit];
    if let Some(i) = memchr::memmem::find(rest, b"-----END ") {
        let after = end + i + 9;
        if let Some(j) = memchr::memmem::find(&hay.as_bytes()[after..limit], b"-----") {
            let label = &hay[after..after + j];
            if label.ends_with("PRIVATE KEY") {
                return (Verdict::Confirmed, after + j + 5);
            }
        }
    }
    (Verdict::Plausible, end)
}

/// A JWT: the header decodes to a JSON object naming its algorithm.
fn jwt(s: &str) -> Verdict {
    let header = s.split('.').next().unwrap_or("");
    let mut out = [0u8; 192];
    match base64url(header.as_bytes(), &mut out) {
        Some(n) => {
            let h = &out[..n];
            yes(
                h.starts_with(b"{") && memchr::memmem::find(h, b"\"alg\"").is_some(),
                Verdict::Confirmed,
            )
        }
        None => Verdict::Plausible,
    }
}

/// Decodes unpadded base64url into `out`; `None` if invalid or too long.
fn base64url(s: &[u8], out: &mut [u8]) -> Option<usize> {
    let mut acc = 0u32;
    let mut bits = 0;
    let mut n = 0;
    for &c in s {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            *out.get_mut(n)? = (acc >> bits) as u8;
            acc &= (1 << bits) - 1;
            n += 1;
        }
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuers() {
        for ok in [
            "4111111111111111",
            "5500000000000004",
            "2223000048400011",
            "378282246310005",
            "6011111111111117",
            "3530111333300000",
            "30569309025904",
            "6212345678901265",
            "060400000000000",
        ] {
            assert!(issuer(ok), "{ok}");
        }
        for bad in [
            "7111111111111111",
            "1111111111111111",
            "9111111111111111",
            "370113197702132197",
            "41111111111111",
        ] {
            assert!(!issuer(bad), "{bad}");
        }
    }

    #[test]
    fn mobiles_and_landlines() {
        assert!(mobile("13812345678"));
        assert!(mobile("8613812345678"));
        assert!(mobile("008613812345678"));
        assert!(!mobile("12812345678"));
        assert!(!mobile("15412345678"));
        assert!(landline("010-12345678"));
        assert!(landline("(0755)12345678"));
        assert!(landline("0571 8765432"));
        assert!(!landline("010-1234567"));
        assert!(!landline("0012345678"));
    }

    #[test]
    fn jwt_header() {
        assert_eq!(
            jwt("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"),
            Verdict::Confirmed
        );
        assert_eq!(
            jwt("eyJub3RoaW5nIjoxfQ.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"),
            Verdict::Invalid
        );
    }
}
