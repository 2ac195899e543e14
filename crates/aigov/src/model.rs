//! `aigov model digest|sign|verify|scan|keygen`: OpenSSF model signing and the
//! unsafe-serialisation scanner.
//!
//! Exit codes. `verify`: 0 verified; 1 the signature or the model does not verify (every
//! difference is listed); 2 invalid usage or unreadable input. `scan`: 0 nothing at or above
//! `--fail-on`; 1 findings at or above it; 2 a path could not be read.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use aigov_supply::oms::bundle::Bundle;
use aigov_supply::oms::hashing::{self, HashAlgorithm, HashConfig, Method};
use aigov_supply::oms::keys::{PrivateKey, PublicKey, pem_blocks};
use aigov_supply::oms::sigstore::{Policy, TrustedRoot};
use aigov_supply::oms::{self, CheckOptions, SignedBy, Signer, Trust};
use aigov_supply::scan::report::ScanReport;
use aigov_supply::scan::{self, Limits, Severity};
use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use serde_json::json;

use crate::Exit;

/// `aigov model …`
#[derive(Subcommand)]
pub enum ModelCommand {
    /// Hash a model folder (or file) as OpenSSF model signing does; print its root digest.
    Digest(DigestArgs),
    /// Sign a model (key or certificate mode); writes a Sigstore bundle (`model.sig`).
    Sign(SignArgs),
    /// Verify a model against its signature (key, certificate or Sigstore mode).
    Verify(VerifyArgs),
    /// Scan model files and archives for code that runs when they are loaded.
    Scan(ScanArgs),
    /// Make an ECDSA key pair for key-mode signing (PKCS#8 private key, mode 0600).
    Keygen {
        /// Output prefix: writes PREFIX.key and PREFIX.pub.
        out: PathBuf,
        /// p256 (default) or p384.
        #[arg(long, default_value = "p256")]
        curve: String,
    },
}

