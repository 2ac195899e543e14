//! Scan reports: one JSON object per finding, the summary (JSON, a human table, SARIF 2.1.0).
//! Pure: the caller writes them. The summary is also the evidence file the registry stores
//! for a system's dataset (`format` = [`SUMMARY_FORMAT`]).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

/// Format tag of the summary, checked by the registry when it is uploaded as evidence.
pub const SUMMARY_FORMAT: &str = "aigov-pii-scan-summary/v1";
/// Samples kept per entity type.
const SAMPLES: usize = 3;
/// Errors listed in full (the count is always exact).
const ERRORS_LISTED: usize = 1000;

/// One finding, as written to the findings JSONL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingRecord {
    /// Input file (`-` for stdin).
    pub file: String,
    /// Line or row number, 1-based.
    pub record: u64,
    /// JSON path or column; `null` for plain text.
    pub field: Option<String>,
    /// Byte offset into the field's UTF-8 value (plain text: into the file).
    pub start: u64,
    /// Byte offset just after the match.
    pub end: u64,
    /// Entity type name.
    pub entity_type: String,
    /// Score in 0..=1.
    pub score: f32,
    /// Whether a validator confirmed it.
    pub validated: bool,
    /// The matched text, only with `--show-values`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

impl FindingRecord {
    /// Appends the record as one JSON line (the same bytes as `serde_json` writes, with the
    /// newline).
    pub fn write_jsonl(&self, out: &mut Vec<u8>) {
        self.as_found(self.value.as_deref().unwrap_or_default())
            .write_jsonl(out);
    }

    /// The borrowed form, with the matched `value` (which the record holds only when values
    /// are shown).
    pub fn as_found<'a>(&'a self, value: &'a str) -> Found<'a> {
        Found {
            file: &self.file,
            record: self.record,
            field: self.field.as_deref(),
            start: self.start,
            end: self.end,
            entity_type: &self.entity_type,
            score: self.score,
            validated: self.validated,
            value,
            show_value: self.value.is_some(),
        }
    }
}

/// A finding as a scan reports it, borrowed from the scan's buffers: a run allocates nothing
/// per finding to report it. [`Found::to_record`] makes the owned [`FindingRecord`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Found<'a> {
    /// Input file (`-` for stdin).
    pub file: &'a str,
    /// Line or row number, 1-based.
    pub record: u64,
    /// JSON path or column; `None` for plain text.
    pub field: Option<&'a str>,
    /// Byte offset into the field's UTF-8 value (plain text: into the file).
    pub start: u64,
    /// Byte offset just after the match.
    pub end: u64,
    /// Entity type name.
    pub entity_type: &'a str,
    /// Score in 0..=1, rounded to hundredths.
    pub score: f32,
    /// Whether a validator confirmed it.
    pub validated: bool,
    /// The matched text (for masked samples in the summary).
    pub value: &'a str,
    /// Whether the record carries the matched text (`--show-values`).
    pub show_value: bool,
}

impl Found<'_> {
    /// The owned record, as written to the findings JSONL.
    pub fn to_record(&self) -> FindingRecord {
        FindingRecord {
            file: self.file.to_string(),
            record: self.record,
            field: self.field.map(str::to_string),
            start: self.start,
            end: self.end,
            entity_type: self.entity_type.to_string(),
            score: self.score,
            validated: self.validated,
            value: self.show_value.then(|| self.value.to_string()),
        }
    }

    /// Appends the record as one JSON line (the same bytes as `serde_json` writes for
    /// [`FindingRecord`], with the newline). Hand-written because it runs once per finding:
    /// about three times faster.
    pub fn write_jsonl(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"file\":");
        json_str(self.file, out);
        out.extend_from_slice(b",\"record\":");
        out.extend_from_slice(itoa::Buffer::new().format(self.record).as_bytes());
        out.extend_from_slice(b",\"field\":");
        match self.field {
            Some(f) => json_str(f, out),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"start\":");
        out.extend_from_slice(itoa::Buffer::new().format(self.start).as_bytes());
        out.extend_from_slice(b",\"end\":");
        out.extend_from_slice(itoa::Buffer::new().format(self.end).as_bytes());
        out.extend_from_slice(b",\"entity_type\":");
        json_str(self.entity_type, out);
        out.extend_from_slice(b",\"score\":");
        // Scores are rounded to hundredths; anything else goes through serde's float writer.
        let hundredths = (self.score * 100.0).round();
        if (0.0..=100.0).contains(&hundredths) && hundredths / 100.0 == self.score {
            let n = hundredths as u8;
            let digit = |d: u8| b'0' + d;
            match n {
                100 => out.extend_from_slice(b"1.0"),
                n if n % 10 == 0 => out.extend_from_slice(&[b'0', b'.', digit(n / 10)]),
                n => out.extend_from_slice(&[b'0', b'.', digit(n / 10), digit(n % 10)]),
            }
        } else {
            let _ = serde_json::to_writer(&mut *out, &self.score);
        }
        out.extend_from_slice(b",\"validated\":");
        out.extend_from_slice(if self.validated { b"true" } else { b"false" });
        if self.show_value {
            out.extend_from_slice(b",\"value\":");
            json_str(self.value, out);
        }
        out.extend_from_slice(b"}\n");
    }
}

