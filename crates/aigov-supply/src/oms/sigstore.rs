//! Sigstore-mode bundles (Fulcio certificate + Rekor entry), verified offline.
//!
//! Always checked, from the bundle alone: the DSSE signature with the Fulcio certificate's key;
//! that the Rekor entry's canonical body records this payload (SHA-256), this signature and
//! this certificate; the Merkle inclusion proof of that body up to the proof's root hash.
//!
//! Checked when a trusted root (Sigstore's `trusted_root.json`) is given: the certificate
//! chains to one of its Fulcio CAs at the time Rekor integrated the entry (the certificate
//! lives ten minutes); the log is one of its Rekor logs and the signed entry timestamp and the
//! checkpoint are signed by that log's key; the checkpoint commits to the proof's root; the
//! signer identity (certificate SAN) and OIDC issuer match what the caller expects.
//!
//! Not checked: the certificate's embedded SCTs (CT log promises) and RFC 3161 timestamps;
//! Rekor v2 (Ed25519) logs are reported as unsupported.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;
use sha2::Digest as _;
use x509_parser::prelude::*;

use super::VerifyError;
use super::bundle::{Bundle, Material, TlogEntry};
use super::chain;
use super::keys::{MessageHash, PublicKey, pem_blocks};

/// Fulcio's OIDC issuer extensions (v2 DER string, then v1 raw bytes).
const OID_ISSUER_V2: &str = "1.3.6.1.4.1.57264.1.8";
const OID_ISSUER_V1: &str = "1.3.6.1.4.1.57264.1.1";

/// A Rekor log of the trusted root.
#[derive(Debug, Clone)]
pub struct TrustedLog {
    /// SHA-256 of the log's public key DER.
    pub log_id: Vec<u8>,
    /// The log's key (ECDSA).
    pub key: Option<PublicKey>,
    /// Key type as the trusted root names it.
    pub key_details: String,
}

/// A Fulcio CA of the trusted root: intermediates then root (DER).
#[derive(Debug, Clone)]
pub struct TrustedCa {
    /// Certificates, issuing certificate first, root last.
    pub chain: Vec<Vec<u8>>,
    /// Validity window (Unix seconds).
    pub valid_from: i64,
    /// End of validity, if any.
    pub valid_until: Option<i64>,
}

/// Sigstore's trusted root (`application/vnd.dev.sigstore.trustedroot+json;version=0.1`).
#[derive(Debug, Clone, Default)]
pub struct TrustedRoot {
    /// Rekor logs.
    pub logs: Vec<TrustedLog>,
    /// Fulcio CAs.
    pub cas: Vec<TrustedCa>,
}

