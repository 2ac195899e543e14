//! The fact schema: everything a rule pack may ask about an AI system.
//!
//! Every field is optional. A field that is absent is **unknown**, never false: rules that
//! depend on it evaluate to "unknown" and the classification asks the question instead of
//! silently assuming the harmless answer. A list that is present is taken as complete
//! (`functions = ["generation_synthesis"]` means "and no other function").
//!
//! The table [`FACTS`] describes every fact path that rules may reference, with its kind, its
//! allowed values and the question to ask when it is missing. A unit test keeps the table and
//! the struct in step.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Facts about one AI system, as declared by its provider (a `system.toml` or JSON document).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SystemFacts {
    /// Name of the system as shown to the public.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Version label of the system (free text, e.g. `2.1.0`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The provider (the organisation that develops the system or places it on the market).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<Provider>,
    /// Intended purpose, in the provider's words (also the public disclosure text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intended_purpose: Option<String>,
    /// Input modalities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modalities_in: Option<Vec<Modality>>,
    /// Output modalities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modalities_out: Option<Vec<Modality>>,
    /// What the system does (complete list).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub functions: Option<Vec<Function>>,
    /// Sectors the system is used in (complete list).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sectors: Option<Vec<Sector>>,
    /// Specific use cases, fine-grained enough to decide the EU AI Act Annex III points and the
    /// Chinese filing triggers (complete list).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_cases: Option<Vec<UseCase>>,
    /// Practices named in EU AI Act art. 5 that the system performs (complete list; empty means
    /// "none of them").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub practices: Option<Vec<Practice>>,
    /// Settings in which the system is deployed (complete list).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_contexts: Option<Vec<DeploymentContext>>,
    /// Where the system is offered or its output used: ISO 3166 alpha-2 codes and `EU`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jurisdictions: Option<Vec<String>>,
    /// Whether the system is offered to the public (rather than used internally).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_facing: Option<bool>,
    /// Whether the service has public-opinion attributes (forums, news, live streaming, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_opinion_attributes: Option<bool>,
    /// Whether the service has social-mobilisation capability.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub social_mobilisation: Option<bool>,
    /// Number of (monthly active) users or people affected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<u64>,
    /// Cumulative compute used to train the model, in floating-point operations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training_compute_flop: Option<f64>,
    /// Number of model parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<u64>,
    /// Whether the system is (or is built on) a general-purpose AI model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub general_purpose: Option<bool>,
    /// Whether the provider places its own general-purpose model on the market (GPAI provider).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpai_provider: Option<bool>,
    /// Whether the model weights are released openly (free and open-source licence).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_weights: Option<bool>,
    /// Whether personal information is processed (training, input or output).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub personal_information: Option<bool>,
    /// Whether sensitive personal information is processed (PIPL art. 28, GDPR art. 9).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sensitive_personal_information: Option<bool>,
    /// Whether biometric data is processed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub biometric_data: Option<bool>,
    /// Whether data of minors is processed, or the service is aimed at minors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minors_data: Option<bool>,
    /// How autonomously the system acts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autonomy: Option<Autonomy>,
    /// Whether a human reviews outputs before they take effect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub human_oversight: Option<bool>,
    /// Whether the system is a safety component of a product (or is itself a product) covered by
    /// EU harmonisation legislation listed in Annex I of the AI Act.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annex_i_product: Option<bool>,
    /// Whether that product needs a third-party conformity assessment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub third_party_conformity_assessment: Option<bool>,
    /// EU AI Act art. 6(3) derogation claimed for an Annex III system: the condition it meets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub derogation: Option<Derogation>,
    /// Whether the system profiles natural persons (GDPR art. 4(4)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profiling: Option<bool>,
    /// Whether the purpose is medical or safety (the art. 5(1)(f) exception).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub medical_or_safety_purpose: Option<bool>,
    /// Whether the deployer is a public authority or provides public services.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_authority_deployer: Option<bool>,
    /// Whether the system is used only for military, defence or national-security purposes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub military_only: Option<bool>,
    /// Whether the system is used only for scientific research and development.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub research_only: Option<bool>,
    /// Current lifecycle stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle_stage: Option<LifecycleStage>,
}

