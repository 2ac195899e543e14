//! C2SP signed notes (`c2sp.org/signed-note`) with Ed25519 keys.
//!
//! A note is UTF-8 text ending in a newline, then a blank line, then one signature line per
//! signer: `— <name> <base64(key_id[4] ‖ signature)>`. The key id is the first four bytes of
//! SHA-256(`name` ‖ `\n` ‖ `0x01` ‖ public key); the signature covers the text exactly.
//!
//! Key encodings (as in Go's `golang.org/x/mod/sumdb/note`):
//! verifier `<name>+<hex key id>+<base64(0x01 ‖ public key)>`, signer
//! `PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 ‖ seed)>`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

const ED25519: u8 = 0x01;
const DASH: &str = "\u{2014} ";

fn bad(msg: impl Into<String>) -> Error {
    Error::Note(msg.into())
}

fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || name.contains(char::is_whitespace) || name.contains('+') {
        return Err(bad(format!(
            "key name '{name}' must be non-empty, without spaces or '+'"
        )));
    }
    Ok(())
}

fn key_id(name: &str, public: &[u8; 32]) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([ED25519]);
    h.update(public);
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

/// A key that verifies notes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verifier {
    name: String,
    id: [u8; 4],
    key: VerifyingKey,
}

impl Verifier {
    /// Parses `<name>+<hex key id>+<base64(0x01 ‖ public key)>`.
    pub fn parse(text: &str) -> Result<Verifier> {
        let text = text.trim();
        let mut parts = text.splitn(3, '+');
        let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("a verifier key reads <name>+<key id>+<key>"));
        };
        check_name(name)?;
        let raw = B64
            .decode(key)
            .map_err(|e| bad(format!("verifier key of '{name}' is not base64: {e}")))?;
        let (Some(&ED25519), Ok(public)) = (
            raw.first(),
            <[u8; 32]>::try_from(raw.get(1..).unwrap_or_default()),
        ) else {
            return Err(bad(format!(
                "verifier key of '{name}' is not an Ed25519 key"
            )));
        };
        let key = VerifyingKey::from_bytes(&public)
            .map_err(|e| bad(format!("verifier key of '{name}' is invalid: {e}")))?;
        let want = key_id(name, &public);
        if id.len() != 8 || hex::decode(id).ok().as_deref() != Some(&want[..]) {
            return Err(bad(format!(
                "verifier key of '{name}' has key id '{id}', its key gives '{}'",
                hex::encode(want)
            )));
        }
        Ok(Verifier {
            name: name.to_string(),
            id: want,
            key,
        })
    }

    /// The key's name (the log's origin, for a log key).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The encoded verifier key.
    pub fn encode(&self) -> String {
        let mut raw = vec![ED25519];
        raw.extend_from_slice(self.key.as_bytes());
        format!("{}+{}+{}", self.name, hex::encode(self.id), B64.encode(raw))
    }
}

/// A key that signs notes.
pub struct NoteSigner {
    name: String,
    id: [u8; 4],
    key: SigningKey,
}

impl std::fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the private key.
        write!(f, "NoteSigner({}+{})", self.name, hex::encode(self.id))
    }
}

impl NoteSigner {
    /// A signer from a 32-byte Ed25519 seed.
    pub fn from_seed(name: &str, seed: &[u8; 32]) -> Result<NoteSigner> {
        check_name(name)?;
        let key = SigningKey::from_bytes(seed);
        let id = key_id(name, key.verifying_key().as_bytes());
        Ok(NoteSigner {
            name: name.to_string(),
            id,
            key,
        })
    }

    /// Parses `PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 ‖ seed)>`.
    pub fn parse(text: &str) -> Result<NoteSigner> {
        let rest = text
            .trim()
            .strip_prefix("PRIVATE+KEY+")
            .ok_or_else(|| bad("a signer key starts with PRIVATE+KEY+"))?;
        let mut parts = rest.splitn(3, '+');
        let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("a signer key reads PRIVATE+KEY+<name>+<key id>+<key>"));
        };
        let raw = B64
            .decode(key)
            .map_err(|_| bad(format!("signer key of '{name}' is not base64")))?;
        let (Some(&ED25519), Ok(seed)) = (
            raw.first(),
            <[u8; 32]>::try_from(raw.get(1..).unwrap_or_default()),
        ) else {
            return Err(bad(format!("signer key of '{name}' is not an Ed25519 key")));
        };
        let signer = NoteSigner::from_seed(name, &seed)?;
        if hex::encode(signer.id) != id {
            return Err(bad(format!(
                "signer key of '{name}' has a key id that does not match its key"
            )));
        }
        Ok(signer)
    }

    /// The encoded signer key (secret: store it with restricted permissions).
    pub fn encode(&self) -> String {
        let mut raw = vec![ED25519];
        raw.extend_from_slice(self.key.as_bytes());
        format!(
            "PRIVATE+KEY+{}+{}+{}",
            self.name,
            hex::encode(self.id),
            B64.encode(raw)
        )
    }

    /// The matching verifier.
    pub fn verifier(&self) -> Verifier {
        Verifier {
            name: self.name.clone(),
            id: self.id,
            key: self.key.verifying_key(),
        }
    }

    /// Signs `text` (which must end in a newline and hold no blank line) into a note.
    pub fn sign(&self, text: &str) -> Result<String> {
        check_text(text)?;
        let sig = self.key.sign(text.as_bytes());
        let mut blob = self.id.to_vec();
        blob.extend_from_slice(&sig.to_bytes());
        Ok(format!(
            "{text}\n{DASH}{} {}\n",
            self.name,
            B64.encode(blob)
        ))
    }
}

