//! `aigov label add|propagate|verify`: labels on AI-generated content (GB 45438 `AIGC`
//! metadata, visible notices, C2PA) and their verification.
//!
//! Exit codes. `verify`: 0 every file is labelled and nothing failed; 1 a check failed on some
//! file (tampered content, forged or altered label, bad signature, untrusted or revoked
//! certificate, disagreement between carriers or with C2PA); 2 a file could not be read or
//! invalid usage; 3 some file carries no label (and nothing failed). `add` and `propagate`: 0
//! written; 2 invalid usage or unreadable input; 1 other failures.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Seek;
use std::path::{Path, PathBuf};

use aigov_label::content::{self, DigestAlg, Production, Propagation};
use aigov_label::format::Limits;
use aigov_label::sign::Signer;
use aigov_label::verify::{self, Options, RegistryRecord, Report, Status, Trust};
use aigov_label::{LabelKind, c2pa};
use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use serde_json::json;

use crate::Exit;

/// `aigov label …`
#[derive(Subcommand)]
pub enum LabelCommand {
    /// Label a generated file: `AIGC` metadata signed with the system's registry key, and
    /// optionally a C2PA manifest (written in that order).
    Add(AddArgs),
    /// Add a platform's propagation record (ContentPropagator, PropagateID, ReservedCode2) and,
    /// optionally, a C2PA manifest that takes the previous file as its parent.
    Propagate(PropagateArgs),
    /// Verify the labels of files: outcome tier, producer, propagation chain, tampering,
    /// forgery, C2PA, and every check made.
    Verify(VerifyArgs),
    /// Make a signing key (PKCS#8 PEM, mode 0600): p256 (default; request a registry
    /// certificate for it) or sm2 (SM2 with SM3, used as a bare key).
    Keygen {
        /// Where to write the key.
        out: PathBuf,
        /// p256 or sm2.
        #[arg(long, default_value = "p256")]
        alg: String,
    },
}

/// Signing key and certificate.
#[derive(Args, Clone)]
pub struct KeyOpts {
    /// Signing key (PKCS#8 PEM, P-256), e.g. the OUT.key of `aigov cert request`.
    #[arg(long)]
    key: Option<PathBuf>,
    /// The key's registry certificate (PEM), e.g. OUT.pem.
    #[arg(long)]
    cert: Option<PathBuf>,
    /// The issuing CA chain (PEM), e.g. OUT.chain.pem; needed for `--c2pa`.
    #[arg(long)]
    chain: Option<PathBuf>,
    /// Also sign a C2PA manifest (after the AIGC metadata).
    #[arg(long)]
    c2pa: bool,
    /// Hash of the content digest the signature binds: sha256, or blake3 (several times
    /// faster on large media; verifiers read the algorithm from the label).
    #[arg(long, default_value = "sha256")]
    digest: String,
}

