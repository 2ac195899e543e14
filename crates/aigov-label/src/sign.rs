//! Producer and propagator signatures in `ReservedCode1` and `ReservedCode2`.
//!
//! A signature binds the label's fields to a digest of the content's *essence* (the bytes of
//! the file minus every metadata carrier, see [`crate::format`]), to its media type and to its
//! shape, so that a platform adding its propagation record or a C2PA manifest does not break
//! it, while an edit to the content or a label copied onto another file does.
//!
//! The signed bytes are UTF-8 lines, each `name=value` followed by `\n`, in this order:
//!
//! ```text
//! aigov-label/1
//! role=producer                      (or propagator)
//! Label=…
//! ContentProducer=…
//! ProduceID=…
//! ReservedCode1=…                    (propagator only: the producer's value, verbatim)
//! ContentPropagator=…                (propagator only)
//! PropagateID=…                      (propagator only)
//! previous=…                         (propagator only: earlier hops, the `p=` value or empty)
//! digest=<sha256|blake3>:<64 hex digits>
//! media=<media type>
//! shape=<shape>
//! ```
//!
//! No value may contain a line break (signing refuses; verification fails). The signature is
//! ECDSA P-256 with SHA-256 over those bytes, DER-encoded (`a=ES256`), or, for deployments on
//! Chinese commercial cryptography, SM2 with SM3 (`a=SM2SM3`; GM/T 0003 with the default
//! distinguishing identifier `1234567812345678`; the signature is `r||s`, 64 bytes).
//!
//! The field value (printable ASCII, no spaces) is a list of `key=value` items joined by `;`:
//! `aigov1;a=ES256;d=<sha256|blake3>:<hex>;m=<media>;s=<shape>;c=<certificate>;g=<signature>`, where
//! `c` is the signer's X.509 certificate (DER, base64url without padding) or, for a bare key,
//! `k=<SubjectPublicKeyInfo DER, base64url>` instead; a propagator's value adds
//! `p=<base64url of the JSON list of earlier hops>` when the content had passed through other
//! platforms (each hop: `{"propagator","id","code"}`), so that the whole chain stays
//! verifiable although the label has one propagator slot. A trailing `z=<filler>` item is
//! padding, not signed, and ignored: it lets a writer reserve the value's length, copy a large
//! file while hashing it, and fill the value in afterwards.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use p256::ecdsa::signature::Signer as _;
use p256::pkcs8::{DecodePrivateKey, EncodePublicKey};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::content::DigestAlg;
use crate::{Aigc, Error, Result};

/// The prefix of every aigov security-data value.
pub const PREFIX: &str = "aigov1";

/// What a signature binds the label to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Binding {
    /// `<sha256|blake3>:<hex>` of the essence.
    pub digest: String,
    /// Media type of the container.
    pub media_type: String,
    /// Shape of the content (see [`crate::format::Layout::shape`]).
    pub shape: String,
}

/// Who signs: producer (`ReservedCode1`) or propagator (`ReservedCode2`).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The provider that generated the content.
    Producer,
    /// A platform that passed it on.
    Propagator,
}

/// An earlier propagation hop, kept in a later propagator's signature.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Hop {
    /// `ContentPropagator` of that hop.
    pub propagator: String,
    /// `PropagateID` of that hop.
    pub id: String,
    /// `ReservedCode2` of that hop.
    pub code: String,
}

/// A signing key with its certificate.
pub struct Signer {
    key: Key,
    /// DER of the signer's certificate, if any.
    cert: Option<Vec<u8>>,
    /// The hash of the content digest it signs.
    digest: DigestAlg,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("has_certificate", &self.cert.is_some())
            .finish()
    }
}

/// Decodes every `CERTIFICATE` block of a PEM text.
pub fn pem_certificates(pem: &str) -> Result<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let mut rest = pem;
    while let Some(i) = rest.find("-----BEGIN CERTIFICATE-----") {
        let body = &rest[i + 27..];
        let end = body
            .find("-----END CERTIFICATE-----")
            .ok_or_else(|| Error::Key("unterminated PEM certificate".into()))?;
        let b64: String = body[..end].chars().filter(|c| !c.is_whitespace()).collect();
        out.push(
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|e| Error::Key(format!("PEM certificate: {e}")))?,
        );
        rest = &body[end..];
    }
    Ok(out)
}

