//! Inputs: listing folders, opening files or stdin, decompression sniffed from magic bytes,
//! format from the file name, binary detection, and atomic outputs.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

/// A record format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Plain text; offsets into the file.
    Text,
    /// JSON lines.
    Jsonl,
    /// Comma-separated values.
    Csv,
    /// Tab-separated values.
    Tsv,
    /// Apache Parquet (string columns, by row group).
    Parquet,
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "text" | "txt" => Ok(Format::Text),
            "jsonl" | "ndjson" => Ok(Format::Jsonl),
            "csv" => Ok(Format::Csv),
            "tsv" => Ok(Format::Tsv),
            "parquet" => Ok(Format::Parquet),
            _ => Err(format!(
                "unknown format {s:?} (expected text, jsonl, csv, tsv or parquet)"
            )),
        }
    }
}

/// Compression of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// None.
    None,
    /// gzip (one or more members).
    Gzip,
    /// Zstandard.
    Zstd,
}

/// One input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// File to read; `None` for stdin.
    pub path: Option<PathBuf>,
    /// Name in reports.
    pub name: String,
    /// Where the redacted copy goes (`None`: stdout), when redacting.
    pub output: Option<PathBuf>,
}

/// Lists the files under `paths` (folders recursively, in name order; symbolic links to
/// folders are not followed, so a link loop cannot trap the walk). `-` is stdin.
pub fn list_inputs(paths: &[PathBuf]) -> io::Result<Vec<Input>> {
    let mut out = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            out.push(Input {
                path: None,
                name: "-".into(),
                output: None,
            });
            continue;
        }
        let meta = std::fs::metadata(p)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", p.display())))?;
        if meta.is_dir() {
            walk(p, &mut out)?;
        } else {
            out.push(Input {
                path: Some(p.clone()),
                name: p.display().to_string(),
                output: None,
            });
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<Input>) -> io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", dir.display())))?
        .collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let ft = e.file_type()?;
        let path = e.path();
        if ft.is_dir() {
            walk(&path, out)?;
        } else if ft.is_file() || (ft.is_symlink() && path.is_file()) {
            out.push(Input {
                name: path.display().to_string(),
                path: Some(path),
                output: None,
            });
        }
    }
    Ok(())
}

/// The format a file name implies (compression suffixes ignored): `.jsonl`/`.ndjson`,
/// `.csv`, `.tsv`/`.tab`, `.parquet`/`.pq`; anything else is text.
pub fn format_from_name(name: &str) -> Format {
    let lower = name.to_ascii_lowercase();
    let base = ["gz", "gzip", "zst", "zstd"]
        .iter()
        .find_map(|s| lower.strip_suffix(&format!(".{s}")))
        .unwrap_or(&lower);
    match base.rsplit_once('.').map(|(_, e)| e) {
        Some("jsonl" | "ndjson") => Format::Jsonl,
        Some("csv") => Format::Csv,
        Some("tsv" | "tab") => Format::Tsv,
        Some("parquet" | "pq") => Format::Parquet,
        _ => Format::Text,
    }
}

/// An opened input: a decompressed stream and what it was.
pub struct Opened {
    /// The decompressed bytes.
    pub reader: Box<dyn BufRead + Send>,
    /// Compression found.
    pub compression: Compression,
}

/// Opens an input and wraps it in a decoder chosen by magic bytes (gzip `1f 8b`, zstd
/// `28 b5 2f fd`). Files are read, not memory-mapped: mapping them was measured no faster here
/// (prose corpus within noise, dense corpus 5% slower; page faults and cache misses in the
/// reader seem to cost what the kernel's copy did).
pub fn open(input: &Input) -> io::Result<Opened> {
    let raw: Box<dyn Read + Send> = match &input.path {
        Some(p) => Box::new(File::open(p)?),
        None => Box::new(io::stdin()),
    };
    let mut buf = BufReader::with_capacity(256 * 1024, raw);
    let head = buf.fill_buf()?;
    if head.starts_with(&[0x1f, 0x8b]) {
        let dec = flate2::bufread::MultiGzDecoder::new(buf);
        Ok(Opened {
            reader: Box::new(BufReader::with_capacity(256 * 1024, dec)),
            compression: Compression::Gzip,
        })
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        let dec = zstd::stream::read::Decoder::with_buffer(buf)?;
        Ok(Opened {
            reader: Box::new(BufReader::with_capacity(256 * 1024, dec)),
            compression: Compression::Zstd,
        })
    } else {
        Ok(Opened {
            reader: Box::new(buf),
            compression: Compression::None,
        })
    }
}

