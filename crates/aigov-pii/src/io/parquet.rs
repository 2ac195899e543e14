//! Parquet: string columns scanned row group by row group, values in parallel; redaction
//! writes a new Parquet file with the same schema, key-value metadata and row groups (other
//! columns are copied value for value).

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use parquet::basic::{ConvertedType, LogicalType, Type as Physical};
use parquet::column::reader::ColumnReader;
use parquet::column::writer::ColumnWriter;
use parquet::data_type::ByteArray;
use parquet::file::properties::WriterProperties;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::ColumnDescriptor;
use rayon::prelude::*;

use super::{Event, Input, Run, RunError};
use crate::detect::Finding;
use crate::redact::{Keys, restore as restore_text};
use crate::report::InputError;

/// Values read at a time per column.
const CHUNK: usize = 8192;

fn is_text(c: &ColumnDescriptor) -> bool {
    c.physical_type() == Physical::BYTE_ARRAY
        && (matches!(
            c.logical_type_ref(),
            Some(LogicalType::String | LogicalType::Json | LogicalType::Enum)
        ) || matches!(
            c.converted_type(),
            ConvertedType::UTF8 | ConvertedType::JSON | ConvertedType::ENUM
        ))
}

fn column_name(c: &ColumnDescriptor) -> String {
    c.path().string()
}

/// Scans (and with a redactor, rewrites) one Parquet file.
pub(crate) fn run(
    run: &Run<'_>,
    input: &Input,
    on_event: &mut dyn FnMut(Event<'_>),
) -> Result<(), RunError> {
    let name = input.name.clone();
    let fail = |on_event: &mut dyn FnMut(Event<'_>), message: String| {
        on_event(Event::Error(InputError {
            file: name.clone(),
            record: None,
            message,
        }));
        on_event(Event::File {
            name: name.clone(),
            bytes: 0,
            records: 0,
            skipped: Some("not scanned".into()),
        });
    };
    let Some(path) = &input.path else {
        fail(
            on_event,
            "Parquet needs a file (random access); stdin is not supported".into(),
        );
        return Ok(());
    };
    let reader = match File::open(path)
        .map_err(|e| e.to_string())
        .and_then(|f| SerializedFileReader::new(f).map_err(|e| e.to_string()))
    {
        Ok(r) => r,
        Err(e) => {
            fail(on_event, format!("not a readable Parquet file: {e}"));
            return Ok(());
        }
    };
    let meta = reader.metadata();
    let schema = meta.file_metadata().schema_descr_ptr();
    let ncols = schema.num_columns();
    let mut selected = vec![false; ncols];
    for (i, s) in selected.iter_mut().enumerate() {
        let c = schema.column(i);
        let wanted = run.options.columns.is_empty()
            || run.options.columns.iter().any(|w| {
                *w == column_name(&c) || *w == c.name() || w.parse::<usize>().ok() == Some(i + 1)
            });
        *s = wanted && is_text(&c);
    }
    for w in &run.options.columns {
        let known = (0..ncols).any(|i| {
            let c = schema.column(i);
            *w == column_name(&c) || *w == c.name() || w.parse::<usize>().ok() == Some(i + 1)
        });
        if !known {
            let names: Vec<String> = (0..ncols).map(|i| column_name(&schema.column(i))).collect();
            return Err(RunError::Config(
                name.clone(),
                format!("no column {w:?} (columns: {})", names.join(", ")),
            ));
        }
    }

    let mut writer = match (run.redactor, &input.output) {
        (Some(_), Some(target)) => {
            let (w, tmp) =
                copy_writer(meta, target).map_err(|e| RunError::Output(name.clone(), e))?;
            Some((w, tmp, target.clone()))
        }
        (Some(_), None) => {
            return Err(RunError::Config(
                name.clone(),
                "redacted Parquet needs an output file".into(),
            ));
        }
        _ => None,
    };

    let mut row_base = 0u64;
    let mut total_bytes = 0u64;
    let mut bad: Option<String> = None;
    'groups: for g in 0..reader.num_row_groups() {
        let rg = match reader.get_row_group(g) {
            Ok(r) => r,
            Err(e) => {
                bad = Some(format!("row group {g}: {e}"));
                break;
            }
        };
        let rows = rg.metadata().num_rows().max(0) as u64;
        let mut rgw = match writer.as_mut() {
            Some((w, _, _)) => Some(
                w.next_row_group()
                    .map_err(|e| RunError::Output(name.clone(), std::io::Error::other(e)))?,
            ),
            None => None,
        };
        for (c, &wanted) in selected.iter().enumerate() {
            let desc = schema.column(c);
            if !wanted && rgw.is_none() {
                continue;
            }
            let col_reader = match rg.get_column_reader(c) {
                Ok(r) => r,
                Err(e) => {
                    bad = Some(format!("row group {g}, column {}: {e}", column_name(&desc)));
                    break 'groups;
                }
            };
            let mut colw = match rgw.as_mut() {
                Some(w) => match w.next_column() {
                    Ok(Some(c)) => Some(c),
                    Ok(None) => None,
                    Err(e) => return Err(RunError::Output(name.clone(), std::io::Error::other(e))),
                },
                None => None,
            };
            let res = if wanted {
                let w = colw.as_mut().map(|c| c.untyped());
                scan_column(run, &name, &desc, row_base, col_reader, w, on_event)
            } else {
                match colw.as_mut() {
                    Some(cw) => copy_column(col_reader, cw.untyped(), &desc),
                    None => Ok(()),
                }
            };
            if let Err(e) = res {
                bad = Some(format!("row group {g}, column {}: {e}", column_name(&desc)));
                break 'groups;
            }
            if let Some(cw) = colw {
                cw.close()
                    .map_err(|e| RunError::Output(name.clone(), std::io::Error::other(e)))?;
            }
        }
        if let Some(w) = rgw {
            w.close()
                .map_err(|e| RunError::Output(name.clone(), std::io::Error::other(e)))?;
        }
        let bytes = rg.metadata().total_byte_size().max(0) as u64;
        total_bytes += bytes;
        row_base += rows;
        on_event(Event::Progress(bytes, rows));
    }
    if let Some(msg) = bad {
        // A damaged file: no redacted copy is left behind.
        on_event(Event::Error(InputError {
            file: name.clone(),
            record: None,
            message: format!("{msg}; the rest of the file was not scanned"),
        }));
    } else if let Some((w, tmp, target)) = writer {
        w.close()
            .map_err(|e| RunError::Output(name.clone(), std::io::Error::other(e)))?;
        tmp.persist(&target)
            .map_err(|e| RunError::Output(name.clone(), e.error))?;
    }
    on_event(Event::File {
        name,
        bytes: total_bytes,
        records: row_base,
        skipped: None,
    });
    Ok(())
}

