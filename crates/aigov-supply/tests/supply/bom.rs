//! AI-BOMs: CycloneDX 1.6 validated by the official schema (from cyclonedx-python-lib), SPDX
//! 3.0.1 validated by spdx-python-model, our own reference checks, and diffs.

use std::collections::BTreeSet;
use std::path::Path;

use aigov_supply::bom::{self, BomError};
use aigov_supply::oms::hashing::{self, HashConfig};
use aigov_supply::oms::keys::PrivateKey;
use aigov_supply::oms::{self, Signer};
use serde_json::Value;

use crate::venv;

fn no_progress(_: u64) {}

const CARD: &str = "---
license: apache-2.0
base_model: google-bert/bert-base-uncased
datasets:
- stanfordnlp/imdb
language: [en]
pipeline_tag: text-classification
library_name: transformers
tags: [sentiment, bert]
co2_eq_emissions:
  emissions: 1200
model-index:
- name: tiny-sentiment
  results:
  - task: {type: text-classification}
    dataset: {type: stanfordnlp/imdb, name: IMDB, split: test}
    metrics:
    - {type: accuracy, value: 0.93}
    - {type: f1, value: '92.1 ± 0.3'}
  - task: {type: text-classification}
    dataset: {type: nyu-mll/glue, name: GLUE SST-2, split: validation}
    metrics:
    - {type: accuracy, value: 0.91}
---
# tiny-sentiment

A small sentiment classifier for movie reviews.

## Intended uses & limitations

Classifying English movie reviews.

## Bias, Risks, and Limitations

English only; reviews longer than 512 tokens are truncated.
";

pub fn hf_model(dir: &Path, card: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("README.md"), card).unwrap();
    std::fs::write(
        dir.join("config.json"),
        r#"{"model_type": "bert", "architectures": ["BertForSequenceClassification"]}"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("model.safetensors"),
        b"\x02\x00\x00\x00\x00\x00\x00\x00{}",
    )
    .unwrap();
    std::fs::write(dir.join("tokenizer.json"), b"{}").unwrap();
    std::fs::write(dir.join("modeling_tiny.py"), b"import torch\n").unwrap();
}

fn validate(kind: &str, doc: &Value) -> Result<(), String> {
    let tmp = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(tmp.path(), serde_json::to_vec(doc).unwrap()).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/supply/bom.py");
    let out = venv()
        .command()
        .arg(script)
        .arg(kind)
        .arg(tmp.path())
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    if out.status.success() && text.trim() == "valid" {
        Ok(())
    } else {
        Err(text)
    }
}

/// Every bom-ref is unique and every reference resolves (the schema checks neither).
fn check_refs(doc: &Value) {
    let mut refs = Vec::new();
    fn collect(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("bom-ref") {
                    out.push(r.clone());
                }
                for x in m.values() {
                    collect(x, out);
                }
            }
            Value::Array(a) => a.iter().for_each(|x| collect(x, out)),
            _ => {}
        }
    }
    collect(doc, &mut refs);
    let set: BTreeSet<&String> = refs.iter().collect();
    assert_eq!(set.len(), refs.len(), "duplicate bom-refs: {refs:?}");
    for d in doc["dependencies"].as_array().unwrap() {
        assert!(set.contains(&d["ref"].as_str().unwrap().to_string()));
        for x in d["dependsOn"].as_array().into_iter().flatten() {
            assert!(
                set.contains(&x.as_str().unwrap().to_string()),
                "dangling {x}"
            );
        }
    }
    for x in doc["metadata"]["component"]["modelCard"]["modelParameters"]["datasets"]
        .as_array()
        .into_iter()
        .flatten()
    {
        assert!(
            set.contains(&x["ref"].as_str().unwrap().to_string()),
            "dangling {x}"
        );
    }
}