/// True when the first bytes look binary (a NUL byte in the first 8 KiB, as git and ripgrep
/// decide).
pub fn looks_binary(head: &[u8]) -> bool {
    memchr::memchr(0, &head[..head.len().min(8192)]).is_some()
}

/// A redacted copy being written: to a temporary file beside the target, renamed into place
/// only when complete (so a failed run never leaves a half-written copy), or to stdout.
pub struct Output {
    inner: Option<Box<dyn Write + Send>>,
    finish: Option<Box<dyn FnOnce() -> io::Result<()> + Send>>,
}

impl Output {
    /// Opens the output for `input`, compressed like the input.
    pub fn create(input: &Input, compression: Compression) -> io::Result<Output> {
        match &input.output {
            None => Ok(Output {
                inner: Some(wrap(Box::new(io::stdout()), compression)?),
                finish: None,
            }),
            Some(target) => {
                let tmp = temp_beside(target)?;
                let file = tmp.reopen()?;
                let target = target.clone();
                let inner = wrap(
                    Box::new(io::BufWriter::with_capacity(256 * 1024, file)),
                    compression,
                )?;
                let finish = move || -> io::Result<()> {
                    tmp.persist(&target).map_err(|e| e.error)?;
                    Ok(())
                };
                Ok(Output {
                    inner: Some(inner),
                    finish: Some(Box::new(finish)),
                })
            }
        }
    }

    /// Writes bytes.
    pub fn write_all(&mut self, b: &[u8]) -> io::Result<()> {
        match &mut self.inner {
            Some(w) => w.write_all(b),
            None => Err(io::Error::other("output already finished")),
        }
    }

    /// Flushes, closes the compressor and moves the file into place.
    pub fn finish(mut self) -> io::Result<()> {
        if let Some(mut w) = self.inner.take() {
            w.flush()?;
            drop(w);
        }
        match self.finish.take() {
            Some(f) => f(),
            None => Ok(()),
        }
    }
}

/// A temporary file in the folder of `target` (created if needed), so that persisting it is
/// an atomic rename.
pub(crate) fn temp_beside(target: &Path) -> io::Result<tempfile::NamedTempFile> {
    let dir = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    tempfile::NamedTempFile::new_in(dir)
}

/// A writer that finishes its compressor when dropped... is not enough: errors would be lost,
/// so the encoders are wrapped to finish on flush.
fn wrap(w: Box<dyn Write + Send>, c: Compression) -> io::Result<Box<dyn Write + Send>> {
    Ok(match c {
        Compression::None => w,
        Compression::Gzip => Box::new(FinishOnFlush::Gz(Some(flate2::write::GzEncoder::new(
            w,
            flate2::Compression::default(),
        )))),
        Compression::Zstd => Box::new(FinishOnFlush::Zstd(Some(
            zstd::stream::write::Encoder::new(w, 3)?,
        ))),
    })
}

enum FinishOnFlush {
    Gz(Option<flate2::write::GzEncoder<Box<dyn Write + Send>>>),
    Zstd(Option<zstd::stream::write::Encoder<'static, Box<dyn Write + Send>>>),
}

impl Write for FinishOnFlush {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        match self {
            FinishOnFlush::Gz(Some(e)) => e.write(b),
            FinishOnFlush::Zstd(Some(e)) => e.write(b),
            _ => Err(io::Error::other("compressed output already finished")),
        }
    }

    /// The final flush: finishes the stream (callers flush once, at the end).
    fn flush(&mut self) -> io::Result<()> {
        match self {
            FinishOnFlush::Gz(e) => match e.take() {
                Some(e) => e.finish()?.flush(),
                None => Ok(()),
            },
            FinishOnFlush::Zstd(e) => match e.take() {
                Some(e) => e.finish()?.flush(),
                None => Ok(()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_from_names() {
        assert_eq!(format_from_name("a/b.jsonl.gz"), Format::Jsonl);
        assert_eq!(format_from_name("x.CSV"), Format::Csv);
        assert_eq!(format_from_name("x.tsv.zst"), Format::Tsv);
        assert_eq!(format_from_name("x.parquet"), Format::Parquet);
        assert_eq!(format_from_name("README"), Format::Text);
        assert!("yaml".parse::<Format>().is_err());
    }
}
