//! Commands on the local data folder: `serve`, `init`, `token`, and the demo data set.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use aigov_pki::{CaMaterial, KeyAlgorithm};
use aigov_policy::FactFormat;
use aigov_registry::model::*;
use aigov_registry::{Config, Registry};
use aigov_server::{AppState, ServerConfig};
use aigov_store::SqliteStore;
use aigov_tlog::note::NoteSigner;
use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use uuid::Uuid;

use crate::offline::load_classifier;
use crate::{DataDir, Exit, RuleOpts, output};

/// `aigov serve`
#[derive(Args)]
pub struct ServeArgs {
    #[command(flatten)]
    data: DataDir,
    /// Address to listen on.
    #[arg(long, env = "AIGOV_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Seed the demo data set (only into an empty registry).
    #[arg(long)]
    demo: bool,
    /// Largest JSON request body, in bytes.
    #[arg(long, default_value_t = 1024 * 1024)]
    max_body: usize,
    /// Largest uploaded evidence document, in bytes.
    #[arg(long, default_value_t = 64 * 1024 * 1024)]
    max_upload: usize,
    /// Largest file accepted by the label verification endpoint, in bytes.
    #[arg(long, default_value_t = 1024 * 1024 * 1024)]
    max_label_upload: u64,
    /// Do not create and print a bootstrap admin token.
    #[arg(long)]
    no_token: bool,
    #[command(flatten)]
    rules: RuleOpts,
}

/// `aigov token …`
#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create a token and print its secret (shown once).
    Create {
        #[command(flatten)]
        data: DataDir,
        /// Label.
        #[arg(long)]
        name: String,
        /// Role: admin, regulator, reviewer or provider.
        #[arg(long)]
        role: String,
        /// Organisation id (provider tokens).
        #[arg(long)]
        org: Option<Uuid>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token.
    Revoke {
        #[command(flatten)]
        data: DataDir,
        /// Token id.
        id: Uuid,
    },
    /// List tokens.
    List {
        #[command(flatten)]
        data: DataDir,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

const BOOTSTRAP: &str = "bootstrap (aigov serve)";

/// Opens (creating) the data folder and its database.
async fn open(data: &DataDir, rules: &RuleOpts) -> Result<Registry<SqliteStore>> {
    create_dir_private(&data.data_dir)?;
    let db = data.data_dir.join("aigov.db");
    let store = SqliteStore::open(&db)
        .await
        .with_context(|| format!("failed to open the database {}", db.display()))?;
    Ok(Registry::new(
        store,
        Arc::new(load_classifier(rules)?),
        log_key(&data.data_dir)?,
        Config::default(),
    )
    .with_ca(certificate_authority(
        &data.data_dir,
        KeyAlgorithm::EcdsaP256,
    )?))
}

fn create_dir_private(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("failed to create the data folder {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("failed to restrict permissions of {}", dir.display()))?;
    }
    Ok(())
}

/// The log's signing key, `log.key` in the data folder (0600), created on first use with a
/// random origin `aigov-<8 hex>` so that every registry's log has a name of its own.
fn log_key(dir: &Path) -> Result<NoteSigner> {
    let path = dir.join("log.key");
    if path.exists() {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("failed to read the log key {}", path.display()))?;
        return NoteSigner::parse(&text)
            .with_context(|| format!("the log key {} is invalid", path.display()));
    }
    let mut seed = [0u8; 32];
    let mut tag = [0u8; 4];
    rand::fill(&mut seed);
    rand::fill(&mut tag);
    let signer = NoteSigner::from_seed(&format!("aigov-{}", hex::encode(tag)), &seed)
        .context("failed to create the log key")?;
    write_secret(&path, &format!("{}\n", signer.encode()))?;
    Ok(signer)
}

/// Writes a secret file readable by its owner only; refuses to overwrite.
fn write_secret(path: &Path, text: &str) -> Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("failed to create {}", path.display()))?;
    std::io::Write::write_all(&mut f, text.as_bytes())
        .with_context(|| format!("failed to write {}", path.display()))
}

/// The registry CA in `ca/` of the data folder, created on first use (root and issuing CA;
/// keys 0600, never printed).
fn certificate_authority(dir: &Path, alg: KeyAlgorithm) -> Result<CaMaterial> {
    let ca = dir.join("ca");
    let files = ["root.pem", "root.key", "issuing.pem", "issuing.key"].map(|f| ca.join(f));
    if files.iter().all(|f| f.exists()) {
        let read = |p: &PathBuf| {
            std::fs::read_to_string(p).with_context(|| format!("failed to read {}", p.display()))
        };
        return Ok(CaMaterial {
            root_cert: read(&files[0])?,
            root_key: read(&files[1])?,
            issuing_cert: read(&files[2])?,
            issuing_key: read(&files[3])?,
        });
    }
    if files.iter().any(|f| f.exists()) {
        anyhow::bail!(
            "the CA folder {} is incomplete; restore it from a backup",
            ca.display()
        );
    }
    create_dir_private(&ca)?;
    let name = format!(
        "aigov registry {}",
        &log_key(dir)?.verifier().name()["aigov-".len()..]
    );
    let m =
        aigov_pki::create_ca(&name, alg, chrono::Utc::now()).context("failed to create the CA")?;
    std::fs::write(&files[0], &m.root_cert)
        .with_context(|| format!("failed to write {}", files[0].display()))?;
    write_secret(&files[1], &m.root_key)?;
    std::fs::write(&files[2], &m.issuing_cert)
        .with_context(|| format!("failed to write {}", files[2].display()))?;
    write_secret(&files[3], &m.issuing_key)?;
    Ok(m)
}

