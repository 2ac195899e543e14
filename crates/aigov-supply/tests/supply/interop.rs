//! Interop with the reference tool `model_signing` 1.1.1 (PyPI), both ways, and Sigstore
//! bundles verified against Sigstore's public-good trusted root from the `sigstore` package.

use std::ffi::OsStr;
use std::path::Path;

use aigov_supply::oms::bundle::Bundle;
use aigov_supply::oms::hashing::{self, HashAlgorithm, HashConfig, Method};
use aigov_supply::oms::keys::{PrivateKey, PublicKey};
use aigov_supply::oms::manifest::{Difference, Manifest};
use aigov_supply::oms::sigstore::{Policy, TrustedRoot};
use aigov_supply::oms::{self, CheckOptions, SignedBy, Signer, Trust};
use serde_json::Value;

use crate::oms::{keys_dir, pem_certs, vector_model, vector_names, vector_options, vector_trust};
use crate::{make_model, oms_py, vectors, venv};

fn no_progress(_: u64) {}

/// The model's differences from a signed manifest, with default options.
fn check(model: &Path, signed: &Manifest) -> Vec<Difference> {
    oms::check_model(model, signed, &CheckOptions::default(), &no_progress).unwrap()
}

fn os(s: &str) -> &OsStr {
    OsStr::new(s)
}

#[test]
fn manifests_match_the_reference_tool() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("ref-model");
    make_model(&model);
    for (py_hash, algorithm) in [
        ("sha256", HashAlgorithm::Sha256),
        ("blake2", HashAlgorithm::Blake2b),
        ("blake3", HashAlgorithm::Blake3),
    ] {
        for shard in [0u64, 1000, 7] {
            let out = oms_py(&[
                os("hash"),
                model.as_os_str(),
                os(py_hash),
                os(&shard.to_string()),
                os("a/b"),
            ]);
            let reference: Value = serde_json::from_str(&out).unwrap();
            let config = HashConfig {
                algorithm,
                method: if shard == 0 {
                    Method::Files
                } else {
                    Method::Shards(shard)
                },
                ignore_paths: vec!["a/b".into()],
                ..HashConfig::default()
            };
            let m = hashing::hash_model(&model, &config, &no_progress).unwrap();
            let ours: Vec<Value> = m
                .resources
                .iter()
                .map(|r| {
                    serde_json::json!([
                        r.name.as_str(),
                        r.digest.algorithm,
                        hex::encode(&r.digest.value)
                    ])
                })
                .collect();
            assert_eq!(reference["name"], "ref-model");
            assert_eq!(
                reference["resources"],
                Value::Array(ours),
                "{py_hash} shard {shard}"
            );
        }
    }
}

/// An EC key pair made by Python's `cryptography` (PKCS #8 private key, SPKI public key).
fn py_keygen(dir: &Path, curve: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let key = dir.join(format!("{curve}.pem"));
    let public = dir.join(format!("{curve}.pub"));
    oms_py(&[os("keygen"), os(curve), key.as_os_str(), public.as_os_str()]);
    (key, public)
}

fn python_verify(model: &Path, sig: &Path, mode: &[&OsStr]) -> std::process::Output {
    let mut cmd = venv().command();
    cmd.args(["-m", "model_signing", "verify"])
        .args(mode)
        .arg("--signature")
        .arg(sig)
        .arg(model);
    cmd.output().unwrap()
}

#[test]
fn the_reference_tool_verifies_aigov_bundles() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("model");
    make_model(&model);
    let (p256_pem, p256_pub) = py_keygen(tmp.path(), "p256");
    let p256 = PrivateKey::from_pem(&std::fs::read(&p256_pem).unwrap()).unwrap();
    let p384 =
        PrivateKey::from_pem(&std::fs::read(keys_dir().join("signing-key.pem")).unwrap()).unwrap();
    let chain = [
        pem_certs(&keys_dir().join("signing-key-cert.pem")),
        pem_certs(&keys_dir().join("int-ca-cert.pem")),
    ]
    .concat();
    let pub384 = keys_dir().join("signing-key-pub.pem");
    let ca = keys_dir().join("ca-cert.pem");
    let cases: Vec<(Signer, Vec<&OsStr>)> = vec![
        (
            Signer::Key(p256),
            vec![os("key"), os("--public_key"), p256_pub.as_os_str()],
        ),
        (
            Signer::Key(p384.clone()),
            vec![os("key"), os("--public_key"), pub384.as_os_str()],
        ),
        (
            Signer::certificate(p384, chain).unwrap(),
            vec![os("certificate"), os("--certificate_chain"), ca.as_os_str()],
        ),
    ];
    let sig = model.join("model.sig");
    for (signer, mode) in cases {
        let config = HashConfig {
            ignore_paths: vec!["model.sig".into()],
            ..HashConfig::default()
        };
        let m = hashing::hash_model(&model, &config, &no_progress).unwrap();
        std::fs::write(&sig, oms::sign_manifest(&m, &signer).unwrap().to_json()).unwrap();
        let out = python_verify(&model, &sig, &mode);
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && text.contains("Verification succeeded"),
            "{mode:?}: {text}"
        );
        // And it sees a change.
        let cfg = model.join("config.json");
        let before = std::fs::read(&cfg).unwrap();
        std::fs::write(&cfg, b"{}").unwrap();
        let out = python_verify(&model, &sig, &mode);
        assert!(!out.status.success(), "{mode:?}: tampered model verified");
        std::fs::write(&cfg, before).unwrap();
    }
}

