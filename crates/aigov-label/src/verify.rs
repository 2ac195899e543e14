//! Verification of a file's labels: a report listing every check, never just the first error.

use chrono::{DateTime, Utc};
use serde::Serialize;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::content::{DigestAlg, Inspection, inspect};
use crate::format::{Limits, Source};
use crate::sign::{Hop, Role, SecurityData, certificate_pem, pem_certificates};
use crate::{Aigc, Error, LabelKind, Result, Warning};

/// The outcome tiers of the Labelling Measures, art. 6.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The implicit label says the content is AI-generated (`Label` "1").
    Labelled,
    /// `Label` "2", or no label but the uploader declared AI content.
    PossiblyAi,
    /// `Label` "3", or no label but explicit marks or other traces (a C2PA manifest saying
    /// `trainedAlgorithmicMedia`, a visible notice in text).
    SuspectedAi,
    /// Nothing says the content is AI-generated.
    NoLabel,
}

/// The state of one check.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Passed.
    Pass,
    /// Passed with a caveat.
    Warn,
    /// Failed: the label cannot be trusted as it stands.
    Fail,
    /// Not applicable or not possible here (the detail says why).
    Skip,
}

/// One check and its outcome.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Stable identifier (`producer.signature`, `producer.content_digest`, …).
    pub name: String,
    /// Outcome.
    pub status: Status,
    /// What was found.
    pub detail: String,
}

/// Who signed a label, as the certificate says.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignerInfo {
    /// Producer or propagator.
    pub role: Role,
    /// The code in the label (`ContentProducer` / `ContentPropagator`).
    pub code: String,
    /// The id in the label (`ProduceID` / `PropagateID`).
    pub id: String,
    /// Certificate serial (hex), when signed with a certificate.
    pub serial: Option<String>,
    /// Certificate subject common name (the registered system's name).
    pub system_name: Option<String>,
    /// Filing number of the registered system (from the certificate).
    pub filing_number: Option<String>,
    /// Risk tier of the system (from the certificate).
    pub tier: Option<String>,
    /// Certificate validity.
    pub not_after: Option<DateTime<Utc>>,
    /// Whether its signature verified.
    pub signature_valid: bool,
    /// What the registry says about the certificate (filled by an online verifier).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry: Option<RegistryRecord>,
    /// The signer's certificate (PEM), for online lookups.
    #[serde(skip)]
    pub certificate_pem: Option<String>,
}

/// A registry's record of a signer certificate.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct RegistryRecord {
    /// The registered system's id.
    pub system: String,
    /// Its filing number.
    pub filing_number: String,
    /// Certificate status at the registry (`active`, `revoked`, …).
    pub status: String,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Why.
    pub revocation_reason: Option<String>,
}

/// What is trusted: registry roots, issuing CAs and their CRLs.
///
/// The outcome of a certificate's chain and revocation checks is remembered per certificate
/// and minute (a batch of files from one producer checks its certificate once); the memory is
/// shared by clones and starts afresh whenever anchors or CRLs are added.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    /// Root certificates (PEM).
    pub roots: Vec<String>,
    /// Issuing CA certificates (PEM).
    pub intermediates: Vec<String>,
    /// Certificate revocation lists (DER), each checked against an issuing CA.
    pub crls: Vec<Vec<u8>>,
    cache: CertCache,
}

type CacheKey = ([u8; 32], i64);

/// Remembered certificate checks.
#[derive(Clone, Default)]
struct CertCache(std::sync::Arc<std::sync::Mutex<std::collections::HashMap<CacheKey, Vec<Check>>>>);

impl std::fmt::Debug for CertCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CertCache")
    }
}

impl CertCache {
    const MAX: usize = 4096;

    fn get(&self, key: &CacheKey) -> Option<Vec<Check>> {
        self.0.lock().ok()?.get(key).cloned()
    }

    fn put(&self, key: CacheKey, checks: Vec<Check>) {
        if let Ok(mut m) = self.0.lock() {
            if m.len() >= Self::MAX {
                m.clear();
            }
            m.insert(key, checks);
        }
    }
}

