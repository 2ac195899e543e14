//! The manifest of a model: its resources (files or shards) with their digests, and the
//! serialisation that produced them.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value, json};
use sha2::Digest as _;

use super::hashing::Method;

/// A digest and the name of the algorithm that made it (`sha256`, `sha256-sharded-1000`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    /// Algorithm name as recorded in the signature.
    pub algorithm: String,
    /// Raw digest bytes.
    pub value: Vec<u8>,
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm, hex::encode(&self.value))
    }
}

/// A resource name with the ordering of the reference tool: by path components, then (for
/// shards) by start and end offsets as numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceName {
    text: String,
    path_len: usize,
    start: u64,
    end: u64,
}

impl ResourceName {
    /// A whole file.
    pub fn file(path: &str) -> ResourceName {
        ResourceName {
            text: path.to_string(),
            path_len: path.len(),
            start: 0,
            end: 0,
        }
    }

    /// A shard `[start, end)` of a file.
    pub fn shard(path: &str, start: u64, end: u64) -> ResourceName {
        ResourceName {
            text: format!("{path}:{start}:{end}"),
            path_len: path.len(),
            start,
            end,
        }
    }

    /// A file path as written in a signature, normalised as Python's `PurePosixPath` does
    /// (`./a//b/` is `a/b`; `..` is kept).
    pub fn parse_file(path: &str) -> ResourceName {
        ResourceName::file(&normalise(path))
    }

    /// Parses a shard name `<path>:<start>:<end>` (the path normalised as in
    /// [`ResourceName::parse_file`]).
    pub fn parse_shard(name: &str) -> Option<ResourceName> {
        let mut it = name.rsplitn(3, ':');
        let end = it.next()?.parse().ok()?;
        let start = it.next()?.parse().ok()?;
        let path = it.next()?;
        if path.contains(':') || start > end {
            return None;
        }
        Some(ResourceName::shard(&normalise(path), start, end))
    }

    /// The name as written in the manifest.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The file path part of the name.
    pub fn path(&self) -> &str {
        &self.text[..self.path_len]
    }

    fn components(&self) -> impl Iterator<Item = &str> {
        self.path()
            .split('/')
            .filter(|c| !c.is_empty() && *c != ".")
    }
}

/// `PurePosixPath` normalisation: empty and `.` components dropped, a leading `/` kept.
fn normalise(path: &str) -> String {
    let parts: Vec<&str> = path
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    let body = parts.join("/");
    match (path.starts_with('/'), body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".to_string(),
        (false, false) => body,
    }
}

impl Ord for ResourceName {
    fn cmp(&self, other: &Self) -> Ordering {
        self.components()
            .cmp(other.components())
            .then(self.start.cmp(&other.start))
            .then(self.end.cmp(&other.end))
            .then_with(|| self.text.cmp(&other.text))
    }
}

impl PartialOrd for ResourceName {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// One resource of a model and its digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// File path or shard name.
    pub name: ResourceName,
    /// Its digest.
    pub digest: Digest,
}

/// The `serialization` section of a signature: how to recompute the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Serialization {
    /// Files or shards.
    pub method: Method,
    /// Content hash name (`sha256`, `blake2b`, `blake3`).
    pub hash_type: String,
    /// Whether symbolic links were allowed.
    pub allow_symlinks: bool,
    /// Paths left out, relative to the model.
    pub ignore_paths: Vec<String>,
}

impl Serialization {
    /// The JSON object written in a signature.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        let method = match self.method {
            Method::Files => "files",
            Method::Shards(size) => {
                m.insert("shard_size".into(), json!(size));
                "shards"
            }
        };
        m.insert("method".into(), json!(method));
        m.insert("hash_type".into(), json!(self.hash_type));
        m.insert("allow_symlinks".into(), json!(self.allow_symlinks));
        if !self.ignore_paths.is_empty() {
            m.insert("ignore_paths".into(), json!(self.ignore_paths));
        }
        Value::Object(m)
    }

    /// Reads the JSON object of a signature (lenient about `shard_size` written as a float by
    /// protobuf-based writers, and about absent `ignore_paths`).
    pub fn from_json(v: &Value) -> Result<Serialization, String> {
        let field = |k: &str| {
            v.get(k)
                .ok_or_else(|| format!("serialization.{k} is missing"))
        };
        let method = match field("method")?.as_str() {
            Some("files") => Method::Files,
            Some("shards") => {
                let size = field("shard_size")?;
                let size = size
                    .as_u64()
                    .or_else(|| {
                        size.as_f64()
                            .filter(|f| f.fract() == 0.0 && *f >= 1.0 && *f < 9.0e15)
                            .map(|f| f as u64)
                    })
                    .filter(|s| *s > 0)
                    .ok_or("serialization.shard_size is not a positive whole number")?;
                Method::Shards(size)
            }
            Some(other) => return Err(format!("serialization.method `{other}` is not known")),
            None => return Err("serialization.method is not a string".into()),
        };
        let hash_type = field("hash_type")?
            .as_str()
            .ok_or("serialization.hash_type is not a string")?
            .to_string();
        let allow_symlinks = match field("allow_symlinks")? {
            Value::Bool(b) => *b,
            Value::String(s) if s == "false" => false,
            Value::String(s) if s == "true" => true,
            _ => return Err("serialization.allow_symlinks is not a boolean".into()),
        };
        let ignore_paths = match v.get("ignore_paths") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => a
                .iter()
                .map(|p| {
                    p.as_str()
                        .map(str::to_string)
                        .ok_or("serialization.ignore_paths holds a non-string")
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err("serialization.ignore_paths is not a list".into()),
        };
        Ok(Serialization {
            method,
            hash_type,
            allow_symlinks,
            ignore_paths,
        })
    }
}

