//! Registry entities and the request types that create or change them. These are also the wire
//! types of the HTTP API: the server, the CLI client and the tests all use them.

use aigov_policy::classify::{Classification, ClassificationDiff};
use aigov_policy::facts::Modality;
use aigov_policy::{LifecycleStage, SystemFacts, Tier};
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::filing::FilingNumber;

/// Roles a token can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Operates the registry: everything, including tokens.
    Admin,
    /// Decides on filings (register, suspend, reinstate, cancel), reads everything.
    Regulator,
    /// Reads submitted and registered filings and returns them to the provider.
    Reviewer,
    /// Manages the systems of one organisation.
    Provider,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 4] = [Role::Admin, Role::Regulator, Role::Reviewer, Role::Provider];

    /// The role as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Regulator => "regulator",
            Role::Reviewer => "reviewer",
            Role::Provider => "provider",
        }
    }

    /// Parses the written form.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// Who is making a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Principal {
    /// The token used (none for anonymous and for local administration).
    pub token_id: Option<Uuid>,
    /// Role (none for the anonymous public).
    pub role: Option<Role>,
    /// Organisation a provider token is scoped to.
    pub organisation: Option<Uuid>,
    /// Name recorded in the audit log.
    pub name: String,
}

impl Principal {
    /// The anonymous public.
    pub fn anonymous() -> Self {
        Principal {
            token_id: None,
            role: None,
            organisation: None,
            name: "anonymous".into(),
        }
    }

    /// The operator working on the data folder directly (CLI administration, demo seeding).
    pub fn local_admin(name: &str) -> Self {
        Principal {
            token_id: None,
            role: Some(Role::Admin),
            organisation: None,
            name: name.into(),
        }
    }

    /// Whether the principal holds one of `roles`.
    pub fn is(&self, roles: &[Role]) -> bool {
        self.role.is_some_and(|r| roles.contains(&r))
    }
}

/// Kind of organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    /// Develops systems or places them on the market.
    Provider,
    /// Uses systems under its authority.
    Deployer,
    /// Both.
    ProviderDeployer,
}

/// A provider or deployer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Organisation {
    /// Identifier.
    pub id: Uuid,
    /// Legal name.
    pub name: String,
    /// Kind.
    pub kind: OrgKind,
    /// Country of establishment (ISO 3166 alpha-2, upper case).
    pub country: String,
    /// Registration code (a valid Unified Social Credit Code for `CN`).
    pub code: Option<String>,
    /// Person responsible for algorithm safety (CN filings).
    pub safety_officer: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// Request to create an organisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrganisation {
    /// Legal name.
    pub name: String,
    /// Kind.
    pub kind: OrgKind,
    /// Country of establishment (ISO 3166 alpha-2).
    pub country: String,
    /// Registration code (Unified Social Credit Code for Chinese entities).
    #[serde(default)]
    pub code: Option<String>,
    /// Person responsible for algorithm safety.
    #[serde(default)]
    pub safety_officer: Option<String>,
}

/// Registration state of a system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SystemState {
    /// Being prepared by the provider; visible only to its organisation and the regulator.
    Draft,
    /// Filed and awaiting review.
    Submitted,
    /// Registered; public.
    Registered,
    /// Registered, with a change filed and awaiting review; public.
    Changed,
    /// Registration suspended by the regulator; public.
    Suspended,
    /// Cancelled (withdrawn or revoked); public if it was ever registered. Final.
    Cancelled,
}

impl SystemState {
    /// Every state.
    pub const ALL: [SystemState; 6] = [
        SystemState::Draft,
        SystemState::Submitted,
        SystemState::Registered,
        SystemState::Changed,
        SystemState::Suspended,
        SystemState::Cancelled,
    ];

    /// The state as written.
    pub fn as_str(self) -> &'static str {
        match self {
            SystemState::Draft => "draft",
            SystemState::Submitted => "submitted",
            SystemState::Registered => "registered",
            SystemState::Changed => "changed",
            SystemState::Suspended => "suspended",
            SystemState::Cancelled => "cancelled",
        }
    }

    /// Parses the written form.
    pub fn parse(s: &str) -> Option<SystemState> {
        SystemState::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl std::fmt::Display for SystemState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A registered (or to-be-registered) AI system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct System {
    /// Identifier.
    pub id: Uuid,
    /// Owning organisation.
    pub organisation: Uuid,
    /// Filing number, assigned on first submission and never reused.
    pub filing_number: Option<FilingNumber>,
    /// Name.
    pub name: String,
    /// Version label.
    pub version: String,
    /// Registration state.
    pub state: SystemState,
    /// Lifecycle stage.
    pub stage: LifecycleStage,
    /// Facts as declared.
    pub facts: SystemFacts,
    /// Current classification.
    pub classification: Classification,
    /// Revision number, incremented by every change.
    pub revision: u32,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Time of the last change.
    pub updated_at: DateTime<Utc>,
    /// First registration time (the system is public from then on).
    pub registered_at: Option<DateTime<Utc>>,
}

/// The public view of a registered system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PublicSystem {
    /// Filing number.
    pub filing_number: FilingNumber,
    /// Name.
    pub name: String,
    /// Version label.
    pub version: String,
    /// Provider's legal name.
    pub provider: String,
    /// Provider's registration code.
    pub provider_code: Option<String>,
    /// Provider's country.
    pub provider_country: String,
    /// Registration state (registered, changed, suspended or cancelled).
    pub state: SystemState,
    /// Tier.
    pub tier: Tier,
    /// Intended purpose (public disclosure text).
    pub intended_purpose: Option<String>,
    /// Functions.
    pub functions: Vec<String>,
    /// Output modalities.
    pub modalities_out: Vec<Modality>,
    /// Jurisdictions.
    pub jurisdictions: Vec<String>,
    /// Ids of the obligations that apply.
    pub obligations: Vec<String>,
    /// First registration time.
    pub registered_at: DateTime<Utc>,
    /// Time of the last change.
    pub updated_at: DateTime<Utc>,
}