async fn bootstrap_token<S: aigov_registry::store::Store>(
    reg: &Registry<S>,
) -> Result<CreatedToken> {
    let admin = Principal::local_admin("local:aigov serve");
    let now = chrono::Utc::now();
    for t in reg.tokens(&admin).await? {
        if t.name == BOOTSTRAP && t.revoked_at.is_none() {
            reg.revoke_token(&admin, t.id, now).await?;
        }
    }
    Ok(reg
        .create_token(
            &admin,
            NewToken {
                name: BOOTSTRAP.into(),
                role: Role::Admin,
                organisation: None,
            },
            now,
        )
        .await?
        .value)
}

/// `aigov serve`
pub async fn serve(a: ServeArgs) -> Result<()> {
    let reg = open(&a.data, &a.rules).await?;
    let listener = tokio::net::TcpListener::bind(a.listen)
        .await
        .with_context(|| format!("failed to listen on {}", a.listen))?;
    let addr = listener
        .local_addr()
        .context("failed to read the listening address")?;
    let demo = if a.demo { seed_demo(&reg).await? } else { None };
    println!("aigov registry serving on http://{addr}");
    println!("  data folder: {}", a.data.data_dir.display());
    println!("  API: http://{addr}/v1   OpenAPI: http://{addr}/openapi.json");
    println!("  check a file (public page): http://{addr}/verify");
    if !a.no_token {
        let t = bootstrap_token(&reg).await?;
        println!("  admin token (valid until the next start): {}", t.secret);
    }
    println!("  transparency log key: {}", reg.log_verifier().encode());
    if let Some(d) = demo {
        println!("  demo data seeded: {d}");
    }
    let state = AppState::new(
        reg,
        aigov_server::system_clock(),
        ServerConfig {
            max_body: a.max_body,
            max_upload: a.max_upload,
            max_label_upload: a.max_label_upload,
        },
    );
    // Integrates the log entries of concurrent writes together, every couple of milliseconds.
    tokio::spawn(
        state
            .registry
            .clone()
            .run_sequencer(std::time::Duration::from_millis(2), std::future::pending()),
    );
    aigov_server::serve(listener, state, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .context("the server failed")?;
    Ok(())
}

/// `aigov init`
pub async fn init(data: &DataDir, ca_alg: &str, json: bool) -> Result<()> {
    // Checked before anything is created. SM2 certifies system keys, not the CA.
    let alg = KeyAlgorithm::parse(ca_alg)
        .filter(|a| *a != KeyAlgorithm::Sm2)
        .ok_or_else(|| {
            Exit(
                2,
                format!(
                    "CA key algorithm '{ca_alg}' is not available: use p256 or ed25519 \
                     (SM2 is for system keys: aigov cert request --alg sm2)"
                ),
            )
        })?;
    create_dir_private(&data.data_dir)?;
    certificate_authority(&data.data_dir, alg)?;
    let reg = open(data, &RuleOpts::default()).await?;
    let admin = Principal::local_admin("local:aigov init");
    let t = reg
        .create_token(
            &admin,
            NewToken {
                name: "admin (aigov init)".into(),
                role: Role::Admin,
                organisation: None,
            },
            chrono::Utc::now(),
        )
        .await?
        .value;
    if json {
        println!(
            "{}",
            serde_json::json!({"data_dir": data.data_dir, "token": t, "log_key": reg.log_verifier().encode()})
        );
    } else {
        println!("initialised {}", data.data_dir.join("aigov.db").display());
        println!("admin token: {}", t.secret);
        println!("log key:     {}", reg.log_verifier().encode());
        println!(
            "root CA:     {} (distribute it; the keys in {} stay private)",
            data.data_dir.join("ca/root.pem").display(),
            data.data_dir.join("ca").display()
        );
    }
    Ok(())
}

/// `aigov token …`
pub async fn token(c: TokenCommand) -> Result<()> {
    let admin = Principal::local_admin("local:aigov token");
    match c {
        TokenCommand::Create {
            data,
            name,
            role,
            org,
            json,
        } => {
            let role = Role::parse(&role).ok_or_else(|| {
                Exit(
                    2,
                    format!("unknown role '{role}' (admin, regulator, reviewer, provider)"),
                )
            })?;
            let reg = open(&data, &RuleOpts::default()).await?;
            let t = reg
                .create_token(
                    &admin,
                    NewToken {
                        name,
                        role,
                        organisation: org,
                    },
                    chrono::Utc::now(),
                )
                .await
                .map_err(registry_err)?
                .value;
            if json {
                println!("{}", serde_json::to_string_pretty(&t)?);
            } else {
                println!(
                    "token {} ({}) created; secret (shown once):",
                    t.token.id,
                    t.token.role.as_str()
                );
                println!("{}", t.secret);
            }
        }
        TokenCommand::Revoke { data, id } => {
            let reg = open(&data, &RuleOpts::default()).await?;
            reg.revoke_token(&admin, id, chrono::Utc::now())
                .await
                .map_err(registry_err)?;
            println!("token {id} revoked");
        }
        TokenCommand::List { data, json } => {
            let reg = open(&data, &RuleOpts::default()).await?;
            let tokens = reg.tokens(&admin).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&tokens)?);
            } else {
                let rows: Vec<Vec<String>> = tokens
                    .iter()
                    .map(|t| {
                        vec![
                            t.id.to_string(),
                            t.role.as_str().into(),
                            t.organisation.map(|o| o.to_string()).unwrap_or_default(),
                            t.revoked_at
                                .map_or("active".into(), |r| format!("revoked {r}")),
                            t.name.clone(),
                        ]
                    })
                    .collect();
                output::table(&["ID", "ROLE", "ORGANISATION", "STATUS", "NAME"], &rows);
            }
        }
    }
    Ok(())
}