/// The organisation that provides the system.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Provider {
    /// Legal name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Registration code: the 18-character Unified Social Credit Code for Chinese entities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Country of establishment (ISO 3166 alpha-2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

macro_rules! fact_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $text:literal,)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vm])* $variant,)*
        }
        impl $name {
            /// Every value, in declaration order, as written in fact files.
            pub const ALL: &'static [&'static str] = &[$($text,)*];
            /// The value as written in fact files.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text,)* }
            }
        }
    };
}

fact_enum!(
    /// A kind of data going into or coming out of the system.
    Modality {
        /// Natural-language text.
        Text = "text",
        /// Still images.
        Image = "image",
        /// Audio, speech, music.
        Audio = "audio",
        /// Video.
        Video = "video",
        /// Source code.
        Code = "code",
        /// Structured / tabular records.
        Tabular = "tabular",
        /// Sensor and telemetry streams.
        Sensor = "sensor",
        /// Biometric samples (faces, voices, fingerprints, gait).
        Biometric = "biometric",
        /// Virtual scenes, 3D, VR/AR.
        VirtualScene = "virtual_scene",
        /// Actions on systems or the physical world (agents, robots).
        Action = "action",
    }
);

fact_enum!(
    /// A function the system performs.
    Function {
        /// Generation or synthesis of content (text, images, audio, video, virtual scenes).
        GenerationSynthesis = "generation_synthesis",
        /// Personalised recommendation / push.
        PersonalisedPush = "personalised_push",
        /// Ranking and selection.
        RankingSelection = "ranking_selection",
        /// Search and filtering.
        SearchFiltering = "search_filtering",
        /// Scheduling and decision-making.
        SchedulingDecision = "scheduling_decision",
        /// Deep synthesis: editing faces, voices or scenes of real people or places.
        DeepSynthesis = "deep_synthesis",
        /// Conversational interaction with natural persons (chatbot, assistant).
        Conversation = "conversation",
        /// Identifying natural persons from biometric data (one-to-many).
        BiometricIdentification = "biometric_identification",
        /// Verifying a claimed identity (one-to-one).
        BiometricVerification = "biometric_verification",
        /// Categorising natural persons from biometric data.
        BiometricCategorisation = "biometric_categorisation",
        /// Inferring emotions or intentions from biometric data.
        EmotionRecognition = "emotion_recognition",
        /// Profiling natural persons.
        Profiling = "profiling",
        /// Classification or prediction over records.
        Prediction = "prediction",
        /// Content moderation.
        ContentModeration = "content_moderation",
        /// Spam, malware or fraud filtering.
        SpamFiltering = "spam_filtering",
        /// Autonomous control of a physical system (vehicles, robots, machinery).
        AutonomousControl = "autonomous_control",
        /// Acting as an agent that uses tools or takes actions on behalf of a user.
        Agentic = "agentic",
    }
);

fact_enum!(
    /// A sector of application.
    Sector {
        /// Biometrics.
        Biometrics = "biometrics",
        /// Critical infrastructure (digital, road traffic, water, gas, heating, electricity).
        CriticalInfrastructure = "critical_infrastructure",
        /// Education and vocational training.
        Education = "education",
        /// Employment and workers management.
        Employment = "employment",
        /// Access to essential private and public services and benefits.
        EssentialServices = "essential_services",
        /// Credit and lending.
        Credit = "credit",
        /// Insurance.
        Insurance = "insurance",
        /// Law enforcement.
        LawEnforcement = "law_enforcement",
        /// Migration, asylum and border control.
        Migration = "migration",
        /// Administration of justice.
        Justice = "justice",
        /// Elections and democratic processes.
        Elections = "elections",
        /// Healthcare and medical devices.
        Healthcare = "healthcare",
        /// Autonomous driving and vehicles.
        AutonomousDriving = "autonomous_driving",
        /// Finance other than credit and insurance.
        Finance = "finance",
        /// News and information services.
        News = "news",
        /// Social media and online platforms.
        SocialMedia = "social_media",
        /// E-commerce.
        Ecommerce = "ecommerce",
        /// Entertainment and games.
        Entertainment = "entertainment",
        /// Public administration.
        PublicAdministration = "public_administration",
        /// Telecommunications.
        Telecommunications = "telecommunications",
        /// Energy.
        Energy = "energy",
        /// Transport other than autonomous driving.
        Transport = "transport",
        /// Manufacturing and industrial machinery.
        Manufacturing = "manufacturing",
        /// Defence and national security.
        Defence = "defence",
        /// Scientific research.
        Research = "research",
        /// General / horizontal (no particular sector).
        General = "general",
    }
);

