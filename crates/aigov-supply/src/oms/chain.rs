//! Certificate chains of certificate mode: the signing certificate, the intermediates the
//! bundle carries, and the trust anchors the verifier chose.
//!
//! As in the reference tool (OpenSSL's store verification), the chain is checked at the
//! signing certificate's `notBefore` unless the caller passes another time: a signature made
//! while the certificate was valid stays valid after it expires. Intermediates must be CAs;
//! the signing certificate must allow digital signatures (key usage) or code signing
//! (extended key usage).

use x509_parser::prelude::*;

use super::keys::{KeyError, PublicKey};

/// Longest chain followed.
const MAX_DEPTH: usize = 8;

/// A chain that does not verify; the message names the certificate concerned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("certificate chain: {0}")]
pub struct ChainError(pub String);

/// A verified chain.
#[derive(Debug, Clone)]
pub struct VerifiedChain {
    /// The signing certificate's public key.
    pub key: PublicKey,
    /// Subject of the signing certificate (RFC 4514).
    pub subject: String,
    /// Subject of the trust anchor the chain ends at.
    pub anchor: String,
    /// Number of certificates from the signing certificate to the anchor, both included.
    pub length: usize,
    /// The signing certificate's validity (Unix seconds).
    pub not_before: i64,
    /// The signing certificate's validity end (Unix seconds).
    pub not_after: i64,
}

fn parse<'a>(der: &'a [u8], what: &str) -> Result<X509Certificate<'a>, ChainError> {
    match X509Certificate::from_der(der) {
        Ok(([], c)) => Ok(c),
        Ok(_) => Err(ChainError(format!(
            "{what}: trailing bytes after the certificate"
        ))),
        Err(e) => Err(ChainError(format!("{what}: not an X.509 certificate: {e}"))),
    }
}

fn valid_at(c: &X509Certificate<'_>, t: i64) -> bool {
    c.validity().not_before.timestamp() <= t && t <= c.validity().not_after.timestamp()
}

fn is_ca(c: &X509Certificate<'_>) -> bool {
    matches!(c.basic_constraints(), Ok(Some(bc)) if bc.value.ca)
}

fn signed_by(c: &X509Certificate<'_>, issuer: &X509Certificate<'_>) -> bool {
    c.issuer() == issuer.subject() && c.verify_signature(Some(issuer.public_key())).is_ok()
}

/// Whether a DER certificate names itself as its issuer (a root).
pub fn is_self_signed(der: &[u8]) -> bool {
    X509Certificate::from_der(der).is_ok_and(|(_, c)| c.subject() == c.issuer())
}

/// The public key of a DER certificate.
pub fn certificate_key(der: &[u8]) -> Result<PublicKey, KeyError> {
    let c = parse(der, "certificate").map_err(|e| KeyError(e.0))?;
    PublicKey::from_spki_der(c.public_key().raw)
}

/// Verifies `chain` (signing certificate first, then intermediates, all DER) up to one of
/// `anchors` (DER), at Unix time `at` or, when `None`, at the signing certificate's
/// `notBefore`.
pub fn verify_chain(
    chain: &[Vec<u8>],
    anchors: &[Vec<u8>],
    at: Option<i64>,
) -> Result<VerifiedChain, ChainError> {
    let Some(leaf_der) = chain.first() else {
        return Err(ChainError("the bundle holds no certificate".into()));
    };
    if anchors.is_empty() {
        return Err(ChainError("no trust anchor given".into()));
    }
    let leaf = parse(leaf_der, "signing certificate")?;
    let mut inter = Vec::new();
    for (i, der) in chain.iter().enumerate().skip(1) {
        inter.push(parse(der, &format!("bundle certificate {i}"))?);
    }
    let mut roots = Vec::new();
    for (i, der) in anchors.iter().enumerate() {
        roots.push(parse(der, &format!("trust anchor {}", i + 1))?);
    }
    let t = at.unwrap_or_else(|| leaf.validity().not_before.timestamp());
    let subject = leaf.subject().to_string();
    if !valid_at(&leaf, t) {
        return Err(ChainError(format!(
            "signing certificate `{subject}` is not valid at the verification time"
        )));
    }
    let ku = matches!(leaf.key_usage(), Ok(Some(k)) if k.value.digital_signature());
    let eku = matches!(leaf.extended_key_usage(), Ok(Some(e)) if e.value.code_signing);
    if !ku && !eku {
        return Err(ChainError(format!(
            "signing certificate `{subject}` allows neither digital signatures nor code signing"
        )));
    }
    let key = PublicKey::from_spki_der(leaf.public_key().raw)
        .map_err(|e| ChainError(format!("signing certificate `{subject}`: {e}")))?;
    let mut current = &leaf;
    for length in 1..=MAX_DEPTH {
        if let Some(root) = roots
            .iter()
            .find(|r| signed_by(current, r) && valid_at(r, t))
        {
            return Ok(VerifiedChain {
                key,
                subject,
                anchor: root.subject().to_string(),
                length: length + 1,
                not_before: leaf.validity().not_before.timestamp(),
                not_after: leaf.validity().not_after.timestamp(),
            });
        }
        let next = inter
            .iter()
            .find(|c| !std::ptr::eq(*c, current) && signed_by(current, c));
        match next {
            Some(c) if !is_ca(c) => {
                return Err(ChainError(format!(
                    "intermediate `{}` is not a CA certificate",
                    c.subject()
                )));
            }
            Some(c) if !valid_at(c, t) => {
                return Err(ChainError(format!(
                    "intermediate `{}` is not valid at the verification time",
                    c.subject()
                )));
            }
            Some(c) => current = c,
            None => {
                return Err(ChainError(format!(
                    "`{}` was not issued by a trusted certificate (issuer `{}` is neither a trust anchor nor in the bundle)",
                    current.subject(),
                    current.issuer()
                )));
            }
        }
    }
    Err(ChainError(format!(
        "chain longer than {MAX_DEPTH} certificates"
    )))
}
