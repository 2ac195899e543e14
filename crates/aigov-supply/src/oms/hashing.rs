//! Model serialisation per OpenSSF model signing v1.0: the list of files (or file shards) of a
//! model and their digests, computed in parallel with positional reads and bounded memory.
//!
//! What is hashed, exactly as the reference tool `model_signing` 1.1.1 does it:
//! - a model is a folder (every regular file below it, recursively, hidden files included) or
//!   a single file (one resource named `.`);
//! - resource names are paths relative to the model with `/` separators; shards are named
//!   `<path>:<start>:<end>` (end exclusive) and empty files have no shard;
//! - ignored paths (relative to the model; a folder ignores everything below it) and, unless
//!   turned off, `.git`, `.gitattributes`, `.github` and `.gitignore` are left out;
//! - symbolic links are an error unless allowed; when allowed, a link to a file is hashed as
//!   the target's content and a link to a folder is not followed (as Python's `glob("**/*")`).

use std::collections::BTreeSet;
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::{Component, Path, PathBuf};

use rayon::prelude::*;
use sha2::Digest as _;

use super::manifest::{Digest, Manifest, Resource, ResourceName, Serialization};

/// The reference tool's default shard size (1,000,000,000 bytes).
pub const DEFAULT_SHARD_SIZE: u64 = 1_000_000_000;

/// Paths the reference tool ignores unless told otherwise.
pub const GIT_PATHS: [&str; 4] = [".git", ".gitattributes", ".github", ".gitignore"];

/// Bytes read at once from a file (per worker thread).
const CHUNK: usize = 1 << 20;
/// Most files or shards in one manifest (a hostile signature could ask for 1-byte shards).
pub const MAX_UNITS: usize = 1 << 22;
/// Files or shards at least this large are memory-mapped (unless `HashConfig::no_mmap`).
const MMAP_MIN: u64 = 1 << 20;

/// A content hash supported by the standard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashAlgorithm {
    /// SHA-256 (the default).
    Sha256,
    /// BLAKE2b with a 64-byte digest (`hashlib.blake2b()`).
    Blake2b,
    /// BLAKE3 with a 32-byte digest.
    Blake3,
}

impl HashAlgorithm {
    /// The name recorded in manifests (`sha256`, `blake2b`, `blake3`).
    pub fn name(self) -> &'static str {
        match self {
            HashAlgorithm::Sha256 => "sha256",
            HashAlgorithm::Blake2b => "blake2b",
            HashAlgorithm::Blake3 => "blake3",
        }
    }

    /// Parses a name as written in manifests or on the reference tool's command line
    /// (`blake2` is its option for `blake2b`).
    pub fn parse(name: &str) -> Option<HashAlgorithm> {
        match name {
            "sha256" => Some(HashAlgorithm::Sha256),
            "blake2b" | "blake2" => Some(HashAlgorithm::Blake2b),
            "blake3" => Some(HashAlgorithm::Blake3),
            _ => None,
        }
    }

    fn hasher(self) -> Hasher {
        match self {
            HashAlgorithm::Sha256 => Hasher::Sha256(sha2::Sha256::new()),
            HashAlgorithm::Blake2b => Hasher::Blake2b(Box::default()),
            HashAlgorithm::Blake3 => Hasher::Blake3(Box::default()),
        }
    }
}

enum Hasher {
    Sha256(sha2::Sha256),
    Blake2b(Box<blake2::Blake2b512>),
    Blake3(Box<blake3::Hasher>),
}

impl Hasher {
    fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Sha256(h) => h.update(data),
            Hasher::Blake2b(h) => blake2::Digest::update(h.as_mut(), data),
            // BLAKE3 hashes one large chunk on several threads.
            Hasher::Blake3(h) if data.len() >= 128 * 1024 => {
                h.update_rayon(data);
            }
            Hasher::Blake3(h) => {
                h.update(data);
            }
        }
    }

    fn finish(self) -> Vec<u8> {
        match self {
            Hasher::Sha256(h) => h.finalize().to_vec(),
            Hasher::Blake2b(h) => blake2::Digest::finalize(*h).to_vec(),
            Hasher::Blake3(h) => h.finalize().as_bytes().to_vec(),
        }
    }
}