/// A writer for a copy of a file: same schema and key-value metadata, the compression of its
/// first column chunk; into a temporary file beside `target`, to be persisted when complete.
fn copy_writer(
    meta: &parquet::file::metadata::ParquetMetaData,
    target: &Path,
) -> std::io::Result<(SerializedFileWriter<File>, tempfile::NamedTempFile)> {
    let tmp = super::source::temp_beside(target)?;
    let mut props = WriterProperties::builder()
        .set_key_value_metadata(meta.file_metadata().key_value_metadata().cloned());
    if let Some(c) = meta
        .row_groups()
        .first()
        .and_then(|rg| rg.columns().first())
    {
        props = props.set_compression(c.compression());
    }
    let schema = meta.file_metadata().schema_descr().root_schema_ptr();
    let w = SerializedFileWriter::new(tmp.reopen()?, schema, Arc::new(props.build()))
        .map_err(std::io::Error::other)?;
    Ok((w, tmp))
}

type PResult<T> = Result<T, parquet::errors::ParquetError>;

/// Reads a byte-array column in chunks; calls `f(values, def, rep)` for each.
fn read_byte_arrays(
    col: ColumnReader,
    desc: &ColumnDescriptor,
    mut f: impl FnMut(&mut Vec<ByteArray>, &[i16], &[i16]) -> PResult<()>,
) -> PResult<()> {
    let ColumnReader::ByteArrayColumnReader(mut r) = col else {
        return Err(parquet::errors::ParquetError::General(
            "not a byte-array column".into(),
        ));
    };
    let (has_def, has_rep) = (desc.max_def_level() > 0, desc.max_rep_level() > 0);
    let (mut def, mut rep, mut values) = (Vec::new(), Vec::new(), Vec::new());
    loop {
        def.clear();
        rep.clear();
        values.clear();
        let (records, _, _) = r.read_records(
            CHUNK,
            has_def.then_some(&mut def),
            has_rep.then_some(&mut rep),
            &mut values,
        )?;
        if records == 0 {
            return Ok(());
        }
        f(&mut values, &def, &rep)?;
    }
}

