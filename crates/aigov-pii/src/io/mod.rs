//! Streaming scans and redaction of files (feature `io`): plain text, JSON lines, CSV/TSV and
//! Parquet, gzip/zstd-compressed or not, from files, folders or stdin.
//!
//! Inputs are read sequentially in batches of whole records (a few MiB each; a record never
//! straddles two batches). Batches, from one large file or from many small ones, are scanned
//! in parallel on a thread pool and their results are emitted in input order, so the
//! findings file is the same whatever the thread count. Memory is bounded by
//! `2 × threads × batch size` plus the longest record allowed.

mod batch;
#[cfg(feature = "parquet")]
pub mod parquet;
mod process;
pub mod source;

use std::io;

pub use source::{Compression, Format, Input, list_inputs};

use crate::detect::Scanner;
use crate::formats::json::Selector;
use crate::redact::Redactor;
use crate::report::{FindingRecord, InputError};
use batch::{Batch, BatchReader};

/// What to scan and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// Format for every input (`None`: from each file name).
    pub format: Option<Format>,
    /// JSON paths to scan in JSON lines (default: every string).
    pub fields: Selector,
    /// CSV/TSV columns to scan, by header name or 1-based number (default: all).
    pub columns: Vec<String>,
    /// Whether CSV/TSV files start with a header row.
    pub header: bool,
    /// Longest record accepted, in bytes; longer JSON/CSV records are reported and skipped,
    /// longer text lines are cut.
    pub max_record: usize,
    /// Target batch size in bytes.
    pub batch_bytes: usize,
    /// Put matched values in the findings.
    pub show_values: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            format: None,
            fields: Selector::default(),
            columns: Vec::new(),
            header: true,
            max_record: 64 << 20,
            batch_bytes: 4 << 20,
            show_values: false,
        }
    }
}

/// Something that happened during a run, in input order.
#[derive(Debug)]
pub enum Event {
    /// A finding and the matched value (for masked samples; in the record only with
    /// `show_values`).
    Finding(FindingRecord, String),
    /// A record or file that could not be scanned, or only partly.
    Error(InputError),
    /// Input scanned with a caveat (invalid UTF-8 bytes between scanned text).
    Note(InputError),
    /// A file is done.
    File {
        /// Input name.
        name: String,
        /// Bytes scanned (decompressed).
        bytes: u64,
        /// Records scanned.
        records: u64,
        /// Why it was skipped, if it was.
        skipped: Option<String>,
    },
    /// Progress: bytes and records just scanned.
    Progress(u64, u64),
}

/// A scan (and, with a redactor, a redaction) over inputs.
pub struct Run<'a> {
    /// The scanner.
    pub scanner: &'a Scanner,
    /// Options.
    pub options: &'a Options,
    /// Redactor: when set, each input's redacted copy is written to its `output`.
    pub redactor: Option<&'a Redactor>,
    /// Thread pool.
    pub pool: &'a rayon::ThreadPool,
}

/// A fatal error: the run stops (an output could not be written). Input problems are
/// events, not errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// Writing a redacted copy failed.
    #[error("{0}: {1}")]
    Output(String, io::Error),
    /// A configuration problem for an input (unknown column …).
    #[error("{0}: {1}")]
    Config(String, String),
}

thread_local! {
    static CONTAINED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// True while a third-party decoder runs under [`contained`] on this thread: a panic hook
/// can stay quiet, since the panic becomes an input error.
pub fn in_contained_decoder() -> bool {
    CONTAINED.with(std::cell::Cell::get)
}

/// Runs `f`, turning a panic into an error message.
#[cfg_attr(not(feature = "parquet"), allow(dead_code))]
fn contained<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    CONTAINED.with(|c| c.set(true));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    CONTAINED.with(|c| c.set(false));
    r.map_err(|p| {
        p.downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "panic".into())
    })
}

/// Something to do at a position in a round of batches.
enum Deferred {
    Event(Event),
    /// A file has no more batches: finish its output and report it.
    Finish(Open),
}

struct Open {
    index: usize,
    reader: BatchReader,
    out: Option<source::Output>,
}