/// Whether a DER certificate is self-signed (a root).
pub fn is_self_signed(der: &[u8]) -> bool {
    X509Certificate::from_der(der).is_ok_and(|(_, c)| c.subject() == c.issuer())
}

/// PEM text of a DER certificate.
pub fn certificate_pem(der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

/// The SM2 distinguishing identifier: the default of GM/T 0009-2012.
pub const SM2_DISTID: &str = "1234567812345678";

/// A PKCS#8 PEM private key from 32 secret bytes (which the caller draws from a secure
/// random source): `alg` is `p256` or `sm2`.
pub fn key_pem_from_secret(alg: &str, secret: &[u8; 32]) -> Result<String> {
    use p256::pkcs8::EncodePrivateKey;
    let pem = match alg {
        "p256" => p256::SecretKey::from_slice(secret)
            .map_err(|e| Error::Key(e.to_string()))?
            .to_pkcs8_pem(Default::default()),
        "sm2" => sm2::SecretKey::from_slice(secret)
            .map_err(|e| Error::Key(e.to_string()))?
            .to_pkcs8_pem(Default::default()),
        other => {
            return Err(Error::Key(format!(
                "key algorithm {other:?}: use p256 or sm2"
            )));
        }
    };
    Ok(pem.map_err(|e| Error::Key(e.to_string()))?.to_string())
}

/// A signing key: ECDSA P-256 with SHA-256 (`ES256`), or SM2 with SM3 (`SM2SM3`, for
/// deployments on Chinese commercial cryptography; signature `r||s`, 64 bytes, distinguishing
/// identifier [`SM2_DISTID`]).
enum Key {
    P256(p256::ecdsa::SigningKey),
    Sm2(Box<sm2::dsa::SigningKey>),
}

impl Key {
    fn algorithm(&self) -> &'static str {
        match self {
            Key::P256(_) => "ES256",
            Key::Sm2(_) => "SM2SM3",
        }
    }

    /// The uncompressed public point.
    fn point(&self) -> Vec<u8> {
        match self {
            Key::P256(k) => k
                .verifying_key()
                .to_encoded_point(false)
                .as_bytes()
                .to_vec(),
            Key::Sm2(k) => {
                use sm2::elliptic_curve::sec1::ToEncodedPoint;
                k.verifying_key()
                    .to_encoded_point(false)
                    .as_bytes()
                    .to_vec()
            }
        }
    }

    fn spki_der(&self) -> Result<Vec<u8>> {
        let der = match self {
            Key::P256(k) => k.verifying_key().to_public_key_der(),
            Key::Sm2(k) => sm2::PublicKey::from_affine(*k.verifying_key().as_affine())
                .map_err(|e| Error::Key(e.to_string()))?
                .to_public_key_der(),
        };
        Ok(der
            .map_err(|e| Error::Key(e.to_string()))?
            .as_bytes()
            .to_vec())
    }

    fn sign(&self, msg: &[u8]) -> Vec<u8> {
        match self {
            Key::P256(k) => {
                let sig: p256::ecdsa::Signature = k.sign(msg);
                sig.to_der().as_bytes().to_vec()
            }
            Key::Sm2(k) => {
                let sig: sm2::dsa::Signature = k.sign(msg);
                sig.to_vec()
            }
        }
    }

    fn from_pem(pem: &str) -> Result<Self> {
        if let Ok(k) = p256::ecdsa::SigningKey::from_pkcs8_pem(pem) {
            return Ok(Key::P256(k));
        }
        match sm2::SecretKey::from_pkcs8_pem(pem) {
            Ok(sk) => Ok(Key::Sm2(Box::new(
                sm2::dsa::SigningKey::new(SM2_DISTID, &sk)
                    .map_err(|e| Error::Key(e.to_string()))?,
            ))),
            Err(e) => Err(Error::Key(format!(
                "not a PKCS#8 P-256 or SM2 private key: {e}"
            ))),
        }
    }
}

