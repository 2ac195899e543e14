//! Model signing: the upstream vectors, round trips, tampering and hostile input.

use std::path::{Path, PathBuf};

use aigov_supply::oms::bundle::{self, Bundle};
use aigov_supply::oms::hashing::{self, HashAlgorithm, HashConfig, HashError, Method};
use aigov_supply::oms::keys::{PrivateKey, PublicKey, pem_blocks};
use aigov_supply::oms::manifest::Difference;
use aigov_supply::oms::sigstore::Policy;
use aigov_supply::oms::{self, CheckOptions, SignedBy, Signer, Trust, VerifyError};

use crate::{make_model, vectors};

fn no_progress(_: u64) {}

pub fn keys_dir() -> PathBuf {
    vectors().join("keys/certificate")
}

pub fn pem_certs(path: &Path) -> Vec<Vec<u8>> {
    pem_blocks(&std::fs::read(path).unwrap())
        .unwrap()
        .into_iter()
        .filter(|b| b.label == "CERTIFICATE")
        .map(|b| b.der)
        .collect()
}

pub fn vector_trust(name: &str, policy: Policy) -> Trust {
    if name.ends_with("elliptic-key") {
        let pem = std::fs::read(keys_dir().join("signing-key-pub.pem")).unwrap();
        Trust::Key(PublicKey::from_pem(&pem).unwrap())
    } else if name.ends_with("certificate") {
        Trust::Certificates {
            anchors: pem_certs(&keys_dir().join("ca-cert.pem")),
            at: None,
        }
    } else {
        Trust::Sigstore(policy)
    }
}

/// The model a vector signs: the folder, or the single file its manifest names `.`.
pub fn vector_model(dir: &Path, signed: &oms::bundle::SignedManifest) -> PathBuf {
    let m = &signed.manifest;
    if m.resources.len() == 1 && m.resources[0].name.as_str() == "." {
        dir.join(&m.model_name)
    } else {
        dir.to_path_buf()
    }
}

pub fn vector_options() -> CheckOptions {
    CheckOptions {
        ignore_paths: vec!["model.sig".into(), "ignore-me".into()],
        ..CheckOptions::default()
    }
}

pub fn vector_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(vectors())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with('v'))
        .collect();
    names.sort();
    assert_eq!(names.len(), 13, "vector folders: {names:?}");
    names
}

#[test]
fn every_upstream_vector_verifies() {
    for name in vector_names() {
        let dir = vectors().join(&name);
        let b = Bundle::parse(&std::fs::read(dir.join("model.sig")).unwrap())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let v = oms::verify_signature(&b, &vector_trust(&name, Policy::default()))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(v.legacy_encoding, name.starts_with("v0.2"), "{name}");
        assert_eq!(v.signed.compat, name.starts_with("v0.2"), "{name}");
        if let SignedBy::Sigstore(s) = &v.signer {
            // Without a trusted root the signer is reported as not authenticated.
            assert!(!s.authenticated);
            assert!(!s.identities.is_empty(), "{name}");
        }
        let model = vector_model(&dir, &v.signed);
        let diff = oms::check_model(&model, &v.signed.manifest, &vector_options(), &no_progress)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(diff.is_empty(), "{name}: {diff:?}");
    }
}

fn writable_copy(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let to = dst.join(e.file_name());
        std::fs::write(&to, std::fs::read(e.path()).unwrap()).unwrap();
    }
}