fact_enum!(
    /// A specific use case. The first groups follow the points of Annex III of the EU AI Act.
    UseCase {
        /// Annex III 1(a): remote biometric identification (not one-to-one verification).
        RemoteBiometricIdentification = "remote_biometric_identification",
        /// Annex III 1(b): biometric categorisation by sensitive or protected attributes.
        BiometricCategorisationSensitive = "biometric_categorisation_sensitive",
        /// Annex III 1(c): emotion recognition.
        EmotionRecognition = "emotion_recognition",
        /// Annex III 2: safety component in the management and operation of critical digital
        /// infrastructure, road traffic, or the supply of water, gas, heating or electricity.
        CriticalInfrastructureSafety = "critical_infrastructure_safety",
        /// Annex III 3(a): determining access or admission to education and training.
        EducationAdmission = "education_admission",
        /// Annex III 3(b): evaluating learning outcomes.
        EducationEvaluation = "education_evaluation",
        /// Annex III 3(c): assessing the appropriate level of education.
        EducationLevelAssessment = "education_level_assessment",
        /// Annex III 3(d): monitoring prohibited behaviour of students during tests.
        ExamProctoring = "exam_proctoring",
        /// Annex III 4(a): recruitment or selection (job ads, filtering applications, evaluating
        /// candidates).
        Recruitment = "recruitment",
        /// Annex III 4(b): decisions on terms of work relationships, promotion, termination, task
        /// allocation, or monitoring and evaluating workers.
        WorkerManagement = "worker_management",
        /// Annex III 5(a): eligibility for essential public assistance benefits and services.
        PublicBenefits = "public_benefits",
        /// Annex III 5(b): creditworthiness evaluation or credit scoring of natural persons.
        CreditScoring = "credit_scoring",
        /// Fraud detection in financial services (excepted from Annex III 5(b)).
        FraudDetection = "fraud_detection",
        /// Annex III 5(c): risk assessment and pricing in life and health insurance.
        LifeHealthInsurancePricing = "life_health_insurance_pricing",
        /// Annex III 5(d): evaluating emergency calls, dispatching emergency services, triage.
        EmergencyTriage = "emergency_triage",
        /// Annex III 6(a): assessing the risk of a person becoming a victim of crime.
        VictimRiskAssessment = "victim_risk_assessment",
        /// Annex III 6(b) and 7(a): polygraphs and similar tools.
        Polygraph = "polygraph",
        /// Annex III 6(c): evaluating the reliability of evidence.
        EvidenceReliability = "evidence_reliability",
        /// Annex III 6(d): assessing the risk of offending or re-offending.
        OffendingRisk = "offending_risk",
        /// Annex III 6(e): profiling in the detection, investigation or prosecution of offences.
        CriminalProfiling = "criminal_profiling",
        /// Annex III 7(b): assessing security, irregular-migration or health risks of persons.
        MigrationRiskAssessment = "migration_risk_assessment",
        /// Annex III 7(c): examining applications for asylum, visa or residence permits.
        AsylumVisaExamination = "asylum_visa_examination",
        /// Annex III 7(d): detecting, recognising or identifying persons in migration contexts
        /// (except verification of travel documents).
        BorderIdentification = "border_identification",
        /// Annex III 8(a): assisting a judicial authority in researching and interpreting facts
        /// and the law, or alternative dispute resolution.
        JudicialAssistance = "judicial_assistance",
        /// Annex III 8(b): influencing the outcome of an election or referendum or voting
        /// behaviour.
        ElectionInfluence = "election_influence",
        /// Tools to organise or optimise political campaigns not directly exposed to persons
        /// (excepted from Annex III 8(b)).
        CampaignLogistics = "campaign_logistics",
        /// Generating or manipulating image, audio or video that resembles real persons, objects,
        /// places or events (deep fakes, art. 50(4)).
        DeepFake = "deep_fake",
        /// Generating text published to inform the public on matters of public interest
        /// (art. 50(4)).
        PublicInterestText = "public_interest_text",
        /// Generating intimate imagery of real persons.
        IntimateImagery = "intimate_imagery",
        /// Medical diagnosis or treatment support.
        MedicalDiagnosis = "medical_diagnosis",
        /// Driving functions of a vehicle.
        Driving = "driving",
        /// News or information recommendation feeds.
        NewsFeed = "news_feed",
        /// Filtering spam, malware or abuse.
        SpamFilter = "spam_filter",
        /// Customer service chat.
        CustomerService = "customer_service",
    }
);

