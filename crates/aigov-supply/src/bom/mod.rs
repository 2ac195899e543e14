//! AI bills of materials: what a model folder is made of, written as a CycloneDX 1.6 ML-BOM
//! or an SPDX 3.0.1 document (AI and Dataset profiles), and the differences between two BOMs.
//!
//! The inventory is built from the model folder: every file with its SHA-256 (the same
//! hashing as model signing, so the OMS root digest of the folder is recorded), the role of
//! each file (weights, tokenizer, configuration, model card), the architecture from
//! `config.json`, the Hugging Face model card (licence, base models, datasets, evaluation
//! results, intended use, limitations) and the signature if one is present.

pub mod card;

use std::path::Path;

use serde_json::{Value, json};
use sha2::Digest as _;

use crate::oms::bundle::{Bundle, Material};
use crate::oms::hashing::{self, HashConfig};
pub use card::{License, ModelCard};

/// CycloneDX spec version written.
pub const CYCLONEDX_VERSION: &str = "1.6";
/// The SPDX 3.0.1 JSON-LD context.
pub const SPDX_CONTEXT: &str = "https://spdx.org/rdf/3.0.1/spdx-context.jsonld";

/// What a file is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Weights (safetensors, PyTorch, GGUF, ONNX, …).
    Weights,
    /// Tokenizer files.
    Tokenizer,
    /// Model or generation configuration.
    Config,
    /// The model card.
    ModelCard,
    /// A model signature.
    Signature,
    /// Code shipped with the model (custom modelling code runs when loaded).
    Code,
    /// Anything else.
    Other,
}

impl Role {
    fn of(path: &str) -> Role {
        let base = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
        let ext = base.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
        if base == "readme.md" {
            Role::ModelCard
        } else if base == "model.sig" || ext == "sig" {
            Role::Signature
        } else if base.starts_with("tokenizer")
            || base.starts_with("vocab")
            || base.starts_with("merges")
            || base == "special_tokens_map.json"
            || base.ends_with(".spm")
            || base.ends_with(".tiktoken")
            || base == "spiece.model"
        {
            Role::Tokenizer
        } else if matches!(
            ext,
            "safetensors"
                | "bin"
                | "pt"
                | "pth"
                | "ckpt"
                | "gguf"
                | "onnx"
                | "h5"
                | "keras"
                | "msgpack"
                | "tflite"
                | "pb"
                | "npz"
                | "mlmodel"
        ) {
            Role::Weights
        } else if matches!(ext, "py") {
            Role::Code
        } else if base.ends_with("config.json") || base == "params.json" {
            Role::Config
        } else {
            Role::Other
        }
    }

    /// Kebab-case name.
    pub fn name(self) -> &'static str {
        match self {
            Role::Weights => "weights",
            Role::Tokenizer => "tokenizer",
            Role::Config => "config",
            Role::ModelCard => "model-card",
            Role::Signature => "signature",
            Role::Code => "code",
            Role::Other => "other",
        }
    }
}

/// One file of the model.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FileEntry {
    /// Path relative to the model.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256, lower-case hex.
    pub sha256: String,
    /// What it is for.
    pub role: Role,
}

/// A signature found in the folder.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SignatureInfo {
    /// Path relative to the model.
    pub path: String,
    /// `key`, `certificate` or `sigstore`.
    pub mode: &'static str,
    /// The root digest it signs (hex), if the bundle could be read.
    pub root_digest: Option<String>,
    /// Whether that root digest is the folder's.
    pub matches: bool,
}

/// The inventory of a model folder.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Inventory {
    /// Model name (folder name, or the name given).
    pub name: String,
    /// Version (given by the caller, e.g. a release tag or commit).
    pub version: Option<String>,
    /// OMS root digest over the files (SHA-256, hex; the signature file excluded).
    pub root_digest: String,
    /// Files, sorted by path.
    pub files: Vec<FileEntry>,
    /// The model card, if `README.md` has one.
    pub card: Option<ModelCard>,
    /// `config.json` `model_type`.
    pub model_type: Option<String>,
    /// `config.json` `architectures`.
    pub architectures: Vec<String>,
    /// The signature, if present.
    pub signature: Option<SignatureInfo>,
}

