//! C2PA content credentials, through the `c2pa` crate: a manifest that says the content is
//! `trainedAlgorithmicMedia`, carries the `AIGC` label in an `org.aigov.gb45438` assertion and is
//! signed with the system's registry certificate; propagation adds a manifest that takes the
//! previous asset as its `parentOf` ingredient. Reading validates against the registry roots
//! given as trust anchors, so aigov-signed files validate as `Trusted`.
//!
//! The order matters: the visible label and the `AIGC` metadata are written first, then the
//! manifest, whose hard binding covers them.

use std::io::{Read, Seek, Write};

use serde::Serialize;
use serde_json::{Value, json};
use sm2::pkcs8::DecodePrivateKey as _;

use crate::{Aigc, Error, Result};

/// The assertion label holding the `AIGC` label.
pub const ASSERTION: &str = "org.aigov.gb45438";
/// IPTC digital source type of AI-generated media.
pub const TRAINED_ALGORITHMIC_MEDIA: &str =
    "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia";

fn err(e: impl std::fmt::Display) -> Error {
    Error::Signature(format!("C2PA: {e}"))
}

/// Whether the `c2pa` crate can embed a manifest in this media type.
pub fn can_sign(media_type: &str) -> bool {
    c2pa::Builder::supported_mime_types()
        .iter()
        .any(|m| m == media_type)
}

/// What the manifest says about the step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The system generated the content (`c2pa.created`, `trainedAlgorithmicMedia`).
    Created,
    /// A platform passed it on: the source becomes the `parentOf` ingredient.
    Propagated,
}

/// Signs `src` into `dst` with a manifest for `step`, carrying `label`. `chain_pem` is the
/// signer's certificate followed by its issuing CA; `key_pem` its PKCS#8 P-256 key.
#[allow(clippy::too_many_arguments)]
pub fn sign<R, W>(
    src: &mut R,
    dst: &mut W,
    media_type: &str,
    title: &str,
    label: &Aigc,
    step: Step,
    chain_pem: &str,
    key_pem: &str,
) -> Result<()>
where
    R: Read + Seek + Send,
    W: Read + Write + Seek + Send,
{
    if !can_sign(media_type) {
        return Err(Error::Unsupported(format!(
            "C2PA manifests cannot be embedded in {media_type}"
        )));
    }
    if sm2::SecretKey::from_pkcs8_pem(key_pem).is_ok() {
        return Err(Error::Unsupported(
            "C2PA defines no SM2 signature (it allows ES256/384/512, PS256/384/512 and \
             Ed25519): sign the C2PA manifest with a P-256 key, or leave C2PA out"
                .into(),
        ));
    }
    let signer = c2pa::create_signer::from_keys(
        chain_pem.as_bytes(),
        key_pem.as_bytes(),
        c2pa::crypto::raw_signature::SigningAlg::Es256,
        None,
    )
    .map_err(err)?;
    let aigc: Value = serde_json::from_str(&label.to_json_unchecked()?).map_err(err)?;
    let generator = json!([{"name": "aigov", "version": env!("CARGO_PKG_VERSION")}]);
    let definition = match step {
        Step::Created => json!({
            "title": title,
            "format": media_type,
            "claim_generator_info": generator,
            "assertions": [
                {"label": "c2pa.actions", "data": {"actions": [{
                    "action": "c2pa.created",
                    "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA,
                }]}},
                {"label": ASSERTION, "data": aigc},
            ]
        }),
        Step::Propagated => json!({
            "title": title,
            "format": media_type,
            "claim_generator_info": generator,
            "assertions": [{"label": ASSERTION, "data": aigc}]
        }),
    };
    let mut builder = c2pa::Builder::from_context(c2pa::Context::new())
        .with_definition(definition.to_string())
        .map_err(err)?;
    if step == Step::Propagated {
        builder.set_intent(c2pa::BuilderIntent::Edit);
    }
    src.rewind()?;
    builder
        .sign(signer.as_ref(), media_type, src, dst)
        .map_err(err)?;
    Ok(())
}

/// Validation outcome of the active manifest.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Valid, and the signer chains to a trust anchor.
    Trusted,
    /// Cryptographically valid, signer not trusted here.
    Valid,
    /// A check failed (the codes say which).
    Invalid,
}

