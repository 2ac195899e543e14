//! The signature file: a Sigstore bundle (v0.3 JSON) holding a DSSE envelope whose payload is
//! an in-toto Statement v1 with the model-signing predicate.
//!
//! Signed bytes: DSSE PAE `"DSSEv1" SP len(type) SP type SP len(payload) SP payload`, where
//! `type` is `application/vnd.in-toto+json` and `payload` is exactly the bytes base64-encoded
//! in the envelope (so verifiers never re-serialise JSON). Bundles written by the reference
//! tool before v1.0 signed a different, buggy encoding ([`pae_compat`]).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Map, Value, json};

use super::hashing::Method;
use super::manifest::{Digest, Manifest, Resource, ResourceName, Serialization, root_digest};

/// The bundle media type written by the reference tool.
pub const BUNDLE_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// Older media types that are read too.
const OLDER_MEDIA_TYPES: [&str; 3] = [
    "application/vnd.dev.sigstore.bundle+json;version=0.1",
    "application/vnd.dev.sigstore.bundle+json;version=0.2",
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
];
/// DSSE payload type of in-toto statements.
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// in-toto Statement v1.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// The model-signing predicate v1.0.
pub const PREDICATE_TYPE: &str = "https://model_signing/signature/v1.0";
/// The pre-1.0 predicate (the reference tool's v0.2 release), read for compatibility.
pub const PREDICATE_TYPE_COMPAT: &str = "https://model_signing/Digests/v0.1";
/// Largest signature file read (a manifest of a few hundred thousand files).
pub const MAX_BUNDLE_BYTES: u64 = 256 << 20;

/// DSSE pre-authentication encoding of an in-toto payload.
pub fn pae(payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        PAYLOAD_TYPE.len(),
        PAYLOAD_TYPE,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// The encoding the reference tool signed before v1.0: `DSSEV1` (capital V) and the payload
/// written as Python's `repr()` of a bytes object (`b'…'` with escapes).
pub fn pae_compat(payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEV1 {} {} {} ",
        PAYLOAD_TYPE.len(),
        PAYLOAD_TYPE,
        payload.len()
    );
    out.push_str(&python_bytes_repr(payload));
    out.into_bytes()
}

/// Python's `repr(bytes)`.
fn python_bytes_repr(b: &[u8]) -> String {
    let quote = if b.contains(&b'\'') && !b.contains(&b'"') {
        '"'
    } else {
        '\''
    };
    let mut s = String::with_capacity(b.len() + 3);
    s.push('b');
    s.push(quote);
    for &c in b {
        match c {
            b'\\' => s.push_str("\\\\"),
            b'\t' => s.push_str("\\t"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            c if c as char == quote => {
                s.push('\\');
                s.push(quote);
            }
            0x20..=0x7e => s.push(c as char),
            c => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s.push(quote);
    s
}

/// Who vouches for the signature, as the bundle says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Material {
    /// Key mode: a hint naming the public key (hex SHA-256 of its PEM), absent in older bundles.
    PublicKey {
        /// The key hint, if any.
        hint: Option<String>,
    },
    /// Certificate mode: DER certificates, signing certificate first.
    Chain(Vec<Vec<u8>>),
    /// Sigstore mode: the Fulcio-issued signing certificate (DER).
    Certificate(Vec<u8>),
}

/// A transparency log entry of a Sigstore bundle (Rekor).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlogEntry {
    /// Index in the log.
    pub log_index: u64,
    /// SHA-256 of the log's public key.
    pub log_id: Vec<u8>,
    /// Entry kind and version (`dsse`/`0.0.1`, …).
    pub kind: (String, String),
    /// When the log integrated the entry (seconds since the epoch).
    pub integrated_time: i64,
    /// The log's signed entry timestamp, if any.
    pub signed_entry_timestamp: Option<Vec<u8>>,
    /// The inclusion proof, if any.
    pub inclusion_proof: Option<InclusionProof>,
    /// The canonical body the log stored.
    pub canonicalized_body: Vec<u8>,
}

/// A Merkle inclusion proof with the checkpoint it was made against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InclusionProof {
    /// Index of the leaf in the tree.
    pub log_index: u64,
    /// Root hash of the tree.
    pub root_hash: Vec<u8>,
    /// Size of the tree.
    pub tree_size: u64,
    /// Audit path, leaf to root.
    pub hashes: Vec<Vec<u8>>,
    /// The signed checkpoint (note format), if any.
    pub checkpoint: Option<String>,
}