fact_enum!(
    /// Practices named in art. 5(1) of the EU AI Act.
    Practice {
        /// 5(1)(a): subliminal, purposefully manipulative or deceptive techniques that materially
        /// distort behaviour and cause significant harm.
        ManipulativeTechniques = "manipulative_techniques",
        /// 5(1)(b): exploiting vulnerabilities due to age, disability or a social or economic
        /// situation.
        ExploitingVulnerabilities = "exploiting_vulnerabilities",
        /// 5(1)(c): social scoring leading to detrimental or unfavourable treatment.
        SocialScoring = "social_scoring",
        /// 5(1)(d): assessing the risk of a person committing a crime based solely on profiling
        /// or personality traits.
        CrimePredictionProfilingOnly = "crime_prediction_profiling_only",
        /// 5(1)(e): untargeted scraping of facial images to build facial-recognition databases.
        UntargetedFacialScraping = "untargeted_facial_scraping",
        /// 5(1)(g): biometric categorisation inferring race, political opinions, trade-union
        /// membership, religious or philosophical beliefs, sex life or sexual orientation.
        SensitiveBiometricCategorisation = "sensitive_biometric_categorisation",
        /// 5(1)(h): real-time remote biometric identification in publicly accessible spaces for
        /// law enforcement.
        RealtimeRemoteBiometricIdLawEnforcement = "realtime_remote_biometric_id_law_enforcement",
        /// Generating non-consensual intimate imagery of identifiable persons (2026 Digital
        /// Omnibus addition).
        NonConsensualIntimateImagery = "non_consensual_intimate_imagery",
    }
);

fact_enum!(
    /// Settings in which a system is deployed.
    DeploymentContext {
        /// Workplaces.
        Workplace = "workplace",
        /// Education institutions.
        EducationInstitution = "education_institution",
        /// Publicly accessible spaces.
        PublicSpace = "public_space",
        /// Online services for consumers.
        Online = "online",
        /// Inside a product (embedded).
        Product = "product",
        /// Internal use by the provider only.
        Internal = "internal",
        /// Healthcare facilities.
        HealthcareFacility = "healthcare_facility",
        /// Police, courts, prisons.
        LawEnforcementAgency = "law_enforcement_agency",
        /// Border and migration authorities.
        BorderControl = "border_control",
    }
);

fact_enum!(
    /// Degree of autonomy.
    Autonomy {
        /// Output is advice only; a human decides.
        Advisory = "advisory",
        /// A human approves each action before it takes effect.
        HumanInTheLoop = "human_in_the_loop",
        /// Acts alone, a human monitors and can intervene.
        HumanOnTheLoop = "human_on_the_loop",
        /// Acts alone without real-time human oversight.
        Full = "full",
    }
);