/// A model's manifest: its name (informative only), resources in canonical order, and the
/// serialisation that produced them.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The model's name (last component of its path). Renaming a model does not change its
    /// manifest's identity.
    pub model_name: String,
    /// Resources, sorted as the reference tool sorts them.
    pub resources: Vec<Resource>,
    /// How the resources were computed.
    pub serialization: Serialization,
}

impl Manifest {
    /// Builds a manifest, sorting the resources canonically.
    pub fn new(
        model_name: String,
        mut resources: Vec<Resource>,
        serialization: Serialization,
    ) -> Manifest {
        resources.sort_by(|a, b| a.name.cmp(&b.name));
        Manifest {
            model_name,
            resources,
            serialization,
        }
    }

    /// The root digest: SHA-256 over the raw resource digests in manifest order.
    pub fn root_digest(&self) -> [u8; 32] {
        root_digest(self.resources.iter().map(|r| r.digest.value.as_slice()))
    }

    /// Resources by name.
    pub fn by_name(&self) -> BTreeMap<&str, &Digest> {
        self.resources
            .iter()
            .map(|r| (r.name.as_str(), &r.digest))
            .collect()
    }

    /// What differs between a model as found on disk (`self`) and as signed (`signed`);
    /// empty when they match (the model name does not count).
    pub fn diff(&self, signed: &Manifest) -> Vec<Difference> {
        let actual = self.by_name();
        let expected = signed.by_name();
        let mut out = Vec::new();
        for (name, digest) in &actual {
            match expected.get(name) {
                None => out.push(Difference::Extra((*name).to_string())),
                Some(e) if e != digest => out.push(Difference::Changed {
                    name: (*name).to_string(),
                    expected: (*e).clone(),
                    actual: (*digest).clone(),
                }),
                Some(_) => {}
            }
        }
        for name in expected.keys() {
            if !actual.contains_key(name) {
                out.push(Difference::Missing((*name).to_string()));
            }
        }
        out
    }
}

/// SHA-256 over digests in the given order.
pub fn root_digest<'a>(digests: impl Iterator<Item = &'a [u8]>) -> [u8; 32] {
    let mut h = sha2::Sha256::new();
    for d in digests {
        h.update(d);
    }
    h.finalize().into()
}

/// One difference between a model and its signed manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Difference {
    /// A file (or shard) on disk that the signature does not cover.
    Extra(String),
    /// A signed file (or shard) that is not on disk.
    Missing(String),
    /// A file whose content changed.
    Changed {
        /// The resource name.
        name: String,
        /// Digest in the signature.
        expected: Digest,
        /// Digest on disk.
        actual: Digest,
    },
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Difference::Extra(n) => write!(f, "{n}: file is not covered by the signature"),
            Difference::Missing(n) => write!(f, "{n}: signed file is missing"),
            Difference::Changed {
                name,
                expected,
                actual,
            } => write!(
                f,
                "{name}: content changed (signed {expected}, found {actual})"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ResourceName;

    #[test]
    fn names_are_normalised_as_python_does() {
        assert_eq!(ResourceName::parse_file("./a//b/").as_str(), "a/b");
        assert_eq!(ResourceName::parse_file(".").as_str(), ".");
        assert_eq!(ResourceName::parse_file("a/../b").as_str(), "a/../b");
        assert_eq!(ResourceName::parse_file("/x").as_str(), "/x");
        let s = ResourceName::parse_shard("./w//x.bin:0:10");
        assert_eq!(
            s.map(|n| n.as_str().to_string()).as_deref(),
            Some("w/x.bin:0:10")
        );
    }
}