impl Signer {
    /// A signer from a PKCS#8 PEM key (P-256, or SM2) and, optionally, its certificate (PEM;
    /// the first certificate is the signer's). The certificate must hold the key's public half.
    pub fn from_pem(key_pem: &str, cert_pem: Option<&str>) -> Result<Self> {
        let key = Key::from_pem(key_pem)?;
        let cert = match cert_pem {
            None => None,
            Some(pem) => {
                let der = pem_certificates(pem)?
                    .into_iter()
                    .next()
                    .ok_or_else(|| Error::Key("no certificate in the PEM text".into()))?;
                let point = cert_point(&der)?;
                if point != key.point() {
                    return Err(Error::Key(
                        "the certificate does not hold this key's public key".into(),
                    ));
                }
                Some(der)
            }
        };
        Ok(Signer {
            key,
            cert,
            digest: DigestAlg::default(),
        })
    }

    /// The same signer, binding content with `alg` (SHA-256 by default).
    pub fn with_digest(mut self, alg: DigestAlg) -> Self {
        self.digest = alg;
        self
    }

    /// The hash of the content digests it signs.
    pub fn digest_alg(&self) -> DigestAlg {
        self.digest
    }

    /// The signer's certificate (DER), if any.
    pub fn certificate(&self) -> Option<&[u8]> {
        self.cert.as_deref()
    }

    /// The security-data value for `label` as `role`, bound to `binding`. For a propagator,
    /// `previous` lists earlier hops.
    pub fn security_data(
        &self,
        role: Role,
        label: &Aigc,
        binding: &Binding,
        previous: &[Hop],
    ) -> Result<String> {
        let prev = encode_hops(previous)?;
        let msg = message(role, label, binding, &prev)?;
        self.value(binding, &prev, &B64.encode(self.key.sign(&msg)))
    }

    /// A stand-in for [`Signer::security_data`] of exactly the length the value will have
    /// once the digest is known: `nonce` (64 hex digits) takes the digest's place, the
    /// signature is a run of `A` as long as the longest P-256 signature, and an empty `z=`
    /// item ends it. [`Signer::padded_security_data`] then gives the real value, same length.
    pub fn placeholder(&self, binding: &Binding, previous: &[Hop], nonce: &str) -> Result<String> {
        let b = Binding {
            digest: format!("{}:{nonce}", self.digest.name()),
            ..binding.clone()
        };
        let prev = encode_hops(previous)?;
        Ok(self.value(&b, &prev, &"A".repeat(MAX_SIG_B64))? + ";z=")
    }

    /// The security-data value padded with a trailing `z=` item to the length of
    /// [`Signer::placeholder`] (the padding is not signed and readers ignore it).
    pub fn padded_security_data(
        &self,
        role: Role,
        label: &Aigc,
        binding: &Binding,
        previous: &[Hop],
    ) -> Result<String> {
        let v = self.security_data(role, label, binding, previous)?;
        let sig_len = v.rsplit(";g=").next().map(str::len).unwrap_or(0);
        Ok(format!(
            "{v};z={}",
            "0".repeat(MAX_SIG_B64.saturating_sub(sig_len))
        ))
    }

    fn value(&self, binding: &Binding, prev: &str, sig_b64: &str) -> Result<String> {
        let mut out = format!(
            "{PREFIX};a={};d={};m={};s={}",
            self.key.algorithm(),
            binding.digest,
            binding.media_type,
            binding.shape
        );
        match &self.cert {
            Some(der) => {
                out.push_str(";c=");
                out.push_str(&B64.encode(der));
            }
            None => {
                out.push_str(";k=");
                out.push_str(&B64.encode(self.key.spki_der()?));
            }
        }
        if !prev.is_empty() {
            out.push_str(";p=");
            out.push_str(prev);
        }
        out.push_str(";g=");
        out.push_str(sig_b64);
        Ok(out)
    }
}

/// Base64url length of the longest DER-encoded P-256 ECDSA signature (72 bytes).
const MAX_SIG_B64: usize = 96;

fn encode_hops(hops: &[Hop]) -> Result<String> {
    if hops.is_empty() {
        return Ok(String::new());
    }
    let json = serde_json::to_vec(hops).map_err(|e| Error::Signature(e.to_string()))?;
    Ok(B64.encode(json))
}

