//! The system certificate itself, built field by field so that any subject key the registry
//! accepts (ECDSA, Ed25519, RSA, SM2) can be certified by the issuing CA, whatever its own key.
//!
//! Profile (RFC 5280; the same for every subject key):
//!
//! | field / extension        | value                                             | critical |
//! |--------------------------|---------------------------------------------------|----------|
//! | version                  | v3                                                |          |
//! | serial                   | given by the registry                             |          |
//! | issuer                   | the issuing CA's subject, byte for byte           |          |
//! | subject                  | CN = system name, O = provider                    |          |
//! | subjectPublicKeyInfo     | the request's, byte for byte                      |          |
//! | authorityKeyIdentifier   | the issuing CA's subjectKeyIdentifier             | no       |
//! | subjectAltName           | URI `urn:aigov:filing:<number>`                   | no       |
//! | keyUsage                 | digitalSignature                                  | yes      |
//! | extKeyUsage              | documentSigning, C2PA claim signing               | no       |
//! | subjectKeyIdentifier     | first 20 bytes of SHA-256 of the SPKI             | no       |
//! | basicConstraints         | cA false                                          | yes      |
//! | aigov system extension   | filing number and tier                            | no       |

use chrono::{DateTime, Utc};
use rcgen::{KeyPair, SigningKey};
use sha2::{Digest, Sha256};
use x509_parser::prelude::{FromDer, ParsedExtension, X509Certificate};
use yasna::models::{GeneralizedTime, ObjectIdentifier, UTCTime};
use yasna::{DERWriter, Tag};

use crate::{Error, Result, SystemSubject};

/// What goes into one system certificate.
pub(crate) struct Leaf<'a> {
    /// The subject's SubjectPublicKeyInfo (DER), from the request.
    pub spki: &'a [u8],
    pub subject: &'a SystemSubject,
    pub serial: &'a [u8],
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
}

/// An OID from its dotted form (arcs up to 64 bits, as the aigov system extension needs).
pub(crate) fn oid(dotted: &str) -> Result<ObjectIdentifier> {
    let arcs = dotted
        .split('.')
        .map(str::parse)
        .collect::<std::result::Result<Vec<u64>, _>>()
        .map_err(|_| Error::Ca(format!("bad OID {dotted}")))?;
    Ok(ObjectIdentifier::from_slice(&arcs))
}

/// The signature algorithm of a CA key, as written in the certificates it signs.
fn signature_algorithm(key: &KeyPair) -> Result<ObjectIdentifier> {
    let alg = key.algorithm();
    oid(if alg == &rcgen::PKCS_ECDSA_P256_SHA256 {
        "1.2.840.10045.4.3.2"
    } else if alg == &rcgen::PKCS_ECDSA_P384_SHA384 {
        "1.2.840.10045.4.3.3"
    } else if alg == &rcgen::PKCS_ED25519 {
        "1.3.101.112"
    } else {
        return Err(Error::Ca(
            "the issuing CA key must be ECDSA P-256/P-384 or Ed25519".into(),
        ));
    })
}

/// RFC 5280: UTCTime through 2049, GeneralizedTime from 2050.
fn write_time(w: DERWriter, t: ::time::OffsetDateTime) {
    if t.year() < 2050 {
        w.write_utctime(&UTCTime::from_datetime(t));
    } else {
        w.write_generalized_time(&GeneralizedTime::from_datetime(t));
    }
}

const COMMON_NAME: &str = "2.5.4.3";
const ORGANISATION: &str = "2.5.4.10";

/// A name of one UTF8String attribute per RDN, in order (`attr` is the attribute's OID).
pub(crate) fn write_name(w: DERWriter, parts: &[(ObjectIdentifier, &str)]) {
    w.write_sequence(|w| {
        for (attr, value) in parts {
            w.next().write_set(|w| {
                w.next().write_sequence(|w| {
                    w.next().write_oid(attr);
                    w.next().write_utf8_string(value);
                })
            });
        }
    })
}

/// `CN=<cn>`.
pub(crate) fn common_name(cn: &str) -> Result<(ObjectIdentifier, &str)> {
    Ok((oid(COMMON_NAME)?, cn))
}

/// The SAN extension value naming the filing.
pub(crate) fn filing_san(filing_number: &str) -> Result<Vec<u8>> {
    let uri = crate::filing_uri(filing_number);
    if !uri.is_ascii() {
        return Err(Error::Csr(format!(
            "filing number {filing_number:?} is not ASCII"
        )));
    }
    Ok(yasna::construct_der(|w| {
        w.write_sequence(|w| {
            w.next()
                .write_tagged_implicit(Tag::context(6), |w| w.write_ia5_string(&uri))
        })
    }))
}

/// One extension: `SEQUENCE { id, critical (only if true), OCTET STRING value }`.
pub(crate) fn write_extension(w: DERWriter, id: &ObjectIdentifier, critical: bool, value: &[u8]) {
    w.write_sequence(|w| {
        w.next().write_oid(id);
        if critical {
            w.next().write_bool(true);
        }
        w.next().write_bytes(value);
    })
}

