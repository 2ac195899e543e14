//! Reading whole records in batches.

use std::io::{self, BufRead};
use std::sync::Arc;

use super::Options;
use super::source::{Format, looks_binary};
use crate::formats::csv::{RecordSplitter, fields};

/// A batch of whole records from one file.
#[derive(Debug)]
pub(crate) struct Batch {
    /// Index of the input.
    pub file: usize,
    pub format: Format,
    /// Record (line or row) number of the first record, 1-based.
    pub first_record: u64,
    /// Offset of the first byte in the decompressed input (plain text offsets).
    pub offset: u64,
    pub data: Vec<u8>,
    /// Records skipped inside this batch for being too long: (record number, length seen).
    pub too_long: Vec<(u64, usize)>,
    /// CSV: column names and which columns to scan.
    pub columns: Option<Arc<Columns>>,
    /// Number of records in `data` (text: newlines).
    pub records: u64,
}

/// CSV column plan.
#[derive(Debug)]
pub(crate) struct Columns {
    pub names: Vec<String>,
    /// Column indices to scan (`None`: all).
    pub selected: Option<Vec<usize>>,
    pub delim: u8,
}

pub(crate) struct BatchReader {
    r: Box<dyn BufRead + Send>,
    format: Format,
    file: usize,
    next_record: u64,
    offset: u64,
    /// Bytes of a character cut at a text batch boundary, carried to the next batch.
    carry: Vec<u8>,
    /// A read error to report after the records read before it.
    pending: Option<io::Error>,
    binary: bool,
    /// Buffers of scanned batches, to be reused.
    spare: Vec<Vec<u8>>,
    header: Option<Vec<u8>>,
    columns: Option<Arc<Columns>>,
    done: bool,
}

impl BatchReader {
    pub fn new(
        mut r: Box<dyn BufRead + Send>,
        format: Format,
        file: usize,
        opts: &Options,
    ) -> io::Result<BatchReader> {
        let head = r.fill_buf()?;
        let binary = looks_binary(head);
        let mut br = BatchReader {
            r,
            format,
            file,
            next_record: 1,
            offset: 0,
            carry: Vec::new(),
            pending: None,
            binary,
            spare: Vec::new(),
            header: None,
            columns: None,
            done: false,
        };
        if !binary && matches!(format, Format::Csv | Format::Tsv) && opts.header {
            let delim = if format == Format::Tsv { b'\t' } else { b',' };
            let mut h = Vec::new();
            let mut sp = RecordSplitter::new(delim);
            loop {
                let n = read_line(&mut br.r, &mut h, opts.max_record)?;
                if n == 0 || sp.feed(&h[h.len() - n..]).is_some() || h.len() > opts.max_record {
                    break;
                }
            }
            br.offset = h.len() as u64;
            br.next_record = 2;
            br.header = Some(h);
        }
        Ok(br)
    }

    /// Hands back the buffer of a scanned batch for reuse (at most a few are kept).
    pub fn recycle(&mut self, buf: Vec<u8>) {
        if self.spare.len() < 4 {
            self.spare.push(buf);
        }
    }

    pub fn is_binary(&self) -> bool {
        self.binary
    }

    pub fn next_record(&self) -> u64 {
        self.next_record
    }

    /// The header row as read (written unchanged to the redacted copy).
    pub fn header_bytes(&self) -> Option<&[u8]> {
        self.header.as_deref()
    }

    /// Resolves CSV column selectors against the header.
    pub fn resolve_columns(&mut self, opts: &Options) -> Result<(), String> {
        if !matches!(self.format, Format::Csv | Format::Tsv) {
            return Ok(());
        }
        let delim = if self.format == Format::Tsv {
            b'\t'
        } else {
            b','
        };
        let names: Vec<String> = match &self.header {
            Some(h) => {
                let text = std::str::from_utf8(h)
                    .map_err(|_| "the header row is not UTF-8".to_string())?;
                let text = text.trim_end_matches(['\n', '\r']);
                fields(text, delim)
                    .map_err(|e| format!("header row: {e}"))?
                    .into_iter()
                    .map(|f| f.value.into_owned())
                    .collect()
            }
            None => Vec::new(),
        };
        let selected = if opts.columns.is_empty() {
            None
        } else {
            let mut v = Vec::new();
            for c in &opts.columns {
                let idx = names
                    .iter()
                    .position(|n| n == c)
                    .or_else(|| c.parse::<usize>().ok().filter(|n| *n >= 1).map(|n| n - 1));
                match idx {
                    Some(i) => v.push(i),
                    None => return Err(format!("no column {c:?} (columns: {})", names.join(", "))),
                }
            }
            Some(v)
        };
        self.columns = Some(Arc::new(Columns {
            names,
            selected,
            delim,
        }));
        Ok(())
    }