/// A parsed signature file.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// The bundle's media type.
    pub media_type: String,
    /// Key, chain or Sigstore certificate.
    pub material: Material,
    /// Transparency log entries (Sigstore mode).
    pub tlog_entries: Vec<TlogEntry>,
    /// DSSE payload type.
    pub payload_type: String,
    /// DSSE payload bytes (what was signed, after PAE).
    pub payload: Vec<u8>,
    /// DSSE signatures (DER ECDSA for the modes here).
    pub signatures: Vec<Vec<u8>>,
}

/// A bundle that cannot be read; the message says which field is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed signature bundle: {0}")]
pub struct BundleError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, BundleError> {
    Err(BundleError(msg.into()))
}

fn get<'a>(v: &'a Value, path: &str, key: &str) -> Result<&'a Value, BundleError> {
    match v.get(key) {
        Some(x) if !x.is_null() => Ok(x),
        _ => err(format!("{path}.{key} is missing")),
    }
}

fn get_str<'a>(v: &'a Value, path: &str, key: &str) -> Result<&'a str, BundleError> {
    get(v, path, key)?
        .as_str()
        .ok_or_else(|| BundleError(format!("{path}.{key} is not a string")))
}

fn b64(v: &Value, path: &str, key: &str) -> Result<Vec<u8>, BundleError> {
    let s = get_str(v, path, key)?;
    B64.decode(s.trim())
        .map_err(|e| BundleError(format!("{path}.{key} is not base64: {e}")))
}

/// Protobuf JSON writes 64-bit integers as strings.
fn int(v: &Value, path: &str, key: &str) -> Result<i64, BundleError> {
    let x = get(v, path, key)?;
    x.as_i64()
        .or_else(|| x.as_str().and_then(|s| s.parse().ok()))
        .ok_or_else(|| BundleError(format!("{path}.{key} is not an integer")))
}

fn uint(v: &Value, path: &str, key: &str) -> Result<u64, BundleError> {
    u64::try_from(int(v, path, key)?).map_err(|_| BundleError(format!("{path}.{key} is negative")))
}