/// Where the labelled copy goes.
#[derive(Args, Clone)]
pub struct OutOpts {
    /// Output file (written atomically; never the input unless `--in-place`).
    #[arg(short, long)]
    out: Option<PathBuf>,
    /// Replace the input file (atomically).
    #[arg(long, conflicts_with = "out")]
    in_place: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// `aigov label add`
#[derive(Args)]
pub struct AddArgs {
    /// The generated file.
    file: PathBuf,
    /// ContentProducer: the provider's code.
    #[arg(long)]
    producer: String,
    /// ProduceID: this content's id at the provider (default: a new UUID).
    #[arg(long)]
    produce_id: Option<String>,
    /// Label: 1 AI-generated (default), 2 possibly, 3 suspected.
    #[arg(long, default_value = "1")]
    kind: String,
    #[command(flatten)]
    visible: VisibleOpts,
    #[command(flatten)]
    keys: KeyOpts,
    #[command(flatten)]
    out: OutOpts,
}

/// The visible (explicit) label.
#[derive(Args, Clone)]
pub struct VisibleOpts {
    /// Also add the visible label, before the metadata: a notice at the start or end of text, a
    /// notice drawn on images (PNG, JPEG, WebP, GIF, TIFF; text at least 5% of the shorter
    /// side), the short-long-short-short tone cue mixed into WAV or FLAC audio.
    #[arg(long)]
    visible: bool,
    /// Wording of the notice: zh, en, both (default) or your own words (they must name AI or
    /// 人工智能 and 生成 or 合成).
    #[arg(long, default_value = "both")]
    wording: String,
    /// Where the text notice goes: start (default), end or both.
    #[arg(long, default_value = "start")]
    notice_position: String,
    /// Where the image notice goes: top-left, top-right, bottom-left, bottom-right (default),
    /// top-center or bottom-center.
    #[arg(long, default_value = "bottom-right")]
    corner: String,
    /// Font for image notices (TTF, OTF or TTC with Chinese glyphs); default: the first
    /// well-known CJK font found (e.g. Debian's fonts-wqy-microhei).
    #[arg(long, env = "AIGOV_FONT")]
    font: Option<PathBuf>,
    /// Put the audio cue at the end as well as the start.
    #[arg(long)]
    cue_at_end: bool,
}

/// `aigov label propagate`
#[derive(Args)]
pub struct PropagateArgs {
    /// The file received.
    file: PathBuf,
    /// ContentPropagator: the platform's code.
    #[arg(long)]
    platform: String,
    /// PropagateID: this content's id on the platform (default: a new UUID).
    #[arg(long)]
    propagate_id: Option<String>,
    /// The uploader declared the content AI-generated (an unlabelled file gets Label 2, else 3).
    #[arg(long)]
    declared_ai: bool,
    #[command(flatten)]
    keys: KeyOpts,
    #[command(flatten)]
    out: OutOpts,
}

/// `aigov label verify`
#[derive(Args)]
pub struct VerifyArgs {
    /// Files to verify.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Trusted registry certificates (PEM: root and issuing CA, e.g. from `/ca/chain.pem`).
    #[arg(long)]
    trust: Vec<PathBuf>,
    /// Certificate revocation lists (DER or PEM).
    #[arg(long)]
    crl: Vec<PathBuf>,
    /// Verify online against this registry server: its CA chain and CRL are fetched, and each
    /// signer certificate is looked up (system, status).
    #[arg(long)]
    server: Option<String>,
    /// The uploader declared the content AI-generated.
    #[arg(long)]
    declared_ai: bool,
    /// Read files instead of memory-mapping them (use it when other processes may truncate
    /// the files during verification).
    #[arg(long)]
    no_mmap: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// `aigov label …`
pub async fn run(c: LabelCommand) -> Result<()> {
    match c {
        LabelCommand::Add(a) => tokio::task::spawn_blocking(move || add(a)).await?,
        LabelCommand::Propagate(a) => tokio::task::spawn_blocking(move || propagate(a)).await?,
        LabelCommand::Verify(a) => verify_cmd(a).await,
        LabelCommand::Keygen { out, alg } => keygen(&out, &alg),
    }
}

fn keygen(out: &Path, alg: &str) -> Result<()> {
    use rand::RngCore;
    if out.exists() {
        return Err(usage(format!(
            "{} exists; not overwriting a key",
            out.display()
        )));
    }
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    let pem =
        aigov_label::sign::key_pem_from_secret(alg, &secret).map_err(|e| usage(e.to_string()))?;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts
        .open(out)
        .with_context(|| format!("failed to create {}", out.display()))?;
    std::io::Write::write_all(&mut f, pem.as_bytes())?;
    println!("{alg} key {} (keep it secret)", out.display());
    Ok(())
}

fn usage(msg: impl Into<String>) -> anyhow::Error {
    Exit(2, msg.into()).into()
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("failed to read {}", path.display()))
}

struct Keys {
    signer: Option<Signer>,
    /// For C2PA: leaf + issuing chain (PEM) and key.
    c2pa: Option<(String, String)>,
}

fn load_keys(k: &KeyOpts) -> Result<Keys> {
    let Some(key_path) = &k.key else {
        if k.c2pa {
            return Err(usage("--c2pa needs --key, --cert and --chain"));
        }
        if k.digest != DigestAlg::default().name() {
            return Err(usage("--digest applies to a signature: it needs --key"));
        }
        return Ok(Keys {
            signer: None,
            c2pa: None,
        });
    };
    let key = read(key_path)?;
    let cert = k.cert.as_deref().map(read).transpose()?;
    let digest: DigestAlg = k
        .digest
        .parse()
        .map_err(|e| usage(format!("--digest: {e}")))?;
    let signer = Signer::from_pem(&key, cert.as_deref())
        .map_err(|e| usage(format!("{}: {e}", key_path.display())))?
        .with_digest(digest);
    let c2pa = if k.c2pa {
        let (Some(cert), Some(chain)) = (cert, &k.chain) else {
            return Err(usage("--c2pa needs --cert and --chain"));
        };
        // The c2pa signer wants the signer's certificate and its issuers, not the root.
        let mut pem = cert;
        for der in aigov_label::sign::pem_certificates(&read(chain)?)? {
            let is_root = x509_is_self_signed(&der);
            if !is_root {
                pem.push_str(&aigov_label::sign::certificate_pem(&der));
            }
        }
        Some((pem, key))
    } else {
        None
    };
    Ok(Keys {
        signer: Some(signer),
        c2pa,
    })
}

fn x509_is_self_signed(der: &[u8]) -> bool {
    aigov_label::sign::is_self_signed(der)
}

fn target(file: &Path, out: &OutOpts) -> Result<PathBuf> {
    match (&out.out, out.in_place) {
        (Some(o), false) => Ok(o.clone()),
        (None, true) => Ok(file.to_path_buf()),
        _ => Err(usage("give --out FILE, or --in-place to replace the input")),
    }
}

fn open(path: &Path) -> Result<File> {
    File::open(path).with_context(|| format!("failed to open {}", path.display()))
}

fn temp_beside(path: &Path) -> Result<tempfile::NamedTempFile> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("failed to create a file in {}", dir.display()))
}

