//! Handlers of the `/v1` API. Each one extracts, calls the registry, and returns JSON: no
//! business logic lives here.

use aigov_policy::classify::{Classification, ClassificationDiff};
use aigov_policy::{FactFormat, SystemFacts, Tier};
use aigov_registry::model::*;
use aigov_registry::store::Store;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery, Auth, RawBody};

type ApiResult<T> = Result<Json<T>, ApiError>;

fn parse_id(s: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(s).map_err(|_| ApiError::invalid("id", format!("'{s}' is not a UUID")))
}

/// Health response.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct Health {
    /// Always `ok` when the server answers.
    pub status: String,
    /// aigov version.
    pub version: String,
}

/// `GET /healthz`
pub async fn health() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    })
}

/// `GET /v1/whoami`
pub async fn whoami(Auth(p): Auth) -> Json<Principal> {
    Json(p)
}

/// Query of `POST /v1/classify`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClassifyQuery {
    /// Evaluate as of this date (default: today).
    #[serde(default)]
    pub as_of: Option<NaiveDate>,
}

/// `POST /v1/classify`: classify facts without registering anything (no token needed).
pub async fn classify<S: Store>(
    State(st): State<AppState<S>>,
    ApiQuery(q): ApiQuery<ClassifyQuery>,
    ApiJson(facts): ApiJson<SystemFacts>,
) -> ApiResult<Classification> {
    let date = q.as_of.unwrap_or_else(|| (st.clock)().date_naive());
    Ok(Json(st.registry.classifier().classify(&facts, date)))
}

/// `POST /v1/classify/toml`: the same, for a TOML fact file sent as `application/toml`.
pub async fn classify_toml<S: Store>(
    State(st): State<AppState<S>>,
    ApiQuery(q): ApiQuery<ClassifyQuery>,
    body: Bytes,
) -> ApiResult<Classification> {
    let text = std::str::from_utf8(&body)
        .map_err(|e| ApiError::invalid("body", format!("not UTF-8: {e}")))?;
    let facts = aigov_policy::parse_facts(text, FactFormat::Toml).map_err(|e| match e {
        aigov_policy::Error::Facts { path, message } => ApiError::invalid(path, message),
        other => ApiError::invalid("body", other.to_string()),
    })?;
    let date = q.as_of.unwrap_or_else(|| (st.clock)().date_naive());
    Ok(Json(st.registry.classifier().classify(&facts, date)))
}

/// A rule pack as listed by `GET /v1/rules`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct PackInfo {
    /// Pack id.
    pub id: String,
    /// Version.
    pub version: String,
    /// Title.
    pub title: String,
    /// Jurisdiction.
    pub jurisdiction: String,
    /// Rules: id, title, source, tier, in force from.
    pub rules: Vec<RuleInfo>,
}

/// A rule as listed by `GET /v1/rules`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct RuleInfo {
    /// Rule id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Source citation.
    pub source: String,
    /// Tier.
    pub tier: Tier,
    /// In force from.
    pub applies_from: NaiveDate,
    /// In force until (exclusive).
    pub until: Option<NaiveDate>,
}

/// `GET /v1/rules`
pub async fn rules<S: Store>(State(st): State<AppState<S>>) -> Json<Vec<PackInfo>> {
    let packs = st.registry.classifier().packs().packs();
    Json(
        packs
            .iter()
            .map(|p| PackInfo {
                id: p.id.clone(),
                version: p.version.clone(),
                title: p.title.clone(),
                jurisdiction: p.jurisdiction.clone(),
                rules: p
                    .rules
                    .iter()
                    .map(|r| RuleInfo {
                        id: r.id.clone(),
                        title: r.title.clone(),
                        source: r.source.clone(),
                        tier: r.tier,
                        applies_from: r.applies_from,
                        until: r.until,
                    })
                    .collect(),
            })
            .collect(),
    )
}

/// `GET /v1/public/systems`
pub async fn public_search<S: Store>(
    State(st): State<AppState<S>>,
    ApiQuery(q): ApiQuery<PublicQuery>,
) -> ApiResult<Vec<PublicSystem>> {
    Ok(Json(st.registry.public_search(q).await?))
}

