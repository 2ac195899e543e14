//! The labelling pipeline end to end: producer signatures with registry certificates,
//! verification (tampering, forgery, revocation, untrusted roots), propagation across two
//! platforms, and C2PA manifests validated by the `c2pa` crate's reader.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use aigov_label::c2pa::{self as c2pa_bridge, State, Step};
use aigov_label::content::{self, DigestAlg, Production, Propagation};
use aigov_label::format::Limits;
use aigov_label::sign::Signer;
use aigov_label::verify::{self, Options, Outcome, Report, Status, Trust};
use aigov_label::{Aigc, LabelKind};
use aigov_pki::{
    CaMaterial, KeyAlgorithm, SystemSubject, create_ca, generate_key, issue, make_csr,
};
pub use aigov_testkit::png;
use chrono::{Duration, Utc};

/// A registry CA and a system certificate issued by it.
pub struct Registry {
    pub ca: CaMaterial,
}

pub struct System {
    pub key: String,
    pub cert: String,
    pub serial: Vec<u8>,
    pub chain: String,
}

impl Registry {
    pub fn new(name: &str) -> Self {
        Registry {
            ca: create_ca(
                name,
                KeyAlgorithm::EcdsaP256,
                Utc::now() - Duration::days(1),
            )
            .unwrap(),
        }
    }

    pub fn system(&self, name: &str, serial: u8) -> System {
        self.system_with(KeyAlgorithm::EcdsaP256, name, serial)
    }

    /// A system whose key is `alg` (P-256 or SM2).
    pub fn system_with(&self, alg: KeyAlgorithm, name: &str, serial: u8) -> System {
        let key = generate_key(alg).unwrap();
        let csr = make_csr(&key, name, "AIG-2026-000001-4").unwrap();
        let subject = SystemSubject {
            filing_number: "AIG-2026-000001-4".into(),
            system_name: name.into(),
            organisation: format!("{name} Co., Ltd."),
            tier: "high".into(),
        };
        let serial = vec![0x10, serial];
        let cert = issue(
            &self.ca,
            &csr,
            &subject,
            &serial,
            Utc::now() - Duration::hours(1),
            30,
        )
        .unwrap();
        System {
            chain: format!("{cert}{}", self.ca.issuing_cert),
            key,
            cert,
            serial,
        }
    }

    pub fn trust(&self) -> Trust {
        let mut t = Trust::default();
        t.add_pem(&format!("{}{}", self.ca.issuing_cert, self.ca.root_cert))
            .unwrap();
        t
    }

    pub fn crl(&self, revoked: &[&System]) -> Vec<u8> {
        let list: Vec<_> = revoked
            .iter()
            .map(|s| aigov_pki::Revoked {
                serial: s.serial.clone(),
                at: Utc::now() - Duration::minutes(5),
                reason: aigov_pki::Reason::KeyCompromise,
            })
            .collect();
        aigov_pki::crl(
            &self.ca,
            &list,
            1,
            Utc::now() - Duration::minutes(1),
            Utc::now() + Duration::days(7),
        )
        .unwrap()
    }
}

impl System {
    pub fn signer(&self) -> Signer {
        Signer::from_pem(&self.key, Some(&self.cert)).unwrap()
    }
}

fn production(id: &str) -> Production {
    Production {
        kind: LabelKind::AiGenerated,
        producer: "0011911000000000000000000X00001".into(),
        produce_id: id.into(),
    }
}

pub fn produce(input: &[u8], signer: &Signer, id: &str) -> Vec<u8> {
    let mut out = Vec::new();
    content::produce(
        &mut Cursor::new(input),
        &mut out,
        &production(id),
        Some(signer),
        &Limits::default(),
    )
    .unwrap();
    out
}

pub fn propagate(input: &[u8], signer: &Signer, platform: &str, id: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let p = Propagation {
        propagator: platform.into(),
        propagate_id: id.into(),
        kind_if_unlabelled: LabelKind::SuspectedAi,
    };
    content::propagate(
        &mut Cursor::new(input),
        &mut out,
        &p,
        Some(signer),
        &Limits::default(),
    )
    .unwrap();
    out
}

