//! Client commands that talk to a registry server.

use std::path::PathBuf;

use aigov_policy::{ClassificationDiff, LifecycleStage};
use aigov_registry::model::*;
use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use reqwest::Method;
use serde::Serialize;
use uuid::Uuid;

use crate::client::Client;
use crate::offline::read_facts;
use crate::{Exit, Remote, output};

/// `aigov org …`
#[derive(Subcommand)]
pub enum OrgCommand {
    /// Create an organisation (regulator or admin).
    Create {
        #[command(flatten)]
        remote: Remote,
        /// Legal name.
        #[arg(long)]
        name: String,
        /// Country (ISO 3166 alpha-2).
        #[arg(long)]
        country: String,
        /// provider, deployer or provider_deployer.
        #[arg(long, default_value = "provider")]
        kind: String,
        /// Registration code (Unified Social Credit Code for CN).
        #[arg(long)]
        code: Option<String>,
        /// Person responsible for algorithm safety.
        #[arg(long)]
        safety_officer: Option<String>,
    },
    /// List organisations.
    List {
        #[command(flatten)]
        remote: Remote,
    },
}

/// `aigov system …`
#[derive(Subcommand)]
pub enum SystemCommand {
    /// Register a system described in a fact file (creates a draft; `--submit` files it).
    Register {
        #[command(flatten)]
        remote: Remote,
        /// Fact file (TOML or JSON).
        file: PathBuf,
        /// Organisation (admins and regulators; providers use their own).
        #[arg(long)]
        org: Option<Uuid>,
        /// Submit the filing right away.
        #[arg(long)]
        submit: bool,
    },
    /// Show a system.
    Show {
        #[command(flatten)]
        remote: Remote,
        /// System id.
        id: Uuid,
    },
    /// List systems visible to the token.
    List {
        #[command(flatten)]
        remote: Remote,
        /// Only these states (comma-separated).
        #[arg(long)]
        state: Option<String>,
        /// Text to search.
        #[arg(long)]
        q: Option<String>,
    },
    /// Replace a system's facts from a file; prints the obligation diff.
    Update {
        #[command(flatten)]
        remote: Remote,
        /// System id.
        id: Uuid,
        /// Fact file.
        file: PathBuf,
        /// Why it changed.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Move a system to another registration state.
    Transition {
        #[command(flatten)]
        remote: Remote,
        /// System id.
        id: Uuid,
        /// Target state: draft, submitted, registered, changed, suspended, cancelled.
        #[arg(long)]
        to: String,
        /// Reason (recorded in the audit log).
        #[arg(long)]
        reason: String,
    },
    /// Move a system to another lifecycle stage.
    Stage {
        #[command(flatten)]
        remote: Remote,
        /// System id.
        id: Uuid,
        /// Target stage: design, development, testing, deployment, operation, maintenance, retired.
        #[arg(long)]
        to: String,
        /// Reason.
        #[arg(long)]
        reason: String,
    },
    /// Attach evidence: a URI, a local file hashed with SHA-256 (its bytes stay local), or with
    /// `--upload` the file itself, stored by the registry under its SHA-256.
    Evidence {
        #[command(flatten)]
        remote: Remote,
        /// System id.
        id: Uuid,
        /// Kind, e.g. test_report.
        #[arg(long)]
        kind: String,
        /// Title.
        #[arg(long)]
        title: String,
        /// URI of the document.
        #[arg(long)]
        uri: Option<String>,
        /// Local file to hash (or to upload with `--upload`).
        #[arg(long)]
        file: Option<PathBuf>,
        /// Upload the file to the registry.
        #[arg(long, requires = "file")]
        upload: bool,
        /// Stage (default: the current one).
        #[arg(long)]
        stage: Option<String>,
    },
    /// Revisions with their obligation diffs.
    History {
        #[command(flatten)]
        remote: Remote,
        /// System id.
        id: Uuid,
    },
}

/// `aigov search`
#[derive(Args)]
pub struct SearchArgs {
    #[command(flatten)]
    remote: Remote,
    /// Text in the name, provider or filing number.
    q: Option<String>,
    /// Provider name or code.
    #[arg(long)]
    provider: Option<String>,
    /// Exact filing number.
    #[arg(long)]
    filing_number: Option<String>,
}

/// `aigov audit …`
#[derive(Subcommand)]
pub enum AuditCommand {
    /// Check the audit hash chain on the server.
    Verify {
        #[command(flatten)]
        remote: Remote,
    },
}

fn client(r: &Remote) -> Result<Client> {
    Client::new(&r.server, r.token.clone())
}

fn print_json<T: Serialize>(v: &T) -> Result<()> {
    println!(
        "{}",
        serde_json::to_string_pretty(v).context("failed to write JSON")?
    );
    Ok(())
}

fn system_rows(systems: &[System]) -> Vec<Vec<String>> {
    systems
        .iter()
        .map(|s| {
            vec![
                s.id.to_string(),
                s.filing_number
                    .as_ref()
                    .map(|f| f.to_string())
                    .unwrap_or_else(|| "-".into()),
                s.state.to_string(),
                s.classification.tier.to_string(),
                s.stage.as_str().into(),
                s.name.clone(),
            ]
        })
        .collect()
}

fn print_system(s: &System) {
    println!("System:        {} ({})", s.name, s.id);
    println!("Version:       {} (revision {})", s.version, s.revision);
    println!(
        "Filing number: {}",
        s.filing_number
            .as_ref()
            .map_or("-".to_string(), |f| f.to_string())
    );
    println!("State:         {}", s.state);
    println!("Stage:         {}", s.stage.as_str());
    println!("Organisation:  {}", s.organisation);
    println!();
    output::classification(&s.classification);
}

fn print_diff(d: &ClassificationDiff) {
    match d.tier_before {
        Some(b) if b != d.tier_after => println!("Tier: {b} -> {}", d.tier_after),
        _ => println!("Tier: {} (unchanged)", d.tier_after),
    }
    for a in &d.added {
        println!("  + {a}");
    }
    for r in &d.removed {
        println!("  - {r}");
    }
    if d.added.is_empty() && d.removed.is_empty() {
        println!("  obligations unchanged");
    }
}

fn parse_state(s: &str) -> Result<SystemState> {
    SystemState::parse(s).ok_or_else(|| {
        Exit(
            2,
            format!(
                "unknown state '{s}' (draft, submitted, registered, changed, suspended, cancelled)"
            ),
        )
        .into()
    })
}

fn parse_stage(s: &str) -> Result<LifecycleStage> {
    LifecycleStage::parse(s)
        .ok_or_else(|| Exit(2, format!("unknown stage '{s}' (design, development, testing, deployment, operation, maintenance, retired)")).into())
}

/// `aigov org …`
pub async fn org(c: OrgCommand) -> Result<()> {
    match c {
        OrgCommand::Create {
            remote,
            name,
            country,
            kind,
            code,
            safety_officer,
        } => {
            let kind = match kind.as_str() {
                "provider" => OrgKind::Provider,
                "deployer" => OrgKind::Deployer,
                "provider_deployer" => OrgKind::ProviderDeployer,
                other => return Err(Exit(2, format!("unknown kind '{other}'")).into()),
            };
            let req = NewOrganisation {
                name,
                kind,
                country,
                code,
                safety_officer,
            };
            let org: Organisation = client(&remote)?
                .call(Method::POST, "/v1/organisations", Some(&req))
                .await?;
            if remote.json {
                print_json(&org)
            } else {
                println!("organisation {} created: {}", org.id, org.name);
                Ok(())
            }
        }
        OrgCommand::List { remote } => {
            let orgs: Vec<Organisation> = client(&remote)?.get("/v1/organisations").await?;
            if remote.json {
                return print_json(&orgs);
            }
            let rows: Vec<Vec<String>> = orgs
                .iter()
                .map(|o| {
                    vec![
                        o.id.to_string(),
                        o.country.clone(),
                        o.code.clone().unwrap_or_default(),
                        o.name.clone(),
                    ]
                })
                .collect();
            output::table(&["ID", "COUNTRY", "CODE", "NAME"], &rows);
            Ok(())
        }
    }
}

/// `aigov system …`
pub async fn system(c: SystemCommand) -> Result<()> {
    match c {
        SystemCommand::Register {
            remote,
            file,
            org,
            submit,
        } => {
            let facts = read_facts(&file)?;
            let cl = client(&remote)?;
            let mut s: Recorded<System> = cl
                .call(
                    Method::POST,
                    "/v1/systems",
                    Some(&NewSystem {
                        organisation: org,
                        facts,
                    }),
                )
                .await?;
            if submit {
                let req = TransitionRequest {
                    to: SystemState::Submitted,
                    reason: "filed with aigov system register".into(),
                };
                s = cl
                    .call(
                        Method::POST,
                        &format!("/v1/systems/{}/transitions", s.value.id),
                        Some(&req),
                    )
                    .await?;
            }
            if remote.json {
                print_json(&s)
            } else {
                print_system(&s.value);
                println!("Logged as entry {} of the transparency log", s.log.index);
                Ok(())
            }
        }
        SystemCommand::Show { remote, id } => {
            let s: System = client(&remote)?.get(&format!("/v1/systems/{id}")).await?;
            if remote.json {
                print_json(&s)
            } else {
                print_system(&s);
                Ok(())
            }
        }
        SystemCommand::List { remote, state, q } => {
            let mut query = Vec::new();
            if let Some(s) = state {
                query.push(format!("state={}", urlencode(&s)));
            }
            if let Some(q) = q {
                query.push(format!("q={}", urlencode(&q)));
            }
            let systems: Vec<System> = client(&remote)?
                .get(&format!("/v1/systems?{}", query.join("&")))
                .await?;
            if remote.json {
                return print_json(&systems);
            }
            output::table(
                &["ID", "FILING NUMBER", "STATE", "TIER", "STAGE", "NAME"],
                &system_rows(&systems),
            );
            Ok(())
        }
        SystemCommand::Update {
            remote,
            id,
            file,
            reason,
        } => {
            let facts = read_facts(&file)?;
            let v: serde_json::Value = client(&remote)?
                .call(
                    Method::PUT,
                    &format!("/v1/systems/{id}"),
                    Some(&UpdateSystem { facts, reason }),
                )
                .await?;
            if remote.json {
                return print_json(&v);
            }
            let diff: ClassificationDiff =
                serde_json::from_value(v["diff"].clone()).context("failed to decode the diff")?;
            println!(
                "system {id} updated (state {})",
                v["system"]["state"].as_str().unwrap_or("?")
            );
            print_diff(&diff);
            Ok(())
        }
        SystemCommand::Transition {
            remote,
            id,
            to,
            reason,
        } => {
            let req = TransitionRequest {
                to: parse_state(&to)?,
                reason,
            };
            let r: Recorded<System> = client(&remote)?
                .call(
                    Method::POST,
                    &format!("/v1/systems/{id}/transitions"),
                    Some(&req),
                )
                .await?;
            if remote.json {
                return print_json(&r);
            }
            let s = &r.value;
            println!(
                "system {} is now {}{}",
                s.id,
                s.state,
                s.filing_number
                    .as_ref()
                    .map_or(String::new(), |f| format!(" (filing number {f})"))
            );
            Ok(())
        }
        SystemCommand::Stage {
            remote,
            id,
            to,
            reason,
        } => {
            let req = StageRequest {
                to: parse_stage(&to)?,
                reason,
            };
            let s: System = client(&remote)?
                .call(Method::POST, &format!("/v1/systems/{id}/stage"), Some(&req))
                .await?;
            if remote.json {
                return print_json(&s);
            }
            println!("system {} is now in stage {}", s.id, s.stage.as_str());
            Ok(())
        }
        SystemCommand::Evidence {
            remote,
            id,
            kind,
            title,
            uri,
            file,
            stage,
            upload,
        } => {
            if let (true, Some(f)) = (upload, &file) {
                let bytes =
                    std::fs::read(f).with_context(|| format!("failed to read {}", f.display()))?;
                let mut q = format!("kind={}&title={}", urlencode(&kind), urlencode(&title));
                if let Some(s) = &stage {
                    q.push_str(&format!("&stage={}", parse_stage(s)?.as_str()));
                }
                if let Some(n) = f.file_name() {
                    q.push_str(&format!("&filename={}", urlencode(&n.to_string_lossy())));
                }
                let path = format!("/v1/systems/{id}/evidence/upload?{q}");
                let e: Evidence = client(&remote)?.upload(&path, bytes).await?;
                if remote.json {
                    return print_json(&e);
                }
                println!(
                    "document uploaded as evidence {} ({}, sha256 {})",
                    e.id,
                    e.kind,
                    e.sha256.unwrap_or_default()
                );
                return Ok(());
            }
            let sha256 = match &file {
                Some(f) => Some(sha256_file(f)?),
                None => None,
            };
            let uri = uri.or_else(|| {
                file.as_ref()
                    .and_then(|f| f.file_name())
                    .map(|n| n.to_string_lossy().into_owned())
            });
            let stage = stage.as_deref().map(parse_stage).transpose()?;
            let req = NewEvidence {
                stage,
                kind,
                title,
                uri,
                sha256,
            };
            let e: Evidence = client(&remote)?
                .call(
                    Method::POST,
                    &format!("/v1/systems/{id}/evidence"),
                    Some(&req),
                )
                .await?;
            if remote.json {
                return print_json(&e);
            }
            println!(
                "evidence {} ({}) attached to stage {}",
                e.id,
                e.kind,
                e.stage.as_str()
            );
            Ok(())
        }
        SystemCommand::History { remote, id } => {
            let revs: Vec<Revision> = client(&remote)?
                .get(&format!("/v1/systems/{id}/revisions"))
                .await?;
            if remote.json {
                return print_json(&revs);
            }
            for r in &revs {
                println!(
                    "#{} {} {} by {} — state {}, stage {}{}",
                    r.revision,
                    r.at.format("%Y-%m-%d %H:%M:%S"),
                    r.action,
                    r.actor,
                    r.state,
                    r.stage.as_str(),
                    r.reason
                        .as_ref()
                        .map_or(String::new(), |x| format!(" ({x})"))
                );
                print_diff(&r.diff);
            }
            Ok(())
        }
    }
}

fn sha256_file(path: &std::path::Path) -> Result<String> {
    use sha2::Digest;
    use std::io::Read;
    let mut f =
        std::fs::File::open(path).with_context(|| format!("failed to open {}", path.display()))?;
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f
            .read(&mut buf)
            .with_context(|| format!("failed to read {}", path.display()))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// `aigov search`
pub async fn search(a: SearchArgs) -> Result<()> {
    let mut query = Vec::new();
    if let Some(q) = &a.q {
        query.push(format!("q={}", urlencode(q)));
    }
    if let Some(p) = &a.provider {
        query.push(format!("provider={}", urlencode(p)));
    }
    if let Some(f) = &a.filing_number {
        query.push(format!("filing_number={}", urlencode(f)));
    }
    let anon = Remote {
        token: None,
        ..a.remote.clone()
    };
    let found: Vec<PublicSystem> = client(&anon)?
        .get(&format!("/v1/public/systems?{}", query.join("&")))
        .await?;
    if a.remote.json {
        return print_json(&found);
    }
    let rows: Vec<Vec<String>> = found
        .iter()
        .map(|s| {
            vec![
                s.filing_number.to_string(),
                s.state.to_string(),
                s.tier.to_string(),
                s.provider.clone(),
                s.name.clone(),
            ]
        })
        .collect();
    output::table(
        &["FILING NUMBER", "STATE", "TIER", "PROVIDER", "NAME"],
        &rows,
    );
    Ok(())
}

/// `aigov audit …`
pub async fn audit(c: AuditCommand) -> Result<()> {
    match c {
        AuditCommand::Verify { remote } => {
            let v: AuditVerification = client(&remote)?.get("/v1/audit/verify").await?;
            if remote.json {
                print_json(&v)?;
            } else {
                println!(
                    "{} event(s) checked; head {}",
                    v.events,
                    v.head.as_deref().unwrap_or("-")
                );
                for p in &v.problems {
                    println!("  problem: {p}");
                }
                println!(
                    "{}",
                    if v.ok {
                        "audit chain intact"
                    } else {
                        "AUDIT CHAIN BROKEN"
                    }
                );
            }
            if !v.ok {
                return Err(Exit(
                    1,
                    format!("the audit chain has {} problem(s)", v.problems.len()),
                )
                .into());
            }
            Ok(())
        }
    }
}