fact_enum!(
    /// Conditions of art. 6(3) of the EU AI Act under which an Annex III system is not high-risk.
    Derogation {
        /// No derogation claimed.
        None = "none",
        /// (a) performs a narrow procedural task.
        NarrowProceduralTask = "narrow_procedural_task",
        /// (b) improves the result of a previously completed human activity.
        ImprovesHumanActivity = "improves_human_activity",
        /// (c) detects decision-making patterns without replacing or influencing human review.
        DetectsPatterns = "detects_patterns",
        /// (d) performs a preparatory task to an assessment.
        PreparatoryTask = "preparatory_task",
    }
);

fact_enum!(
    /// Lifecycle stages of an AI system (TC260 framework: design, R&D, testing, deployment,
    /// operation and maintenance, retirement).
    LifecycleStage {
        /// Requirements and design.
        Design = "design",
        /// Research and development, including training.
        Development = "development",
        /// Testing and evaluation before release.
        Testing = "testing",
        /// Deployment and release.
        Deployment = "deployment",
        /// Operation in service.
        Operation = "operation",
        /// Maintenance and updates.
        Maintenance = "maintenance",
        /// Retired from service.
        Retired = "retired",
    }
);

impl LifecycleStage {
    /// Every stage in order.
    pub const ORDER: [LifecycleStage; 7] = [
        Self::Design,
        Self::Development,
        Self::Testing,
        Self::Deployment,
        Self::Operation,
        Self::Maintenance,
        Self::Retired,
    ];

    /// Parses the written form of a stage.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ORDER.into_iter().find(|v| v.as_str() == s)
    }
}

/// The kind of a fact, as rules see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactKind {
    /// `true` / `false`.
    Bool,
    /// A number (integer or float).
    Number,
    /// Free text.
    Text,
    /// One value out of a closed set.
    Enum(&'static [&'static str]),
    /// A set of values out of a closed set.
    EnumSet(&'static [&'static str]),
    /// A set of free-text values (such as country codes).
    TextSet,
}

/// Description of a fact path that rules may reference.
#[derive(Debug, Clone, Copy)]
pub struct FactDef {
    /// Dotted path, e.g. `provider.country`.
    pub path: &'static str,
    /// Its kind.
    pub kind: FactKind,
    /// The question to ask when the fact is unknown.
    pub question: &'static str,
}

const fn def(path: &'static str, kind: FactKind, question: &'static str) -> FactDef {
    FactDef {
        path,
        kind,
        question,
    }
}

use FactKind::*;