/// `PLATFORM-A` passes `src` on to `dst`, file to file (one pass for large files).
fn propagate_file(src: &Path, dst: &Path, signer: &Signer) {
    let mut f = std::fs::File::create(dst).unwrap();
    let p = Propagation {
        propagator: "PLATFORM-A".into(),
        propagate_id: "a-1".into(),
        kind_if_unlabelled: LabelKind::SuspectedAi,
    };
    content::propagate_file(src, &mut f, &p, Some(signer), &Limits::default()).unwrap();
}

/// Verifies `bytes` from a file, both memory-mapped (the default for files of 64 KiB and more)
/// and read, and checks that the two routes report the same.
pub fn verify_bytes(bytes: &[u8], trust: &Trust) -> Report {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("f");
    std::fs::write(&p, bytes).unwrap();
    let now = Utc::now();
    let mapped = verify::verify_path(&p, trust, now, &Options::default()).unwrap();
    let read = Options {
        no_mmap: true,
        ..Options::default()
    };
    let r = verify::verify_path(&p, trust, now, &read).unwrap();
    assert_eq!(
        serde_json::to_value(&mapped).unwrap(),
        serde_json::to_value(&r).unwrap()
    );
    r
}

pub fn status(r: &Report, name: &str) -> Status {
    r.checks
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no check {name} in {:#?}", r.checks))
        .status
}

pub fn detail<'a>(r: &'a Report, name: &str) -> &'a str {
    &r.checks.iter().find(|c| c.name == name).unwrap().detail
}

/// Every producer check passes and the signer is the registered "Lingxi Draw" with `serial`.
fn identifies_the_producer(r: &Report, serial: &str) {
    assert!(!r.failed(), "{:#?}", r.checks);
    assert!(r.verified());
    for c in [
        "producer.signature",
        "producer.binding",
        "producer.content_digest",
        "producer.certificate",
    ] {
        assert_eq!(status(r, c), Status::Pass, "{c}: {:#?}", r.checks);
    }
    let p = r.producer.as_ref().unwrap();
    assert_eq!(p.system_name.as_deref(), Some("Lingxi Draw"));
    assert_eq!(p.filing_number.as_deref(), Some("AIG-2026-000001-4"));
    assert_eq!(p.serial.as_deref(), Some(serial));
}

#[test]
fn signed_label_verifies_with_the_registry_root() {
    let reg = Registry::new("Test Registry");
    let sys = reg.system("Lingxi Draw", 1);
    let out = produce(&png(40, 20, 3), &sys.signer(), "img-1");
    let r = verify_bytes(&out, &reg.trust());
    assert_eq!(r.outcome, Outcome::Labelled);
    identifies_the_producer(&r, "1001");
    // Without trust anchors the signature still verifies but the signer is not identified.
    let r = verify_bytes(&out, &Trust::default());
    assert_eq!(status(&r, "producer.certificate"), Status::Skip);
    assert!(!r.verified());
}

