//! Redaction operators and their reversal. Pure: keys are passed in, nothing is read here.
//!
//! Operators, chosen per entity type:
//! - `replace`: `<CN_RESIDENT_ID>`;
//! - `mask`: letters and digits become `*` except the last N (separators are kept);
//! - `redact`: the value is removed;
//! - `hmac`: a keyed pseudonym `<CN_MOBILE:3f2a9c0d1e7b5a64>`, the first 8 bytes of
//!   HMAC-SHA256(k_hmac, entity ‖ 0x00 ‖ value) in hex: deterministic across files and runs
//!   with the same key, so joins still work, and not reversible;
//! - `encrypt`: `<ENC:CN_MOBILE:…>`, base64url of nonce ‖ AES-256-GCM-SIV(k_enc, nonce,
//!   value, aad = entity). The nonce is HMAC-SHA256(k_enc, entity ‖ 0x00 ‖ value)[..12], so
//!   equal values give equal tokens (GCM-SIV is safe under such nonce reuse: it reveals
//!   equality and nothing else). [`restore`] puts the values back; a token that does not
//!   authenticate under the key is left as it is.
//!
//! Both keys are derived from one 32-byte key file: k = HMAC-SHA256(master, label) with the
//! labels `aigov pii hmac v1` and `aigov pii encrypt v1`.

use std::collections::HashMap;
use std::fmt::Write as _;

use aes_gcm_siv::aead::{Aead, KeyInit, Payload};
use aes_gcm_siv::{Aes256GcmSiv, Nonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// A redaction operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    /// `<ENTITY>`.
    Replace,
    /// Mask all letters and digits except the last `keep_last`.
    Mask {
        /// Letters and digits left visible at the end.
        keep_last: usize,
    },
    /// Remove the value.
    Redact,
    /// Keyed HMAC-SHA256 pseudonym.
    Hmac,
    /// Reversible AES-256-GCM-SIV token.
    Encrypt,
}

impl std::str::FromStr for Operator {
    type Err = RedactError;

    /// `replace`, `redact`, `hmac`, `encrypt`, `mask` (keeps 4) or `mask:N`.
    fn from_str(s: &str) -> Result<Self, RedactError> {
        match s {
            "replace" => Ok(Operator::Replace),
            "redact" => Ok(Operator::Redact),
            "hmac" => Ok(Operator::Hmac),
            "encrypt" => Ok(Operator::Encrypt),
            "mask" => Ok(Operator::Mask { keep_last: 4 }),
            _ => match s.strip_prefix("mask:").map(str::parse) {
                Some(Ok(keep_last)) => Ok(Operator::Mask { keep_last }),
                _ => Err(RedactError::Operator(s.to_string())),
            },
        }
    }
}

/// Redaction errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedactError {
    /// An operator name that does not exist.
    #[error("unknown operator {0:?} (expected replace, mask, mask:N, redact, hmac or encrypt)")]
    Operator(String),
    /// `hmac` or `encrypt` chosen without a key.
    #[error("operator {0} needs a key file")]
    MissingKey(&'static str),
    /// A key that is not 32 bytes.
    #[error("a key must be 32 bytes (64 hex digits), got {0} bytes")]
    KeyLength(usize),
}

/// The two keys derived from a master key.
#[derive(Clone)]
pub struct Keys {
    hmac: [u8; 32],
    enc: [u8; 32],
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(..)")
    }
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

impl Keys {
    /// Derives the keys from a 32-byte master key.
    pub fn from_master(master: &[u8]) -> Result<Keys, RedactError> {
        if master.len() != 32 {
            return Err(RedactError::KeyLength(master.len()));
        }
        Ok(Keys {
            hmac: hmac(master, &[b"aigov pii hmac v1"]),
            enc: hmac(master, &[b"aigov pii encrypt v1"]),
        })
    }

    fn cipher(&self) -> Aes256GcmSiv {
        // The key is 32 bytes by construction.
        Aes256GcmSiv::new_from_slice(&self.enc).unwrap_or_else(|_| unreachable!())
    }
}