/// One manifest of the provenance chain, newest first.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct ManifestSummary {
    /// Manifest label (URN).
    pub label: String,
    /// Signer common name.
    pub signer: Option<String>,
    /// Signer's issuer.
    pub issuer: Option<String>,
    /// Whether it has a `c2pa.created` action with `trainedAlgorithmicMedia`.
    pub ai_created: bool,
    /// The `AIGC` label in its `org.aigov.gb45438` assertion.
    pub aigc: Option<Aigc>,
}

/// What the C2PA manifest store says.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct C2paReport {
    /// Validation state of the active manifest.
    pub state: State,
    /// Failure codes (`assertion.dataHash.mismatch`, …).
    pub failures: Vec<String>,
    /// The active manifest, then its `parentOf` ancestors.
    pub chain: Vec<ManifestSummary>,
}

impl C2paReport {
    /// Whether any manifest of the chain says the content was AI-created.
    pub fn ai_created(&self) -> bool {
        self.chain.iter().any(|m| m.ai_created)
    }
}

/// Reads and validates the manifest store of `src`, with `anchors_pem` (registry roots) as
/// trust anchors. `None` when the file has no manifest.
pub fn read<R: Read + Seek + Send>(
    src: &mut R,
    media_type: &str,
    anchors_pem: &str,
) -> Result<Option<C2paReport>> {
    let mut settings = json!({"verify": {"verify_trust": !anchors_pem.is_empty()}});
    if !anchors_pem.is_empty() {
        settings["trust"] = json!({"trust_anchors": anchors_pem});
    }
    let settings = c2pa::settings::Settings::new()
        .with_json(&settings.to_string())
        .map_err(err)?;
    let context = c2pa::Context::new()
        .with_settings(settings)
        .map_err(err)?
        .into_shared();
    src.rewind()?;
    let reader = match c2pa::Reader::from_shared_context(&context).with_stream(media_type, src) {
        Ok(r) => r,
        Err(c2pa::Error::JumbfNotFound) | Err(c2pa::Error::ProvenanceMissing) => return Ok(None),
        Err(e) => return Err(err(e)),
    };
    let state = match reader.validation_state() {
        c2pa::validation_results::ValidationState::Trusted => State::Trusted,
        c2pa::validation_results::ValidationState::Valid => State::Valid,
        c2pa::validation_results::ValidationState::Invalid => State::Invalid,
    };
    let doc: Value = serde_json::from_str(&reader.json()).map_err(err)?;
    let mut failures: Vec<String> = Vec::new();
    if let Some(list) = doc
        .pointer("/validation_results/activeManifest/failure")
        .and_then(Value::as_array)
    {
        failures.extend(
            list.iter()
                .filter_map(|f| f.get("code").and_then(Value::as_str).map(str::to_string)),
        );
    }
    let mut chain = Vec::new();
    let mut next = doc
        .get("active_manifest")
        .and_then(Value::as_str)
        .map(str::to_string);
    while let Some(label) = next.take() {
        if chain.iter().any(|m: &ManifestSummary| m.label == label) || chain.len() > 64 {
            break;
        }
        let Some(m) = doc.get("manifests").and_then(|ms| ms.get(&label)) else {
            break;
        };
        let assertions = m
            .get("assertions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut ai_created = false;
        let mut aigc = None;
        for a in &assertions {
            let l = a.get("label").and_then(Value::as_str).unwrap_or("");
            if l.starts_with("c2pa.actions") {
                let actions = a
                    .pointer("/data/actions")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                ai_created |= actions.iter().any(|x| {
                    x.get("action").and_then(Value::as_str) == Some("c2pa.created")
                        && x.get("digitalSourceType").and_then(Value::as_str)
                            == Some(TRAINED_ALGORITHMIC_MEDIA)
                });
            } else if l == ASSERTION
                && let Some(d) = a.get("data")
            {
                aigc = Aigc::parse(&d.to_string()).ok().map(|(l, _)| l);
            }
        }
        let sig = m.get("signature_info");
        let field = |k: &str| {
            sig.and_then(|s| s.get(k))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        chain.push(ManifestSummary {
            label: label.clone(),
            signer: field("common_name"),
            issuer: field("issuer"),
            ai_created,
            aigc,
        });
        next = m
            .get("ingredients")
            .and_then(Value::as_array)
            .and_then(|ings| {
                ings.iter()
                    .find(|i| i.get("relationship").and_then(Value::as_str) == Some("parentOf"))
            })
            .and_then(|i| i.get("active_manifest"))
            .and_then(Value::as_str)
            .map(str::to_string);
    }
    Ok(Some(C2paReport {
        state,
        failures,
        chain,
    }))
}
