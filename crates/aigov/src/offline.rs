//! Offline commands: `classify` and `rules`.

use std::path::{Path, PathBuf};

use aigov_policy::expr::Literal;
use aigov_policy::pack::{Diagnostic, Severity, cross_pack_diagnostics};
use aigov_policy::{Classifier, FactFormat, PackSet, TierCatalogue, builtin, load_pack};
use anyhow::{Context, Result};
use chrono::NaiveDate;
use clap::{Args, Subcommand};

use crate::{Exit, RuleOpts, output};

/// `aigov classify`
#[derive(Args)]
pub struct ClassifyArgs {
    /// Fact file (`.toml` or `.json`; `-` reads TOML from standard input).
    file: PathBuf,
    /// Evaluate as of this date (YYYY-MM-DD; default today).
    #[arg(long)]
    as_of: Option<NaiveDate>,
    #[command(flatten)]
    rules: RuleOpts,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// `aigov rules …`
#[derive(Subcommand)]
pub enum RulesCommand {
    /// Lint the rule packs in a folder (unknown facts, clashing ids, missing sources, bad dates).
    Check {
        /// Folder of `.toml` packs.
        dir: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the loaded packs and their rules.
    List {
        #[command(flatten)]
        rules: RuleOpts,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

fn usage(msg: impl Into<String>) -> anyhow::Error {
    Exit(2, msg.into()).into()
}

/// Reads the `.toml` files of a folder, sorted, skipping the tier catalogue.
fn pack_files(dir: &Path) -> Result<Vec<(String, String)>> {
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("failed to read rule folder {}", dir.display()))?;
    let mut files = Vec::new();
    for e in entries {
        let path = e
            .with_context(|| format!("failed to read rule folder {}", dir.display()))?
            .path();
        if path.extension().is_some_and(|x| x == "toml")
            && path.file_name().is_some_and(|n| n != "tiers.toml")
        {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("failed to read {}", path.display()))?;
            files.push((path.display().to_string(), text));
        }
    }
    files.sort();
    Ok(files)
}

/// The shipped packs, plus (or replaced by) the packs of `opts.rules`, with parameter overrides.
pub fn load_classifier(opts: &RuleOpts) -> Result<Classifier> {
    let mut extra = Vec::new();
    for dir in &opts.rules {
        for (name, text) in pack_files(dir)? {
            let (pack, diags) = load_pack(&name, &text);
            match pack {
                Some(p) => extra.push(p),
                None => {
                    let msgs: Vec<String> = diags
                        .iter()
                        .filter(|d| d.severity == Severity::Error)
                        .map(|d| d.to_string())
                        .collect();
                    return Err(usage(format!(
                        "rule pack {name} has errors (run `aigov rules check`):\n{}",
                        msgs.join("\n")
                    )));
                }
            }
        }
    }
    let shipped = builtin::load_all(builtin::PACKS.iter().copied())
        .context("failed to load the shipped rule packs")?;
    let mut packs: Vec<_> = shipped
        .packs()
        .iter()
        .filter(|p| !extra.iter().any(|e| e.id == p.id))
        .cloned()
        .collect();
    packs.extend(extra);
    let mut set = PackSet::new(packs).map_err(|e| usage(e.to_string()))?;
    for p in &opts.params {
        let (key, value) = p
            .split_once('=')
            .ok_or_else(|| usage(format!("--param {p}: expected PACK.NAME=VALUE")))?;
        let (pack, name) = key
            .split_once('.')
            .ok_or_else(|| usage(format!("--param {p}: expected PACK.NAME=VALUE")))?;
        let lit = parse_param(value).ok_or_else(|| {
            usage(format!(
                "--param {p}: '{value}' is not a number, boolean, 'text' or list"
            ))
        })?;
        set.set_param(pack.trim(), name.trim(), lit)
            .map_err(|e| usage(e.to_string()))?;
    }
    let tiers =
        TierCatalogue::parse(builtin::TIERS).context("failed to load the tier catalogue")?;
    Ok(Classifier::new(set, tiers))
}

fn parse_param(value: &str) -> Option<Literal> {
    let v: toml::Value = toml::from_str(&format!("v = {value}"))
        .ok()
        .and_then(|t: toml::Table| t.get("v").cloned())
        .or_else(|| Some(toml::Value::String(value.to_string())))?;
    fn conv(v: &toml::Value) -> Option<Literal> {
        Some(match v {
            toml::Value::String(s) => Literal::Text(s.clone()),
            toml::Value::Integer(i) => Literal::Number(*i as f64),
            toml::Value::Float(f) => Literal::Number(*f),
            toml::Value::Boolean(b) => Literal::Bool(*b),
            toml::Value::Array(a) => Literal::List(a.iter().map(conv).collect::<Option<_>>()?),
            _ => return None,
        })
    }
    conv(&v)
}

/// Reads a fact file, naming the place of any error.
pub fn read_facts(file: &Path) -> Result<aigov_policy::SystemFacts> {
    let (text, name) = if file.as_os_str() == "-" {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
            .context("failed to read standard input")?;
        (s, "<stdin>".to_string())
    } else {
        (
            std::fs::read_to_string(file)
                .with_context(|| format!("failed to read {}", file.display()))?,
            file.display().to_string(),
        )
    };
    let format = if file.extension().is_some_and(|e| e == "json") {
        FactFormat::Json
    } else {
        FactFormat::Toml
    };
    aigov_policy::parse_facts(&text, format).map_err(|e| usage(format!("{name}: {e}")))
}

/// `aigov classify`
pub fn classify(a: ClassifyArgs) -> Result<()> {
    let classifier = load_classifier(&a.rules)?;
    let facts = read_facts(&a.file)?;
    let date = a.as_of.unwrap_or_else(|| chrono::Utc::now().date_naive());
    let c = classifier.classify(&facts, date);
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&c).context("failed to write JSON")?
        );
    } else {
        output::classification(&c);
    }
    Ok(())
}