/// How a model is cut into resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// One resource per file.
    Files,
    /// Files cut into shards of this many bytes (the last one shorter).
    Shards(u64),
}

/// Everything that decides the manifest of a model.
#[derive(Debug, Clone)]
pub struct HashConfig {
    /// Content hash.
    pub algorithm: HashAlgorithm,
    /// Files or shards. BLAKE3 is never sharded (as in the reference tool).
    pub method: Method,
    /// Whether symbolic links are hashed (as their target's content) or are an error.
    pub allow_symlinks: bool,
    /// Paths relative to the model to leave out (a folder leaves out everything below it).
    pub ignore_paths: Vec<String>,
    /// Whether `.git`, `.gitattributes`, `.github` and `.gitignore` are left out.
    pub ignore_git_paths: bool,
    /// Read files instead of memory-mapping them (see the `aigov-mmap` crate: a file truncated by
    /// another process while it is mapped makes the hasher fault).
    pub no_mmap: bool,
}

impl Default for HashConfig {
    fn default() -> Self {
        HashConfig {
            algorithm: HashAlgorithm::Sha256,
            method: Method::Files,
            allow_symlinks: false,
            ignore_paths: Vec::new(),
            ignore_git_paths: true,
            no_mmap: false,
        }
    }
}

impl HashConfig {
    /// The method actually used: BLAKE3 is hashed per file even when shards were asked for.
    pub fn effective_method(&self) -> Method {
        match (self.algorithm, self.method) {
            (HashAlgorithm::Blake3, _) => Method::Files,
            (_, m) => m,
        }
    }

    /// All ignored paths, normalised, sorted and without duplicates (git paths included when
    /// they are ignored). This is the list recorded in a signature's `ignore_paths`.
    pub fn all_ignored(&self) -> Vec<String> {
        let mut set: BTreeSet<String> = self
            .ignore_paths
            .iter()
            .filter_map(|p| normalise_relative(p))
            .collect();
        if self.ignore_git_paths {
            set.extend(GIT_PATHS.iter().map(|s| s.to_string()));
        }
        set.into_iter().collect()
    }

    /// The `serialization` section recorded in a signature for this configuration.
    pub fn serialization(&self) -> Serialization {
        Serialization {
            method: self.effective_method(),
            hash_type: self.algorithm.name().to_string(),
            allow_symlinks: self.allow_symlinks,
            ignore_paths: self.all_ignored(),
        }
    }
}

/// Reduces a relative path to its normal `/`-separated form (`./a//b/` → `a/b`); `None` for
/// paths that leave the model (`..`) or name the model itself.
pub fn normalise_relative(path: &str) -> Option<String> {
    let mut parts = Vec::new();
    for c in Path::new(path).components() {
        match c {
            Component::Normal(s) => parts.push(s.to_str()?.to_string()),
            Component::CurDir => {}
            _ => return None,
        }
    }
    if parts.is_empty() {
        None
    } else {
        Some(parts.join("/"))
    }
}

/// Why a model could not be hashed. Every variant names the path concerned.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// The model path or a file below it could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The path concerned.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A symbolic link was met and links are not allowed.
    #[error("{0}: is a symbolic link (allow symbolic links to hash the target's content)")]
    Symlink(PathBuf),
    /// A socket, pipe, device or broken link.
    #[error("{0}: is neither a regular file nor a folder (special file or broken link)")]
    Special(PathBuf),
    /// A file name that is not UTF-8 cannot be named in a manifest.
    #[error("{0}: file name is not valid UTF-8")]
    NonUtf8(PathBuf),
    /// A file changed size while it was being hashed.
    #[error("{0}: file changed while it was being hashed")]
    Changed(PathBuf),
    /// The shard size is zero.
    #[error("shard size must be at least 1 byte")]
    ZeroShard,
    /// The shard size would cut the model into more pieces than the hasher accepts.
    #[error("shard size {0} cuts the model into more than {MAX_UNITS} shards")]
    TooManyShards(u64),
}

