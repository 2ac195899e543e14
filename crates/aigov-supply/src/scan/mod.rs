//! Unsafe-serialisation scanner for model files.
//!
//! Formats are recognised by their bytes, never by their names: raw pickles (protocols 0–5),
//! legacy PyTorch files (a magic-number pickle followed by more pickles), zip archives
//! (PyTorch checkpoints, `.keras`, `.npz`, plain zips), tar, 7z, gzip and zlib streams (joblib),
//! NumPy `.npy` (object arrays are pickles), HDF5 (Keras `.h5`), safetensors and GGUF. Archives
//! are scanned recursively with limits on depth and expanded size.
//!
//! A file that cannot be parsed is a finding, never a pass; a file that cannot be read is an
//! error (the caller's exit code 2).

pub mod pickle;
pub mod policy;
pub mod report;
pub mod tensors;

use std::fs::File;
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};

use serde::Serialize;

pub use policy::Severity;

/// Bytes read to recognise a format.
const HEAD: usize = 64 * 1024;

/// Limits that keep hostile files bounded.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Deepest archive nesting followed.
    pub max_depth: usize,
    /// Largest pickle, archive member or decompressed stream read into memory.
    pub max_read: u64,
    /// Largest total expanded size of one top-level file's archive members.
    pub max_expanded: u64,
    /// Largest safetensors/GGUF header read.
    pub max_header: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 6,
            max_read: 1 << 30,
            max_expanded: 8 << 30,
            max_header: 256 << 20,
        }
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// How bad.
    pub severity: Severity,
    /// Stable rule id (`pickle.import`, `pickle.malformed`, `safetensors.header`, …).
    pub rule: &'static str,
    /// A sentence for people.
    pub message: String,
    /// Byte offset inside the scanned member, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// The imported callable, for pickle imports.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callable: Option<String>,
}

/// The verdict on one file or archive member.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    /// Path, with `!/member` for archive members (nested as needed).
    pub path: String,
    /// Recognised format.
    pub format: &'static str,
    /// Size in bytes (of the member, uncompressed).
    pub size: u64,
    /// Findings, most severe first.
    pub findings: Vec<Finding>,
    /// Imported callables that are on the allow list (for inventories).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allowed_imports: Vec<String>,
    /// Set when the file could not be read at all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl FileReport {
    fn new(path: &str, format: &'static str, size: u64) -> FileReport {
        FileReport {
            path: path.to_string(),
            format,
            size,
            findings: Vec::new(),
            allowed_imports: Vec::new(),
            error: None,
        }
    }

    fn add(&mut self, severity: Severity, rule: &'static str, message: impl Into<String>) {
        self.findings.push(Finding {
            severity,
            rule,
            message: message.into(),
            offset: None,
            callable: None,
        });
    }

    /// The most severe finding, if any.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }
}

/// A recognised container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A pickle stream.
    Pickle,
    /// Zip archive.
    Zip,
    /// Tar archive.
    Tar,
    /// Gzip stream.
    Gzip,
    /// Zlib stream (joblib compression).
    Zlib,
    /// 7-Zip archive.
    SevenZip,
    /// NumPy `.npy`.
    Npy,
    /// HDF5.
    Hdf5,
    /// safetensors.
    Safetensors,
    /// GGUF.
    Gguf,
    /// Not a format this scanner knows.
    Unknown,
}

impl Format {
    /// Name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Format::Pickle => "pickle",
            Format::Zip => "zip",
            Format::Tar => "tar",
            Format::Gzip => "gzip",
            Format::Zlib => "zlib",
            Format::SevenZip => "7z",
            Format::Npy => "numpy",
            Format::Hdf5 => "hdf5",
            Format::Safetensors => "safetensors",
            Format::Gguf => "gguf",
            Format::Unknown => "unknown",
        }
    }
}