#[test]
fn cyclonedx_and_spdx_boms_validate_and_say_what_the_model_is() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("tiny-sentiment");
    hf_model(&model, CARD);
    // Signed, so that the BOM records the signature and that it matches.
    let config = HashConfig {
        ignore_paths: vec!["model.sig".into()],
        ..HashConfig::default()
    };
    let m = hashing::hash_model(&model, &config, &no_progress).unwrap();
    let key = PrivateKey::generate("P-256").unwrap();
    std::fs::write(
        model.join("model.sig"),
        oms::sign_manifest(&m, &Signer::Key(key)).unwrap().to_json(),
    )
    .unwrap();

    let inv = bom::inventory(&model, None, Some("1.0.0"), &no_progress).unwrap();
    assert_eq!(inv.root_digest, hex::encode(m.root_digest()));
    let sig = inv.signature.as_ref().unwrap();
    assert!(sig.matches && sig.mode == "key");

    let cdx = inv.cyclonedx("2026-11-29T04:00:00Z");
    validate("cdx", &cdx).unwrap();
    check_refs(&cdx);
    let mc = &cdx["metadata"]["component"];
    assert_eq!(mc["type"], "machine-learning-model");
    assert_eq!(mc["licenses"][0]["license"]["id"], "Apache-2.0");
    assert_eq!(
        mc["pedigree"]["ancestors"][0]["name"],
        "google-bert/bert-base-uncased"
    );
    assert_eq!(
        mc["modelCard"]["modelParameters"]["architectureFamily"],
        "bert"
    );
    assert_eq!(
        mc["modelCard"]["modelParameters"]["datasets"][0]["ref"],
        "data:stanfordnlp/imdb"
    );
    assert_eq!(
        mc["modelCard"]["quantitativeAnalysis"]["performanceMetrics"][1]["value"],
        "92.1 ± 0.3"
    );
    assert_eq!(
        mc["modelCard"]["considerations"]["technicalLimitations"][0],
        "English only; reviews longer than 512 tokens are truncated."
    );
    let props: Vec<(String, String)> = mc["properties"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().into(),
                p["value"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(props.contains(&("aigov:oms:signature-matches".into(), "true".into())));
    let comps = cdx["components"].as_array().unwrap();
    let names: Vec<&str> = comps.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert!(
        names.contains(&"nyu-mll/glue") && names.contains(&"modeling_tiny.py"),
        "{names:?}"
    );
    let code = comps
        .iter()
        .find(|c| c["name"] == "modeling_tiny.py")
        .unwrap();
    assert!(code["properties"].to_string().contains("\"code\""));
    // The same serial for the same model and version.
    assert_eq!(
        inv.cyclonedx("2027-01-01T00:00:00Z")["serialNumber"],
        cdx["serialNumber"]
    );

    let spdx = inv.spdx3(
        "https://aigov.example/spdx/tiny-sentiment",
        "2026-11-29T04:00:00Z",
    );
    validate("spdx", &spdx).unwrap();
    let graph = spdx["@graph"].as_array().unwrap();
    let types: Vec<&str> = graph.iter().map(|e| e["type"].as_str().unwrap()).collect();
    for t in [
        "ai_AIPackage",
        "dataset_DatasetPackage",
        "Relationship",
        "software_File",
        "SpdxDocument",
    ] {
        assert!(types.contains(&t), "{types:?}");
    }
    let rels: Vec<&str> = graph
        .iter()
        .filter_map(|e| e["relationshipType"].as_str())
        .collect();
    for r in [
        "trainedOn",
        "testedOn",
        "hasDeclaredLicense",
        "descendantOf",
        "contains",
    ] {
        assert!(rels.contains(&r), "{rels:?}");
    }
}

#[test]
fn the_validators_reject_what_is_wrong() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("m");
    hf_model(&model, CARD);
    let inv = bom::inventory(&model, None, None, &no_progress).unwrap();
    let mut cdx = inv.cyclonedx("2026-11-29T04:00:00Z");
    cdx["components"][0]["hashes"] = serde_json::json!([{"alg": "sha256", "content": "00"}]);
    cdx["metadata"]["timestamp"] = serde_json::json!("yesterday");
    let e = validate("cdx", &cdx).unwrap_err();
    assert!(e.contains("timestamp") || e.contains("hashes"), "{e}");
    let mut spdx = inv.spdx3("https://aigov.example/spdx/m", "2026-11-29T04:00:00Z");
    spdx["@graph"][1]["spdxId"] = serde_json::json!("https://elsewhere/agent");
    let e = validate("spdx", &spdx).unwrap_err();
    assert!(e.contains("unresolved reference"), "{e}");
}

