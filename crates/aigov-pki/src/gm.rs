//! SM2 keys and certificate requests (Chinese commercial cryptography: GM/T 0003 SM2 with the
//! SM3 hash, GM/T 0009 default distinguishing identifier, GM/T 0015 X.509 profile).
//!
//! rcgen and ring know no SM2, so requests made with an SM2 key are built and checked here with
//! the RustCrypto `sm2` crate. In X.509 (certificates and PKCS#10 requests) an SM2 signature is
//! DER `SEQUENCE { r INTEGER, s INTEGER }` under the algorithm `SM2-with-SM3`
//! (1.2.156.10197.1.501, no parameters), as OpenSSL writes it; the public key is an
//! `id-ecPublicKey` with the named curve SM2 (1.2.156.10197.1.301).

use sm2::dsa::signature::{Signer as _, Verifier as _};
use sm2::elliptic_curve::rand_core::OsRng;
use sm2::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey};

use crate::leaf::{common_name, filing_san, oid, signed_pem, write_extension, write_name};
use crate::{Error, Result};

/// OID of the SM2 named curve.
pub const SM2_CURVE_OID: &str = "1.2.156.10197.1.301";
/// OID of the signature algorithm SM2 with SM3.
pub const SM2_WITH_SM3_OID: &str = "1.2.156.10197.1.501";
/// The distinguishing identifier in SM2 signatures: the default of GM/T 0009-2012, which
/// OpenSSL also uses for certificates and requests.
pub const SM2_DISTID: &str = "1234567812345678";

/// PKCS#9 extensionRequest.
const EXTENSION_REQUEST_OID: &str = "1.2.840.113549.1.9.14";

/// A new SM2 private key, as PKCS#8 PEM.
pub(crate) fn generate_key() -> Result<String> {
    Ok(sm2::SecretKey::random(&mut OsRng)
        .to_pkcs8_pem(Default::default())
        .map_err(crate::ca_err)?
        .to_string())
}

/// The SM2 key of a PKCS#8 PEM text, if it holds one.
pub(crate) fn secret_key(pem: &str) -> Option<sm2::SecretKey> {
    sm2::SecretKey::from_pkcs8_pem(pem).ok()
}

/// A PKCS#10 request signed with SM2/SM3: subject CN = `system_name`, and an extension
/// request for the SAN URI naming the filing.
pub(crate) fn make_csr(
    key: &sm2::SecretKey,
    system_name: &str,
    filing_number: &str,
) -> Result<String> {
    let spki = key
        .public_key()
        .to_public_key_der()
        .map_err(crate::ca_err)?;
    let san = filing_san(filing_number)?;
    let cn = common_name(system_name)?;
    let (ext_req, san_oid, sm2_sm3) = (
        oid(EXTENSION_REQUEST_OID)?,
        oid("2.5.29.17")?,
        oid(SM2_WITH_SM3_OID)?,
    );
    let info = yasna::construct_der(|w| {
        w.write_sequence(|w| {
            w.next().write_u8(0);
            write_name(w.next(), &[cn]);
            w.next().write_der(spki.as_bytes());
            w.next().write_tagged_implicit(yasna::Tag::context(0), |w| {
                w.write_set(|w| {
                    w.next().write_sequence(|w| {
                        w.next().write_oid(&ext_req);
                        w.next().write_set(|w| {
                            w.next().write_sequence(|w| {
                                write_extension(w.next(), &san_oid, false, &san)
                            })
                        });
                    })
                })
            });
        })
    });
    let signer = sm2::dsa::SigningKey::new(SM2_DISTID, key).map_err(crate::ca_err)?;
    let sig = signature_der(&signer.sign(&info));
    Ok(signed_pem("CERTIFICATE REQUEST", &info, &sm2_sm3, &sig))
}

/// The identifiers a request's signature may use: the standard one, and the empty one that
/// OpenSSL 3.0's `req` uses unless given `-sigopt distid:1234567812345678`. Either proves that
/// the requester holds the key, which is all a request's signature is for.
const REQUEST_DISTIDS: [&str; 2] = [SM2_DISTID, ""];

/// Checks a request's SM2-with-SM3 signature (DER) over `message` by the SEC1 point
/// `public_point`.
pub(crate) fn verify_request(public_point: &[u8], message: &[u8], signature: &[u8]) -> Result<()> {
    let sig = signature_from_der(signature)
        .ok_or_else(|| Error::Csr("its SM2 signature is not DER SEQUENCE { r, s }".into()))?;
    for distid in REQUEST_DISTIDS {
        let key = sm2::dsa::VerifyingKey::from_sec1_bytes(distid, public_point)
            .map_err(|_| Error::Csr("its public key is not a point on the SM2 curve".into()))?;
        if key.verify(message, &sig).is_ok() {
            return Ok(());
        }
    }
    Err(Error::Csr(
        "its signature does not verify (was it made with this key?)".into(),
    ))
}

/// `SEQUENCE { r INTEGER, s INTEGER }`.
fn signature_der(sig: &sm2::dsa::Signature) -> Vec<u8> {
    yasna::construct_der(|w| {
        w.write_sequence(|w| {
            w.next().write_bigint_bytes(&sig.r_bytes(), true);
            w.next().write_bigint_bytes(&sig.s_bytes(), true);
        })
    })
}

/// The inverse of [`signature_der`], strict: DER (minimal integers, nothing after), positive
/// integers of at most 32 bytes.
fn signature_from_der(der: &[u8]) -> Option<sm2::dsa::Signature> {
    let (r, s) = yasna::parse_der(der, |rd| {
        rd.read_sequence(|rd| {
            Ok((
                rd.next().read_bigint_bytes()?,
                rd.next().read_bigint_bytes()?,
            ))
        })
    })
    .ok()?;
    fn scalar((int, positive): (Vec<u8>, bool)) -> Option<[u8; 32]> {
        if !positive {
            return None;
        }
        // A positive integer whose top bit is set carries one leading zero byte.
        let digits = int.strip_prefix(&[0u8][..]).unwrap_or(&int);
        let mut out = [0u8; 32];
        let at = 32usize.checked_sub(digits.len())?;
        out[at..].copy_from_slice(digits);
        Some(out)
    }
    sm2::dsa::Signature::from_scalars(scalar(r)?, scalar(s)?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_round_trip_through_der_and_odd_encodings_are_refused() {
        let key = sm2::SecretKey::from_slice(&[0x21; 32]).unwrap();
        let signer = sm2::dsa::SigningKey::new(SM2_DISTID, &key).unwrap();
        for msg in [&b"a"[..], b"certification request info", &[0xff; 300]] {
            let sig: sm2::dsa::Signature = signer.sign(msg);
            let der = signature_der(&sig);
            assert_eq!(signature_from_der(&der), Some(sig));
            let point = key.public_key().to_sec1_bytes();
            verify_request(&point, msg, &der).unwrap();
            assert!(verify_request(&point, b"other", &der).is_err());
        }
        // Not a sequence, trailing bytes, a negative or a non-minimal integer.
        assert!(signature_from_der(&[0x31, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01]).is_none());
        assert!(
            signature_from_der(&[0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x00]).is_none()
        );
        assert!(signature_from_der(&[0x30, 0x06, 0x02, 0x01, 0x81, 0x02, 0x01, 0x01]).is_none());
        assert!(
            signature_from_der(&[0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x01]).is_none()
        );
        assert!(signature_from_der(&[0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01]).is_some());
    }
}