/// Recognises a format from the first bytes (up to 64 KiB) and the total length.
pub fn detect(head: &[u8], len: u64) -> Format {
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        Format::Zip
    } else if head.starts_with(&[0x1f, 0x8b]) {
        Format::Gzip
    } else if head.starts_with(&[0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]) {
        Format::SevenZip
    } else if head.starts_with(b"\x93NUMPY") {
        Format::Npy
    } else if head.starts_with(b"\x89HDF\r\n\x1a\n") {
        Format::Hdf5
    } else if head.starts_with(b"GGUF") {
        Format::Gguf
    } else if head.len() > 262 && &head[257..262] == b"ustar" {
        Format::Tar
    } else if pickle::looks_like_pickle(head) {
        Format::Pickle
    } else if head.len() >= 2
        && head[0] == 0x78
        && matches!(head[1], 0x01 | 0x5e | 0x9c | 0xda)
        && (u16::from(head[0]) << 8 | u16::from(head[1])) % 31 == 0
    {
        Format::Zlib
    } else if looks_like_safetensors(head, len) {
        Format::Safetensors
    } else {
        Format::Unknown
    }
}

fn looks_like_safetensors(head: &[u8], len: u64) -> bool {
    if head.len() < 10 {
        return false;
    }
    let n = u64::from_le_bytes(head[..8].try_into().unwrap_or([0; 8]));
    // The header length may lie; the header check reports that.
    n >= 2 && head[8] == b'{' && (len == u64::MAX || len >= 10)
}

/// Extensions that name model files: content that is not recognised under such a name cannot
/// be checked, which is a finding.
const MODEL_EXTENSIONS: &[&str] = &[
    "pkl",
    "pickle",
    "pt",
    "pth",
    "bin",
    "ckpt",
    "joblib",
    "npy",
    "npz",
    "h5",
    "hdf5",
    "keras",
    "safetensors",
    "gguf",
    "dat",
    "model",
    "mar",
    "sav",
];

/// How a legacy PyTorch file starts: protocol 2, then `LONG1` of the 10-byte magic number
/// `0x1950a86a20f9469cfc6c` (`torch.serialization.MAGIC_NUMBER`).
const TORCH_MAGIC: [u8; 14] = [
    0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19,
];

struct Ctx<'a> {
    limits: &'a Limits,
    expanded: u64,
    out: Vec<FileReport>,
}

/// Scans one file (archives recursively). Never fails: unreadable files come back as a
/// report with `error` set.
pub fn scan_file(path: &Path, limits: &Limits) -> Vec<FileReport> {
    let name = path.display().to_string();
    let mut ctx = Ctx {
        limits,
        expanded: 0,
        out: Vec::new(),
    };
    let result = File::open(path).and_then(|mut f| {
        let len = f.metadata()?.len();
        let mut head = Vec::with_capacity(HEAD);
        (&mut f).take(HEAD as u64).read_to_end(&mut head)?;
        let format = detect(&head, len);
        if format == Format::Zip {
            f.rewind()?;
            scan_zip(&name, f, len, 0, &mut ctx);
        } else if format == Format::SevenZip {
            f.rewind()?;
            scan_7z(&name, f, len, 0, &mut ctx);
        } else {
            scan_stream(&name, &mut f, len, &head, format, 0, &mut ctx);
        }
        Ok(())
    });
    if let Err(e) = result {
        let mut r = FileReport::new(&name, "unknown", 0);
        r.error = Some(e.to_string());
        ctx.out.push(r);
    }
    for r in &mut ctx.out {
        r.findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    }
    ctx.out
}

/// Lists the files under paths (folders recursively, symbolic links not followed), sorted.
pub fn list_files(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<FileReport>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        walk(p, &mut files, &mut errors);
    }
    files.sort();
    (files, errors)
}

fn walk(p: &Path, files: &mut Vec<PathBuf>, errors: &mut Vec<FileReport>) {
    match std::fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => match std::fs::read_dir(p) {
            Ok(rd) => {
                for e in rd {
                    match e {
                        Ok(e) => walk(&e.path(), files, errors),
                        Err(err) => {
                            let mut r = FileReport::new(&p.display().to_string(), "folder", 0);
                            r.error = Some(err.to_string());
                            errors.push(r);
                        }
                    }
                }
            }
            Err(err) => {
                let mut r = FileReport::new(&p.display().to_string(), "folder", 0);
                r.error = Some(err.to_string());
                errors.push(r);
            }
        },
        Ok(m) if m.file_type().is_symlink() => {
            // Links are scanned when they point at files, never followed into folders.
            if std::fs::metadata(p).is_ok_and(|t| t.is_file()) {
                files.push(p.to_path_buf());
            }
        }
        Ok(_) => files.push(p.to_path_buf()),
        Err(err) => {
            let mut r = FileReport::new(&p.display().to_string(), "unknown", 0);
            r.error = Some(err.to_string());
            errors.push(r);
        }
    }
}