#[test]
fn changed_added_and_removed_files_are_named() {
    for name in [
        "v1.1.0-certificate",
        "v1.0.1-elliptic-key",
        "v1.0.0-sigstore",
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join(name);
        writable_copy(&vectors().join(name), &dir);
        let b = Bundle::parse(&std::fs::read(dir.join("model.sig")).unwrap()).unwrap();
        let v = oms::verify_signature(&b, &vector_trust(name, Policy::default())).unwrap();
        let check =
            || oms::check_model(&dir, &v.signed.manifest, &vector_options(), &no_progress).unwrap();
        assert!(check().is_empty());

        std::fs::write(dir.join("signme-1"), b"changed").unwrap();
        let d = check();
        assert_eq!(d.len(), 1, "{name}: {d:?}");
        assert!(matches!(&d[0], Difference::Changed { name, .. } if name == "signme-1"));
        assert!(d[0].to_string().starts_with("signme-1: content changed"));

        std::fs::remove_file(dir.join("signme-1")).unwrap();
        std::fs::write(dir.join("extra.bin"), b"x").unwrap();
        let d = check();
        assert_eq!(
            d,
            vec![
                Difference::Extra("extra.bin".into()),
                Difference::Missing("signme-1".into())
            ],
            "{name}"
        );
        // Unsigned files can be allowed, missing ones never.
        let opts = CheckOptions {
            ignore_unsigned_files: true,
            ..vector_options()
        };
        let d = oms::check_model(&dir, &v.signed.manifest, &opts, &no_progress).unwrap();
        assert_eq!(d, vec![Difference::Missing("signme-1".into())]);
    }
}

#[test]
fn a_bundle_does_not_verify_with_another_key_or_mode() {
    let name = "v1.1.0-elliptic-key";
    let b = Bundle::parse(&std::fs::read(vectors().join(name).join("model.sig")).unwrap()).unwrap();
    let other = PrivateKey::generate("P-384").unwrap().public();
    match oms::verify_signature(&b, &Trust::Key(other.clone())) {
        Err(VerifyError::KeyMismatch { .. }) => {}
        r => panic!("{r:?}"),
    }
    // Older bundles carry no hint: the signature itself must fail.
    let old =
        Bundle::parse(&std::fs::read(vectors().join("v1.0.1-elliptic-key/model.sig")).unwrap())
            .unwrap();
    assert!(matches!(
        oms::verify_signature(&old, &Trust::Key(other)),
        Err(VerifyError::BadSignature(_))
    ));
    let cert = vector_trust("x-certificate", Policy::default());
    assert!(matches!(
        oms::verify_signature(&b, &cert),
        Err(VerifyError::Mode {
            found: "key",
            expected: "certificate"
        })
    ));
    // A certificate chain that does not end at the given anchor.
    let cb = Bundle::parse(&std::fs::read(vectors().join("v1.1.0-certificate/model.sig")).unwrap())
        .unwrap();
    let wrong_anchor = Trust::Certificates {
        anchors: pem_certs(&keys_dir().join("signing-key-cert.pem")),
        at: None,
    };
    let e = oms::verify_signature(&cb, &wrong_anchor).unwrap_err();
    assert!(
        e.to_string()
            .contains("not issued by a trusted certificate"),
        "{e}"
    );
    // After the signing certificate's end of validity, when the caller asks for that time.
    let late = Trust::Certificates {
        anchors: pem_certs(&keys_dir().join("ca-cert.pem")),
        at: Some(4_102_444_800), // 2100-01-01
    };
    let e = oms::verify_signature(&cb, &late).unwrap_err();
    assert!(
        e.to_string().contains("not valid at the verification time"),
        "{e}"
    );
}

