//! ECDSA keys for key and certificate modes: PEM reading, signing and verification over a
//! message hashed with the curve's hash (SHA-256 for P-256, SHA-384 for P-384), DER signatures.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use p256::ecdsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
use p256::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePublicKey};
use sha2::Digest as _;

/// A key that cannot be used; the message says why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct KeyError(pub String);

/// A PEM block: its label and decoded body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PemBlock {
    /// The label after `BEGIN` (`CERTIFICATE`, `PUBLIC KEY`, …).
    pub label: String,
    /// The decoded DER bytes.
    pub der: Vec<u8>,
}

/// All PEM blocks of a text, in order; text outside blocks (such as `certtool` comments) is
/// skipped.
pub fn pem_blocks(text: &[u8]) -> Result<Vec<PemBlock>, KeyError> {
    let text = String::from_utf8_lossy(text);
    let mut out = Vec::new();
    let mut rest: &str = &text;
    while let Some(b) = rest.find("-----BEGIN ") {
        let after = &rest[b + 11..];
        let Some(le) = after.find("-----") else {
            return Err(KeyError("PEM: unterminated BEGIN line".into()));
        };
        let label = after[..le].to_string();
        let body_start = &after[le + 5..];
        let end_marker = format!("-----END {label}-----");
        let Some(e) = body_start.find(&end_marker) else {
            return Err(KeyError(format!("PEM: no END line for {label}")));
        };
        let body = &body_start[..e];
        if body.contains("Proc-Type:") || label.contains("ENCRYPTED") {
            return Err(KeyError(format!(
                "PEM {label} is encrypted; decrypt it first (openssl pkey -in KEY -out PLAIN)"
            )));
        }
        let clean: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        let der = B64
            .decode(clean)
            .map_err(|e| KeyError(format!("PEM {label}: bad base64: {e}")))?;
        out.push(PemBlock { label, der });
        rest = &body_start[e + end_marker.len()..];
    }
    Ok(out)
}

/// An ECDSA public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// NIST P-256.
    P256(p256::ecdsa::VerifyingKey),
    /// NIST P-384.
    P384(p384::ecdsa::VerifyingKey),
}

/// Hash applied to the signed message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageHash {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
}

impl MessageHash {
    fn digest(self, msg: &[u8]) -> Vec<u8> {
        match self {
            MessageHash::Sha256 => sha2::Sha256::digest(msg).to_vec(),
            MessageHash::Sha384 => sha2::Sha384::digest(msg).to_vec(),
        }
    }
}

impl PublicKey {
    /// Reads a SubjectPublicKeyInfo (DER).
    pub fn from_spki_der(der: &[u8]) -> Result<PublicKey, KeyError> {
        if let Ok(k) = p256::PublicKey::from_public_key_der(der) {
            return Ok(PublicKey::P256(k.into()));
        }
        if let Ok(k) = p384::PublicKey::from_public_key_der(der) {
            return Ok(PublicKey::P384(k.into()));
        }
        Err(KeyError(
            "public key is not ECDSA P-256 or P-384 (the curves supported here; Ed25519 and RSA are not allowed by the standard's key mode)".into(),
        ))
    }

    /// Reads a PEM `PUBLIC KEY` (or the key of the first `CERTIFICATE`).
    pub fn from_pem(pem: &[u8]) -> Result<PublicKey, KeyError> {
        let blocks = pem_blocks(pem)?;
        for b in &blocks {
            match b.label.as_str() {
                "PUBLIC KEY" => return PublicKey::from_spki_der(&b.der),
                "CERTIFICATE" => return super::chain::certificate_key(&b.der),
                _ => {}
            }
        }
        Err(KeyError(
            "no PEM PUBLIC KEY or CERTIFICATE block found".into(),
        ))
    }

    /// The curve's own hash.
    pub fn hash(&self) -> MessageHash {
        match self {
            PublicKey::P256(_) => MessageHash::Sha256,
            PublicKey::P384(_) => MessageHash::Sha384,
        }
    }

    /// The curve's name.
    pub fn curve(&self) -> &'static str {
        match self {
            PublicKey::P256(_) => "P-256",
            PublicKey::P384(_) => "P-384",
        }
    }

    /// SubjectPublicKeyInfo DER.
    pub fn spki_der(&self) -> Vec<u8> {
        let doc = match self {
            PublicKey::P256(k) => p256::PublicKey::from(k).to_public_key_der(),
            PublicKey::P384(k) => p384::PublicKey::from(k).to_public_key_der(),
        };
        doc.map(|d| d.as_bytes().to_vec()).unwrap_or_default()
    }

    /// PEM as Python's `cryptography` writes it (64-character lines).
    pub fn to_pem(&self) -> String {
        pem_encode("PUBLIC KEY", &self.spki_der())
    }

    /// The key hint of the reference tool: hex SHA-256 of [`PublicKey::to_pem`].
    pub fn hint(&self) -> String {
        hex::encode(sha2::Sha256::digest(self.to_pem().as_bytes()))
    }

    /// Verifies a DER ECDSA signature over `msg` hashed with `hash`.
    pub fn verify(&self, msg: &[u8], der_sig: &[u8], hash: MessageHash) -> bool {
        let digest = hash.digest(msg);
        match self {
            PublicKey::P256(k) => p256::ecdsa::Signature::from_der(der_sig)
                .is_ok_and(|s| k.verify_prehash(&digest, &s).is_ok()),
            PublicKey::P384(k) => p384::ecdsa::Signature::from_der(der_sig)
                .is_ok_and(|s| k.verify_prehash(&digest, &s).is_ok()),
        }
    }
}