/// Applies operators to findings.
#[derive(Debug, Clone)]
pub struct Redactor {
    default: Operator,
    per_type: HashMap<String, Operator>,
    keys: Option<Keys>,
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn b64_encode(data: &[u8], out: &mut String) {
    for chunk in data.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(B64[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
}

fn b64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes() {
        let v = B64.iter().position(|x| *x == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

impl Redactor {
    /// A redactor with a default operator, per-type choices (by entity name) and keys.
    pub fn new(
        default: Operator,
        per_type: HashMap<String, Operator>,
        keys: Option<Keys>,
    ) -> Result<Redactor, RedactError> {
        if keys.is_none() {
            for op in std::iter::once(&default).chain(per_type.values()) {
                match op {
                    Operator::Hmac => return Err(RedactError::MissingKey("hmac")),
                    Operator::Encrypt => return Err(RedactError::MissingKey("encrypt")),
                    _ => {}
                }
            }
        }
        Ok(Redactor {
            default,
            per_type,
            keys,
        })
    }

    /// The operator for an entity.
    pub fn operator(&self, entity: &str) -> Operator {
        self.per_type.get(entity).copied().unwrap_or(self.default)
    }

    /// Appends the replacement of `value` (an `entity`) to `out`. For `encrypt`, `raw` is what
    /// [`restore`] will put back (the value as written in the file, escapes included).
    pub fn replacement(&self, entity: &str, value: &str, raw: &str, out: &mut String) {
        match self.operator(entity) {
            Operator::Replace => {
                let _ = write!(out, "<{entity}>");
            }
            Operator::Redact => {}
            Operator::Mask { keep_last } => {
                let total = value.chars().filter(|c| c.is_alphanumeric()).count();
                let mut seen = 0;
                for c in value.chars() {
                    if c.is_alphanumeric() {
                        seen += 1;
                        out.push(if seen + keep_last > total { c } else { '*' });
                    } else {
                        out.push(c);
                    }
                }
            }
            Operator::Hmac => match &self.keys {
                Some(k) => {
                    let tag = hmac(&k.hmac, &[entity.as_bytes(), &[0], value.as_bytes()]);
                    let _ = write!(out, "<{entity}:{}>", hex8(&tag));
                }
                None => {
                    let _ = write!(out, "<{entity}>");
                }
            },
            Operator::Encrypt => match &self.keys {
                Some(k) => {
                    let nonce = hmac(&k.enc, &[entity.as_bytes(), &[0], raw.as_bytes()]);
                    let nonce = &nonce[..12];
                    let payload = Payload {
                        msg: raw.as_bytes(),
                        aad: entity.as_bytes(),
                    };
                    match k.cipher().encrypt(Nonce::from_slice(nonce), payload) {
                        Ok(ct) => {
                            let _ = write!(out, "<ENC:{entity}:");
                            let mut blob = nonce.to_vec();
                            blob.extend_from_slice(&ct);
                            b64_encode(&blob, out);
                            out.push('>');
                        }
                        Err(_) => {
                            let _ = write!(out, "<{entity}>");
                        }
                    }
                }
                None => {
                    let _ = write!(out, "<{entity}>");
                }
            },
        }
    }
}

fn hex8(tag: &[u8; 32]) -> String {
    tag[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// Replaces every `<ENC:ENTITY:…>` token that authenticates under `keys` with the original
/// bytes. Returns the restored text and the number of tokens restored; tokens that do not
/// authenticate (another key, or text that merely looks like a token) are left unchanged.
pub fn restore(text: &str, keys: &Keys) -> (String, usize) {
    let cipher = keys.cipher();
    let mut out = String::with_capacity(text.len());
    let mut count = 0;
    let mut rest = text;
    while let Some(i) = rest.find("<ENC:") {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        match decrypt_token(tail, &cipher) {
            Some((plain, used)) => {
                out.push_str(&plain);
                count += 1;
                rest = &tail[used..];
            }
            None => {
                out.push_str("<ENC:");
                rest = &tail[5..];
            }
        }
    }
    out.push_str(rest);
    (out, count)
}

fn decrypt_token(tail: &str, cipher: &Aes256GcmSiv) -> Option<(String, usize)> {
    let body = &tail[5..];
    let colon = body.find(':')?;
    let entity = &body[..colon];
    if entity.is_empty()
        || !entity
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return None;
    }
    let data = &body[colon + 1..];
    let end = data.find('>')?;
    let blob = b64_decode(&data[..end])?;
    if blob.len() < 12 + 16 {
        return None;
    }
    let (nonce, ct) = blob.split_at(12);
    let plain = cipher
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: ct,
                aad: entity.as_bytes(),
            },
        )
        .ok()?;
    let plain = String::from_utf8(plain).ok()?;
    Some((plain, 5 + colon + 1 + end + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(b: u8) -> Keys {
        Keys::from_master(&[b; 32]).unwrap()
    }

    fn apply(r: &Redactor, entity: &str, v: &str) -> String {
        let mut s = String::new();
        r.replacement(entity, v, v, &mut s);
        s
    }

    #[test]
    fn operators() {
        let per: HashMap<String, Operator> =
            [("CN_MOBILE".to_string(), "mask:4".parse().unwrap())].into();
        let r = Redactor::new(Operator::Replace, per, Some(keys(1))).unwrap();
        assert_eq!(apply(&r, "EMAIL_ADDRESS", "a@b.com"), "<EMAIL_ADDRESS>");
        assert_eq!(apply(&r, "CN_MOBILE", "138-1234-5678"), "***-****-5678");
        let h = Redactor::new(Operator::Hmac, HashMap::new(), Some(keys(1))).unwrap();
        let a = apply(&h, "CN_MOBILE", "13812345678");
        assert_eq!(a, apply(&h, "CN_MOBILE", "13812345678"));
        assert_ne!(a, apply(&h, "CN_MOBILE", "13812345679"));
        let other = Redactor::new(Operator::Hmac, HashMap::new(), Some(keys(2))).unwrap();
        assert_ne!(a, apply(&other, "CN_MOBILE", "13812345678"));
        assert!(a.starts_with("<CN_MOBILE:") && a.len() == "<CN_MOBILE:>".len() + 16);
        assert!(Redactor::new(Operator::Encrypt, HashMap::new(), None).is_err());
        assert!("mask:x".parse::<Operator>().is_err());
        assert!(Keys::from_master(&[0; 31]).is_err());
    }

    #[test]
    fn encrypt_restore_round_trip() {
        let k = keys(7);
        let r = Redactor::new(Operator::Encrypt, HashMap::new(), Some(k.clone())).unwrap();
        let mut text = String::from("id ");
        r.replacement(
            "CN_RESIDENT_ID",
            "11010519491231002X",
            "11010519491231002X",
            &mut text,
        );
        text.push_str(" and <ENC:FAKE:abcd> and ");
        r.replacement(
            "EMAIL_ADDRESS",
            "zhang@163.com",
            "zhang\\u0040163.com",
            &mut text,
        );
        let (back, n) = restore(&text, &k);
        assert_eq!(n, 2);
        assert_eq!(
            back,
            "id 11010519491231002X and <ENC:FAKE:abcd> and zhang\\u0040163.com"
        );
        // Another key restores nothing; a tampered token is left alone.
        assert_eq!(restore(&text, &keys(8)).1, 0);
        let tampered = text.replacen("<ENC:CN_RESIDENT_ID:", "<ENC:CN_USCC:", 1);
        assert_eq!(restore(&tampered, &k).1, 1);
    }

    #[test]
    fn base64_round_trip() {
        for n in 0..40u8 {
            let data: Vec<u8> = (0..n).map(|i| i.wrapping_mul(37)).collect();
            let mut s = String::new();
            b64_encode(&data, &mut s);
            assert_eq!(b64_decode(&s).unwrap(), data);
        }
    }
}