/// One file of the model found by the walk.
#[derive(Debug, Clone)]
pub struct ModelFile {
    /// Name relative to the model (`.` when the model is a single file).
    pub name: String,
    /// Where it is on disk.
    pub path: PathBuf,
    /// Its size at the time of the walk.
    pub size: u64,
}

/// Lists the files of a model that a configuration hashes, in a stable order.
pub fn list_files(model: &Path, config: &HashConfig) -> Result<Vec<ModelFile>, HashError> {
    let meta = std::fs::symlink_metadata(model).map_err(|source| HashError::Io {
        path: model.to_path_buf(),
        source,
    })?;
    let mut out = Vec::new();
    if meta.file_type().is_symlink() && !config.allow_symlinks {
        return Err(HashError::Symlink(model.to_path_buf()));
    }
    let meta = std::fs::metadata(model).map_err(|source| HashError::Io {
        path: model.to_path_buf(),
        source,
    })?;
    if meta.is_file() {
        out.push(ModelFile {
            name: ".".into(),
            path: model.to_path_buf(),
            size: meta.len(),
        });
        return Ok(out);
    }
    if !meta.is_dir() {
        return Err(HashError::Special(model.to_path_buf()));
    }
    let ignored: Vec<Vec<String>> = config
        .all_ignored()
        .iter()
        .map(|p| p.split('/').map(str::to_string).collect())
        .collect();
    walk(
        model,
        &mut Vec::new(),
        &ignored,
        config.allow_symlinks,
        &mut out,
    )?;
    Ok(out)
}

fn walk(
    dir: &Path,
    prefix: &mut Vec<String>,
    ignored: &[Vec<String>],
    allow_symlinks: bool,
    out: &mut Vec<ModelFile>,
) -> Result<(), HashError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| HashError::Io { path, source }
    };
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let name = entry.file_name();
        let name = name
            .to_str()
            .ok_or_else(|| HashError::NonUtf8(entry.path()))?
            .to_string();
        entries.push((name, entry.path()));
    }
    entries.sort();
    for (name, path) in entries {
        prefix.push(name);
        let skip = ignored
            .iter()
            .any(|ig| prefix.len() >= ig.len() && prefix[..ig.len()] == ig[..]);
        if !skip {
            let link = std::fs::symlink_metadata(&path).map_err(io(&path))?;
            let is_link = link.file_type().is_symlink();
            if is_link && !allow_symlinks {
                return Err(HashError::Symlink(path));
            }
            let meta = if is_link {
                std::fs::metadata(&path).map_err(|_| HashError::Special(path.clone()))?
            } else {
                link
            };
            if meta.is_file() {
                out.push(ModelFile {
                    name: prefix.join("/"),
                    path: path.clone(),
                    size: meta.len(),
                });
            } else if meta.is_dir() {
                // Links to folders are not followed, as in the reference tool.
                if !is_link {
                    walk(&path, prefix, ignored, allow_symlinks, out)?;
                }
            } else {
                return Err(HashError::Special(path));
            }
        }
        prefix.pop();
    }
    Ok(())
}

/// The name of a model: the last component of its path (resolved when the path ends in `..`
/// or is `.`), as the reference tool records it in the signature's subject.
pub fn model_name(model: &Path) -> String {
    let named = model
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|n| *n != "..");
    match named {
        Some(n) => n.to_string(),
        None => std::fs::canonicalize(model)
            .ok()
            .and_then(|p| p.file_name().and_then(|n| n.to_str()).map(str::to_string))
            .unwrap_or_default(),
    }
}

/// A unit of hashing work: one file or one shard of a file.
struct Unit<'a> {
    file: &'a ModelFile,
    start: u64,
    end: Option<u64>,
}