#[test]
fn tampering_forgery_and_untrusted_signers_are_told_apart() {
    let reg = Registry::new("Test Registry");
    let sys = reg.system("Lingxi Draw", 1);
    let signer = sys.signer();
    let labelled = produce(&png(40, 20, 3), &signer, "img-1");
    let trust = reg.trust();

    // Same shape, other pixels: content tampering.
    let other = png(40, 20, 9);
    let label = current_label(&labelled);
    let mut tampered = Vec::new();
    write(&other, &label, &mut tampered);
    let r = verify_bytes(&tampered, &trust);
    assert_eq!(status(&r, "producer.signature"), Status::Pass);
    assert_eq!(status(&r, "producer.content_digest"), Status::Fail);
    assert!(detail(&r, "producer.content_digest").contains("content tampered"));
    assert_eq!(status(&r, "producer.binding"), Status::Pass);

    // The label copied onto another picture: forgery.
    let mut forged = Vec::new();
    write(&png(64, 64, 5), &label, &mut forged);
    let r = verify_bytes(&forged, &trust);
    assert_eq!(status(&r, "producer.binding"), Status::Fail);
    assert!(
        detail(&r, "producer.binding").contains("forgery"),
        "{}",
        detail(&r, "producer.binding")
    );

    // A field edited: the signature breaks.
    let mut edited = label.clone();
    edited.produce_id = "img-2".into();
    let mut out = Vec::new();
    write(&png(40, 20, 3), &edited, &mut out);
    let r = verify_bytes(&out, &trust);
    assert_eq!(status(&r, "producer.signature"), Status::Fail);
    assert!(r.failed());

    // Another registry's root: the certificate does not chain.
    let r = verify_bytes(&labelled, &Registry::new("Other").trust());
    assert_eq!(status(&r, "producer.certificate"), Status::Fail);

    // Revoked on the registry's CRL; a CRL signed by someone else is ignored.
    let mut t = reg.trust();
    t.add_crl(&reg.crl(&[&sys])).unwrap();
    let r = verify_bytes(&labelled, &t);
    assert_eq!(status(&r, "producer.revocation"), Status::Fail);
    let mut t = reg.trust();
    t.add_crl(&Registry::new("Other").crl(&[])).unwrap();
    let r = verify_bytes(&labelled, &t);
    assert_eq!(status(&r, "producer.revocation"), Status::Skip);
    let mut t = reg.trust();
    t.add_crl(&reg.crl(&[])).unwrap();
    let r = verify_bytes(&labelled, &t);
    assert_eq!(status(&r, "producer.revocation"), Status::Pass);
}

fn current_label(bytes: &[u8]) -> Aigc {
    let insp = content::inspect(&mut Cursor::new(bytes), &Limits::default()).unwrap();
    content::current_label(&insp).unwrap()
}

fn write(input: &[u8], label: &Aigc, out: &mut Vec<u8>) {
    let mut src = Cursor::new(input);
    let f = aigov_label::format::detect(&mut src).unwrap();
    content::write_label(&mut src, out, f, label, &Limits::default()).unwrap();
}

#[test]
fn propagation_chain_across_two_platforms() {
    let reg = Registry::new("Test Registry");
    let producer = reg.system("Lingxi Draw", 1);
    let weibo = reg.system("Platform A", 2);
    let douyin = reg.system("Platform B", 3);
    let made = produce(&png(32, 32, 1), &producer.signer(), "img-7");
    let hop1 = propagate(&made, &weibo.signer(), "PLATFORM-A", "a-1");
    let hop2 = propagate(&hop1, &douyin.signer(), "PLATFORM-B", "b-1");
    let r = verify_bytes(&hop2, &reg.trust());
    assert!(!r.failed(), "{:#?}", r.checks);
    assert_eq!(r.propagation.len(), 2);
    assert_eq!(r.propagation[0].code, "PLATFORM-A");
    assert_eq!(r.propagation[0].system_name.as_deref(), Some("Platform A"));
    assert_eq!(r.propagation[1].code, "PLATFORM-B");
    assert!(r.propagation.iter().all(|p| p.signature_valid));
    assert_eq!(status(&r, "propagator[0].signature"), Status::Pass);
    assert_eq!(status(&r, "propagator[1].signature"), Status::Pass);
    assert_eq!(status(&r, "producer.signature"), Status::Pass);
    let label = r.label.unwrap();
    assert_eq!(
        (label.content_producer.as_str(), label.produce_id.as_str()),
        ("0011911000000000000000000X00001", "img-7")
    );
    // The essence did not change along the way.
    assert_eq!(r.digest, verify_bytes(&made, &reg.trust()).digest);

    // Rewriting history (dropping platform A from the chain) breaks B's signature.
    let mut l = current_label(&hop2);
    l.reserved_code2 = l.reserved_code2.split(";p=").next().unwrap().to_string()
        + ";g="
        + l.reserved_code2.split(";g=").nth(1).unwrap();
    let mut out = Vec::new();
    write(&hop2, &l, &mut out);
    let r = verify_bytes(&out, &reg.trust());
    assert_eq!(status(&r, "propagator[0].signature"), Status::Fail);
}