/// A JSON string literal, escaped as `serde_json` escapes it.
fn json_str(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    let b = s.as_bytes();
    // Most names need no escape: checked without early exit, which the compiler vectorises.
    let plain = b
        .iter()
        .fold(true, |ok, &c| ok & (c >= 0x20) & (c != b'"') & (c != b'\\'));
    if plain {
        out.extend_from_slice(b);
        out.push(b'"');
        return;
    }
    let mut at = 0;
    for (i, &c) in b.iter().enumerate() {
        let esc: &[u8] = match c {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0C => b"\\f",
            0..=0x1F => b"",
            _ => continue,
        };
        out.extend_from_slice(&b[at..i]);
        if esc.is_empty() {
            out.extend_from_slice(format!("\\u{c:04x}").as_bytes());
        } else {
            out.extend_from_slice(esc);
        }
        at = i + 1;
    }
    out.extend_from_slice(&b[at..]);
    out.push(b'"');
}

/// An input problem: the record (or file) was not scanned, or only partly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputError {
    /// Input file.
    pub file: String,
    /// Record number when the problem is one record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<u64>,
    /// What is wrong.
    pub message: String,
}

/// Counts for one entity type.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EntityCount {
    /// Findings.
    pub count: u64,
    /// Of which confirmed by a validator.
    pub validated: u64,
    /// Highest score.
    pub max_score: f32,
    /// A few values, masked.
    #[serde(default)]
    pub samples: Vec<String>,
}

/// Per-file figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FileSummary {
    /// Bytes scanned (decompressed).
    pub bytes: u64,
    /// Records (lines, rows).
    pub records: u64,
    /// Findings.
    pub findings: u64,
    /// Findings per entity type.
    pub by_entity: BTreeMap<String, u64>,
    /// Why the file was skipped (binary, unreadable), if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// Records that could not be scanned.
    pub errors: u64,
}

/// The summary report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Always [`SUMMARY_FORMAT`].
    pub format: String,
    /// Tool and version.
    pub tool: String,
    /// Minimum score reported.
    pub threshold: f32,
    /// Files scanned (skipped ones included).
    pub files: u64,
    /// Files skipped.
    pub files_skipped: u64,
    /// Bytes scanned.
    pub bytes: u64,
    /// Records scanned.
    pub records: u64,
    /// Findings.
    pub findings: u64,
    /// Findings confirmed by a validator.
    pub validated: u64,
    /// Per entity type.
    pub by_entity: BTreeMap<String, EntityCount>,
    /// Per field (JSON path or column; `(text)` for plain text), then per entity type.
    pub by_field: BTreeMap<String, BTreeMap<String, u64>>,
    /// Per file.
    pub by_file: BTreeMap<String, FileSummary>,
    /// Input errors (count exact; the first 1000 listed).
    pub errors: u64,
    /// The first errors.
    pub error_list: Vec<InputError>,
    /// Notes: input scanned with a caveat (invalid UTF-8 around scanned text); count exact,
    /// the first 1000 listed.
    #[serde(default)]
    pub notes: u64,
    /// The first notes.
    #[serde(default)]
    pub note_list: Vec<InputError>,
}

/// Masks a sample: letters and digits become `*` except the first two and last two (only the
/// last one for values under eight characters).
pub fn mask_sample(v: &str) -> String {
    let n = v.chars().filter(|c| c.is_alphanumeric()).count();
    let (head, tail) = if n >= 8 {
        (2, 2)
    } else {
        (0, 1.min(n.saturating_sub(1)))
    };
    let mut seen = 0;
    v.chars()
        .map(|c| {
            if !c.is_alphanumeric() {
                return c;
            }
            seen += 1;
            if seen <= head || seen > n - tail {
                c
            } else {
                '*'
            }
        })
        .collect()
}

/// The value under `key`, inserted as the default (with `key` cloned) if absent.
/// Updates `map[key]` (a default value first when it is new) with one search when the key is
/// known, which it is for all but the first finding of a kind: this runs per finding. The key is
/// cloned only when new.
fn bump<V: Default>(map: &mut BTreeMap<String, V>, key: &str, update: impl FnOnce(&mut V)) {
    match map.get_mut(key) {
        Some(v) => update(v),
        None => {
            let mut v = V::default();
            update(&mut v);
            map.insert(key.to_string(), v);
        }
    }
}