impl PublicSystem {
    /// The public view of `system` owned by `org`, if it has ever been registered.
    pub fn of(system: &System, org: &Organisation) -> Option<PublicSystem> {
        let registered_at = system.registered_at?;
        let filing_number = system.filing_number.clone()?;
        let f = &system.facts;
        Some(PublicSystem {
            filing_number,
            name: system.name.clone(),
            version: system.version.clone(),
            provider: org.name.clone(),
            provider_code: org.code.clone(),
            provider_country: org.country.clone(),
            state: system.state,
            tier: system.classification.tier,
            intended_purpose: f.intended_purpose.clone(),
            functions: f
                .functions
                .iter()
                .flatten()
                .map(|x| x.as_str().to_string())
                .collect(),
            modalities_out: f.modalities_out.clone().unwrap_or_default(),
            jurisdictions: f.jurisdictions.clone().unwrap_or_default(),
            obligations: system
                .classification
                .obligations
                .iter()
                .map(|o| o.obligation.id.clone())
                .collect(),
            registered_at,
            updated_at: system.updated_at,
        })
    }
}

/// Request to create a system (state draft).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSystem {
    /// Owning organisation; a provider token may omit it (its own organisation is used).
    #[serde(default)]
    pub organisation: Option<Uuid>,
    /// Facts; `facts.name` is required.
    pub facts: SystemFacts,
}

/// Request to update a system's facts (re-classifies it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSystem {
    /// The complete new facts (replacing the old ones).
    pub facts: SystemFacts,
    /// Why the system changed.
    #[serde(default)]
    pub reason: Option<String>,
}

/// Request to move a system to another registration state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionRequest {
    /// Target state.
    pub to: SystemState,
    /// Reason, recorded in the audit log (required).
    pub reason: String,
}

/// Request to move a system to another lifecycle stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StageRequest {
    /// Target stage.
    pub to: LifecycleStage,
    /// Reason (required).
    pub reason: String,
}

/// A piece of safety evidence attached to a system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Evidence {
    /// Identifier.
    pub id: Uuid,
    /// System.
    pub system: Uuid,
    /// Lifecycle stage it belongs to.
    pub stage: LifecycleStage,
    /// Kind (see `rules/tiers.toml`), e.g. `test_report`.
    pub kind: String,
    /// Title.
    pub title: String,
    /// Where the document lives.
    pub uri: Option<String>,
    /// SHA-256 of the document (lower-case hex).
    pub sha256: Option<String>,
    /// Who added it.
    pub added_by: String,
    /// When.
    pub added_at: DateTime<Utc>,
}

/// Request to attach evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEvidence {
    /// Lifecycle stage (default: the system's current stage).
    #[serde(default)]
    pub stage: Option<LifecycleStage>,
    /// Kind.
    pub kind: String,
    /// Title.
    pub title: String,
    /// Where the document lives (a URI or a file name).
    #[serde(default)]
    pub uri: Option<String>,
    /// SHA-256 of the document (64 hex digits).
    #[serde(default)]
    pub sha256: Option<String>,
}

/// Metadata of an uploaded evidence document (the document is the request body).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EvidenceUpload {
    /// Lifecycle stage (default: the system's current stage).
    #[serde(default)]
    pub stage: Option<LifecycleStage>,
    /// Kind.
    pub kind: String,
    /// Title.
    pub title: String,
    /// Original file name, kept for the download.
    #[serde(default)]
    pub filename: Option<String>,
}

/// One revision of a system: what changed and how its obligations moved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Revision {
    /// System.
    pub system: Uuid,
    /// Revision number (1 for creation).
    pub revision: u32,
    /// What happened (`create`, `update`, `transition`, `stage`).
    pub action: String,
    /// State after the change.
    pub state: SystemState,
    /// Stage after the change.
    pub stage: LifecycleStage,
    /// Facts after the change.
    pub facts: SystemFacts,
    /// Classification after the change.
    pub classification: Classification,
    /// Difference from the previous classification.
    pub diff: ClassificationDiff,
    /// Reason given.
    pub reason: Option<String>,
    /// Who.
    pub actor: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// An API token (the secret is shown once, at creation, and stored only as a hash).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Token {
    /// Identifier.
    pub id: Uuid,
    /// Label.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Organisation (provider tokens).
    pub organisation: Option<Uuid>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Revocation time.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Request to create a token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// Label.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Organisation (required for, and only for, provider tokens).
    #[serde(default)]
    pub organisation: Option<Uuid>,
}

