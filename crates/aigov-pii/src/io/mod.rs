//! Streaming scans and redaction of files (feature `io`): plain text, JSON lines, CSV/TSV and
//! Parquet, gzip/zstd-compressed or not, from files, folders or stdin.
//!
//! Inputs are read sequentially, on a thread of their own, in batches of whole records (a few
//! MiB each; a record never straddles two batches). Batches, from one large file or from many
//! small ones, are scanned in parallel on a thread pool while the next ones are read, and
//! their results are emitted in input order, so the findings file is the same whatever the
//! thread count. Memory is bounded by `4 × threads × batch size` plus the longest record
//! allowed.

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
use crate::report::{FindingRecord, Found, InputError};
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
pub enum Event<'a> {
    /// A finding, borrowed from the run's buffers (its value is in the record only with
    /// `show_values`; [`Found::to_record`] keeps it).
    Finding(Found<'a>),
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
    /// Scanning failed unexpectedly (a bug) while redacting: the copy would be incomplete.
    #[error("{0}: {1}")]
    Scan(String, String),
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

/// What the reader thread sends to the emitter, in input order.
enum Item {
    /// Records to scan.
    Batch(Batch),
    /// Something to report as it is.
    Event(Event<'static>),
    /// A finding made on the reader thread (Parquet), with its matched value.
    Found(FindingRecord, String),
    /// The redacted copy of input `.0`, written as its batches are emitted.
    Opened(usize, source::Output),
    /// Input `.0` has no more batches.
    Finish(usize),
    /// The run stops.
    Fatal(RunError),
}

impl From<Event<'_>> for Item {
    /// An event made on the reader thread, owned to cross to the emitter.
    fn from(e: Event<'_>) -> Item {
        match e {
            Event::Finding(f) => Item::Found(f.to_record(), f.value.to_string()),
            Event::Error(e) => Item::Event(Event::Error(e)),
            Event::Note(n) => Item::Event(Event::Note(n)),
            Event::File {
                name,
                bytes,
                records,
                skipped,
            } => Item::Event(Event::File {
                name,
                bytes,
                records,
                skipped,
            }),
            Event::Progress(b, r) => Item::Event(Event::Progress(b, r)),
        }
    }
}

/// A place in the emitter's queue.
enum Slot {
    /// A batch of input `file`, being scanned as task `seq`.
    Batch {
        seq: u64,
        file: usize,
    },
    Item(Item),
}

struct Open {
    index: usize,
    reader: BatchReader,
    out: Option<source::Output>,
}

impl Run<'_> {
    /// Runs over `inputs`, calling `on_event` in input order.
    ///
    /// Three stages overlap: a reader thread opens the inputs and cuts them into batches,
    /// `threads` scanning threads scan up to `2 × threads` batches at a time (the pool's size;
    /// the pool itself serves Parquet row groups), and the calling thread reports
    /// results and writes redacted copies in input order. The reader runs at most
    /// `2 × threads` items ahead (a bounded channel), so memory stays bounded.
    pub fn run(
        &self,
        inputs: &[Input],
        on_event: &mut dyn FnMut(Event<'_>),
    ) -> Result<(), RunError> {
        let width = self.pool.current_num_threads().max(1) * 2;
        let (tx, rx) = std::sync::mpsc::sync_channel::<Item>(width);
        // Buffers of scanned batches go back to the reader.
        let (recycle_tx, recycle_rx) = std::sync::mpsc::channel::<Vec<u8>>();
        std::thread::scope(|threads| {
            let reader = threads.spawn(move || self.read_all(inputs, &tx, &recycle_rx));
            let result = self.emit_all(inputs, &rx, width, &recycle_tx, on_event);
            // On an early return the reader's next send fails and it stops.
            drop(rx);
            // Joined explicitly (a scope's implicit join does not wait for the thread's
            // thread-local destructors): nothing of the run outlives it.
            let joined = reader.join();
            match (result, joined) {
                (Err(e), _) => Err(e),
                (Ok(()), Err(_)) => Err(RunError::Scan(
                    "-".into(),
                    "the reader thread failed".into(),
                )),
                (Ok(()), Ok(())) => Ok(()),
            }
        })
    }

    /// The reader stage: every input, opened and cut into batches, in order.
    fn read_all(
        &self,
        inputs: &[Input],
        tx: &std::sync::mpsc::SyncSender<Item>,
        recycled: &std::sync::mpsc::Receiver<Vec<u8>>,
    ) {
        for (i, input) in inputs.iter().enumerate() {
            let mut send = |e: Event<'_>| {
                let _ = tx.send(Item::from(e));
            };
            let Open {
                index,
                mut reader,
                out,
            } = match self.open(i, input, &mut send) {
                Ok(Some(o)) => o,
                Ok(None) => continue,
                Err(e) => {
                    let _ = tx.send(Item::Fatal(e));
                    return;
                }
            };
            if let Some(out) = out
                && tx.send(Item::Opened(index, out)).is_err()
            {
                return;
            }
            loop {
                while let Ok(buf) = recycled.try_recv() {
                    reader.recycle(buf);
                }
                match reader.next_batch(self.options) {
                    Ok(Some(b)) => {
                        if tx.send(Item::Batch(b)).is_err() {
                            return;
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        let err = InputError {
                            file: input.name.clone(),
                            record: Some(reader.next_record()),
                            message: format!(
                                "read failed (truncated or corrupt input?): {e}; the rest of the file was not scanned"
                            ),
                        };
                        if tx.send(Item::Event(Event::Error(err))).is_err() {
                            return;
                        }
                        break;
                    }
                }
            }
            if tx.send(Item::Finish(index)).is_err() {
                return;
            }
        }
    }

    /// The scanning and reporting stages: batches go to the pool as they arrive, and
    /// everything is reported in the order the reader sent it.
    fn emit_all(
        &self,
        inputs: &[Input],
        rx: &std::sync::mpsc::Receiver<Item>,
        width: usize,
        recycle: &std::sync::mpsc::Sender<Vec<u8>>,
        on_event: &mut dyn FnMut(Event<'_>),
    ) -> Result<(), RunError> {
        use std::collections::{HashMap, VecDeque};
        use std::sync::mpsc::{TryRecvError, channel};

        let mut outs: Vec<Option<source::Output>> = inputs.iter().map(|_| None).collect();
        let mut stats: Vec<(u64, u64)> = vec![(0, 0); inputs.len()];
        // Scanning threads of their own (not pool tasks): they sleep on the channel when the
        // reader is behind instead of spinning, so CPU time is scanning time.
        let (work_tx, work_rx) = std::sync::mpsc::sync_channel::<(u64, Batch)>(width);
        let work_rx = std::sync::Mutex::new(work_rx);
        let (done_tx, done_rx) = channel::<(u64, process::BatchOut)>();
        std::thread::scope(|scope| {
            let mut scanners = Vec::new();
            for _ in 0..self.pool.current_num_threads().max(1) {
                let (work_rx, done, recycle) = (&work_rx, done_tx.clone(), recycle.clone());
                scanners.push(scope.spawn(move || {
                    loop {
                        let job = match work_rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => return,
                        };
                        let Ok((task, b)) = job else { return };
                        let name = &inputs[b.file].name;
                        let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            process::process(self, &b, name)
                        }))
                        .unwrap_or_else(|_| process::BatchOut::failed(&b, name));
                        let _ = recycle.send(b.data);
                        if done.send((task, out)).is_err() {
                            return;
                        }
                    }
                }));
            }
            drop(done_tx);
            let result = (|| {
                let mut queue: VecDeque<Slot> = VecDeque::new();
                let mut results: HashMap<u64, process::BatchOut> = HashMap::new();
                let (mut seq, mut in_flight, mut input_done) = (0u64, 0usize, false);
                loop {
                    // Report everything ready at the front.
                    while let Some(front) = queue.front() {
                        let slot = match front {
                            Slot::Batch { seq, .. } if !results.contains_key(seq) => break,
                            _ => queue.pop_front(),
                        };
                        match slot {
                            Some(Slot::Batch { seq, file }) => {
                                if let Some(r) = results.remove(&seq) {
                                    self.emit_batch(
                                        inputs, file, r, &mut outs, &mut stats, on_event,
                                    )?;
                                }
                            }
                            Some(Slot::Item(item)) => {
                                self.emit_item(inputs, item, &mut outs, &stats, on_event)?;
                            }
                            None => {}
                        }
                    }
                    if input_done && queue.is_empty() {
                        return Ok(());
                    }
                    // Take more input while there is room; otherwise wait for a scan.
                    let next = if input_done || in_flight >= width {
                        None
                    } else if queue.is_empty() {
                        match rx.recv() {
                            Ok(item) => Some(item),
                            Err(_) => {
                                input_done = true;
                                continue;
                            }
                        }
                    } else {
                        match rx.try_recv() {
                            Ok(item) => Some(item),
                            Err(TryRecvError::Empty) => None,
                            Err(TryRecvError::Disconnected) => {
                                input_done = true;
                                continue;
                            }
                        }
                    };
                    match next {
                        Some(Item::Batch(b)) => {
                            let file = b.file;
                            // Never blocks: at most `width` jobs are queued or running.
                            if work_tx.send((seq, b)).is_err() {
                                return Ok(());
                            }
                            queue.push_back(Slot::Batch { seq, file });
                            seq += 1;
                            in_flight += 1;
                        }
                        Some(item) => queue.push_back(Slot::Item(item)),
                        None => {
                            // The front is a batch being scanned: wait for a scan to finish.
                            let Ok((task, out)) = done_rx.recv() else {
                                return Err(RunError::Scan(
                                    "-".into(),
                                    "the scanning threads stopped".into(),
                                ));
                            };
                            results.insert(task, out);
                            in_flight -= 1;
                        }
                    }
                }
            })();
            // The scanning threads stop when the job channel closes; joined explicitly, as
            // the reader is.
            drop(work_tx);
            let mut all_joined = true;
            for h in scanners {
                // Every thread is joined, even after one failed.
                all_joined &= h.join().is_ok();
            }
            match result {
                Ok(()) if !all_joined => Err(RunError::Scan(
                    "-".into(),
                    "a scanning thread failed".into(),
                )),
                r => r,
            }
        })
    }

    fn emit_batch(
        &self,
        inputs: &[Input],
        file: usize,
        r: process::BatchOut,
        outs: &mut [Option<source::Output>],
        stats: &mut [(u64, u64)],
        on_event: &mut dyn FnMut(Event<'_>),
    ) -> Result<(), RunError> {
        if r.failed && self.redactor.is_some() {
            let why = r
                .errors
                .first()
                .map_or_else(String::new, |e| e.message.clone());
            return Err(RunError::Scan(inputs[file].name.clone(), why));
        }
        stats[file].0 += r.bytes;
        stats[file].1 += r.records;
        on_event(Event::Progress(r.bytes, r.records));
        let name = inputs[file].name.as_str();
        for h in &r.findings {
            on_event(Event::Finding(h.found(name, &r, self)));
        }
        for e in r.errors {
            on_event(Event::Error(e));
        }
        for n in r.notes {
            on_event(Event::Note(n));
        }
        if let (Some(red), Some(out)) = (r.redacted, outs[file].as_mut()) {
            out.write_all(&red)
                .map_err(|e| RunError::Output(inputs[file].name.clone(), e))?;
        }
        Ok(())
    }

    fn emit_item(
        &self,
        inputs: &[Input],
        item: Item,
        outs: &mut [Option<source::Output>],
        stats: &[(u64, u64)],
        on_event: &mut dyn FnMut(Event<'_>),
    ) -> Result<(), RunError> {
        match item {
            Item::Event(e) => on_event(e),
            Item::Found(rec, value) => on_event(Event::Finding(rec.as_found(&value))),
            Item::Opened(index, out) => outs[index] = Some(out),
            Item::Finish(index) => {
                let name = inputs[index].name.clone();
                if let Some(out) = outs[index].take() {
                    out.finish()
                        .map_err(|e| RunError::Output(name.clone(), e))?;
                }
                let (bytes, records) = stats[index];
                on_event(Event::File {
                    name,
                    bytes,
                    records,
                    skipped: None,
                });
            }
            Item::Fatal(e) => return Err(e),
            // Batches are queued as slots, never as items.
            Item::Batch(_) => {}
        }
        Ok(())
    }

    fn open(
        &self,
        index: usize,
        input: &Input,
        on_event: &mut dyn FnMut(Event<'_>),
    ) -> Result<Option<Open>, RunError> {
        let format = self
            .options
            .format
            .unwrap_or_else(|| source::format_from_name(&input.name));
        let skip = |on_event: &mut dyn FnMut(Event<'_>), why: String| {
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
        let unreadable = |on_event: &mut dyn FnMut(Event<'_>), e: std::io::Error| {
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
