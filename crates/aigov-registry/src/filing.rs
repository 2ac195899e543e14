//! Filing numbers and organisation codes.
//!
//! A filing number reads `AIG-YYYY-NNNNNN-C`: the year of first submission, a six-digit sequence
//! that restarts each year and is never reused, and a check character computed with ISO 7064
//! MOD 11-2 over the ten digits `YYYYNNNNNN` (`0`–`9` or `X`), so that a mistyped number is
//! caught before any lookup.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A valid filing number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, JsonSchema)]
#[schemars(with = "String")]
pub struct FilingNumber(String);

fn mod11_2(digits: &[u8]) -> char {
    let mut p: u32 = 0;
    for d in digits {
        p = ((p + u32::from(d - b'0')) * 2) % 11;
    }
    let c = (12 - p % 11) % 11;
    if c == 10 {
        'X'
    } else {
        char::from(b'0' + c as u8)
    }
}

impl FilingNumber {
    /// The filing number for sequence `seq` of `year`. `None` if out of range.
    pub fn new(year: i32, seq: u32) -> Option<FilingNumber> {
        if !(1000..=9999).contains(&year) || seq == 0 || seq > 999_999 {
            return None;
        }
        let digits = format!("{year:04}{seq:06}");
        let check = mod11_2(digits.as_bytes());
        Some(FilingNumber(format!("AIG-{year:04}-{seq:06}-{check}")))
    }

    /// Parses and checks a filing number (case-insensitive check character).
    pub fn parse(s: &str) -> Result<FilingNumber, String> {
        let s = s.trim();
        let parts: Vec<&str> = s.split('-').collect();
        let bad = |why: &str| {
            Err(format!(
                "'{s}' is not a filing number: {why} (expected AIG-YYYY-NNNNNN-C)"
            ))
        };
        if parts.len() != 4 || !parts[0].eq_ignore_ascii_case("AIG") {
            return bad("wrong shape");
        }
        let (year, seq, check) = (parts[1], parts[2], parts[3]);
        if year.len() != 4 || seq.len() != 6 || check.len() != 1 {
            return bad("wrong length");
        }
        if !year.bytes().chain(seq.bytes()).all(|b| b.is_ascii_digit()) {
            return bad("year and sequence must be digits");
        }
        let digits = format!("{year}{seq}");
        let expected = mod11_2(digits.as_bytes());
        if !check.eq_ignore_ascii_case(&expected.to_string()) {
            return bad("check character does not match");
        }
        Ok(FilingNumber(format!("AIG-{year}-{seq}-{expected}")))
    }

    /// The number as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FilingNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for FilingNumber {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for FilingNumber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        FilingNumber::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Checks a Unified Social Credit Code (GB 32100-2015); the validator lives in `aigov-pii`.
pub use aigov_pii::validate::uscc_check as check_uscc;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filing_numbers_round_trip_and_catch_typos() {
        for seq in [1, 42, 999_999] {
            let f = FilingNumber::new(2026, seq).unwrap();
            assert_eq!(FilingNumber::parse(f.as_str()).unwrap(), f);
            assert_eq!(FilingNumber::parse(&f.as_str().to_lowercase()).unwrap(), f);
            // Changing one digit of the sequence breaks the check.
            let mut typo = f.as_str().as_bytes().to_vec();
            typo[14] = if typo[14] == b'9' { b'8' } else { typo[14] + 1 };
            let typo = String::from_utf8(typo).unwrap();
            assert!(FilingNumber::parse(&typo).is_err(), "{typo}");
        }
        assert!(FilingNumber::new(2026, 0).is_none());
        assert!(
            FilingNumber::parse("AIG-2026-1-0")
                .unwrap_err()
                .contains("wrong length")
        );
    }
}