impl Bundle {
    /// Parses a bundle from its JSON bytes.
    pub fn parse(bytes: &[u8]) -> Result<Bundle, BundleError> {
        let v: Value =
            serde_json::from_slice(bytes).map_err(|e| BundleError(format!("not JSON: {e}")))?;
        if !v.is_object() {
            return err("the top level is not a JSON object");
        }
        let media_type = get_str(&v, "bundle", "mediaType")?.to_string();
        if media_type != BUNDLE_MEDIA_TYPE && !OLDER_MEDIA_TYPES.contains(&media_type.as_str()) {
            return err(format!("mediaType `{media_type}` is not a Sigstore bundle"));
        }
        let vm = get(&v, "bundle", "verificationMaterial")?;
        let path = "verificationMaterial";
        let material = if let Some(pk) = vm.get("publicKey").filter(|x| !x.is_null()) {
            let hint = pk
                .get("hint")
                .and_then(Value::as_str)
                .filter(|h| !h.is_empty())
                .map(str::to_string);
            Material::PublicKey { hint }
        } else if let Some(chain) = vm.get("x509CertificateChain").filter(|x| !x.is_null()) {
            let certs = get(
                chain,
                "verificationMaterial.x509CertificateChain",
                "certificates",
            )?
            .as_array()
            .ok_or_else(|| BundleError("x509CertificateChain.certificates is not a list".into()))?;
            if certs.is_empty() {
                return err("x509CertificateChain.certificates is empty");
            }
            let mut out = Vec::with_capacity(certs.len());
            for (i, c) in certs.iter().enumerate() {
                out.push(b64(
                    c,
                    &format!("x509CertificateChain.certificates[{i}]"),
                    "rawBytes",
                )?);
            }
            Material::Chain(out)
        } else if let Some(cert) = vm.get("certificate").filter(|x| !x.is_null()) {
            Material::Certificate(b64(cert, "verificationMaterial.certificate", "rawBytes")?)
        } else {
            return err(format!(
                "{path} has none of publicKey, x509CertificateChain, certificate"
            ));
        };
        let mut tlog_entries = Vec::new();
        if let Some(entries) = vm.get("tlogEntries").filter(|x| !x.is_null()) {
            let entries = entries.as_array().ok_or_else(|| {
                BundleError("verificationMaterial.tlogEntries is not a list".into())
            })?;
            for (i, e) in entries.iter().enumerate() {
                tlog_entries.push(parse_tlog_entry(e, &format!("tlogEntries[{i}]"))?);
            }
        }
        let env = match v.get("dsseEnvelope") {
            Some(e) if e.is_object() => e,
            _ => {
                return err(
                    "bundle.dsseEnvelope is missing (message signatures do not sign models)",
                );
            }
        };
        let payload_type = get_str(env, "dsseEnvelope", "payloadType")?.to_string();
        let payload = b64(env, "dsseEnvelope", "payload")?;
        let sigs = get(env, "dsseEnvelope", "signatures")?
            .as_array()
            .ok_or_else(|| BundleError("dsseEnvelope.signatures is not a list".into()))?;
        if sigs.len() != 1 {
            return err(format!(
                "dsseEnvelope.signatures holds {} signatures, exactly one is expected",
                sigs.len()
            ));
        }
        let signatures = vec![b64(&sigs[0], "dsseEnvelope.signatures[0]", "sig")?];
        Ok(Bundle {
            media_type,
            material,
            tlog_entries,
            payload_type,
            payload,
            signatures,
        })
    }