/// Draws, writes or mixes the visible label into a temporary file beside `out`.
fn visible_step(file: &Path, out: &Path, v: &VisibleOpts) -> Result<tempfile::NamedTempFile> {
    use aigov_label::visible::{self, audio, image, text};
    let mut src = open(file)?;
    let format = aigov_label::format::detect(&mut src)
        .map_err(|e| usage(format!("{}: {e}", file.display())))?;
    let mut tmp = temp_beside(out)?;
    let limits = Limits::default();
    let wording = |image: bool| -> Result<String> {
        Ok(match v.wording.as_str() {
            "zh" => visible::CHINESE.into(),
            "en" => visible::ENGLISH.into(),
            "both" if image => image::DEFAULT_TEXT.into(),
            "both" => visible::BILINGUAL.into(),
            own => {
                visible::check_wording(own).map_err(|e| usage(e.to_string()))?;
                own.into()
            }
        })
    };
    let cue = audio::ToneCue {
        at_end: v.cue_at_end,
        ..audio::ToneCue::default()
    };
    let dst = tmp.as_file_mut();
    let done = match format.name() {
        "text" => {
            let position = match v.notice_position.as_str() {
                "start" => text::Position::Start,
                "end" => text::Position::End,
                "both" => text::Position::Both,
                o => {
                    return Err(usage(format!(
                        "--notice-position must be start, end or both, not {o:?}"
                    )));
                }
            };
            let notice = text::Notice {
                wording: text::Wording::Custom(wording(false)?),
                position,
            };
            text::add_notice(&mut src, dst, &notice, &limits)
        }
        "png" | "jpeg" | "webp" | "gif" | "tiff" => {
            let position = match v.corner.as_str() {
                "top-left" => image::Corner::TopLeft,
                "top-right" => image::Corner::TopRight,
                "bottom-left" => image::Corner::BottomLeft,
                "bottom-right" => image::Corner::BottomRight,
                "top-center" => image::Corner::TopCenter,
                "bottom-center" => image::Corner::BottomCenter,
                o => return Err(usage(format!("--corner {o:?} is not a known position"))),
            };
            let font = image::Font::find(v.font.as_deref()).map_err(|e| usage(e.to_string()))?;
            let notice = image::ImageNotice {
                text: wording(true)?,
                position,
                ..image::ImageNotice::default()
            };
            image::overlay(&mut src, dst, Some(format.media_type()), &notice, &font)
        }
        "wav" => audio::add_cue(&mut src, dst, &cue, &limits),
        "flac" => audio::add_cue_flac(&mut src, dst, &cue, &limits),
        other => {
            return Err(usage(format!(
                "{}: visible labels are made for text, images (PNG, JPEG, WebP, GIF, TIFF) and WAV \
                 or FLAC audio, not {other}; label it without --visible (the metadata label works \
                 for it)",
                file.display()
            )));
        }
    };
    done.map_err(|e| usage(format!("{}: {e}", file.display())))?;
    dst.sync_all()?;
    Ok(tmp)
}