/// Hashes a model. `progress` is called with the number of bytes hashed as work proceeds
/// (from several threads). Work runs on the current rayon pool.
pub fn hash_model(
    model: &Path,
    config: &HashConfig,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Manifest, HashError> {
    let files = list_files(model, config)?;
    hash_files(&model_name(model), &files, config, progress)
}

/// Hashes a list of files already found (see [`list_files`]).
pub fn hash_files(
    model_name: &str,
    files: &[ModelFile],
    config: &HashConfig,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Manifest, HashError> {
    let method = config.effective_method();
    let mut units = Vec::new();
    for file in files {
        match method {
            Method::Files => units.push(Unit {
                file,
                start: 0,
                end: None,
            }),
            Method::Shards(0) => return Err(HashError::ZeroShard),
            Method::Shards(size) => {
                if units.len() as u64 + file.size.div_ceil(size) > MAX_UNITS as u64 {
                    return Err(HashError::TooManyShards(size));
                }
                let mut start = 0;
                while start < file.size {
                    let end = start.saturating_add(size).min(file.size);
                    units.push(Unit {
                        file,
                        start,
                        end: Some(end),
                    });
                    start = end;
                }
            }
        }
    }
    // Largest first keeps all threads busy until the end.
    units.sort_by_key(|u| std::cmp::Reverse(u.end.unwrap_or(u.file.size) - u.start));
    let algorithm = config.algorithm;
    let digest_name = match method {
        Method::Shards(size) => format!("{}-sharded-{size}", algorithm.name()),
        Method::Files => algorithm.name().to_string(),
    };
    // One task per unit: rayon's default splitting would leave large files queued behind
    // each other on one thread.
    let resources = units
        .par_iter()
        .with_max_len(1)
        .map(|u| {
            let value = hash_unit(u, algorithm, config.no_mmap, progress)?;
            let name = match u.end {
                Some(end) => ResourceName::shard(&u.file.name, u.start, end),
                None => ResourceName::file(&u.file.name),
            };
            Ok(Resource {
                name,
                digest: Digest {
                    algorithm: digest_name.clone(),
                    value,
                },
            })
        })
        .collect::<Result<Vec<_>, HashError>>()?;
    Ok(Manifest::new(
        model_name.to_string(),
        resources,
        config.serialization(),
    ))
}

fn hash_unit(
    u: &Unit<'_>,
    algorithm: HashAlgorithm,
    no_mmap: bool,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Vec<u8>, HashError> {
    let path = &u.file.path;
    let io = |source| HashError::Io {
        path: path.clone(),
        source,
    };
    // BLAKE3 gets larger pieces so that one file spreads over all threads.
    let chunk = if algorithm == HashAlgorithm::Blake3 {
        8 * CHUNK
    } else {
        CHUNK
    };
    if !no_mmap && u.end.unwrap_or(u.file.size) - u.start >= MMAP_MIN {
        let file = File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        let end = match u.end {
            Some(end) if end > len => return Err(HashError::Changed(path.clone())),
            Some(end) => end,
            None => len,
        };
        if let Some(map) = aigov_mmap::map_range(&file, u.start, end).map_err(io)? {
            let mut hasher = algorithm.hasher();
            for piece in map.chunks(chunk) {
                hasher.update(piece);
                progress(piece.len() as u64);
            }
            return Ok(hasher.finish());
        }
    }
    let mut file = File::open(path).map_err(io)?;
    let mut hasher = algorithm.hasher();
    let mut buf = vec![0u8; chunk];
    match u.end {
        None => loop {
            let n = file.read(&mut buf).map_err(io)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            progress(n as u64);
        },
        Some(end) => {
            let mut pos = u.start;
            while pos < end {
                let want = usize::try_from(end - pos).unwrap_or(usize::MAX).min(chunk);
                let n = file.read_at(&mut buf[..want], pos).map_err(io)?;
                if n == 0 {
                    return Err(HashError::Changed(path.clone()));
                }
                hasher.update(&buf[..n]);
                pos += n as u64;
                progress(n as u64);
            }
        }
    }
    Ok(hasher.finish())
}
