//! The registry's certificate authority (TC260 measure 5.2: digital certificates for AI
//! systems serving the public).
//!
//! * [`create_ca`]: a root CA and an issuing CA (ECDSA P-256 by default, Ed25519 available);
//! * [`make_csr`]: a provider's certificate request for its system, made with a key that never
//!   leaves the provider (ECDSA P-256, Ed25519, or SM2 with SM3 for deployments on Chinese
//!   commercial cryptography);
//! * [`issue`]: an X.509 leaf for a registered system, checked against the request: the system
//!   name as common name, the filing number as a SAN URI `urn:aigov:filing:<number>` and, with
//!   the tier, in the aigov system extension ([`SYSTEM_EXTENSION_OID`]); keyUsage
//!   digitalSignature; EKU documentSigning and C2PA claim signing; bounded validity;
//! * [`crl`]: a signed certificate revocation list;
//! * [`inspect`] and [`verify`]: what a certificate says, and whether its chain leads to the
//!   registry root at a given time for document signing.
//!
//! No IO and no clock: keys and certificates come in as PEM text, times as parameters.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

use chrono::{DateTime, Utc};
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, DistinguishedName,
    DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose, RevokedCertParams, SanType, SerialNumber,
};
use rustls_pki_types::{CertificateDer, UnixTime};
use x509_parser::prelude::*;

mod gm;
mod leaf;

pub use gm::{SM2_CURVE_OID, SM2_DISTID, SM2_WITH_SM3_OID};

/// OID of the aigov system extension, under the ITU-T X.667 UUID arc `2.25`: the arc value is
/// the integer of the UUID `00000000-0000-0000-352d-535ca92653a9` (63 random bits; a full
/// 128-bit UUID does not fit the certificate library's 64-bit arcs). Its value is the DER of
/// `SEQUENCE { filingNumber UTF8String, tier UTF8String }`. Not critical.
pub const SYSTEM_EXTENSION_OID: &str = "2.25.3831810515402118057";

/// EKU id-kp-documentSigning (RFC 9336).
pub const EKU_DOCUMENT_SIGNING: &str = "1.3.6.1.5.5.7.3.36";
/// EKU of C2PA claim signing.
pub const EKU_C2PA_CLAIM_SIGNING: &str = "1.3.6.1.4.1.62558.2.1";
/// DER body of the documentSigning OID (for path validation).
const EKU_DOCUMENT_SIGNING_DER: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x24];

/// Longest validity of a system certificate.
pub const MAX_LEAF_DAYS: i64 = 398;

/// Errors of the CA.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The certificate request is unacceptable.
    #[error("certificate request refused: {0}")]
    Csr(String),
    /// A certificate, key or CRL could not be read.
    #[error("cannot read {what}: {message}")]
    Parse {
        /// What was being read.
        what: String,
        /// Why it failed.
        message: String,
    },
    /// The chain does not verify.
    #[error("certificate does not verify: {0}")]
    Verify(String),
    /// Generating or signing failed.
    #[error("certificate authority failure: {0}")]
    Ca(String),
}

/// Result with the CA error.
pub type Result<T> = std::result::Result<T, Error>;

fn ca_err(e: impl std::fmt::Display) -> Error {
    Error::Ca(e.to_string())
}

/// Key algorithms for CA and system keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAlgorithm {
    /// ECDSA on P-256 with SHA-256 (default).
    EcdsaP256,
    /// Ed25519.
    Ed25519,
    /// SM2 with SM3 (GM/T 0003): system keys only; the registry CA signs with P-256 or
    /// Ed25519.
    Sm2,
}

impl KeyAlgorithm {
    fn rcgen(self) -> Result<&'static rcgen::SignatureAlgorithm> {
        match self {
            KeyAlgorithm::EcdsaP256 => Ok(&rcgen::PKCS_ECDSA_P256_SHA256),
            KeyAlgorithm::Ed25519 => Ok(&rcgen::PKCS_ED25519),
            KeyAlgorithm::Sm2 => Err(Error::Ca(
                "SM2 is for system keys; the registry CA signs with p256 or ed25519".into(),
            )),
        }
    }

    /// Parses `p256` / `ecdsa-p256` / `ed25519` / `sm2`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "p256" | "p-256" | "ecdsa-p256" | "ecdsa" => Some(KeyAlgorithm::EcdsaP256),
            "ed25519" => Some(KeyAlgorithm::Ed25519),
            "sm2" => Some(KeyAlgorithm::Sm2),
            _ => None,
        }
    }
}