/// The uncompressed EC point of a certificate's public key.
fn cert_point(der: &[u8]) -> Result<Vec<u8>> {
    let (_, cert) =
        X509Certificate::from_der(der).map_err(|e| Error::Key(format!("certificate: {e}")))?;
    Ok(cert.public_key().subject_public_key.data.to_vec())
}

/// The bytes that are signed.
pub fn message(role: Role, label: &Aigc, binding: &Binding, previous: &str) -> Result<Vec<u8>> {
    let mut lines: Vec<(&str, &str)> = vec![
        (
            "role",
            match role {
                Role::Producer => "producer",
                Role::Propagator => "propagator",
            },
        ),
        ("Label", &label.label),
        ("ContentProducer", &label.content_producer),
        ("ProduceID", &label.produce_id),
    ];
    if role == Role::Propagator {
        lines.extend([
            ("ReservedCode1", label.reserved_code1.as_str()),
            ("ContentPropagator", &label.content_propagator),
            ("PropagateID", &label.propagate_id),
            ("previous", previous),
        ]);
    }
    lines.extend([
        ("digest", binding.digest.as_str()),
        ("media", &binding.media_type),
        ("shape", &binding.shape),
    ]);
    let mut out = b"aigov-label/1\n".to_vec();
    for (k, v) in lines {
        if v.contains(['\n', '\r']) {
            return Err(Error::Signature(format!("{k} contains a line break")));
        }
        out.extend_from_slice(k.as_bytes());
        out.push(b'=');
        out.extend_from_slice(v.as_bytes());
        out.push(b'\n');
    }
    Ok(out)
}

/// A parsed security-data value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityData {
    /// Signature algorithm (`ES256`).
    pub algorithm: String,
    /// What the signer bound the label to.
    pub binding: Binding,
    /// Signer certificate (DER), when present.
    pub certificate: Option<Vec<u8>>,
    /// Signer public key (SubjectPublicKeyInfo DER), when no certificate is given.
    pub public_key: Option<Vec<u8>>,
    /// Earlier propagation hops (`p=`), encoded as signed.
    pub previous_encoded: String,
    /// Signature (DER).
    pub signature: Vec<u8>,
}

impl SecurityData {
    /// Whether a field value looks like aigov security data (others are foreign formats).
    pub fn is_aigov(value: &str) -> bool {
        value.starts_with(PREFIX) && value[PREFIX.len()..].starts_with(';')
    }

    /// Parses a field value.
    pub fn parse(value: &str) -> Result<Self> {
        if !Self::is_aigov(value) {
            return Err(Error::Signature("not an aigov1 security-data value".into()));
        }
        let mut get = std::collections::BTreeMap::new();
        for item in value.split(';').skip(1) {
            let (k, v) = item
                .split_once('=')
                .ok_or_else(|| Error::Signature(format!("item {item:?} is not key=value")))?;
            if get.insert(k, v).is_some() {
                return Err(Error::Signature(format!("item {k:?} appears twice")));
            }
        }
        let need = |k: &str| {
            get.get(k)
                .copied()
                .ok_or_else(|| Error::Signature(format!("item {k:?} missing")))
        };
        let b64 = |k: &str, v: &str| {
            B64.decode(v)
                .map_err(|e| Error::Signature(format!("item {k:?} is not base64url: {e}")))
        };
        let certificate = get.get("c").map(|v| b64("c", v)).transpose()?;
        let public_key = get.get("k").map(|v| b64("k", v)).transpose()?;
        if certificate.is_none() && public_key.is_none() {
            return Err(Error::Signature(
                "neither a certificate (c) nor a key (k)".into(),
            ));
        }
        Ok(SecurityData {
            algorithm: need("a")?.to_string(),
            binding: Binding {
                digest: need("d")?.to_string(),
                media_type: need("m")?.to_string(),
                shape: need("s")?.to_string(),
            },
            certificate,
            public_key,
            previous_encoded: get.get("p").copied().unwrap_or("").to_string(),
            signature: b64("g", need("g")?)?,
        })
    }