/// Row (0-based, within the row group) of each non-null value.
fn value_rows(
    desc: &ColumnDescriptor,
    n_values: usize,
    def: &[i16],
    rep: &[i16],
    next_row: &mut u64,
) -> Vec<u64> {
    let max_def = desc.max_def_level();
    let mut rows = Vec::with_capacity(n_values);
    if def.is_empty() && rep.is_empty() {
        for _ in 0..n_values {
            rows.push(*next_row);
            *next_row += 1;
        }
        return rows;
    }
    for (i, d) in def.iter().enumerate() {
        let new_row = rep.get(i).is_none_or(|r| *r == 0);
        if new_row {
            *next_row += 1;
        }
        if *d == max_def {
            rows.push(next_row.saturating_sub(1));
        }
    }
    rows
}

fn scan_column(
    run: &Run<'_>,
    file: &str,
    desc: &ColumnDescriptor,
    row_base: u64,
    col: ColumnReader,
    mut out: Option<&mut ColumnWriter<'_>>,
    on_event: &mut dyn FnMut(Event<'_>),
) -> PResult<()> {
    let field = column_name(desc);
    let mut next_row = 0u64;
    read_byte_arrays(col, desc, |values, def, rep| {
        let rows = value_rows(desc, values.len(), def, rep, &mut next_row);
        let results: Vec<(Vec<Finding>, Option<Vec<u8>>, bool)> = run.pool.install(|| {
            values
                .par_iter()
                .with_min_len(64)
                .map(|v| {
                    let Ok(text) = std::str::from_utf8(v.data()) else {
                        return (Vec::new(), None, false);
                    };
                    let found = run.scanner.scan(text);
                    let redacted = match (run.redactor, found.is_empty()) {
                        (Some(r), false) => {
                            let mut s = String::with_capacity(text.len());
                            let mut at = 0;
                            for f in &found {
                                s.push_str(&text[at..f.start]);
                                let value = &text[f.start..f.end];
                                r.replacement(
                                    run.scanner.entity_name(f.entity),
                                    value,
                                    value,
                                    &mut s,
                                );
                                at = f.end;
                            }
                            s.push_str(&text[at..]);
                            Some(s.into_bytes())
                        }
                        _ => None,
                    };
                    (found, redacted, true)
                })
                .collect()
        });
        for (i, (found, redacted, utf8)) in results.into_iter().enumerate() {
            let record = row_base + rows.get(i).copied().unwrap_or(0) + 1;
            if !utf8 {
                on_event(Event::Error(InputError {
                    file: file.to_string(),
                    record: Some(record),
                    message: format!("column {field}: value is not UTF-8; not scanned"),
                }));
                continue;
            }
            let text = std::str::from_utf8(values[i].data()).unwrap_or("");
            for f in &found {
                let value = &text[f.start..f.end];
                on_event(Event::Finding(super::process::found(
                    run,
                    file,
                    record,
                    Some(&field),
                    f,
                    value,
                )));
            }
            if let Some(r) = redacted {
                values[i] = ByteArray::from(r);
            }
        }
        if let Some(ColumnWriter::ByteArrayColumnWriter(w)) = out.as_deref_mut() {
            w.write_batch(
                values,
                (!def.is_empty()).then_some(def),
                (!rep.is_empty()).then_some(rep),
            )?;
        }
        Ok(())
    })
}

fn copy_column(
    col: ColumnReader,
    out: &mut ColumnWriter<'_>,
    desc: &ColumnDescriptor,
) -> PResult<()> {
    let (has_def, has_rep) = (desc.max_def_level() > 0, desc.max_rep_level() > 0);
    macro_rules! copy {
        ($r:expr, $w:expr) => {{
            let (mut def, mut rep, mut values) = (Vec::new(), Vec::new(), Vec::new());
            loop {
                def.clear();
                rep.clear();
                values.clear();
                let (records, _, _) = $r.read_records(
                    CHUNK,
                    has_def.then_some(&mut def),
                    has_rep.then_some(&mut rep),
                    &mut values,
                )?;
                if records == 0 {
                    return Ok(());
                }
                $w.write_batch(
                    &values,
                    has_def.then_some(&def[..]),
                    has_rep.then_some(&rep[..]),
                )?;
            }
        }};
    }
    match (col, out) {
        (ColumnReader::BoolColumnReader(mut r), ColumnWriter::BoolColumnWriter(w)) => copy!(r, w),
        (ColumnReader::Int32ColumnReader(mut r), ColumnWriter::Int32ColumnWriter(w)) => copy!(r, w),
        (ColumnReader::Int64ColumnReader(mut r), ColumnWriter::Int64ColumnWriter(w)) => copy!(r, w),
        (ColumnReader::Int96ColumnReader(mut r), ColumnWriter::Int96ColumnWriter(w)) => copy!(r, w),
        (ColumnReader::FloatColumnReader(mut r), ColumnWriter::FloatColumnWriter(w)) => copy!(r, w),
        (ColumnReader::DoubleColumnReader(mut r), ColumnWriter::DoubleColumnWriter(w)) => {
            copy!(r, w)
        }
        (ColumnReader::ByteArrayColumnReader(mut r), ColumnWriter::ByteArrayColumnWriter(w)) => {
            copy!(r, w)
        }
        (
            ColumnReader::FixedLenByteArrayColumnReader(mut r),
            ColumnWriter::FixedLenByteArrayColumnWriter(w),
        ) => copy!(r, w),
        _ => Err(parquet::errors::ParquetError::General(
            "column reader and writer types differ".into(),
        )),
    }
}

/// Restores `encrypt` tokens in every string column of a redacted Parquet file; returns the
/// number of values restored.
pub fn restore(input: &Input, keys: &Keys) -> Result<usize, String> {
    let path = input
        .path
        .as_ref()
        .ok_or("Parquet needs a file; stdin is not supported")?;
    let target = input
        .output
        .as_ref()
        .ok_or("restoring Parquet needs --output")?;
    let reader = SerializedFileReader::new(
        File::open(path).map_err(|e| format!("{}: {e}", path.display()))?,
    )
    .map_err(|e| format!("{}: not a readable Parquet file: {e}", path.display()))?;
    let meta = reader.metadata();
    let schema = meta.file_metadata().schema_descr_ptr();
    let (mut w, tmp) = copy_writer(meta, target).map_err(|e| e.to_string())?;
    let mut count = 0;
    for g in 0..reader.num_row_groups() {
        let rg = reader.get_row_group(g).map_err(|e| e.to_string())?;
        let mut rgw = w.next_row_group().map_err(|e| e.to_string())?;
        for c in 0..schema.num_columns() {
            let desc = schema.column(c);
            let col = rg.get_column_reader(c).map_err(|e| e.to_string())?;
            let Some(mut cw) = rgw.next_column().map_err(|e| e.to_string())? else {
                break;
            };
            if is_text(&desc) {
                read_byte_arrays(col, &desc, |values, def, rep| {
                    for v in values.iter_mut() {
                        if let Ok(text) = std::str::from_utf8(v.data())
                            && text.contains("<ENC:")
                        {
                            let (back, n) = restore_text(text, keys);
                            count += n;
                            *v = ByteArray::from(back.into_bytes());
                        }
                    }
                    if let ColumnWriter::ByteArrayColumnWriter(w) = cw.untyped() {
                        w.write_batch(
                            values,
                            (!def.is_empty()).then_some(def),
                            (!rep.is_empty()).then_some(rep),
                        )?;
                    }
                    Ok(())
                })
                .map_err(|e| e.to_string())?;
            } else {
                copy_column(col, cw.untyped(), &desc).map_err(|e| e.to_string())?;
            }
            cw.close().map_err(|e| e.to_string())?;
        }
        rgw.close().map_err(|e| e.to_string())?;
    }
    w.close().map_err(|e| e.to_string())?;
    tmp.persist(target).map_err(|e| e.error.to_string())?;
    Ok(count)
}
