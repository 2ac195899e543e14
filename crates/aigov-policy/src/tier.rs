//! aigov's risk scale and what each tier requires (testing depth, evidence per stage).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::facts::LifecycleStage;

/// aigov's own risk scale, from lowest to highest. Jurisdictions without binding tiers (China)
/// are mapped onto it by the packs; every obligation still cites its own source.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// No specific legal duties; voluntary codes.
    Minimal,
    /// Transparency and labelling duties only.
    Limited,
    /// Mandatory filing or registration and a security self-assessment, not high-risk.
    Significant,
    /// High risk: conformity or security assessment before release, independent testing.
    High,
    /// May not be placed on the market or used in the jurisdiction concerned.
    Prohibited,
}

impl Tier {
    /// Every tier from lowest to highest.
    pub const ALL: [Tier; 5] = [
        Tier::Minimal,
        Tier::Limited,
        Tier::Significant,
        Tier::High,
        Tier::Prohibited,
    ];

    /// The tier's name as written in packs and outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Minimal => "minimal",
            Tier::Limited => "limited",
            Tier::Significant => "significant",
            Tier::High => "high",
            Tier::Prohibited => "prohibited",
        }
    }
}

impl std::fmt::Display for Tier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The testing and assessment a tier requires (measure 5.1: "testing and assessment system
/// based on AI risk levels").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TestingDepth {
    /// Name of the depth level.
    pub level: String,
    /// What the testing must include.
    pub activities: Vec<String>,
    /// Whether an independent (third-party) assessor is required.
    pub independent: bool,
    /// When testing must be repeated.
    pub retest: String,
}

/// What one tier means and requires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TierSpec {
    /// The tier.
    pub id: Tier,
    /// What the tier means.
    pub meaning: String,
    /// Testing depth required.
    pub testing: TestingDepth,
    /// Evidence kinds required in each lifecycle stage before leaving it.
    #[serde(default)]
    pub evidence: BTreeMap<LifecycleStage, Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalogue {
    tiers: Vec<TierSpec>,
}

/// The tier catalogue (`rules/tiers.toml`).
#[derive(Debug, Clone)]
pub struct TierCatalogue {
    specs: BTreeMap<Tier, TierSpec>,
}

impl TierCatalogue {
    /// Parses a catalogue; every tier must be described exactly once.
    pub fn parse(text: &str) -> Result<Self> {
        let raw: RawCatalogue =
            toml::from_str(text).map_err(|e| Error::Catalogue(e.message().to_string()))?;
        let mut specs = BTreeMap::new();
        for s in raw.tiers {
            let id = s.id;
            if specs.insert(id, s).is_some() {
                return Err(Error::Catalogue(format!("tier '{id}' is described twice")));
            }
        }
        if let Some(missing) = Tier::ALL.iter().find(|t| !specs.contains_key(t)) {
            return Err(Error::Catalogue(format!(
                "tier '{missing}' is not described"
            )));
        }
        Ok(TierCatalogue { specs })
    }

    /// The spec of a tier.
    pub fn spec(&self, tier: Tier) -> &TierSpec {
        // `parse` guarantees every tier is present.
        &self.specs[&tier]
    }

    /// Evidence kinds a system of `tier` must hold in `stage`.
    pub fn required_evidence(&self, tier: Tier, stage: LifecycleStage) -> &[String] {
        self.spec(tier)
            .evidence
            .get(&stage)
            .map_or(&[], |v| v.as_slice())
    }
}
