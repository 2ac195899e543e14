//! International identifiers.

use sha2::{Digest, Sha256};

/// Luhn check over the digits of `s` (separators must be removed first).
pub fn luhn(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 2 || !b.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let sum: u32 = b
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let d = u32::from(d - b'0');
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// IBAN lengths by country (ISO 13616 registry).
const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AE", 23),
    ("AL", 28),
    ("AT", 20),
    ("AZ", 28),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BI", 27),
    ("BR", 29),
    ("BY", 28),
    ("CH", 21),
    ("CR", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DJ", 27),
    ("DK", 18),
    ("DO", 28),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FK", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GE", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("GT", 28),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IQ", 23),
    ("IS", 26),
    ("IT", 27),
    ("JO", 30),
    ("KW", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LC", 32),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("LY", 25),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MN", 20),
    ("MR", 27),
    ("MT", 31),
    ("MU", 30),
    ("NI", 28),
    ("NL", 18),
    ("NO", 15),
    ("OM", 23),
    ("PK", 24),
    ("PL", 28),
    ("PS", 29),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("RS", 22),
    ("RU", 33),
    ("SA", 24),
    ("SC", 31),
    ("SD", 18),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("SO", 23),
    ("ST", 25),
    ("SV", 28),
    ("TL", 23),
    ("TN", 24),
    ("TR", 26),
    ("UA", 29),
    ("VA", 22),
    ("VG", 24),
    ("XK", 20),
    ("YE", 30),
];

/// Validates an IBAN (spaces allowed): the country's length and the ISO 7064 mod-97 check.
pub fn iban(s: &str) -> bool {
    let compact: Vec<u8> = s
        .bytes()
        .filter(|b| *b != b' ')
        .map(|b| b.to_ascii_uppercase())
        .collect();
    if compact.len() < 5 || !compact.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    let country = std::str::from_utf8(&compact[..2]).unwrap_or("");
    let Some(&(_, len)) = IBAN_LENGTHS.iter().find(|(c, _)| *c == country) else {
        return false;
    };
    if compact.len() != len || !compact[2..4].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let mut rem: u32 = 0;
    for &c in compact[4..].iter().chain(&compact[..4]) {
        let v = if c.is_ascii_digit() {
            u32::from(c - b'0')
        } else {
            u32::from(c - b'A') + 10
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

/// Validates a US Social Security number (digits only, or with `-`/space separators) with the
/// invalid ranges Presidio applies: area 000, 666 or 9xx; group 00; serial 0000; a single
/// repeated digit; well-known sample numbers.
pub fn us_ssn(s: &str) -> bool {
    let d: Vec<u8> = s
        .bytes()
        .filter(|b| !matches!(b, b'-' | b' ' | b'.'))
        .collect();
    if d.len() != 9 || !d.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let (area, group, serial) = (&d[..3], &d[3..5], &d[5..]);
    if area == b"000" || area == b"666" || area[0] == b'9' || group == b"00" || serial == b"0000" {
        return false;
    }
    if d.iter().all(|x| *x == d[0]) {
        return false;
    }
    !matches!(&d[..], b"078051120" | b"123456789" | b"219099999")
}

const BASE58: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

fn base58check(s: &str) -> bool {
    let mut bytes: Vec<u8> = Vec::new();
    for c in s.bytes() {
        let Some(mut carry) = BASE58.iter().position(|x| *x == c).map(|v| v as u32) else {
            return false;
        };
        for b in bytes.iter_mut().rev() {
            carry += u32::from(*b) * 58;
            *b = (carry & 0xff) as u8;
            carry >>= 8;
        }
        while carry > 0 {
            bytes.insert(0, (carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    let zeros = s.bytes().take_while(|c| *c == b'1').count();
    let mut full = vec![0u8; zeros];
    full.extend(bytes);
    if full.len() != 25 {
        return false;
    }
    let digest = Sha256::digest(Sha256::digest(&full[..21]));
    digest[..4] == full[21..] && matches!(full[0], 0x00 | 0x05)
}

fn bech32(s: &str) -> bool {
    const CHARSET: &[u8] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    const GEN: [u32; 5] = [
        0x3b6a_57b2,
        0x2650_8e6d,
        0x1ea1_19fa,
        0x3d42_33dd,
        0x2a14_62b3,
    ];
    let lower = s.to_ascii_lowercase();
    if lower != s && s.to_ascii_uppercase() != s {
        return false;
    }
    let Some(pos) = lower.rfind('1') else {
        return false;
    };
    let (hrp, data) = (&lower[..pos], &lower[pos + 1..]);
    if hrp != "bc" || data.len() < 6 || lower.len() > 90 {
        return false;
    }
    let mut values = Vec::with_capacity(hrp.len() * 2 + 1 + data.len());
    values.extend(hrp.bytes().map(|c| u32::from(c >> 5)));
    values.push(0);
    values.extend(hrp.bytes().map(|c| u32::from(c & 31)));
    for c in data.bytes() {
        match CHARSET.iter().position(|x| *x == c) {
            Some(v) => values.push(v as u32),
            None => return false,
        }
    }
    let mut chk: u32 = 1;
    for v in values {
        let top = chk >> 25;
        chk = ((chk & 0x01ff_ffff) << 5) ^ v;
        for (i, g) in GEN.iter().enumerate() {
            if (top >> i) & 1 == 1 {
                chk ^= g;
            }
        }
    }
    // bech32 (witness v0) or bech32m (v1+).
    chk == 1 || chk == 0x2bc8_30a3
}

/// Validates a Bitcoin address: base58check P2PKH/P2SH (`1…`, `3…`) or bech32/bech32m
/// (`bc1…`).
pub fn bitcoin_address(s: &str) -> bool {
    if s.len() >= 4 && s.as_bytes()[..3].eq_ignore_ascii_case(b"bc1") {
        bech32(s)
    } else {
        (26..=35).contains(&s.len()) && base58check(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_numbers() {
        for ok in [
            "4111111111111111",
            "5500005555555559",
            "6212345678901232",
            "79927398713",
        ] {
            assert!(luhn(ok), "{ok}");
        }
        for bad in ["4111111111111112", "", "1", "4111-1111"] {
            assert!(!luhn(bad), "{bad}");
        }
    }

    #[test]
    fn ibans() {
        for ok in [
            "GB82 WEST 1234 5698 7654 32",
            "DE89370400440532013000",
            "FR1420041010050500013M02606",
            "gb82west12345698765432",
        ] {
            assert!(iban(ok), "{ok}");
        }
        for bad in [
            "GB82 WEST 1234 5698 7654 33",
            "DE8937040044053201300",
            "XX89370400440532013000",
            "GB82-WEST",
        ] {
            assert!(!iban(bad), "{bad}");
        }
    }

    #[test]
    fn ssns() {
        assert!(us_ssn("536-90-4399"));
        assert!(us_ssn("536904399"));
        for bad in [
            "000-12-3456",
            "666-12-3456",
            "912-12-3456",
            "536-00-4399",
            "536-90-0000",
            "111-11-1111",
            "078-05-1120",
            "123-45-6789",
            "53690439",
        ] {
            assert!(!us_ssn(bad), "{bad}");
        }
    }

    #[test]
    fn bitcoin() {
        for ok in [
            "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
            "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",
            "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
            "bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297",
        ] {
            assert!(bitcoin_address(ok), "{ok}");
        }
        for bad in [
            "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3",
            "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdr",
            "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNV0",
            "",
            "bc€1qar0srrr7xfkvy5l643lydnw9re5",
            "b€c1qar0srrr7xfkvy5l643lydnw9re5",
        ] {
            assert!(!bitcoin_address(bad), "{bad}");
        }
    }
}