#[test]
fn tampered_bundles_fail() {
    let key = PrivateKey::generate("P-256").unwrap();
    let tmp = tempfile::tempdir().unwrap();
    make_model(tmp.path());
    let m = hashing::hash_model(tmp.path(), &HashConfig::default(), &no_progress).unwrap();
    let b = oms::sign_manifest(&m, &Signer::Key(key.clone())).unwrap();
    let trust = Trust::Key(key.public());
    assert!(oms::verify_signature(&b, &trust).is_ok());

    // One payload byte changed.
    let mut t = b.clone();
    let i = t.payload.len() / 2;
    t.payload[i] ^= 1;
    assert!(matches!(
        oms::verify_signature(&t, &trust),
        Err(VerifyError::BadSignature(_))
    ));
    // A validly signed statement whose root digest does not match its resources.
    let text = String::from_utf8(b.payload.clone()).unwrap();
    let root = hex::encode(m.root_digest());
    let forged = text.replace(&root, &"0".repeat(64)).into_bytes();
    let mut t = b.clone();
    t.signatures = vec![key.sign(&bundle::pae(&forged)).unwrap()];
    t.payload = forged;
    let e = oms::verify_signature(&t, &trust).unwrap_err();
    assert!(e.to_string().contains("manifest is inconsistent"), "{e}");
    // Another payload type.
    let mut t = b.clone();
    t.payload_type = "text/plain".into();
    assert!(matches!(
        oms::verify_signature(&t, &trust),
        Err(VerifyError::PayloadType(_))
    ));
}

#[test]
fn sign_and_verify_round_trip_every_serialisation() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("my-model");
    make_model(&model);
    let p384 =
        PrivateKey::from_pem(&std::fs::read(keys_dir().join("signing-key.pem")).unwrap()).unwrap();
    let signers = [
        Signer::Key(PrivateKey::generate("P-256").unwrap()),
        Signer::Key(p384.clone()),
        Signer::certificate(
            p384.clone(),
            [
                pem_certs(&keys_dir().join("signing-key-cert.pem")),
                pem_certs(&keys_dir().join("int-ca-cert.pem")),
            ]
            .concat(),
        )
        .unwrap(),
    ];
    for algorithm in [
        HashAlgorithm::Sha256,
        HashAlgorithm::Blake2b,
        HashAlgorithm::Blake3,
    ] {
        for method in [Method::Files, Method::Shards(1000)] {
            for signer in &signers {
                let config = HashConfig {
                    algorithm,
                    method,
                    ..HashConfig::default()
                };
                let m = hashing::hash_model(&model, &config, &no_progress).unwrap();
                assert_eq!(m.model_name, "my-model");
                let b = oms::sign_manifest(&m, signer).unwrap();
                let b = Bundle::parse(b.to_json().as_bytes()).unwrap();
                let trust = match signer {
                    Signer::Key(k) => Trust::Key(k.public()),
                    Signer::Certificate { .. } => Trust::Certificates {
                        anchors: pem_certs(&keys_dir().join("ca-cert.pem")),
                        at: None,
                    },
                };
                let v = oms::verify_signature(&b, &trust).unwrap();
                assert_eq!(v.signed.manifest.resources, m.resources);
                assert_eq!(v.signed.root_digest, Some(m.root_digest()));
                let d = oms::check_model(
                    &model,
                    &v.signed.manifest,
                    &CheckOptions::default(),
                    &no_progress,
                )
                .unwrap();
                assert!(d.is_empty(), "{algorithm:?} {method:?}: {d:?}");
            }
        }
    }
}