impl Summary {
    /// An empty summary.
    pub fn new(tool: &str, threshold: f32) -> Summary {
        Summary {
            format: SUMMARY_FORMAT.to_string(),
            tool: tool.to_string(),
            threshold,
            files: 0,
            files_skipped: 0,
            bytes: 0,
            records: 0,
            findings: 0,
            validated: 0,
            by_entity: BTreeMap::new(),
            by_field: BTreeMap::new(),
            by_file: BTreeMap::new(),
            errors: 0,
            error_list: Vec::new(),
            notes: 0,
            note_list: Vec::new(),
        }
    }

    /// Counts a finding; its value feeds the masked samples.
    pub fn add_finding(&mut self, f: &Found<'_>) {
        self.findings += 1;
        self.validated += u64::from(f.validated);
        bump(&mut self.by_entity, f.entity_type, |e| {
            e.count += 1;
            e.validated += u64::from(f.validated);
            e.max_score = e.max_score.max(f.score);
            if e.samples.len() < SAMPLES {
                let m = mask_sample(f.value);
                if !e.samples.contains(&m) {
                    e.samples.push(m);
                }
            }
        });
        bump(&mut self.by_field, f.field.unwrap_or("(text)"), |field| {
            bump(field, f.entity_type, |n| *n += 1);
        });
        bump(&mut self.by_file, f.file, |file| {
            file.findings += 1;
            bump(&mut file.by_entity, f.entity_type, |n| *n += 1);
        });
    }

    /// Counts an input error.
    pub fn add_error(&mut self, e: InputError) {
        self.errors += 1;
        self.by_file.entry(e.file.clone()).or_default().errors += 1;
        if self.error_list.len() < ERRORS_LISTED {
            self.error_list.push(e);
        }
    }

    /// Counts a note.
    pub fn add_note(&mut self, e: InputError) {
        self.notes += 1;
        if self.note_list.len() < ERRORS_LISTED {
            self.note_list.push(e);
        }
    }

    /// Counts a scanned file.
    pub fn add_file(&mut self, file: &str, bytes: u64, records: u64, skipped: Option<String>) {
        self.files += 1;
        self.files_skipped += u64::from(skipped.is_some());
        self.bytes += bytes;
        self.records += records;
        let f = self.by_file.entry(file.to_string()).or_default();
        f.bytes += bytes;
        f.records += records;
        f.skipped = skipped;
    }

    /// A human-readable table.
    pub fn table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{} files ({} skipped), {} records, {:.1} MB; {} findings ({} validated); {} input errors",
            self.files,
            self.files_skipped,
            self.records,
            self.bytes as f64 / 1e6,
            self.findings,
            self.validated,
            self.errors
        );
        if !self.by_entity.is_empty() {
            let _ = writeln!(
                s,
                "\n{:<18} {:>9} {:>9} {:>6}  samples",
                "ENTITY", "COUNT", "VALIDATED", "MAX"
            );
            for (k, v) in &self.by_entity {
                let _ = writeln!(
                    s,
                    "{k:<18} {:>9} {:>9} {:>6.2}  {}",
                    v.count,
                    v.validated,
                    v.max_score,
                    v.samples.join(", ")
                );
            }
            let _ = writeln!(s, "\n{:<40} {:<18} {:>9}", "FIELD", "ENTITY", "COUNT");
            for (field, m) in &self.by_field {
                for (k, n) in m {
                    let _ = writeln!(s, "{field:<40} {k:<18} {n:>9}");
                }
            }
        }
        let noisy: Vec<_> = self
            .by_file
            .iter()
            .filter(|(_, f)| f.findings > 0 || f.skipped.is_some() || f.errors > 0)
            .collect();
        if !noisy.is_empty() {
            let _ = writeln!(
                s,
                "\n{:<50} {:>9} {:>7}  note",
                "FILE", "FINDINGS", "ERRORS"
            );
            for (name, f) in noisy {
                let _ = writeln!(
                    s,
                    "{name:<50} {:>9} {:>7}  {}",
                    f.findings,
                    f.errors,
                    f.skipped.as_deref().unwrap_or("")
                );
            }
        }
        for e in self.note_list.iter().take(20) {
            let _ = writeln!(s, "note: {}: {}", e.file, e.message);
        }
        for e in self.error_list.iter().take(20) {
            match e.record {
                Some(r) => {
                    let _ = writeln!(s, "error: {}:{}: {}", e.file, r, e.message);
                }
                None => {
                    let _ = writeln!(s, "error: {}: {}", e.file, e.message);
                }
            }
        }
        s
    }
}