    /// Serialises the bundle as the reference tool does (camelCase protobuf JSON, indented).
    pub fn to_json(&self) -> String {
        let material = match &self.material {
            Material::PublicKey { hint } => {
                json!({"publicKey": {"hint": hint.clone().unwrap_or_default()}})
            }
            Material::Chain(certs) => json!({"x509CertificateChain": {"certificates":
                certs.iter().map(|c| json!({"rawBytes": B64.encode(c)})).collect::<Vec<_>>()}}),
            Material::Certificate(c) => json!({"certificate": {"rawBytes": B64.encode(c)}}),
        };
        let mut vm = match material {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        vm.insert("tlogEntries".into(), json!([]));
        let v = json!({
            "mediaType": self.media_type,
            "verificationMaterial": vm,
            "dsseEnvelope": {
                "payload": B64.encode(&self.payload),
                "payloadType": self.payload_type,
                "signatures": self.signatures.iter()
                    .map(|s| json!({"sig": B64.encode(s), "keyid": ""}))
                    .collect::<Vec<_>>(),
            }
        });
        let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
        s.push('\n');
        s
    }
}

fn parse_tlog_entry(e: &Value, path: &str) -> Result<TlogEntry, BundleError> {
    let kv = get(e, path, "kindVersion")?;
    let kind = (
        get_str(kv, path, "kind")?.to_string(),
        get_str(kv, path, "version")?.to_string(),
    );
    let log_id = b64(get(e, path, "logId")?, &format!("{path}.logId"), "keyId")?;
    let signed_entry_timestamp = match e.get("inclusionPromise").filter(|x| !x.is_null()) {
        Some(p) => Some(b64(
            p,
            &format!("{path}.inclusionPromise"),
            "signedEntryTimestamp",
        )?),
        None => None,
    };
    let inclusion_proof = match e.get("inclusionProof").filter(|x| !x.is_null()) {
        Some(p) => {
            let pp = format!("{path}.inclusionProof");
            let hashes = get(p, &pp, "hashes")?
                .as_array()
                .ok_or_else(|| BundleError(format!("{pp}.hashes is not a list")))?
                .iter()
                .map(|h| {
                    h.as_str()
                        .and_then(|s| B64.decode(s).ok())
                        .ok_or_else(|| BundleError(format!("{pp}.hashes holds a non-base64 value")))
                })
                .collect::<Result<_, _>>()?;
            let checkpoint = p
                .get("checkpoint")
                .and_then(|c| c.get("envelope"))
                .and_then(Value::as_str)
                .map(str::to_string);
            Some(InclusionProof {
                log_index: uint(p, &pp, "logIndex")?,
                root_hash: b64(p, &pp, "rootHash")?,
                tree_size: uint(p, &pp, "treeSize")?,
                hashes,
                checkpoint,
            })
        }
        None => None,
    };
    Ok(TlogEntry {
        log_index: uint(e, path, "logIndex")?,
        log_id,
        kind,
        integrated_time: int(e, path, "integratedTime")?,
        signed_entry_timestamp,
        inclusion_proof,
        canonicalized_body: b64(e, path, "canonicalizedBody")?,
    })
}

/// Builds the in-toto statement (the DSSE payload) for a manifest.
pub fn statement(manifest: &Manifest) -> Vec<u8> {
    let resources: Vec<Value> = manifest
        .resources
        .iter()
        .map(|r| {
            json!({
                "name": r.name.as_str(),
                "algorithm": r.digest.algorithm,
                "digest": hex::encode(&r.digest.value),
            })
        })
        .collect();
    let v = json!({
        "_type": STATEMENT_TYPE,
        "subject": [{
            "name": manifest.model_name,
            "digest": {"sha256": hex::encode(manifest.root_digest())},
        }],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "serialization": manifest.serialization.to_json(),
            "resources": resources,
        },
    });
    serde_json::to_vec_pretty(&v).unwrap_or_default()
}

/// What a verified payload says was signed.
#[derive(Debug, Clone)]
pub struct SignedManifest {
    /// The manifest (resources in the order the payload lists them).
    pub manifest: Manifest,
    /// The root digest in the statement's subject (None for pre-1.0 payloads, which have
    /// none).
    pub root_digest: Option<[u8; 32]>,
    /// Whether this is a pre-1.0 (`Digests/v0.1`) payload.
    pub compat: bool,
}