#[test]
fn mapped_and_read_files_hash_the_same() {
    use sha2::Digest as _;
    use std::sync::atomic::{AtomicU64, Ordering};
    let tmp = tempfile::tempdir().unwrap();
    // Files and shards above the mapping threshold (1 MiB), shard offsets not page-aligned.
    let big: Vec<u8> = (0..3_000_001u32)
        .map(|i| (i % 251) as u8 ^ (i >> 13) as u8)
        .collect();
    std::fs::write(tmp.path().join("big.bin"), &big).unwrap();
    std::fs::write(tmp.path().join("mid.bin"), &big[..1_500_000]).unwrap();
    std::fs::write(tmp.path().join("small.json"), b"{}").unwrap();
    for algorithm in [
        HashAlgorithm::Sha256,
        HashAlgorithm::Blake2b,
        HashAlgorithm::Blake3,
    ] {
        for method in [Method::Files, Method::Shards(1_200_000)] {
            let mut manifests = Vec::new();
            for no_mmap in [false, true] {
                let config = HashConfig {
                    algorithm,
                    method,
                    no_mmap,
                    ..HashConfig::default()
                };
                let seen = AtomicU64::new(0);
                let progress = |n: u64| {
                    seen.fetch_add(n, Ordering::Relaxed);
                };
                manifests.push(hashing::hash_model(tmp.path(), &config, &progress).unwrap());
                assert_eq!(seen.into_inner(), 3_000_001 + 1_500_000 + 2);
            }
            assert_eq!(
                manifests[0].resources, manifests[1].resources,
                "{algorithm:?} {method:?}"
            );
        }
    }
    // And what they agree on is the file's SHA-256.
    let m = hashing::hash_model(tmp.path(), &HashConfig::default(), &no_progress).unwrap();
    let r = m
        .resources
        .iter()
        .find(|r| r.name.as_str() == "big.bin")
        .unwrap();
    assert_eq!(r.digest.value, sha2::Sha256::digest(&big).to_vec());
}

#[test]
fn shards_and_files_are_listed_as_the_standard_says() {
    let tmp = tempfile::tempdir().unwrap();
    make_model(tmp.path());
    let shards = HashConfig {
        method: Method::Shards(1000),
        ..HashConfig::default()
    };
    let m = hashing::hash_model(tmp.path(), &shards, &no_progress).unwrap();
    let names: Vec<&str> = m.resources.iter().map(|r| r.name.as_str()).collect();
    // Path components order (a/z before a-b), numeric offsets, no empty file, no .git.
    assert_eq!(
        names,
        [
            ".hidden/tokenizer.model:0:999",
            "a/b/c/deep.txt:0:1000",
            "a/b/c/deep.txt:1000:1001",
            "a/z:0:5",
            "a-b:0:5",
            "a.b:0:5",
            "config.json:0:300",
            "weights/part-00001.bin:0:1000",
            "weights/part-00001.bin:1000:2000",
            "weights/part-00001.bin:2000:2500",
            "weights/part-00002.bin:0:1000",
            "模型说明.md:0:77",
        ]
    );
    assert!(
        m.resources
            .iter()
            .all(|r| r.digest.algorithm == "sha256-sharded-1000")
    );
    let files = hashing::hash_model(tmp.path(), &HashConfig::default(), &no_progress).unwrap();
    assert!(
        files
            .resources
            .iter()
            .any(|r| r.name.as_str() == "weights/empty.bin")
    );
    assert_eq!(
        files.serialization.ignore_paths,
        [".git", ".gitattributes", ".github", ".gitignore"]
    );
    let with_git = HashConfig {
        ignore_git_paths: false,
        ignore_paths: vec!["./weights/".into(), "../outside".into()],
        ..HashConfig::default()
    };
    let m = hashing::hash_model(tmp.path(), &with_git, &no_progress).unwrap();
    let names: Vec<&str> = m.resources.iter().map(|r| r.name.as_str()).collect();
    assert!(names.contains(&".git/HEAD") && names.contains(&".gitattributes"));
    assert!(!names.iter().any(|n| n.starts_with("weights/")));
    assert_eq!(m.serialization.ignore_paths, ["weights"]);
}