fn bad(msg: impl Into<String>) -> VerifyError {
    VerifyError::Sigstore(msg.into())
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.frac]Z` into Unix seconds.
fn rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || !s.ends_with('Z') {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
    let (h, mi, se) = (n(11..13)?, n(14..16)?, n(17..19)?);
    // Days from civil (Howard Hinnant's algorithm).
    let y2 = if mo <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * (if mo > 2 { mo - 3 } else { mo + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + mi * 60 + se)
}

impl TrustedRoot {
    /// Parses a trusted root JSON document.
    pub fn parse(bytes: &[u8]) -> Result<TrustedRoot, VerifyError> {
        let v: Value = serde_json::from_slice(bytes)
            .map_err(|e| bad(format!("trusted root is not JSON: {e}")))?;
        let mut root = TrustedRoot::default();
        for (i, t) in v["tlogs"].as_array().into_iter().flatten().enumerate() {
            let log_id = t["logId"]["keyId"]
                .as_str()
                .and_then(|s| B64.decode(s).ok())
                .ok_or_else(|| bad(format!("trusted root tlogs[{i}].logId.keyId is missing")))?;
            let key_details = t["publicKey"]["keyDetails"]
                .as_str()
                .unwrap_or("")
                .to_string();
            let key = t["publicKey"]["rawBytes"]
                .as_str()
                .and_then(|s| B64.decode(s).ok())
                .and_then(|der| PublicKey::from_spki_der(&der).ok());
            root.logs.push(TrustedLog {
                log_id,
                key,
                key_details,
            });
        }
        for (i, c) in v["certificateAuthorities"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            let chain = c["certChain"]["certificates"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|x| x["rawBytes"].as_str().and_then(|s| B64.decode(s).ok()))
                .collect::<Option<Vec<_>>>()
                .filter(|c| !c.is_empty())
                .ok_or_else(|| {
                    bad(format!(
                        "trusted root certificateAuthorities[{i}].certChain is malformed"
                    ))
                })?;
            let valid_from = c["validFor"]["start"]
                .as_str()
                .and_then(rfc3339)
                .unwrap_or(i64::MIN);
            let valid_until = c["validFor"]["end"].as_str().and_then(rfc3339);
            root.cas.push(TrustedCa {
                chain,
                valid_from,
                valid_until,
            });
        }
        if root.logs.is_empty() || root.cas.is_empty() {
            return Err(bad("trusted root lists no Rekor log or no Fulcio CA"));
        }
        Ok(root)
    }
}

/// What a Sigstore verification requires.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// The trusted root; without it the signer is not authenticated (see the module docs).
    pub trusted_root: Option<TrustedRoot>,
    /// Expected signer identity (e-mail or URI in the certificate), if any.
    pub identity: Option<String>,
    /// Expected OIDC issuer, if any.
    pub issuer: Option<String>,
}

/// The signer of a Sigstore bundle.
#[derive(Debug, Clone)]
pub struct SigstoreSigner {
    /// The Fulcio certificate's key.
    pub key: PublicKey,
    /// Identities in the certificate (SAN e-mails and URIs).
    pub identities: Vec<String>,
    /// The OIDC issuer recorded by Fulcio.
    pub issuer: Option<String>,
    /// When Rekor integrated the entry (Unix seconds).
    pub integrated_time: i64,
    /// The entry's index in Rekor.
    pub log_index: u64,
    /// Whether the certificate and log were authenticated against a trusted root.
    pub authenticated: bool,
}

fn identities_and_issuer(cert: &X509Certificate<'_>) -> (Vec<String>, Option<String>) {
    let mut ids = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for n in &san.value.general_names {
            match n {
                GeneralName::RFC822Name(s) | GeneralName::URI(s) => ids.push((*s).to_string()),
                _ => {}
            }
        }
    }
    let mut issuer = None;
    for ext in cert.extensions() {
        let oid = ext.oid.to_id_string();
        if oid == OID_ISSUER_V2 {
            // A DER UTF8String: tag, short length, bytes.
            if let Some(s) = ext.value.get(2..).and_then(|b| std::str::from_utf8(b).ok()) {
                issuer = Some(s.to_string());
            }
        } else if oid == OID_ISSUER_V1 && issuer.is_none() {
            issuer = std::str::from_utf8(ext.value).ok().map(str::to_string);
        }
    }
    (ids, issuer)
}

/// Checks that the Rekor body records this envelope.
fn check_body(b: &Bundle, entry: &TlogEntry, cert_der: &[u8]) -> Result<(), VerifyError> {
    let body: Value = serde_json::from_slice(&entry.canonicalized_body)
        .map_err(|_| bad("the Rekor entry's body is not JSON"))?;
    if entry.kind.0 != "dsse" || body["kind"] != "dsse" {
        return Err(bad(format!(
            "the Rekor entry is of kind `{}`; only dsse entries are supported",
            entry.kind.0
        )));
    }
    let spec = &body["spec"];
    let payload_hash = hex::encode(sha2::Sha256::digest(&b.payload));
    if spec["payloadHash"]["value"].as_str() != Some(payload_hash.as_str()) {
        return Err(bad("the Rekor entry records another payload"));
    }
    let sigs = spec["signatures"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let recorded = sigs.iter().any(|s| {
        let sig_ok = s["signature"]
            .as_str()
            .and_then(|x| B64.decode(x).ok())
            .is_some_and(|x| x == b.signatures[0]);
        let verifier_ok = s["verifier"]
            .as_str()
            .and_then(|x| B64.decode(x).ok())
            .and_then(|pem| pem_blocks(&pem).ok())
            .is_some_and(|blocks| blocks.iter().any(|p| p.der == cert_der));
        sig_ok && verifier_ok
    });
    if !recorded {
        return Err(bad(
            "the Rekor entry records another signature or certificate",
        ));
    }
    Ok(())
}

fn check_inclusion(entry: &TlogEntry) -> Result<(), VerifyError> {
    let Some(p) = &entry.inclusion_proof else {
        return Err(bad("the Rekor entry has no inclusion proof"));
    };
    let leaf = aigov_tlog::hash::leaf_hash(&entry.canonicalized_body);
    aigov_tlog::rfc9162::verify_inclusion(
        p.log_index,
        p.tree_size,
        &leaf.0,
        &p.hashes,
        &p.root_hash,
    )
    .map_err(|e| bad(format!("the Rekor inclusion proof does not verify: {e}")))
}

/// Signed entry timestamp: the log's signature over canonical JSON of the entry.
fn check_set(entry: &TlogEntry, key: &PublicKey) -> Result<(), VerifyError> {
    let Some(set) = &entry.signed_entry_timestamp else {
        return Err(bad("the Rekor entry has no signed entry timestamp"));
    };
    let msg = format!(
        "{{\"body\":\"{}\",\"integratedTime\":{},\"logID\":\"{}\",\"logIndex\":{}}}",
        B64.encode(&entry.canonicalized_body),
        entry.integrated_time,
        hex::encode(&entry.log_id),
        entry.log_index
    );
    if key.verify(msg.as_bytes(), set, MessageHash::Sha256) {
        Ok(())
    } else {
        Err(bad(
            "the signed entry timestamp does not verify with the log's key",
        ))
    }
}

/// The checkpoint: a signed note whose body names the tree size and root of the proof.
fn check_checkpoint(entry: &TlogEntry, key: &PublicKey) -> Result<(), VerifyError> {
    let Some(p) = &entry.inclusion_proof else {
        return Ok(());
    };
    let Some(note) = &p.checkpoint else {
        return Err(bad("the inclusion proof has no checkpoint"));
    };
    let Some(split) = note.find("\n\n") else {
        return Err(bad("the checkpoint is not a signed note"));
    };
    let text = &note[..split + 1];
    let lines: Vec<&str> = text.lines().collect();
    let size_ok = lines.get(1).and_then(|l| l.parse::<u64>().ok()) == Some(p.tree_size);
    let root_ok =
        lines.get(2).and_then(|l| B64.decode(l).ok()).as_deref() == Some(&p.root_hash[..]);
    if !size_ok || !root_ok {
        return Err(bad(
            "the checkpoint names another tree than the inclusion proof",
        ));
    }
    let signed = note[split + 2..].lines().any(|l| {
        let Some(rest) = l.strip_prefix("\u{2014} ") else {
            return false;
        };
        let Some(sig) = rest.rsplit(' ').next().and_then(|s| B64.decode(s).ok()) else {
            return false;
        };
        sig.len() > 4
            && sig[..4] == entry.log_id[..4.min(entry.log_id.len())]
            && key.verify(text.as_bytes(), &sig[4..], MessageHash::Sha256)
    });
    if signed {
        Ok(())
    } else {
        Err(bad("the checkpoint is not signed by the log's key"))
    }
}

fn check_chain(cert_der: &[u8], root: &TrustedRoot, t: i64) -> Result<(), VerifyError> {
    let mut last = String::from("no Fulcio CA in the trusted root");
    for ca in &root.cas {
        if t < ca.valid_from || ca.valid_until.is_some_and(|u| t > u) {
            continue;
        }
        let (anchor, inter) = match ca.chain.split_last() {
            Some(x) => x,
            None => continue,
        };
        let mut chain = vec![cert_der.to_vec()];
        chain.extend(inter.iter().cloned());
        match chain::verify_chain(&chain, std::slice::from_ref(anchor), Some(t)) {
            Ok(_) => return Ok(()),
            Err(e) => last = e.0,
        }
    }
    Err(bad(format!(
        "the certificate does not chain to a Fulcio CA of the trusted root at the integration time: {last}"
    )))
}

/// Verifies a Sigstore bundle's certificate and log entry (not the DSSE signature, which the
/// caller checks with the returned key).
pub fn verify(b: &Bundle, policy: &Policy) -> Result<SigstoreSigner, VerifyError> {
    let Material::Certificate(cert_der) = &b.material else {
        return Err(bad("the bundle is not a Sigstore bundle"));
    };
    let cert = match X509Certificate::from_der(cert_der) {
        Ok((_, c)) => c,
        Err(e) => return Err(bad(format!("the Fulcio certificate is malformed: {e}"))),
    };
    let key = PublicKey::from_spki_der(cert.public_key().raw)
        .map_err(|e| bad(format!("the Fulcio certificate's key: {e}")))?;
    let (identities, issuer) = identities_and_issuer(&cert);
    let Some(entry) = b.tlog_entries.first() else {
        return Err(bad("the bundle has no Rekor entry"));
    };
    check_body(b, entry, cert_der)?;
    check_inclusion(entry)?;
    let t = entry.integrated_time;
    let v = cert.validity();
    if t < v.not_before.timestamp() || t > v.not_after.timestamp() {
        return Err(bad(
            "Rekor integrated the entry outside the certificate's validity",
        ));
    }
    let authenticated = match &policy.trusted_root {
        None => false,
        Some(root) => {
            let log = root
                .logs
                .iter()
                .find(|l| l.log_id == entry.log_id)
                .ok_or_else(|| {
                    bad("the Rekor entry is from a log that is not in the trusted root")
                })?;
            let Some(log_key) = &log.key else {
                return Err(bad(format!(
                    "the log's key type {} is not supported here",
                    log.key_details
                )));
            };
            check_set(entry, log_key)?;
            check_checkpoint(entry, log_key)?;
            check_chain(cert_der, root, t)?;
            true
        }
    };
    if let Some(want) = &policy.identity
        && !identities.iter().any(|i| i == want)
    {
        return Err(bad(format!(
            "the certificate is for {identities:?}, not `{want}`"
        )));
    }
    if let Some(want) = &policy.issuer
        && issuer.as_deref() != Some(want.as_str())
    {
        return Err(bad(format!(
            "the certificate's OIDC issuer is {issuer:?}, not `{want}`"
        )));
    }
    Ok(SigstoreSigner {
        key,
        identities,
        issuer,
        integrated_time: t,
        log_index: entry.log_index,
        authenticated,
    })
}

#[cfg(test)]
mod tests {
    use super::rfc3339;

    #[test]
    fn rfc3339_parses() {
        assert_eq!(rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(rfc3339("2021-01-12T11:53:27Z"), Some(1_610_452_407));
        assert_eq!(rfc3339("2022-12-31T23:59:59.999Z"), Some(1_672_531_199));
        assert_eq!(rfc3339("2022-12-31"), None);
    }
}