fn has_model_extension(name: &str) -> bool {
    let base = name.rsplit(['/', '!']).next().unwrap_or(name);
    base.rsplit_once('.')
        .is_some_and(|(_, ext)| MODEL_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str()))
}

/// Reads at most `limit` bytes; `Err(n)` when there was more.
fn read_bounded(
    r: &mut dyn Read,
    head: &[u8],
    limit: u64,
) -> std::io::Result<Result<Vec<u8>, u64>> {
    let mut buf = head.to_vec();
    r.take(limit.saturating_sub(buf.len() as u64) + 1)
        .read_to_end(&mut buf)?;
    if buf.len() as u64 > limit {
        Ok(Err(limit))
    } else {
        Ok(Ok(buf))
    }
}

/// Scans a stream whose first bytes `head` were already read from `r`.
fn scan_stream(
    name: &str,
    r: &mut dyn Read,
    len: u64,
    head: &[u8],
    format: Format,
    depth: usize,
    ctx: &mut Ctx<'_>,
) {
    let mut rep = FileReport::new(name, format.name(), len);
    if depth > ctx.limits.max_depth {
        rep.add(
            Severity::High,
            "archive.depth",
            format!(
                "nested deeper than {} archives; not scanned",
                ctx.limits.max_depth
            ),
        );
        ctx.out.push(rep);
        return;
    }
    // Formats read whole (bounded).
    let whole = |r: &mut dyn Read, rep: &mut FileReport, limit: u64| -> Option<Vec<u8>> {
        match read_bounded(r, head, limit) {
            Ok(Ok(b)) => Some(b),
            Ok(Err(limit)) => {
                rep.add(
                    Severity::High,
                    "scan.too-large",
                    format!("larger than the {limit}-byte scan limit; not fully scanned"),
                );
                None
            }
            Err(e) => {
                rep.add(
                    Severity::High,
                    "scan.read",
                    format!("cannot be read whole: {e}"),
                );
                None
            }
        }
    };
    match format {
        Format::Pickle => {
            if let Some(data) = whole(r, &mut rep, ctx.limits.max_read) {
                rep.size = data.len() as u64;
                scan_pickles(&data, &mut rep);
            }
            ctx.out.push(rep);
        }
        Format::Npy => {
            if let Some(data) = whole(r, &mut rep, ctx.limits.max_read) {
                scan_npy(&data, &mut rep);
            }
            ctx.out.push(rep);
        }
        Format::Hdf5 => {
            if let Some(data) = whole(r, &mut rep, ctx.limits.max_read) {
                scan_keras_config(&data, &mut rep, "HDF5 attributes");
            }
            ctx.out.push(rep);
        }
        Format::Safetensors | Format::Gguf => {
            let limit = ctx.limits.max_header.min(len);
            let mut data = head.to_vec();
            if let Err(e) = r
                .take(limit.saturating_sub(data.len() as u64))
                .read_to_end(&mut data)
            {
                rep.add(
                    Severity::High,
                    "scan.read",
                    format!("header cannot be read: {e}"),
                );
            } else {
                let h = if format == Format::Gguf {
                    tensors::check_gguf(&data, len)
                } else {
                    tensors::check_safetensors(&data, len)
                };
                let rule = if format == Format::Gguf {
                    "gguf.header"
                } else {
                    "safetensors.header"
                };
                for p in h.problems {
                    rep.add(Severity::High, rule, p);
                }
                for t in h.template_findings {
                    rep.add(Severity::Critical, "gguf.chat-template", t);
                }
            }
            ctx.out.push(rep);
        }
        Format::Zip => {
            if let Some(data) = whole(r, &mut rep, ctx.limits.max_read) {
                let n = data.len() as u64;
                scan_zip(name, std::io::Cursor::new(data), n, depth, ctx);
            } else {
                ctx.out.push(rep);
            }
        }
        Format::Tar => {
            ctx.out.push(rep);
            scan_tar(name, r, head, depth, ctx);
        }
        Format::Gzip | Format::Zlib => {
            let chained = head.chain(r);
            let mut dec: Box<dyn Read> = if format == Format::Gzip {
                Box::new(flate2::read::MultiGzDecoder::new(chained))
            } else {
                Box::new(flate2::read::ZlibDecoder::new(chained))
            };
            let inner_name = format!("{name}!/{}", decompressed_name(name));
            let mut inner_head = Vec::new();
            match (&mut dec).take(HEAD as u64).read_to_end(&mut inner_head) {
                Ok(_) => {
                    let inner = detect(&inner_head, u64::MAX);
                    ctx.out.push(rep);
                    let budget = ctx.limits.max_expanded.saturating_sub(ctx.expanded);
                    let mut counted = CountingReader {
                        inner: dec,
                        count: inner_head.len() as u64,
                        limit: budget,
                    };
                    let before = ctx.out.len();
                    scan_stream(
                        &inner_name,
                        &mut counted,
                        u64::MAX,
                        &inner_head,
                        inner,
                        depth + 1,
                        ctx,
                    );
                    ctx.expanded += counted.count;
                    if counted.count > budget {
                        mark_bomb(&mut ctx.out, before, name);
                    }
                }
                Err(e) => {
                    rep.add(
                        Severity::High,
                        "archive.malformed",
                        format!("compressed stream cannot be decoded: {e}"),
                    );
                    ctx.out.push(rep);
                }
            }
        }
        Format::SevenZip => {
            if let Some(data) = whole(r, &mut rep, ctx.limits.max_read) {
                let n = data.len() as u64;
                scan_7z(name, std::io::Cursor::new(data), n, depth, ctx);
            } else {
                ctx.out.push(rep);
            }
        }
        Format::Unknown => {
            if has_model_extension(name) {
                rep.add(
                    Severity::Medium,
                    "scan.unrecognised",
                    "named like a model file but its content is not a format this scanner reads; it cannot be checked",
                );
            }
            ctx.out.push(rep);
        }
    }
}

