//! Classification of a system's facts against a set of packs, as of a date.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::expr::{self, Evidence, FactView, Truth};
use crate::facts::{SystemFacts, fact_def};
use crate::pack::{Obligation, Pack, PackSet, Rule};
use crate::tier::{TestingDepth, Tier, TierCatalogue};

/// A pack and version that took part in a classification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PackVersion {
    /// Pack id.
    pub id: String,
    /// Pack version.
    pub version: String,
}

/// An obligation that applies to the system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AppliedObligation {
    /// The obligation.
    #[serde(flatten)]
    pub obligation: Obligation,
    /// The pack it comes from.
    pub pack: String,
    /// Jurisdiction of the rule(s) that added it.
    pub jurisdiction: String,
    /// The date from which it applies (the later of the rule's and the obligation's).
    pub effective_from: NaiveDate,
    /// Rules that added it.
    pub rules: Vec<String>,
}

/// A rule that fired, with the facts that made it fire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FiredRule {
    /// Rule id.
    pub rule: String,
    /// Pack id.
    pub pack: String,
    /// Rule title.
    pub title: String,
    /// Source citation.
    pub source: String,
    /// Jurisdiction.
    pub jurisdiction: String,
    /// Tier the rule assigns.
    pub tier: Tier,
    /// The conditions that held (or failed, under `not`) and the values they saw.
    pub because: Vec<Evidence>,
    /// The rule's note, if any.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// A rule that may fire once a question is answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PendingRule {
    /// Rule id.
    pub rule: String,
    /// Rule title.
    pub title: String,
    /// Tier it would assign.
    pub tier: Tier,
    /// Whether it would make registration mandatory.
    pub registration: bool,
}

/// A fact the classification needs but was not told.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Question {
    /// Fact path.
    pub fact: String,
    /// The question to ask.
    pub question: String,
    /// Rules whose outcome depends on it.
    pub rules: Vec<PendingRule>,
}

/// A rule not yet in force on the classification date that fires or may fire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UpcomingRule {
    /// Rule id.
    pub rule: String,
    /// Rule title.
    pub title: String,
    /// Source citation.
    pub source: String,
    /// Tier it will assign.
    pub tier: Tier,
    /// Date it comes into force.
    pub applies_from: NaiveDate,
    /// `true` if it will fire on the facts given, `unknown` if that depends on open questions.
    pub fires: Truth,
    /// Obligations it will add.
    pub obligations: Vec<String>,
}

/// Why registration is (or may be) mandatory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RegistrationReason {
    /// Rule id.
    pub rule: String,
    /// Rule title.
    pub title: String,
    /// Source citation.
    pub source: String,
    /// Jurisdiction.
    pub jurisdiction: String,
}

/// Whether the system must be registered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Registration {
    /// Registration (or filing) is mandatory.
    pub mandatory: bool,
    /// The rules that make it so.
    pub reasons: Vec<RegistrationReason>,
    /// Registration may become mandatory once open questions are answered.
    pub possibly_mandatory: bool,
}

/// The result of classifying a system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Classification {
    /// The date the classification is evaluated as of.
    pub as_of: NaiveDate,
    /// The tier established by the facts given.
    pub tier: Tier,
    /// The highest tier the system could reach once open questions are answered; equal to
    /// `tier` when `complete`.
    pub worst_case_tier: Tier,
    /// No question is open: the tier cannot change without a change of facts.
    pub complete: bool,
    /// Testing and assessment depth the tier requires.
    pub testing: TestingDepth,
    /// Registration duty.
    pub registration: Registration,
    /// Obligations that apply on `as_of`.
    pub obligations: Vec<AppliedObligation>,
    /// Obligations of fired rules that start applying after `as_of`.
    pub upcoming_obligations: Vec<AppliedObligation>,
    /// Rules that fired, with their reasons.
    pub fired: Vec<FiredRule>,
    /// Questions to answer, with the rules that depend on them.
    pub needs_info: Vec<Question>,
    /// Rules that come into force after `as_of` and fire or may fire.
    pub upcoming: Vec<UpcomingRule>,
    /// Packs used.
    pub packs: Vec<PackVersion>,
}

/// The change between two classifications of the same system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ClassificationDiff {
    /// Tier before (none for the first classification).
    pub tier_before: Option<Tier>,
    /// Tier after.
    pub tier_after: Tier,
    /// Obligation ids added.
    pub added: Vec<String>,
    /// Obligation ids removed.
    pub removed: Vec<String>,
    /// Registration duty before.
    pub registration_before: Option<bool>,
    /// Registration duty after.
    pub registration_after: bool,
}

impl ClassificationDiff {
    /// Compares two classifications.
    pub fn between(before: Option<&Classification>, after: &Classification) -> Self {
        let ids = |c: &Classification| -> Vec<String> {
            c.obligations
                .iter()
                .map(|o| o.obligation.id.clone())
                .collect()
        };
        let after_ids = ids(after);
        let before_ids = before.map(ids).unwrap_or_default();
        ClassificationDiff {
            tier_before: before.map(|b| b.tier),
            tier_after: after.tier,
            added: after_ids
                .iter()
                .filter(|i| !before_ids.contains(i))
                .cloned()
                .collect(),
            removed: before_ids
                .iter()
                .filter(|i| !after_ids.contains(i))
                .cloned()
                .collect(),
            registration_before: before.map(|b| b.registration.mandatory),
            registration_after: after.registration.mandatory,
        }
    }

    /// Whether anything changed.
    pub fn is_empty(&self) -> bool {
        self.tier_before == Some(self.tier_after)
            && self.added.is_empty()
            && self.removed.is_empty()
            && self.registration_before == Some(self.registration_after)
    }
}

