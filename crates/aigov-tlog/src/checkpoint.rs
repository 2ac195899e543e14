//! C2SP checkpoints (`c2sp.org/tlog-checkpoint`): the signed statement of a log's size and root.
//!
//! ```text
//! <origin>
//! <tree size, decimal>
//! <root hash, base64>
//! [extension lines]
//! ```

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

use crate::error::{Error, Result};
use crate::hash::Hash;
use crate::note::{Note, NoteSigner, Verifier};

/// A checkpoint body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin (unique name, e.g. `registry.example.org/aigov`).
    pub origin: String,
    /// Number of entries.
    pub size: u64,
    /// Root hash of those entries.
    pub root: Hash,
    /// Extension lines (opaque, non-empty).
    pub extensions: Vec<String>,
}

fn bad(msg: impl Into<String>) -> Error {
    Error::Checkpoint(msg.into())
}

impl Checkpoint {
    /// The note text of the checkpoint.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root.0)
        );
        for e in &self.extensions {
            s.push_str(e);
            s.push('\n');
        }
        s
    }

    /// Parses a checkpoint body (the text of a note).
    pub fn parse_text(text: &str) -> Result<Checkpoint> {
        let body = text
            .strip_suffix('\n')
            .ok_or_else(|| bad("the checkpoint must end with a newline"))?;
        let mut lines = body.split('\n');
        let origin = lines
            .next()
            .filter(|o| !o.is_empty())
            .ok_or_else(|| bad("line 1: the origin is empty"))?;
        let size = lines
            .next()
            .ok_or_else(|| bad("line 2: the tree size is missing"))?;
        if size.is_empty()
            || !size.bytes().all(|b| b.is_ascii_digit())
            || (size.len() > 1 && size.starts_with('0'))
        {
            return Err(bad(format!(
                "line 2: '{size}' is not a tree size (decimal, no leading zeros)"
            )));
        }
        let size: u64 = size
            .parse()
            .map_err(|_| bad(format!("line 2: tree size '{size}' is too large")))?;
        let root = lines
            .next()
            .ok_or_else(|| bad("line 3: the root hash is missing"))?;
        let raw = B64
            .decode(root)
            .map_err(|_| bad(format!("line 3: root hash '{root}' is not base64")))?;
        let root = Hash::from_slice(&raw, "line 3: root hash")?;
        let mut extensions = Vec::new();
        for (i, l) in lines.enumerate() {
            if l.is_empty() {
                return Err(bad(format!(
                    "line {}: extension lines must not be empty",
                    i + 4
                )));
            }
            extensions.push(l.to_string());
        }
        Ok(Checkpoint {
            origin: origin.to_string(),
            size,
            root,
            extensions,
        })
    }

    /// Signs the checkpoint into a note with the log key. The key's name must be the origin.
    pub fn sign(&self, signer: &NoteSigner) -> Result<String> {
        if signer.verifier().name() != self.origin {
            return Err(bad(format!(
                "the log key is named '{}' but the origin is '{}'",
                signer.verifier().name(),
                self.origin
            )));
        }
        signer.sign(&self.to_text())
    }

    /// Parses a signed checkpoint and verifies the log's signature on it.
    pub fn open(signed: &str, log_key: &Verifier) -> Result<Checkpoint> {
        let note = Note::parse(signed)?;
        note.verify(log_key)?;
        let cp = Checkpoint::parse_text(&note.text)?;
        if cp.origin != log_key.name() {
            return Err(bad(format!(
                "the checkpoint is for origin '{}', the key is for '{}'",
                cp.origin,
                log_key.name()
            )));
        }
        Ok(cp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_errors() {
        let key = NoteSigner::from_seed("example.org/log", &[1; 32]).unwrap();
        let cp = Checkpoint {
            origin: "example.org/log".into(),
            size: 42,
            root: crate::hash::leaf_hash(b"x"),
            extensions: vec!["ext line".into()],
        };
        let signed = cp.sign(&key).unwrap();
        assert_eq!(Checkpoint::open(&signed, &key.verifier()).unwrap(), cp);
        for (text, want) in [
            ("o\n042\nAAAA\n", "leading zeros"),
            ("o\n1\nnot base64!\n", "not base64"),
            ("o\n1\nAAAA\n", "32"),
            ("\n1\nAAAA\n", "origin is empty"),
            ("o\n1\n", "root hash is missing"),
        ] {
            let e = Checkpoint::parse_text(text).unwrap_err().to_string();
            assert!(e.contains(want), "{text:?}: {e}");
        }
        let other = NoteSigner::from_seed("other.org/log", &[1; 32]).unwrap();
        assert!(cp.sign(&other).is_err());
    }
}