#[test]
fn aigov_verifies_reference_tool_bundles() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("model");
    make_model(&model);
    let sig = tmp.path().join("model.sig");
    let (k256, k256_pub) = py_keygen(tmp.path(), "p256");
    let key384 = keys_dir().join("signing-key.pem");
    let cert = keys_dir().join("signing-key-cert.pem");
    let int = keys_dir().join("int-ca-cert.pem");
    let ca = pem_certs(&keys_dir().join("ca-cert.pem"));
    let pub256 = PublicKey::from_pem(&std::fs::read(&k256_pub).unwrap()).unwrap();
    let pub384 =
        PublicKey::from_pem(&std::fs::read(keys_dir().join("signing-key-pub.pem")).unwrap())
            .unwrap();
    for (hash, shard) in [
        ("sha256", "0"),
        ("sha256", "1000"),
        ("blake2", "0"),
        ("blake2", "999"),
        ("blake3", "0"),
    ] {
        let cases: Vec<(Vec<&OsStr>, Trust)> = vec![
            (vec![k256.as_os_str()], Trust::Key(pub256.clone())),
            (vec![key384.as_os_str()], Trust::Key(pub384.clone())),
            (
                vec![key384.as_os_str(), cert.as_os_str(), int.as_os_str()],
                Trust::Certificates {
                    anchors: ca.clone(),
                    at: None,
                },
            ),
        ];
        for (key_args, trust) in cases {
            let mut args = vec![
                os("sign"),
                model.as_os_str(),
                sig.as_os_str(),
                os(hash),
                os(shard),
            ];
            args.extend(key_args);
            oms_py(&args);
            let b = Bundle::parse(&std::fs::read(&sig).unwrap()).unwrap();
            let v =
                oms::verify_signature(&b, &trust).unwrap_or_else(|e| panic!("{hash}/{shard}: {e}"));
            let d = check(&model, &v.signed.manifest);
            assert!(d.is_empty(), "{hash}/{shard}: {d:?}");
            if let SignedBy::Key { hint, .. } = &v.signer {
                // The hint is recomputed exactly as the reference tool writes it.
                let Trust::Key(k) = &trust else {
                    unreachable!()
                };
                assert_eq!(hint, &k.hint());
            }
            std::fs::write(model.join("weights/part-00002.bin"), b"tampered").unwrap();
            let d = check(&model, &v.signed.manifest);
            assert!(!d.is_empty());
            assert!(
                d.iter().all(|x| match x {
                    Difference::Changed { name, .. }
                    | Difference::Missing(name)
                    | Difference::Extra(name) => name.starts_with("weights/part-00002.bin"),
                }),
                "{d:?}"
            );
            make_model(&model);
        }
    }
}

fn trusted_root() -> TrustedRoot {
    let path = venv()
        .site_file("sigstore/_store/https%3A%2F%2Ftuf-repo-cdn.sigstore.dev/trusted_root.json");
    TrustedRoot::parse(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn sigstore_vectors_verify_against_the_public_good_trusted_root() {
    let root = trusted_root();
    let mut seen = 0;
    for name in vector_names()
        .into_iter()
        .filter(|n| n.ends_with("sigstore"))
    {
        let dir = vectors().join(&name);
        let b = Bundle::parse(&std::fs::read(dir.join("model.sig")).unwrap()).unwrap();
        let policy = Policy {
            trusted_root: Some(root.clone()),
            identity: None,
            issuer: None,
        };
        let v = oms::verify_signature(&b, &vector_trust(&name, policy))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let SignedBy::Sigstore(s) = &v.signer else {
            panic!()
        };
        assert!(s.authenticated, "{name}");
        let identity = s.identities[0].clone();
        let issuer = s.issuer.clone().unwrap();
        // The expected identity and issuer are enforced.
        let strict = Policy {
            trusted_root: Some(root.clone()),
            identity: Some(identity.clone()),
            issuer: Some(issuer.clone()),
        };
        assert!(
            oms::verify_signature(&b, &Trust::Sigstore(strict)).is_ok(),
            "{name}"
        );
        let wrong = Policy {
            trusted_root: Some(root.clone()),
            identity: Some("someone@example.com".into()),
            issuer: Some(issuer),
        };
        let e = oms::verify_signature(&b, &Trust::Sigstore(wrong)).unwrap_err();
        assert!(e.to_string().contains("not `someone@example.com`"), "{e}");
        let d = oms::check_model(
            &vector_model(&dir, &v.signed),
            &v.signed.manifest,
            &vector_options(),
            &no_progress,
        )
        .unwrap();
        assert!(d.is_empty());

        // A log entry for another signature, and a proof for another tree, are caught.
        let mut t = b.clone();
        t.tlog_entries[0].canonicalized_body[20] ^= 1;
        assert!(oms::verify_signature(&t, &Trust::Sigstore(Policy::default())).is_err());
        let mut t = b.clone();
        if let Some(p) = t.tlog_entries[0].inclusion_proof.as_mut() {
            p.root_hash[0] ^= 1;
        }
        let e = oms::verify_signature(&t, &Trust::Sigstore(Policy::default())).unwrap_err();
        assert!(e.to_string().contains("inclusion proof"), "{e}");
        // A signed entry timestamp for another index.
        let mut t = b.clone();
        t.tlog_entries[0].log_index += 1;
        let e = oms::verify_signature(
            &t,
            &Trust::Sigstore(Policy {
                trusted_root: Some(root.clone()),
                identity: None,
                issuer: None,
            }),
        )
        .unwrap_err();
        assert!(e.to_string().contains("signed entry timestamp"), "{e}");
        seen += 1;
    }
    assert_eq!(seen, 4);
}