#[test]
fn licences_without_spdx_ids_and_cards_without_front_matter() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("llama-ft");
    hf_model(
        &model,
        "---\nlicense: llama3\nlicense_link: https://llama.meta.com/llama3/license/\nbase_model: [a/one, b/two]\n---\nFine-tuned.\n",
    );
    let inv = bom::inventory(&model, Some("acme/llama-ft"), Some("r2"), &no_progress).unwrap();
    let cdx = inv.cyclonedx("2026-11-29T04:00:00Z");
    validate("cdx", &cdx).unwrap();
    check_refs(&cdx);
    assert_eq!(
        cdx["metadata"]["component"]["licenses"][0]["license"]["name"],
        "llama3"
    );
    assert_eq!(
        cdx["metadata"]["component"]["pedigree"]["ancestors"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let spdx = inv.spdx3("urn:aigov:bom:llama-ft", "2026-11-29T04:00:00Z");
    validate("spdx", &spdx).unwrap();
    assert!(spdx.to_string().contains("LicenseRef-llama3"));

    let plain = tmp.path().join("plain");
    hf_model(&plain, "# Just a title\n\nNo front matter here.\n");
    let inv = bom::inventory(&plain, None, None, &no_progress).unwrap();
    assert!(inv.card.as_ref().unwrap().license.is_none());
    validate("cdx", &inv.cyclonedx("2026-11-29T04:00:00Z")).unwrap();
    validate(
        "spdx",
        &inv.spdx3("urn:aigov:bom:plain", "2026-11-29T04:00:00Z"),
    )
    .unwrap();

    let hostile = tmp.path().join("hostile");
    // Each anchor doubles the one before: 40 lines would load as 2^40 nodes.
    let mut card = String::from("---\na0: &a0 [x, x]\n");
    for i in 1..40 {
        card.push_str(&format!("a{i}: &a{i} [*a{}, *a{}]\n", i - 1, i - 1));
    }
    card.push_str("---\n");
    hf_model(&hostile, &card);
    assert!(matches!(
        bom::inventory(&hostile, None, None, &no_progress),
        Err(BomError::Card(_))
    ));
}

#[test]
fn diffs_name_files_datasets_licences_and_base_models() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("m");
    hf_model(&model, CARD);
    let a = bom::inventory(&model, None, Some("1"), &no_progress)
        .unwrap()
        .cyclonedx("2026-11-29T04:00:00Z");
    assert!(bom::diff(&a, &a).unwrap().is_empty());
    std::fs::write(
        model.join("model.safetensors"),
        b"\x02\x00\x00\x00\x00\x00\x00\x00{} ",
    )
    .unwrap();
    std::fs::remove_file(model.join("modeling_tiny.py")).unwrap();
    std::fs::write(model.join("adapter.safetensors"), b"x").unwrap();
    let card = CARD
        .replace("license: apache-2.0", "license: mit")
        .replace("- stanfordnlp/imdb", "- stanfordnlp/imdb\n- allenai/c4")
        .replace(
            "google-bert/bert-base-uncased",
            "distilbert/distilbert-base-uncased",
        );
    std::fs::write(model.join("README.md"), card).unwrap();
    let b = bom::inventory(&model, None, Some("2"), &no_progress)
        .unwrap()
        .cyclonedx("2026-11-29T05:00:00Z");
    let d = bom::diff(&a, &b).unwrap();
    assert!(d.root_digest.is_some());
    assert_eq!(d.files_added, ["adapter.safetensors"]);
    assert_eq!(d.files_removed, ["modeling_tiny.py"]);
    assert_eq!(d.files_changed, ["README.md", "model.safetensors"]);
    assert_eq!(d.datasets_added, ["allenai/c4"]);
    assert_eq!(
        d.licenses,
        Some((vec!["Apache-2.0".into()], vec!["MIT".into()]))
    );
    assert!(d.base_models.is_some());
    assert!(d.lines().iter().any(|l| l == "+ dataset allenai/c4"));
    assert!(bom::diff(&a, &serde_json::json!({"bomFormat": "SPDX"})).is_err());
}
