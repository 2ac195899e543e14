//! Golden tests for every rule of every shipped pack, plus property tests of the classifier.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::BTreeSet;
use std::path::Path;

use aigov_policy::classify::Classification;
use aigov_policy::{SystemFacts, Tier, builtin};
use chrono::NaiveDate;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    case: Vec<Case>,
}

/// One golden case: facts, a date and what must come out.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    #[serde(default = "default_date")]
    as_of: NaiveDate,
    facts: SystemFacts,
    tier: Tier,
    #[serde(default)]
    worst_case_tier: Option<Tier>,
    #[serde(default)]
    fires: Vec<String>,
    #[serde(default)]
    not_fires: Vec<String>,
    #[serde(default)]
    obligations: Vec<String>,
    #[serde(default)]
    not_obligations: Vec<String>,
    #[serde(default)]
    registration: Option<bool>,
    #[serde(default)]
    needs: Vec<String>,
    #[serde(default)]
    upcoming: Vec<String>,
    #[serde(default)]
    complete: Option<bool>,
}

fn default_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 28).unwrap()
}

fn check(case: &Case, c: &Classification) -> Vec<String> {
    let mut errs = Vec::new();
    let fired: BTreeSet<&str> = c.fired.iter().map(|f| f.rule.as_str()).collect();
    let obligations: BTreeSet<&str> = c
        .obligations
        .iter()
        .map(|o| o.obligation.id.as_str())
        .collect();
    let needs: BTreeSet<&str> = c.needs_info.iter().map(|q| q.fact.as_str()).collect();
    let upcoming: BTreeSet<&str> = c.upcoming.iter().map(|u| u.rule.as_str()).collect();
    if c.tier != case.tier {
        errs.push(format!(
            "tier: expected {}, got {} (fired: {fired:?})",
            case.tier, c.tier
        ));
    }
    if let Some(w) = case.worst_case_tier
        && c.worst_case_tier != w
    {
        errs.push(format!(
            "worst_case_tier: expected {w}, got {}",
            c.worst_case_tier
        ));
    }
    for r in &case.fires {
        if !fired.contains(r.as_str()) {
            errs.push(format!("rule {r} did not fire (fired: {fired:?})"));
        }
    }
    for r in &case.not_fires {
        if fired.contains(r.as_str()) {
            errs.push(format!("rule {r} fired but must not"));
        }
    }
    for o in &case.obligations {
        if !obligations.contains(o.as_str()) {
            errs.push(format!("obligation {o} missing (have: {obligations:?})"));
        }
    }
    for o in &case.not_obligations {
        if obligations.contains(o.as_str()) {
            errs.push(format!("obligation {o} present but must not be"));
        }
    }
    if let Some(r) = case.registration
        && c.registration.mandatory != r
    {
        errs.push(format!(
            "registration: expected {r}, got {}",
            c.registration.mandatory
        ));
    }
    for n in &case.needs {
        if !needs.contains(n.as_str()) {
            errs.push(format!("question about {n} missing (asked: {needs:?})"));
        }
    }
    for u in &case.upcoming {
        if !upcoming.contains(u.as_str()) {
            errs.push(format!("upcoming rule {u} missing (have: {upcoming:?})"));
        }
    }
    if let Some(done) = case.complete
        && c.complete != done
    {
        errs.push(format!("complete: expected {done}, got {}", c.complete));
    }
    errs
}

#[test]
fn golden_cases_and_rule_coverage() {
    let classifier = builtin::classifier().unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut failures = Vec::new();
    let mut covered = BTreeSet::new();
    let mut count = 0;
    for path in files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
    {
        let text = std::fs::read_to_string(path).unwrap();
        let file: CaseFile =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for case in file.case {
            count += 1;
            let c = classifier.classify(&case.facts, case.as_of);
            covered.extend(case.fires.iter().cloned());
            for e in check(&case, &c) {
                failures.push(format!(
                    "{} / {}: {e}",
                    path.file_name().unwrap().to_string_lossy(),
                    case.name
                ));
            }
        }
    }
    let uncovered: Vec<String> = classifier
        .packs()
        .packs()
        .iter()
        .flat_map(|p| p.rules.iter().map(|r| r.id.clone()))
        .filter(|id| !covered.contains(id))
        .collect();
    assert!(count > 0, "no golden cases found in {}", dir.display());
    assert!(
        failures.is_empty(),
        "{} failing golden checks:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        uncovered.is_empty(),
        "rules without a golden case that fires them: {uncovered:?}"
    );
}