#[test]
fn unlabelled_files_and_declarations() {
    let trust = Registry::new("R").trust();
    let r = verify_bytes(&png(8, 8, 1), &trust);
    assert_eq!(r.outcome, Outcome::NoLabel);
    assert!(!r.failed());
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.png");
    std::fs::write(&p, png(8, 8, 1)).unwrap();
    let opts = Options {
        declared_ai: true,
        ..Options::default()
    };
    let r = verify::verify_path(&p, &trust, Utc::now(), &opts).unwrap();
    assert_eq!(r.outcome, Outcome::PossiblyAi);
    // A platform propagating an unlabelled upload the user declared as AI writes Label 2.
    let reg = Registry::new("R");
    let platform = reg.system("Platform", 9);
    let mut out = Vec::new();
    let prop = Propagation {
        propagator: "PLATFORM".into(),
        propagate_id: "u-1".into(),
        kind_if_unlabelled: LabelKind::PossiblyAi,
    };
    content::propagate(
        &mut Cursor::new(png(8, 8, 1)),
        &mut out,
        &prop,
        Some(&platform.signer()),
        &Limits::default(),
    )
    .unwrap();
    let r = verify_bytes(&out, &reg.trust());
    assert_eq!(r.outcome, Outcome::PossiblyAi);
    assert_eq!(status(&r, "producer.signature"), Status::Skip);
    assert_eq!(status(&r, "propagator[0].signature"), Status::Pass);
}

fn c2pa_sign(input: &[u8], media: &str, label: &Aigc, step: Step, sys: &System) -> Vec<u8> {
    let mut src = Cursor::new(input.to_vec());
    let mut dst = Cursor::new(Vec::new());
    c2pa_bridge::sign(
        &mut src,
        &mut dst,
        media,
        "generated",
        label,
        step,
        &sys.chain,
        &sys.key,
    )
    .unwrap();
    dst.into_inner()
}

