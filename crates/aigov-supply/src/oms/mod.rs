//! OpenSSF model signing (OMS) v1.0, compatible both ways with the reference tool
//! `model_signing` 1.1.1: hashing a model folder into a manifest, signing the manifest in key
//! or certificate mode, and verifying bundles of all three modes (key, certificate, Sigstore).
//!
//! Verification is two steps that callers can run separately: [`verify_signature`] checks who
//! signed the bundle and returns the signed manifest; [`check_model`] hashes the model on disk
//! the same way and lists every difference (changed, added or removed file, by name).

pub mod bundle;
pub mod chain;
pub mod hashing;
pub mod keys;
pub mod manifest;
pub mod sigstore;

use std::path::Path;

use bundle::{Bundle, BundleError, Material, SignedManifest};
use chain::{ChainError, VerifiedChain};
use hashing::{HashAlgorithm, HashConfig, HashError};
use keys::{KeyError, MessageHash, PrivateKey, PublicKey};
use manifest::{Difference, Manifest};

/// Who signs.
#[derive(Debug, Clone)]
pub enum Signer {
    /// Key mode: the bundle names the public key by its hint.
    Key(PrivateKey),
    /// Certificate mode: the bundle carries the signing certificate and its intermediates.
    Certificate {
        /// The signing key.
        key: PrivateKey,
        /// DER certificates: the signing certificate first, then intermediates.
        chain: Vec<Vec<u8>>,
    },
}

impl Signer {
    /// Certificate mode, checking that the first certificate certifies `key`.
    pub fn certificate(key: PrivateKey, chain: Vec<Vec<u8>>) -> Result<Signer, KeyError> {
        let Some(leaf) = chain.first() else {
            return Err(KeyError("no signing certificate given".into()));
        };
        if chain::certificate_key(leaf)? != key.public() {
            return Err(KeyError(
                "the signing certificate does not certify this private key".into(),
            ));
        }
        Ok(Signer::Certificate { key, chain })
    }
}

/// Signs a manifest; returns the bundle to write next to the model.
pub fn sign_manifest(manifest: &Manifest, signer: &Signer) -> Result<Bundle, KeyError> {
    let payload = bundle::statement(manifest);
    let pae = bundle::pae(&payload);
    let (key, material) = match signer {
        Signer::Key(k) => (
            k,
            Material::PublicKey {
                hint: Some(k.public().hint()),
            },
        ),
        Signer::Certificate { key, chain } => (key, Material::Chain(chain.clone())),
    };
    let sig = key.sign(&pae)?;
    Ok(Bundle {
        media_type: bundle::BUNDLE_MEDIA_TYPE.into(),
        material,
        tlog_entries: Vec::new(),
        payload_type: bundle::PAYLOAD_TYPE.into(),
        payload,
        signatures: vec![sig],
    })
}

/// What the verifier trusts.
#[derive(Debug, Clone)]
pub enum Trust {
    /// Key mode: this public key.
    Key(PublicKey),
    /// Certificate mode: chains ending at one of these DER certificates, checked at Unix time
    /// `at` (default: the signing certificate's `notBefore`, as the reference tool does).
    Certificates {
        /// Trust anchors (DER).
        anchors: Vec<Vec<u8>>,
        /// Verification time.
        at: Option<i64>,
    },
    /// Sigstore mode.
    Sigstore(sigstore::Policy),
}

/// Who signed, once verified.
#[derive(Debug, Clone)]
pub enum SignedBy {
    /// Key mode.
    Key {
        /// Curve name.
        curve: &'static str,
        /// Hint of the key (hex SHA-256 of its PEM).
        hint: String,
    },
    /// Certificate mode.
    Certificate(VerifiedChain),
    /// Sigstore mode.
    Sigstore(sigstore::SigstoreSigner),
}

/// A bundle whose signature verified.
#[derive(Debug, Clone)]
pub struct VerifiedSignature {
    /// The signed manifest.
    pub signed: SignedManifest,
    /// The signer.
    pub signer: SignedBy,
    /// Whether the signature used the pre-1.0 encoding of the reference tool.
    pub legacy_encoding: bool,
}

/// Why verification failed.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The bundle cannot be read.
    #[error(transparent)]
    Bundle(#[from] BundleError),
    /// A key cannot be used.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The certificate chain does not verify.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// The bundle is of another mode than the trust given.
    #[error("the bundle is signed in {found} mode, but {expected} verification was asked for")]
    Mode {
        /// Mode of the bundle.
        found: &'static str,
        /// Mode asked for.
        expected: &'static str,
    },
    /// The key hint names another key.
    #[error(
        "key mismatch: the bundle was signed by the key with hint {bundle}, the given public key has hint {given}"
    )]
    KeyMismatch {
        /// Hint in the bundle.
        bundle: String,
        /// Hint of the given key.
        given: String,
    },
    /// The DSSE signature does not verify.
    #[error("the signature does not verify with the {0}")]
    BadSignature(&'static str),
    /// The DSSE payload is not an in-toto statement.
    #[error("DSSE payload type is `{0}`, expected application/vnd.in-toto+json")]
    PayloadType(String),
    /// Sigstore verification failed.
    #[error("sigstore: {0}")]
    Sigstore(String),
    /// The signature names a hash this verifier does not know.
    #[error("the signature uses hash `{0}`, which is not supported (sha256, blake2b, blake3)")]
    UnsupportedHash(String),
    /// The model could not be hashed.
    #[error(transparent)]
    Hash(#[from] HashError),
}

fn mode_name(m: &Material) -> &'static str {
    match m {
        Material::PublicKey { .. } => "key",
        Material::Chain(_) => "certificate",
        Material::Certificate(_) => "sigstore",
    }
}