/// How the model is hashed.
#[derive(Args, Clone)]
pub struct HashOpts {
    /// Content hash: sha256 (default), blake2b or blake3.
    #[arg(long = "hash", default_value = "sha256")]
    hash: String,
    /// Hash files in shards of this many bytes (the standard's default is 1000000000).
    #[arg(long)]
    shard_size: Option<u64>,
    /// Paths to leave out (relative to the model, or paths inside it); repeatable.
    #[arg(long = "ignore-paths", num_args = 1..)]
    ignore_paths: Vec<PathBuf>,
    /// Include .git, .gitattributes, .github and .gitignore.
    #[arg(long)]
    no_ignore_git_paths: bool,
    /// Hash symbolic links as their target's content (otherwise they are an error).
    #[arg(long)]
    allow_symlinks: bool,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Read files instead of memory-mapping them (use it when other processes may truncate
    /// files of the model while it is hashed).
    #[arg(long)]
    no_mmap: bool,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

/// `aigov model digest`
#[derive(Args)]
pub struct DigestArgs {
    /// Model folder or file.
    model: PathBuf,
    #[command(flatten)]
    hash: HashOpts,
    /// Print the manifest (every resource and its digest) as JSON.
    #[arg(long)]
    json: bool,
}

/// `aigov model sign`
#[derive(Args)]
pub struct SignArgs {
    /// Model folder or file.
    model: PathBuf,
    /// Private key (PEM, EC P-256 or P-384; for example a registry system key from `aigov cert request`).
    #[arg(long)]
    key: PathBuf,
    /// Certificate mode: the signing certificate (PEM) for the key.
    #[arg(long)]
    cert: Option<PathBuf>,
    /// Certificate mode: intermediate certificates (PEM; repeatable). Root certificates in
    /// them are left out of the bundle.
    #[arg(long)]
    chain: Vec<PathBuf>,
    /// Where to write the signature (default: MODEL/model.sig, or MODEL.sig for a file).
    #[arg(long)]
    signature: Option<PathBuf>,
    #[command(flatten)]
    hash: HashOpts,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// `aigov model verify`
#[derive(Args)]
pub struct VerifyArgs {
    /// Model folder or file.
    model: PathBuf,
    /// The signature (default: MODEL/model.sig, or MODEL.sig for a file).
    #[arg(long)]
    signature: Option<PathBuf>,
    /// Key mode: the signer's public key (PEM).
    #[arg(long, conflicts_with_all = ["ca", "sigstore"])]
    public_key: Option<PathBuf>,
    /// Certificate mode: trusted root certificates (PEM; repeatable), e.g. the registry root.
    #[arg(long, conflicts_with = "sigstore")]
    ca: Vec<PathBuf>,
    /// Certificate mode: check the chain at this time (RFC 3339) instead of the signing
    /// certificate's start of validity.
    #[arg(long)]
    at: Option<String>,
    /// Sigstore mode.
    #[arg(long)]
    sigstore: bool,
    /// Sigstore mode: the trusted root (Sigstore's trusted_root.json).
    #[arg(long)]
    trust_root: Option<PathBuf>,
    /// Sigstore mode: expected signer identity (e-mail or URI).
    #[arg(long)]
    identity: Option<String>,
    /// Sigstore mode: expected OIDC issuer.
    #[arg(long)]
    issuer: Option<String>,
    /// Sigstore mode without a trusted root: check the bundle's consistency and the model
    /// only, and say that the signer is not authenticated.
    #[arg(long)]
    unauthenticated: bool,
    /// More paths to leave out (relative to the model); repeatable.
    #[arg(long = "ignore-paths", num_args = 1..)]
    ignore_paths: Vec<PathBuf>,
    /// Files the signature does not cover are not an error.
    #[arg(long)]
    ignore_unsigned_files: bool,
    /// Allow symbolic links even if the signature did not.
    #[arg(long)]
    allow_symlinks: bool,
    /// Include .git and friends.
    #[arg(long)]
    no_ignore_git_paths: bool,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Read files instead of memory-mapping them (use it when other processes may truncate
    /// files of the model while it is hashed).
    #[arg(long)]
    no_mmap: bool,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// `aigov model scan`
#[derive(Args)]
pub struct ScanArgs {
    /// Files or folders (recursively).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Lowest severity that makes the exit code 1: info, low, medium (default), high, critical.
    #[arg(long, default_value = "medium")]
    fail_on: String,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Also write SARIF 2.1.0 to this file.
    #[arg(long)]
    sarif: Option<PathBuf>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

fn usage(msg: impl Into<String>) -> anyhow::Error {
    Exit(2, msg.into()).into()
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| usage(format!("cannot read {}: {e}", path.display())))
}

/// Runs work on a pool of `threads` (default: all cores).
fn pool(threads: Option<usize>) -> Result<rayon::ThreadPool> {
    let mut b = rayon::ThreadPoolBuilder::new();
    if let Some(n) = threads {
        if n == 0 {
            return Err(usage("--threads must be at least 1"));
        }
        b = b.num_threads(n);
    }
    b.build().context("failed to start worker threads")
}

fn bar(total: u64, quiet: bool, what: &str) -> indicatif::ProgressBar {
    if quiet {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{{spinner}} {what} {{bytes}}/{{total_bytes}} ({{bytes_per_sec}}, {{eta}} left) {{wide_bar}}"
        ))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

/// Makes `paths` relative to the model (as the reference tool does): paths inside the model
/// given from the current folder, or already relative to the model.
fn relative_ignores(model: &Path, paths: &[PathBuf]) -> Vec<String> {
    let root = std::fs::canonicalize(model).unwrap_or_else(|_| model.to_path_buf());
    let mut out = Vec::new();
    for p in paths {
        let abs = std::fs::canonicalize(p).ok();
        if let Some(rel) = abs.as_ref().and_then(|a| a.strip_prefix(&root).ok()) {
            out.push(rel.display().to_string());
        } else if p.is_relative() {
            out.push(p.display().to_string());
        }
    }
    out
}

fn default_signature(model: &Path) -> PathBuf {
    if model.is_dir() {
        model.join("model.sig")
    } else {
        PathBuf::from(format!("{}.sig", model.display()))
    }
}

fn hash_config(model: &Path, o: &HashOpts, signature: Option<&Path>) -> Result<HashConfig> {
    let algorithm = HashAlgorithm::parse(&o.hash).ok_or_else(|| {
        usage(format!(
            "unknown hash '{}' (sha256, blake2b, blake3)",
            o.hash
        ))
    })?;
    let method = match o.shard_size {
        Some(0) => return Err(usage("--shard-size must be at least 1")),
        Some(n) => Method::Shards(n),
        None => Method::Files,
    };
    let mut ignore = o.ignore_paths.clone();
    if let Some(s) = signature {
        ignore.push(s.to_path_buf());
    }
    Ok(HashConfig {
        algorithm,
        method,
        allow_symlinks: o.allow_symlinks,
        ignore_paths: relative_ignores(model, &ignore),
        ignore_git_paths: !o.no_ignore_git_paths,
        no_mmap: o.no_mmap,
    })
}

fn hash_with_progress(
    model: &Path,
    config: &HashConfig,
    threads: Option<usize>,
    quiet: bool,
) -> Result<aigov_supply::oms::manifest::Manifest> {
    let files = hashing::list_files(model, config).map_err(|e| usage(e.to_string()))?;
    let total: u64 = files.iter().map(|f| f.size).sum();
    let bar = bar(total, quiet, "hashing");
    let progress = |n: u64| bar.inc(n);
    let m = pool(threads)?
        .install(|| hashing::hash_files(&hashing::model_name(model), &files, config, &progress))
        .map_err(|e| usage(e.to_string()))?;
    bar.finish_and_clear();
    Ok(m)
}

/// Writes a file next to its destination, then renames it into place.
pub(crate) fn write_atomic(path: &Path, text: &str) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("failed to create a file in {}", dir.display()))?;
    tmp.write_all(text.as_bytes())?;
    tmp.persist(path)
        .with_context(|| format!("failed to write {}", path.display()))?;
    Ok(())
}

/// `aigov model …`
pub fn run(c: ModelCommand) -> Result<()> {
    match c {
        ModelCommand::Digest(a) => digest(a),
        ModelCommand::Sign(a) => sign(a),
        ModelCommand::Verify(a) => verify(a),
        ModelCommand::Scan(a) => scan_cmd(a),
        ModelCommand::Keygen { out, curve } => keygen(&out, &curve),
    }
}

fn manifest_json(m: &aigov_supply::oms::manifest::Manifest) -> serde_json::Value {
    json!({
        "model": m.model_name,
        "root_digest": format!("sha256:{}", hex::encode(m.root_digest())),
        "serialization": m.serialization.to_json(),
        "resources": m.resources.iter().map(|r| json!({
            "name": r.name.as_str(),
            "algorithm": r.digest.algorithm,
            "digest": hex::encode(&r.digest.value),
        })).collect::<Vec<_>>(),
    })
}

fn digest(a: DigestArgs) -> Result<()> {
    let config = hash_config(&a.model, &a.hash, None)?;
    let started = Instant::now();
    let m = hash_with_progress(&a.model, &config, a.hash.threads, a.hash.quiet)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&manifest_json(&m))?);
    } else {
        println!(
            "sha256:{}  {} ({} resources, {} in {:.2?})",
            hex::encode(m.root_digest()),
            m.model_name,
            m.resources.len(),
            config.algorithm.name(),
            started.elapsed()
        );
    }
    Ok(())
}