#[test]
fn symbolic_links_follow_the_policy() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("m");
    make_model(&model);
    std::os::unix::fs::symlink(model.join("config.json"), model.join("link.json")).unwrap();
    std::os::unix::fs::symlink(model.join("a"), model.join("dir-link")).unwrap();
    match hashing::hash_model(&model, &HashConfig::default(), &no_progress) {
        Err(HashError::Symlink(p)) => assert!(p.ends_with("dir-link") || p.ends_with("link.json")),
        r => panic!("{r:?}"),
    }
    let allow = HashConfig {
        allow_symlinks: true,
        ..HashConfig::default()
    };
    let m = hashing::hash_model(&model, &allow, &no_progress).unwrap();
    let by = m.by_name();
    assert_eq!(by["link.json"], by["config.json"]);
    assert!(!by.keys().any(|k| k.starts_with("dir-link")));
    // A loop of links is not followed, and a broken link is an error naming it.
    std::os::unix::fs::symlink(&model, model.join("a/loop")).unwrap();
    assert!(hashing::hash_model(&model, &allow, &no_progress).is_ok());
    std::os::unix::fs::symlink(model.join("nowhere"), model.join("broken")).unwrap();
    match hashing::hash_model(&model, &allow, &no_progress) {
        Err(HashError::Special(p)) => assert!(p.ends_with("broken")),
        r => panic!("{r:?}"),
    }
}

#[test]
fn unreadable_and_missing_models_are_errors_naming_the_path() {
    let e = hashing::hash_model(
        Path::new("/nonexistent/model"),
        &HashConfig::default(),
        &no_progress,
    )
    .unwrap_err();
    assert!(e.to_string().starts_with("/nonexistent/model:"), "{e}");
    assert!(matches!(
        hashing::hash_model(Path::new("/dev/null"), &HashConfig::default(), &no_progress),
        Err(HashError::Special(_))
    ));
}

#[test]
fn hostile_bundles_give_clear_errors() {
    let good = std::fs::read(vectors().join("v1.1.0-elliptic-key/model.sig")).unwrap();
    for cut in [0, 1, 10, good.len() / 2, good.len() - 2] {
        let e = Bundle::parse(&good[..cut]).unwrap_err();
        assert!(
            e.to_string().starts_with("malformed signature bundle"),
            "{e}"
        );
    }
    let cases: &[(&str, &str)] = &[
        ("[]", "top level is not a JSON object"),
        (r#"{"mediaType": 3}"#, "bundle.mediaType is not a string"),
        (r#"{"mediaType": "x"}"#, "is not a Sigstore bundle"),
        (
            r#"{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "verificationMaterial": {}}"#,
            "has none of publicKey",
        ),
        (
            r#"{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "verificationMaterial": {"publicKey": {}}, "messageSignature": {}}"#,
            "dsseEnvelope is missing",
        ),
        (
            r#"{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "verificationMaterial": {"publicKey": {}}, "dsseEnvelope": {"payload": "!!", "payloadType": "x", "signatures": []}}"#,
            "dsseEnvelope.payload is not base64",
        ),
        (
            r#"{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "verificationMaterial": {"publicKey": {}}, "dsseEnvelope": {"payload": "", "payloadType": "x", "signatures": []}}"#,
            "holds 0 signatures",
        ),
    ];
    for (text, want) in cases {
        let e = Bundle::parse(text.as_bytes()).unwrap_err().to_string();
        assert!(e.contains(want), "{text}: {e}");
    }
    // Statements with the wrong shapes.
    for (payload, want) in [
        (r#"{"_type": "x"}"#, "statement _type is `x`"),
        (
            r#"{"_type": "https://in-toto.io/Statement/v1", "subject": [], "predicateType": "https://model_signing/signature/v1.0"}"#,
            "0 subjects",
        ),
        (
            r#"{"_type": "https://in-toto.io/Statement/v1", "subject": [{"name": "m", "digest": {"sha256": "00"}}], "predicateType": "https://model_signing/signature/v1.0"}"#,
            "not a SHA-256 hex digest",
        ),
    ] {
        let e = bundle::parse_statement(payload.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(e.contains(want), "{payload}: {e}");
    }
}

#[test]
fn tiny_shards_are_refused_before_any_hashing() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("w.bin"), vec![0u8; 5 << 20]).unwrap();
    let config = HashConfig {
        method: Method::Shards(1),
        ..HashConfig::default()
    };
    assert!(matches!(
        hashing::hash_model(tmp.path(), &config, &no_progress),
        Err(HashError::TooManyShards(1))
    ));
}
