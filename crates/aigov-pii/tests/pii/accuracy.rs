//! Precision and recall on exact spans over a generated, labelled Chinese/English corpus.

use std::collections::{BTreeMap, HashSet};

use aigov_pii::{EntityType, Scanner};

use crate::py;

#[derive(Default, Debug)]
struct Counts {
    tp: u64,
    fp: u64,
    fn_: u64,
}

#[test]
fn structured_types_meet_the_accuracy_targets() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus.jsonl");
    let labels = dir.path().join("labels.jsonl");
    py::run(
        &py::root().join("bench/pii/corpus.py"),
        &[
            "--records",
            "6000",
            "--seed",
            "7",
            "--out",
            corpus.to_str().unwrap(),
            "--labels",
            labels.to_str().unwrap(),
        ],
    );
    let mut truth: HashSet<(u64, u64, u64, String)> = HashSet::new();
    for l in std::fs::read_to_string(&labels).unwrap().lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        truth.insert((
            v["record"].as_u64().unwrap(),
            v["start"].as_u64().unwrap(),
            v["end"].as_u64().unwrap(),
            v["entity_type"].as_str().unwrap().to_string(),
        ));
    }
    let scanner = Scanner::with_defaults();
    let mut found: HashSet<(u64, u64, u64, String)> = HashSet::new();
    let text = std::fs::read_to_string(&corpus).unwrap();
    let mut texts = BTreeMap::new();
    for l in text.lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        let id = v["id"].as_u64().unwrap();
        let t = v["text"].as_str().unwrap().to_string();
        for f in scanner.scan(&t) {
            found.insert((
                id,
                f.start as u64,
                f.end as u64,
                scanner.entity_name(f.entity).to_string(),
            ));
        }
        texts.insert(id, t);
    }
    let mut by: BTreeMap<String, Counts> = BTreeMap::new();
    for t in &truth {
        let c = by.entry(t.3.clone()).or_default();
        if found.contains(t) {
            c.tp += 1
        } else {
            c.fn_ += 1
        }
    }
    for f in &found {
        if !truth.contains(f) {
            by.entry(f.3.clone()).or_default().fp += 1;
        }
    }
    let mut report = String::from("entity              tp    fp    fn  precision  recall\n");
    let mut failures = Vec::new();
    for (e, c) in &by {
        let p = c.tp as f64 / (c.tp + c.fp).max(1) as f64;
        let r = c.tp as f64 / (c.tp + c.fn_).max(1) as f64;
        report.push_str(&format!(
            "{e:<18} {:>5} {:>5} {:>5}  {p:>9.4}  {r:.4}\n",
            c.tp, c.fp, c.fn_
        ));
        if p < 0.98 || r < 0.99 {
            failures.push(e.clone());
        }
    }
    // Examples of misses and false positives, to make a failure actionable.
    let mut examples = String::new();
    for t in truth.difference(&found).take(15) {
        let s = &texts[&t.0];
        examples.push_str(&format!(
            "missed {} {:?} in {:?}\n",
            t.3,
            &s[t.1 as usize..t.2 as usize],
            s
        ));
    }
    for f in found.difference(&truth).take(15) {
        let s = &texts[&f.0];
        examples.push_str(&format!(
            "false {} {:?}\n",
            f.3,
            &s[f.1 as usize..f.2 as usize]
        ));
    }
    println!("{report}\n{examples}");
    // Every type the corpus generates was seen.
    assert_eq!(by.len(), EntityType::ALL.len(), "{report}");
    assert!(
        failures.is_empty(),
        "below precision 0.98 / recall 0.99: {failures:?}\n{report}\n{examples}"
    );
}