/// DER certificates of PEM files, without self-signed roots.
fn chain_certs(paths: &[PathBuf]) -> Result<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    for p in paths {
        let blocks = pem_blocks(&read(p)?).map_err(|e| usage(format!("{}: {e}", p.display())))?;
        for b in blocks.into_iter().filter(|b| b.label == "CERTIFICATE") {
            if !aigov_supply::oms::chain::is_self_signed(&b.der) {
                out.push(b.der);
            }
        }
    }
    Ok(out)
}

fn sign(a: SignArgs) -> Result<()> {
    let signature = a
        .signature
        .clone()
        .unwrap_or_else(|| default_signature(&a.model));
    let key = PrivateKey::from_pem(&read(&a.key)?)
        .map_err(|e| usage(format!("{}: {e}", a.key.display())))?;
    let signer = match &a.cert {
        None if !a.chain.is_empty() => return Err(usage("--chain needs --cert")),
        None => Signer::Key(key),
        Some(cert) => {
            let mut chain = Vec::new();
            let leaf = pem_blocks(&read(cert)?)
                .map_err(|e| usage(format!("{}: {e}", cert.display())))?
                .into_iter()
                .find(|b| b.label == "CERTIFICATE")
                .ok_or_else(|| usage(format!("{}: no certificate", cert.display())))?;
            chain.push(leaf.der);
            chain.extend(chain_certs(&a.chain)?);
            Signer::certificate(key, chain).map_err(|e| usage(e.to_string()))?
        }
    };
    let config = hash_config(&a.model, &a.hash, Some(&signature))?;
    let m = hash_with_progress(&a.model, &config, a.hash.threads, a.hash.quiet)?;
    let bundle = oms::sign_manifest(&m, &signer).map_err(|e| usage(e.to_string()))?;
    write_atomic(&signature, &bundle.to_json())?;
    let root = hex::encode(m.root_digest());
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "signature": signature,
                "model": m.model_name,
                "root_digest": format!("sha256:{root}"),
                "resources": m.resources.len(),
                "mode": if a.cert.is_some() { "certificate" } else { "key" },
            }))?
        );
    } else {
        println!(
            "signed {} (sha256:{root}, {} resources) -> {}",
            m.model_name,
            m.resources.len(),
            signature.display()
        );
    }
    Ok(())
}