/// Runs the implicit-label step into a temporary file, then the C2PA step, then moves the
/// result into place. `title` names the asset in the C2PA manifest.
fn pipeline(
    file: &Path,
    title: &str,
    out: &Path,
    keys: &Keys,
    step: c2pa::Step,
    implicit: impl FnOnce(&Path, &mut File) -> aigov_label::Result<aigov_label::Aigc>,
) -> Result<(aigov_label::Aigc, bool)> {
    open(file)?;
    let mut tmp = temp_beside(out)?;
    let label =
        implicit(file, tmp.as_file_mut()).map_err(|e| usage(format!("{}: {e}", file.display())))?;
    let mut c2pa_done = false;
    if let Some((chain, key)) = &keys.c2pa {
        let mut labelled = tmp.reopen()?;
        labelled.rewind()?;
        let media = aigov_label::format::detect(&mut labelled)?.media_type();
        let mut signed = temp_beside(out)?;
        c2pa::sign(
            &mut labelled,
            signed.as_file_mut(),
            media,
            title,
            &label,
            step,
            chain,
            key,
        )
        .map_err(|e| usage(format!("{}: {e}", file.display())))?;
        tmp = signed;
        c2pa_done = true;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(out)
        .with_context(|| format!("failed to write {}", out.display()))?;
    Ok((label, c2pa_done))
}

fn title_of(file: &Path) -> String {
    file.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn kind(s: &str) -> Result<LabelKind> {
    LabelKind::from_code(s).ok_or_else(|| usage(format!("--kind must be 1, 2 or 3, not {s:?}")))
}

fn add(a: AddArgs) -> Result<()> {
    let out = target(&a.file, &a.out)?;
    let keys = load_keys(&a.keys)?;
    let production = Production {
        kind: kind(&a.kind)?,
        producer: a.producer.clone(),
        produce_id: a
            .produce_id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
    };
    let limits = Limits::default();
    let visible = if a.visible.visible {
        Some(visible_step(&a.file, &out, &a.visible)?)
    } else {
        None
    };
    let input = visible.as_ref().map(|t| t.path()).unwrap_or(&a.file);
    let (label, c2pa_done) = pipeline(
        input,
        &title_of(&a.file),
        &out,
        &keys,
        c2pa::Step::Created,
        |src, dst| content::produce_file(src, dst, &production, keys.signer.as_ref(), &limits),
    )?;
    report_written(&out, &label, c2pa_done, a.out.json)
}

fn propagate(a: PropagateArgs) -> Result<()> {
    let out = target(&a.file, &a.out)?;
    let keys = load_keys(&a.keys)?;
    let propagation = Propagation {
        propagator: a.platform.clone(),
        propagate_id: a
            .propagate_id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
        kind_if_unlabelled: if a.declared_ai {
            LabelKind::PossiblyAi
        } else {
            LabelKind::SuspectedAi
        },
    };
    let limits = Limits::default();
    let (label, c2pa_done) = pipeline(
        &a.file,
        &title_of(&a.file),
        &out,
        &keys,
        c2pa::Step::Propagated,
        |src, dst| content::propagate_file(src, dst, &propagation, keys.signer.as_ref(), &limits),
    )?;
    report_written(&out, &label, c2pa_done, a.out.json)
}

fn report_written(out: &Path, label: &aigov_label::Aigc, c2pa: bool, as_json: bool) -> Result<()> {
    if as_json {
        println!(
            "{}",
            json!({"file": out, "label": label, "c2pa": c2pa, "signed": !label.reserved_code1.is_empty() || !label.reserved_code2.is_empty()})
        );
    } else {
        println!("wrote {}", out.display());
        println!(
            "  Label={} ContentProducer={} ProduceID={}",
            label.label, label.content_producer, label.produce_id
        );
        if !label.content_propagator.is_empty() {
            println!(
                "  ContentPropagator={} PropagateID={}",
                label.content_propagator, label.propagate_id
            );
        }
        println!(
            "  signed: {}; C2PA manifest: {}",
            if label.reserved_code1.is_empty() && label.reserved_code2.is_empty() {
                "no"
            } else {
                "yes"
            },
            if c2pa { "yes" } else { "no" }
        );
    }
    Ok(())
}

async fn verify_cmd(a: VerifyArgs) -> Result<()> {
    let mut trust = Trust::default();
    for p in &a.trust {
        trust
            .add_pem(&read(p)?)
            .map_err(|e| usage(format!("{}: {e}", p.display())))?;
    }
    for p in &a.crl {
        let bytes = std::fs::read(p).with_context(|| format!("failed to read {}", p.display()))?;
        trust
            .add_crl(&bytes)
            .map_err(|e| usage(format!("{}: {e}", p.display())))?;
    }
    let client = match &a.server {
        Some(url) => {
            let c = crate::client::Client::new(url, None)?;
            let chain = c
                .get_text("/ca/chain.pem")
                .await
                .context("failed to fetch the registry CA chain")?;
            trust.add_pem(&chain)?;
            let crl = c
                .get_bytes("/ca/crl")
                .await
                .context("failed to fetch the registry CRL")?;
            trust.add_crl(&crl)?;
            Some(c)
        }
        None => None,
    };
    let opts = Options {
        declared_ai: a.declared_ai,
        limits: Limits::default(),
        no_mmap: a.no_mmap,
    };
    let now = chrono::Utc::now();
    let mut results: Vec<(PathBuf, std::result::Result<Report, String>)> = Vec::new();
    for f in &a.files {
        let (path, trust, opts) = (f.clone(), trust.clone(), opts.clone());
        let r = tokio::task::spawn_blocking(move || verify::verify_path(&path, &trust, now, &opts))
            .await?;
        results.push((f.clone(), r.map_err(|e| e.to_string())));
    }
    if let Some(c) = &client {
        let mut records: BTreeMap<String, Option<RegistryRecord>> = BTreeMap::new();
        for (_, r) in &results {
            for serial in r.iter().flat_map(Report::serials) {
                if records.contains_key(&serial) {
                    continue;
                }
                let rec: Option<serde_json::Value> =
                    c.get(&format!("/v1/certificates/{serial}")).await.ok();
                let rec = rec.map(|v| RegistryRecord {
                    system: v["system"].as_str().unwrap_or_default().to_string(),
                    filing_number: v["filing_number"].as_str().unwrap_or_default().to_string(),
                    status: v["status"].as_str().unwrap_or_default().to_string(),
                    revoked_at: v["revoked_at"].as_str().and_then(|t| t.parse().ok()),
                    revocation_reason: v["revocation_reason"].as_str().map(str::to_string),
                });
                records.insert(serial, rec);
            }
        }
        for (_, r) in results.iter_mut() {
            if let Ok(rep) = r {
                rep.apply_registry(&|s| records.get(s).cloned().flatten());
            }
        }
    }
    let code = exit_code(&results);
    if a.json {
        let out: Vec<_> = results
            .iter()
            .map(|(f, r)| match r {
                Ok(rep) => json!({"file": f, "verified": rep.verified(), "report": rep}),
                Err(e) => json!({"file": f, "error": e}),
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        for (f, r) in &results {
            print_report(f, r);
        }
    }
    match code {
        0 => Ok(()),
        c => {
            let msg = match c {
                1 => "some labels failed verification",
                2 => "some files could not be read",
                _ => "some files carry no label",
            };
            Err(Exit(c, msg.into()).into())
        }
    }
}

fn exit_code(results: &[(PathBuf, std::result::Result<Report, String>)]) -> u8 {
    if results
        .iter()
        .any(|(_, r)| r.as_ref().is_ok_and(Report::failed))
    {
        1
    } else if results.iter().any(|(_, r)| r.is_err()) {
        2
    } else if results
        .iter()
        .any(|(_, r)| r.as_ref().is_ok_and(|r| r.label.is_none()))
    {
        3
    } else {
        0
    }
}

fn print_report(f: &Path, r: &std::result::Result<Report, String>) {
    println!("{}", f.display());
    let rep = match r {
        Ok(r) => r,
        Err(e) => {
            println!("  error: {e}");
            return;
        }
    };
    println!(
        "  format: {} ({}), {}",
        rep.format, rep.media_type, rep.shape
    );
    println!(
        "  outcome: {}",
        serde_json::to_value(rep.outcome)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    );
    if let Some(p) = &rep.producer {
        println!(
            "  producer: {} id {}{}",
            p.code,
            p.id,
            p.system_name
                .as_ref()
                .map(|n| format!(
                    " — system {n} ({})",
                    p.filing_number.as_deref().unwrap_or("?")
                ))
                .unwrap_or_default()
        );
    }
    for (i, p) in rep.propagation.iter().enumerate() {
        println!("  propagator {}: {} id {}", i + 1, p.code, p.id);
    }
    for c in &rep.checks {
        let mark = match c.status {
            Status::Pass => "ok  ",
            Status::Warn => "warn",
            Status::Fail => "FAIL",
            Status::Skip => "skip",
        };
        println!("  [{mark}] {}: {}", c.name, c.detail);
    }
}
