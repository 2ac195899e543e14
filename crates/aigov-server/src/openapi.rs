//! The OpenAPI 3.1 document served at `/openapi.json`, generated from the wire types so that it
//! cannot drift from them.

use aigov_policy::SystemFacts;
use aigov_policy::classify::Classification;
use aigov_registry::model::*;
use schemars::generate::{SchemaGenerator, SchemaSettings};
use schemars::{JsonSchema, Schema};
use serde_json::{Map, Value, json};

use crate::api::*;
use crate::error::ErrorBody;

struct Op {
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    auth: &'static str,
    query: Option<Schema>,
    body: Option<Schema>,
    status: &'static str,
    response: Schema,
}

fn op<Res: JsonSchema>(
    g: &mut SchemaGenerator,
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    auth: &'static str,
    status: &'static str,
) -> Op {
    Op {
        method,
        path,
        summary,
        auth,
        query: None,
        body: None,
        status,
        response: g.subschema_for::<Res>(),
    }
}

impl Op {
    fn body<T: JsonSchema>(mut self, g: &mut SchemaGenerator) -> Self {
        self.body = Some(g.subschema_for::<T>());
        self
    }
    fn query<T: JsonSchema>(mut self, g: &mut SchemaGenerator) -> Self {
        // Query parameters are listed inline, one per property.
        self.query = Some(g.root_schema_for::<T>());
        self
    }
}