/// `GET /v1/public/systems/{filing_number}`
pub async fn public_system<S: Store>(
    State(st): State<AppState<S>>,
    Path(number): Path<String>,
) -> ApiResult<PublicSystem> {
    Ok(Json(st.registry.public_system(&number).await?))
}

/// `GET /v1/organisations`
pub async fn organisations<S: Store>(
    State(st): State<AppState<S>>,
    Auth(p): Auth,
) -> ApiResult<Vec<Organisation>> {
    Ok(Json(st.registry.organisations(&p).await?))
}

/// `POST /v1/organisations`
pub async fn create_organisation<S: Store>(
    State(st): State<AppState<S>>,
    Auth(p): Auth,
    ApiJson(req): ApiJson<NewOrganisation>,
) -> Result<(StatusCode, Json<Recorded<Organisation>>), ApiError> {
    let org = st
        .registry
        .create_organisation(&p, req, (st.clock)())
        .await?;
    Ok((StatusCode::CREATED, Json(org)))
}

/// Query of `GET /v1/systems`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only this organisation.
    #[serde(default)]
    pub organisation: Option<Uuid>,
    /// Only these states (comma-separated).
    #[serde(default)]
    pub state: Option<String>,
    /// Only this tier.
    #[serde(default)]
    pub tier: Option<Tier>,
    /// Text in the name, provider or filing number.
    #[serde(default)]
    pub q: Option<String>,
    /// Page size.
    #[serde(default)]
    pub limit: Option<u32>,
    /// Results to skip.
    #[serde(default)]
    pub offset: Option<u32>,
}