impl Trust {
    /// Adds the certificates of a PEM bundle (self-signed ones are roots).
    pub fn add_pem(&mut self, pem: &str) -> Result<()> {
        let certs = pem_certificates(pem)?;
        if certs.is_empty() {
            return Err(Error::Key("no certificate in the trust bundle".into()));
        }
        for der in certs {
            let (_, c) = X509Certificate::from_der(&der)
                .map_err(|e| Error::Key(format!("trust bundle certificate: {e}")))?;
            let pem = certificate_pem(&der);
            if c.subject() == c.issuer() {
                self.roots.push(pem);
            } else {
                self.intermediates.push(pem);
            }
        }
        self.cache = CertCache::default();
        Ok(())
    }

    /// Adds a CRL (DER or PEM).
    pub fn add_crl(&mut self, bytes: &[u8]) -> Result<()> {
        let der = if bytes.starts_with(b"-----BEGIN") {
            let text = String::from_utf8_lossy(bytes);
            let b64: String = text
                .lines()
                .filter(|l| !l.starts_with("-----"))
                .collect::<String>();
            use base64::Engine;
            base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .map_err(|e| Error::Key(format!("CRL PEM: {e}")))?
        } else {
            bytes.to_vec()
        };
        x509_parser::revocation_list::CertificateRevocationList::from_der(&der)
            .map_err(|e| Error::Key(format!("CRL: {e}")))?;
        self.crls.push(der);
        self.cache = CertCache::default();
        Ok(())
    }

    fn is_empty(&self) -> bool {
        self.roots.is_empty()
    }
}

/// Options of a verification.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The uploader declared the content AI-generated (art. 6 "possibly AI" when unlabelled).
    pub declared_ai: bool,
    /// Limits for parsing.
    pub limits: Limits,
    /// Read files instead of mapping them (see the `aigov-mmap` crate: a file that another
    /// process truncates while it is mapped makes the reader fault).
    pub no_mmap: bool,
}

/// The report for one file.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Container format.
    pub format: &'static str,
    /// Media type.
    pub media_type: &'static str,
    /// Shape of the content.
    pub shape: String,
    /// `sha256:<hex>` of the essence.
    pub digest: String,
    /// Art. 6 outcome.
    pub outcome: Outcome,
    /// The label read (primary carrier first).
    pub label: Option<Aigc>,
    /// Where labels were found.
    pub carriers: Vec<String>,
    /// Deviations tolerated by the lenient reader.
    pub warnings: Vec<Warning>,
    /// The producer, as signed.
    pub producer: Option<SignerInfo>,
    /// The platforms that passed the content on, oldest first.
    pub propagation: Vec<SignerInfo>,
    /// Whether a C2PA manifest store is present.
    pub has_c2pa: bool,
    /// What the C2PA manifest store says, when read.
    #[cfg(feature = "c2pa")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub c2pa: Option<crate::c2pa::C2paReport>,
    /// Every check made.
    pub checks: Vec<Check>,
}

impl Report {
    /// Whether any check failed.
    pub fn failed(&self) -> bool {
        self.checks.iter().any(|c| c.status == Status::Fail)
    }

    /// Adds a check.
    pub fn check(&mut self, name: impl Into<String>, status: Status, detail: impl Into<String>) {
        self.checks.push(Check {
            name: name.into(),
            status,
            detail: detail.into(),
        });
    }

    /// Serials of every signer certificate (producer, then propagators).
    pub fn serials(&self) -> Vec<String> {
        self.producer
            .iter()
            .chain(&self.propagation)
            .filter_map(|s| s.serial.clone())
            .collect()
    }