    /// The next batch, or `None` at the end. A read error after some records were read
    /// returns those records first and the error on the next call.
    pub fn next_batch(&mut self, opts: &Options) -> io::Result<Option<Batch>> {
        if let Some(e) = self.pending.take() {
            return Err(e);
        }
        if self.done {
            return Ok(None);
        }
        // A recycled buffer when there is one (its pages are already mapped), and one
        // allocation per batch otherwise, not a dozen doublings (each a copy and fresh pages).
        let mut data = match self.spare.pop() {
            Some(mut d) => {
                d.clear();
                d.extend_from_slice(&self.carry);
                self.carry.clear();
                d
            }
            None => std::mem::take(&mut self.carry),
        };
        data.reserve(opts.batch_bytes.max(1) + 64 * 1024);
        let first_record = self.next_record;
        let offset = self.offset;
        let mut too_long = Vec::new();
        let mut records = 0u64;
        let mut complete = 0usize;
        if let Err(e) = self.fill(opts, &mut data, &mut too_long, &mut records, &mut complete) {
            self.done = true;
            // The record the read failed in is incomplete: it is not scanned (the error says
            // where reading stopped), whatever the decompressor had returned of it.
            data.truncate(complete);
            if data.is_empty() && too_long.is_empty() {
                return Err(e);
            }
            self.pending = Some(e);
        }
        self.offset += data.len() as u64;
        if data.is_empty() && too_long.is_empty() {
            return Ok(None);
        }
        Ok(Some(Batch {
            file: self.file,
            format: self.format,
            first_record,
            offset,
            data,
            too_long,
            columns: self.columns.clone(),
            records,
        }))
    }

    fn fill(
        &mut self,
        opts: &Options,
        data: &mut Vec<u8>,
        too_long: &mut Vec<(u64, usize)>,
        records: &mut u64,
        complete: &mut usize,
    ) -> io::Result<()> {
        let target = opts.batch_bytes.max(1);
        *complete = data.len();
        match self.format {
            Format::Text => {
                // Whole lines up to the target; a line longer than the target plus
                // `max_record` is cut at a character boundary.
                while data.len() < target {
                    let n = read_line(&mut self.r, data, target + opts.max_record)?;
                    if n == 0 {
                        self.done = true;
                        break;
                    }
                    if data.last() == Some(&b'\n') {
                        *records += 1;
                        *complete = data.len();
                    } else if !self.at_eof()? {
                        // Cut: carry the tail of an incomplete UTF-8 character.
                        let keep = utf8_cut(data);
                        self.carry = data.split_off(keep);
                        break;
                    }
                }
                self.next_record += *records;
            }
            Format::Jsonl | Format::Csv | Format::Tsv => {
                let delim = if self.format == Format::Tsv {
                    b'\t'
                } else {
                    b','
                };
                'records: while data.len() < target {
                    let start = data.len();
                    let mut sp = RecordSplitter::new(delim);
                    let mut complete_record = false;
                    loop {
                        let cap = (opts.max_record + 1)
                            .saturating_sub(data.len() - start)
                            .max(1);
                        let n = read_line(&mut self.r, data, cap)?;
                        if n == 0 {
                            break;
                        }
                        let newline = data.last() == Some(&b'\n');
                        if data.len() - start > opts.max_record {
                            // Too long: drop it and skip to the end of its line.
                            let seen = data.len() - start;
                            data.truncate(start);
                            let skipped = if newline { 0 } else { skip_line(&mut self.r)? };
                            too_long.push((self.next_record, seen + skipped));
                            self.next_record += 1;
                            continue 'records;
                        }
                        let line_start = data.len() - n;
                        if self.format == Format::Jsonl || sp.feed(&data[line_start..]).is_some() {
                            complete_record = true;
                            break;
                        }
                        if !newline {
                            break;
                        }
                    }
                    if data.len() == start {
                        self.done = true;
                        break;
                    }
                    *records += 1;
                    self.next_record += 1;
                    *complete = data.len();
                    if !complete_record {
                        // End of input inside a quoted field: keep the record; the field
                        // splitter reports it.
                        self.done = true;
                        break;
                    }
                }
            }
            Format::Parquet => {
                self.done = true;
                return Ok(());
            }
        }
        Ok(())
    }

    fn at_eof(&mut self) -> io::Result<bool> {
        Ok(self.r.fill_buf()?.is_empty())
    }
}

/// Appends bytes up to and including the next newline, reading at most `cap` bytes; returns
/// the number appended (0 at the end of input).
fn read_line(r: &mut Box<dyn BufRead + Send>, out: &mut Vec<u8>, cap: usize) -> io::Result<usize> {
    let mut n = 0;
    while n < cap {
        let buf = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            break;
        }
        let room = (cap - n).min(buf.len());
        match memchr::memchr(b'\n', &buf[..room]) {
            Some(i) => {
                out.extend_from_slice(&buf[..=i]);
                r.consume(i + 1);
                return Ok(n + i + 1);
            }
            None => {
                out.extend_from_slice(&buf[..room]);
                r.consume(room);
                n += room;
            }
        }
    }
    Ok(n)
}

/// Discards bytes up to and including the next newline; returns how many.
fn skip_line(r: &mut Box<dyn BufRead + Send>) -> io::Result<usize> {
    let mut n = 0;
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok(n);
        }
        match memchr::memchr(b'\n', buf) {
            Some(i) => {
                r.consume(i + 1);
                return Ok(n + i + 1);
            }
            None => {
                let l = buf.len();
                r.consume(l);
                n += l;
            }
        }
    }
}

/// The length of `data` without a trailing incomplete UTF-8 sequence.
fn utf8_cut(data: &[u8]) -> usize {
    let n = data.len();
    for back in 1..=3.min(n) {
        let b = data[n - back];
        if b & 0xC0 != 0x80 {
            // A lead byte: is its sequence complete?
            let need = if b >= 0xF0 {
                4
            } else if b >= 0xE0 {
                3
            } else if b >= 0xC0 {
                2
            } else {
                1
            };
            return if need > back { n - back } else { n };
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_keeps_whole_characters() {
        let s = "ab中".as_bytes();
        assert_eq!(utf8_cut(s), 5);
        assert_eq!(utf8_cut(&s[..4]), 2);
        assert_eq!(utf8_cut(&s[..3]), 2);
        assert_eq!(utf8_cut(b"abc"), 3);
    }
}
