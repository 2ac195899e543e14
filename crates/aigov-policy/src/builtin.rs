//! The rule packs and tier catalogue shipped with aigov (the files under `rules/`).

use crate::classify::Classifier;
use crate::error::{Error, Result};
use crate::pack::{PackSet, Severity, load_pack};
use crate::tier::TierCatalogue;

/// The tier catalogue file.
pub const TIERS: &str = include_str!("../../../rules/tiers.toml");

/// The shipped packs: (file name, text).
pub const PACKS: &[(&str, &str)] = &[
    (
        "eu-ai-act.toml",
        include_str!("../../../rules/eu-ai-act.toml"),
    ),
    ("cn.toml", include_str!("../../../rules/cn.toml")),
    (
        "registration-threshold.toml",
        include_str!("../../../rules/registration-threshold.toml"),
    ),
];

/// Loads packs from (file name, text) pairs; the first error aborts.
pub fn load_all<'a>(files: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<PackSet> {
    let mut packs = Vec::new();
    for (name, text) in files {
        let (pack, diags) = load_pack(name, text);
        match pack {
            Some(p) => packs.push(p),
            None => {
                let first = diags
                    .into_iter()
                    .find(|d| d.severity == Severity::Error)
                    .ok_or_else(|| Error::Catalogue(format!("{name}: could not be loaded")))?;
                return Err(Error::Pack(first));
            }
        }
    }
    PackSet::new(packs)
}

/// A classifier with the shipped packs and tiers.
pub fn classifier() -> Result<Classifier> {
    Ok(Classifier::new(
        load_all(PACKS.iter().copied())?,
        TierCatalogue::parse(TIERS)?,
    ))
}