impl Run<'_> {
    /// Runs over `inputs`, calling `on_event` in input order.
    pub fn run(&self, inputs: &[Input], on_event: &mut dyn FnMut(Event)) -> Result<(), RunError> {
        let width = self.pool.current_num_threads().max(1) * 2;
        let mut next_input = 0;
        let mut current: Option<Open> = None;
        let mut stats: Vec<(u64, u64)> = vec![(0, 0); inputs.len()];
        loop {
            // Gather up to `width` batches, across files. Events that happen while gathering
            // (a file that cannot be opened, a file that ends) keep their place, so that
            // everything is reported in input order.
            let mut batches: Vec<Batch> = Vec::with_capacity(width);
            let mut deferred: Vec<(usize, Option<Deferred>)> = Vec::new();
            while batches.len() < width {
                if current.is_none() {
                    if next_input == inputs.len() {
                        break;
                    }
                    let i = next_input;
                    next_input += 1;
                    // Nothing pending: report directly (a Parquet file is scanned right here,
                    // and its findings need not wait in memory).
                    let opened = if batches.is_empty() && deferred.is_empty() {
                        self.open(i, &inputs[i], on_event)?
                    } else {
                        let mut events = Vec::new();
                        let opened = self.open(i, &inputs[i], &mut |e| events.push(e))?;
                        let at = batches.len();
                        deferred.extend(events.into_iter().map(|e| (at, Some(Deferred::Event(e)))));
                        opened
                    };
                    match opened {
                        Some(o) => current = Some(o),
                        None => continue,
                    }
                }
                let Some(cur) = current.as_mut() else { break };
                match cur.reader.next_batch(self.options) {
                    Ok(Some(b)) => batches.push(b),
                    Ok(None) => {
                        let at = batches.len();
                        deferred.extend(current.take().map(|o| (at, Some(Deferred::Finish(o)))));
                    }
                    Err(e) => {
                        let err = InputError {
                            file: inputs[cur.index].name.clone(),
                            record: Some(cur.reader.next_record()),
                            message: format!(
                                "read failed (truncated or corrupt input?): {e}; the rest of the file was not scanned"
                            ),
                        };
                        let at = batches.len();
                        deferred.push((at, Some(Deferred::Event(Event::Error(err)))));
                        deferred.extend(current.take().map(|o| (at, Some(Deferred::Finish(o)))));
                    }
                }
            }
            if batches.is_empty()
                && deferred.is_empty()
                && current.is_none()
                && next_input == inputs.len()
            {
                break;
            }
            let results: Vec<process::BatchOut> = self.pool.install(|| {
                use rayon::prelude::*;
                // One task per batch, so that threads share the round evenly.
                batches
                    .par_iter()
                    .with_max_len(1)
                    .map(|b| process::process(self, b, &inputs[b.file].name))
                    .collect()
            });
            let mut cursor = 0;
            for (i, (b, r)) in batches.iter().zip(results).enumerate() {
                while cursor < deferred.len() && deferred[cursor].0 <= i {
                    if let Some(d) = deferred[cursor].1.take() {
                        self.settle(d, inputs, &stats, on_event)?;
                    }
                    cursor += 1;
                }
                stats[b.file].0 += r.bytes;
                stats[b.file].1 += r.records;
                on_event(Event::Progress(r.bytes, r.records));
                for f in r.findings {
                    on_event(Event::Finding(f.0, f.1));
                }
                for e in r.errors {
                    on_event(Event::Error(e));
                }
                for n in r.notes {
                    on_event(Event::Note(n));
                }
                if let Some(red) = r.redacted {
                    // The batch's file is still open, or finishes later in this round.
                    let pending = deferred[cursor..].iter_mut().find_map(|(_, d)| match d {
                        Some(Deferred::Finish(o)) if o.index == b.file => o.out.as_mut(),
                        _ => None,
                    });
                    let out = match current.as_mut() {
                        Some(c) if c.index == b.file => c.out.as_mut(),
                        _ => pending,
                    };
                    if let Some(out) = out {
                        out.write_all(&red)
                            .map_err(|e| RunError::Output(inputs[b.file].name.clone(), e))?;
                    }
                }
            }
            for (_, d) in deferred.into_iter().skip(cursor) {
                if let Some(d) = d {
                    self.settle(d, inputs, &stats, on_event)?;
                }
            }
        }
        Ok(())
    }

    fn settle(
        &self,
        d: Deferred,
        inputs: &[Input],
        stats: &[(u64, u64)],
        on_event: &mut dyn FnMut(Event),
    ) -> Result<(), RunError> {
        match d {
            Deferred::Event(e) => on_event(e),
            Deferred::Finish(f) => {
                let name = inputs[f.index].name.clone();
                if let Some(out) = f.out {
                    out.finish()
                        .map_err(|e| RunError::Output(name.clone(), e))?;
                }
                let (bytes, records) = stats[f.index];
                on_event(Event::File {
                    name,
                    bytes,
                    records,
                    skipped: None,
                });
            }
        }
        Ok(())
    }

    fn open(
        &self,
        index: usize,
        input: &Input,
        on_event: &mut dyn FnMut(Event),
    ) -> Result<Option<Open>, RunError> {
        let format = self
            .options
            .format
            .unwrap_or_else(|| source::format_from_name(&input.name));
        let skip = |on_event: &mut dyn FnMut(Event), why: String| {
            on_event(Event::File {
                name: input.name.clone(),
                bytes: 0,
                records: 0,
                skipped: Some(why),
            });
        };
        if format == Format::Parquet {
            #[cfg(feature = "parquet")]
            {
                // The Parquet decoder (the `parquet` crate) can panic on hostile metadata
                // (found by fuzzing: a capacity overflow while reading the schema). Contain
                // it: the file is reported as malformed, an unfinished copy is removed.
                let result = contained(|| parquet::run(self, input, on_event));
                match result {
                    Ok(r) => r?,
                    Err(msg) => {
                        on_event(Event::Error(InputError {
                            file: input.name.clone(),
                            record: None,
                            message: format!("malformed Parquet file: the decoder failed ({msg})"),
                        }));
                        on_event(Event::File {
                            name: input.name.clone(),
                            bytes: 0,
                            records: 0,
                            skipped: Some("malformed".into()),
                        });
                    }
                }
                return Ok(None);
            }
            #[cfg(not(feature = "parquet"))]
            {
                on_event(Event::Error(InputError {
                    file: input.name.clone(),
                    record: None,
                    message: "Parquet support was not built in".into(),
                }));
                skip(on_event, "not scanned".into());
                return Ok(None);
            }
        }
        let unreadable = |on_event: &mut dyn FnMut(Event), e: std::io::Error| {
            on_event(Event::Error(InputError {
                file: input.name.clone(),
                record: None,
                message: format!("cannot read: {e}"),
            }));
            on_event(Event::File {
                name: input.name.clone(),
                bytes: 0,
                records: 0,
                skipped: Some("unreadable".into()),
            });
        };
        let opened = match source::open(input) {
            Ok(o) => o,
            Err(e) => {
                unreadable(on_event, e);
                return Ok(None);
            }
        };
        let compression = opened.compression;
        let mut reader = match BatchReader::new(opened.reader, format, index, self.options) {
            Ok(r) => r,
            Err(e) => {
                unreadable(on_event, e);
                return Ok(None);
            }
        };
        if reader.is_binary() {
            skip(on_event, "binary file".into());
            return Ok(None);
        }
        if let Err(msg) = reader.resolve_columns(self.options) {
            return Err(RunError::Config(input.name.clone(), msg));
        }
        let mut out = match self.redactor {
            Some(_) => Some(
                source::Output::create(input, compression)
                    .map_err(|e| RunError::Output(input.name.clone(), e))?,
            ),
            None => None,
        };
        if let (Some(out), Some(header)) = (out.as_mut(), reader.header_bytes()) {
            out.write_all(header)
                .map_err(|e| RunError::Output(input.name.clone(), e))?;
        }
        Ok(Some(Open { index, reader, out }))
    }
}