/// `GET /v1/systems`
pub async fn systems<S: Store>(
    State(st): State<AppState<S>>,
    Auth(p): Auth,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Vec<System>> {
    let mut states = Vec::new();
    for s in q
        .state
        .iter()
        .flat_map(|s| s.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        states.push(
            SystemState::parse(s)
                .ok_or_else(|| ApiError::invalid("state", format!("unknown state '{s}'")))?,
        );
    }
    let filter = SystemFilter {
        organisation: q.organisation,
        states,
        q: q.q,
        tier: q.tier,
        limit: q.limit,
        offset: q.offset,
    };
    Ok(Json(st.registry.systems(&p, filter).await?))
}

/// `POST /v1/systems`
pub async fn create_system<S: Store>(
    State(st): State<AppState<S>>,
    Auth(p): Auth,
    ApiJson(req): ApiJson<NewSystem>,
) -> Result<(StatusCode, Json<Recorded<System>>), ApiError> {
    let s = st.registry.create_system(&p, req, (st.clock)()).await?;
    Ok((StatusCode::CREATED, Json(s)))
}

/// `GET /v1/systems/{id}`
pub async fn system<S: Store>(
    State(st): State<AppState<S>>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> ApiResult<System> {
    Ok(Json(st.registry.system(&p, parse_id(&id)?).await?))
}

/// Response of `PUT /v1/systems/{id}`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct Updated {
    /// The system after the change.
    pub system: System,
    /// How its classification changed.
    pub diff: ClassificationDiff,
}

/// `PUT /v1/systems/{id}`
pub async fn update_system<S: Store>(
    State(st): State<AppState<S>>,
    Auth(p): Auth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<UpdateSystem>,
) -> ApiResult<Recorded<Updated>> {
    let Recorded {
        value: (system, diff),
        log,
    } = st
        .registry
        .update_system(&p, parse_id(&id)?, req, (st.clock)())
        .await?;
    Ok(Json(Recorded {
        value: Updated { system, diff },
        log,
    }))
}

/// `POST /v1/systems/{id}/transitions`
pub async fn transition<S: Store>(
    State(st): State<AppState<S>>,
    Auth(p): Auth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<TransitionRequest>,
) -> ApiResult<Recorded<System>> {
    Ok(Json(
        st.registry
            .transition(&p, parse_id(&id)?, req, (st.clock)())
            .await?,
    ))
}

/// `POST /v1/systems/{id}/stage`
pub async fn stage<S: Store>(
    State(st): State<AppState<S>>,
    Auth(p): Auth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<StageRequest>,
) -> ApiResult<Recorded<System>> {
    Ok(Json(
        st.registry
            .change_stage(&p, parse_id(&id)?, req, (st.clock)())
            .await?,
    ))
}

/// `GET /v1/systems/{id}/revisions`
pub async fn revisions<S: Store>(
    State(st): State<AppState<S>>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> ApiResult<Vec<Revision>> {
    Ok(Json(st.registry.revisions(&p, parse_id(&id)?).await?))
}

/// Response of `GET /v1/systems/{id}/evidence`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct EvidenceList {
    /// Evidence attached.
    pub evidence: Vec<Evidence>,
    /// Evidence kinds the current stage still needs before the system may move on.
    pub missing: Vec<String>,
}

/// `GET /v1/systems/{id}/evidence`
pub async fn evidence<S: Store>(
    State(st): State<AppState<S>>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> ApiResult<EvidenceList> {
    let (evidence, missing) = st.registry.evidence(&p, parse_id(&id)?).await?;
    Ok(Json(EvidenceList { evidence, missing }))
}

/// `POST /v1/systems/{id}/evidence`
pub async fn add_evidence<S: Store>(
    State(st): State<AppState<S>>,
    Auth(p): Auth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<NewEvidence>,
) -> Result<(StatusCode, Json<Recorded<Evidence>>), ApiError> {
    let e = st
        .registry
        .add_evidence(&p, parse_id(&id)?, req, (st.clock)())
        .await?;
    Ok((StatusCode::CREATED, Json(e)))
}

/// `POST /v1/systems/{id}/evidence/upload?kind=…&title=…[&stage=…][&filename=…]`: the body is
/// the document; it is stored under its SHA-256 and attached as evidence.
pub async fn upload_evidence<S: Store>(
    State(st): State<AppState<S>>,
    Auth(p): Auth,
    Path(id): Path<String>,
    ApiQuery(meta): ApiQuery<EvidenceUpload>,
    RawBody(body): RawBody,
) -> Result<(StatusCode, Json<Recorded<Evidence>>), ApiError> {
    let e = st
        .registry
        .upload_evidence(&p, parse_id(&id)?, meta, &body, (st.clock)())
        .await?;
    Ok((StatusCode::CREATED, Json(e)))
}

/// `GET /v1/systems/{id}/evidence/{evidence}/document`: an uploaded document, as stored.
pub async fn evidence_document<S: Store>(
    State(st): State<AppState<S>>,
    Auth(p): Auth,
    Path((id, evidence)): Path<(String, String)>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let (ev, bytes) = st
        .registry
        .evidence_document(&p, parse_id(&id)?, parse_id(&evidence)?)
        .await?;
    let sha = ev.sha256.unwrap_or_default();
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/octet-stream".to_string(),
            ),
            (
                axum::http::header::HeaderName::from_static("x-content-sha256"),
                sha,
            ),
        ],
        bytes,
    )
        .into_response())
}

/// Query of `GET /v1/audit`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Events after this sequence number.
    #[serde(default)]
    pub after: u64,
    /// Page size.
    #[serde(default)]
    pub limit: Option<u32>,
}