    /// The earlier hops listed in `p=`.
    pub fn previous(&self) -> Result<Vec<Hop>> {
        if self.previous_encoded.is_empty() {
            return Ok(Vec::new());
        }
        let json = B64
            .decode(&self.previous_encoded)
            .map_err(|e| Error::Signature(format!("previous hops: {e}")))?;
        serde_json::from_slice(&json).map_err(|e| Error::Signature(format!("previous hops: {e}")))
    }

    /// Checks the signature over `label` as `role` (with the binding this value states).
    pub fn verify(&self, role: Role, label: &Aigc) -> Result<()> {
        let point = match (&self.certificate, &self.public_key) {
            (Some(c), _) => cert_point(c)?,
            (None, Some(spki)) => spki_point(spki)?,
            (None, None) => return Err(Error::Signature("no key".into())),
        };
        let msg = message(role, label, &self.binding, &self.previous_encoded)?;
        let mismatch =
            || Error::Signature("the signature does not match the label fields and binding".into());
        match self.algorithm.as_str() {
            "ES256" => {
                // The key must be a P-256 point; ring then verifies (several times faster
                // than a portable implementation, which matters when platforms check every
                // upload).
                p256::PublicKey::from_sec1_bytes(&point)
                    .map_err(|_| Error::Key("the signer's key is not a P-256 key".into()))?;
                p256::ecdsa::Signature::from_der(&self.signature)
                    .map_err(|e| Error::Signature(format!("signature is not DER ECDSA: {e}")))?;
                ring::signature::UnparsedPublicKey::new(
                    &ring::signature::ECDSA_P256_SHA256_ASN1,
                    &point,
                )
                .verify(&msg, &self.signature)
                .map_err(|_| mismatch())
            }
            "SM2SM3" => {
                use sm2::dsa::signature::Verifier as _;
                let key = sm2::dsa::VerifyingKey::from_sec1_bytes(SM2_DISTID, &point)
                    .map_err(|_| Error::Key("the signer's key is not an SM2 key".into()))?;
                let sig = sm2::dsa::Signature::from_slice(&self.signature)
                    .map_err(|_| Error::Signature("an SM2 signature is r||s, 64 bytes".into()))?;
                key.verify(&msg, &sig).map_err(|_| mismatch())
            }
            other => Err(Error::Signature(format!(
                "algorithm {other:?} is not supported (ES256, SM2SM3)"
            ))),
        }
    }
}

/// The uncompressed EC point of a SubjectPublicKeyInfo (P-256 or SM2).
fn spki_point(spki: &[u8]) -> Result<Vec<u8>> {
    let (_, info) = x509_parser::x509::SubjectPublicKeyInfo::from_der(spki)
        .map_err(|e| Error::Key(format!("public key: {e}")))?;
    Ok(info.subject_public_key.data.to_vec())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn key_pem() -> String {
        use p256::pkcs8::EncodePrivateKey;
        let k = p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).unwrap();
        k.to_pkcs8_pem(Default::default()).unwrap().to_string()
    }

    #[test]
    fn sign_parse_verify_and_every_field_is_bound() {
        let signer = Signer::from_pem(&key_pem(), None).unwrap();
        let label = Aigc {
            label: "1".into(),
            content_producer: "P".into(),
            produce_id: "id-1".into(),
            ..Aigc::default()
        };
        let binding = Binding {
            digest: format!("sha256:{}", "ab".repeat(32)),
            media_type: "image/png".into(),
            shape: "3x2".into(),
        };
        let v = signer
            .security_data(Role::Producer, &label, &binding, &[])
            .unwrap();
        assert!(v.chars().all(|c| ('\x21'..='\x7e').contains(&c)), "{v}");
        let sd = SecurityData::parse(&v).unwrap();
        assert_eq!(sd.binding, binding);
        sd.verify(Role::Producer, &label).unwrap();
        let mut other = label.clone();
        other.produce_id = "id-2".into();
        assert!(sd.verify(Role::Producer, &other).is_err());
        assert!(sd.verify(Role::Propagator, &label).is_err());
        let tampered = v.replace(";s=3x2;", ";s=3x3;");
        assert!(
            SecurityData::parse(&tampered)
                .unwrap()
                .verify(Role::Producer, &label)
                .is_err()
        );
        assert!(SecurityData::parse("aigov1;a=ES256").is_err());
        assert!(SecurityData::parse("3045022100").is_err());
    }
}