/// Invalid requests and conflicts are the user's to fix (exit 2), the rest is a failure.
fn registry_err(e: aigov_registry::Error) -> anyhow::Error {
    match e {
        aigov_registry::Error::Store(_) => anyhow::Error::new(e),
        other => Exit(2, other.to_string()).into(),
    }
}

/// The demo systems: (file name, text, state to reach).
const DEMO: &[(&str, &str, SystemState)] = &[
    (
        "public-chatbot.toml",
        include_str!("../../../examples/systems/public-chatbot.toml"),
        SystemState::Registered,
    ),
    (
        "cv-screening.toml",
        include_str!("../../../examples/systems/cv-screening.toml"),
        SystemState::Submitted,
    ),
    (
        "credit-scoring.toml",
        include_str!("../../../examples/systems/credit-scoring.toml"),
        SystemState::Registered,
    ),
    (
        "emotion-at-work.toml",
        include_str!("../../../examples/systems/emotion-at-work.toml"),
        SystemState::Draft,
    ),
    (
        "news-recommender.toml",
        include_str!("../../../examples/systems/news-recommender.toml"),
        SystemState::Registered,
    ),
    (
        "customer-service.toml",
        include_str!("../../../examples/systems/customer-service.toml"),
        SystemState::Registered,
    ),
    (
        "spam-filter.toml",
        include_str!("../../../examples/systems/spam-filter.toml"),
        SystemState::Registered,
    ),
];

/// Seeds the demo into an empty registry, through the service (so every step is audited).
/// Returns a summary, or `None` if the registry was not empty.
pub async fn seed_demo<S: aigov_registry::store::Store>(
    reg: &Registry<S>,
) -> Result<Option<String>> {
    let admin = Principal::local_admin("local:demo");
    if !reg.organisations(&admin).await?.is_empty() {
        return Ok(None);
    }
    let now = chrono::Utc::now();
    let mut summary = Vec::new();
    for (file, text, target) in DEMO {
        let facts = aigov_policy::parse_facts(text, FactFormat::Toml)
            .with_context(|| format!("demo file {file} is invalid"))?;
        let p = facts.provider.clone().unwrap_or_default();
        let country = p.country.clone().unwrap_or_else(|| "CN".into());
        let org = reg
            .create_organisation(
                &admin,
                NewOrganisation {
                    name: p.name.clone().unwrap_or_else(|| "Demo provider".into()),
                    kind: OrgKind::Provider,
                    country,
                    code: p.code.clone(),
                    safety_officer: Some("Algorithm safety officer".into()),
                },
                now,
            )
            .await
            .with_context(|| format!("failed to seed the provider of {file}"))?
            .value;
        let sys = reg
            .create_system(
                &admin,
                NewSystem {
                    organisation: Some(org.id),
                    facts,
                },
                now,
            )
            .await
            .with_context(|| format!("failed to seed {file}"))?
            .value;
        let path: &[SystemState] = match target {
            SystemState::Draft => &[],
            SystemState::Submitted => &[SystemState::Submitted],
            _ => &[SystemState::Submitted, SystemState::Registered],
        };
        for to in path {
            reg.transition(
                &admin,
                sys.id,
                TransitionRequest {
                    to: *to,
                    reason: "demo data".into(),
                },
                now,
            )
            .await
            .with_context(|| format!("failed to move demo system {file} to {to}"))?;
        }
        summary.push(format!(
            "{} ({}, {})",
            sys.name, sys.classification.tier, target
        ));
    }
    Ok(Some(summary.join("; ")))
}