/// A SARIF 2.1.0 log of findings (one result per finding; values never included).
pub fn sarif(findings: &[FindingRecord], version: &str) -> serde_json::Value {
    use crate::entity::EntityType;
    let rules: Vec<serde_json::Value> = EntityType::ALL
        .iter()
        .map(|e| {
            serde_json::json!({
                "id": e.name(),
                "name": e.name(),
                "shortDescription": { "text": e.description() },
                "defaultConfiguration": { "level": "error" },
            })
        })
        .collect();
    let results: Vec<serde_json::Value> = findings
        .iter()
        .map(|f| {
            let mut region = serde_json::json!({ "startLine": f.record });
            if f.field.is_none() {
                region["byteOffset"] = f.start.into();
                region["byteLength"] = (f.end - f.start).into();
            }
            let where_ = match &f.field {
                Some(field) => format!(" in {field}"),
                None => String::new(),
            };
            serde_json::json!({
                "ruleId": f.entity_type,
                "level": if f.validated || f.score >= 0.8 { "error" } else { "warning" },
                "message": { "text": format!("{} (score {:.2}{}){}", f.entity_type, f.score, if f.validated { ", validated" } else { "" }, where_) },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": f.file },
                        "region": region,
                    }
                }],
                "properties": { "score": f.score, "validated": f.validated, "field": f.field, "start": f.start, "end": f.end },
            })
        })
        .collect();
    serde_json::json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": { "name": "aigov", "version": version, "informationUri": "https://example.invalid/aigov", "rules": rules } },
            "results": results,
        }]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonl_lines_are_what_serde_writes() {
        let mut f = FindingRecord {
            file: "dir/a \"b\"\\c\u{1}\t中.jsonl".into(),
            record: 12,
            field: Some("$.messages[0].content".into()),
            start: 3,
            end: 21,
            entity_type: "CN_RESIDENT_ID".into(),
            score: 1.0,
            validated: true,
            value: None,
        };
        let mut scores: Vec<f32> = (0..=100)
            .map(|n| (n as f32 / 100.0 * 100.0).round() / 100.0)
            .collect();
        scores.extend([0.333, 1.5, -0.25]);
        for score in scores {
            for (field, value) in [
                (None, None),
                (Some("x\n".to_string()), Some("1\u{7f}\u{1f}".to_string())),
            ] {
                f.score = score;
                f.field = field.clone();
                f.value = value.clone();
                let mut want = serde_json::to_vec(&f).unwrap();
                want.push(b'\n');
                let mut got = Vec::new();
                f.write_jsonl(&mut got);
                assert_eq!(
                    String::from_utf8(got).unwrap(),
                    String::from_utf8(want).unwrap()
                );
            }
        }
    }

    #[test]
    fn masks() {
        assert_eq!(mask_sample("13812345678"), "13*******78");
        assert_eq!(mask_sample("a@b.cn"), "*@*.*n");
        assert_eq!(mask_sample("138-1234-5678"), "13*-****-**78");
        assert_eq!(mask_sample("x"), "*");
    }

    #[test]
    fn summary_counts() {
        let mut s = Summary::new("aigov test", 0.4);
        let f = FindingRecord {
            file: "a.jsonl".into(),
            record: 3,
            field: Some("$.text".into()),
            start: 0,
            end: 11,
            entity_type: "CN_MOBILE".into(),
            score: 0.6,
            validated: false,
            value: None,
        };
        let found = Found {
            file: "a.jsonl",
            record: 3,
            field: Some("$.text"),
            start: 0,
            end: 11,
            entity_type: "CN_MOBILE",
            score: 0.6,
            validated: false,
            value: "13812345678",
            show_value: false,
        };
        assert_eq!(found.to_record(), f);
        s.add_finding(&found);
        s.add_finding(&found);
        s.add_file("a.jsonl", 100, 5, None);
        s.add_error(InputError {
            file: "a.jsonl".into(),
            record: Some(4),
            message: "bad".into(),
        });
        assert_eq!(s.by_entity["CN_MOBILE"].count, 2);
        assert_eq!(s.by_entity["CN_MOBILE"].samples, vec!["13*******78"]);
        assert_eq!(s.by_field["$.text"]["CN_MOBILE"], 2);
        assert_eq!(s.by_file["a.jsonl"].errors, 1);
        let back: Summary = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back, s);
        assert!(s.table().contains("CN_MOBILE"));
        let sarif = sarif(&[f], "0.1.0");
        assert_eq!(sarif["runs"][0]["results"][0]["ruleId"], "CN_MOBILE");
    }
}