/// Classifies systems with a set of packs and a tier catalogue.
#[derive(Debug, Clone)]
pub struct Classifier {
    packs: PackSet,
    tiers: TierCatalogue,
}

impl Classifier {
    /// Builds a classifier.
    pub fn new(packs: PackSet, tiers: TierCatalogue) -> Self {
        Classifier { packs, tiers }
    }

    /// The packs.
    pub fn packs(&self) -> &PackSet {
        &self.packs
    }

    /// Mutable access to the packs (to override parameters).
    pub fn packs_mut(&mut self) -> &mut PackSet {
        &mut self.packs
    }

    /// The tier catalogue.
    pub fn tiers(&self) -> &TierCatalogue {
        &self.tiers
    }

    /// Classifies `facts` as of `as_of`.
    pub fn classify(&self, facts: &SystemFacts, as_of: NaiveDate) -> Classification {
        let view = FactView::new(facts);
        let mut tier = Tier::Minimal;
        let mut worst = Tier::Minimal;
        let mut fired = Vec::new();
        let mut obligations: BTreeMap<String, AppliedObligation> = BTreeMap::new();
        let mut questions: BTreeMap<String, Vec<PendingRule>> = BTreeMap::new();
        let mut upcoming = Vec::new();
        let mut reasons = Vec::new();
        let mut possibly_mandatory = false;

        for pack in self.packs.packs() {
            for rule in &pack.rules {
                let truth = expr::eval(&rule.condition, &view, &pack.params);
                if !rule.in_force(as_of) {
                    if rule.applies_from > as_of && truth != Truth::False {
                        upcoming.push(UpcomingRule {
                            rule: rule.id.clone(),
                            title: rule.title.clone(),
                            source: rule.source.clone(),
                            tier: rule.tier,
                            applies_from: rule.applies_from,
                            fires: truth,
                            obligations: rule.obligations.clone(),
                        });
                    }
                    continue;
                }
                match truth {
                    Truth::False => {}
                    Truth::True => {
                        tier = tier.max(rule.tier);
                        worst = worst.max(rule.tier);
                        let mut because = Vec::new();
                        expr::explain(
                            &rule.condition,
                            &view,
                            &pack.params,
                            Truth::True,
                            &mut because,
                        );
                        fired.push(FiredRule {
                            rule: rule.id.clone(),
                            pack: pack.id.clone(),
                            title: rule.title.clone(),
                            source: rule.source.clone(),
                            jurisdiction: rule.jurisdiction.clone(),
                            tier: rule.tier,
                            because,
                            note: rule.note.clone(),
                        });
                        if rule.registration {
                            reasons.push(RegistrationReason {
                                rule: rule.id.clone(),
                                title: rule.title.clone(),
                                source: rule.source.clone(),
                                jurisdiction: rule.jurisdiction.clone(),
                            });
                        }
                        add_obligations(pack, rule, &mut obligations);
                    }
                    Truth::Unknown => {
                        worst = worst.max(rule.tier);
                        possibly_mandatory |= rule.registration;
                        let mut facts = Vec::new();
                        expr::unknowns(&rule.condition, &view, &pack.params, &mut facts);
                        for f in facts {
                            questions.entry(f).or_default().push(PendingRule {
                                rule: rule.id.clone(),
                                title: rule.title.clone(),
                                tier: rule.tier,
                                registration: rule.registration,
                            });
                        }
                    }
                }
            }
        }

        let (now, later): (Vec<_>, Vec<_>) = obligations
            .into_values()
            .partition(|o| o.effective_from <= as_of);
        let mut needs_info: Vec<Question> = questions
            .into_iter()
            .map(|(fact, rules)| Question {
                question: fact_def(&fact)
                    .map_or_else(|| format!("What is '{fact}'?"), |d| d.question.to_string()),
                fact,
                rules,
            })
            .collect();
        // Most consequential questions first.
        needs_info.sort_by(|a, b| {
            let top = |q: &Question| q.rules.iter().map(|r| r.tier).max();
            top(b).cmp(&top(a)).then_with(|| a.fact.cmp(&b.fact))
        });
        fired.sort_by(|a, b| b.tier.cmp(&a.tier).then_with(|| a.rule.cmp(&b.rule)));
        let mandatory = !reasons.is_empty();
        Classification {
            as_of,
            tier,
            worst_case_tier: worst,
            complete: needs_info.is_empty(),
            testing: self.tiers.spec(tier).testing.clone(),
            registration: Registration {
                mandatory,
                reasons,
                possibly_mandatory: !mandatory && possibly_mandatory,
            },
            obligations: now,
            upcoming_obligations: later,
            fired,
            needs_info,
            upcoming,
            packs: self
                .packs
                .packs()
                .iter()
                .map(|p| PackVersion {
                    id: p.id.clone(),
                    version: p.version.clone(),
                })
                .collect(),
        }
    }
}

fn add_obligations(pack: &Pack, rule: &Rule, out: &mut BTreeMap<String, AppliedObligation>) {
    for id in &rule.obligations {
        let Some(o) = pack.obligations.get(id) else {
            continue;
        };
        let effective_from = o
            .applies_from
            .map_or(rule.applies_from, |d| d.max(rule.applies_from));
        let entry = out.entry(id.clone()).or_insert_with(|| AppliedObligation {
            obligation: o.clone(),
            pack: pack.id.clone(),
            jurisdiction: rule.jurisdiction.clone(),
            effective_from,
            rules: Vec::new(),
        });
        entry.effective_from = entry.effective_from.min(effective_from);
        entry.rules.push(rule.id.clone());
    }
}