#[test]
fn shipped_packs_lint_clean() {
    for (name, text) in builtin::PACKS {
        let (pack, diags) = aigov_policy::load_pack(name, text);
        assert!(pack.is_some(), "{name}: {diags:#?}");
        assert!(
            diags.is_empty(),
            "{name}: {}",
            diags
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

mod properties {
    use super::*;
    use aigov_policy::facts::*;
    use proptest::prelude::*;

    fn subset<T: Clone + std::fmt::Debug + 'static>(all: Vec<T>) -> impl Strategy<Value = Vec<T>> {
        proptest::sample::subsequence(all.clone(), 0..=all.len().min(4))
    }

    fn facts() -> impl Strategy<Value = SystemFacts> {
        let juris = subset(vec!["CN".to_string(), "EU".to_string(), "US".to_string()]);
        let funcs = subset(vec![
            Function::GenerationSynthesis,
            Function::PersonalisedPush,
            Function::RankingSelection,
            Function::SearchFiltering,
            Function::SchedulingDecision,
            Function::EmotionRecognition,
            Function::BiometricIdentification,
            Function::Conversation,
            Function::Profiling,
            Function::DeepSynthesis,
            Function::BiometricCategorisation,
        ]);
        let uses = subset(vec![
            UseCase::Recruitment,
            UseCase::CreditScoring,
            UseCase::EmotionRecognition,
            UseCase::ExamProctoring,
            UseCase::ElectionInfluence,
            UseCase::DeepFake,
            UseCase::RemoteBiometricIdentification,
            UseCase::FraudDetection,
            UseCase::NewsFeed,
            UseCase::WorkerManagement,
            UseCase::EmergencyTriage,
        ]);
        let practices = subset(vec![
            Practice::SocialScoring,
            Practice::ManipulativeTechniques,
            Practice::UntargetedFacialScraping,
        ]);
        let ctx = subset(vec![
            DeploymentContext::Workplace,
            DeploymentContext::Online,
            DeploymentContext::EducationInstitution,
        ]);
        let derog = prop_oneof![
            Just(Derogation::None),
            Just(Derogation::NarrowProceduralTask),
            Just(Derogation::PreparatoryTask)
        ];
        (
            (juris, funcs, uses, practices, ctx),
            (
                any::<bool>(),
                any::<bool>(),
                any::<bool>(),
                any::<bool>(),
                any::<bool>(),
            ),
            (
                any::<bool>(),
                any::<bool>(),
                derog,
                prop_oneof![Just(1e20f64), Just(5e23), Just(2e25)],
                any::<bool>(),
            ),
            (any::<bool>(), 0u64..20_000_000),
        )
            .prop_map(
                |(
                    (j, f, u, p, c),
                    (pf, po, sm, pi, gp),
                    (prof, med, d, flop, annex),
                    (bio, users),
                )| SystemFacts {
                    jurisdictions: Some(j),
                    functions: Some(f),
                    use_cases: Some(u),
                    practices: Some(p),
                    deployment_contexts: Some(c),
                    public_facing: Some(pf),
                    public_opinion_attributes: Some(po),
                    social_mobilisation: Some(sm),
                    personal_information: Some(pi),
                    general_purpose: Some(gp),
                    gpai_provider: Some(gp),
                    profiling: Some(prof),
                    medical_or_safety_purpose: Some(med),
                    derogation: Some(d),
                    training_compute_flop: Some(flop),
                    annex_i_product: Some(annex),
                    third_party_conformity_assessment: Some(annex),
                    biometric_data: Some(bio),
                    users: Some(users),
                    ..SystemFacts::default()
                },
            )
    }

    /// Forget a random selection of the facts.
    fn forget(f: &SystemFacts, mask: u32) -> SystemFacts {
        let mut g = f.clone();
        let bit = |i: u32| mask & (1 << i) != 0;
        if bit(0) {
            g.jurisdictions = None;
        }
        if bit(1) {
            g.functions = None;
        }
        if bit(2) {
            g.use_cases = None;
        }
        if bit(3) {
            g.practices = None;
        }
        if bit(4) {
            g.deployment_contexts = None;
        }
        if bit(5) {
            g.public_facing = None;
        }
        if bit(6) {
            g.public_opinion_attributes = None;
        }
        if bit(7) {
            g.social_mobilisation = None;
        }
        if bit(8) {
            g.personal_information = None;
        }
        if bit(9) {
            g.general_purpose = None;
            g.gpai_provider = None;
        }
        if bit(10) {
            g.profiling = None;
        }
        if bit(11) {
            g.medical_or_safety_purpose = None;
        }
        if bit(12) {
            g.derogation = None;
        }
        if bit(13) {
            g.training_compute_flop = None;
        }
        if bit(14) {
            g.annex_i_product = None;
            g.third_party_conformity_assessment = None;
        }
        if bit(15) {
            g.biometric_data = None;
        }
        if bit(16) {
            g.users = None;
        }
        g
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        /// Whatever the unknown facts turn out to be, the real tier lies between the tier
        /// established with them unknown and the worst case announced: leaving facts out never
        /// yields a lower tier than the worst case.
        #[test]
        fn unknown_facts_never_lower_the_worst_case(full in facts(), mask in any::<u32>(), days in 0i64..1500) {
            let classifier = builtin::classifier().unwrap();
            let date = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap() + chrono::Duration::days(days);
            let partial = forget(&full, mask);
            let known = classifier.classify(&full, date);
            let guessed = classifier.classify(&partial, date);
            prop_assert!(guessed.worst_case_tier >= known.tier,
                "worst case {} below the real tier {}", guessed.worst_case_tier, known.tier);
            prop_assert!(guessed.tier <= known.tier,
                "established tier {} above the real tier {}", guessed.tier, known.tier);
            if guessed.complete {
                prop_assert_eq!(guessed.tier, known.tier);
            }
            let real: BTreeSet<_> = known.obligations.iter().map(|o| o.obligation.id.clone()).collect();
            for o in &guessed.obligations {
                prop_assert!(real.contains(&o.obligation.id), "obligation {} not real", o.obligation.id);
            }
        }
    }
}