    /// Adds what a registry says about each signer certificate (`<signer>.registry` checks):
    /// `lookup` returns the registry's record for a serial, `None` when it does not know it.
    pub fn apply_registry(&mut self, lookup: &dyn Fn(&str) -> Option<RegistryRecord>) {
        let mut checks = Vec::new();
        let signers = self
            .producer
            .iter_mut()
            .map(|s| ("producer".to_string(), s))
            .chain(
                self.propagation
                    .iter_mut()
                    .enumerate()
                    .map(|(i, s)| (format!("propagator[{i}]"), s)),
            );
        for (name, signer) in signers {
            let Some(serial) = signer.serial.clone() else {
                continue;
            };
            let (status, detail) = match lookup(&serial) {
                None => (
                    Status::Fail,
                    format!("certificate {serial} is unknown to the registry"),
                ),
                Some(rec) => {
                    let s = if rec.status == "active" {
                        (
                            Status::Pass,
                            format!(
                                "system {} ({}), certificate active",
                                rec.system, rec.filing_number
                            ),
                        )
                    } else {
                        (
                            Status::Fail,
                            format!(
                                "system {} ({}), certificate {}{}",
                                rec.system,
                                rec.filing_number,
                                rec.status,
                                rec.revocation_reason
                                    .as_deref()
                                    .map(|r| format!(" ({r})"))
                                    .unwrap_or_default()
                            ),
                        )
                    };
                    signer.registry = Some(rec);
                    s
                }
            };
            checks.push(Check {
                name: format!("{name}.registry"),
                status,
                detail,
            });
        }
        self.checks.extend(checks);
    }

    /// Whether the label is present and its producer signature verified with a trusted,
    /// unrevoked certificate, and nothing failed.
    pub fn verified(&self) -> bool {
        !self.failed()
            && self.producer.as_ref().is_some_and(|p| p.signature_valid)
            && self.checks.iter().any(|c| {
                c.name == "producer.certificate"
                    && c.status != Status::Fail
                    && c.status != Status::Skip
            })
    }
}

/// The answer of a verification service for one file.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct LabelVerification {
    /// The file, as named by the caller.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Whether the label is present, signed by a trusted unrevoked certificate, and nothing
    /// failed (see [`Report::verified`]).
    pub verified: bool,
    /// Every finding.
    pub report: Report,
}

impl From<Report> for LabelVerification {
    fn from(report: Report) -> Self {
        LabelVerification {
            file: None,
            verified: report.verified(),
            report,
        }
    }
}

fn empty_report() -> Report {
    Report {
        format: "",
        media_type: "",
        shape: String::new(),
        digest: String::new(),
        outcome: Outcome::NoLabel,
        label: None,
        carriers: Vec::new(),
        warnings: Vec::new(),
        producer: None,
        propagation: Vec::new(),
        has_c2pa: false,
        #[cfg(feature = "c2pa")]
        c2pa: None,
        checks: Vec::new(),
    }
}

/// Verifies a file's labels against `trust` at `now`.
pub fn verify(
    src: &mut dyn Source,
    trust: &Trust,
    now: DateTime<Utc>,
    opts: &Options,
) -> Result<Report> {
    let insp = inspect(src, &opts.limits)?;
    Ok(verify_inspected(&insp, trust, now, opts))
}

