//! Scanning (and redacting) one batch: runs on the thread pool, no IO.

use super::Run;
use super::batch::Batch;
use super::source::Format;
use crate::detect::Finding;
use crate::formats::{csv, json};
use crate::report::{FindingRecord, InputError};

pub(crate) struct BatchOut {
    pub findings: Vec<(FindingRecord, String)>,
    pub errors: Vec<InputError>,
    pub notes: Vec<InputError>,
    pub redacted: Option<Vec<u8>>,
    pub bytes: u64,
    pub records: u64,
    /// The scan failed unexpectedly; `errors` says where.
    pub failed: bool,
}

impl BatchOut {
    /// The result of a batch whose scan failed unexpectedly (a bug): an error naming the
    /// records. A redaction run stops on it (see `failed`): its copy would be incomplete.
    pub(crate) fn failed(b: &Batch, file: &str) -> BatchOut {
        BatchOut {
            findings: Vec::new(),
            errors: vec![InputError {
                file: file.to_string(),
                record: Some(b.first_record),
                message: format!(
                    "internal error while scanning records {} to {}; they were not scanned",
                    b.first_record,
                    b.first_record + b.records.saturating_sub(1)
                ),
            }],
            notes: Vec::new(),
            redacted: None,
            bytes: b.data.len() as u64,
            records: b.records,
            failed: true,
        }
    }
}

/// A replacement of `raw[start..end]` in a record.
struct Edit {
    start: usize,
    end: usize,
    text: String,
}

fn splice(raw: &[u8], edits: &[Edit], out: &mut Vec<u8>) {
    let mut at = 0;
    for e in edits {
        if e.start < at {
            continue; // overlapping: the earlier edit already covers it
        }
        out.extend_from_slice(&raw[at..e.start]);
        out.extend_from_slice(e.text.as_bytes());
        at = e.end;
    }
    out.extend_from_slice(&raw[at..]);
}

pub(crate) fn process(run: &Run<'_>, b: &Batch, file: &str) -> BatchOut {
    let mut out = BatchOut {
        findings: Vec::new(),
        errors: Vec::new(),
        notes: Vec::new(),
        redacted: run
            .redactor
            .map(|_| Vec::with_capacity(b.data.len() + b.data.len() / 8)),
        bytes: b.data.len() as u64,
        records: b.records,
        failed: false,
    };
    for (rec, len) in &b.too_long {
        out.errors.push(InputError {
            file: file.to_string(),
            record: Some(*rec),
            message: format!("record longer than the limit ({len} bytes or more); skipped"),
        });
    }
    match b.format {
        Format::Text => text(run, b, file, &mut out),
        Format::Jsonl => records(run, b, file, &mut out, jsonl_record),
        Format::Csv | Format::Tsv => records(run, b, file, &mut out, csv_record),
        Format::Parquet => {}
    }
    out
}

pub(crate) fn finding_record(
    run: &Run<'_>,
    file: &str,
    record: u64,
    field: Option<String>,
    f: &Finding,
    value: &str,
) -> (FindingRecord, String) {
    (
        FindingRecord {
            file: file.to_string(),
            record,
            field,
            start: f.start as u64,
            end: f.end as u64,
            entity_type: run.scanner.entity_name(f.entity).to_string(),
            score: (f.score * 100.0).round() / 100.0,
            validated: f.validated,
            value: run.options.show_values.then(|| value.to_string()),
        },
        value.to_string(),
    )
}

fn text(run: &Run<'_>, b: &Batch, file: &str, out: &mut BatchOut) {
    let mut found = Vec::new();
    let mut line = b.first_record;
    let mut line_at = 0usize;
    let mut pos = 0usize;
    let mut invalid = 0usize;
    let mut first_invalid = None;
    let mut edits = Vec::new();
    // Valid text (the usual case) is checked at SIMD speed and scanned as one chunk.
    let chunks: Vec<(&str, &[u8])> = match utf8(&b.data) {
        Ok(text) => vec![(text, &[])],
        Err(_) => b
            .data
            .utf8_chunks()
            .map(|c| (c.valid(), c.invalid()))
            .collect(),
    };
    for (valid, invalid_bytes) in chunks {
        found.clear();
        run.scanner.scan_into(valid, &mut found);
        for f in &found {
            let (s, e) = (pos + f.start, pos + f.end);
            line += memchr::memchr_iter(b'\n', &b.data[line_at..s]).count() as u64;
            line_at = s;
            let value = &valid[f.start..f.end];
            let mut rec = finding_record(run, file, line, None, f, value);
            rec.0.start = b.offset + s as u64;
            rec.0.end = b.offset + e as u64;
            out.findings.push(rec);
            if let Some(r) = run.redactor {
                let mut t = String::new();
                r.replacement(run.scanner.entity_name(f.entity), value, value, &mut t);
                edits.push(Edit {
                    start: s,
                    end: e,
                    text: t,
                });
            }
        }
        pos += valid.len();
        if !invalid_bytes.is_empty() {
            invalid += 1;
            first_invalid.get_or_insert(b.offset + pos as u64);
            pos += invalid_bytes.len();
        }
    }
    if let Some(at) = first_invalid {
        out.notes.push(InputError {
            file: file.to_string(),
            record: None,
            message: format!("invalid UTF-8 ({invalid} sequences, the first at byte {at}); the valid text around them was scanned"),
        });
    }
    if let Some(red) = out.redacted.as_mut() {
        splice(&b.data, &edits, red);
    }
}