/// A new private key, as PKCS#8 PEM (secret).
pub fn generate_key(alg: KeyAlgorithm) -> Result<String> {
    if alg == KeyAlgorithm::Sm2 {
        return gm::generate_key();
    }
    Ok(KeyPair::generate_for(alg.rcgen()?)
        .map_err(ca_err)?
        .serialize_pem())
}

fn key(pem: &str, what: &str) -> Result<KeyPair> {
    KeyPair::from_pem(pem).map_err(|e| Error::Parse {
        what: what.into(),
        message: e.to_string(),
    })
}

/// PEM text of one DER object.
fn pem(label: &str, der: &[u8]) -> String {
    ::pem::encode_config(
        &::pem::Pem::new(label, der),
        ::pem::EncodeConfig::new().set_line_ending(::pem::LineEnding::LF),
    )
}

fn offset(t: DateTime<Utc>) -> Result<::time::OffsetDateTime> {
    ::time::OffsetDateTime::from_unix_timestamp(t.timestamp()).map_err(ca_err)
}

/// The CA's certificates and keys (keys are secret).
#[derive(Clone)]
pub struct CaMaterial {
    /// Root CA certificate (PEM): the trust anchor to distribute.
    pub root_cert: String,
    /// Root CA key (PEM): keep offline.
    pub root_key: String,
    /// Issuing CA certificate (PEM).
    pub issuing_cert: String,
    /// Issuing CA key (PEM).
    pub issuing_key: String,
}

impl std::fmt::Debug for CaMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CaMaterial { keys hidden }")
    }
}

fn ca_params(
    cn: &str,
    org: &str,
    pathlen: u8,
    from: DateTime<Utc>,
    years: i64,
) -> Result<CertificateParams> {
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    dn.push(DnType::OrganizationName, org);
    p.distinguished_name = dn;
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(pathlen));
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p.not_before = offset(from - chrono::Duration::minutes(5))?;
    p.not_after = offset(from + chrono::Duration::days(365 * years))?;
    p.use_authority_key_identifier_extension = true;
    Ok(p)
}

/// Creates a root CA (20 years) and an issuing CA (5 years) for the registry `name`.
pub fn create_ca(name: &str, alg: KeyAlgorithm, now: DateTime<Utc>) -> Result<CaMaterial> {
    let root_key = KeyPair::generate_for(alg.rcgen()?).map_err(ca_err)?;
    let mut root_params = ca_params(&format!("{name} Root CA"), name, 1, now, 20)?;
    root_params.use_authority_key_identifier_extension = false;
    let root_cert = root_params.self_signed(&root_key).map_err(ca_err)?;
    let issuer = Issuer::new(root_params, &root_key);
    let issuing_key = KeyPair::generate_for(alg.rcgen()?).map_err(ca_err)?;
    let issuing_cert = ca_params(&format!("{name} Issuing CA"), name, 0, now, 5)?
        .signed_by(&issuing_key, &issuer)
        .map_err(ca_err)?;
    Ok(CaMaterial {
        root_cert: root_cert.pem(),
        root_key: root_key.serialize_pem(),
        issuing_cert: issuing_cert.pem(),
        issuing_key: issuing_key.serialize_pem(),
    })
}

/// The system a certificate is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemSubject {
    /// Filing number.
    pub filing_number: String,
    /// System name (the certificate's common name).
    pub system_name: String,
    /// Provider's legal name (organisation).
    pub organisation: String,
    /// aigov tier.
    pub tier: String,
}

/// The SAN URI naming a filing number.
pub fn filing_uri(filing_number: &str) -> String {
    format!("urn:aigov:filing:{filing_number}")
}

/// A certificate request for a system, signed with the provider's key (PKCS#8 PEM: P-256,
/// Ed25519 or SM2).
pub fn make_csr(key_pem: &str, system_name: &str, filing_number: &str) -> Result<String> {
    if let Some(sm2_key) = gm::secret_key(key_pem) {
        return gm::make_csr(&sm2_key, system_name, filing_number);
    }
    let k = key(key_pem, "private key")?;
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, system_name);
    p.distinguished_name = dn;
    let uri = filing_uri(filing_number);
    p.subject_alt_names = vec![SanType::URI(uri.as_str().try_into().map_err(ca_err)?)];
    p.serialize_request(&k)
        .map_err(ca_err)?
        .pem()
        .map_err(ca_err)
}