/// A created token with its secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CreatedToken {
    /// The token record.
    pub token: Token,
    /// The bearer secret; shown once.
    pub secret: String,
}

/// An entry of the append-only, hash-chained audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AuditEvent {
    /// Sequence number, from 1.
    pub seq: u64,
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: String,
    /// What (`system.create`, `system.transition`, `org.create`, `token.create`, …).
    pub action: String,
    /// Id of the entity concerned.
    pub subject: String,
    /// State before (null for creations).
    pub before: serde_json::Value,
    /// State after.
    pub after: serde_json::Value,
    /// Hash of the previous event (hex; 64 zeros for the first).
    pub prev_hash: String,
    /// SHA-256 over `prev_hash` and this event's content (hex).
    pub hash: String,
}

/// Filter for listing systems.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SystemFilter {
    /// Only this organisation.
    #[serde(default)]
    pub organisation: Option<Uuid>,
    /// Only these states.
    #[serde(default)]
    pub states: Vec<SystemState>,
    /// Case-insensitive text in the name, provider name, provider code or filing number.
    #[serde(default)]
    pub q: Option<String>,
    /// Only this tier.
    #[serde(default)]
    pub tier: Option<Tier>,
    /// Maximum number of results.
    #[serde(default)]
    pub limit: Option<u32>,
    /// Results to skip.
    #[serde(default)]
    pub offset: Option<u32>,
}

/// Query of the public registry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PublicQuery {
    /// Text in the name, provider or filing number.
    #[serde(default)]
    pub q: Option<String>,
    /// Provider name or code (substring).
    #[serde(default)]
    pub provider: Option<String>,
    /// Exact filing number.
    #[serde(default)]
    pub filing_number: Option<String>,
    /// Maximum number of results (default 50, at most 500).
    #[serde(default)]
    pub limit: Option<u32>,
    /// Results to skip.
    #[serde(default)]
    pub offset: Option<u32>,
}

/// Result of checking the audit chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AuditVerification {
    /// Events checked.
    pub events: u64,
    /// Whether the whole chain is intact.
    pub ok: bool,
    /// Every problem found (sequence number and what is wrong).
    pub problems: Vec<String>,
    /// Hash of the last event.
    pub head: Option<String>,
}

/// Where an event landed in the transparency log, with the proof that it is there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LogReceipt {
    /// Index of the entry (0-based; the audit event's `seq` minus one).
    pub index: u64,
    /// Size of the log right after the entry was added.
    pub size: u64,
    /// Root hash of the log at that size (hex).
    pub root: String,
    /// RFC 9162 inclusion proof of the entry in the log of that size (hex hashes, lowest first).
    pub inclusion_proof: Vec<String>,
    /// The log's signed checkpoint (C2SP signed note) for that size.
    pub checkpoint: String,
}

/// The result of an operation that recorded an event: the result's own fields, plus `log`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Recorded<T> {
    /// The result.
    #[serde(flatten)]
    pub value: T,
    /// The event's place in the transparency log.
    pub log: LogReceipt,
}

/// Status of a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CertificateStatus {
    /// Valid (within its validity period, which the verifier checks).
    Active,
    /// Revoked.
    Revoked,
}

/// A certificate issued by the registry CA to a registered system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Certificate {
    /// Serial number (lower-case hex).
    pub serial: String,
    /// System.
    pub system: Uuid,
    /// Filing number named in the certificate.
    pub filing_number: FilingNumber,
    /// Tier named in the certificate.
    pub tier: Tier,
    /// The certificate (PEM).
    pub certificate: String,
    /// The issuing CA certificate followed by the root (PEM).
    pub chain: String,
    /// Validity start.
    pub not_before: DateTime<Utc>,
    /// Validity end.
    pub not_after: DateTime<Utc>,
    /// Status.
    pub status: CertificateStatus,
    /// Revocation time.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Revocation reason (`key_compromise`, `cessation_of_operation`, `certificate_hold`, …).
    pub revocation_reason: Option<String>,
    /// Index of the issuance event in the transparency log.
    pub log_index: u64,
}

/// Request for a system certificate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CertificateRequest {
    /// PKCS#10 request (PEM), signed with the system's key.
    pub csr: String,
    /// Validity in days (default 365, at most 398).
    #[serde(default)]
    pub days: Option<i64>,
}

/// Request to revoke a certificate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    /// `key_compromise`, `affiliation_changed`, `superseded`, `cessation_of_operation`,
    /// `certificate_hold` or `unspecified`.
    pub reason: String,
}
