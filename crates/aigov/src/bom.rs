//! `aigov bom generate|diff`: AI bills of materials for model folders.
//!
//! Exit codes of `diff`: 0 the BOMs describe the same model, 1 they differ, 2 a BOM cannot
//! be read.

use std::path::PathBuf;

use aigov_supply::bom;
use anyhow::Result;
use clap::{Args, Subcommand};

use crate::Exit;

/// `aigov bom …`
#[derive(Subcommand)]
pub enum BomCommand {
    /// Write the AI-BOM of a model folder (CycloneDX 1.6 ML-BOM, or SPDX 3.0.1).
    Generate(GenerateArgs),
    /// What changed between two CycloneDX ML-BOMs (files, hashes, datasets, licences).
    Diff {
        /// The earlier BOM.
        a: PathBuf,
        /// The later BOM.
        b: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `aigov bom generate`
#[derive(Args)]
pub struct GenerateArgs {
    /// Model folder (a Hugging Face-style folder with README.md and config.json, or any folder).
    model: PathBuf,
    /// cyclonedx (default) or spdx3.
    #[arg(long, default_value = "cyclonedx")]
    format: String,
    /// Write to this file instead of standard output.
    #[arg(long, short)]
    out: Option<PathBuf>,
    /// Model name (default: the folder name).
    #[arg(long)]
    name: Option<String>,
    /// Model version (release tag or commit).
    #[arg(long)]
    version: Option<String>,
    /// SPDX: IRI prefix of the document's elements.
    #[arg(long, default_value = "urn:aigov:bom")]
    namespace: String,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

/// `aigov bom …`
pub fn run(c: BomCommand) -> Result<()> {
    match c {
        BomCommand::Generate(a) => generate(a),
        BomCommand::Diff { a, b, json } => diff(&a, &b, json),
    }
}

fn generate(a: GenerateArgs) -> Result<()> {
    if a.format != "cyclonedx" && a.format != "spdx3" {
        return Err(Exit(
            2,
            format!("--format {}: expected cyclonedx or spdx3", a.format),
        )
        .into());
    }
    let bar = if a.quiet {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new_spinner()
    };
    let progress = |n: u64| bar.inc(n);
    let inv = bom::inventory(&a.model, a.name.as_deref(), a.version.as_deref(), &progress)
        .map_err(|e| Exit(2, format!("{}: {e}", a.model.display())))?;
    bar.finish_and_clear();
    let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let doc = if a.format == "spdx3" {
        let ns = format!("{}/{}", a.namespace.trim_end_matches('/'), inv.root_digest);
        inv.spdx3(&ns, &now)
    } else {
        inv.cyclonedx(&now)
    };
    let text = serde_json::to_string_pretty(&doc)? + "\n";
    match &a.out {
        Some(p) => crate::model::write_atomic(p, &text)?,
        None => print!("{text}"),
    }
    Ok(())
}

fn read_json(p: &PathBuf) -> Result<serde_json::Value> {
    let b = std::fs::read(p).map_err(|e| Exit(2, format!("cannot read {}: {e}", p.display())))?;
    serde_json::from_slice(&b)
        .map_err(|e| Exit(2, format!("{}: not JSON: {e}", p.display())).into())
}

fn diff(a: &PathBuf, b: &PathBuf, json: bool) -> Result<()> {
    let d = bom::diff(&read_json(a)?, &read_json(b)?).map_err(|e| Exit(2, e.to_string()))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&d)?);
    } else {
        for l in d.lines() {
            println!("{l}");
        }
    }
    if d.is_empty() {
        Ok(())
    } else {
        Err(Exit(
            1,
            format!("the BOMs differ ({} change(s))", d.lines().len()),
        )
        .into())
    }
}
