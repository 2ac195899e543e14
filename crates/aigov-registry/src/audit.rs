//! The hash chain of the audit log.
//!
//! `hash = SHA-256(prev_hash_hex ‖ "\n" ‖ canonical JSON of {seq, at, actor, action, subject,
//! before, after})`, with the JSON written by `serde_json` in the field order shown (objects
//! inside `before`/`after` keep their key order as stored).

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::model::{AuditEvent, AuditVerification};

/// The `prev_hash` of the first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Serialize)]
struct Content<'a> {
    seq: u64,
    at: &'a chrono::DateTime<chrono::Utc>,
    actor: &'a str,
    action: &'a str,
    subject: &'a str,
    before: &'a serde_json::Value,
    after: &'a serde_json::Value,
}

/// Computes the hash an event must carry.
pub fn event_hash(e: &AuditEvent) -> String {
    let content = Content {
        seq: e.seq,
        at: &e.at,
        actor: &e.actor,
        action: &e.action,
        subject: &e.subject,
        before: &e.before,
        after: &e.after,
    };
    let mut h = Sha256::new();
    h.update(e.prev_hash.as_bytes());
    h.update(b"\n");
    // Serialising plain data into a Vec cannot fail.
    h.update(serde_json::to_vec(&content).unwrap_or_default());
    hex::encode(h.finalize())
}

/// Checks a run of events that continues a chain whose last hash was `prev` (or `GENESIS`) and
/// whose last sequence number was `prev_seq`. Reports every problem, not only the first.
pub fn verify(events: &[AuditEvent], prev: &str, prev_seq: u64) -> AuditVerification {
    let mut problems = Vec::new();
    let mut expected_prev = prev.to_string();
    let mut expected_seq = prev_seq + 1;
    for e in events {
        if e.seq != expected_seq {
            problems.push(format!(
                "event {}: expected sequence number {expected_seq}",
                e.seq
            ));
        }
        if e.prev_hash != expected_prev {
            problems.push(format!(
                "event {}: prev_hash does not match the hash of event {}",
                e.seq,
                e.seq.saturating_sub(1)
            ));
        }
        let h = event_hash(e);
        if h != e.hash {
            problems.push(format!(
                "event {}: content does not match its hash (altered after it was written)",
                e.seq
            ));
        }
        expected_prev = e.hash.clone();
        expected_seq = e.seq + 1;
    }
    AuditVerification {
        events: events.len() as u64,
        ok: problems.is_empty(),
        problems,
        head: events.last().map(|e| e.hash.clone()),
    }
}

/// The bytes of the transparency-log entry of an event: its JSON, as stored.
pub fn entry_bytes(e: &AuditEvent) -> Vec<u8> {
    serde_json::to_vec(e).unwrap_or_default()
}