fn files(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn c2pa_manifest_after_the_aigc_label_is_trusted_and_agrees() {
    let reg = Registry::new("Test Registry");
    let sys = reg.system("Lingxi Draw", 1);
    let labelled = produce(&png(48, 24, 2), &sys.signer(), "img-1");
    let label = current_label(&labelled);
    let signed = c2pa_sign(&labelled, "image/png", &label, Step::Created, &sys);
    let r = verify_bytes(&signed, &reg.trust());
    assert!(!r.failed(), "{:#?}", r.checks);
    assert_eq!(status(&r, "c2pa.manifest"), Status::Pass);
    assert_eq!(status(&r, "label.c2pa_agree"), Status::Pass);
    // The AIGC content digest ignores the C2PA store.
    assert_eq!(status(&r, "producer.content_digest"), Status::Pass);
    let c = r.c2pa.as_ref().unwrap();
    assert_eq!(c.state, State::Trusted);
    assert!(c.ai_created());

    // The c2pa crate's own reader agrees, independently of aigov's summary.
    let dir = tempfile::tempdir().unwrap();
    let path = files(dir.path(), "signed.png", &signed);
    let anchors = reg.ca.root_cert.clone();
    let report = c2pa_bridge::read(
        &mut std::fs::File::open(&path).unwrap(),
        "image/png",
        &anchors,
    )
    .unwrap()
    .unwrap();
    assert_eq!(report.state, State::Trusted);
    assert_eq!(report.chain[0].aigc.as_ref().unwrap().produce_id, "img-1");

    // Editing the AIGC metadata after signing breaks the C2PA hard binding, and the two labels
    // disagree.
    let mut edited = label.clone();
    edited.content_propagator = "SNEAKY".into();
    let mut out = Vec::new();
    write(&signed, &edited, &mut out);
    let r = verify_bytes(&out, &reg.trust());
    assert_eq!(status(&r, "c2pa.manifest"), Status::Fail, "{:#?}", r.checks);
    assert_eq!(status(&r, "label.c2pa_agree"), Status::Fail);
}

#[test]
fn c2pa_propagation_keeps_the_parent_manifest() {
    let reg = Registry::new("Test Registry");
    let sys = reg.system("Lingxi Draw", 1);
    let platform = reg.system("Platform A", 2);
    let labelled = produce(&png(48, 24, 2), &sys.signer(), "img-1");
    let created = c2pa_sign(
        &labelled,
        "image/png",
        &current_label(&labelled),
        Step::Created,
        &sys,
    );
    let hop = propagate(&created, &platform.signer(), "PLATFORM-A", "a-1");
    let passed = c2pa_sign(
        &hop,
        "image/png",
        &current_label(&hop),
        Step::Propagated,
        &platform,
    );
    let r = verify_bytes(&passed, &reg.trust());
    assert!(!r.failed(), "{:#?}", r.checks);
    let c = r.c2pa.as_ref().unwrap();
    assert_eq!(c.state, State::Trusted);
    assert_eq!(c.chain.len(), 2, "{c:#?}");
    assert_eq!(c.chain[0].signer.as_deref(), Some("Platform A"));
    assert_eq!(c.chain[1].signer.as_deref(), Some("Lingxi Draw"));
    assert!(c.chain[1].ai_created);
    assert_eq!(
        c.chain[0].aigc.as_ref().unwrap().content_propagator,
        "PLATFORM-A"
    );
    assert_eq!(status(&r, "label.c2pa_agree"), Status::Pass);
}

#[test]
fn a_visible_notice_without_metadata_is_suspected_ai() {
    use aigov_label::visible::text::{Notice, Position, Wording, add_notice};
    let mut out = Vec::new();
    let notice = Notice {
        wording: Wording::Both,
        position: Position::Start,
    };
    add_notice(
        &mut Cursor::new(b"A poem.\n".to_vec()),
        &mut out,
        &notice,
        &Limits::default(),
    )
    .unwrap();
    let r = verify_bytes(&out, &Trust::default());
    assert_eq!(r.outcome, Outcome::SuspectedAi);
    assert_eq!(status(&r, "label.explicit_mark"), Status::Pass);
    // Labelled text without a notice is flagged, not failed.
    let reg = Registry::new("R");
    let sys = reg.system("Writer", 1);
    let labelled = produce(b"A poem.\n", &sys.signer(), "t-1");
    let r = verify_bytes(&labelled, &reg.trust());
    assert_eq!(status(&r, "label.explicit_mark"), Status::Warn);
    assert!(!r.failed());
}

/// A WAV file of `bytes` bytes of 16-bit stereo PCM.
fn big_wav(bytes: u32, seed: u8) -> Vec<u8> {
    let mut f = b"RIFF".to_vec();
    f.extend_from_slice(&(4 + 24 + 8 + bytes).to_le_bytes());
    f.extend_from_slice(b"WAVEfmt ");
    f.extend_from_slice(&16u32.to_le_bytes());
    f.extend_from_slice(&[1, 0, 2, 0]);
    f.extend_from_slice(&44100u32.to_le_bytes());
    f.extend_from_slice(&(44100u32 * 4).to_le_bytes());
    f.extend_from_slice(&[4, 0, 16, 0]);
    f.extend_from_slice(b"data");
    f.extend_from_slice(&bytes.to_le_bytes());
    f.extend((0..bytes).map(|i| (i as u8).wrapping_mul(seed)));
    f
}

#[test]
fn large_files_are_signed_in_one_pass_and_verify() {
    let reg = Registry::new("Test Registry");
    let sys = reg.system("Lingxi Voice", 1);
    let platform = reg.system("Platform A", 2);
    let dir = tempfile::tempdir().unwrap();
    let src = files(dir.path(), "in.wav", &big_wav(9 << 20, 7));
    assert!(std::fs::metadata(&src).unwrap().len() >= content::ONE_PASS_MIN);
    let out = dir.path().join("out.wav");
    let mut f = std::fs::File::create(&out).unwrap();
    let label = content::produce_file(
        &src,
        &mut f,
        &production("voice-1"),
        Some(&sys.signer()),
        &Limits::default(),
    )
    .unwrap();
    drop(f);
    assert!(
        label.reserved_code1.contains(";z="),
        "the padded value was written"
    );
    let r = verify::verify_path(&out, &reg.trust(), Utc::now(), &Options::default()).unwrap();
    assert!(!r.failed(), "{:#?}", r.checks);
    assert!(r.verified());
    assert_eq!(current_label(&std::fs::read(&out).unwrap()), label);
    // The same digest as the two-pass route computes.
    let two_pass = produce(&big_wav(9 << 20, 7), &sys.signer(), "voice-1");
    assert_eq!(verify_bytes(&two_pass, &reg.trust()).digest, r.digest);

    // A platform passes it on, also in one pass.
    let hop = dir.path().join("hop.wav");
    propagate_file(&out, &hop, &platform.signer());
    let r = verify::verify_path(&hop, &reg.trust(), Utc::now(), &Options::default()).unwrap();
    assert!(!r.failed(), "{:#?}", r.checks);
    assert_eq!(r.propagation.len(), 1);
    assert_eq!(status(&r, "propagator[0].signature"), Status::Pass);
    // A tampered sample is still caught.
    let mut bytes = std::fs::read(&hop).unwrap();
    let n = bytes.len();
    bytes[n / 2] ^= 1;
    let r = verify_bytes(&bytes, &reg.trust());
    assert_eq!(status(&r, "producer.content_digest"), Status::Fail);
}

/// BLAKE3 of the essence ranges, computed here from the layout (not through aigov's hasher).
fn blake3_of_essence(bytes: &[u8]) -> String {
    let mut src = Cursor::new(bytes);
    let f = aigov_label::format::detect(&mut src).unwrap();
    let layout = f.layout(&mut src, &Limits::default()).unwrap();
    let mut h = blake3::Hasher::new();
    for r in &layout.essence {
        h.update(&bytes[r.start as usize..r.end as usize]);
    }
    format!("blake3:{}", h.finalize().to_hex())
}

#[test]
fn blake3_content_digests_verify_tamper_and_mix_with_sha256() {
    let reg = Registry::new("Test Registry");
    let sys = reg.system("Lingxi Draw", 1);
    let platform = reg.system("Platform A", 2);
    let fast = sys.signer().with_digest(DigestAlg::Blake3);
    let made = produce(&png(40, 20, 3), &fast, "img-b3");
    let sd = aigov_label::sign::SecurityData::parse(&current_label(&made).reserved_code1).unwrap();
    assert_eq!(sd.binding.digest, blake3_of_essence(&made));
    let r = verify_bytes(&made, &reg.trust());
    assert!(!r.failed(), "{:#?}", r.checks);
    assert!(r.verified());
    assert_eq!(r.digest, blake3_of_essence(&made));
    assert_eq!(detail(&r, "producer.content_digest"), r.digest);

    // Other pixels under the same label: tampering, named with the BLAKE3 digests.
    let mut tampered = Vec::new();
    write(&png(40, 20, 9), &current_label(&made), &mut tampered);
    let r = verify_bytes(&tampered, &reg.trust());
    assert_eq!(status(&r, "producer.signature"), Status::Pass);
    assert_eq!(status(&r, "producer.content_digest"), Status::Fail);
    assert!(
        detail(&r, "producer.content_digest").contains("signed blake3:"),
        "{}",
        detail(&r, "producer.content_digest")
    );

    // A platform signing with SHA-256 passes on a BLAKE3-signed file: both digests are
    // computed and each signature is checked against its own.
    let hop = propagate(&made, &platform.signer(), "PLATFORM-A", "a-1");
    let r = verify_bytes(&hop, &reg.trust());
    assert!(!r.failed(), "{:#?}", r.checks);
    assert!(detail(&r, "producer.content_digest").starts_with("blake3:"));
    assert!(detail(&r, "propagator[0].content_digest").starts_with("sha256:"));

    // An algorithm aigov does not know is a failure, not a pass.
    let mut l = current_label(&made);
    l.reserved_code1 = l.reserved_code1.replace(";d=blake3:", ";d=md5:");
    let mut out = Vec::new();
    write(&png(40, 20, 3), &l, &mut out);
    let r = verify_bytes(&out, &reg.trust());
    assert_eq!(status(&r, "producer.content_digest"), Status::Fail);
    assert!(detail(&r, "producer.content_digest").contains("does not know"));
    assert!(r.failed());

    // Large files: the one-pass route hashes with BLAKE3 beside the copy.
    let dir = tempfile::tempdir().unwrap();
    let wav = big_wav(9 << 20, 5);
    let src = files(dir.path(), "in.wav", &wav);
    let dst = dir.path().join("out.wav");
    let mut f = std::fs::File::create(&dst).unwrap();
    content::produce_file(
        &src,
        &mut f,
        &production("v"),
        Some(&fast),
        &Limits::default(),
    )
    .unwrap();
    drop(f);
    let bytes = std::fs::read(&dst).unwrap();
    let r = verify_bytes(&bytes, &reg.trust());
    assert!(!r.failed(), "{:#?}", r.checks);
    assert_eq!(r.digest, blake3_of_essence(&bytes));
    let mut bad = bytes.clone();
    let n = bad.len();
    bad[n / 2] ^= 1;
    let r = verify_bytes(&bad, &reg.trust());
    assert_eq!(status(&r, "producer.content_digest"), Status::Fail);
}

/// Large MP4 files are labelled file to file with every box but `moov` copied inside the
/// kernel: the copy is byte-identical to the streamed route's, decodes to the same frames, and
/// signed copies (producer, then platform) verify, with `moov` first or last.
#[test]
fn large_mp4_file_to_file_matches_the_streamed_route_and_verifies() {
    use crate::mp4pdf::{ffmpeg, framemd5, run_ffmpeg, venv};
    let ff = ffmpeg(&venv());
    let reg = Registry::new("Test Registry");
    let sys = reg.system("Lingxi Video", 1);
    let platform = reg.system("Platform A", 2);
    let dir = tempfile::tempdir().unwrap();
    for (name, extra) in [
        ("last", &[][..]),
        ("first", &["-movflags", "+faststart"][..]),
    ] {
        // QuickTime with raw video: 11.5 MB, past the one-pass threshold.
        let src = dir.path().join(format!("src-{name}.mov"));
        let mut args = vec![
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=320x240:rate=25",
            "-t",
            "3",
            "-c:v",
            "rawvideo",
            "-pix_fmt",
            "uyvy422",
        ];
        args.extend_from_slice(extra);
        args.push(src.to_str().unwrap());
        run_ffmpeg(&ff, &args);
        assert!(std::fs::metadata(&src).unwrap().len() >= content::ONE_PASS_MIN);

        // Unsigned: the same bytes as the streamed route.
        let filed = dir.path().join(format!("filed-{name}.mov"));
        let mut f = std::fs::File::create(&filed).unwrap();
        content::produce_file(&src, &mut f, &production("v-1"), None, &Limits::default()).unwrap();
        drop(f);
        let mut streamed = Vec::new();
        content::produce(
            &mut std::fs::File::open(&src).unwrap(),
            &mut streamed,
            &production("v-1"),
            None,
            &Limits::default(),
        )
        .unwrap();
        assert!(std::fs::read(&filed).unwrap() == streamed, "moov {name}");
        assert_eq!(framemd5(&ff, &filed), framemd5(&ff, &src), "moov {name}");

        // Signed, in one pass, then passed on by a platform.
        let signed = dir.path().join(format!("signed-{name}.mov"));
        let mut f = std::fs::File::create(&signed).unwrap();
        content::produce_file(
            &src,
            &mut f,
            &production("v-1"),
            Some(&sys.signer().with_digest(DigestAlg::Blake3)),
            &Limits::default(),
        )
        .unwrap();
        drop(f);
        let hop = dir.path().join(format!("hop-{name}.mov"));
        propagate_file(&signed, &hop, &platform.signer());
        for file in [&signed, &hop] {
            let r =
                verify::verify_path(file, &reg.trust(), Utc::now(), &Options::default()).unwrap();
            assert!(!r.failed(), "moov {name}: {:#?}", r.checks);
            assert!(r.verified());
            assert_eq!(status(&r, "producer.content_digest"), Status::Pass);
        }
        assert_eq!(framemd5(&ff, &hop), framemd5(&ff, &src), "moov {name}");
    }
}

/// An SM2 system key with its registry certificate: the producer is identified, the chain and
/// revocation are checked as for P-256, and C2PA (which has no SM2) is refused with the reason.
#[test]
fn sm2_registry_certificates_identify_the_producer() {
    let reg = Registry::new("Test Registry");
    let sys = reg.system_with(KeyAlgorithm::Sm2, "Lingxi Draw", 7);
    let signer = sys.signer();
    let out = produce(&png(40, 20, 3), &signer, "sm2-cert-1");
    let label = current_label(&out);
    assert!(label.reserved_code1.contains(";a=SM2SM3;"));
    assert!(
        label.reserved_code1.contains(";c="),
        "the certificate travels with the label"
    );
    identifies_the_producer(&verify_bytes(&out, &reg.trust()), "1007");

    // Another registry's root, and a revoked certificate, fail.
    let r = verify_bytes(&out, &Registry::new("Other").trust());
    assert_eq!(status(&r, "producer.certificate"), Status::Fail);
    let mut t = reg.trust();
    t.add_crl(&reg.crl(&[&sys])).unwrap();
    assert_eq!(
        status(&verify_bytes(&out, &t), "producer.revocation"),
        Status::Fail
    );

    // A certificate that does not hold the signing key is refused when the signer is made.
    let p256 = reg.system("Lingxi Draw", 8);
    assert!(Signer::from_pem(&sys.key, Some(&p256.cert)).is_err());

    let e = c2pa_bridge::sign(
        &mut Cursor::new(out.clone()),
        &mut Cursor::new(Vec::new()),
        "image/png",
        "generated",
        &label,
        Step::Created,
        &sys.chain,
        &sys.key,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("SM2") && e.contains("P-256"), "{e}");
}

#[test]
fn sm2_with_sm3_signatures_verify_here_and_with_gmssl() {
    use sm2::pkcs8::EncodePrivateKey;
    let sk = sm2::SecretKey::from_slice(&[0x5a; 32]).unwrap();
    let pem = sk.to_pkcs8_pem(Default::default()).unwrap();
    let signer = Signer::from_pem(&pem, None).unwrap();
    let out = produce(&png(30, 20, 4), &signer, "sm2-1");
    let label = current_label(&out);
    assert!(
        label.reserved_code1.contains(";a=SM2SM3;"),
        "{}",
        label.reserved_code1
    );
    let r = verify_bytes(&out, &Trust::default());
    assert_eq!(
        status(&r, "producer.signature"),
        Status::Pass,
        "{:#?}",
        r.checks
    );
    assert_eq!(status(&r, "producer.content_digest"), Status::Pass);
    assert_eq!(status(&r, "producer.certificate"), Status::Warn);
    // An edited field breaks it.
    let mut edited = label.clone();
    edited.produce_id = "sm2-2".into();
    let mut forged = Vec::new();
    write(&png(30, 20, 4), &edited, &mut forged);
    assert_eq!(
        status(
            &verify_bytes(&forged, &Trust::default()),
            "producer.signature"
        ),
        Status::Fail
    );

    // gmssl (pure-Python SM2/SM3) verifies the same signature over the documented bytes.
    let sd = aigov_label::sign::SecurityData::parse(&label.reserved_code1).unwrap();
    let msg =
        aigov_label::sign::message(aigov_label::sign::Role::Producer, &label, &sd.binding, "")
            .unwrap();
    use sm2::elliptic_curve::sec1::ToEncodedPoint;
    let point = sk.public_key().to_encoded_point(false);
    let venv = aigov_testkit::Venv::get("label", "bench/label/requirements.txt");
    let check = |msg: &[u8], sig: &[u8]| {
        venv.run(&[
            "-c",
            "import sys; from gmssl import sm2; c = sm2.CryptSM2(private_key='', public_key=sys.argv[1]); \
             print(c.verify_with_sm3(sys.argv[2], bytes.fromhex(sys.argv[3])))",
            &hex::encode(&point.as_bytes()[1..]),
            &hex::encode(sig),
            &hex::encode(msg),
        ])
    };
    assert_eq!(check(&msg, &sd.signature).trim(), "True");
    let mut other = msg.clone();
    other[20] ^= 1;
    assert_eq!(check(&other, &sd.signature).trim(), "False");
}
