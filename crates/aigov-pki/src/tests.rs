use std::process::Command;

use chrono::TimeZone;

use super::*;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap()
}

fn subject() -> SystemSubject {
    SystemSubject {
        filing_number: "AIG-2026-000001-4".into(),
        system_name: "Lingxi Chat".into(),
        organisation: "Lingxi Intelligence Co., Ltd.".into(),
        tier: "high".into(),
    }
}

fn issued(alg: KeyAlgorithm) -> (CaMaterial, String) {
    let ca = create_ca("Test Registry", alg, now()).unwrap();
    let key = generate_key(alg).unwrap();
    let csr = make_csr(&key, "Lingxi Chat", "AIG-2026-000001-4").unwrap();
    let cert = issue(&ca, &csr, &subject(), &[0x01, 0x02, 0x03], now(), 365).unwrap();
    (ca, cert)
}

/// `cert` names [`subject`] and chains to `ca`'s root now, and not to another registry's.
fn names_the_system_and_chains(ca: &CaMaterial, cert: &str) -> CertInfo {
    let info = inspect(cert).unwrap();
    assert_eq!(info.common_name, "Lingxi Chat");
    assert_eq!(info.filing_number.as_deref(), Some("AIG-2026-000001-4"));
    assert_eq!(info.tier.as_deref(), Some("high"));
    verify(cert, &ca.issuing_cert, &ca.root_cert, now()).unwrap();
    let other = create_ca("Other Registry", KeyAlgorithm::EcdsaP256, now()).unwrap();
    assert!(verify(cert, &other.issuing_cert, &other.root_cert, now()).is_err());
    info
}

#[test]
fn issued_certificates_name_the_system_and_verify() {
    for alg in [KeyAlgorithm::EcdsaP256, KeyAlgorithm::Ed25519] {
        let (ca, cert) = issued(alg);
        assert_eq!(names_the_system_and_chains(&ca, &cert).serial, "010203");
        // Expired and not yet valid both fail.
        let later = now() + chrono::Duration::days(366);
        assert!(verify(&cert, &ca.issuing_cert, &ca.root_cert, later).is_err());
        let before = now() - chrono::Duration::days(1);
        assert!(verify(&cert, &ca.issuing_cert, &ca.root_cert, before).is_err());
    }
}

#[test]
fn bad_requests_are_refused_with_a_reason() {
    let ca = create_ca("Test Registry", KeyAlgorithm::EcdsaP256, now()).unwrap();
    let key = generate_key(KeyAlgorithm::EcdsaP256).unwrap();
    let csr = make_csr(&key, "x", "AIG-2026-000001-4").unwrap();
    // Tampered request: its signature no longer verifies.
    let e = issue_tampered(&ca, &csr, |len| len / 3);
    assert!(e.contains("refused"), "{e}");
    assert!(issue(&ca, "not pem", &subject(), &[1], now(), 30).is_err());
    assert!(
        issue(&ca, &csr, &subject(), &[1], now(), 5000)
            .unwrap_err()
            .to_string()
            .contains("validity")
    );

    // A weak RSA key and a CA request, made with openssl.
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let o = Command::new("openssl")
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    run(&["genrsa", "-out", "weak.key", "1024"]);
    run(&[
        "req", "-new", "-key", "weak.key", "-subj", "/CN=x", "-out", "weak.csr",
    ]);
    let weak = std::fs::read_to_string(dir.path().join("weak.csr")).unwrap();
    let e = issue(&ca, &weak, &subject(), &[1], now(), 30)
        .unwrap_err()
        .to_string();
    assert!(e.contains("1024 bits is too weak"), "{e}");
    run(&[
        "ecparam",
        "-name",
        "prime256v1",
        "-genkey",
        "-noout",
        "-out",
        "ec.key",
    ]);
    run(&[
        "req",
        "-new",
        "-key",
        "ec.key",
        "-subj",
        "/CN=x",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=keyCertSign",
        "-out",
        "ca.csr",
    ]);
    let ca_req = std::fs::read_to_string(dir.path().join("ca.csr")).unwrap();
    let e = issue(&ca, &ca_req, &subject(), &[1], now(), 30)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("CA certificate") || e.contains("not allowed"),
        "{e}"
    );
}