/// `GET /v1/audit`
pub async fn audit<S: Store>(
    State(st): State<AppState<S>>,
    Auth(p): Auth,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Vec<AuditEvent>> {
    Ok(Json(st.registry.audit_events(&p, q.after, q.limit).await?))
}

/// `GET /v1/audit/verify`
pub async fn audit_verify<S: Store>(
    State(st): State<AppState<S>>,
    Auth(p): Auth,
) -> ApiResult<AuditVerification> {
    Ok(Json(st.registry.verify_audit(&p).await?))
}

/// `GET /v1/tokens`
pub async fn tokens<S: Store>(
    State(st): State<AppState<S>>,
    Auth(p): Auth,
) -> ApiResult<Vec<Token>> {
    Ok(Json(st.registry.tokens(&p).await?))
}

/// `POST /v1/tokens`
pub async fn create_token<S: Store>(
    State(st): State<AppState<S>>,
    Auth(p): Auth,
    ApiJson(req): ApiJson<NewToken>,
) -> Result<(StatusCode, Json<Recorded<CreatedToken>>), ApiError> {
    let t = st.registry.create_token(&p, req, (st.clock)()).await?;
    Ok((StatusCode::CREATED, Json(t)))
}

/// `DELETE /v1/tokens/{id}`
pub async fn revoke_token<S: Store>(
    State(st): State<AppState<S>>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> ApiResult<Recorded<Token>> {
    Ok(Json(
        st.registry
            .revoke_token(&p, parse_id(&id)?, (st.clock)())
            .await?,
    ))
}

/// `GET /log/checkpoint`: the latest signed checkpoint (text/plain; never cached for long).
pub async fn log_checkpoint<S: Store>(
    State(st): State<AppState<S>>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let note = st.registry.log_checkpoint().await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "the log has no entries yet",
        )
    })?;
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/plain; charset=utf-8",
            ),
            (axum::http::header::CACHE_CONTROL, "no-cache"),
        ],
        note,
    )
        .into_response())
}

/// `GET /log/key`: the log's verifier key (`<origin>+<key id>+<key>`). Auditors should get it
/// out of band; this copy is a convenience.
pub async fn log_key<S: Store>(State(st): State<AppState<S>>) -> String {
    format!("{}\n", st.registry.log_verifier().encode())
}

/// `GET /log/tile/{*path}`: hash tiles and entry bundles (C2SP tlog-tiles). Full tiles never
/// change and are cacheable forever; partial tiles for a short while.
pub async fn log_tile<S: Store>(
    State(st): State<AppState<S>>,
    Path(path): Path<String>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let id = aigov_tlog::tile::TileId::parse(&format!("tile/{path}"))
        .map_err(|e| ApiError::invalid("path", e.to_string()))?;
    let bytes = st.registry.log_tile(id).await?;
    let cache = if u64::from(id.width) == aigov_tlog::tile::WIDTH {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=60"
    };
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "application/octet-stream"),
            (axum::http::header::CACHE_CONTROL, cache),
        ],
        bytes,
    )
        .into_response())
}

/// `POST /v1/systems/{id}/certificates`: issue a certificate for a registered system.
pub async fn issue_certificate<S: Store>(
    State(st): State<AppState<S>>,
    Auth(p): Auth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<CertificateRequest>,
) -> Result<(StatusCode, Json<Recorded<Certificate>>), ApiError> {
    let c = st
        .registry
        .issue_certificate(&p, parse_id(&id)?, req, (st.clock)())
        .await?;
    Ok((StatusCode::CREATED, Json(c)))
}

/// `GET /v1/systems/{id}/certificates`
pub async fn certificates_of<S: Store>(
    State(st): State<AppState<S>>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> ApiResult<Vec<Certificate>> {
    Ok(Json(st.registry.certificates_of(&p, parse_id(&id)?).await?))
}

/// `GET /v1/certificates/{serial}`: public status of a certificate.
pub async fn certificate<S: Store>(
    State(st): State<AppState<S>>,
    Path(serial): Path<String>,
) -> ApiResult<Certificate> {
    Ok(Json(st.registry.certificate(&serial).await?))
}

/// `POST /v1/certificates/{serial}/revoke`
pub async fn revoke_certificate<S: Store>(
    State(st): State<AppState<S>>,
    Auth(p): Auth,
    Path(serial): Path<String>,
    ApiJson(req): ApiJson<RevokeRequest>,
) -> ApiResult<Recorded<Certificate>> {
    Ok(Json(
        st.registry
            .revoke_certificate(&p, &serial, req, (st.clock)())
            .await?,
    ))
}

fn pem_response(body: String) -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        [(axum::http::header::CONTENT_TYPE, "application/x-pem-file")],
        body,
    )
        .into_response()
}

/// `GET /ca/root.pem`: the registry's root CA certificate (the trust anchor).
pub async fn ca_root<S: Store>(
    State(st): State<AppState<S>>,
) -> Result<axum::response::Response, ApiError> {
    Ok(pem_response(st.registry.ca_certificates()?.1))
}

