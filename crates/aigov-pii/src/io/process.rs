//! Scanning (and redacting) one batch: runs on the thread pool, no IO.

use std::fmt::Write as _;
use std::ops::Range;

use super::Run;
use super::batch::Batch;
use super::source::Format;
use crate::detect::Finding;
use crate::formats::{csv, json};
use crate::report::{Found, InputError};

/// A finding of a batch, compact: its field name and matched text live in the batch's tables
/// ([`BatchOut::fields`], [`BatchOut::values`]), so that a finding costs no allocation.
pub(crate) struct Hit {
    record: u64,
    /// Index into `fields`, or [`NO_FIELD`] (plain text).
    field: u32,
    /// Offsets as reported (plain text: into the file, so past a batch's `usize` range).
    start: u64,
    end: u64,
    finding: Finding,
    /// Span of the matched text in `values`.
    value: Range<usize>,
}

const NO_FIELD: u32 = u32::MAX;

impl Hit {
    /// The finding as reported, borrowed from `out`.
    pub(crate) fn found<'a>(
        &self,
        file: &'a str,
        out: &'a BatchOut,
        run: &'a Run<'_>,
    ) -> Found<'a> {
        let value = out.values.get(self.value.clone()).unwrap_or_default();
        let field = out.fields.get(self.field as usize).map(String::as_str);
        Found {
            start: self.start,
            end: self.end,
            ..found(run, file, self.record, field, &self.finding, value)
        }
    }
}

pub(crate) struct BatchOut {
    pub findings: Vec<Hit>,
    /// Field names (JSON paths, columns) the findings refer to.
    pub fields: Vec<String>,
    /// The matched texts, end to end.
    pub values: String,
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
            fields: Vec::new(),
            values: String::new(),
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
        fields: Vec::new(),
        values: String::new(),
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

impl BatchOut {
    /// The index of field `name` in [`BatchOut::fields`] (added when new; a batch holds few).
    fn field(&mut self, name: impl std::fmt::Display) -> u32 {
        // The name is formatted at the end of `values` (no allocation when it is known) and
        // cut off again.
        let mut buf = std::mem::take(&mut self.values);
        let at = buf.len();
        let _ = write!(buf, "{name}");
        let i = match self.fields.iter().rposition(|f| *f == buf[at..]) {
            Some(i) => i,
            None => {
                self.fields.push(buf[at..].to_string());
                self.fields.len() - 1
            }
        };
        buf.truncate(at);
        self.values = buf;
        u32::try_from(i).unwrap_or(NO_FIELD)
    }

    /// Records finding `f` of `value` in `record` at `start..end`.
    fn hit(&mut self, record: u64, field: u32, f: &Finding, value: &str, start: u64, end: u64) {
        let at = self.values.len();
        self.values.push_str(value);
        self.findings.push(Hit {
            record,
            field,
            start,
            end,
            finding: *f,
            value: at..self.values.len(),
        });
    }
}

/// Finding `f` as reported (score rounded to hundredths).
pub(crate) fn found<'a>(
    run: &'a Run<'_>,
    file: &'a str,
    record: u64,
    field: Option<&'a str>,
    f: &Finding,
    value: &'a str,
) -> Found<'a> {
    Found {
        file,
        record,
        field,
        start: f.start as u64,
        end: f.end as u64,
        entity_type: run.scanner.entity_name(f.entity),
        score: (f.score * 100.0).round() / 100.0,
        validated: f.validated,
        value,
        show_value: run.options.show_values,
    }
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
            out.hit(
                line,
                NO_FIELD,
                f,
                value,
                b.offset + s as u64,
                b.offset + e as u64,
            );
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
/// Buffers reused from record to record of a batch (records borrow from the batch's data).
#[derive(Default)]
struct Scratch<'b> {
    found: Vec<Finding>,
    path: Vec<json::Segment<'b>>,
    edits: Vec<Edit>,
}

type RecordFn = for<'b> fn(
    &Run<'_>,
    &'b str,
    u64,
    &Batch,
    &mut BatchOut,
    &mut Scratch<'b>,
) -> Result<(), String>;

fn records(run: &Run<'_>, b: &Batch, file: &str, out: &mut BatchOut, f: RecordFn) {
    let mut record = b.first_record;
    let mut at = 0;
    let delim = b.columns.as_ref().map_or(b',', |c| c.delim);
    let mut scratch = Scratch::default();
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
        scratch.edits.clear();
        let result = match utf8(body) {
            Err(at) => Err(format!("invalid UTF-8 at byte {at}; record skipped")),
            Ok(text) if text.trim().is_empty() => Ok(()),
            Ok(text) => f(run, text, record, b, out, &mut scratch),
        };
        match result {
            Ok(()) => {
                if let Some(red) = out.redacted.as_mut() {
                    splice(raw, &scratch.edits, red);
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
    record: u64,
    field: u32,
    text: &str,
    value: &str,
    f: &Finding,
    raw_span: (usize, usize),
    escape: impl Fn(String) -> String,
    out: &mut BatchOut,
    edits: &mut Vec<Edit>,
) {
    let matched = &value[f.start..f.end];
    out.hit(record, field, f, matched, f.start as u64, f.end as u64);
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

fn jsonl_record<'b>(
    run: &Run<'_>,
    text: &'b str,
    record: u64,
    _b: &Batch,
    out: &mut BatchOut,
    scratch: &mut Scratch<'b>,
) -> Result<(), String> {
    let Scratch { found, path, edits } = scratch;
    json::walk_with(text, &run.options.fields, path, |path, s| {
        found.clear();
        run.scanner.scan_into(&s.value, found);
        if found.is_empty() {
            return;
        }
        let field = out.field(json::Path(path));
        let escape = |t: String| {
            let mut escaped = String::with_capacity(t.len());
            json::escape_into(&t, &mut escaped);
            escaped
        };
        for f in found.iter() {
            let span = (s.raw_offset(f.start), s.raw_offset(f.end));
            field_finding(
                run, record, field, text, &s.value, f, span, escape, out, edits,
            );
        }
    })
    .map_err(|e| format!("{e}; record skipped"))
}

fn csv_record<'b>(
    run: &Run<'_>,
    text: &'b str,
    record: u64,
    b: &Batch,
    out: &mut BatchOut,
    scratch: &mut Scratch<'b>,
) -> Result<(), String> {
    let Scratch { found, edits, .. } = scratch;
    let cols = b.columns.as_deref();
    let delim = cols.map_or(b',', |c| c.delim);
    let fields = csv::fields(text, delim).map_err(|e| format!("{e}; record skipped"))?;
    for (i, fld) in fields.iter().enumerate() {
        if let Some(sel) = cols.and_then(|c| c.selected.as_ref())
            && !sel.contains(&i)
        {
            continue;
        }
        found.clear();
        run.scanner.scan_into(&fld.value, found);
        if found.is_empty() {
            continue;
        }
        let name = match cols.and_then(|c| c.names.get(i)) {
            Some(n) => out.field(n),
            None => out.field(format_args!("column {}", i + 1)),
        };
        let quoted = fld.quoted;
        let escape = |t: String| if quoted { t.replace('"', "\"\"") } else { t };
        for f in found.iter() {
            let span = (fld.raw_offset(f.start), fld.raw_offset(f.end));
            field_finding(
                run, record, name, text, &fld.value, f, span, escape, out, edits,
            );
        }
    }
    Ok(())
}