/// Verifies the signature of a bundle and returns the manifest it signs (with its root digest
/// checked against its resources).
pub fn verify_signature(b: &Bundle, trust: &Trust) -> Result<VerifiedSignature, VerifyError> {
    let (signer, key, compat_hash) = match (trust, &b.material) {
        (Trust::Key(key), Material::PublicKey { hint }) => {
            let given = key.hint();
            if let Some(h) = hint
                && *h != given
            {
                return Err(VerifyError::KeyMismatch {
                    bundle: h.clone(),
                    given,
                });
            }
            let signer = SignedBy::Key {
                curve: key.curve(),
                hint: given,
            };
            (signer, key.clone(), key.hash())
        }
        (Trust::Certificates { anchors, at }, Material::Chain(chain)) => {
            let verified = chain::verify_chain(chain, anchors, *at)?;
            let key = verified.key.clone();
            // The reference tool's v0.2 certificate signatures always hashed with SHA-256.
            (SignedBy::Certificate(verified), key, MessageHash::Sha256)
        }
        (Trust::Sigstore(policy), Material::Certificate(_)) => {
            let s = sigstore::verify(b, policy)?;
            let key = s.key.clone();
            (SignedBy::Sigstore(s), key, MessageHash::Sha256)
        }
        (t, m) => {
            return Err(VerifyError::Mode {
                found: mode_name(m),
                expected: match t {
                    Trust::Key(_) => "key",
                    Trust::Certificates { .. } => "certificate",
                    Trust::Sigstore(_) => "sigstore",
                },
            });
        }
    };
    if b.payload_type != bundle::PAYLOAD_TYPE {
        return Err(VerifyError::PayloadType(b.payload_type.clone()));
    }
    let sig = &b.signatures[0];
    let legacy_encoding = if key.verify(&bundle::pae(&b.payload), sig, key.hash()) {
        false
    } else {
        let compat = bundle::pae_compat(&b.payload);
        if key.verify(&compat, sig, key.hash()) || key.verify(&compat, sig, compat_hash) {
            true
        } else {
            return Err(VerifyError::BadSignature(match signer {
                SignedBy::Key { .. } => "given public key",
                SignedBy::Certificate(_) => "signing certificate's key",
                SignedBy::Sigstore(_) => "Fulcio certificate's key",
            }));
        }
    };
    let signed = bundle::parse_statement(&b.payload)?;
    Ok(VerifiedSignature {
        signed,
        signer,
        legacy_encoding,
    })
}

/// How the model on disk is compared with a signed manifest.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// More paths to leave out (relative to the model), such as the signature file.
    pub ignore_paths: Vec<String>,
    /// Include `.git` and friends (they are ignored by default).
    pub include_git_paths: bool,
    /// Allow symbolic links even if the signature did not.
    pub allow_symlinks: bool,
    /// Files on disk that the signature does not cover are not an error.
    pub ignore_unsigned_files: bool,
    /// Read files instead of memory-mapping them.
    pub no_mmap: bool,
}

/// The hashing configuration that reproduces a signed manifest.
pub fn config_for(signed: &Manifest, options: &CheckOptions) -> Result<HashConfig, VerifyError> {
    let s = &signed.serialization;
    let algorithm = HashAlgorithm::parse(&s.hash_type)
        .ok_or_else(|| VerifyError::UnsupportedHash(s.hash_type.clone()))?;
    let mut ignore_paths = s.ignore_paths.clone();
    ignore_paths.extend(options.ignore_paths.iter().cloned());
    Ok(HashConfig {
        algorithm,
        method: s.method,
        allow_symlinks: s.allow_symlinks || options.allow_symlinks,
        ignore_paths,
        ignore_git_paths: !options.include_git_paths,
        no_mmap: options.no_mmap,
    })
}

/// Hashes the model as the signature says it was hashed and returns every difference with
/// the signed manifest (empty when the model is intact).
pub fn check_model(
    model: &Path,
    signed: &Manifest,
    options: &CheckOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Vec<Difference>, VerifyError> {
    let (config, files) = files_to_check(model, signed, options)?;
    let actual = hashing::hash_files(&hashing::model_name(model), &files, &config, progress)?;
    Ok(actual.diff(signed))
}

/// The hashing configuration and the files [`check_model`] hashes (for callers that want the
/// total size first, e.g. for a progress bar): hash them with [`hashing::hash_files`] and
/// compare with [`Manifest::diff`].
pub fn files_to_check(
    model: &Path,
    signed: &Manifest,
    options: &CheckOptions,
) -> Result<(HashConfig, Vec<hashing::ModelFile>), VerifyError> {
    let config = config_for(signed, options)?;
    let mut files = hashing::list_files(model, &config)?;
    if options.ignore_unsigned_files {
        let signed_paths: std::collections::BTreeSet<&str> =
            signed.resources.iter().map(|r| r.name.path()).collect();
        files.retain(|f| signed_paths.contains(f.name.as_str()));
    }
    Ok((config, files))
}