/// `aigov rules …`
pub fn rules(c: RulesCommand) -> Result<()> {
    match c {
        RulesCommand::Check { dir, json } => check(&dir, json),
        RulesCommand::List { rules, json } => {
            let classifier = load_classifier(&rules)?;
            let packs = classifier.packs().packs();
            if json {
                let v: Vec<_> = packs
                    .iter()
                    .map(|p| {
                        serde_json::json!({
                            "id": p.id, "version": p.version, "title": p.title, "jurisdiction": p.jurisdiction,
                            "rules": p.rules.iter().map(|r| serde_json::json!({
                                "id": r.id, "title": r.title, "source": r.source, "tier": r.tier,
                                "applies_from": r.applies_from, "until": r.until,
                            })).collect::<Vec<_>>(),
                        })
                    })
                    .collect();
                println!(
                    "{}",
                    serde_json::to_string_pretty(&v).context("failed to write JSON")?
                );
            } else {
                let rows: Vec<Vec<String>> = packs
                    .iter()
                    .flat_map(|p| {
                        p.rules.iter().map(|r| {
                            vec![
                                p.id.clone(),
                                r.id.clone(),
                                r.tier.to_string(),
                                r.applies_from.to_string(),
                                r.title.clone(),
                            ]
                        })
                    })
                    .collect();
                output::table(&["PACK", "RULE", "TIER", "FROM", "TITLE"], &rows);
            }
            Ok(())
        }
    }
}

fn check(dir: &Path, json: bool) -> Result<()> {
    let files = pack_files(dir)?;
    let mut diags: Vec<Diagnostic> = Vec::new();
    let mut packs = Vec::new();
    for (name, text) in &files {
        let (pack, d) = load_pack(name, text);
        diags.extend(d);
        packs.extend(pack);
    }
    let tiers = dir.join("tiers.toml");
    if tiers.exists() {
        let text = std::fs::read_to_string(&tiers)
            .with_context(|| format!("failed to read {}", tiers.display()))?;
        if let Err(e) = TierCatalogue::parse(&text) {
            diags.push(Diagnostic {
                severity: Severity::Error,
                file: tiers.display().to_string(),
                location: "tiers".into(),
                message: e.to_string(),
            });
        }
    }
    // Ids must not clash with each other nor with the shipped packs they do not replace.
    let shipped = builtin::load_all(builtin::PACKS.iter().copied())
        .context("failed to load the shipped rule packs")?;
    let mut all: Vec<_> = shipped
        .packs()
        .iter()
        .filter(|s| !packs.iter().any(|p: &aigov_policy::Pack| p.id == s.id))
        .cloned()
        .collect();
    let shipped_count = all.len();
    all.extend(packs.iter().cloned());
    diags.extend(cross_pack_diagnostics(&all).into_iter().filter(|d| {
        // Report each clash on the user's pack, never on a shipped one.
        all.iter().skip(shipped_count).any(|p| p.id == d.file)
    }));
    let errors = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    if json {
        let v = serde_json::json!({"files": files.len(), "errors": errors, "diagnostics": diags});
        println!(
            "{}",
            serde_json::to_string_pretty(&v).context("failed to write JSON")?
        );
    } else {
        for d in &diags {
            println!("{d}");
        }
        println!(
            "{} file(s), {} rule(s), {errors} error(s), {} warning(s)",
            files.len(),
            packs.iter().map(|p| p.rules.len()).sum::<usize>(),
            diags.len() - errors
        );
    }
    if files.is_empty() {
        return Err(usage(format!("no .toml rule packs in {}", dir.display())));
    }
    if errors > 0 {
        return Err(Exit(
            3,
            format!("{errors} error(s) in the rule packs of {}", dir.display()),
        )
        .into());
    }
    Ok(())
}