/// Scans one record; returns the edits for redaction, or an error message.
type RecordFn =
    fn(&Run<'_>, &str, &str, u64, &Batch, &mut BatchOut, &mut Vec<Edit>) -> Result<(), String>;

fn records(run: &Run<'_>, b: &Batch, file: &str, out: &mut BatchOut, f: RecordFn) {
    let mut record = b.first_record;
    let mut at = 0;
    let delim = b.columns.as_ref().map_or(b',', |c| c.delim);
    let mut edits = Vec::new();
    let mut skip_numbers: Vec<u64> = b.too_long.iter().map(|(r, _)| *r).collect();
    skip_numbers.sort_unstable();
    while at < b.data.len() {
        while skip_numbers.binary_search(&record).is_ok() {
            record += 1;
        }
        let end = if b.format == Format::Jsonl {
            memchr::memchr(b'\n', &b.data[at..]).map_or(b.data.len(), |i| at + i + 1)
        } else {
            csv::RecordSplitter::new(delim)
                .feed(&b.data[at..])
                .map_or(b.data.len(), |i| at + i)
        };
        let raw = &b.data[at..end];
        let body = trim_eol(raw);
        let first = out.findings.len();
        edits.clear();
        let result = match utf8(body) {
            Err(at) => Err(format!("invalid UTF-8 at byte {at}; record skipped")),
            Ok(text) if text.trim().is_empty() => Ok(()),
            Ok(text) => f(run, file, text, record, b, out, &mut edits),
        };
        match result {
            Ok(()) => {
                if let Some(red) = out.redacted.as_mut() {
                    splice(raw, &edits, red);
                }
            }
            Err(message) => {
                out.findings.truncate(first);
                out.errors.push(InputError {
                    file: file.to_string(),
                    record: Some(record),
                    message,
                });
            }
        }
        record += 1;
        at = end;
    }
}

/// Records a finding of a field value and, when redacting, the edit of its raw span
/// (`raw_span` maps decoded offsets to record offsets; `escape` adapts the replacement to the
/// field's syntax).
#[allow(clippy::too_many_arguments)]
fn field_finding(
    run: &Run<'_>,
    file: &str,
    record: u64,
    field: &str,
    text: &str,
    value: &str,
    f: &Finding,
    raw_span: (usize, usize),
    escape: impl Fn(String) -> String,
    out: &mut BatchOut,
    edits: &mut Vec<Edit>,
) {
    let matched = &value[f.start..f.end];
    out.findings.push(finding_record(
        run,
        file,
        record,
        Some(field.to_string()),
        f,
        matched,
    ));
    if let Some(r) = run.redactor {
        let (rs, re) = raw_span;
        let mut t = String::new();
        r.replacement(
            run.scanner.entity_name(f.entity),
            matched,
            &text[rs..re],
            &mut t,
        );
        edits.push(Edit {
            start: rs,
            end: re,
            text: escape(t),
        });
    }
}

/// `bytes` as text, or the offset of the first invalid byte (SIMD validation; the standard
/// library only to locate an error).
pub(crate) fn utf8(bytes: &[u8]) -> Result<&str, usize> {
    match simdutf8::basic::from_utf8(bytes) {
        Ok(s) => Ok(s),
        Err(_) => std::str::from_utf8(bytes).map_err(|e| e.valid_up_to()),
    }
}

fn trim_eol(raw: &[u8]) -> &[u8] {
    let raw = raw.strip_suffix(b"\n").unwrap_or(raw);
    raw.strip_suffix(b"\r").unwrap_or(raw)
}

fn jsonl_record(
    run: &Run<'_>,
    file: &str,
    text: &str,
    record: u64,
    _b: &Batch,
    out: &mut BatchOut,
    edits: &mut Vec<Edit>,
) -> Result<(), String> {
    let mut found = Vec::new();
    json::walk(text, &run.options.fields, |path, s| {
        found.clear();
        run.scanner.scan_into(&s.value, &mut found);
        if found.is_empty() {
            return;
        }
        let field = json::Path(path).to_string();
        let escape = |t: String| {
            let mut escaped = String::with_capacity(t.len());
            json::escape_into(&t, &mut escaped);
            escaped
        };
        for f in &found {
            let span = (s.raw_offset(f.start), s.raw_offset(f.end));
            field_finding(
                run, file, record, &field, text, &s.value, f, span, escape, out, edits,
            );
        }
    })
    .map_err(|e| format!("{e}; record skipped"))
}

fn csv_record(
    run: &Run<'_>,
    file: &str,
    text: &str,
    record: u64,
    b: &Batch,
    out: &mut BatchOut,
    edits: &mut Vec<Edit>,
) -> Result<(), String> {
    let cols = b.columns.as_deref();
    let delim = cols.map_or(b',', |c| c.delim);
    let fields = csv::fields(text, delim).map_err(|e| format!("{e}; record skipped"))?;
    let mut found = Vec::new();
    for (i, fld) in fields.iter().enumerate() {
        if let Some(sel) = cols.and_then(|c| c.selected.as_ref())
            && !sel.contains(&i)
        {
            continue;
        }
        found.clear();
        run.scanner.scan_into(&fld.value, &mut found);
        if found.is_empty() {
            continue;
        }
        let name = cols
            .and_then(|c| c.names.get(i))
            .cloned()
            .unwrap_or_else(|| format!("column {}", i + 1));
        let quoted = fld.quoted;
        let escape = |t: String| if quoted { t.replace('"', "\"\"") } else { t };
        for f in &found {
            let span = (fld.raw_offset(f.start), fld.raw_offset(f.end));
            field_finding(
                run, file, record, &name, text, &fld.value, f, span, escape, out, edits,
            );
        }
    }
    Ok(())
}