/// Verifies an already inspected file.
pub fn verify_inspected(
    insp: &Inspection,
    trust: &Trust,
    now: DateTime<Utc>,
    opts: &Options,
) -> Report {
    let mut r = Report {
        format: insp.format.name(),
        media_type: insp.format.media_type(),
        shape: insp.layout.shape.clone(),
        digest: insp.digest.clone(),
        outcome: Outcome::NoLabel,
        label: None,
        carriers: insp
            .layout
            .carriers
            .iter()
            .map(|c| c.kind.clone())
            .collect(),
        warnings: Vec::new(),
        producer: None,
        propagation: Vec::new(),
        has_c2pa: insp.layout.has_c2pa,
        #[cfg(feature = "c2pa")]
        c2pa: None,
        checks: Vec::new(),
    };
    // Every carrier's label, primary first.
    let mut parsed: Vec<(String, Aigc)> = Vec::new();
    let mut carriers: Vec<_> = insp.layout.carriers.iter().collect();
    carriers.sort_by_key(|c| !c.primary);
    for c in carriers {
        match Aigc::parse(&c.text) {
            Ok((l, w)) => {
                if parsed.is_empty() {
                    r.warnings = w;
                }
                parsed.push((c.kind.clone(), l));
            }
            Err(e) => r.check(
                format!("carrier.{}", c.kind),
                Status::Fail,
                format!("unreadable label: {e}"),
            ),
        }
    }
    let Some((kind, label)) = parsed.first().cloned() else {
        r.check(
            "label.present",
            Status::Skip,
            "no AIGC label in any carrier",
        );
        r.outcome = if opts.declared_ai {
            Outcome::PossiblyAi
        } else {
            Outcome::NoLabel
        };
        return r;
    };
    r.check(
        "label.present",
        Status::Pass,
        format!("AIGC label in {kind}"),
    );
    for (other_kind, other) in &parsed[1..] {
        if other.label != label.label
            || other.content_producer != label.content_producer
            || other.produce_id != label.produce_id
        {
            r.check(
                "label.carriers_agree",
                Status::Fail,
                format!("{other_kind} holds a different label than {kind}"),
            );
        } else {
            r.check(
                "label.carriers_agree",
                Status::Pass,
                format!("{other_kind} agrees with {kind}"),
            );
        }
    }
    if r.warnings.is_empty() {
        r.check(
            "label.syntax",
            Status::Pass,
            "the seven fields, as GB 45438 writes them",
        );
    } else {
        let list: Vec<String> = r
            .warnings
            .iter()
            .map(|w| format!("{}: {}", w.field, w.message))
            .collect();
        r.check("label.syntax", Status::Warn, list.join("; "));
    }
    r.outcome = match label.kind() {
        Some(LabelKind::AiGenerated) => Outcome::Labelled,
        Some(LabelKind::PossiblyAi) => Outcome::PossiblyAi,
        Some(LabelKind::SuspectedAi) => Outcome::SuspectedAi,
        None => Outcome::SuspectedAi,
    };
    // Producer.
    let producer = signer_check(
        &mut r,
        "producer",
        Role::Producer,
        &label,
        &label.reserved_code1,
        insp,
        trust,
        now,
    );
    r.producer = Some(SignerInfo {
        code: label.content_producer.clone(),
        id: label.produce_id.clone(),
        ..producer
    });
    // Propagation chain: earlier hops, then the current propagator.
    if !label.content_propagator.is_empty() || !label.reserved_code2.is_empty() {
        let mut hops: Vec<Hop> = Vec::new();
        if SecurityData::is_aigov(&label.reserved_code2)
            && let Ok(sd) = SecurityData::parse(&label.reserved_code2)
        {
            match sd.previous() {
                Ok(h) => hops = h,
                Err(e) => r.check("propagator.chain", Status::Fail, e.to_string()),
            }
        }
        for (i, hop) in hops.iter().enumerate() {
            let mut at = label.clone();
            at.content_propagator = hop.propagator.clone();
            at.propagate_id = hop.id.clone();
            at.reserved_code2 = hop.code.clone();
            let name = format!("propagator[{i}]");
            let info = signer_check(
                &mut r,
                &name,
                Role::Propagator,
                &at,
                &hop.code,
                insp,
                trust,
                now,
            );
            r.propagation.push(SignerInfo {
                code: hop.propagator.clone(),
                id: hop.id.clone(),
                ..info
            });
        }
        let name = format!("propagator[{}]", hops.len());
        let info = signer_check(
            &mut r,
            &name,
            Role::Propagator,
            &label,
            &label.reserved_code2,
            insp,
            trust,
            now,
        );
        r.propagation.push(SignerInfo {
            code: label.content_propagator.clone(),
            id: label.propagate_id.clone(),
            ..info
        });
    }
    r.label = Some(label);
    r
}