/// Builds the document.
pub fn document() -> Value {
    let mut settings = SchemaSettings::draft2020_12();
    settings.definitions_path = "/components/schemas".into();
    settings.meta_schema = None;
    let mut g = settings.into_generator();
    let g = &mut g;
    let ops = vec![
        op::<Health>(g, "get", "/healthz", "Health check", "none", "200"),
        op::<Principal>(
            g,
            "get",
            "/v1/whoami",
            "The caller's identity",
            "optional",
            "200",
        ),
        op::<Classification>(
            g,
            "post",
            "/v1/classify",
            "Classify facts (nothing is stored)",
            "none",
            "200",
        )
        .body::<SystemFacts>(g)
        .query::<ClassifyQuery>(g),
        op::<Classification>(
            g,
            "post",
            "/v1/classify/toml",
            "Classify a TOML fact file (body: application/toml)",
            "none",
            "200",
        )
        .query::<ClassifyQuery>(g),
        op::<Vec<PackInfo>>(g, "get", "/v1/rules", "Rule packs loaded", "none", "200"),
        op::<Vec<PublicSystem>>(
            g,
            "get",
            "/v1/public/systems",
            "Search the public registry",
            "none",
            "200",
        )
        .query::<PublicQuery>(g),
        op::<PublicSystem>(
            g,
            "get",
            "/v1/public/systems/{filing_number}",
            "One registered system",
            "none",
            "200",
        ),
        op::<Vec<Organisation>>(
            g,
            "get",
            "/v1/organisations",
            "Organisations (providers see their own)",
            "any role",
            "200",
        ),
        op::<Recorded<Organisation>>(
            g,
            "post",
            "/v1/organisations",
            "Create an organisation",
            "admin, regulator",
            "201",
        )
        .body::<NewOrganisation>(g),
        op::<Vec<System>>(
            g,
            "get",
            "/v1/systems",
            "Systems visible to the caller",
            "any role",
            "200",
        )
        .query::<ListQuery>(g),
        op::<Recorded<System>>(
            g,
            "post",
            "/v1/systems",
            "Create a system (draft) and classify it",
            "provider, admin, regulator",
            "201",
        )
        .body::<NewSystem>(g),
        op::<System>(
            g,
            "get",
            "/v1/systems/{id}",
            "One system",
            "any role (scoped)",
            "200",
        ),
        op::<Recorded<Updated>>(
            g,
            "put",
            "/v1/systems/{id}",
            "Replace a system's facts; re-classifies and records the obligation diff",
            "provider (own), admin",
            "200",
        )
        .body::<UpdateSystem>(g),
        op::<Recorded<System>>(
            g,
            "post",
            "/v1/systems/{id}/transitions",
            "Move a system to another registration state",
            "depends on the transition",
            "200",
        )
        .body::<TransitionRequest>(g),
        op::<Recorded<System>>(
            g,
            "post",
            "/v1/systems/{id}/stage",
            "Move a system to another lifecycle stage",
            "provider (own), admin",
            "200",
        )
        .body::<StageRequest>(g),
        op::<Vec<Revision>>(
            g,
            "get",
            "/v1/systems/{id}/revisions",
            "Revisions with classification diffs",
            "any role (scoped)",
            "200",
        ),
        op::<EvidenceList>(
            g,
            "get",
            "/v1/systems/{id}/evidence",
            "Evidence and what the stage still lacks",
            "any role (scoped)",
            "200",
        ),
        op::<Recorded<Evidence>>(
            g,
            "post",
            "/v1/systems/{id}/evidence",
            "Attach evidence",
            "provider (own), admin",
            "201",
        )
        .body::<NewEvidence>(g),
        op::<Recorded<Evidence>>(g, "post", "/v1/systems/{id}/evidence/upload", "Upload an evidence document (body: the document, application/octet-stream); stored under its SHA-256", "provider (own), admin", "201")
            .query::<EvidenceUpload>(g),
        op::<String>(g, "get", "/v1/systems/{id}/evidence/{evidence}/document", "Download an uploaded evidence document (application/octet-stream, header x-content-sha256)", "any role (scoped)", "200"),
        op::<Recorded<Certificate>>(g, "post", "/v1/systems/{id}/certificates", "Issue a certificate for a registered system from a PKCS#10 request", "provider (own), admin", "201")
            .body::<CertificateRequest>(g),
        op::<Vec<Certificate>>(g, "get", "/v1/systems/{id}/certificates", "Certificates of a system", "any role (scoped)", "200"),
        op::<Certificate>(g, "get", "/v1/certificates/{serial}", "Public record and status of a certificate", "none", "200"),
        op::<Recorded<Certificate>>(g, "post", "/v1/certificates/{serial}/revoke", "Revoke a certificate", "provider (own), regulator, admin", "200")
            .body::<RevokeRequest>(g),
        op::<aigov_label::verify::LabelVerification>(g, "post", "/v1/labels/verify", "Verify the labels of a file (body: the file, any media type; streamed, size-limited): AIGC metadata, signatures, certificates and their registry status, C2PA", "none", "200")
            .query::<LabelVerifyQuery>(g),
        op::<String>(g, "get", "/ca/root.pem", "Root CA certificate (PEM)", "none", "200"),
        op::<String>(g, "get", "/ca/chain.pem", "Issuing CA and root certificates (PEM)", "none", "200"),
        op::<String>(g, "get", "/ca/crl", "Certificate revocation list (DER)", "none", "200"),
        op::<String>(g, "get", "/log/checkpoint", "Latest signed checkpoint of the transparency log (C2SP signed note, text/plain)", "none", "200"),
        op::<String>(g, "get", "/log/key", "Verifier key of the log (text/plain)", "none", "200"),
        op::<String>(g, "get", "/log/tile/{path}", "Hash tiles and entry bundles of the log (C2SP tlog-tiles, application/octet-stream)", "none", "200"),
        op::<Vec<AuditEvent>>(
            g,
            "get",
            "/v1/audit",
            "Audit log",
            "admin, regulator",
            "200",
        )
        .query::<AuditQuery>(g),
        op::<AuditVerification>(
            g,
            "get",
            "/v1/audit/verify",
            "Check the audit hash chain",
            "admin, regulator",
            "200",
        ),
        op::<Vec<Token>>(g, "get", "/v1/tokens", "API tokens", "admin", "200"),
        op::<Recorded<CreatedToken>>(
            g,
            "post",
            "/v1/tokens",
            "Create a token (the secret is shown once)",
            "admin",
            "201",
        )
        .body::<NewToken>(g),
        op::<Recorded<Token>>(
            g,
            "delete",
            "/v1/tokens/{id}",
            "Revoke a token",
            "admin",
            "200",
        ),
    ];
    let error_ref = g.subschema_for::<ErrorBody>();

    let mut paths: Map<String, Value> = Map::new();
    for o in ops {
        let mut params = Vec::new();
        for seg in o.path.split('/') {
            if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                params.push(json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}));
            }
        }
        if let Some(q) = &o.query
            && let Some(props) = q.get("properties").and_then(Value::as_object)
        {
            for (name, schema) in props {
                params.push(
                    json!({"name": name, "in": "query", "required": false, "schema": schema}),
                );
            }
        }
        let mut operation = json!({
            "summary": o.summary,
            "description": format!("Authorisation: {}.", o.auth),
            "parameters": params,
            "responses": {
                o.status: {"description": "Success", "content": {"application/json": {"schema": o.response}}},
                "default": {"description": "Error", "content": {"application/json": {"schema": error_ref}}},
            },
        });
        if o.auth != "none" {
            operation["security"] = json!([{"bearer": []}]);
        }
        if let Some(b) = o.body {
            operation["requestBody"] =
                json!({"required": true, "content": {"application/json": {"schema": b}}});
        }
        let entry = paths.entry(o.path.to_string()).or_insert_with(|| json!({}));
        entry[o.method] = operation;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "aigov registry API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Registry of AI systems with tiered classification (TC260 AI Safety Governance Framework, measure 5.1).",
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "paths": paths,
        "components": {
            "schemas": g.take_definitions(true),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    })
}