/// Why an inventory could not be made.
#[derive(Debug, thiserror::Error)]
pub enum BomError {
    /// The folder could not be hashed.
    #[error(transparent)]
    Hash(#[from] hashing::HashError),
    /// The model card cannot be read.
    #[error(transparent)]
    Card(#[from] card::CardError),
    /// A BOM given to `diff` is not one this tool reads.
    #[error("{0}")]
    Input(String),
}

/// Builds the inventory of a model folder. `progress` receives bytes hashed.
pub fn inventory(
    model: &Path,
    name: Option<&str>,
    version: Option<&str>,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Inventory, BomError> {
    let sig_name = "model.sig";
    let config = HashConfig {
        ignore_paths: vec![sig_name.into()],
        ..HashConfig::default()
    };
    let list = hashing::list_files(model, &config)?;
    let manifest = hashing::hash_files(&hashing::model_name(model), &list, &config, progress)?;
    let root = hex::encode(manifest.root_digest());
    let sizes: std::collections::HashMap<&str, u64> =
        list.iter().map(|f| (f.name.as_str(), f.size)).collect();
    let files: Vec<FileEntry> = manifest
        .resources
        .iter()
        .map(|r| FileEntry {
            path: r.name.as_str().to_string(),
            size: sizes.get(r.name.as_str()).copied().unwrap_or(0),
            sha256: hex::encode(&r.digest.value),
            role: Role::of(r.name.as_str()),
        })
        .collect();
    let dir = if model.is_dir() {
        model
    } else {
        model.parent().unwrap_or(Path::new("."))
    };
    let card = match std::fs::read(dir.join("README.md")) {
        Ok(b) if model.is_dir() => Some(card::parse(&String::from_utf8_lossy(&b))?),
        _ => None,
    };
    let (mut model_type, mut architectures) = (None, Vec::new());
    if model.is_dir()
        && let Ok(b) = std::fs::read(dir.join("config.json"))
        && let Ok(v) = serde_json::from_slice::<Value>(&b)
    {
        model_type = v["model_type"].as_str().map(str::to_string);
        architectures = v["architectures"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| a.as_str().map(str::to_string))
            .collect();
    }
    let signature = if model.is_dir() {
        std::fs::read(dir.join(sig_name)).ok().map(|b| {
            let parsed = Bundle::parse(&b).ok();
            let signed = parsed.as_ref().and_then(|b| {
                crate::oms::bundle::parse_statement(&b.payload)
                    .ok()
                    .and_then(|s| s.root_digest)
                    .map(hex::encode)
            });
            SignatureInfo {
                path: sig_name.into(),
                mode: match parsed.as_ref().map(|b| &b.material) {
                    Some(Material::PublicKey { .. }) => "key",
                    Some(Material::Chain(_)) => "certificate",
                    Some(Material::Certificate(_)) => "sigstore",
                    None => "unreadable",
                },
                matches: signed.as_deref() == Some(root.as_str()),
                root_digest: signed,
            }
        })
    } else {
        None
    };
    Ok(Inventory {
        name: name.map(str::to_string).unwrap_or(manifest.model_name),
        version: version.map(str::to_string),
        root_digest: root,
        files,
        card,
        model_type,
        architectures,
        signature,
    })
}

/// A UUID derived from bytes (name-based, so that the same model gives the same serial).
fn uuid_from(bytes: &[u8]) -> String {
    let h = sha2::Sha256::digest(bytes);
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &x[..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..]
    )
}

fn hf_url(id: &str, dataset: bool) -> Option<String> {
    let ok = !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
        && !id.contains("..");
    ok.then(|| {
        if dataset {
            format!("https://huggingface.co/datasets/{id}")
        } else {
            format!("https://huggingface.co/{id}")
        }
    })
}

fn prop(name: &str, value: impl Into<String>) -> Value {
    json!({"name": name, "value": value.into()})
}

impl Inventory {
    /// Datasets: trained on (card `datasets`), plus evaluation datasets not among them.
    fn datasets(&self) -> (Vec<String>, Vec<String>) {
        let Some(c) = &self.card else {
            return (Vec::new(), Vec::new());
        };
        let trained: Vec<String> = dedup(c.datasets.clone());
        let tested = dedup(
            c.results
                .iter()
                .map(|r| r.dataset.clone())
                .filter(|d| !trained.contains(d))
                .collect(),
        );
        (trained, tested)
    }

    /// The CycloneDX 1.6 ML-BOM. `timestamp` is RFC 3339 (UTC, whole seconds), passed in.
    pub fn cyclonedx(&self, timestamp: &str) -> Value {
        let card = self.card.clone().unwrap_or_default();
        let (trained, tested) = self.datasets();
        let mut model = json!({
            "type": "machine-learning-model",
            "bom-ref": "model",
            "name": self.name,
            "hashes": [{"alg": "SHA-256", "content": self.root_digest}],
        });
        if let Some(v) = &self.version {
            model["version"] = json!(v);
        }
        if let Some(d) = &card.description {
            model["description"] = json!(d);
        }
        if let Some(l) = card.license() {
            model["licenses"] = match l {
                License::Spdx(id) => {
                    json!([{"license": {"id": id, "acknowledgement": "declared"}}])
                }
                License::Named { name, url } => {
                    let mut lic = json!({"name": name, "acknowledgement": "declared"});
                    if let Some(u) = url.filter(|u| !u.contains(char::is_whitespace)) {
                        lic["url"] = json!(u);
                    }
                    json!([{"license": lic}])
                }
            };
        }
        let ancestors: Vec<Value> = card
            .base_models
            .iter()
            .map(|b| {
                let mut a = json!({"type": "machine-learning-model", "bom-ref": format!("base:{b}"), "name": b});
                if hf_url(b, false).is_some() {
                    a["purl"] = json!(format!("pkg:huggingface/{b}"));
                }
                a
            })
            .collect();
        if !ancestors.is_empty() {
            model["pedigree"] = json!({"ancestors": ancestors});
        }
        let mut params = serde_json::Map::new();
        if let Some(t) = &card.pipeline_tag {
            params.insert("task".into(), json!(t));
        }
        if let Some(t) = &self.model_type {
            params.insert("architectureFamily".into(), json!(t));
        }
        if let Some(a) = self.architectures.first() {
            params.insert("modelArchitecture".into(), json!(a));
        }
        if !trained.is_empty() {
            params.insert(
                "datasets".into(),
                json!(
                    trained
                        .iter()
                        .map(|d| json!({"ref": format!("data:{d}")}))
                        .collect::<Vec<_>>()
                ),
            );
        }
        let mut model_card = serde_json::Map::new();
        if !params.is_empty() {
            model_card.insert("modelParameters".into(), Value::Object(params));
        }
        if !card.results.is_empty() {
            let metrics: Vec<Value> = card
                .results
                .iter()
                .map(|r| {
                    let slice = match &r.split {
                        Some(s) => format!("{}/{s}", r.dataset),
                        None => r.dataset.clone(),
                    };
                    json!({"type": r.metric, "value": r.value, "slice": slice})
                })
                .collect();
            model_card.insert(
                "quantitativeAnalysis".into(),
                json!({"performanceMetrics": metrics}),
            );
        }
        let mut considerations = serde_json::Map::new();
        if let Some(u) = &card.intended_use {
            considerations.insert("useCases".into(), json!([u]));
        }
        if let Some(l) = &card.limitations {
            considerations.insert("technicalLimitations".into(), json!([l]));
        }
        if !considerations.is_empty() {
            model_card.insert("considerations".into(), Value::Object(considerations));
        }
        let mut card_props = Vec::new();
        if let Some(g) = card.co2_grams {
            card_props.push(prop("aigov:co2-eq-emissions-grams", g.to_string()));
        }
        if let Some(r) = &card.base_model_relation {
            card_props.push(prop("huggingface:base_model_relation", r.clone()));
        }
        if !card_props.is_empty() {
            model_card.insert("properties".into(), json!(card_props));
        }
        if !model_card.is_empty() {
            model["modelCard"] = Value::Object(model_card);
        }
        let mut props = vec![
            prop(
                "aigov:oms:root-digest",
                format!("sha256:{}", self.root_digest),
            ),
            prop("aigov:oms:hash", "sha256"),
        ];
        if let Some(l) = &card.library_name {
            props.push(prop("huggingface:library_name", l.clone()));
        }
        for lang in &card.languages {
            props.push(prop("huggingface:language", lang.clone()));
        }
        if let Some(s) = &self.signature {
            props.push(prop("aigov:oms:signature", s.path.clone()));
            props.push(prop("aigov:oms:signature-mode", s.mode));
            if let Some(r) = &s.root_digest {
                props.push(prop("aigov:oms:signed-root-digest", format!("sha256:{r}")));
            }
            props.push(prop("aigov:oms:signature-matches", s.matches.to_string()));
        }
        model["properties"] = json!(props);
        if !card.tags.is_empty() {
            model["tags"] = json!(dedup(card.tags.clone()));
        }
        let mut components = Vec::new();
        let mut depends = Vec::new();
        for (d, purpose) in trained
            .iter()
            .map(|d| (d, "training"))
            .chain(tested.iter().map(|d| (d, "evaluation")))
        {
            let r = format!("data:{d}");
            let mut c = json!({
                "type": "data", "bom-ref": r, "name": d,
                "data": [{"type": "dataset", "name": d}],
                "properties": [prop("aigov:dataset:purpose", purpose)],
            });
            if let Some(u) = hf_url(d, true) {
                c["externalReferences"] = json!([{"type": "website", "url": u}]);
                c["data"][0]["contents"] = json!({"url": u});
            }
            components.push(c);
            depends.push(r);
        }
        for f in &self.files {
            let r = format!("file:{}", f.path);
            components.push(json!({
                "type": "file", "bom-ref": r, "name": f.path,
                "hashes": [{"alg": "SHA-256", "content": f.sha256}],
                "properties": [prop("aigov:file:size", f.size.to_string()), prop("aigov:file:role", f.role.name())],
            }));
            depends.push(r);
        }
        let mut dependencies = vec![json!({"ref": "model", "dependsOn": depends})];
        for c in &components {
            dependencies.push(json!({"ref": c["bom-ref"]}));
        }
        json!({
            "bomFormat": "CycloneDX",
            "specVersion": CYCLONEDX_VERSION,
            "serialNumber": format!("urn:uuid:{}", uuid_from(format!("{}:{}", self.root_digest, self.version.as_deref().unwrap_or("")).as_bytes())),
            "version": 1,
            "metadata": {
                "timestamp": timestamp,
                "tools": {"components": [{"type": "application", "name": "aigov", "version": env!("CARGO_PKG_VERSION")}]},
                "component": model,
            },
            "components": components,
            "dependencies": dependencies,
        })
    }

    /// The SPDX 3.0.1 document (JSON-LD) with the AI and Dataset profiles. `namespace` is
    /// the IRI prefix of the document's elements; `timestamp` is `YYYY-MM-DDTHH:MM:SSZ`.
    pub fn spdx3(&self, namespace: &str, timestamp: &str) -> Value {
        let ns = namespace.trim_end_matches('/');
        let card = self.card.clone().unwrap_or_default();
        let (trained, tested) = self.datasets();
        let id = |kind: &str, name: &str| format!("{ns}/{kind}/{}", iri_part(name));
        let ci = "_:creationinfo";
        let agent = id("agent", "aigov");
        let tool = id("tool", "aigov");
        let model = id("model", &self.name);
        let mut graph = vec![
            json!({"type": "CreationInfo", "@id": ci, "specVersion": "3.0.1", "created": timestamp,
                   "createdBy": [agent], "createdUsing": [tool]}),
            json!({"type": "SoftwareAgent", "spdxId": agent, "creationInfo": ci, "name": "aigov"}),
            json!({"type": "Tool", "spdxId": tool, "creationInfo": ci, "name": format!("aigov {}", env!("CARGO_PKG_VERSION"))}),
        ];
        let cc0 = id("license", "CC0-1.0");
        graph.push(
            json!({"type": "simplelicensing_LicenseExpression", "spdxId": cc0, "creationInfo": ci,
                          "simplelicensing_licenseExpression": "CC0-1.0"}),
        );
        let mut m = json!({
            "type": "ai_AIPackage", "spdxId": model, "creationInfo": ci, "name": self.name,
            "software_primaryPurpose": "model", "suppliedBy": agent,
            "verifiedUsing": [{"type": "Hash", "algorithm": "sha256", "hashValue": self.root_digest,
                               "comment": "OpenSSF model signing root digest (SHA-256 over the file digests)"}],
            "ai_autonomyType": "noAssertion",
            "ai_useSensitivePersonalInformation": "noAssertion",
        });
        if let Some(v) = &self.version {
            m["software_packageVersion"] = json!(v);
        }
        if let Some(d) = &card.description {
            m["description"] = json!(d);
        }
        let types: Vec<&String> = self
            .model_type
            .iter()
            .chain(self.architectures.iter())
            .collect();
        if !types.is_empty() {
            m["ai_typeOfModel"] = json!(types);
        }
        if let Some(t) = &card.pipeline_tag {
            m["ai_domain"] = json!([t]);
        }
        if let Some(l) = &card.limitations {
            m["ai_limitation"] = json!(l);
        }
        if let Some(u) = &card.intended_use {
            m["ai_informationAboutApplication"] = json!(u);
        }
        if !card.results.is_empty() {
            m["ai_metric"] = json!(card.results.iter().map(|r| json!({
                "type": "DictionaryEntry",
                "key": format!("{}@{}{}", r.metric, r.dataset, r.split.as_ref().map(|s| format!("/{s}")).unwrap_or_default()),
                "value": r.value,
            })).collect::<Vec<_>>());
        }
        graph.push(m);
        let mut elements = vec![agent.clone(), tool.clone(), cc0.clone(), model.clone()];
        let mut rel_n = 0;
        let mut rel = |graph: &mut Vec<Value>,
                       elements: &mut Vec<String>,
                       from: &str,
                       ty: &str,
                       to: Vec<String>| {
            rel_n += 1;
            let rid = format!("{ns}/relationship/{rel_n}");
            graph.push(
                json!({"type": "Relationship", "spdxId": rid, "creationInfo": ci, "from": from,
                              "relationshipType": ty, "to": to}),
            );
            elements.push(rid);
        };
        if let Some(l) = card.license() {
            let (expr, url) = match &l {
                License::Spdx(s) => (s.clone(), None),
                License::Named { name, url } => {
                    (format!("LicenseRef-{}", iri_part(name)), url.clone())
                }
            };
            let lid = id("license", &expr);
            let mut le = json!({"type": "simplelicensing_LicenseExpression", "spdxId": lid, "creationInfo": ci,
                                "simplelicensing_licenseExpression": expr});
            if let Some(u) = url {
                le["simplelicensing_customIdToUri"] =
                    json!([{"type": "DictionaryEntry", "key": expr, "value": u}]);
            }
            graph.push(le);
            elements.push(lid.clone());
            rel(
                &mut graph,
                &mut elements,
                &model,
                "hasDeclaredLicense",
                vec![lid],
            );
        }
        for (list, ty) in [(&trained, "trainedOn"), (&tested, "testedOn")] {
            let mut ids = Vec::new();
            for d in list {
                let did = id("dataset", d);
                let mut e = json!({"type": "dataset_DatasetPackage", "spdxId": did, "creationInfo": ci, "name": d,
                                   "software_primaryPurpose": "data", "dataset_datasetType": ["noAssertion"]});
                if let Some(u) = hf_url(d, true) {
                    e["software_downloadLocation"] = json!(u);
                }
                graph.push(e);
                elements.push(did.clone());
                ids.push(did);
            }
            if !ids.is_empty() {
                rel(&mut graph, &mut elements, &model, ty, ids);
            }
        }
        for b in &card.base_models {
            let bid = id("base-model", b);
            let mut e = json!({"type": "ai_AIPackage", "spdxId": bid, "creationInfo": ci, "name": b,
                               "software_primaryPurpose": "model"});
            if let Some(u) = hf_url(b, false) {
                e["software_downloadLocation"] = json!(u);
            }
            graph.push(e);
            elements.push(bid.clone());
            rel(&mut graph, &mut elements, &model, "descendantOf", vec![bid]);
        }
        let mut file_ids = Vec::new();
        for f in &self.files {
            let fid = id("file", &f.path);
            let purpose = match f.role {
                Role::Weights => "model",
                Role::Config => "configuration",
                Role::ModelCard => "documentation",
                Role::Code => "source",
                Role::Signature => "evidence",
                _ => "data",
            };
            graph.push(json!({"type": "software_File", "spdxId": fid, "creationInfo": ci, "name": f.path,
                              "software_primaryPurpose": purpose,
                              "verifiedUsing": [{"type": "Hash", "algorithm": "sha256", "hashValue": f.sha256}]}));
            elements.push(fid.clone());
            file_ids.push(fid);
        }
        if !file_ids.is_empty() {
            rel(&mut graph, &mut elements, &model, "contains", file_ids);
        }
        let doc = id("document", &self.name);
        graph.insert(
            3,
            json!({
                "type": "SpdxDocument", "spdxId": doc, "creationInfo": ci,
                "name": format!("AI BOM for {}", self.name),
                "dataLicense": cc0,
                "profileConformance": ["core", "software", "ai", "dataset", "simpleLicensing"],
                "rootElement": [model],
                "element": elements,
            }),
        );
        json!({"@context": SPDX_CONTEXT, "@graph": graph})
    }
}

fn dedup(mut v: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    v.retain(|x| seen.insert(x.clone()));
    v
}

/// Percent-encodes what is not safe in an IRI path segment.
fn iri_part(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else if b == b'/' {
            out.push_str("--");
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// What changed between two releases.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct BomDiff {
    /// Root digest before and after, when they differ.
    pub root_digest: Option<(String, String)>,
    /// Files added.
    pub files_added: Vec<String>,
    /// Files removed.
    pub files_removed: Vec<String>,
    /// Files whose hash changed.
    pub files_changed: Vec<String>,
    /// Datasets added.
    pub datasets_added: Vec<String>,
    /// Datasets removed.
    pub datasets_removed: Vec<String>,
    /// Licences before and after, when they differ.
    pub licenses: Option<(Vec<String>, Vec<String>)>,
    /// Base models before and after, when they differ.
    pub base_models: Option<(Vec<String>, Vec<String>)>,
}

impl BomDiff {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        *self == BomDiff::default()
    }

    /// Human-readable lines.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some((a, b)) = &self.root_digest {
            out.push(format!("root digest: sha256:{a} -> sha256:{b}"));
        }
        out.extend(self.files_added.iter().map(|f| format!("+ file {f}")));
        out.extend(self.files_removed.iter().map(|f| format!("- file {f}")));
        out.extend(
            self.files_changed
                .iter()
                .map(|f| format!("~ file {f} (hash changed)")),
        );
        out.extend(self.datasets_added.iter().map(|d| format!("+ dataset {d}")));
        out.extend(
            self.datasets_removed
                .iter()
                .map(|d| format!("- dataset {d}")),
        );
        if let Some((a, b)) = &self.licenses {
            out.push(format!("licence: {} -> {}", a.join(", "), b.join(", ")));
        }
        if let Some((a, b)) = &self.base_models {
            out.push(format!("base model: {} -> {}", a.join(", "), b.join(", ")));
        }
        out
    }
}