/// The name of what a compressed file holds: its base name without the compression
/// extension (`model.pkl.gz` holds `model.pkl`; a joblib file keeps its name), so that the
/// inner stream is judged by the name it will be loaded under.
fn decompressed_name(name: &str) -> &str {
    let base = name.rsplit(['/', '!']).next().unwrap_or(name);
    for ext in [".gz", ".gzip", ".tgz", ".z", ".zz"] {
        if base.len() > ext.len() && base.to_ascii_lowercase().ends_with(ext) {
            let stem = &base[..base.len() - ext.len()];
            return if ext == ".tgz" { "archive.tar" } else { stem };
        }
    }
    base
}

fn mark_bomb(out: &mut [FileReport], from: usize, name: &str) {
    if let Some(r) = out.get_mut(from) {
        r.add(
            Severity::High,
            "archive.bomb",
            format!("{name} expands beyond the scan limit (possible decompression bomb)"),
        );
    }
}

/// Counts bytes read and stops (with an error) past a limit.
struct CountingReader<R> {
    inner: R,
    count: u64,
    limit: u64,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.count > self.limit {
            return Err(std::io::Error::other("expanded size limit reached"));
        }
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

fn scan_zip<R: Read + Seek>(name: &str, r: R, len: u64, depth: usize, ctx: &mut Ctx<'_>) {
    let mut rep = FileReport::new(name, "zip", len);
    let mut zip = match zip::ZipArchive::new(r) {
        Ok(z) => z,
        Err(e) => {
            rep.add(
                Severity::High,
                "archive.malformed",
                format!("zip archive cannot be read: {e}"),
            );
            ctx.out.push(rep);
            return;
        }
    };
    let n = zip.len();
    let mut names = Vec::new();
    for i in 0..n {
        if let Some(nm) = zip.name_for_index(i) {
            names.push(nm.to_string());
        }
    }
    let keras = names.iter().any(|n| n == "config.json")
        && names
            .iter()
            .any(|n| n.ends_with(".weights.h5") || n == "metadata.json");
    let torch = names
        .iter()
        .any(|n| n.ends_with("/data.pkl") || n == "data.pkl");
    if keras {
        rep.format = "keras";
    } else if torch {
        rep.format = "pytorch";
    }
    ctx.out.push(rep);
    let at = ctx.out.len() - 1;
    for i in 0..n {
        let mut f = match zip.by_index(i) {
            Ok(f) => f,
            Err(e) => {
                ctx.out[at].add(
                    Severity::High,
                    "archive.malformed",
                    format!("member {i} cannot be read: {e}"),
                );
                continue;
            }
        };
        if f.is_dir() {
            continue;
        }
        let member = format!("{name}!/{}", f.name());
        let size = f.size();
        let compressed = f.compressed_size();
        if size > 100 << 20 && compressed > 0 && size / compressed > 1000 {
            ctx.out[at].add(
                Severity::High,
                "archive.bomb",
                format!("member {} declares {size} bytes from {compressed} (possible decompression bomb); not expanded", f.name()),
            );
            continue;
        }
        let budget = ctx.limits.max_expanded.saturating_sub(ctx.expanded);
        let mut counted = CountingReader {
            inner: &mut f,
            count: 0,
            limit: budget,
        };
        let mut head = Vec::new();
        if let Err(e) = (&mut counted).take(HEAD as u64).read_to_end(&mut head) {
            ctx.out[at].add(
                Severity::High,
                "archive.malformed",
                format!("member {} cannot be decompressed: {e}", member),
            );
            continue;
        }
        let format = detect(&head, size);
        let base = member.rsplit('/').next().unwrap_or("");
        if keras && (base == "config.json") {
            let mut data = head.clone();
            let _ = (&mut counted)
                .take(ctx.limits.max_read)
                .read_to_end(&mut data);
            let mut r = FileReport::new(&member, "keras-config", data.len() as u64);
            scan_keras_config(&data, &mut r, "config.json");
            ctx.out.push(r);
            ctx.expanded += counted.count;
            continue;
        }
        if format == Format::Unknown && !has_model_extension(&member) {
            // Raw tensor storages and other data: nothing to execute.
            ctx.expanded += counted.count;
            continue;
        }
        let before = ctx.out.len();
        scan_stream(&member, &mut counted, size, &head, format, depth + 1, ctx);
        ctx.expanded += counted.count;
        if counted.count > budget {
            mark_bomb(&mut ctx.out, before, &member);
        }
    }
}

/// Decoder memory allowed for a 7z archive (dictionaries, headers), in KiB.
const SEVENZ_MEMORY_KB: usize = 256 * 1024;

fn scan_7z<R: Read + Seek>(name: &str, r: R, len: u64, depth: usize, ctx: &mut Ctx<'_>) {
    use sevenz_rust2::{ArchiveReader, EntryDecision, Password};
    let mut rep = FileReport::new(name, "7z", len);
    let mut ar = match ArchiveReader::new_with_memory_limit(r, Password::empty(), SEVENZ_MEMORY_KB)
    {
        Ok(a) => a,
        Err(e) => {
            rep.add(
                Severity::High,
                "archive.malformed",
                format!("7z archive cannot be read: {e}"),
            );
            ctx.out.push(rep);
            return;
        }
    };
    ar.set_thread_count(1);
    ctx.out.push(rep);
    let at = ctx.out.len() - 1;
    let result = ar.for_each_entries_with_decision(|entry, reader| {
        if entry.is_directory() || !entry.has_stream() {
            return Ok(EntryDecision::Continue);
        }
        let member = format!("{name}!/{}", entry.name());
        let size = entry.size();
        // Declared sizes are checked by the decoder: a lie is a decoding error.
        if ctx.expanded.saturating_add(size) > ctx.limits.max_expanded {
            ctx.out[at].add(
                Severity::High,
                "archive.bomb",
                format!("{member} would expand beyond the scan limit (possible decompression bomb); the rest is not expanded"),
            );
            return Ok(EntryDecision::Stop);
        }
        ctx.expanded += size;
        let mut head = Vec::new();
        (&mut *reader).take(HEAD as u64).read_to_end(&mut head)?;
        let format = detect(&head, size);
        if format != Format::Unknown || has_model_extension(&member) {
            scan_stream(&member, reader, size, &head, format, depth + 1, ctx);
        }
        Ok(EntryDecision::Continue)
    });
    if let Err(e) = result {
        ctx.out[at].add(
            Severity::High,
            "archive.malformed",
            format!("7z archive cannot be decoded: {e}"),
        );
    }
}

fn scan_tar(name: &str, r: &mut dyn Read, head: &[u8], depth: usize, ctx: &mut Ctx<'_>) {
    let at = ctx.out.len() - 1;
    let mut ar = tar::Archive::new(head.chain(r));
    // Raw entries: the tar crate would read GNU long names and PAX headers whole, at sizes
    // the archive declares; they are skipped here (members keep their 100-byte names).
    let entries = match ar.entries().map(|e| e.raw(true)) {
        Ok(e) => e,
        Err(e) => {
            ctx.out[at].add(
                Severity::High,
                "archive.malformed",
                format!("tar cannot be read: {e}"),
            );
            return;
        }
    };
    for e in entries {
        let mut e = match e {
            Ok(e) => e,
            Err(err) => {
                ctx.out[at].add(
                    Severity::High,
                    "archive.malformed",
                    format!("tar entry cannot be read: {err}"),
                );
                return;
            }
        };
        if !e.header().entry_type().is_file() {
            continue;
        }
        let member = format!(
            "{name}!/{}",
            e.path()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        );
        let size = e.size();
        let mut h = Vec::new();
        if let Err(err) = (&mut e).take(HEAD as u64).read_to_end(&mut h) {
            ctx.out[at].add(
                Severity::High,
                "archive.malformed",
                format!("{member}: {err}"),
            );
            return;
        }
        let format = detect(&h, size);
        if format == Format::Unknown && !has_model_extension(&member) {
            continue;
        }
        scan_stream(&member, &mut e, size, &h, format, depth + 1, ctx);
    }
}

/// Scans the pickles of a file: one pickle, or the legacy PyTorch sequence (magic number,
/// protocol, system info, the object, storage keys) followed by raw storages; trailing
/// pickles are scanned too.
fn scan_pickles(data: &[u8], rep: &mut FileReport) {
    let mut pos = 0usize;
    let mut count = 0;
    let mut legacy = false;
    while pos < data.len() {
        match pickle::analyse(&data[pos..], pos as u64) {
            Ok(a) => {
                if count == 0 && data.starts_with(&TORCH_MAGIC) {
                    legacy = true;
                    rep.format = "pytorch-legacy";
                }
                report_analysis(&a, rep);
                pos += a.length as usize;
                count += 1;
                if legacy && count == 5 {
                    break;
                }
            }
            Err(e) => {
                if count == 0 || legacy || pickle::looks_like_pickle(&data[pos..]) {
                    rep.findings.push(Finding {
                        severity: Severity::High,
                        rule: "pickle.malformed",
                        message: format!("{e}; a loader may still execute what precedes it"),
                        offset: Some(e.offset),
                        callable: None,
                    });
                }
                break;
            }
        }
        if !legacy && data[pos..].first().is_none_or(|b| *b != 0x80) {
            break;
        }
    }
    if legacy && count < 5 {
        rep.add(
            Severity::High,
            "pickle.malformed",
            format!("legacy PyTorch file holds {count} of its 5 pickles"),
        );
    }
}

fn report_analysis(a: &pickle::Analysis, rep: &mut FileReport) {
    let calls: std::collections::HashMap<&pickle::Callable, &pickle::Call> = a
        .calls
        .iter()
        .filter_map(|k| k.callable.as_ref().map(|c| (c, k)))
        .collect();
    for imp in &a.imports {
        let c = &imp.callable;
        let qualified = c.qualified();
        if imp.op == pickle::ImportOp::Extension {
            rep.findings.push(Finding {
                severity: Severity::High,
                rule: "pickle.extension",
                message: format!(
                    "imports {} from the copyreg extension registry: the callable is not visible in the file",
                    c.name.as_deref().unwrap_or("?")
                ),
                offset: Some(imp.offset),
                callable: None,
            });
            continue;
        }
        let (sev, why) = policy::classify(c.module.as_deref(), c.name.as_deref());
        if sev == Severity::Info {
            if !rep.allowed_imports.contains(&qualified) {
                rep.allowed_imports.push(qualified);
            }
            continue;
        }
        let first_call = calls.get(c);
        let mut message = format!("imports `{qualified}` ({why})");
        if imp.count > 1 {
            message.push_str(&format!(", {} times", imp.count));
        }
        if let Some(k) = first_call {
            message.push_str(&format!("; called by {} with {}", k.op, k.args));
        }
        rep.findings.push(Finding {
            severity: sev,
            rule: "pickle.import",
            message,
            offset: Some(imp.offset),
            callable: Some(qualified),
        });
    }
}

fn scan_npy(data: &[u8], rep: &mut FileReport) {
    if data.len() < 10 {
        rep.add(Severity::High, "numpy.malformed", "truncated .npy header");
        return;
    }
    let major = data[6];
    let (hlen, start) = match major {
        1 => (u64::from(u16::from_le_bytes([data[8], data[9]])), 10usize),
        2 | 3 if data.len() >= 12 => (
            u64::from(u32::from_le_bytes([data[8], data[9], data[10], data[11]])),
            12usize,
        ),
        _ => {
            rep.add(
                Severity::High,
                "numpy.malformed",
                format!(".npy version {major} is not known"),
            );
            return;
        }
    };
    let end = start as u64 + hlen;
    if end > data.len() as u64 {
        rep.add(
            Severity::High,
            "numpy.malformed",
            "header longer than the file",
        );
        return;
    }
    let header = String::from_utf8_lossy(&data[start..end as usize]);
    // Any object type code in the dtype (plain or a field of a structured dtype) means the
    // data is a pickle: `'O'`, `'|O'`, `'<O'`, `"O"`, `object`.
    let object = header.contains("object")
        || ["'O", "\"O", "|O", "<O", ">O", "=O"]
            .iter()
            .any(|p| header.contains(p));
    if object {
        rep.add(
            Severity::Medium,
            "numpy.object",
            "object array: loading it runs the pickle that follows (np.load needs allow_pickle=True)",
        );
        scan_pickles(&data[end as usize..], rep);
    }
}

/// Counts `"class_name": "Lambda"` pairs in JSON text, whatever the spacing and escapes:
/// each `"class_name"` key is followed by its value, read as a JSON string.
fn lambda_layers(text: &str) -> usize {
    let mut n = 0;
    for (i, _) in text.match_indices("\"class_name\"") {
        let rest = text[i + 12..].trim_start();
        let Some(rest) = rest.strip_prefix(':') else {
            continue;
        };
        let mut it = serde_json::Deserializer::from_str(rest.trim_start()).into_iter::<String>();
        if let Some(Ok(v)) = it.next()
            && v == "Lambda"
        {
            n += 1;
        }
    }
    n
}

fn scan_keras_config(data: &[u8], rep: &mut FileReport, where_: &str) {
    let text = String::from_utf8_lossy(data);
    let lambdas = lambda_layers(&text);
    if lambdas > 0 {
        rep.add(
            Severity::Critical,
            "keras.lambda",
            format!("{lambdas} Lambda layer(s) in the {where_}: loading deserialises and runs their Python code (unless safe_mode)"),
        );
    } else if text.contains("\"function_type\"") || text.contains("\"__lambda__\"") {
        rep.add(
            Severity::High,
            "keras.function",
            format!("{where_} refers to serialised Python functions"),
        );
    }
}
