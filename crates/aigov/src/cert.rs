//! `aigov cert …`: system certificates from the registry CA.

use std::path::{Path, PathBuf};

use aigov_pki::KeyAlgorithm;
use aigov_registry::model::{
    Certificate, CertificateRequest, CertificateStatus, Recorded, RevokeRequest,
};
use anyhow::{Context, Result};
use clap::Subcommand;
use reqwest::Method;
use uuid::Uuid;

use crate::client::Client;
use crate::{Exit, Remote};

/// `aigov cert …`
#[derive(Subcommand)]
pub enum CertCommand {
    /// Make a key pair here (it never leaves this machine) and a request, and have the registry
    /// issue the system's certificate. Writes OUT.key (0600), OUT.pem and OUT.chain.pem.
    Request {
        #[command(flatten)]
        remote: Remote,
        /// System id.
        #[arg(long)]
        system: Uuid,
        /// Output prefix.
        #[arg(long)]
        out: PathBuf,
        /// Key algorithm: p256 (default), ed25519, or sm2 (SM2 with SM3, for deployments on
        /// Chinese commercial cryptography; C2PA cannot use it).
        #[arg(long, default_value = "p256")]
        alg: String,
        /// Validity in days (at most 398).
        #[arg(long)]
        days: Option<i64>,
    },
    /// Have the registry issue a certificate for an existing PKCS#10 request.
    Issue {
        #[command(flatten)]
        remote: Remote,
        /// System id.
        #[arg(long)]
        system: Uuid,
        /// Request (PEM).
        #[arg(long)]
        csr: PathBuf,
        /// Where to write the certificate (PEM); standard output if absent.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Validity in days.
        #[arg(long)]
        days: Option<i64>,
    },
    /// Revoke a certificate.
    Revoke {
        #[command(flatten)]
        remote: Remote,
        /// Serial number (hex).
        serial: String,
        /// key_compromise, affiliation_changed, superseded, cessation_of_operation,
        /// certificate_hold or unspecified.
        #[arg(long)]
        reason: String,
    },
    /// A certificate's status at the registry (no token needed).
    Status {
        #[command(flatten)]
        remote: Remote,
        /// Serial number (hex).
        serial: String,
    },
    /// Verify a certificate: chain to the registry root, validity now, revocation status and
    /// the inclusion of its issuance in the transparency log.
    Verify {
        #[command(flatten)]
        remote: Remote,
        /// Certificate (PEM).
        cert: PathBuf,
        /// Trusted root (PEM); default: the server's (trusted on first use).
        #[arg(long)]
        root: Option<PathBuf>,
    },
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("failed to read {}", path.display()))
}

fn client(r: &Remote) -> Result<Client> {
    Client::new(&r.server, r.token.clone())
}

async fn issue(
    remote: &Remote,
    system: Uuid,
    csr: String,
    days: Option<i64>,
) -> Result<Recorded<Certificate>> {
    client(remote)?
        .call(
            Method::POST,
            &format!("/v1/systems/{system}/certificates"),
            Some(&CertificateRequest { csr, days }),
        )
        .await
}

fn write_file(path: &Path, text: &str, secret: bool) -> Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let _ = secret;
    let mut f = opts
        .open(path)
        .with_context(|| format!("failed to create {}", path.display()))?;
    std::io::Write::write_all(&mut f, text.as_bytes())
        .with_context(|| format!("failed to write {}", path.display()))
}

fn with_ext(p: &Path, ext: &str) -> PathBuf {
    PathBuf::from(format!("{}{ext}", p.display()))
}

