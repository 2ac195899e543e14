//! The validators agree with python-stdnum on generated valid and invalid identifiers.

use aigov_pii::validate;

use crate::py;

#[test]
fn validators_agree_with_python_stdnum() {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pii/oracle.py");
    let out = py::run(&script, &["11"]);
    let mut seen = std::collections::BTreeMap::<&str, (u32, u32)>::new();
    let mut disagreements = Vec::new();
    for l in out.lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        let (kind, value, want) = (
            v["kind"].as_str().unwrap(),
            v["value"].as_str().unwrap(),
            v["valid"].as_bool().unwrap(),
        );
        let got = match kind {
            "resident_id" => validate::resident_id(value).is_some_and(|r| r.with_check),
            "uscc" => validate::uscc(value),
            "luhn" => validate::luhn(value),
            "iban" => validate::iban(value),
            "us_ssn" => validate::us_ssn(value),
            other => panic!("unknown kind {other}"),
        };
        let kind: &'static str = match kind {
            "resident_id" => "resident_id",
            "uscc" => "uscc",
            "luhn" => "luhn",
            "iban" => "iban",
            _ => "us_ssn",
        };
        let e = seen.entry(kind).or_default();
        if want {
            e.0 += 1
        } else {
            e.1 += 1
        }
        if got != want {
            disagreements.push(format!("{kind} {value}: stdnum {want}, aigov {got}"));
        }
    }
    // Both verdicts occur for every kind, so the comparison means something.
    for (k, (valid, invalid)) in &seen {
        assert!(
            *valid > 50 && *invalid > 50,
            "{k}: {valid} valid, {invalid} invalid cases"
        );
    }
    assert!(
        disagreements.is_empty(),
        "{} disagreements, e.g. {:?}",
        disagreements.len(),
        &disagreements[..disagreements.len().min(10)]
    );
}
