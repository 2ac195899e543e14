//! `aigov`: the command-line tool. It parses flags and calls the libraries; see `--help`.
//!
//! Exit codes: 0 success; 1 failure (IO, network, internal); 2 invalid usage or input;
//! 3 rule-pack lint errors; 4 request refused by the server (4xx); 5 server error (5xx).

#![forbid(unsafe_code)]

mod bom;
mod cert;
mod client;
mod label;
mod local;
mod log;
mod model;
mod offline;
mod output;
mod pii;
mod remote;

/// mimalloc instead of the system allocator: the PII scanner allocates findings on its
/// scanning threads and frees them on the reporting thread, which glibc's arenas handle with
/// locks and consolidation (about a sixth of a scan's CPU time, docs/performance.md). Built
/// without transparent huge pages (feature `no_thp`): with them a scan's resident memory grew
/// by half and zeroing 2 MiB pages showed up in profiles.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// aigov: AI safety governance (registry, classification, rule packs).
#[derive(Parser)]
#[command(name = "aigov", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the local data lives.
#[derive(Args, Clone)]
pub struct DataDir {
    /// Data folder (created on first use).
    #[arg(long, env = "AIGOV_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
}

/// How to reach a registry server.
#[derive(Args, Clone)]
pub struct Remote {
    /// Registry server URL.
    #[arg(long, env = "AIGOV_SERVER", default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// API token (printed by `aigov serve` or `aigov token create`).
    #[arg(long, env = "AIGOV_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Extra rule packs.
#[derive(Args, Clone, Default)]
pub struct RuleOpts {
    /// Folder of extra rule packs (self-regulation conventions); a pack with the id of a
    /// shipped pack replaces it.
    #[arg(long = "rules")]
    pub rules: Vec<PathBuf>,
    /// Override a pack parameter: `PACK.NAME=VALUE` (VALUE as TOML, e.g. 1e24 or ['health']).
    #[arg(long = "param")]
    pub params: Vec<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the registry server on the embedded SQLite database.
    Serve(local::ServeArgs),
    /// Create the data folder, database, log key and certificate authority; print an admin token.
    Init {
        #[command(flatten)]
        data: DataDir,
        /// Key algorithm of the registry CA: p256 (default) or ed25519.
        #[arg(long, default_value = "p256")]
        ca_alg: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Classify a system described in a TOML or JSON file (offline).
    Classify(offline::ClassifyArgs),
    /// Rule packs.
    #[command(subcommand)]
    Rules(offline::RulesCommand),
    /// API tokens (works on the local data folder).
    #[command(subcommand)]
    Token(local::TokenCommand),
    /// Organisations (client of a server).
    #[command(subcommand)]
    Org(remote::OrgCommand),
    /// AI systems (client of a server).
    #[command(subcommand)]
    System(remote::SystemCommand),
    /// Search the public registry (no token needed).
    Search(remote::SearchArgs),
    /// The audit log (client of a server).
    #[command(subcommand)]
    Audit(remote::AuditCommand),
    /// System certificates from the registry CA (client of a server).
    #[command(subcommand)]
    Cert(cert::CertCommand),
    /// The transparency log (auditor's checks against a server).
    #[command(subcommand)]
    Log(log::LogCommand),
    /// Personal and sensitive data in training data and outputs: scan, redact, restore.
    #[command(subcommand)]
    Pii(Box<pii::PiiCommand>),
    /// Model supply chain: sign and verify models (OpenSSF model signing), scan model files
    /// for code that runs on load.
    #[command(subcommand)]
    Model(Box<model::ModelCommand>),
    /// Labels on AI-generated content: add, propagate and verify (GB 45438 AIGC metadata,
    /// signatures bound to registry certificates, C2PA).
    #[command(subcommand)]
    Label(Box<label::LabelCommand>),
    /// AI bills of materials: CycloneDX 1.6 ML-BOM or SPDX 3.0.1 of a model folder, and diffs.
    #[command(subcommand)]
    Bom(bom::BomCommand),
}

/// An error with the exit code it maps to.
#[derive(Debug)]
pub struct Exit(pub u8, pub String);

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.1)
    }
}

impl std::error::Error for Exit {}

fn exit_code(e: &anyhow::Error) -> u8 {
    for cause in e.chain() {
        if let Some(Exit(code, _)) = cause.downcast_ref::<Exit>() {
            return *code;
        }
        if let Some(f) = cause.downcast_ref::<client::ApiFailure>() {
            return if f.status.is_server_error() { 5 } else { 4 };
        }
    }
    1
}

/// A reader that stops early (`aigov … | head`) closes the pipe: stop quietly, like ripgrep,
/// instead of reporting the failed write as a crash.
fn quiet_on_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let msg = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.contains("failed printing to stdout") && msg.contains("Broken pipe") {
            std::process::exit(0);
        }
        // A third-party decoder's panic that aigov-pii turns into an input error.
        if aigov_pii::io::in_contained_decoder() {
            return;
        }
        default(info);
    }));
}

fn main() -> ExitCode {
    quiet_on_broken_pipe();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: failed to start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(a) => local::serve(a).await,
            Command::Init { data, json, ca_alg } => local::init(&data, &ca_alg, json).await,
            Command::Classify(a) => offline::classify(a),
            Command::Rules(c) => offline::rules(c),
            Command::Token(c) => local::token(c).await,
            Command::Org(c) => remote::org(c).await,
            Command::System(c) => remote::system(c).await,
            Command::Search(a) => remote::search(a).await,
            Command::Audit(c) => remote::audit(c).await,
            Command::Log(c) => log::run(c).await,
            Command::Cert(c) => cert::run(c).await,
            Command::Pii(c) => pii::run(*c),
            Command::Model(c) => model::run(*c),
            Command::Bom(c) => bom::run(c),
            Command::Label(c) => label::run(*c).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let code = exit_code(&e);
            eprintln!("error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(code)
        }
    }
}