/// The DER value of the aigov system extension: `SEQUENCE { filingNumber UTF8String, tier
/// UTF8String }`.
fn system_extension(filing: &str, tier: &str) -> Vec<u8> {
    yasna::construct_der(|w| {
        w.write_sequence(|w| {
            w.next().write_utf8_string(filing);
            w.next().write_utf8_string(tier);
        })
    })
}

fn parse_system_extension(value: &[u8]) -> Option<(String, String)> {
    yasna::parse_der(value, |r| {
        r.read_sequence(|r| Ok((r.next().read_utf8string()?, r.next().read_utf8string()?)))
    })
    .ok()
}

fn pem_der(pem: &str, what: &str) -> Result<Vec<u8>> {
    let (_, p) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).map_err(|e| Error::Parse {
        what: what.into(),
        message: format!("not PEM: {e}"),
    })?;
    Ok(p.contents)
}

/// Checks a certificate request and issues the system's certificate. `serial` must be unique
/// (up to 20 bytes, first byte below 0x80); validity is capped at [`MAX_LEAF_DAYS`].
///
/// Accepted subject keys: ECDSA on P-256 or P-384, Ed25519, RSA of 2048 bits or more, and SM2
/// (the request then signed with SM2-with-SM3). Whatever the request asks, the certificate
/// follows the registry's profile (see the `leaf` module): the subject, SAN and extensions come
/// from the registration, only the public key from the request.
pub fn issue(
    ca: &CaMaterial,
    csr_pem: &str,
    subject: &SystemSubject,
    serial: &[u8],
    now: DateTime<Utc>,
    days: i64,
) -> Result<String> {
    let der = pem_der(csr_pem, "certificate request")?;
    let (_, csr) = X509CertificationRequest::from_der(&der)
        .map_err(|e| Error::Csr(format!("not a PKCS#10 request: {e}")))?;
    let info = &csr.certification_request_info;
    let key_kind = check_key(&info.subject_pki)?;
    // After the key checks: a weak key's signature is not even checkable.
    let sig_alg = csr.signature_algorithm.algorithm.to_id_string();
    match (key_kind, sig_alg == SM2_WITH_SM3_OID) {
        (KeyKind::Sm2, true) => gm::verify_request(
            &info.subject_pki.subject_public_key.data,
            info.raw,
            &csr.signature_value.data,
        )?,
        (KeyKind::Sm2, false) | (KeyKind::Other, true) => {
            return Err(Error::Csr(format!(
                "an SM2 key signs its request with SM2-with-SM3 ({SM2_WITH_SM3_OID}), \
                 and only an SM2 key does (signature algorithm {sig_alg})"
            )));
        }
        (KeyKind::Other, false) => csr.verify_signature().map_err(|_| {
            Error::Csr("its signature does not verify (was it made with this key?)".into())
        })?,
    }

    for ext in csr.requested_extensions().into_iter().flatten() {
        match ext {
            ParsedExtension::BasicConstraints(bc) if bc.ca => {
                return Err(Error::Csr("it asks for a CA certificate".into()));
            }
            ParsedExtension::KeyUsage(ku)
                if ku.key_cert_sign()
                    || ku.crl_sign()
                    || ku.key_encipherment()
                    || ku.data_encipherment()
                    || ku.key_agreement() =>
            {
                return Err(Error::Csr(format!(
                    "key usage {ku} is not allowed: a system certificate only signs (digitalSignature)"
                )));
            }
            ParsedExtension::ExtendedKeyUsage(eku)
                if eku.any || eku.server_auth || eku.client_auth || eku.code_signing =>
            {
                return Err(Error::Csr(
                    "extended key usages other than document signing are not allowed".into(),
                ));
            }
            _ => {}
        }
    }
    if !(1..=MAX_LEAF_DAYS).contains(&days) {
        return Err(Error::Csr(format!(
            "validity of {days} days is outside 1..={MAX_LEAF_DAYS}"
        )));
    }
    if serial.is_empty() || serial.len() > 20 || serial[0] >= 0x80 {
        return Err(Error::Ca("serial must be 1-20 bytes and positive".into()));
    }
    let issuing_key = key(&ca.issuing_key, "issuing CA key")?;
    let issuing_cert = pem_der(&ca.issuing_cert, "issuing CA certificate")?;
    leaf::sign(
        &leaf::Leaf {
            spki: info.subject_pki.raw,
            subject,
            serial,
            not_before: now - chrono::Duration::minutes(5),
            not_after: now + chrono::Duration::days(days),
        },
        &issuing_cert,
        &issuing_key,
    )
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    Sm2,
    Other,
}

