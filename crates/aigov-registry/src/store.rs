//! The storage interface. The registry holds no SQL: a backend (crate `aigov-store`) implements
//! these traits. Every change runs inside one write transaction that is committed whole or not
//! at all.

use std::future::Future;

use aigov_tlog::Hash;
use aigov_tlog::tree::NewNode;
use uuid::Uuid;

use crate::error::Result;
use crate::filing::FilingNumber;
use crate::model::{
    AuditEvent, Certificate, Evidence, Organisation, PublicQuery, PublicSystem, Revision, System,
    SystemFilter, Token,
};

/// A storage backend.
pub trait Store: Send + Sync + 'static {
    /// A transaction.
    type Tx: Tx;

    /// Starts a read-only transaction (a consistent snapshot).
    fn read(&self) -> impl Future<Output = Result<Self::Tx>> + Send;

    /// Starts a write transaction. Write transactions are serialised.
    fn write(&self) -> impl Future<Output = Result<Self::Tx>> + Send;

    /// Stores a document under its SHA-256 (lower-case hex), atomically: a reader sees the
    /// whole document or nothing. Storing the same bytes twice is a no-op.
    fn put_blob(&self, sha256: &str, bytes: &[u8]) -> impl Future<Output = Result<()>> + Send;

    /// The document stored under `sha256`, if any.
    fn get_blob(&self, sha256: &str) -> impl Future<Output = Result<Option<Vec<u8>>>> + Send;
}

/// Operations inside a transaction. Dropping a transaction without `commit` rolls it back.
pub trait Tx: Send {
    /// Commits the transaction.
    fn commit(self) -> impl Future<Output = Result<()>> + Send;

    /// An organisation by id.
    fn organisation(
        &mut self,
        id: Uuid,
    ) -> impl Future<Output = Result<Option<Organisation>>> + Send;
    /// All organisations, by name.
    fn organisations(&mut self) -> impl Future<Output = Result<Vec<Organisation>>> + Send;
    /// Inserts an organisation.
    fn insert_organisation(
        &mut self,
        org: &Organisation,
    ) -> impl Future<Output = Result<()>> + Send;

    /// A system by id.
    fn system(&mut self, id: Uuid) -> impl Future<Output = Result<Option<System>>> + Send;
    /// Systems matching a filter, newest first.
    fn systems(
        &mut self,
        filter: &SystemFilter,
    ) -> impl Future<Output = Result<Vec<System>>> + Send;
    /// Public views of registered systems matching a public query, newest registration first.
    fn public_systems(
        &mut self,
        query: &PublicQuery,
    ) -> impl Future<Output = Result<Vec<PublicSystem>>> + Send;
    /// The public view of one registered system.
    fn public_system(
        &mut self,
        number: &FilingNumber,
    ) -> impl Future<Output = Result<Option<PublicSystem>>> + Send;
    /// Replaces the public view of a system (none while it has never been registered).
    fn set_public_view(
        &mut self,
        system: Uuid,
        view: Option<&PublicSystem>,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Inserts a new system.
    fn insert_system(&mut self, system: &System) -> impl Future<Output = Result<()>> + Send;
    /// Replaces a system.
    fn update_system(&mut self, system: &System) -> impl Future<Output = Result<()>> + Send;
    /// Allocates the next filing sequence number of `year` (never returns the same twice).
    fn next_filing_sequence(&mut self, year: i32) -> impl Future<Output = Result<u32>> + Send;

    /// Appends a revision.
    fn insert_revision(&mut self, revision: &Revision) -> impl Future<Output = Result<()>> + Send;
    /// Revisions of a system, oldest first.
    fn revisions(&mut self, system: Uuid) -> impl Future<Output = Result<Vec<Revision>>> + Send;

    /// Attaches evidence.
    fn insert_evidence(&mut self, evidence: &Evidence) -> impl Future<Output = Result<()>> + Send;
    /// Evidence of a system.
    fn evidence(&mut self, system: Uuid) -> impl Future<Output = Result<Vec<Evidence>>> + Send;

    /// The last audit event.
    fn last_audit_event(&mut self) -> impl Future<Output = Result<Option<AuditEvent>>> + Send;
    /// Appends an audit event (its sequence number must follow the last one).
    fn append_audit_event(&mut self, event: &AuditEvent)
    -> impl Future<Output = Result<()>> + Send;
    /// Audit events with `seq > after`, at most `limit`, in order.
    fn audit_events(
        &mut self,
        after: u64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<AuditEvent>>> + Send;

    /// Number of entries sequenced into the transparency log.
    fn log_size(&mut self) -> impl Future<Output = Result<u64>> + Send;
    /// Stored node hashes of the log tree, by (height, index); missing ones are left out.
    fn log_nodes(
        &mut self,
        ids: &[(u32, u64)],
    ) -> impl Future<Output = Result<Vec<((u32, u64), Hash)>>> + Send;
    /// Sequences entries from index `start` (which must be the log size): durable, not yet
    /// in the tree.
    fn log_sequence(
        &mut self,
        start: u64,
        entries: &[&[u8]],
    ) -> impl Future<Output = Result<()>> + Send;
    /// Stores node hashes completed by integrating entries into the tree.
    fn log_put_nodes(&mut self, nodes: &[NewNode]) -> impl Future<Output = Result<()>> + Send;
    /// Log entries `[start, end)`.
    fn log_entries(
        &mut self,
        start: u64,
        end: u64,
    ) -> impl Future<Output = Result<Vec<Vec<u8>>>> + Send;
    /// Stores the signed checkpoint of a log size.
    fn put_checkpoint(&mut self, size: u64, note: &str) -> impl Future<Output = Result<()>> + Send;
    /// The latest signed checkpoint (size, note).
    fn latest_checkpoint(&mut self) -> impl Future<Output = Result<Option<(u64, String)>>> + Send;

    /// Inserts a certificate.
    fn insert_certificate(&mut self, cert: &Certificate)
    -> impl Future<Output = Result<()>> + Send;
    /// A certificate by serial.
    fn certificate(
        &mut self,
        serial: &str,
    ) -> impl Future<Output = Result<Option<Certificate>>> + Send;
    /// Certificates of a system, oldest first.
    fn certificates_of(
        &mut self,
        system: Uuid,
    ) -> impl Future<Output = Result<Vec<Certificate>>> + Send;
    /// Every revoked certificate.
    fn revoked_certificates(&mut self) -> impl Future<Output = Result<Vec<Certificate>>> + Send;
    /// Replaces a certificate record (revocation).
    fn update_certificate(&mut self, cert: &Certificate)
    -> impl Future<Output = Result<()>> + Send;

    /// Inserts a token with the SHA-256 hash of its secret.
    fn insert_token(
        &mut self,
        token: &Token,
        secret_hash: &str,
    ) -> impl Future<Output = Result<()>> + Send;
    /// The token whose secret hashes to `secret_hash`.
    fn token_by_hash(
        &mut self,
        secret_hash: &str,
    ) -> impl Future<Output = Result<Option<Token>>> + Send;
    /// A token by id.
    fn token(&mut self, id: Uuid) -> impl Future<Output = Result<Option<Token>>> + Send;
    /// All tokens.
    fn tokens(&mut self) -> impl Future<Output = Result<Vec<Token>>> + Send;
    /// Replaces a token record (revocation).
    fn update_token(&mut self, token: &Token) -> impl Future<Output = Result<()>> + Send;
}
