//! Scan results as JSON, a human table and SARIF 2.1.0.

use serde::Serialize;
use serde_json::{Value, json};

use super::{FileReport, Severity};

/// Format identifier of the JSON report.
pub const REPORT_FORMAT: &str = "aigov-model-scan/v1";

/// The whole scan.
#[derive(Debug, Clone, Serialize)]
pub struct ScanReport {
    /// Always [`REPORT_FORMAT`].
    pub format: &'static str,
    /// Files and archive members scanned, in path order.
    pub files: Vec<FileReport>,
    /// Number of findings per severity.
    pub counts: std::collections::BTreeMap<&'static str, usize>,
    /// Files that could not be read.
    pub errors: usize,
}

impl ScanReport {
    /// Builds the report from per-file results.
    pub fn new(files: Vec<FileReport>) -> ScanReport {
        let mut counts = std::collections::BTreeMap::new();
        let mut errors = 0;
        for f in &files {
            for x in &f.findings {
                *counts.entry(x.severity.name()).or_insert(0) += 1;
            }
            if f.error.is_some() {
                errors += 1;
            }
        }
        ScanReport {
            format: REPORT_FORMAT,
            files,
            counts,
            errors,
        }
    }

    /// The most severe finding of the scan.
    pub fn worst(&self) -> Option<Severity> {
        self.files.iter().filter_map(FileReport::worst).max()
    }

    /// A table for people: one line per finding, then totals.
    pub fn table(&self) -> String {
        let mut s = String::new();
        for f in &self.files {
            if let Some(e) = &f.error {
                s.push_str(&format!("ERROR     {}: {e}\n", f.path));
            }
            for x in &f.findings {
                s.push_str(&format!(
                    "{:<9} {} [{}] {}\n",
                    x.severity.name().to_uppercase(),
                    f.path,
                    f.format,
                    x.message
                ));
            }
        }
        let clean = self
            .files
            .iter()
            .filter(|f| f.findings.is_empty() && f.error.is_none())
            .count();
        s.push_str(&format!(
            "{} scanned, {} without findings, {} findings ({}), {} unreadable\n",
            self.files.len(),
            clean,
            self.counts.values().sum::<usize>(),
            self.counts
                .iter()
                .rev()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", "),
            self.errors
        ));
        s
    }

    /// SARIF 2.1.0 for code-scanning dashboards.
    pub fn sarif(&self) -> Value {
        let mut rules: Vec<&'static str> = self
            .files
            .iter()
            .flat_map(|f| f.findings.iter().map(|x| x.rule))
            .collect();
        rules.sort_unstable();
        rules.dedup();
        let level = |s: Severity| match s {
            Severity::Critical | Severity::High => "error",
            Severity::Medium => "warning",
            _ => "note",
        };
        let mut results = Vec::new();
        for f in &self.files {
            let uri = f.path.split("!/").next().unwrap_or(&f.path);
            for x in &f.findings {
                results.push(json!({
                    "ruleId": x.rule,
                    "level": level(x.severity),
                    "message": {"text": format!("{}: {}", f.path, x.message)},
                    "properties": {"severity": x.severity.name(), "member": f.path},
                    "locations": [{"physicalLocation": {
                        "artifactLocation": {"uri": uri},
                        "region": {"byteOffset": x.offset.unwrap_or(0)}
                    }}]
                }));
            }
        }
        json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": {"driver": {
                    "name": "aigov model scan",
                    "informationUri": "https://example.invalid/aigov",
                    "rules": rules.iter().map(|r| json!({"id": r})).collect::<Vec<_>>()
                }},
                "results": results
            }]
        })
    }
}
