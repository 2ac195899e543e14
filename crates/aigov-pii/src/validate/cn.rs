//! Chinese identifiers.

/// What a resident identity number says about its holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResidentId {
    /// Birth date (year, month, day).
    pub birth: (u16, u8, u8),
    /// Whether the sequence code is odd (male).
    pub male: bool,
    /// 18 digits with a check character (false: legacy 15-digit number).
    pub with_check: bool,
    /// Hong Kong, Macao or Taiwan residence permit (area 810000/820000/830000).
    pub residence_permit: bool,
    /// Foreigner's permanent residence identity card (2023 format, starting with 9).
    pub foreigner_permanent_residence: bool,
}

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: &[u8; 11] = b"10X98765432";

fn valid_date(y: u16, m: u8, d: u8) -> bool {
    let leap = (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400);
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d) && (1900..=2100).contains(&y)
}

fn num(b: &[u8]) -> u32 {
    b.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0'))
}

/// Validates a resident identity number (GB 11643-1999): 18 characters with the ISO 7064
/// MOD 11-2 check character (also used by HK/Macao/Taiwan residence permits and the 2023
/// foreigner permanent residence card), or a legacy 15-digit number (no check digit, 2-digit
/// year 19xx). The birth date must exist.
pub fn resident_id(s: &str) -> Option<ResidentId> {
    let b = s.as_bytes();
    match b.len() {
        18 => {
            if !b[..17].iter().all(u8::is_ascii_digit) {
                return None;
            }
            let sum: u32 = b[..17]
                .iter()
                .zip(WEIGHTS)
                .map(|(d, w)| u32::from(d - b'0') * w)
                .sum();
            if b[17].to_ascii_uppercase() != CHECK[(sum % 11) as usize] {
                return None;
            }
            let (y, m, d) = (
                num(&b[6..10]) as u16,
                num(&b[10..12]) as u8,
                num(&b[12..14]) as u8,
            );
            if !valid_date(y, m, d) || b[0] == b'0' {
                return None;
            }
            let area = num(&b[0..6]);
            Some(ResidentId {
                birth: (y, m, d),
                male: num(&b[14..17]) % 2 == 1,
                with_check: true,
                residence_permit: matches!(area, 810000 | 820000 | 830000),
                foreigner_permanent_residence: b[0] == b'9',
            })
        }
        15 => {
            if !b.iter().all(u8::is_ascii_digit) || b[0] == b'0' {
                return None;
            }
            let (y, m, d) = (
                1900 + num(&b[6..8]) as u16,
                num(&b[8..10]) as u8,
                num(&b[10..12]) as u8,
            );
            if !valid_date(y, m, d) {
                return None;
            }
            Some(ResidentId {
                birth: (y, m, d),
                male: num(&b[12..15]) % 2 == 1,
                with_check: false,
                residence_permit: false,
                foreigner_permanent_residence: false,
            })
        }
        _ => None,
    }
}

const USCC_ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// Checks a Unified Social Credit Code (GB 32100-2015): 18 characters of its alphabet with the
/// mod-31 check character. Returns what is wrong.
pub fn uscc_check(code: &str) -> Result<(), String> {
    let b = code.as_bytes();
    if b.len() != 18 {
        return Err(format!(
            "a Unified Social Credit Code has 18 characters, '{code}' has {}",
            code.chars().count()
        ));
    }
    let mut sum = 0;
    for (i, c) in b.iter().enumerate() {
        let Some(v) = USCC_ALPHABET.iter().position(|a| a == c) else {
            return Err(format!(
                "character {} of '{code}' is not allowed in a Unified Social Credit Code",
                i + 1
            ));
        };
        if i < 17 {
            sum += USCC_WEIGHTS[i] * v as u32;
        } else {
            let expected = USCC_ALPHABET[((31 - sum % 31) % 31) as usize];
            if *c != expected {
                return Err(format!(
                    "check character of '{code}' is '{}', expected '{}'",
                    *c as char, expected as char
                ));
            }
        }
    }
    Ok(())
}

/// Checks the organisation code embedded in a USCC (characters 9–17, GB 11714): weights
/// 3 7 9 10 5 8 4 2 over the first eight (digits, or letters A=10 … Z=35), check character
/// 11 − (sum mod 11), written `X` for 10 and `0` for 11.
pub fn uscc_org_code(code: &str) -> bool {
    let Some(org) = code.as_bytes().get(8..17) else {
        return false;
    };
    let val = |c: u8| match c {
        b'0'..=b'9' => Some(u32::from(c - b'0')),
        b'A'..=b'Z' => Some(u32::from(c - b'A') + 10),
        _ => None,
    };
    let mut sum = 0;
    for (c, w) in org[..8].iter().zip([3, 7, 9, 10, 5, 8, 4, 2]) {
        match val(*c) {
            Some(v) => sum += v * w,
            None => return false,
        }
    }
    let check = match 11 - sum % 11 {
        10 => b'X',
        11 => b'0',
        d => b'0' + d as u8,
    };
    org[8] == check
}

/// Whether `code` is a valid Unified Social Credit Code.
pub fn uscc(code: &str) -> bool {
    uscc_check(code).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn organisation_code_inside_uscc() {
        assert!(uscc_org_code("91110000600037341L"));
        assert!(!uscc_org_code("91110000600037342L"));
        assert!(!uscc_org_code("short"));
    }

    fn with_check(first17: &str) -> String {
        let sum: u32 = first17
            .bytes()
            .zip(WEIGHTS)
            .map(|(d, w)| u32::from(d - b'0') * w)
            .sum();
        format!("{first17}{}", CHECK[(sum % 11) as usize] as char)
    }

    #[test]
    fn resident_ids() {
        // The GB 11643 worked example.
        let id = resident_id("11010519491231002X").unwrap();
        assert_eq!(id.birth, (1949, 12, 31));
        assert!(!id.male);
        assert!(resident_id("11010519491231002x").is_some());
        assert!(resident_id("110105194912310021").is_none(), "wrong check");
        assert!(
            resident_id(&with_check("11010519490230002")).is_none(),
            "30 February"
        );
        assert!(
            resident_id(&with_check("11010520000229001")).is_some(),
            "leap day 2000"
        );
        assert!(
            resident_id(&with_check("11010519000229001")).is_none(),
            "1900 is not leap"
        );
        let hk = resident_id(&with_check("81000019900101001")).unwrap();
        assert!(hk.residence_permit && hk.male);
        assert!(
            resident_id(&with_check("93000019900101001"))
                .unwrap()
                .foreigner_permanent_residence
        );
        let old = resident_id("110105491231002").unwrap();
        assert_eq!((old.birth, old.with_check), ((1949, 12, 31), false));
        assert!(resident_id("110105491331002").is_none(), "month 13");
        for bad in [
            "",
            "1101051949123100",
            "11010519491231002XX",
            "1101051949123100a2",
        ] {
            assert!(resident_id(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn uscc_codes() {
        assert!(uscc("91110000600037341L"));
        assert!(
            uscc_check("91110000600037341M")
                .unwrap_err()
                .contains("expected 'L'")
        );
        assert!(!uscc("9111000060003734"));
        assert!(
            uscc_check("91110000600037341I")
                .unwrap_err()
                .contains("not allowed")
        );
    }
}
