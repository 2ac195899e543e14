//! The registry service: every operation checks the principal's rights, validates the request,
//! re-classifies the system, and writes the change, its revision and its audit event in one
//! transaction.

use std::sync::Arc;

use aigov_policy::classify::ClassificationDiff;
use aigov_policy::{Classification, Classifier, LifecycleStage, SystemFacts};
use chrono::{DateTime, Datelike, SubsecRound, Utc};
use rand::RngCore;
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::audit;
use crate::error::{Error, Result};
use crate::filing::{FilingNumber, check_uscc};
use crate::log;
use crate::model::*;
use crate::store::{Store, Tx};
use aigov_pki::{CaMaterial, SystemSubject};
use aigov_tlog::note::{NoteSigner, Verifier};
use aigov_tlog::tile::{self, TileId};
use std::sync::atomic::{AtomicBool, Ordering};

/// Settings of the registry service.
#[derive(Debug, Clone)]
pub struct Config {
    /// Default page size of lists.
    pub default_limit: u32,
    /// Largest page size of lists.
    pub max_limit: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            default_limit: 50,
            max_limit: 500,
        }
    }
}

/// Who may move a system from one state to another.
struct TransitionRule {
    from: &'static [SystemState],
    to: SystemState,
    /// Roles allowed (providers only for their own organisation).
    roles: &'static [Role],
}

use SystemState as St;

const TRANSITIONS: &[TransitionRule] = &[
    TransitionRule {
        from: &[St::Draft],
        to: St::Submitted,
        roles: &[Role::Provider, Role::Admin],
    },
    TransitionRule {
        from: &[St::Submitted],
        to: St::Draft,
        roles: &[Role::Provider, Role::Reviewer, Role::Regulator, Role::Admin],
    },
    TransitionRule {
        from: &[St::Submitted, St::Changed, St::Suspended],
        to: St::Registered,
        roles: &[Role::Regulator, Role::Admin],
    },
    TransitionRule {
        from: &[St::Registered],
        to: St::Changed,
        roles: &[Role::Provider, Role::Admin],
    },
    TransitionRule {
        from: &[St::Registered, St::Changed],
        to: St::Suspended,
        roles: &[Role::Regulator, Role::Admin],
    },
    TransitionRule {
        from: &[
            St::Draft,
            St::Submitted,
            St::Registered,
            St::Changed,
            St::Suspended,
        ],
        to: St::Cancelled,
        roles: &[Role::Provider, Role::Regulator, Role::Admin],
    },
];

/// States reachable from `from`, and by whom.
pub fn transitions_from(from: SystemState) -> Vec<(SystemState, Vec<Role>)> {
    TRANSITIONS
        .iter()
        .filter(|t| t.from.contains(&from))
        .map(|t| (t.to, t.roles.to_vec()))
        .collect()
}

fn require_reason(reason: &str) -> Result<()> {
    if reason.trim().is_empty() {
        return Err(Error::invalid("reason", "a reason is required"));
    }
    Ok(())
}

fn no_ca() -> Error {
    Error::Conflict("this registry has no certificate authority (run aigov init)".into())
}

/// Hashes a token secret for storage.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn summary(s: &System) -> serde_json::Value {
    json!({
        "name": s.name,
        "version": s.version,
        "state": s.state,
        "stage": s.stage,
        "tier": s.classification.tier,
        "worst_case_tier": s.classification.worst_case_tier,
        "filing_number": s.filing_number,
        "revision": s.revision,
        "facts": s.facts,
    })
}

fn is_hex64(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn is_country(s: &str) -> bool {
    (s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase())) || s == "EU"
}

/// The registry service over a store.
pub struct Registry<S> {
    store: S,
    classifier: Arc<Classifier>,
    log_key: NoteSigner,
    ca: Option<CaMaterial>,
    sequencer: Sequencer,
    config: Config,
}

/// Coordination between writers and the sequencer task.
struct Sequencer {
    wake: tokio::sync::Notify,
    integrated: tokio::sync::watch::Sender<u64>,
    running: AtomicBool,
    failed: AtomicBool,
}

impl<S: Store> Registry<S> {
    /// Builds the service. `log_key` signs the transparency log's checkpoints; its name is
    /// the log's origin.
    pub fn new(store: S, classifier: Arc<Classifier>, log_key: NoteSigner, config: Config) -> Self {
        Registry {
            store,
            classifier,
            log_key,
            ca: None,
            sequencer: Sequencer {
                wake: tokio::sync::Notify::new(),
                integrated: tokio::sync::watch::Sender::new(0),
                running: AtomicBool::new(false),
                failed: AtomicBool::new(false),
            },
            config,
        }
    }

    /// Gives the registry its certificate authority.
    pub fn with_ca(mut self, ca: CaMaterial) -> Self {
        self.ca = Some(ca);
        self
    }

    /// The CA's certificates: (issuing, root), PEM.
    pub fn ca_certificates(&self) -> Result<(String, String)> {
        let ca = self.ca.as_ref().ok_or_else(no_ca)?;
        Ok((ca.issuing_cert.clone(), ca.root_cert.clone()))
    }

    /// The log's verifier key (`<origin>+<key id>+<key>`).
    pub fn log_verifier(&self) -> Verifier {
        self.log_key.verifier()
    }