/// Checks one security-data value; adds `<name>.signature`, `<name>.binding`,
/// `<name>.content_digest`, `<name>.certificate` and `<name>.revocation` checks.
#[allow(clippy::too_many_arguments)]
fn signer_check(
    r: &mut Report,
    name: &str,
    role: Role,
    label: &Aigc,
    value: &str,
    insp: &Inspection,
    trust: &Trust,
    now: DateTime<Utc>,
) -> SignerInfo {
    let mut info = SignerInfo {
        role,
        code: String::new(),
        id: String::new(),
        serial: None,
        system_name: None,
        filing_number: None,
        tier: None,
        not_after: None,
        signature_valid: false,
        registry: None,
        certificate_pem: None,
    };
    if value.is_empty() {
        r.check(
            format!("{name}.signature"),
            Status::Skip,
            "unsigned: the reserved code is empty",
        );
        return info;
    }
    if !SecurityData::is_aigov(value) {
        r.check(
            format!("{name}.signature"),
            Status::Skip,
            "the reserved code is in a format aigov does not know; not verified",
        );
        return info;
    }
    let sd = match SecurityData::parse(value) {
        Ok(sd) => sd,
        Err(e) => {
            r.check(format!("{name}.signature"), Status::Fail, e.to_string());
            return info;
        }
    };
    match sd.verify(role, label) {
        Ok(()) => {
            info.signature_valid = true;
            r.check(
                format!("{name}.signature"),
                Status::Pass,
                "signature over the label fields and the content binding verifies",
            );
        }
        Err(e) => {
            r.check(
                format!("{name}.signature"),
                Status::Fail,
                format!("label fields altered or forged: {e}"),
            );
        }
    }
    // Binding: a different media type or shape means the label was made for other content
    // (copied); the same shape with another digest means the content was changed.
    let (media_type, shape) = (insp.format.media_type(), insp.layout.shape.as_str());
    if sd.binding.media_type != media_type || sd.binding.shape != shape {
        r.check(
            format!("{name}.binding"),
            Status::Fail,
            format!(
                "label forgery: signed for {} {} but this file is {} {} (a label copied from other content)",
                sd.binding.media_type, sd.binding.shape, media_type, shape
            ),
        );
    } else {
        r.check(
            format!("{name}.binding"),
            Status::Pass,
            format!("{media_type} {shape}"),
        );
    }
    // The content's digest with the algorithm this signature used (inspection computed every
    // algorithm the label's signatures name).
    let actual = DigestAlg::of(&sd.binding.digest).and_then(|a| insp.digest_with(a));
    match actual {
        Some(d) if d == sd.binding.digest => {
            r.check(
                format!("{name}.content_digest"),
                Status::Pass,
                d.to_string(),
            );
        }
        Some(d) => {
            r.check(
                format!("{name}.content_digest"),
                Status::Fail,
                format!(
                    "content tampered: signed {} but the content hashes to {d}",
                    sd.binding.digest
                ),
            );
        }
        None => {
            r.check(
                format!("{name}.content_digest"),
                Status::Fail,
                format!(
                    "signed digest {:?} uses an algorithm aigov does not know",
                    sd.binding.digest
                ),
            );
        }
    }
    let Some(cert) = &sd.certificate else {
        r.check(
            format!("{name}.certificate"),
            Status::Warn,
            "signed with a bare key, not a registry certificate: the signer is not identified",
        );
        return info;
    };
    let pem = certificate_pem(cert);
    if let Ok(ci) = aigov_pki::inspect(&pem) {
        info.serial = Some(ci.serial.clone());
        info.system_name = Some(ci.common_name);
        info.filing_number = ci.filing_number;
        info.tier = ci.tier;
        info.not_after = Some(ci.not_after);
        use sha2::Digest;
        let key: CacheKey = (sha2::Sha256::digest(cert).into(), now.timestamp() / 60);
        let checks = match trust.cache.get(&key) {
            Some(c) => c,
            None => {
                let mut scratch = empty_report();
                certificate_check(
                    &mut scratch,
                    "",
                    &pem,
                    &ci.serial,
                    ci.not_before,
                    ci.not_after,
                    trust,
                    now,
                );
                trust.cache.put(key, scratch.checks.clone());
                scratch.checks
            }
        };
        for c in checks {
            r.checks.push(Check {
                name: format!("{name}{}", c.name),
                ..c
            });
        }
    } else {
        r.check(
            format!("{name}.certificate"),
            Status::Fail,
            "the embedded certificate cannot be read",
        );
    }
    info.certificate_pem = Some(pem);
    info
}