fn key_id(spki_der: &[u8]) -> Vec<u8> {
    Sha256::digest(spki_der)[..20].to_vec()
}

/// The issuing CA: its subject (DER) and the key identifier of its key.
fn issuing_ca(der: &[u8]) -> Result<(Vec<u8>, Vec<u8>)> {
    let (_, cert) = X509Certificate::from_der(der).map_err(|e| Error::Parse {
        what: "issuing CA certificate".into(),
        message: e.to_string(),
    })?;
    let ski = cert
        .extensions()
        .iter()
        .find_map(|e| match e.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(k) => Some(k.0.to_vec()),
            _ => None,
        });
    Ok((
        cert.subject().as_raw().to_vec(),
        ski.unwrap_or_else(|| key_id(cert.public_key().raw)),
    ))
}

/// Builds and signs the certificate (PEM).
pub(crate) fn sign(leaf: &Leaf, issuing_cert_der: &[u8], issuing_key: &KeyPair) -> Result<String> {
    let (issuer, authority_key_id) = issuing_ca(issuing_cert_der)?;
    let algorithm = signature_algorithm(issuing_key)?;
    let not_before = crate::offset(leaf.not_before)?;
    let not_after = crate::offset(leaf.not_after)?;
    let san = filing_san(&leaf.subject.filing_number)?;
    let names = [
        (oid(COMMON_NAME)?, leaf.subject.system_name.as_str()),
        (oid(ORGANISATION)?, leaf.subject.organisation.as_str()),
    ];
    let usages = [
        oid(crate::EKU_DOCUMENT_SIGNING)?,
        oid(crate::EKU_C2PA_CLAIM_SIGNING)?,
    ];
    let ext =
        |id: &str, critical: bool, value: Vec<u8>| Ok::<_, Error>((oid(id)?, critical, value));
    let extensions = [
        ext(
            "2.5.29.35",
            false,
            yasna::construct_der(|w| {
                w.write_sequence(|w| {
                    w.next().write_tagged_implicit(Tag::context(0), |w| {
                        w.write_bytes(&authority_key_id)
                    })
                })
            }),
        )?,
        ext("2.5.29.17", false, san)?,
        // keyUsage: BIT STRING with bit 0 (digitalSignature) set.
        ext(
            "2.5.29.15",
            true,
            yasna::construct_der(|w| w.write_bitvec_bytes(&[0x80], 1)),
        )?,
        ext(
            "2.5.29.37",
            false,
            yasna::construct_der(|w| {
                w.write_sequence(|w| {
                    for usage in &usages {
                        w.next().write_oid(usage);
                    }
                })
            }),
        )?,
        ext(
            "2.5.29.14",
            false,
            yasna::construct_der(|w| w.write_bytes(&key_id(leaf.spki))),
        )?,
        // basicConstraints: cA false (the DEFAULT, so an empty SEQUENCE).
        ext(
            "2.5.29.19",
            true,
            yasna::construct_der(|w| w.write_sequence(|_| {})),
        )?,
        ext(
            crate::SYSTEM_EXTENSION_OID,
            false,
            crate::system_extension(&leaf.subject.filing_number, &leaf.subject.tier),
        )?,
    ];
    let tbs = yasna::construct_der(|w| {
        w.write_sequence(|w| {
            w.next().write_tagged(Tag::context(0), |w| w.write_u8(2));
            w.next().write_bigint_bytes(leaf.serial, true);
            w.next().write_sequence(|w| w.next().write_oid(&algorithm));
            w.next().write_der(&issuer);
            w.next().write_sequence(|w| {
                write_time(w.next(), not_before);
                write_time(w.next(), not_after);
            });
            write_name(w.next(), &names);
            w.next().write_der(leaf.spki);
            w.next().write_tagged(Tag::context(3), |w| {
                w.write_sequence(|w| {
                    for (id, critical, value) in &extensions {
                        write_extension(w.next(), id, *critical, value);
                    }
                })
            });
        })
    });
    let signature = issuing_key.sign(&tbs).map_err(crate::ca_err)?;
    Ok(signed_pem("CERTIFICATE", &tbs, &algorithm, &signature))
}

/// A signed X.509 object (certificate, request) as PEM: `SEQUENCE { body, SEQUENCE { algorithm
/// } (no parameters), BIT STRING signature }`.
pub(crate) fn signed_pem(
    label: &str,
    body: &[u8],
    algorithm: &ObjectIdentifier,
    signature: &[u8],
) -> String {
    let der = yasna::construct_der(|w| {
        w.write_sequence(|w| {
            w.next().write_der(body);
            w.next().write_sequence(|w| w.next().write_oid(algorithm));
            w.next().write_bitvec_bytes(signature, signature.len() * 8);
        })
    });
    crate::pem(label, &der)
}