/// The error of issuing `csr` with one bit flipped at `at(length)` of its DER.
fn issue_tampered(ca: &CaMaterial, csr: &str, at: impl Fn(usize) -> usize) -> String {
    let mut bad = pem_der(csr, "csr").unwrap();
    let i = at(bad.len());
    bad[i] ^= 0x01;
    let bad_pem = format!(
        "-----BEGIN CERTIFICATE REQUEST-----\n{}\n-----END CERTIFICATE REQUEST-----\n",
        base64_lines(&bad)
    );
    issue(ca, &bad_pem, &subject(), &[1], now(), 30)
        .unwrap_err()
        .to_string()
}

fn base64_lines(b: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in b.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                s.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

/// An independent verifier (OpenSSL) accepts the chain, reads the extensions, honours the CRL.
#[test]
fn openssl_accepts_the_chain_and_the_crl() {
    let (ca, cert) = issued(KeyAlgorithm::EcdsaP256);
    let dir = tempfile::tempdir().unwrap();
    let w = |name: &str, text: &[u8]| std::fs::write(dir.path().join(name), text).unwrap();
    w("root.pem", ca.root_cert.as_bytes());
    w("issuing.pem", ca.issuing_cert.as_bytes());
    w("leaf.pem", cert.as_bytes());
    let verify_args = |extra: &[&str]| openssl_verify(dir.path(), "leaf.pem", extra);
    let (ok, out) = verify_args(&[]);
    assert!(ok, "{out}");
    openssl_reads_the_profile(dir.path(), "leaf.pem");

    // Revoked in the CRL: OpenSSL refuses the chain when asked to check it.
    let crl_der = crl(
        &ca,
        &[Revoked {
            serial: vec![1, 2, 3],
            at: now(),
            reason: Reason::KeyCompromise,
        }],
        1,
        now(),
        now() + chrono::Duration::days(7),
    )
    .unwrap();
    w("crl.der", &crl_der);
    let o = Command::new("openssl")
        .args(["crl", "-inform", "DER", "-in", "crl.der", "-out", "crl.pem"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success());
    let (ok, out) = verify_args(&["-crl_check", "-CRLfile", "crl.pem"]);
    assert!(!ok, "{out}");
    assert!(out.contains("revoked"), "{out}");
    // An empty CRL lets it through.
    let empty = crl(&ca, &[], 2, now(), now() + chrono::Duration::days(7)).unwrap();
    w("crl.der", &empty);
    let o = Command::new("openssl")
        .args(["crl", "-inform", "DER", "-in", "crl.der", "-out", "crl.pem"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success());
    let (ok, out) = verify_args(&["-crl_check", "-CRLfile", "crl.pem"]);
    assert!(ok, "{out}");
}

/// A PNG of `w`×`h` grey pixels, encoded here (stored deflate blocks) so the test needs no image
/// library.
fn tiny_png(w: u32, h: u32) -> Vec<u8> {
    fn crc32(data: &[u8]) -> u32 {
        let mut c = 0xffff_ffffu32;
        for &b in data {
            c ^= u32::from(b);
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xedb8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
        }
        !c
    }
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32(&body).to_be_bytes());
    }
    let mut raw = Vec::new();
    for _ in 0..h {
        raw.push(0);
        raw.extend(std::iter::repeat_n(0x80u8, w as usize));
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &x in &raw {
        a = (a + u32::from(x)) % 65521;
        b = (b + a) % 65521;
    }
    let mut z = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(65535).collect();
    for (i, blk) in blocks.iter().enumerate() {
        z.push(u8::from(i + 1 == blocks.len()));
        let len = blk.len() as u16;
        z.extend_from_slice(&len.to_le_bytes());
        z.extend_from_slice(&(!len).to_le_bytes());
        z.extend_from_slice(blk);
    }
    z.extend_from_slice(&((b << 16) | a).to_be_bytes());
    let mut png = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(&mut png, b"IDAT", &z);
    chunk(&mut png, b"IEND", &[]);
    png
}

/// The `c2pa` crate signs with a registry certificate and, with the registry root as trust
/// anchor, validates the result as Trusted.
#[test]
fn c2pa_accepts_registry_certificates_for_signing() {
    use std::io::{Cursor, Seek};

    use c2pa::crypto::raw_signature::SigningAlg;
    use c2pa::validation_results::ValidationState;

    let ca = create_ca("Test Registry", KeyAlgorithm::EcdsaP256, Utc::now()).unwrap();
    let key = generate_key(KeyAlgorithm::EcdsaP256).unwrap();
    let csr = make_csr(&key, "Lingxi Chat", "AIG-2026-000001-4").unwrap();
    let cert = issue(&ca, &csr, &subject(), &[0x42], Utc::now(), 30).unwrap();
    let chain = format!("{cert}{}", ca.issuing_cert);
    let signer =
        c2pa::create_signer::from_keys(chain.as_bytes(), key.as_bytes(), SigningAlg::Es256, None)
            .unwrap();

    let read = |anchor: &str, signed: &mut Cursor<Vec<u8>>| {
        let settings = c2pa::settings::Settings::new()
            .with_json(&serde_json::json!({"trust": {"trust_anchors": anchor}, "verify": {"verify_trust": true}}).to_string())
            .unwrap();
        let context = c2pa::Context::new()
            .with_settings(settings)
            .unwrap()
            .into_shared();
        signed.rewind().unwrap();
        let reader = c2pa::Reader::from_shared_context(&context)
            .with_stream("image/png", signed)
            .unwrap();
        (reader.validation_state(), reader.json())
    };
    let definition = serde_json::json!({
        "title": "generated.png",
        "format": "image/png",
        "claim_generator_info": [{"name": "aigov test", "version": "0"}],
        "assertions": [{"label": "c2pa.actions", "data": {"actions": [{
            "action": "c2pa.created",
            "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
        }]}}]
    });
    let mut builder = c2pa::Builder::from_context(c2pa::Context::new())
        .with_definition(definition.to_string())
        .unwrap();
    let mut source = Cursor::new(tiny_png(16, 16));
    let mut signed = Cursor::new(Vec::new());
    builder
        .sign(signer.as_ref(), "image/png", &mut source, &mut signed)
        .unwrap();

    let (state, report) = read(&ca.root_cert, &mut signed);
    assert_eq!(state, ValidationState::Trusted, "{report}");
    // With another registry's root as the only anchor, the same file is not trusted.
    let other = create_ca("Other", KeyAlgorithm::EcdsaP256, Utc::now()).unwrap();
    let (state, _) = read(&other.root_cert, &mut signed);
    assert_ne!(state, ValidationState::Trusted);
}

fn openssl(dir: &std::path::Path, args: &[&str]) -> (bool, String) {
    let o = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    (
        o.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

/// OpenSSL's verdict on the chain of `leaf` (a file in `dir` beside root.pem and
/// issuing.pem), at a time inside the test certificates' validity.
fn openssl_verify(dir: &std::path::Path, leaf: &str, extra: &[&str]) -> (bool, String) {
    let mut args = vec![
        "verify",
        "-attime",
        "1796000000",
        "-purpose",
        "any",
        "-CAfile",
        "root.pem",
        "-untrusted",
        "issuing.pem",
    ];
    args.extend_from_slice(extra);
    args.push(leaf);
    openssl(dir, &args)
}

/// OpenSSL reads the system-certificate profile from `leaf`; returns its text dump.
fn openssl_reads_the_profile(dir: &std::path::Path, leaf: &str) -> String {
    let (ok, text) = openssl(dir, &["x509", "-in", leaf, "-noout", "-text"]);
    assert!(ok, "{text}");
    assert!(
        text.contains("URI:urn:aigov:filing:AIG-2026-000001-4"),
        "{text}"
    );
    assert!(text.contains("Digital Signature"), "{text}");
    assert!(
        text.contains("1.3.6.1.5.5.7.3.36") || text.contains("Document Signing"),
        "{text}"
    );
    assert!(text.contains("1.3.6.1.4.1.62558.2.1"), "{text}");
    text
}

/// SM2 system keys (GM/T 0003, for deployments on Chinese commercial cryptography): aigov's
/// requests verify with OpenSSL, OpenSSL's requests are accepted here, and the certificates
/// chain to the registry root for webpki and for OpenSSL, holding the SM2 key.
#[test]
fn sm2_system_keys_are_certified_and_openssl_agrees() {
    let ca = create_ca("Test Registry", KeyAlgorithm::EcdsaP256, now()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let w = |name: &str, text: &str| std::fs::write(d.join(name), text).unwrap();
    w("root.pem", &ca.root_cert);
    w("issuing.pem", &ca.issuing_cert);

    // Made here: OpenSSL checks the request's SM2-with-SM3 signature and reads its SAN.
    let key = generate_key(KeyAlgorithm::Sm2).unwrap();
    let csr = make_csr(&key, "Lingxi Chat", "AIG-2026-000001-4").unwrap();
    w("aigov.csr", &csr);
    // OpenSSL 3.0 needs the standard identifier spelled out (its default is empty).
    let (ok, out) = openssl(
        d,
        &[
            "req",
            "-in",
            "aigov.csr",
            "-verify",
            "-vfyopt",
            "distid:1234567812345678",
            "-noout",
            "-text",
        ],
    );
    assert!(ok, "{out}");
    assert!(out.contains("verify OK"), "{out}");
    assert!(
        out.contains("SM2-with-SM3") && out.contains("ASN1 OID: SM2"),
        "{out}"
    );
    assert!(
        out.contains("URI:urn:aigov:filing:AIG-2026-000001-4"),
        "{out}"
    );

    // Made by OpenSSL with its own SM2 key.
    let (ok, out) = openssl(
        d,
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:SM2",
            "-out",
            "ossl.key",
        ],
    );
    assert!(ok, "{out}");
    let (ok, out) = openssl(
        d,
        &[
            "req", "-new", "-key", "ossl.key", "-sm3", "-subj", "/CN=x", "-out", "ossl.csr",
        ],
    );
    assert!(ok, "{out}");
    let ossl_csr = std::fs::read_to_string(d.join("ossl.csr")).unwrap();
    // ... and with the standard identifier.
    let (ok, out) = openssl(
        d,
        &[
            "req",
            "-new",
            "-key",
            "ossl.key",
            "-sm3",
            "-sigopt",
            "distid:1234567812345678",
            "-subj",
            "/CN=x",
            "-out",
            "ossl-id.csr",
        ],
    );
    assert!(ok, "{out}");
    let ossl_id_csr = std::fs::read_to_string(d.join("ossl-id.csr")).unwrap();

    for (name, req) in [
        ("aigov", &csr),
        ("ossl", &ossl_csr),
        ("ossl-id", &ossl_id_csr),
    ] {
        let cert = issue(&ca, req, &subject(), &[0x05], now(), 365).unwrap();
        names_the_system_and_chains(&ca, &cert);
        let leaf = format!("{name}.pem");
        w(&leaf, &cert);
        let (ok, out) = openssl_verify(d, &leaf, &[]);
        assert!(ok, "{name}: {out}");
        let text = openssl_reads_the_profile(d, &leaf);
        assert!(text.contains("ASN1 OID: SM2"), "{text}");
        // The certificate holds the request's key.
        let (_, cert_key) = openssl(d, &["x509", "-in", &leaf, "-noout", "-pubkey"]);
        let (_, req_key) = openssl(
            d,
            &["req", "-in", &format!("{name}.csr"), "-noout", "-pubkey"],
        );
        assert_eq!(cert_key, req_key);
    }

    // A request whose SM2 signature does not verify, and a key on a curve the registry does
    // not certify, are refused with the reason.
    let e = issue_tampered(&ca, &csr, |len| len - 10);
    assert!(e.contains("signature"), "{e}");
    let (ok, out) = openssl(
        d,
        &[
            "ecparam",
            "-name",
            "secp256k1",
            "-genkey",
            "-noout",
            "-out",
            "k1.key",
        ],
    );
    assert!(ok, "{out}");
    let (ok, out) = openssl(
        d,
        &[
            "req", "-new", "-key", "k1.key", "-subj", "/CN=x", "-out", "k1.csr",
        ],
    );
    assert!(ok, "{out}");
    let k1 = std::fs::read_to_string(d.join("k1.csr")).unwrap();
    let e = issue(&ca, &k1, &subject(), &[1], now(), 30)
        .unwrap_err()
        .to_string();
    assert!(e.contains("1.3.132.0.10") && e.contains("SM2"), "{e}");

    // The registry CA itself stays P-256 or Ed25519.
    let e = create_ca("X", KeyAlgorithm::Sm2, now())
        .unwrap_err()
        .to_string();
    assert!(e.contains("system keys"), "{e}");
}