#[allow(clippy::too_many_arguments)]
fn certificate_check(
    r: &mut Report,
    name: &str,
    pem: &str,
    serial: &str,
    not_before: DateTime<Utc>,
    not_after: DateTime<Utc>,
    trust: &Trust,
    now: DateTime<Utc>,
) {
    if trust.is_empty() {
        r.check(
            format!("{name}.certificate"),
            Status::Skip,
            "no trust anchors given (use a trust bundle or a server)",
        );
        return;
    }
    let chains = |at: DateTime<Utc>| {
        trust.roots.iter().any(|root| {
            trust
                .intermediates
                .iter()
                .any(|inter| aigov_pki::verify(pem, inter, root, at).is_ok())
        })
    };
    if chains(now) {
        r.check(
            format!("{name}.certificate"),
            Status::Pass,
            format!("chains to a trusted registry root; valid until {not_after}"),
        );
    } else if now > not_after && chains(not_before + chrono::Duration::seconds(1)) {
        r.check(
            format!("{name}.certificate"),
            Status::Warn,
            format!("issued by a trusted registry but expired on {not_after}; the label may predate expiry"),
        );
    } else {
        r.check(
            format!("{name}.certificate"),
            Status::Fail,
            "does not chain to a trusted registry root for document signing",
        );
        return;
    }
    // Revocation, from a CRL signed by an issuing CA we trust.
    let mut checked = false;
    for der in &trust.crls {
        let Ok((_, crl)) = x509_parser::revocation_list::CertificateRevocationList::from_der(der)
        else {
            continue;
        };
        let issuer_ok = trust.intermediates.iter().chain(&trust.roots).any(|p| {
            pem_certificates(p)
                .ok()
                .and_then(|v| v.into_iter().next())
                .is_some_and(|d| {
                    X509Certificate::from_der(&d)
                        .map(|(_, c)| {
                            c.subject() == crl.issuer()
                                && crl.verify_signature(c.public_key()).is_ok()
                        })
                        .unwrap_or(false)
                })
        });
        if !issuer_ok {
            continue;
        }
        checked = true;
        if let Some(rev) = crl
            .iter_revoked_certificates()
            .find(|c| hex::encode(c.raw_serial()) == serial)
        {
            r.check(
                format!("{name}.revocation"),
                Status::Fail,
                format!("certificate {serial} revoked on {}", rev.revocation_date),
            );
            return;
        }
        if let Some(next) = crl.next_update()
            && next.timestamp() < now.timestamp()
        {
            r.check(
                format!("{name}.revocation"),
                Status::Warn,
                "not on the CRL, but the CRL is out of date",
            );
            return;
        }
    }
    if checked {
        r.check(
            format!("{name}.revocation"),
            Status::Pass,
            "not revoked (CRL)",
        );
    } else {
        r.check(
            format!("{name}.revocation"),
            Status::Skip,
            "no CRL from the issuer given",
        );
    }
}

/// Verifies a file on disk: the `AIGC` label (every carrier, signatures, bindings,
/// certificates, CRLs) and, with the `c2pa` feature, the C2PA manifest store validated against
/// the same trust anchors, and whether the two agree.
pub fn verify_path(
    path: &std::path::Path,
    trust: &Trust,
    now: DateTime<Utc>,
    opts: &Options,
) -> Result<Report> {
    let mut file = std::fs::File::open(path)?;
    let map = if opts.no_mmap {
        None
    } else {
        // Files under 64 KiB are read: a map costs system calls and page faults that copying a
        // few pages does not.
        aigov_mmap::map_file(&file, 64 * 1024)?
    };
    match &map {
        Some(bytes) => {
            let insp = crate::content::inspect_bytes(bytes, &opts.limits, None)?;
            let mut src = std::io::Cursor::new(&bytes[..]);
            Ok(verify_with_source(&mut src, &insp, trust, now, opts))
        }
        None => {
            let insp = inspect(&mut file, &opts.limits)?;
            Ok(verify_with_source(&mut file, &insp, trust, now, opts))
        }
    }
}