fn parse_time(s: &str) -> Result<i64> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.timestamp())
        .map_err(|e| usage(format!("--at {s}: {e}")))
}

fn trust_for(a: &VerifyArgs) -> Result<Trust> {
    if let Some(p) = &a.public_key {
        let key =
            PublicKey::from_pem(&read(p)?).map_err(|e| usage(format!("{}: {e}", p.display())))?;
        return Ok(Trust::Key(key));
    }
    if !a.ca.is_empty() {
        let mut anchors = Vec::new();
        for p in &a.ca {
            let blocks =
                pem_blocks(&read(p)?).map_err(|e| usage(format!("{}: {e}", p.display())))?;
            anchors.extend(
                blocks
                    .into_iter()
                    .filter(|b| b.label == "CERTIFICATE")
                    .map(|b| b.der),
            );
        }
        if anchors.is_empty() {
            return Err(usage("--ca files hold no certificate"));
        }
        let at = a.at.as_deref().map(parse_time).transpose()?;
        return Ok(Trust::Certificates { anchors, at });
    }
    if a.sigstore {
        let trusted_root = match &a.trust_root {
            Some(p) => Some(
                TrustedRoot::parse(&read(p)?)
                    .map_err(|e| usage(format!("{}: {e}", p.display())))?,
            ),
            None if a.unauthenticated => None,
            None => {
                return Err(usage(
                    "--sigstore needs --trust-root (Sigstore's trusted_root.json), or --unauthenticated to check the bundle and the model without authenticating the signer",
                ));
            }
        };
        return Ok(Trust::Sigstore(Policy {
            trusted_root,
            identity: a.identity.clone(),
            issuer: a.issuer.clone(),
        }));
    }
    Err(usage(
        "say how to verify: --public-key (key mode), --ca (certificate mode) or --sigstore",
    ))
}

fn signer_json(s: &SignedBy) -> serde_json::Value {
    match s {
        SignedBy::Key { curve, hint } => json!({"mode": "key", "curve": curve, "key_hint": hint}),
        SignedBy::Certificate(c) => json!({
            "mode": "certificate",
            "subject": c.subject,
            "anchor": c.anchor,
            "chain_length": c.length,
            "not_before": chrono::DateTime::from_timestamp(c.not_before, 0),
            "not_after": chrono::DateTime::from_timestamp(c.not_after, 0),
        }),
        SignedBy::Sigstore(s) => json!({
            "mode": "sigstore",
            "identities": s.identities,
            "issuer": s.issuer,
            "integrated_time": chrono::DateTime::from_timestamp(s.integrated_time, 0),
            "log_index": s.log_index,
            "authenticated": s.authenticated,
        }),
    }
}

fn signer_text(s: &SignedBy) -> String {
    match s {
        SignedBy::Key { curve, hint } => {
            format!("key {curve} (hint {})", &hint[..16.min(hint.len())])
        }
        SignedBy::Certificate(c) => {
            format!("certificate `{}` (chain to `{}`)", c.subject, c.anchor)
        }
        SignedBy::Sigstore(s) if s.authenticated => format!(
            "Sigstore identity {} (issuer {}), Rekor entry {}",
            s.identities.join(", "),
            s.issuer.as_deref().unwrap_or("?"),
            s.log_index
        ),
        SignedBy::Sigstore(s) => format!(
            "Sigstore identity {} — NOT authenticated (no trusted root given)",
            s.identities.join(", ")
        ),
    }
}