/// Refuses keys the registry does not certify: unknown algorithms and curves, weak sizes.
fn check_key(spki: &x509_parser::x509::SubjectPublicKeyInfo) -> Result<KeyKind> {
    const P256: &str = "1.2.840.10045.3.1.7";
    const P384: &str = "1.3.132.0.34";
    let alg = spki.algorithm.algorithm.to_id_string();
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok())
        .map(|o| o.to_id_string());
    match (alg.as_str(), curve.as_deref()) {
        // id-ecPublicKey: the curve decides.
        ("1.2.840.10045.2.1", Some(SM2_CURVE_OID)) => Ok(KeyKind::Sm2),
        ("1.2.840.10045.2.1", Some(P256 | P384)) => Ok(KeyKind::Other),
        ("1.2.840.10045.2.1", c) => Err(Error::Csr(format!(
            "an EC key on curve {} is not accepted (P-256, P-384 or SM2)",
            c.unwrap_or("(none named)")
        ))),
        // Ed25519.
        ("1.3.101.112", _) => Ok(KeyKind::Other),
        // rsaEncryption.
        ("1.2.840.113549.1.1.1", _) => match spki.parsed() {
            Ok(x509_parser::public_key::PublicKey::RSA(rsa)) if rsa.key_size() >= 2048 => {
                Ok(KeyKind::Other)
            }
            Ok(x509_parser::public_key::PublicKey::RSA(rsa)) => Err(Error::Csr(format!(
                "an RSA key of {} bits is too weak (2048 or more)",
                rsa.key_size()
            ))),
            _ => Err(Error::Csr("its RSA public key does not parse".into())),
        },
        _ => Err(Error::Csr(format!(
            "the key ({alg}) must be ECDSA P-256/P-384, Ed25519, SM2 or RSA ≥ 2048"
        ))),
    }
}

/// Why a certificate was revoked (RFC 5280 reason codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The private key leaked.
    KeyCompromise,
    /// The system's registration changed.
    AffiliationChanged,
    /// Replaced by a new certificate.
    Superseded,
    /// The system stopped operating or its filing was cancelled.
    CessationOfOperation,
    /// The system's registration is suspended.
    CertificateHold,
    /// No reason given.
    Unspecified,
}

impl Reason {
    /// Parses the snake_case name.
    pub fn parse(s: &str) -> Option<Reason> {
        Some(match s {
            "key_compromise" => Reason::KeyCompromise,
            "affiliation_changed" => Reason::AffiliationChanged,
            "superseded" => Reason::Superseded,
            "cessation_of_operation" => Reason::CessationOfOperation,
            "certificate_hold" => Reason::CertificateHold,
            "unspecified" => Reason::Unspecified,
            _ => return None,
        })
    }

    fn rcgen(self) -> rcgen::RevocationReason {
        match self {
            Reason::KeyCompromise => rcgen::RevocationReason::KeyCompromise,
            Reason::AffiliationChanged => rcgen::RevocationReason::AffiliationChanged,
            Reason::Superseded => rcgen::RevocationReason::Superseded,
            Reason::CessationOfOperation => rcgen::RevocationReason::CessationOfOperation,
            Reason::CertificateHold => rcgen::RevocationReason::CertificateHold,
            Reason::Unspecified => rcgen::RevocationReason::Unspecified,
        }
    }
}

/// A revoked certificate for the CRL.
#[derive(Debug, Clone)]
pub struct Revoked {
    /// Serial number bytes.
    pub serial: Vec<u8>,
    /// When it was revoked.
    pub at: DateTime<Utc>,
    /// Why.
    pub reason: Reason,
}

/// A CRL signed by the issuing CA (DER), valid until `next_update`.
pub fn crl(
    ca: &CaMaterial,
    revoked: &[Revoked],
    number: u64,
    now: DateTime<Utc>,
    next_update: DateTime<Utc>,
) -> Result<Vec<u8>> {
    let params = CertificateRevocationListParams {
        this_update: offset(now)?,
        next_update: offset(next_update)?,
        crl_number: SerialNumber::from_slice(&number.to_be_bytes()),
        issuing_distribution_point: None,
        revoked_certs: revoked
            .iter()
            .map(|r| {
                Ok(RevokedCertParams {
                    serial_number: SerialNumber::from_slice(&r.serial),
                    revocation_time: offset(r.at)?,
                    reason_code: Some(r.reason.rcgen()),
                    invalidity_date: None,
                })
            })
            .collect::<Result<_>>()?,
        key_identifier_method: rcgen::KeyIdMethod::Sha256,
    };
    let issuing_key = key(&ca.issuing_key, "issuing CA key")?;
    let issuer = Issuer::from_ca_cert_pem(&ca.issuing_cert, &issuing_key).map_err(ca_err)?;
    Ok(params.signed_by(&issuer).map_err(ca_err)?.der().to_vec())
}

