//! Example fact documents, used by tests and the demo.

use crate::facts::*;

/// Facts with every field set (used to check the fact table against the struct).
pub fn fully_populated() -> SystemFacts {
    SystemFacts {
        name: Some("x".into()),
        version: Some("1".into()),
        provider: Some(Provider {
            name: Some("p".into()),
            code: Some("91110000600037341L".into()),
            country: Some("CN".into()),
        }),
        intended_purpose: Some("x".into()),
        modalities_in: Some(vec![Modality::Text]),
        modalities_out: Some(vec![Modality::Text]),
        functions: Some(vec![Function::Conversation]),
        sectors: Some(vec![Sector::General]),
        use_cases: Some(vec![]),
        practices: Some(vec![]),
        deployment_contexts: Some(vec![DeploymentContext::Online]),
        jurisdictions: Some(vec!["CN".into()]),
        public_facing: Some(true),
        public_opinion_attributes: Some(true),
        social_mobilisation: Some(false),
        users: Some(1),
        training_compute_flop: Some(1.0),
        parameters: Some(1),
        general_purpose: Some(true),
        gpai_provider: Some(true),
        open_weights: Some(false),
        personal_information: Some(true),
        sensitive_personal_information: Some(false),
        biometric_data: Some(false),
        minors_data: Some(false),
        autonomy: Some(Autonomy::Advisory),
        human_oversight: Some(true),
        annex_i_product: Some(false),
        third_party_conformity_assessment: Some(false),
        derogation: Some(Derogation::None),
        profiling: Some(false),
        medical_or_safety_purpose: Some(false),
        public_authority_deployer: Some(false),
        military_only: Some(false),
        research_only: Some(false),
        lifecycle_stage: Some(LifecycleStage::Operation),
    }
}