fn check_text(text: &str) -> Result<()> {
    if !text.ends_with('\n') {
        return Err(bad("note text must end with a newline"));
    }
    if text.contains("\n\n") || text.starts_with('\n') {
        return Err(bad("note text must not contain a blank line"));
    }
    if let Some(c) = text.chars().find(|c| c.is_control() && *c != '\n') {
        return Err(bad(format!(
            "note text contains the control character U+{:04X}",
            c as u32
        )));
    }
    Ok(())
}

/// A signature line of a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    /// Signer name.
    pub name: String,
    /// Key id.
    pub id: [u8; 4],
    /// The signature bytes (after the key id).
    pub signature: Vec<u8>,
}

/// A parsed (not yet verified) note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The signed text, ending with a newline.
    pub text: String,
    /// Its signatures.
    pub signatures: Vec<NoteSignature>,
}

impl Note {
    /// Parses a note. Every malformed part is an error naming the line.
    pub fn parse(input: &str) -> Result<Note> {
        let split = input
            .rfind("\n\n")
            .ok_or_else(|| bad("a note needs a blank line between its text and its signatures"))?;
        let text = &input[..=split];
        check_text(text)?;
        let sigs = &input[split + 2..];
        if !sigs.ends_with('\n') {
            return Err(bad("the signature block must end with a newline"));
        }
        let mut signatures = Vec::new();
        for (i, line) in sigs.lines().enumerate() {
            let where_ = format!("signature line {}", i + 1);
            let rest = line
                .strip_prefix(DASH)
                .ok_or_else(|| bad(format!("{where_} does not start with '— '")))?;
            let (name, blob) = rest
                .split_once(' ')
                .ok_or_else(|| bad(format!("{where_} needs a name and a signature")))?;
            check_name(name)?;
            let blob = B64
                .decode(blob)
                .map_err(|_| bad(format!("{where_}: signature is not base64")))?;
            if blob.len() < 5 {
                return Err(bad(format!("{where_}: signature is too short")));
            }
            signatures.push(NoteSignature {
                name: name.to_string(),
                id: [blob[0], blob[1], blob[2], blob[3]],
                signature: blob[4..].to_vec(),
            });
        }
        if signatures.is_empty() {
            return Err(bad("the note has no signature"));
        }
        Ok(Note {
            text: text.to_string(),
            signatures,
        })
    }

    /// Verifies the note with `verifier`: a signature with its name and key id must exist and
    /// be valid. Signatures of other keys are ignored (they may be witnesses).
    pub fn verify(&self, verifier: &Verifier) -> Result<()> {
        let sig = self
            .signatures
            .iter()
            .find(|s| s.name == verifier.name && s.id == verifier.id)
            .ok_or_else(|| {
                bad(format!(
                    "the note has no signature by {} (key id {}); signed by: {}",
                    verifier.name,
                    hex::encode(verifier.id),
                    self.signatures
                        .iter()
                        .map(|s| format!("{} ({})", s.name, hex::encode(s.id)))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
        let bytes = <[u8; 64]>::try_from(sig.signature.as_slice()).map_err(|_| {
            bad(format!(
                "the signature by {} is not 64 bytes",
                verifier.name
            ))
        })?;
        verifier
            .key
            .verify_strict(self.text.as_bytes(), &ed25519_dalek::Signature::from_bytes(&bytes))
            .map_err(|_| bad(format!("the signature by {} does not verify: the note was altered or signed by another key", verifier.name)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_parse_verify_round_trip() {
        let s = NoteSigner::from_seed("registry.example/log", &[7; 32]).unwrap();
        let v = Verifier::parse(&s.verifier().encode()).unwrap();
        assert_eq!(v, s.verifier());
        assert_eq!(NoteSigner::parse(&s.encode()).unwrap().encode(), s.encode());
        let note = s.sign("registry.example/log\n3\nAAAA\n").unwrap();
        let parsed = Note::parse(&note).unwrap();
        parsed.verify(&v).unwrap();

        // Altered text, another key, and a garbled line all fail with a reason.
        let altered = note.replacen("\n3\n", "\n4\n", 1);
        let e = Note::parse(&altered).unwrap().verify(&v).unwrap_err();
        assert!(e.to_string().contains("does not verify"), "{e}");
        let other = NoteSigner::from_seed("registry.example/log", &[8; 32]).unwrap();
        let e = Note::parse(&other.sign("registry.example/log\n3\nAAAA\n").unwrap())
            .unwrap()
            .verify(&v)
            .unwrap_err();
        assert!(e.to_string().contains("no signature by"), "{e}");
        assert!(Note::parse("text\n\n- x y\n").is_err());
        assert!(s.sign("no newline").is_err());
        assert!(s.sign("a\n\nb\n").is_err());
    }

    /// The verifier key from the signed-note specification's example must parse.
    #[test]
    fn parses_the_go_example_key() {
        let v =
            Verifier::parse("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
                .unwrap();
        assert_eq!(v.name(), "PeterNeumann");
        let note = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n\n\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
        Note::parse(note).unwrap().verify(&v).unwrap();
    }
}