/// The parts of a CycloneDX ML-BOM that `diff` compares.
struct Facts {
    root: Option<String>,
    files: std::collections::BTreeMap<String, String>,
    datasets: std::collections::BTreeSet<String>,
    licenses: Vec<String>,
    base_models: Vec<String>,
}

fn facts(bom: &Value, which: &str) -> Result<Facts, BomError> {
    if bom["bomFormat"] != "CycloneDX" {
        return Err(BomError::Input(format!("{which} is not a CycloneDX BOM")));
    }
    let model = &bom["metadata"]["component"];
    let root = oms_root_digest(bom).map(|s| s.trim_start_matches("sha256:").to_string());
    let mut files = std::collections::BTreeMap::new();
    let mut datasets = std::collections::BTreeSet::new();
    for c in bom["components"].as_array().into_iter().flatten() {
        let name = c["name"].as_str().unwrap_or("").to_string();
        match c["type"].as_str() {
            Some("file") => {
                let h = c["hashes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|h| h["alg"] == "SHA-256")
                    .and_then(|h| h["content"].as_str())
                    .unwrap_or("")
                    .to_string();
                files.insert(name, h);
            }
            Some("data") => {
                datasets.insert(name);
            }
            _ => {}
        }
    }
    let licenses = model["licenses"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| {
            l["license"]["id"]
                .as_str()
                .or_else(|| l["license"]["name"].as_str())
                .or_else(|| l["expression"].as_str())
                .map(str::to_string)
        })
        .collect();
    let base_models = model["pedigree"]["ancestors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["name"].as_str().map(str::to_string))
        .collect();
    Ok(Facts {
        root,
        files,
        datasets,
        licenses,
        base_models,
    })
}

/// The OMS root digest (`sha256:<hex>`) that an aigov CycloneDX ML-BOM records for its model.
pub fn oms_root_digest(bom: &Value) -> Option<&str> {
    bom["metadata"]["component"]["properties"]
        .as_array()?
        .iter()
        .find(|p| p["name"] == "aigov:oms:root-digest")
        .and_then(|p| p["value"].as_str())
}

/// Compares two CycloneDX ML-BOMs (before, after).
pub fn diff(a: &Value, b: &Value) -> Result<BomDiff, BomError> {
    let (a, b) = (facts(a, "the first BOM")?, facts(b, "the second BOM")?);
    let mut d = BomDiff::default();
    if a.root != b.root {
        d.root_digest = Some((
            a.root.clone().unwrap_or_default(),
            b.root.clone().unwrap_or_default(),
        ));
    }
    for (f, h) in &b.files {
        match a.files.get(f) {
            None => d.files_added.push(f.clone()),
            Some(x) if x != h => d.files_changed.push(f.clone()),
            _ => {}
        }
    }
    d.files_removed = a
        .files
        .keys()
        .filter(|f| !b.files.contains_key(*f))
        .cloned()
        .collect();
    d.datasets_added = b.datasets.difference(&a.datasets).cloned().collect();
    d.datasets_removed = a.datasets.difference(&b.datasets).cloned().collect();
    if a.licenses != b.licenses {
        d.licenses = Some((a.licenses, b.licenses));
    }
    if a.base_models != b.base_models {
        d.base_models = Some((a.base_models, b.base_models));
    }
    Ok(d)
}