/// The checks of [`verify_path`] after inspection, with `file` still at hand for those that
/// read more of it (the visible notice in text, the C2PA store).
fn verify_with_source<R: std::io::Read + std::io::Seek + Send>(
    file: &mut R,
    insp: &Inspection,
    trust: &Trust,
    now: DateTime<Utc>,
    opts: &Options,
) -> Report {
    let mut r = verify_inspected(insp, trust, now, opts);
    // Explicit marks can be read back from text (images would need OCR, audio a detector).
    if insp.format.name() == "text" {
        let found = crate::visible::text::find_notice(file, &opts.limits).unwrap_or(false);
        match (found, r.label.is_some()) {
            (true, _) => {
                r.check("label.explicit_mark", Status::Pass, "a visible AI notice at the start or end of the text");
                if r.outcome == Outcome::NoLabel {
                    r.outcome = Outcome::SuspectedAi;
                }
            }
            (false, true) => r.check(
                "label.explicit_mark",
                Status::Warn,
                "no visible AI notice at the start or end of the text (the Measures ask for both labels)",
            ),
            (false, false) => {}
        }
    }
    #[cfg(feature = "c2pa")]
    if insp.layout.has_c2pa {
        let anchors = trust.roots.concat();
        match crate::c2pa::read(file, insp.format.media_type(), &anchors) {
            Ok(Some(c)) => merge_c2pa(&mut r, c),
            Ok(None) => r.check(
                "c2pa.manifest",
                Status::Fail,
                "a C2PA store is present but holds no manifest",
            ),
            Err(e) => r.check(
                "c2pa.manifest",
                Status::Fail,
                format!("unreadable C2PA store: {e}"),
            ),
        }
    }
    r
}

#[cfg(feature = "c2pa")]
fn merge_c2pa(r: &mut Report, c: crate::c2pa::C2paReport) {
    use crate::c2pa::State;
    let signer = c
        .chain
        .first()
        .and_then(|m| m.signer.clone())
        .unwrap_or_default();
    match c.state {
        State::Trusted => r.check(
            "c2pa.manifest",
            Status::Pass,
            format!("valid and trusted (signed by {signer})"),
        ),
        State::Valid => r.check(
            "c2pa.manifest",
            Status::Warn,
            format!("valid, but the signer ({signer}) is not in the trust anchors"),
        ),
        State::Invalid => r.check(
            "c2pa.manifest",
            Status::Fail,
            format!(
                "invalid: {}",
                if c.failures.is_empty() {
                    "validation failed".to_string()
                } else {
                    c.failures.join(", ")
                }
            ),
        ),
    }
    if c.chain.len() > 1 {
        r.check(
            "c2pa.chain",
            Status::Pass,
            format!(
                "{} manifests: the active one and {} parent(s)",
                c.chain.len(),
                c.chain.len() - 1
            ),
        );
    }
    let manifest_label = c.chain.first().and_then(|m| m.aigc.clone());
    match (&r.label, manifest_label) {
        (Some(meta), Some(man)) => {
            let same = meta.label == man.label
                && meta.content_producer == man.content_producer
                && meta.produce_id == man.produce_id
                && meta.content_propagator == man.content_propagator
                && meta.propagate_id == man.propagate_id;
            if same {
                r.check(
                    "label.c2pa_agree",
                    Status::Pass,
                    "the AIGC metadata and the C2PA assertion agree",
                );
            } else {
                r.check(
                    "label.c2pa_agree",
                    Status::Fail,
                    "the AIGC metadata differs from the label in the C2PA manifest",
                );
            }
        }
        (None, Some(_)) => r.check(
            "label.c2pa_agree",
            Status::Fail,
            "the C2PA manifest carries an AIGC label but the metadata has none (removed?)",
        ),
        (Some(_), None) => r.check(
            "label.c2pa_agree",
            Status::Skip,
            "the C2PA manifest carries no AIGC assertion",
        ),
        (None, None) => {}
    }
    if r.outcome == Outcome::NoLabel && c.ai_created() {
        r.outcome = Outcome::SuspectedAi;
    }
    r.c2pa = Some(c);
}