/// What a system certificate says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// Serial number (lower-case hex).
    pub serial: String,
    /// Subject common name.
    pub common_name: String,
    /// Filing number from the aigov extension (falls back to the SAN URI).
    pub filing_number: Option<String>,
    /// Tier from the aigov extension.
    pub tier: Option<String>,
    /// Validity start.
    pub not_before: DateTime<Utc>,
    /// Validity end.
    pub not_after: DateTime<Utc>,
}

/// Reads a certificate.
pub fn inspect(cert_pem: &str) -> Result<CertInfo> {
    let der = pem_der(cert_pem, "certificate")?;
    let (_, cert) = X509Certificate::from_der(&der).map_err(|e| Error::Parse {
        what: "certificate".into(),
        message: e.to_string(),
    })?;
    let mut filing = None;
    let mut tier = None;
    for ext in cert.extensions() {
        if ext.oid.to_id_string() == SYSTEM_EXTENSION_OID
            && let Some((f, t)) = parse_system_extension(ext.value)
        {
            filing = Some(f);
            tier = Some(t);
        }
    }
    if filing.is_none()
        && let Ok(Some(san)) = cert.subject_alternative_name()
    {
        for n in &san.value.general_names {
            if let GeneralName::URI(u) = n
                && let Some(f) = u.strip_prefix("urn:aigov:filing:")
            {
                filing = Some(f.to_string());
            }
        }
    }
    let ts = |t: ASN1Time| DateTime::from_timestamp(t.timestamp(), 0).unwrap_or_default();
    Ok(CertInfo {
        serial: hex(cert.raw_serial()),
        common_name: cert
            .subject()
            .iter_common_name()
            .next()
            .and_then(|c| c.as_str().ok())
            .unwrap_or_default()
            .to_string(),
        filing_number: filing,
        tier,
        not_before: ts(cert.validity().not_before),
        not_after: ts(cert.validity().not_after),
    })
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Verifies that `cert_pem` chains through `issuing_pem` to `root_pem` at `now` and may sign
/// documents (EKU documentSigning). Revocation is checked separately (CRL or status endpoint).
pub fn verify(cert_pem: &str, issuing_pem: &str, root_pem: &str, now: DateTime<Utc>) -> Result<()> {
    let leaf = pem_der(cert_pem, "certificate")?;
    let inter = pem_der(issuing_pem, "issuing CA certificate")?;
    let root = pem_der(root_pem, "root CA certificate")?;
    let root_der = CertificateDer::from(root.as_slice());
    let anchor = webpki::anchor_from_trusted_cert(&root_der)
        .map_err(|e| Error::Verify(format!("root: {e:?}")))?;
    let leaf_der = CertificateDer::from(leaf.as_slice());
    let ee =
        webpki::EndEntityCert::try_from(&leaf_der).map_err(|e| Error::Verify(format!("{e:?}")))?;
    let secs =
        u64::try_from(now.timestamp()).map_err(|_| Error::Verify("time before 1970".into()))?;
    ee.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        &[anchor],
        &[CertificateDer::from(inter.as_slice())],
        UnixTime::since_unix_epoch(std::time::Duration::from_secs(secs)),
        // CA certificates carry no EKU; the leaf's is checked below.
        webpki::KeyUsage::required_if_present(EKU_DOCUMENT_SIGNING_DER),
        None,
        None,
    )
    .map_err(|e| Error::Verify(format!("{e:?}")))?;
    let (_, cert) = X509Certificate::from_der(&leaf).map_err(|e| Error::Verify(e.to_string()))?;
    let eku = cert
        .extended_key_usage()
        .ok()
        .flatten()
        .map(|e| {
            e.value
                .other
                .iter()
                .map(|o| o.to_id_string())
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    if !eku.iter().any(|o| o == EKU_DOCUMENT_SIGNING) {
        return Err(Error::Verify(
            "the certificate is not for document signing (EKU 1.3.6.1.5.5.7.3.36 missing)".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