/// `aigov cert …`
pub async fn run(c: CertCommand) -> Result<()> {
    match c {
        CertCommand::Request {
            remote,
            system,
            out,
            alg,
            days,
        } => {
            let alg = KeyAlgorithm::parse(&alg).ok_or_else(|| {
                Exit(
                    2,
                    format!("unknown key algorithm '{alg}' (p256, ed25519, sm2)"),
                )
            })?;
            let sys: aigov_registry::model::System = client(&remote)?
                .get(&format!("/v1/systems/{system}"))
                .await?;
            let filing = sys.filing_number.ok_or_else(|| {
                Exit(
                    2,
                    format!("system {system} has no filing number yet; register it first"),
                )
            })?;
            let key = aigov_pki::generate_key(alg).context("failed to generate the key")?;
            let csr = aigov_pki::make_csr(&key, &sys.name, filing.as_str())
                .context("failed to make the request")?;
            let key_path = with_ext(&out, ".key");
            write_file(&key_path, &key, true)?;
            let rec = issue(&remote, system, csr, days).await?;
            write_file(&with_ext(&out, ".pem"), &rec.value.certificate, false)?;
            write_file(&with_ext(&out, ".chain.pem"), &rec.value.chain, false)?;
            if remote.json {
                println!("{}", serde_json::to_string_pretty(&rec)?);
            } else {
                println!(
                    "certificate {} for {} ({}), valid until {}; key {} (stays here), log entry {}",
                    rec.value.serial,
                    sys.name,
                    rec.value.filing_number,
                    rec.value.not_after,
                    key_path.display(),
                    rec.value.log_index
                );
            }
            Ok(())
        }
        CertCommand::Issue {
            remote,
            system,
            csr,
            out,
            days,
        } => {
            let rec = issue(&remote, system, read(&csr)?, days).await?;
            match out {
                Some(p) => write_file(&p, &rec.value.certificate, false)?,
                None if !remote.json => print!("{}", rec.value.certificate),
                None => {}
            }
            if remote.json {
                println!("{}", serde_json::to_string_pretty(&rec)?);
            }
            Ok(())
        }
        CertCommand::Revoke {
            remote,
            serial,
            reason,
        } => {
            let rec: Recorded<Certificate> = client(&remote)?
                .call(
                    Method::POST,
                    &format!("/v1/certificates/{serial}/revoke"),
                    Some(&RevokeRequest { reason }),
                )
                .await?;
            if remote.json {
                println!("{}", serde_json::to_string_pretty(&rec)?);
            } else {
                println!(
                    "certificate {} revoked ({})",
                    rec.value.serial,
                    rec.value.revocation_reason.unwrap_or_default()
                );
            }
            Ok(())
        }
        CertCommand::Status { remote, serial } => {
            let anon = Remote {
                token: None,
                ..remote.clone()
            };
            let c: Certificate = client(&anon)?
                .get(&format!("/v1/certificates/{serial}"))
                .await?;
            if remote.json {
                println!("{}", serde_json::to_string_pretty(&c)?);
            } else {
                println!(
                    "{} {:?}{} — {} ({}), valid {} to {}",
                    c.serial,
                    c.status,
                    c.revocation_reason
                        .map(|r| format!(" ({r})"))
                        .unwrap_or_default(),
                    c.filing_number,
                    c.tier,
                    c.not_before,
                    c.not_after
                );
            }
            Ok(())
        }
        CertCommand::Verify { remote, cert, root } => verify(&remote, &cert, root.as_deref()).await,
    }
}

async fn verify(remote: &Remote, cert_path: &Path, root: Option<&Path>) -> Result<()> {
    let pem = read(cert_path)?;
    let info = aigov_pki::inspect(&pem).map_err(|e| Exit(2, e.to_string()))?;
    let anon = Client::new(&remote.server, None)?;
    let mut checks: Vec<(String, std::result::Result<String, String>)> = Vec::new();
    let chain = anon.get_text("/ca/chain.pem").await?;
    let issuing = chain
        .split_inclusive("-----END CERTIFICATE-----\n")
        .next()
        .unwrap_or_default()
        .to_string();
    let (root_pem, root_source) = match root {
        Some(p) => (read(p)?, "given"),
        None => (
            anon.get_text("/ca/root.pem").await?,
            "from the server (trusted on first use)",
        ),
    };
    let now = chrono::Utc::now();
    checks.push((
        format!("chain to the registry root ({root_source}) and validity now"),
        aigov_pki::verify(&pem, &issuing, &root_pem, now)
            .map(|_| format!("{} until {}", info.common_name, info.not_after))
            .map_err(|e| e.to_string()),
    ));
    let record: std::result::Result<Certificate, String> = anon
        .get(&format!("/v1/certificates/{}", info.serial))
        .await
        .map_err(|e| e.to_string());
    checks.push((
        "revocation status".into(),
        match &record {
            Ok(c) if c.status == CertificateStatus::Active => Ok("not revoked".into()),
            Ok(c) => Err(format!(
                "revoked at {} ({})",
                c.revoked_at.map(|t| t.to_string()).unwrap_or_default(),
                c.revocation_reason.clone().unwrap_or_default()
            )),
            Err(e) => Err(format!("the registry does not know this certificate: {e}")),
        },
    ));
    if let Ok(c) = &record {
        checks.push((
            "registry record matches the certificate".into(),
            if c.certificate.trim() == pem.trim()
                && Some(c.filing_number.to_string()) == info.filing_number
            {
                Ok(format!("{} ({})", c.filing_number, c.tier))
            } else {
                Err("the registry's copy differs from this certificate".into())
            },
        ));
        let inclusion = crate::log::entry_included(&remote.server, c.log_index).await;
        checks.push((
            format!("issuance in the transparency log (entry {})", c.log_index),
            inclusion.and_then(|entry| {
                let v: serde_json::Value = serde_json::from_slice(&entry).unwrap_or_default();
                if v["action"] == "certificate.issue" && v["subject"] == info.serial.as_str() {
                    Ok("included under the signed checkpoint".into())
                } else {
                    Err("the log entry is not this certificate's issuance".into())
                }
            }),
        ));
    }
    let ok = checks.iter().all(|(_, r)| r.is_ok());
    if remote.json {
        let v: Vec<_> = checks
            .iter()
            .map(|(c, r)| serde_json::json!({"check": c, "ok": r.is_ok(), "detail": r.as_ref().unwrap_or_else(|e| e)}))
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({"ok": ok, "checks": v}))?
        );
    } else {
        for (c, r) in &checks {
            match r {
                Ok(d) => println!("ok   {c}: {d}"),
                Err(d) => println!("FAIL {c}: {d}"),
            }
        }
    }
    if !ok {
        return Err(Exit(1, "the certificate does not verify".into()).into());
    }
    Ok(())
}