/// Writes DER as a PEM block with 64-character lines.
pub fn pem_encode(label: &str, der: &[u8]) -> String {
    let b = B64.encode(der);
    let mut s = format!("-----BEGIN {label}-----\n");
    for line in b.as_bytes().chunks(64) {
        s.push_str(std::str::from_utf8(line).unwrap_or_default());
        s.push('\n');
    }
    s.push_str(&format!("-----END {label}-----\n"));
    s
}

/// An ECDSA private key.
#[derive(Clone)]
pub enum PrivateKey {
    /// NIST P-256.
    P256(p256::ecdsa::SigningKey),
    /// NIST P-384.
    P384(p384::ecdsa::SigningKey),
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PrivateKey({})", self.public().curve())
    }
}

impl PrivateKey {
    /// Reads a PEM `EC PRIVATE KEY` (SEC 1) or `PRIVATE KEY` (PKCS #8), unencrypted.
    pub fn from_pem(pem: &[u8]) -> Result<PrivateKey, KeyError> {
        for b in pem_blocks(pem)? {
            match b.label.as_str() {
                "EC PRIVATE KEY" => {
                    if let Ok(k) = p256::SecretKey::from_sec1_der(&b.der) {
                        return Ok(PrivateKey::P256(k.into()));
                    }
                    if let Ok(k) = p384::SecretKey::from_sec1_der(&b.der) {
                        return Ok(PrivateKey::P384(k.into()));
                    }
                    return Err(KeyError("EC PRIVATE KEY is not on P-256 or P-384".into()));
                }
                "PRIVATE KEY" => {
                    if let Ok(k) = p256::SecretKey::from_pkcs8_der(&b.der) {
                        return Ok(PrivateKey::P256(k.into()));
                    }
                    if let Ok(k) = p384::SecretKey::from_pkcs8_der(&b.der) {
                        return Ok(PrivateKey::P384(k.into()));
                    }
                    return Err(KeyError(
                        "PRIVATE KEY is not an ECDSA P-256 or P-384 key".into(),
                    ));
                }
                _ => {}
            }
        }
        Err(KeyError(
            "no PEM EC PRIVATE KEY or PRIVATE KEY block found".into(),
        ))
    }

    /// A new random key on `curve` (`P-256` or `P-384`), from the operating system's RNG.
    pub fn generate(curve: &str) -> Result<PrivateKey, KeyError> {
        let mut rng = rand_core::OsRng;
        match curve {
            "P-256" | "p256" => Ok(PrivateKey::P256(p256::ecdsa::SigningKey::random(&mut rng))),
            "P-384" | "p384" => Ok(PrivateKey::P384(p384::ecdsa::SigningKey::random(&mut rng))),
            other => Err(KeyError(format!(
                "curve `{other}` is not supported (P-256, P-384)"
            ))),
        }
    }

    /// The key as unencrypted PKCS #8 PEM.
    pub fn to_pkcs8_pem(&self) -> String {
        use p256::pkcs8::EncodePrivateKey;
        let doc = match self {
            PrivateKey::P256(k) => p256::SecretKey::from(k).to_pkcs8_der(),
            PrivateKey::P384(k) => p384::SecretKey::from(k).to_pkcs8_der(),
        };
        doc.map(|d| pem_encode("PRIVATE KEY", d.as_bytes()))
            .unwrap_or_default()
    }

    /// The matching public key.
    pub fn public(&self) -> PublicKey {
        match self {
            PrivateKey::P256(k) => PublicKey::P256(*k.verifying_key()),
            PrivateKey::P384(k) => PublicKey::P384(*k.verifying_key()),
        }
    }

    /// Signs `msg` hashed with the curve's hash; returns a DER signature (deterministic,
    /// RFC 6979).
    pub fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, KeyError> {
        let digest = self.public().hash().digest(msg);
        let fail = |e: p256::ecdsa::Error| KeyError(format!("signing failed: {e}"));
        Ok(match self {
            PrivateKey::P256(k) => {
                let s: p256::ecdsa::Signature = k.sign_prehash(&digest).map_err(fail)?;
                s.to_der().as_bytes().to_vec()
            }
            PrivateKey::P384(k) => {
                let s: p384::ecdsa::Signature = k.sign_prehash(&digest).map_err(fail)?;
                s.to_der().as_bytes().to_vec()
            }
        })
    }
}