    /// The classifier (shared with stateless endpoints).
    pub fn classifier(&self) -> &Arc<Classifier> {
        &self.classifier
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    fn classify(&self, facts: &SystemFacts, now: DateTime<Utc>) -> Classification {
        self.classifier.classify(facts, now.date_naive())
    }

    // ---- authentication -------------------------------------------------------------------

    /// Resolves a bearer secret to a principal; no secret is the anonymous public.
    pub async fn authenticate(&self, bearer: Option<&str>) -> Result<Principal> {
        let Some(secret) = bearer else {
            return Ok(Principal::anonymous());
        };
        let mut tx = self.store.read().await?;
        let token = tx
            .token_by_hash(&hash_secret(secret))
            .await?
            .filter(|t| t.revoked_at.is_none())
            .ok_or(Error::Unauthenticated)?;
        Ok(Principal {
            token_id: Some(token.id),
            role: Some(token.role),
            organisation: token.organisation,
            name: format!("{}:{}", token.role.as_str(), token.name),
        })
    }

    // ---- audit ----------------------------------------------------------------------------

    async fn record<T: Tx>(
        &self,
        tx: &mut T,
        p: &Principal,
        now: DateTime<Utc>,
        action: &str,
        subject: String,
        (before, after): (serde_json::Value, serde_json::Value),
    ) -> Result<u64> {
        let last = tx.last_audit_event().await?;
        let (seq, prev_hash) = match last {
            Some(e) => (e.seq + 1, e.hash),
            None => (1, audit::GENESIS.to_string()),
        };
        let mut e = AuditEvent {
            seq,
            // Stores keep microseconds; hash exactly what will be read back.
            at: now.trunc_subsecs(6),
            actor: p.name.clone(),
            action: action.into(),
            subject,
            before,
            after,
            prev_hash,
            hash: String::new(),
        };
        e.hash = audit::event_hash(&e);
        tx.append_audit_event(&e).await?;
        log::sequence(tx, &audit::entry_bytes(&e)).await
    }

    /// Integrates pending log entries (all of them, whoever wrote them) and publishes the new
    /// size to waiting writers. Returns the integrated size.
    pub async fn integrate(&self) -> Result<u64> {
        let mut tx = self.store.write().await?;
        let size = log::integrate(&mut tx, &self.log_key).await?;
        tx.commit().await?;
        self.sequencer.integrated.send_replace(size);
        Ok(size)
    }

    /// Runs the sequencer until `shutdown`: integrates pending entries whenever writers ask,
    /// at most once per `period`, so that concurrent writes share one tree update and one
    /// checkpoint signature.
    pub async fn run_sequencer(
        self: Arc<Self>,
        period: std::time::Duration,
        shutdown: impl std::future::Future<Output = ()>,
    ) {
        self.sequencer.running.store(true, Ordering::SeqCst);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                _ = self.sequencer.wake.notified() => {}
            }
            tokio::time::sleep(period).await;
            if let Err(e) = self.integrate().await {
                // Writers waiting on their receipt fall back to integrating themselves.
                self.sequencer.failed.store(true, Ordering::SeqCst);
                let _ = e;
            }
        }
        self.sequencer.running.store(false, Ordering::SeqCst);
    }

    /// Commits a change that recorded log entry `index` and returns `value` with its receipt.
    async fn finish<T>(&self, tx: S::Tx, index: u64, value: T) -> Result<Recorded<T>> {
        tx.commit().await?;
        Ok(Recorded {
            value,
            log: self.settle(index).await?,
        })
    }

    /// Waits until entry `index` is in the tree and returns its receipt.
    async fn settle(&self, index: u64) -> Result<LogReceipt> {
        let mut rx = self.sequencer.integrated.subscribe();
        for _ in 0..3 {
            if *rx.borrow_and_update() <= index {
                let sequencer = self.sequencer.running.load(Ordering::SeqCst)
                    && !self.sequencer.failed.swap(false, Ordering::SeqCst);
                if sequencer {
                    self.sequencer.wake.notify_one();
                    let wait = rx.wait_for(|size| *size > index);
                    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), wait).await;
                } else {
                    self.integrate().await?;
                }
            }
            let mut tx = self.store.read().await?;
            if let Some(r) = log::receipt(&mut tx, index).await? {
                return Ok(r);
            }
        }
        Err(Error::Store(format!(
            "log entry {index} was not integrated"
        )))
    }

    /// Audit events after `after` (regulators and admins).
    pub async fn audit_events(
        &self,
        p: &Principal,
        after: u64,
        limit: Option<u32>,
    ) -> Result<Vec<AuditEvent>> {
        self.require(p, &[Role::Admin, Role::Regulator])?;
        let mut tx = self.store.read().await?;
        tx.audit_events(after, self.limit(limit)).await
    }

    /// Checks the whole audit chain (regulators and admins).
    pub async fn verify_audit(&self, p: &Principal) -> Result<AuditVerification> {
        self.require(p, &[Role::Admin, Role::Regulator])?;
        let mut tx = self.store.read().await?;
        let mut all = Vec::new();
        let mut after = 0;
        loop {
            let page = tx.audit_events(after, 1000).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            all.extend(page);
        }
        Ok(audit::verify(&all, audit::GENESIS, 0))
    }

    fn require(&self, p: &Principal, roles: &[Role]) -> Result<()> {
        match p.role {
            None => Err(Error::Unauthenticated),
            Some(r) if roles.contains(&r) => Ok(()),
            Some(r) => Err(Error::Forbidden(format!(
                "role {} may not do this (needs {})",
                r.as_str(),
                roles
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(" or ")
            ))),
        }
    }

    fn limit(&self, limit: Option<u32>) -> u32 {
        limit
            .unwrap_or(self.config.default_limit)
            .clamp(1, self.config.max_limit)
    }

    // ---- organisations --------------------------------------------------------------------

    /// Creates an organisation (regulators and admins).
    pub async fn create_organisation(
        &self,
        p: &Principal,
        req: NewOrganisation,
        now: DateTime<Utc>,
    ) -> Result<Recorded<Organisation>> {
        self.require(p, &[Role::Admin, Role::Regulator])?;
        let name = req.name.trim();
        if name.is_empty() {
            return Err(Error::invalid("name", "must not be empty"));
        }
        let country = req.country.trim().to_ascii_uppercase();
        if !is_country(&country) {
            return Err(Error::invalid(
                "country",
                format!("'{}' is not an ISO 3166 alpha-2 code", req.country),
            ));
        }
        let code = req
            .code
            .map(|c| c.trim().to_ascii_uppercase())
            .filter(|c| !c.is_empty());
        if country == "CN" {
            match &code {
                None => {
                    return Err(Error::invalid(
                        "code",
                        "a Chinese organisation needs its Unified Social Credit Code",
                    ));
                }
                Some(c) => check_uscc(c).map_err(|m| Error::invalid("code", m))?,
            }
        }
        let org = Organisation {
            id: Uuid::new_v4(),
            name: name.to_string(),
            kind: req.kind,
            country,
            code,
            safety_officer: req.safety_officer,
            created_at: now,
        };
        let mut tx = self.store.write().await?;
        tx.insert_organisation(&org).await?;
        let log = self
            .record(
                &mut tx,
                p,
                now,
                "org.create",
                org.id.to_string(),
                (serde_json::Value::Null, json!(org)),
            )
            .await?;
        self.finish(tx, log, org).await
    }

    /// All organisations (any authenticated role; providers see only their own).
    pub async fn organisations(&self, p: &Principal) -> Result<Vec<Organisation>> {
        self.require(p, &Role::ALL)?;
        let mut tx = self.store.read().await?;
        let all = tx.organisations().await?;
        Ok(match p.role {
            Some(Role::Provider) => all
                .into_iter()
                .filter(|o| Some(o.id) == p.organisation)
                .collect(),
            _ => all,
        })
    }

    // ---- systems --------------------------------------------------------------------------

    fn can_see(&self, p: &Principal, s: &System) -> bool {
        match p.role {
            Some(Role::Admin | Role::Regulator) => true,
            Some(Role::Reviewer) => s.state != SystemState::Draft,
            Some(Role::Provider) => p.organisation == Some(s.organisation),
            None => false,
        }
    }

    async fn load_visible<T: Tx>(&self, tx: &mut T, p: &Principal, id: Uuid) -> Result<System> {
        self.require(p, &Role::ALL)?;
        match tx.system(id).await? {
            Some(s) if self.can_see(p, &s) => Ok(s),
            _ => Err(Error::NotFound(format!("system {id}"))),
        }
    }

    fn check_owner(&self, p: &Principal, s: &System) -> Result<()> {
        match p.role {
            Some(Role::Admin) => Ok(()),
            Some(Role::Provider) if p.organisation == Some(s.organisation) => Ok(()),
            Some(Role::Provider) => Err(Error::NotFound(format!("system {}", s.id))),
            Some(r) => Err(Error::Forbidden(format!(
                "role {} may not change a provider's filing",
                r.as_str()
            ))),
            None => Err(Error::Unauthenticated),
        }
    }

    fn validate_facts(facts: &SystemFacts) -> Result<String> {
        let name = facts.name.as_deref().map(str::trim).unwrap_or_default();
        if name.is_empty() {
            return Err(Error::invalid("facts.name", "the system needs a name"));
        }
        if let Some(code) = facts.provider.as_ref().and_then(|p| p.code.as_deref())
            && facts.provider.as_ref().and_then(|p| p.country.as_deref()) == Some("CN")
        {
            check_uscc(code).map_err(|m| Error::invalid("facts.provider.code", m))?;
        }
        for (i, j) in facts.jurisdictions.iter().flatten().enumerate() {
            if !is_country(j) {
                return Err(Error::invalid(
                    format!("facts.jurisdictions[{i}]"),
                    format!("'{j}' is not an ISO 3166 alpha-2 code or EU (upper case)"),
                ));
            }
        }
        if let Some(f) = facts.training_compute_flop
            && !(f.is_finite() && f >= 0.0)
        {
            return Err(Error::invalid(
                "facts.training_compute_flop",
                "must be a non-negative number",
            ));
        }
        Ok(name.to_string())
    }

    /// Creates a system in state draft and classifies it.
    pub async fn create_system(
        &self,
        p: &Principal,
        req: NewSystem,
        now: DateTime<Utc>,
    ) -> Result<Recorded<System>> {
        self.require(p, &[Role::Admin, Role::Regulator, Role::Provider])?;
        let org_id = match (p.role, req.organisation) {
            (Some(Role::Provider), None) => p
                .organisation
                .ok_or_else(|| Error::Forbidden("provider token has no organisation".into()))?,
            (Some(Role::Provider), Some(o)) if Some(o) != p.organisation => {
                return Err(Error::Forbidden(
                    "a provider may only register systems of its own organisation".into(),
                ));
            }
            (_, Some(o)) => o,
            (_, None) => return Err(Error::invalid("organisation", "required")),
        };
        let name = Self::validate_facts(&req.facts)?;
        let mut tx = self.store.write().await?;
        if tx.organisation(org_id).await?.is_none() {
            return Err(Error::invalid(
                "organisation",
                format!("no organisation {org_id}"),
            ));
        }
        let classification = self.classify(&req.facts, now);
        let system = System {
            id: Uuid::new_v4(),
            organisation: org_id,
            filing_number: None,
            name,
            version: req.facts.version.clone().unwrap_or_else(|| "1".into()),
            state: SystemState::Draft,
            stage: req.facts.lifecycle_stage.unwrap_or(LifecycleStage::Design),
            facts: req.facts,
            classification,
            revision: 1,
            created_at: now,
            updated_at: now,
            registered_at: None,
        };
        tx.insert_system(&system).await?;
        let (_, log) = self
            .write_revision(&mut tx, p, now, &system, None, "create", None)
            .await?;
        self.finish(tx, log, system).await
    }

    #[allow(clippy::too_many_arguments)]
    async fn write_revision<T: Tx>(
        &self,
        tx: &mut T,
        p: &Principal,
        now: DateTime<Utc>,
        system: &System,
        before: Option<&System>,
        action: &str,
        reason: Option<String>,
    ) -> Result<(Revision, u64)> {
        let diff =
            ClassificationDiff::between(before.map(|b| &b.classification), &system.classification);
        let rev = Revision {
            system: system.id,
            revision: system.revision,
            action: action.into(),
            state: system.state,
            stage: system.stage,
            facts: system.facts.clone(),
            classification: system.classification.clone(),
            diff: diff.clone(),
            reason: reason.clone(),
            actor: p.name.clone(),
            at: now,
        };
        tx.insert_revision(&rev).await?;
        // Keep the public view in step with the system, in the same transaction.
        let org = tx.organisation(system.organisation).await?.ok_or_else(|| {
            Error::Store(format!(
                "organisation {} of system {} is missing",
                system.organisation, system.id
            ))
        })?;
        tx.set_public_view(system.id, PublicSystem::of(system, &org).as_ref())
            .await?;
        let mut after = summary(system);
        after["diff"] = json!(diff);
        if let Some(r) = reason {
            after["reason"] = json!(r);
        }
        let log = self
            .record(
                tx,
                p,
                now,
                &format!("system.{action}"),
                system.id.to_string(),
                (before.map_or(serde_json::Value::Null, summary), after),
            )
            .await?;
        Ok((rev, log))
    }

    /// A system visible to the principal.
    pub async fn system(&self, p: &Principal, id: Uuid) -> Result<System> {
        let mut tx = self.store.read().await?;
        self.load_visible(&mut tx, p, id).await
    }

    /// Systems visible to the principal.
    pub async fn systems(&self, p: &Principal, mut filter: SystemFilter) -> Result<Vec<System>> {
        self.require(p, &Role::ALL)?;
        if p.role == Some(Role::Provider) {
            if filter
                .organisation
                .is_some_and(|o| Some(o) != p.organisation)
            {
                return Ok(Vec::new());
            }
            filter.organisation = p.organisation;
        }
        if p.role == Some(Role::Reviewer) {
            if filter.states.is_empty() {
                filter.states = SystemState::ALL
                    .into_iter()
                    .filter(|s| *s != SystemState::Draft)
                    .collect();
            } else {
                filter.states.retain(|s| *s != SystemState::Draft);
                if filter.states.is_empty() {
                    return Ok(Vec::new());
                }
            }
        }
        filter.limit = Some(self.limit(filter.limit));
        let mut tx = self.store.read().await?;
        tx.systems(&filter).await
    }

    /// Replaces a system's facts, re-classifies it and records the obligation diff. Updating a
    /// registered system files a change (state `changed`).
    pub async fn update_system(
        &self,
        p: &Principal,
        id: Uuid,
        req: UpdateSystem,
        now: DateTime<Utc>,
    ) -> Result<Recorded<(System, ClassificationDiff)>> {
        let mut tx = self.store.write().await?;
        let before = self.load_visible(&mut tx, p, id).await?;
        self.check_owner(p, &before)?;
        let name = Self::validate_facts(&req.facts)?;
        let state = match before.state {
            St::Draft | St::Changed => before.state,
            St::Registered => St::Changed,
            St::Submitted => {
                return Err(Error::Conflict(
                    "the filing is under review; withdraw it to draft before changing it".into(),
                ));
            }
            St::Suspended | St::Cancelled => {
                return Err(Error::Conflict(format!(
                    "a {} system cannot be changed",
                    before.state
                )));
            }
        };
        let mut sys = before.clone();
        sys.name = name;
        if let Some(v) = &req.facts.version {
            sys.version = v.clone();
        }
        if let Some(stage) = req.facts.lifecycle_stage
            && stage != before.stage
        {
            // Stages move only through `change_stage`, which checks the evidence.
            return Err(Error::invalid(
                "facts.lifecycle_stage",
                format!(
                    "the system is in stage {}; change the stage with the stage operation, not with an update",
                    before.stage.as_str()
                ),
            ));
        }
        sys.facts = req.facts;
        sys.facts.lifecycle_stage = Some(sys.stage);
        sys.state = state;
        sys.classification = self.classify(&sys.facts, now);
        let (sys, rev, log) = self
            .save_change(tx, p, now, sys, &before, "update", req.reason)
            .await?;
        Ok(Recorded {
            value: (sys, rev.diff),
            log,
        })
    }

    /// Stores a changed system with its revision and audit event, commits, and waits for the
    /// log receipt.
    #[allow(clippy::too_many_arguments)]
    async fn save_change(
        &self,
        mut tx: S::Tx,
        p: &Principal,
        now: DateTime<Utc>,
        mut sys: System,
        before: &System,
        action: &str,
        reason: Option<String>,
    ) -> Result<(System, Revision, LogReceipt)> {
        sys.revision += 1;
        sys.updated_at = now;
        tx.update_system(&sys).await?;
        let (rev, index) = self
            .write_revision(&mut tx, p, now, &sys, Some(before), action, reason)
            .await?;
        tx.commit().await?;
        Ok((sys, rev, self.settle(index).await?))
    }

    /// Moves a system to another registration state.
    pub async fn transition(
        &self,
        p: &Principal,
        id: Uuid,
        req: TransitionRequest,
        now: DateTime<Utc>,
    ) -> Result<Recorded<System>> {
        require_reason(&req.reason)?;
        let mut tx = self.store.write().await?;
        let before = self.load_visible(&mut tx, p, id).await?;
        let role = p.role.ok_or(Error::Unauthenticated)?;
        let own = role != Role::Provider || p.organisation == Some(before.organisation);
        let allowed: Vec<SystemState> = TRANSITIONS
            .iter()
            .filter(|t| t.from.contains(&before.state) && t.roles.contains(&role) && own)
            .map(|t| t.to)
            .collect();
        let rule = TRANSITIONS
            .iter()
            .find(|t| t.from.contains(&before.state) && t.to == req.to);
        match rule {
            None => {
                return Err(Error::InvalidTransition {
                    from: before.state,
                    to: req.to,
                    allowed,
                });
            }
            Some(r) if !r.roles.contains(&role) || !own => {
                return Err(Error::Forbidden(format!(
                    "moving a system from {} to {} needs role {}",
                    before.state,
                    req.to,
                    r.roles
                        .iter()
                        .map(|r| r.as_str())
                        .collect::<Vec<_>>()
                        .join(" or ")
                )));
            }
            Some(_) => {}
        }
        let mut sys = before.clone();
        sys.classification = self.classify(&sys.facts, now);
        if req.to == St::Submitted || (req.to == St::Registered && before.state != St::Suspended) {
            if !sys.classification.needs_info.is_empty() {
                let facts: Vec<&str> = sys
                    .classification
                    .needs_info
                    .iter()
                    .map(|q| q.fact.as_str())
                    .collect();
                return Err(Error::Conflict(format!(
                    "the classification has open questions; answer them before filing: {}",
                    facts.join(", ")
                )));
            }
            if sys.classification.tier == aigov_policy::Tier::Prohibited {
                let rules: Vec<&str> = sys
                    .classification
                    .fired
                    .iter()
                    .filter(|f| f.tier == aigov_policy::Tier::Prohibited)
                    .map(|f| f.source.as_str())
                    .collect();
                return Err(Error::Conflict(format!(
                    "the system is prohibited ({}) and cannot be registered",
                    rules.join("; ")
                )));
            }
        }
        if req.to == St::Submitted && sys.filing_number.is_none() {
            let year = now.year();
            let seq = tx.next_filing_sequence(year).await?;
            sys.filing_number = Some(
                FilingNumber::new(year, seq)
                    .ok_or_else(|| Error::Store(format!("filing sequence of {year} exhausted")))?,
            );
        }
        if req.to == St::Registered && sys.registered_at.is_none() {
            sys.registered_at = Some(now);
        }
        sys.state = req.to;
        if matches!(req.to, St::Suspended | St::Cancelled) {
            let reason = if req.to == St::Suspended {
                "certificate_hold"
            } else {
                "cessation_of_operation"
            };
            for cert in tx.certificates_of(sys.id).await? {
                if cert.status == CertificateStatus::Active {
                    self.revoke_in(&mut tx, p, cert, reason, now).await?;
                }
            }
        }
        let (sys, _, log) = self
            .save_change(tx, p, now, sys, &before, "transition", Some(req.reason))
            .await?;
        Ok(Recorded { value: sys, log })
    }

    /// Evidence kinds missing for leaving `stage` at the system's worst-case tier.
    pub fn missing_evidence(
        &self,
        system: &System,
        evidence: &[Evidence],
        stage: LifecycleStage,
    ) -> Vec<String> {
        self.classifier
            .tiers()
            .required_evidence(system.classification.worst_case_tier, stage)
            .iter()
            .filter(|kind| {
                !evidence
                    .iter()
                    .any(|e| e.stage == stage && &e.kind == *kind)
            })
            .cloned()
            .collect()
    }

    /// Moves a system to another lifecycle stage. Moving forward needs, for every stage left
    /// behind, the evidence its worst-case tier requires; moving back (to rework) does not.
    pub async fn change_stage(
        &self,
        p: &Principal,
        id: Uuid,
        req: StageRequest,
        now: DateTime<Utc>,
    ) -> Result<Recorded<System>> {
        require_reason(&req.reason)?;
        let mut tx = self.store.write().await?;
        let before = self.load_visible(&mut tx, p, id).await?;
        self.check_owner(p, &before)?;
        if before.state == St::Cancelled {
            return Err(Error::Conflict(
                "a cancelled system cannot change stage".into(),
            ));
        }
        let pos = |s: LifecycleStage| {
            LifecycleStage::ORDER
                .iter()
                .position(|x| *x == s)
                .unwrap_or(0)
        };
        let (from, to) = (pos(before.stage), pos(req.to));
        if before.stage == LifecycleStage::Retired {
            return Err(Error::Conflict(
                "a retired system cannot change stage".into(),
            ));
        }
        if from == to {
            return Err(Error::Conflict(format!(
                "the system is already in stage {}",
                req.to.as_str()
            )));
        }
        if to > from {
            let evidence = tx.evidence(id).await?;
            for stage in &LifecycleStage::ORDER[from..to] {
                // Maintenance is entered from operation and left back to it; skipping over it
                // on the way to retirement does not need its evidence.
                if *stage == LifecycleStage::Maintenance && *stage != before.stage {
                    continue;
                }
                let missing = self.missing_evidence(&before, &evidence, *stage);
                if !missing.is_empty() {
                    return Err(Error::MissingEvidence {
                        stage: *stage,
                        missing,
                    });
                }
            }
        }
        let mut sys = before.clone();
        sys.stage = req.to;
        sys.facts.lifecycle_stage = Some(req.to);
        sys.classification = self.classify(&sys.facts, now);
        let (sys, _, log) = self
            .save_change(tx, p, now, sys, &before, "stage", Some(req.reason))
            .await?;
        Ok(Recorded { value: sys, log })
    }

    /// Attaches safety evidence to a system.
    pub async fn add_evidence(
        &self,
        p: &Principal,
        id: Uuid,
        req: NewEvidence,
        now: DateTime<Utc>,
    ) -> Result<Recorded<Evidence>> {
        let mut tx = self.store.write().await?;
        let sys = self.load_visible(&mut tx, p, id).await?;
        self.check_owner(p, &sys)?;
        let kind = req.kind.trim();
        if kind.is_empty()
            || !kind
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit())
        {
            return Err(Error::invalid(
                "kind",
                "must be a lower-case identifier such as test_report",
            ));
        }
        if req.title.trim().is_empty() {
            return Err(Error::invalid("title", "must not be empty"));
        }
        if let Some(h) = &req.sha256
            && !is_hex64(h)
        {
            return Err(Error::invalid("sha256", "must be 64 hexadecimal digits"));
        }
        if req.uri.as_deref().is_none_or(|u| u.trim().is_empty()) && req.sha256.is_none() {
            return Err(Error::invalid(
                "uri",
                "give a uri or a sha256 of the document",
            ));
        }
        let ev = Evidence {
            id: Uuid::new_v4(),
            system: id,
            stage: req.stage.unwrap_or(sys.stage),
            kind: kind.to_string(),
            title: req.title.trim().to_string(),
            uri: req.uri,
            sha256: req.sha256.map(|h| h.to_ascii_lowercase()),
            added_by: p.name.clone(),
            added_at: now,
        };
        tx.insert_evidence(&ev).await?;
        let log = self
            .record(
                &mut tx,
                p,
                now,
                "system.evidence",
                id.to_string(),
                (serde_json::Value::Null, json!(ev)),
            )
            .await?;
        self.finish(tx, log, ev).await
    }

    /// Attaches an uploaded document as evidence: it is stored under its SHA-256 and the
    /// evidence record points at it (`uri` = `aigov:blob/sha256/<hex>`).
    pub async fn upload_evidence(
        &self,
        p: &Principal,
        id: Uuid,
        meta: EvidenceUpload,
        bytes: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Recorded<Evidence>> {
        {
            // Check rights before storing anything.
            let mut tx = self.store.read().await?;
            let sys = self.load_visible(&mut tx, p, id).await?;
            self.check_owner(p, &sys)?;
        }
        if bytes.is_empty() {
            return Err(Error::invalid("body", "the uploaded document is empty"));
        }
        let mut checked = None;
        if meta.kind == PII_SCAN_KIND {
            check_pii_summary(bytes)?;
        } else if meta.kind == MODEL_SIGNATURE_KIND {
            checked = Some(self.check_model_signature(id, bytes).await?);
        } else if meta.kind == AI_BOM_KIND {
            checked = Some(check_ai_bom(bytes)?);
        }
        let sha = hex::encode(Sha256::digest(bytes));
        self.store.put_blob(&sha, bytes).await?;
        let mut title = match &meta.filename {
            Some(f) if !f.trim().is_empty() => format!("{} ({})", meta.title.trim(), f.trim()),
            _ => meta.title.clone(),
        };
        if let Some(c) = checked {
            title = format!("{title} [{c}]");
        }
        self.add_evidence(
            p,
            id,
            NewEvidence {
                stage: meta.stage,
                kind: meta.kind,
                title,
                uri: Some(format!("aigov:blob/sha256/{sha}")),
                sha256: Some(sha),
            },
            now,
        )
        .await
    }

    /// A `model_signature` document must be an OpenSSF model-signing bundle signed for this
    /// system: in certificate mode by one of the system's active registry certificates (chain
    /// to the registry CA checked), in key mode by the key of one of them. Returns a short
    /// description (model name, root digest, certificate serial) for the evidence title.
    async fn check_model_signature(&self, id: Uuid, bytes: &[u8]) -> Result<String> {
        use aigov_supply::oms::bundle::{Bundle, Material};
        use aigov_supply::oms::keys::pem_blocks;
        use aigov_supply::oms::{Trust, chain, verify_signature};
        let invalid = |m: String| Error::invalid("body", m);
        let bundle = Bundle::parse(bytes).map_err(|e| {
            invalid(format!(
                "a model_signature document must be an OpenSSF model-signing bundle (`aigov model sign`): {e}"
            ))
        })?;
        let certs = {
            let mut tx = self.store.read().await?;
            tx.certificates_of(id).await?
        };
        let der = |pem: &str| {
            pem_blocks(pem.as_bytes())
                .ok()
                .and_then(|b| b.into_iter().find(|x| x.label == "CERTIFICATE"))
                .map(|b| b.der)
        };
        let active = || {
            certs
                .iter()
                .filter(|c| c.status == CertificateStatus::Active)
        };
        let (verified, serial) = match &bundle.material {
            Material::Chain(chain) => {
                let cert = certs
                    .iter()
                    .find(|c| der(&c.certificate).as_ref() == chain.first())
                    .ok_or_else(|| {
                        invalid(
                            "the signing certificate is not one the registry issued to this system"
                                .into(),
                        )
                    })?;
                if cert.status != CertificateStatus::Active {
                    return Err(invalid(format!(
                        "the signing certificate {} is revoked",
                        cert.serial
                    )));
                }
                let (issuing, root) = self.ca_certificates()?;
                let anchors = [der(&root), der(&issuing)].into_iter().flatten().collect();
                let v = verify_signature(&bundle, &Trust::Certificates { anchors, at: None })
                    .map_err(|e| invalid(format!("the model signature does not verify: {e}")))?;
                (v, cert.serial.clone())
            }
            Material::PublicKey { .. } => {
                let found = active().find_map(|c| {
                    let key = chain::certificate_key(&der(&c.certificate)?).ok()?;
                    verify_signature(&bundle, &Trust::Key(key))
                        .ok()
                        .map(|v| (v, c.serial.clone()))
                });
                found.ok_or_else(|| {
                    invalid(
                        "the model signature was not made with the key of any active certificate of this system"
                            .into(),
                    )
                })?
            }
            Material::Certificate(_) => {
                return Err(invalid(
                    "a Sigstore bundle cannot be tied to a registered system; sign with the system's registry certificate (`aigov model sign --key … --cert …`)"
                        .into(),
                ));
            }
        };
        let root = verified
            .signed
            .root_digest
            .map(|d| format!("sha256:{}", hex::encode(d)))
            .unwrap_or_else(|| "no root digest".into());
        Ok(format!(
            "model {} {root}, signed with certificate {serial}",
            verified.signed.manifest.model_name
        ))
    }

    /// An uploaded evidence document.
    pub async fn evidence_document(
        &self,
        p: &Principal,
        id: Uuid,
        evidence: Uuid,
    ) -> Result<(Evidence, Vec<u8>)> {
        let ev = {
            let mut tx = self.store.read().await?;
            self.load_visible(&mut tx, p, id).await?;
            tx.evidence(id)
                .await?
                .into_iter()
                .find(|e| e.id == evidence)
        };
        let not_found = || Error::NotFound(format!("uploaded document of evidence {evidence}"));
        let ev = ev.ok_or_else(not_found)?;
        let stored = ev
            .uri
            .as_deref()
            .is_some_and(|u| u.starts_with("aigov:blob/sha256/"));
        let sha = ev.sha256.clone().filter(|_| stored).ok_or_else(not_found)?;
        let bytes = self.store.get_blob(&sha).await?.ok_or_else(not_found)?;
        if hex::encode(Sha256::digest(&bytes)) != sha {
            return Err(Error::Store(format!(
                "stored document {sha} does not match its hash"
            )));
        }
        Ok((ev, bytes))
    }

    /// Evidence of a system, with what its current stage still lacks.
    pub async fn evidence(&self, p: &Principal, id: Uuid) -> Result<(Vec<Evidence>, Vec<String>)> {
        let mut tx = self.store.read().await?;
        let sys = self.load_visible(&mut tx, p, id).await?;
        let ev = tx.evidence(id).await?;
        let missing = self.missing_evidence(&sys, &ev, sys.stage);
        Ok((ev, missing))
    }

    /// The revisions of a system.
    pub async fn revisions(&self, p: &Principal, id: Uuid) -> Result<Vec<Revision>> {
        let mut tx = self.store.read().await?;
        self.load_visible(&mut tx, p, id).await?;
        tx.revisions(id).await
    }

    // ---- public registry ------------------------------------------------------------------

    /// Searches the public registry (no authentication).
    pub async fn public_search(&self, mut q: PublicQuery) -> Result<Vec<PublicSystem>> {
        if let Some(f) = &q.filing_number {
            q.filing_number = Some(
                FilingNumber::parse(f)
                    .map_err(|m| Error::invalid("filing_number", m))?
                    .to_string(),
            );
        }
        q.limit = Some(self.limit(q.limit));
        let mut tx = self.store.read().await?;
        tx.public_systems(&q).await
    }

    /// One public system by filing number.
    pub async fn public_system(&self, filing_number: &str) -> Result<PublicSystem> {
        let number =
            FilingNumber::parse(filing_number).map_err(|m| Error::invalid("filing_number", m))?;
        let mut tx = self.store.read().await?;
        tx.public_system(&number)
            .await?
            .ok_or_else(|| Error::NotFound(format!("registered system {number}")))
    }

    // ---- certificates ----------------------------------------------------------------------

    /// Issues a certificate for a registered system from its provider's request.
    pub async fn issue_certificate(
        &self,
        p: &Principal,
        id: Uuid,
        req: CertificateRequest,
        now: DateTime<Utc>,
    ) -> Result<Recorded<Certificate>> {
        let ca = self.ca.as_ref().ok_or_else(no_ca)?;
        let mut tx = self.store.write().await?;
        let sys = self.load_visible(&mut tx, p, id).await?;
        self.check_owner(p, &sys)?;
        let filing = match (&sys.filing_number, sys.state) {
            (Some(f), St::Registered | St::Changed) => f.clone(),
            _ => {
                return Err(Error::Conflict(format!(
                    "certificates are issued to registered systems; this one is {}",
                    sys.state
                )));
            }
        };
        let org = tx
            .organisation(sys.organisation)
            .await?
            .ok_or_else(|| Error::Store(format!("organisation of system {id} is missing")))?;
        let subject = SystemSubject {
            filing_number: filing.to_string(),
            system_name: sys.name.clone(),
            organisation: org.name.clone(),
            tier: sys.classification.tier.to_string(),
        };
        let mut serial = [0u8; 16];
        rand::rng().fill_bytes(&mut serial);
        serial[0] &= 0x7f;
        serial[0] |= 0x01;
        let days = req.days.unwrap_or(365);
        let pem =
            aigov_pki::issue(ca, &req.csr, &subject, &serial, now, days).map_err(|e| match e {
                aigov_pki::Error::Csr(m) => Error::invalid("csr", m),
                other => Error::Store(other.to_string()),
            })?;
        let info = aigov_pki::inspect(&pem).map_err(|e| Error::Store(e.to_string()))?;
        let mut cert = Certificate {
            serial: info.serial,
            system: id,
            filing_number: filing,
            tier: sys.classification.tier,
            certificate: pem,
            chain: format!("{}{}", ca.issuing_cert, ca.root_cert),
            not_before: info.not_before,
            not_after: info.not_after,
            status: CertificateStatus::Active,
            revoked_at: None,
            revocation_reason: None,
            log_index: 0,
        };
        let mut logged = cert.clone();
        logged.chain = String::new();
        let log = self
            .record(
                &mut tx,
                p,
                now,
                "certificate.issue",
                cert.serial.clone(),
                (serde_json::Value::Null, json!(logged)),
            )
            .await?;
        cert.log_index = log;
        tx.insert_certificate(&cert).await?;
        self.finish(tx, log, cert).await
    }

    async fn revoke_in<T: Tx>(
        &self,
        tx: &mut T,
        p: &Principal,
        mut cert: Certificate,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<(Certificate, u64)> {
        let before = json!({"serial": cert.serial, "status": cert.status});
        cert.status = CertificateStatus::Revoked;
        cert.revoked_at = Some(now.trunc_subsecs(0));
        cert.revocation_reason = Some(reason.to_string());
        tx.update_certificate(&cert).await?;
        let after = json!({"serial": cert.serial, "status": cert.status, "reason": reason, "system": cert.system});
        let index = self
            .record(
                tx,
                p,
                now,
                "certificate.revoke",
                cert.serial.clone(),
                (before, after),
            )
            .await?;
        Ok((cert, index))
    }

    /// Revokes a certificate (its provider, regulators and admins).
    pub async fn revoke_certificate(
        &self,
        p: &Principal,
        serial: &str,
        req: RevokeRequest,
        now: DateTime<Utc>,
    ) -> Result<Recorded<Certificate>> {
        if aigov_pki::Reason::parse(&req.reason).is_none() {
            return Err(Error::invalid(
                "reason",
                "one of key_compromise, affiliation_changed, superseded, cessation_of_operation, certificate_hold, unspecified",
            ));
        }
        let mut tx = self.store.write().await?;
        let not_found = || Error::NotFound(format!("certificate {serial}"));
        let cert = tx
            .certificate(&serial.to_ascii_lowercase())
            .await?
            .ok_or_else(not_found)?;
        let sys = self
            .load_visible(&mut tx, p, cert.system)
            .await
            .map_err(|_| not_found())?;
        if !p.is(&[Role::Admin, Role::Regulator]) {
            self.check_owner(p, &sys)?;
        }
        if cert.status == CertificateStatus::Revoked {
            return Err(Error::Conflict(format!(
                "certificate {serial} is already revoked"
            )));
        }
        let (cert, index) = self.revoke_in(&mut tx, p, cert, &req.reason, now).await?;
        self.finish(tx, index, cert).await
    }

    /// A certificate's public record (status, validity, filing number; no token needed).
    pub async fn certificate(&self, serial: &str) -> Result<Certificate> {
        let mut tx = self.store.read().await?;
        tx.certificate(&serial.trim().to_ascii_lowercase())
            .await?
            .ok_or_else(|| Error::NotFound(format!("certificate {serial}")))
    }

    /// Certificates of a system visible to the principal.
    pub async fn certificates_of(&self, p: &Principal, id: Uuid) -> Result<Vec<Certificate>> {
        let mut tx = self.store.read().await?;
        self.load_visible(&mut tx, p, id).await?;
        tx.certificates_of(id).await
    }

    /// The CRL (DER), signed now, valid for 7 days; its number is the log size, which only
    /// grows.
    pub async fn crl(&self, now: DateTime<Utc>) -> Result<Vec<u8>> {
        let ca = self.ca.as_ref().ok_or_else(no_ca)?;
        let mut tx = self.store.read().await?;
        let revoked = tx.revoked_certificates().await?;
        let number = tx.log_size().await?;
        let list: Vec<aigov_pki::Revoked> = revoked
            .iter()
            .filter_map(|c| {
                Some(aigov_pki::Revoked {
                    serial: hex::decode(&c.serial).ok()?,
                    at: c.revoked_at?,
                    reason: c
                        .revocation_reason
                        .as_deref()
                        .and_then(aigov_pki::Reason::parse)
                        .unwrap_or(aigov_pki::Reason::Unspecified),
                })
            })
            .collect();
        aigov_pki::crl(ca, &list, number, now, now + chrono::Duration::days(7))
            .map_err(|e| Error::Store(e.to_string()))
    }

    // ---- transparency log ------------------------------------------------------------------

    /// The latest signed checkpoint, if the log has entries.
    pub async fn log_checkpoint(&self) -> Result<Option<String>> {
        let mut tx = self.store.read().await?;
        Ok(tx.latest_checkpoint().await?.map(|(_, note)| note))
    }

    /// A hash tile or entry bundle of the log at its latest checkpoint (C2SP tlog-tiles).
    pub async fn log_tile(&self, id: TileId) -> Result<Vec<u8>> {
        let mut tx = self.store.read().await?;
        let size = tx.latest_checkpoint().await?.map_or(0, |(s, _)| s);
        let not_found = || Error::NotFound(format!("{} in a log of {size} entries", id.path()));
        let first = id.index.checked_mul(tile::WIDTH).ok_or_else(not_found)?;
        let end = first
            .checked_add(u64::from(id.width))
            .ok_or_else(not_found)?;
        match id.level {
            None => {
                if end > size {
                    return Err(not_found());
                }
                let entries = tx.log_entries(first, end).await?;
                if entries.len() as u64 != end - first {
                    return Err(Error::Store(format!(
                        "log entries {first}..{end} are missing"
                    )));
                }
                tile::bundle(&entries).map_err(|e| Error::Store(e.to_string()))
            }
            Some(level) => {
                let height = 8 * u32::from(level);
                let available = if height >= 64 { 0 } else { size >> height };
                if end > available {
                    return Err(not_found());
                }
                let ids: Vec<(u32, u64)> = (first..end).map(|i| (height, i)).collect();
                let nodes = tx.log_nodes(&ids).await?;
                if nodes.len() != ids.len() {
                    return Err(Error::Store(format!(
                        "log nodes of {} are missing",
                        id.path()
                    )));
                }
                Ok(nodes.iter().flat_map(|(_, h)| h.0).collect())
            }
        }
    }

    // ---- tokens ---------------------------------------------------------------------------

    /// Creates an API token (admins).
    pub async fn create_token(
        &self,
        p: &Principal,
        req: NewToken,
        now: DateTime<Utc>,
    ) -> Result<Recorded<CreatedToken>> {
        self.require(p, &[Role::Admin])?;
        if req.name.trim().is_empty() {
            return Err(Error::invalid("name", "must not be empty"));
        }
        match (req.role, req.organisation) {
            (Role::Provider, None) => {
                return Err(Error::invalid(
                    "organisation",
                    "a provider token needs an organisation",
                ));
            }
            (r, Some(_)) if r != Role::Provider => {
                return Err(Error::invalid(
                    "organisation",
                    "only provider tokens are scoped to an organisation",
                ));
            }
            _ => {}
        }
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let secret = format!("aigov_{}", hex::encode(bytes));
        let token = Token {
            id: Uuid::new_v4(),
            name: req.name.trim().to_string(),
            role: req.role,
            organisation: req.organisation,
            created_at: now,
            revoked_at: None,
        };
        let mut tx = self.store.write().await?;
        if let Some(org) = token.organisation
            && tx.organisation(org).await?.is_none()
        {
            return Err(Error::invalid(
                "organisation",
                format!("no organisation {org}"),
            ));
        }
        tx.insert_token(&token, &hash_secret(&secret)).await?;
        let log = self
            .record(
                &mut tx,
                p,
                now,
                "token.create",
                token.id.to_string(),
                (serde_json::Value::Null, json!(token)),
            )
            .await?;
        self.finish(tx, log, CreatedToken { token, secret }).await
    }

    /// Revokes a token (admins).
    pub async fn revoke_token(
        &self,
        p: &Principal,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Recorded<Token>> {
        self.require(p, &[Role::Admin])?;
        let mut tx = self.store.write().await?;
        let before = tx
            .token(id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("token {id}")))?;
        if before.revoked_at.is_some() {
            return Err(Error::Conflict(format!("token {id} is already revoked")));
        }
        let mut t = before.clone();
        t.revoked_at = Some(now);
        tx.update_token(&t).await?;
        let log = self
            .record(
                &mut tx,
                p,
                now,
                "token.revoke",
                id.to_string(),
                (json!(before), json!(t)),
            )
            .await?;
        self.finish(tx, log, t).await
    }

    /// All tokens (admins).
    pub async fn tokens(&self, p: &Principal) -> Result<Vec<Token>> {
        self.require(p, &[Role::Admin])?;
        let mut tx = self.store.read().await?;
        tx.tokens().await
    }
}

/// Evidence kind of a model signature (`aigov model sign`): an OpenSSF model-signing bundle,
/// checked against the system's registry certificates on upload.
pub const MODEL_SIGNATURE_KIND: &str = "model_signature";

/// Evidence kind of an AI bill of materials (`aigov bom generate`).
pub const AI_BOM_KIND: &str = "ai_bom";

/// An `ai_bom` document must be a CycloneDX ML-BOM (1.5 or later) whose subject is a
/// machine-learning model, or an SPDX 3.0.1 document with an AI package. Returns a short
/// description for the evidence title.
fn check_ai_bom(bytes: &[u8]) -> Result<String> {
    let invalid = |m: &str| {
        Error::invalid(
            "body",
            format!(
                "an ai_bom document must be a CycloneDX ML-BOM or an SPDX 3.0.1 AI document (`aigov bom generate`): {m}"
            ),
        )
    };
    let v: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| invalid(&format!("not JSON: {e}")))?;
    if v["bomFormat"] == "CycloneDX" {
        let spec = v["specVersion"].as_str().unwrap_or("");
        if !matches!(spec, "1.5" | "1.6" | "1.7") {
            return Err(invalid(&format!(
                "specVersion {spec:?} has no ML-BOM support (1.5 or later)"
            )));
        }
        let model = &v["metadata"]["component"];
        if model["type"] != "machine-learning-model" {
            return Err(invalid(
                "metadata.component is not a machine-learning-model",
            ));
        }
        let root = aigov_supply::bom::oms_root_digest(&v).unwrap_or("no root digest");
        return Ok(format!(
            "CycloneDX {spec} ML-BOM of {} {root}",
            model["name"].as_str().unwrap_or("?")
        ));
    }
    if v["@context"] == aigov_supply::bom::SPDX_CONTEXT {
        let graph = v["@graph"]
            .as_array()
            .ok_or_else(|| invalid("@graph is missing"))?;
        let model = graph
            .iter()
            .find(|e| e["type"] == "ai_AIPackage")
            .ok_or_else(|| invalid("no ai_AIPackage element"))?;
        return Ok(format!(
            "SPDX 3.0.1 AI BOM of {}",
            model["name"].as_str().unwrap_or("?")
        ));
    }
    Err(invalid(
        "neither bomFormat CycloneDX nor the SPDX 3.0.1 context",
    ))
}

/// Evidence kind of a personal-information scan summary (`aigov pii scan --summary`).
pub const PII_SCAN_KIND: &str = "pii_scan";

/// A `pii_scan` document must be a scan summary: the registry shows its counts to reviewers,
/// so it refuses anything else.
fn check_pii_summary(bytes: &[u8]) -> Result<()> {
    use aigov_pii::report::{SUMMARY_FORMAT, Summary};
    let summary: Summary = serde_json::from_slice(bytes).map_err(|e| {
        Error::invalid(
            "body",
            format!("a pii_scan document must be the JSON summary written by `aigov pii scan --summary`: {e}"),
        )
    })?;
    if summary.format != SUMMARY_FORMAT {
        return Err(Error::invalid(
            "body",
            format!(
                "a pii_scan summary must have format {SUMMARY_FORMAT:?}, not {:?}",
                summary.format
            ),
        ));
    }
    Ok(())
}