/// `GET /ca/chain.pem`: the issuing CA certificate followed by the root.
pub async fn ca_chain<S: Store>(
    State(st): State<AppState<S>>,
) -> Result<axum::response::Response, ApiError> {
    let (issuing, root) = st.registry.ca_certificates()?;
    Ok(pem_response(format!("{issuing}{root}")))
}

/// `GET /ca/crl`: the certificate revocation list (DER, `application/pkix-crl`).
pub async fn ca_crl<S: Store>(
    State(st): State<AppState<S>>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let der = st.registry.crl((st.clock)()).await?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "application/pkix-crl"),
            (axum::http::header::CACHE_CONTROL, "public, max-age=300"),
        ],
        der,
    )
        .into_response())
}

/// Query of `POST /v1/labels/verify`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LabelVerifyQuery {
    /// The uploader declared the content AI-generated (art. 6 "possibly AI" when unlabelled).
    #[serde(default)]
    pub declared_ai: bool,
    /// The file's name, echoed in the answer.
    #[serde(default)]
    pub name: Option<String>,
}

/// `POST /v1/labels/verify`: verifies the labels of the uploaded file (the body, any media
/// type) against this registry's CA, CRL and certificate records. Public.
pub async fn verify_label<S: Store>(
    State(st): State<AppState<S>>,
    ApiQuery(q): ApiQuery<LabelVerifyQuery>,
    body: axum::body::Body,
) -> Result<Json<aigov_label::verify::LabelVerification>, ApiError> {
    use std::io::Write;

    use aigov_label::verify::{Options, RegistryRecord, Trust};
    use http_body_util::BodyExt;

    let internal = |e: std::io::Error| {
        tracing::error!("label upload: {e}");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error",
        )
    };
    // Stream the upload to a temporary file, counting bytes.
    let mut tmp = tempfile::NamedTempFile::new().map_err(internal)?;
    let limit = st.config.max_label_upload;
    let mut size = 0u64;
    let mut body = body;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                format!("upload failed: {e}"),
            )
        })?;
        if let Ok(data) = frame.into_data() {
            size += data.len() as u64;
            if size > limit {
                return Err(ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    format!("the file exceeds the limit of {limit} bytes"),
                ));
            }
            tmp.write_all(&data).map_err(internal)?;
        }
    }
    if size == 0 {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the body is empty: upload the file to verify",
        ));
    }
    tmp.flush().map_err(internal)?;
    let now = (st.clock)();
    let (issuing, root) = st.registry.ca_certificates()?;
    let crl = st.registry.crl(now).await?;
    let mut trust = Trust::default();
    let ca_error = |e: aigov_label::Error| {
        tracing::error!("registry CA material: {e}");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error",
        )
    };
    trust
        .add_pem(&format!("{issuing}{root}"))
        .map_err(ca_error)?;
    trust.add_crl(&crl).map_err(ca_error)?;
    let opts = Options {
        declared_ai: q.declared_ai,
        ..Options::default()
    };
    let path = tmp.path().to_path_buf();
    let result = tokio::task::spawn_blocking(move || {
        let r = aigov_label::verify::verify_path(&path, &trust, now, &opts);
        drop(tmp);
        r
    })
    .await
    .map_err(|e| {
        tracing::error!("label verification task: {e}");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error",
        )
    })?;
    let mut report = match result {
        Ok(r) => r,
        Err(aigov_label::Error::Io(e)) => return Err(internal(e)),
        Err(e) => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unreadable_content",
                e.to_string(),
            ));
        }
    };
    let mut records = std::collections::BTreeMap::new();
    for serial in report.serials() {
        let rec = match st.registry.certificate(&serial).await {
            Ok(c) => Some(RegistryRecord {
                system: c.system.to_string(),
                filing_number: c.filing_number.to_string(),
                status: serde_json::to_value(c.status)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                revoked_at: c.revoked_at,
                revocation_reason: c.revocation_reason,
            }),
            Err(_) => None,
        };
        records.insert(serial, rec);
    }
    report.apply_registry(&|s| records.get(s).cloned().flatten());
    let mut answer = aigov_label::verify::LabelVerification::from(report);
    answer.file = q.name;
    Ok(Json(answer))
}