fn verify(a: VerifyArgs) -> Result<()> {
    let signature = a
        .signature
        .clone()
        .unwrap_or_else(|| default_signature(&a.model));
    let trust = trust_for(&a)?;
    let bytes = read(&signature)?;
    if bytes.len() as u64 > aigov_supply::oms::bundle::MAX_BUNDLE_BYTES {
        return Err(usage(format!(
            "{}: larger than a signature can be",
            signature.display()
        )));
    }
    let bundle =
        Bundle::parse(&bytes).map_err(|e| usage(format!("{}: {e}", signature.display())))?;
    let fail = |what: String| -> Result<()> {
        if a.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&json!({"verified": false, "error": what}))?
            );
        }
        Err(Exit(1, format!("verification failed: {what}")).into())
    };
    let v = match oms::verify_signature(&bundle, &trust) {
        Ok(v) => v,
        Err(e) => return fail(e.to_string()),
    };
    let mut ignore = a.ignore_paths.clone();
    ignore.push(signature.clone());
    let options = CheckOptions {
        ignore_paths: relative_ignores(&a.model, &ignore),
        include_git_paths: a.no_ignore_git_paths,
        allow_symlinks: a.allow_symlinks,
        ignore_unsigned_files: a.ignore_unsigned_files,
        no_mmap: a.no_mmap,
    };
    let (config, files) = oms::files_to_check(&a.model, &v.signed.manifest, &options)
        .map_err(|e| usage(e.to_string()))?;
    let total = files.iter().map(|f| f.size).sum();
    let bar = bar(total, a.quiet, "verifying");
    let progress = |n: u64| bar.inc(n);
    let name = hashing::model_name(&a.model);
    let actual = pool(a.threads)?
        .install(|| hashing::hash_files(&name, &files, &config, &progress))
        .map_err(|e| usage(e.to_string()))?;
    let diff = actual.diff(&v.signed.manifest);
    bar.finish_and_clear();
    let root = v
        .signed
        .root_digest
        .map(|d| format!("sha256:{}", hex::encode(d)));
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "verified": diff.is_empty(),
                "signature": signature,
                "signer": signer_json(&v.signer),
                "model": v.signed.manifest.model_name,
                "root_digest": root,
                "resources": v.signed.manifest.resources.len(),
                "legacy_encoding": v.legacy_encoding,
                "differences": diff.iter().map(ToString::to_string).collect::<Vec<_>>(),
            }))?
        );
    }
    if !diff.is_empty() {
        if !a.json {
            for d in &diff {
                eprintln!("  {d}");
            }
        }
        return Err(Exit(
            1,
            format!(
                "verification failed: the model does not match its signature ({} difference{})",
                diff.len(),
                if diff.len() == 1 { "" } else { "s" }
            ),
        )
        .into());
    }
    if !a.json {
        println!(
            "verified {} ({}, {} resources), signed by {}",
            v.signed.manifest.model_name,
            root.as_deref()
                .unwrap_or("pre-1.0 bundle without root digest"),
            v.signed.manifest.resources.len(),
            signer_text(&v.signer)
        );
    }
    Ok(())
}

fn scan_cmd(a: ScanArgs) -> Result<()> {
    let fail_on = Severity::parse(&a.fail_on).ok_or_else(|| {
        usage(format!(
            "--fail-on {}: expected info, low, medium, high or critical",
            a.fail_on
        ))
    })?;
    let (files, mut reports) = scan::list_files(&a.paths);
    let files: Vec<(PathBuf, u64)> = files
        .into_iter()
        .map(|f| {
            let size = std::fs::metadata(&f).map(|m| m.len()).unwrap_or(0);
            (f, size)
        })
        .collect();
    let total = files.iter().map(|(_, size)| size).sum();
    let bar = bar(total, a.quiet, "scanning");
    let limits = Limits::default();
    let per_file: Vec<Vec<scan::FileReport>> = pool(a.threads)?.install(|| {
        use rayon::prelude::*;
        files
            .par_iter()
            .with_max_len(1)
            .map(|(f, size)| {
                let r = scan::scan_file(f, &limits);
                bar.inc(*size);
                r
            })
            .collect()
    });
    bar.finish_and_clear();
    reports.extend(per_file.into_iter().flatten());
    let report = ScanReport::new(reports);
    if let Some(p) = &a.sarif {
        write_atomic(p, &serde_json::to_string_pretty(&report.sarif())?)?;
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.table());
    }
    if report.errors > 0 {
        return Err(Exit(2, format!("{} path(s) could not be read", report.errors)).into());
    }
    match report.worst() {
        Some(w) if w >= fail_on => Err(Exit(
            1,
            format!(
                "findings at or above {}: worst is {}",
                fail_on.name(),
                w.name()
            ),
        )
        .into()),
        _ => Ok(()),
    }
}

fn keygen(out: &Path, curve: &str) -> Result<()> {
    let key = PrivateKey::generate(curve).map_err(|e| usage(e.to_string()))?;
    let key_path = PathBuf::from(format!("{}.key", out.display()));
    let pub_path = PathBuf::from(format!("{}.pub", out.display()));
    if key_path.exists() {
        return Err(usage(format!(
            "{} exists; refusing to overwrite a key",
            key_path.display()
        )));
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(&key_path)
        .with_context(|| format!("failed to create {}", key_path.display()))?;
    f.write_all(key.to_pkcs8_pem().as_bytes())?;
    write_atomic(&pub_path, &key.public().to_pem())?;
    println!(
        "{} key {} (keep it secret), public key {}",
        key.public().curve(),
        key_path.display(),
        pub_path.display()
    );
    Ok(())
}