/// Every fact path rules may reference.
pub const FACTS: &[FactDef] = &[
    def("name", Text, "What is the system called?"),
    def("version", Text, "Which version of the system is this?"),
    def("provider.name", Text, "What is the provider's legal name?"),
    def(
        "provider.code",
        Text,
        "What is the provider's registration code (Unified Social Credit Code for Chinese entities)?",
    ),
    def(
        "provider.country",
        Text,
        "In which country is the provider established (ISO 3166 alpha-2)?",
    ),
    def(
        "intended_purpose",
        Text,
        "What is the system's intended purpose?",
    ),
    def(
        "modalities_in",
        EnumSet(Modality::ALL),
        "Which kinds of input does the system take (all of them)?",
    ),
    def(
        "modalities_out",
        EnumSet(Modality::ALL),
        "Which kinds of output does the system produce (all of them)?",
    ),
    def(
        "functions",
        EnumSet(Function::ALL),
        "Which functions does the system perform (all of them)?",
    ),
    def(
        "sectors",
        EnumSet(Sector::ALL),
        "In which sectors is the system used (all of them)?",
    ),
    def(
        "use_cases",
        EnumSet(UseCase::ALL),
        "Which of the listed use cases does the system serve (all of them, or an empty list)?",
    ),
    def(
        "practices",
        EnumSet(Practice::ALL),
        "Does the system perform any practice listed in EU AI Act art. 5 (list them, or an empty list)?",
    ),
    def(
        "deployment_contexts",
        EnumSet(DeploymentContext::ALL),
        "In which settings is the system deployed (all of them)?",
    ),
    def(
        "jurisdictions",
        TextSet,
        "In which jurisdictions is the system offered or its output used (ISO 3166 codes and EU)?",
    ),
    def(
        "public_facing",
        Bool,
        "Is the system offered to the public?",
    ),
    def(
        "public_opinion_attributes",
        Bool,
        "Does the service have public-opinion attributes (forums, news, live streaming, social media)?",
    ),
    def(
        "social_mobilisation",
        Bool,
        "Does the service have social-mobilisation capability?",
    ),
    def(
        "users",
        Number,
        "How many users (monthly active) or affected persons does the system have?",
    ),
    def(
        "training_compute_flop",
        Number,
        "How much compute (floating-point operations) was used to train the model?",
    ),
    def(
        "parameters",
        Number,
        "How many parameters does the model have?",
    ),
    def(
        "general_purpose",
        Bool,
        "Is the system, or the model it is built on, a general-purpose AI model?",
    ),
    def(
        "gpai_provider",
        Bool,
        "Does the provider place its own general-purpose AI model on the market?",
    ),
    def(
        "open_weights",
        Bool,
        "Are the model weights released under a free and open-source licence?",
    ),
    def(
        "personal_information",
        Bool,
        "Does the system process personal information (training data, inputs or outputs)?",
    ),
    def(
        "sensitive_personal_information",
        Bool,
        "Does the system process sensitive personal information?",
    ),
    def(
        "biometric_data",
        Bool,
        "Does the system process biometric data?",
    ),
    def(
        "minors_data",
        Bool,
        "Does the system process minors' data or target minors?",
    ),
    def(
        "autonomy",
        Enum(Autonomy::ALL),
        "How autonomously does the system act?",
    ),
    def(
        "human_oversight",
        Bool,
        "Does a human review outputs before they take effect?",
    ),
    def(
        "annex_i_product",
        Bool,
        "Is the system a safety component of a product (or a product) covered by EU harmonisation legislation in AI Act Annex I?",
    ),
    def(
        "third_party_conformity_assessment",
        Bool,
        "Does that product require a third-party conformity assessment?",
    ),
    def(
        "derogation",
        Enum(Derogation::ALL),
        "Does the provider claim an AI Act art. 6(3) derogation, and on which ground (or none)?",
    ),
    def(
        "profiling",
        Bool,
        "Does the system profile natural persons?",
    ),
    def(
        "medical_or_safety_purpose",
        Bool,
        "Is the system used for medical or safety reasons?",
    ),
    def(
        "public_authority_deployer",
        Bool,
        "Is the deployer a public authority or a provider of public services?",
    ),
    def(
        "military_only",
        Bool,
        "Is the system used exclusively for military, defence or national-security purposes?",
    ),
    def(
        "research_only",
        Bool,
        "Is the system used solely for scientific research and development?",
    ),
    def(
        "lifecycle_stage",
        Enum(LifecycleStage::ALL),
        "In which lifecycle stage is the system?",
    ),
];

/// Looks up a fact path.
pub fn fact_def(path: &str) -> Option<&'static FactDef> {
    FACTS.iter().find(|f| f.path == path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every leaf of a fully populated `SystemFacts` appears in `FACTS` and vice versa.
    #[test]
    fn fact_table_matches_struct() {
        let full = crate::examples::fully_populated();
        let value = serde_json::to_value(&full).unwrap_or_default();
        let mut leaves = Vec::new();
        collect_leaves(&value, String::new(), &mut leaves);
        leaves.sort();
        let mut table: Vec<String> = FACTS.iter().map(|f| f.path.to_string()).collect();
        table.sort();
        assert_eq!(leaves, table);
    }

    fn collect_leaves(v: &serde_json::Value, prefix: String, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    let p = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    collect_leaves(v, p, out);
                }
            }
            _ => out.push(prefix),
        }
    }
}