/// Reads the manifest out of a statement payload and checks that the root digest matches
/// the listed resources (hashed in the order the payload lists them).
pub fn parse_statement(payload: &[u8]) -> Result<SignedManifest, BundleError> {
    let v: Value = serde_json::from_slice(payload)
        .map_err(|e| BundleError(format!("payload is not JSON: {e}")))?;
    let ty = get_str(&v, "statement", "_type")?;
    if ty != STATEMENT_TYPE {
        return err(format!(
            "statement _type is `{ty}`, expected {STATEMENT_TYPE}"
        ));
    }
    let subjects = get(&v, "statement", "subject")?
        .as_array()
        .ok_or_else(|| BundleError("statement.subject is not a list".into()))?;
    let predicate_type = get_str(&v, "statement", "predicateType")?;
    if predicate_type == PREDICATE_TYPE_COMPAT {
        return parse_compat(subjects);
    }
    if predicate_type != PREDICATE_TYPE {
        return err(format!(
            "predicateType is `{predicate_type}`, expected {PREDICATE_TYPE}"
        ));
    }
    if subjects.len() != 1 {
        return err(format!(
            "statement has {} subjects, exactly one is expected",
            subjects.len()
        ));
    }
    let model_name = get_str(&subjects[0], "subject[0]", "name")?.to_string();
    let expected = get_str(
        get(&subjects[0], "subject[0]", "digest")?,
        "subject[0].digest",
        "sha256",
    )?;
    let expected: [u8; 32] = hex::decode(expected)
        .ok()
        .and_then(|d| d.try_into().ok())
        .ok_or_else(|| {
            BundleError("subject[0].digest.sha256 is not a SHA-256 hex digest".into())
        })?;
    let predicate = get(&v, "statement", "predicate")?;
    let serialization = Serialization::from_json(get(predicate, "predicate", "serialization")?)
        .map_err(|e| BundleError(format!("predicate.{e}")))?;
    let list = get(predicate, "predicate", "resources")?
        .as_array()
        .ok_or_else(|| BundleError("predicate.resources is not a list".into()))?;
    let mut resources = Vec::with_capacity(list.len());
    for (i, r) in list.iter().enumerate() {
        let p = format!("predicate.resources[{i}]");
        let name = get_str(r, &p, "name")?;
        let algorithm = get_str(r, &p, "algorithm")?.to_string();
        let value = hex::decode(get_str(r, &p, "digest")?)
            .map_err(|_| BundleError(format!("{p}.digest is not hex")))?;
        let name = match serialization.method {
            Method::Files => ResourceName::parse_file(name),
            Method::Shards(_) => ResourceName::parse_shard(name).ok_or_else(|| {
                BundleError(format!("{p}.name `{name}` is not <path>:<start>:<end>"))
            })?,
        };
        resources.push(Resource {
            name,
            digest: Digest { algorithm, value },
        });
    }
    let actual = root_digest(resources.iter().map(|r| r.digest.value.as_slice()));
    if actual != expected {
        return err(format!(
            "manifest is inconsistent: the subject's root digest is {}, the resources hash to {}",
            hex::encode(expected),
            hex::encode(actual)
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    for r in &resources {
        if !seen.insert(r.name.as_str()) {
            return err(format!("resource `{}` is listed twice", r.name.as_str()));
        }
    }
    Ok(SignedManifest {
        manifest: Manifest {
            model_name,
            resources,
            serialization,
        },
        root_digest: Some(expected),
        compat: false,
    })
}

fn parse_compat(subjects: &[Value]) -> Result<SignedManifest, BundleError> {
    let mut resources = Vec::with_capacity(subjects.len());
    for (i, s) in subjects.iter().enumerate() {
        let p = format!("subject[{i}]");
        let name = get_str(s, &p, "name")?;
        let value = hex::decode(get_str(get(s, &p, "digest")?, &p, "sha256")?)
            .map_err(|_| BundleError(format!("{p}.digest.sha256 is not hex")))?;
        resources.push(Resource {
            name: ResourceName::parse_file(name),
            digest: Digest {
                algorithm: "sha256".into(),
                value,
            },
        });
    }
    Ok(SignedManifest {
        manifest: Manifest::new(
            "compat-undefined-not-present".into(),
            resources,
            Serialization {
                method: Method::Files,
                hash_type: "sha256".into(),
                allow_symlinks: false,
                ignore_paths: Vec::new(),
            },
        ),
        root_digest: None,
        compat: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_repr_matches() {
        assert_eq!(python_bytes_repr(b"{\"a\": 1}\n"), "b'{\"a\": 1}\\n'");
        assert_eq!(python_bytes_repr(b"it's"), "b\"it's\"");
        assert_eq!(
            python_bytes_repr(b"'\"\x00\xff\\"),
            "b'\\'\"\\x00\\xff\\\\'"
        );
    }

    #[test]
    fn pae_layout() {
        assert_eq!(
            pae(b"{}"),
            b"DSSEv1 28 application/vnd.in-toto+json 2 {}".to_vec()
        );
    }
}
