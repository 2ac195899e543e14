//! The SQLite backend.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use aigov_registry::model::*;
use aigov_registry::store::{Store, Tx};
use aigov_registry::{Error, FilingNumber, Result};
use aigov_tlog::Hash;
use aigov_tlog::tree::NewNode;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, Row, Sqlite, SqlitePool, Transaction};
use uuid::Uuid;

use crate::{migrate, store_err};

/// The embedded SQLite store.
#[derive(Clone)]
pub struct SqliteStore {
    read: SqlitePool,
    write: SqlitePool,
    blobs: PathBuf,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file `path` and brings its schema up to date.
    pub async fn open(path: &Path) -> Result<SqliteStore> {
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts.clone())
            .await
            .map_err(|e| Error::Store(format!("cannot open {}: {e}", path.display())))?;
        {
            let mut conn = write.acquire().await.map_err(store_err)?;
            migrate::run(&mut conn, migrate::SQLITE).await?;
        }
        let read = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(opts.read_only(true))
            .await
            .map_err(|e| Error::Store(format!("cannot open {}: {e}", path.display())))?;
        let blobs = path
            .parent()
            .map_or_else(|| PathBuf::from("blobs"), |d| d.join("blobs"));
        Ok(SqliteStore { read, write, blobs })
    }

    /// Runs a raw statement on the write connection. For tests and operator tooling only: it
    /// bypasses the registry (and so the audit log).
    pub async fn execute_raw(&self, sql: &str) -> Result<u64> {
        let r = sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
            .execute(&self.write)
            .await
            .map_err(store_err)?;
        Ok(r.rows_affected())
    }

    /// Closes the pools (waits for connections to finish).
    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}

/// A transaction on the SQLite store.
pub struct SqliteTx {
    tx: Transaction<'static, Sqlite>,
}

impl SqliteStore {
    fn blob_path(&self, sha256: &str) -> Result<PathBuf> {
        if sha256.len() != 64
            || !sha256
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(Error::invalid(
                "sha256",
                "must be 64 lower-case hexadecimal digits",
            ));
        }
        Ok(self.blobs.join(&sha256[..2]).join(sha256))
    }
}

impl Store for SqliteStore {
    type Tx = SqliteTx;

    async fn put_blob(&self, sha256: &str, bytes: &[u8]) -> Result<()> {
        let path = self.blob_path(sha256)?;
        if tokio::fs::try_exists(&path).await.unwrap_or(false) {
            return Ok(());
        }
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(|e| Error::Store(format!("cannot create {}: {e}", dir.display())))?;
        // Write beside, then rename: readers never see a partial document.
        let tmp = dir.join(format!(".{sha256}.{}.tmp", Uuid::new_v4().simple()));
        tokio::fs::write(&tmp, bytes)
            .await
            .map_err(|e| Error::Store(format!("cannot write {}: {e}", tmp.display())))?;
        tokio::fs::rename(&tmp, &path).await.map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            Error::Store(format!("cannot store {}: {e}", path.display()))
        })
    }

    async fn get_blob(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        let path = self.blob_path(sha256)?;
        match tokio::fs::read(&path).await {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::Store(format!("cannot read {}: {e}", path.display()))),
        }
    }

    async fn read(&self) -> Result<SqliteTx> {
        Ok(SqliteTx {
            tx: self.read.begin().await.map_err(store_err)?,
        })
    }

    async fn write(&self) -> Result<SqliteTx> {
        Ok(SqliteTx {
            tx: self
                .write
                .begin_with("BEGIN IMMEDIATE")
                .await
                .map_err(store_err)?,
        })
    }
}

fn ts(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn parse_ts(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| Error::Store(format!("bad timestamp '{s}' in database: {e}")))
}

fn json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(store_err)
}

fn from_json<T: DeserializeOwned>(s: &str, what: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| Error::Store(format!("corrupt {what} in database: {e}")))
}

/// A serde enum written as its JSON string, without quotes.
fn enum_text<T: Serialize>(v: &T) -> Result<String> {
    match serde_json::to_value(v).map_err(store_err)? {
        serde_json::Value::String(s) => Ok(s),
        other => Err(Error::Store(format!("not a unit enum: {other}"))),
    }
}

fn text_enum<T: DeserializeOwned>(s: &str, what: &str) -> Result<T> {
    from_json(&format!("\"{s}\""), what)
}

fn get<'r, T: sqlx::Decode<'r, Sqlite> + sqlx::Type<Sqlite>>(
    row: &'r SqliteRow,
    col: &str,
) -> Result<T> {
    row.try_get(col).map_err(store_err)
}

fn uuid(s: &str) -> Result<Uuid> {
    Uuid::from_str(s).map_err(|e| Error::Store(format!("bad id '{s}' in database: {e}")))
}

fn org_row(row: &SqliteRow) -> Result<Organisation> {
    Ok(Organisation {
        id: uuid(&get::<String>(row, "id")?)?,
        name: get(row, "name")?,
        kind: text_enum(&get::<String>(row, "kind")?, "organisation kind")?,
        country: get(row, "country")?,
        code: get(row, "code")?,
        safety_officer: get(row, "safety_officer")?,
        created_at: parse_ts(&get::<String>(row, "created_at")?)?,
    })
}

fn system_row(row: &SqliteRow) -> Result<System> {
    let filing: Option<String> = get(row, "filing_number")?;
    Ok(System {
        id: uuid(&get::<String>(row, "id")?)?,
        organisation: uuid(&get::<String>(row, "organisation")?)?,
        filing_number: filing
            .map(|f| FilingNumber::parse(&f).map_err(Error::Store))
            .transpose()?,
        name: get(row, "name")?,
        version: get(row, "version")?,
        state: text_enum(&get::<String>(row, "state")?, "system state")?,
        stage: text_enum(&get::<String>(row, "stage")?, "lifecycle stage")?,
        facts: from_json(&get::<String>(row, "facts")?, "facts")?,
        classification: from_json(&get::<String>(row, "classification")?, "classification")?,
        revision: get::<i64>(row, "revision")? as u32,
        created_at: parse_ts(&get::<String>(row, "created_at")?)?,
        updated_at: parse_ts(&get::<String>(row, "updated_at")?)?,
        registered_at: get::<Option<String>>(row, "registered_at")?
            .map(|s| parse_ts(&s))
            .transpose()?,
    })
}

fn token_row(row: &SqliteRow) -> Result<Token> {
    Ok(Token {
        id: uuid(&get::<String>(row, "id")?)?,
        name: get(row, "name")?,
        role: text_enum(&get::<String>(row, "role")?, "role")?,
        organisation: get::<Option<String>>(row, "organisation")?
            .map(|s| uuid(&s))
            .transpose()?,
        created_at: parse_ts(&get::<String>(row, "created_at")?)?,
        revoked_at: get::<Option<String>>(row, "revoked_at")?
            .map(|s| parse_ts(&s))
            .transpose()?,
    })
}

fn audit_row(row: &SqliteRow) -> Result<AuditEvent> {
    Ok(AuditEvent {
        seq: get::<i64>(row, "seq")? as u64,
        at: parse_ts(&get::<String>(row, "at")?)?,
        actor: get(row, "actor")?,
        action: get(row, "action")?,
        subject: get(row, "subject")?,
        before: from_json(&get::<String>(row, "before")?, "audit event")?,
        after: from_json(&get::<String>(row, "after")?, "audit event")?,
        prev_hash: get(row, "prev_hash")?,
        hash: get(row, "hash")?,
    })
}

/// Escapes `%`, `_` and `\` for a LIKE pattern with `ESCAPE '\'`, lower-cased, wrapped in `%`.
fn like(s: &str) -> String {
    let mut out = String::from("%");
    for c in s.trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

const SYSTEM_COLS: &str = "s.id, s.organisation, s.filing_number, s.name, s.version, s.state, s.stage, s.facts, s.classification, s.revision, s.created_at, s.updated_at, s.registered_at";

impl Tx for SqliteTx {
    async fn commit(self) -> Result<()> {
        self.tx.commit().await.map_err(store_err)
    }

    async fn organisation(&mut self, id: Uuid) -> Result<Option<Organisation>> {
        sqlx::query("SELECT * FROM organisations WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(store_err)?
            .map(|r| org_row(&r))
            .transpose()
    }

    async fn organisations(&mut self) -> Result<Vec<Organisation>> {
        sqlx::query("SELECT * FROM organisations ORDER BY name, id")
            .fetch_all(&mut *self.tx)
            .await
            .map_err(store_err)?
            .iter()
            .map(org_row)
            .collect()
    }

    async fn insert_organisation(&mut self, org: &Organisation) -> Result<()> {
        sqlx::query("INSERT INTO organisations (id, name, kind, country, code, safety_officer, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
            .bind(org.id.to_string())
            .bind(&org.name)
            .bind(enum_text(&org.kind)?)
            .bind(&org.country)
            .bind(&org.code)
            .bind(&org.safety_officer)
            .bind(ts(&org.created_at))
            .execute(&mut *self.tx)
            .await
            .map_err(store_err)?;
        Ok(())
    }

    async fn system(&mut self, id: Uuid) -> Result<Option<System>> {
        sqlx::query(AssertSqlSafe(format!(
            "SELECT {SYSTEM_COLS} FROM systems s WHERE s.id = ?"
        )))
        .bind(id.to_string())
        .fetch_optional(&mut *self.tx)
        .await
        .map_err(store_err)?
        .map(|r| system_row(&r))
        .transpose()
    }

    async fn systems(&mut self, f: &SystemFilter) -> Result<Vec<System>> {
        let mut sql = format!(
            "SELECT {SYSTEM_COLS} FROM systems s JOIN organisations o ON o.id = s.organisation WHERE 1 = 1"
        );
        if f.organisation.is_some() {
            sql.push_str(" AND s.organisation = ?");
        }
        if !f.states.is_empty() {
            sql.push_str(" AND s.state IN (");
            sql.push_str(&vec!["?"; f.states.len()].join(", "));
            sql.push(')');
        }
        if f.tier.is_some() {
            sql.push_str(" AND s.tier = ?");
        }
        if f.q.is_some() {
            sql.push_str(" AND (lower(s.name) LIKE ? ESCAPE '\\' OR lower(o.name) LIKE ? ESCAPE '\\' OR lower(coalesce(o.code, '')) LIKE ? ESCAPE '\\' OR lower(coalesce(s.filing_number, '')) LIKE ? ESCAPE '\\')");
        }
        sql.push_str(" ORDER BY s.created_at DESC, s.id LIMIT ? OFFSET ?");
        let mut q = sqlx::query(AssertSqlSafe(sql));
        if let Some(o) = f.organisation {
            q = q.bind(o.to_string());
        }
        for s in &f.states {
            q = q.bind(s.as_str());
        }
        if let Some(t) = f.tier {
            q = q.bind(t.as_str());
        }
        if let Some(text) = &f.q {
            let p = like(text);
            q = q.bind(p.clone()).bind(p.clone()).bind(p.clone()).bind(p);
        }
        q = q
            .bind(i64::from(f.limit.unwrap_or(50)))
            .bind(i64::from(f.offset.unwrap_or(0)));
        q.fetch_all(&mut *self.tx)
            .await
            .map_err(store_err)?
            .iter()
            .map(system_row)
            .collect()
    }

    async fn public_systems(&mut self, query: &PublicQuery) -> Result<Vec<PublicSystem>> {
        let mut sql = String::from(
            "SELECT s.public_view FROM systems s JOIN organisations o ON o.id = s.organisation \
             WHERE s.public_view IS NOT NULL",
        );
        if query.q.is_some() {
            sql.push_str(" AND (lower(s.name) LIKE ? ESCAPE '\\' OR lower(o.name) LIKE ? ESCAPE '\\' OR lower(coalesce(o.code, '')) LIKE ? ESCAPE '\\' OR lower(s.filing_number) LIKE ? ESCAPE '\\')");
        }
        if query.provider.is_some() {
            sql.push_str(" AND (lower(o.name) LIKE ? ESCAPE '\\' OR lower(coalesce(o.code, '')) LIKE ? ESCAPE '\\')");
        }
        if query.filing_number.is_some() {
            sql.push_str(" AND s.filing_number = ?");
        }
        sql.push_str(" ORDER BY s.registered_at DESC, s.id LIMIT ? OFFSET ?");
        let mut q = sqlx::query(AssertSqlSafe(sql));
        if let Some(text) = &query.q {
            let p = like(text);
            q = q.bind(p.clone()).bind(p.clone()).bind(p.clone()).bind(p);
        }
        if let Some(text) = &query.provider {
            let p = like(text);
            q = q.bind(p.clone()).bind(p);
        }
        if let Some(f) = &query.filing_number {
            q = q.bind(f.clone());
        }
        q = q
            .bind(i64::from(query.limit.unwrap_or(50)))
            .bind(i64::from(query.offset.unwrap_or(0)));
        q.fetch_all(&mut *self.tx)
            .await
            .map_err(store_err)?
            .iter()
            .map(|r| from_json(&get::<String>(r, "public_view")?, "public view"))
            .collect()
    }

    async fn public_system(&mut self, number: &FilingNumber) -> Result<Option<PublicSystem>> {
        let view: Option<Option<String>> =
            sqlx::query_scalar("SELECT public_view FROM systems WHERE filing_number = ?")
                .bind(number.as_str())
                .fetch_optional(&mut *self.tx)
                .await
                .map_err(store_err)?;
        view.flatten()
            .map(|v| from_json(&v, "public view"))
            .transpose()
    }

    async fn set_public_view(&mut self, system: Uuid, view: Option<&PublicSystem>) -> Result<()> {
        sqlx::query("UPDATE systems SET public_view = ? WHERE id = ?")
            .bind(view.map(json).transpose()?)
            .bind(system.to_string())
            .execute(&mut *self.tx)
            .await
            .map_err(store_err)?;
        Ok(())
    }

    async fn insert_system(&mut self, s: &System) -> Result<()> {
        sqlx::query("INSERT INTO systems (id, organisation, filing_number, name, version, state, stage, tier, facts, classification, revision, created_at, updated_at, registered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
            .bind(s.id.to_string())
            .bind(s.organisation.to_string())
            .bind(s.filing_number.as_ref().map(|f| f.as_str().to_string()))
            .bind(&s.name)
            .bind(&s.version)
            .bind(s.state.as_str())
            .bind(s.stage.as_str())
            .bind(s.classification.tier.as_str())
            .bind(json(&s.facts)?)
            .bind(json(&s.classification)?)
            .bind(i64::from(s.revision))
            .bind(ts(&s.created_at))
            .bind(ts(&s.updated_at))
            .bind(s.registered_at.as_ref().map(ts))
            .execute(&mut *self.tx)
            .await
            .map_err(store_err)?;
        Ok(())
    }

    async fn update_system(&mut self, s: &System) -> Result<()> {
        let r = sqlx::query("UPDATE systems SET filing_number = ?, name = ?, version = ?, state = ?, stage = ?, tier = ?, facts = ?, classification = ?, revision = ?, updated_at = ?, registered_at = ? WHERE id = ? AND revision = ?")
            .bind(s.filing_number.as_ref().map(|f| f.as_str().to_string()))
            .bind(&s.name)
            .bind(&s.version)
            .bind(s.state.as_str())
            .bind(s.stage.as_str())
            .bind(s.classification.tier.as_str())
            .bind(json(&s.facts)?)
            .bind(json(&s.classification)?)
            .bind(i64::from(s.revision))
            .bind(ts(&s.updated_at))
            .bind(s.registered_at.as_ref().map(ts))
            .bind(s.id.to_string())
            .bind(i64::from(s.revision) - 1)
            .execute(&mut *self.tx)
            .await
            .map_err(store_err)?;
        if r.rows_affected() != 1 {
            return Err(Error::Conflict(format!(
                "system {} was changed concurrently; retry",
                s.id
            )));
        }
        Ok(())
    }

    async fn next_filing_sequence(&mut self, year: i32) -> Result<u32> {
        let last: i64 = sqlx::query_scalar(
            "INSERT INTO filing_sequences (year, last) VALUES (?, 1) \
             ON CONFLICT (year) DO UPDATE SET last = filing_sequences.last + 1 RETURNING last",
        )
        .bind(year)
        .fetch_one(&mut *self.tx)
        .await
        .map_err(store_err)?;
        u32::try_from(last).map_err(store_err)
    }

    async fn insert_revision(&mut self, r: &Revision) -> Result<()> {
        sqlx::query("INSERT INTO revisions (system, revision, body, at) VALUES (?, ?, ?, ?)")
            .bind(r.system.to_string())
            .bind(i64::from(r.revision))
            .bind(json(r)?)
            .bind(ts(&r.at))
            .execute(&mut *self.tx)
            .await
            .map_err(store_err)?;
        Ok(())
    }

    async fn revisions(&mut self, system: Uuid) -> Result<Vec<Revision>> {
        sqlx::query("SELECT body FROM revisions WHERE system = ? ORDER BY revision")
            .bind(system.to_string())
            .fetch_all(&mut *self.tx)
            .await
            .map_err(store_err)?
            .iter()
            .map(|r| from_json(&get::<String>(r, "body")?, "revision"))
            .collect()
    }

    async fn insert_evidence(&mut self, e: &Evidence) -> Result<()> {
        sqlx::query("INSERT INTO evidence (id, system, body, added_at) VALUES (?, ?, ?, ?)")
            .bind(e.id.to_string())
            .bind(e.system.to_string())
            .bind(json(e)?)
            .bind(ts(&e.added_at))
            .execute(&mut *self.tx)
            .await
            .map_err(store_err)?;
        Ok(())
    }

    async fn evidence(&mut self, system: Uuid) -> Result<Vec<Evidence>> {
        sqlx::query("SELECT body FROM evidence WHERE system = ? ORDER BY added_at, id")
            .bind(system.to_string())
            .fetch_all(&mut *self.tx)
            .await
            .map_err(store_err)?
            .iter()
            .map(|r| from_json(&get::<String>(r, "body")?, "evidence"))
            .collect()
    }

    async fn last_audit_event(&mut self) -> Result<Option<AuditEvent>> {
        sqlx::query("SELECT * FROM audit_events ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(store_err)?
            .map(|r| audit_row(&r))
            .transpose()
    }

    async fn append_audit_event(&mut self, e: &AuditEvent) -> Result<()> {
        sqlx::query("INSERT INTO audit_events (seq, at, actor, action, subject, before, after, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
            .bind(e.seq as i64)
            .bind(ts(&e.at))
            .bind(&e.actor)
            .bind(&e.action)
            .bind(&e.subject)
            .bind(json(&e.before)?)
            .bind(json(&e.after)?)
            .bind(&e.prev_hash)
            .bind(&e.hash)
            .execute(&mut *self.tx)
            .await
            .map_err(store_err)?;
        Ok(())
    }

    async fn audit_events(&mut self, after: u64, limit: u32) -> Result<Vec<AuditEvent>> {
        sqlx::query("SELECT * FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?")
            .bind(after as i64)
            .bind(i64::from(limit))
            .fetch_all(&mut *self.tx)
            .await
            .map_err(store_err)?
            .iter()
            .map(audit_row)
            .collect()
    }

    async fn log_size(&mut self) -> Result<u64> {
        // MAX on the primary key reads one b-tree path; COUNT(*) would scan the table.
        let n: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(idx) + 1, 0) FROM log_entries")
            .fetch_one(&mut *self.tx)
            .await
            .map_err(store_err)?;
        Ok(n as u64)
    }

    async fn log_nodes(&mut self, ids: &[(u32, u64)]) -> Result<Vec<((u32, u64), Hash)>> {
        // One query per 200 nodes (row values), in the order asked.
        let mut found = std::collections::HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(200) {
            let sql = format!(
                "SELECT height, idx, hash FROM log_nodes WHERE (height, idx) IN (VALUES {})",
                vec!["(?, ?)"; chunk.len()].join(", ")
            );
            let mut q = sqlx::query_as::<_, (i64, i64, Vec<u8>)>(AssertSqlSafe(sql));
            for &(h, i) in chunk {
                q = q.bind(i64::from(h)).bind(i as i64);
            }
            for (h, i, hash) in q.fetch_all(&mut *self.tx).await.map_err(store_err)? {
                let hash = Hash::from_slice(&hash, &format!("log node {h}/{i}"))
                    .map_err(|e| Error::Store(e.to_string()))?;
                found.insert((h as u32, i as u64), hash);
            }
        }
        Ok(ids
            .iter()
            .filter_map(|id| found.get(id).map(|h| (*id, *h)))
            .collect())
    }

    async fn log_sequence(&mut self, start: u64, entries: &[&[u8]]) -> Result<()> {
        // Multi-row inserts: one statement per 500 entries instead of one per entry.
        for (c, chunk) in entries.chunks(500).enumerate() {
            let sql = format!(
                "INSERT INTO log_entries (idx, entry) VALUES {}",
                vec!["(?, ?)"; chunk.len()].join(", ")
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for (k, e) in chunk.iter().enumerate() {
                q = q.bind((start + (c * 500 + k) as u64) as i64).bind(*e);
            }
            q.execute(&mut *self.tx).await.map_err(store_err)?;
        }
        Ok(())
    }

    async fn log_put_nodes(&mut self, nodes: &[NewNode]) -> Result<()> {
        for chunk in nodes.chunks(300) {
            let sql = format!(
                "INSERT INTO log_nodes (height, idx, hash) VALUES {}",
                vec!["(?, ?, ?)"; chunk.len()].join(", ")
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for n in chunk {
                q = q
                    .bind(i64::from(n.height))
                    .bind(n.index as i64)
                    .bind(n.hash.0.to_vec());
            }
            q.execute(&mut *self.tx).await.map_err(store_err)?;
        }
        Ok(())
    }

    async fn log_entries(&mut self, start: u64, end: u64) -> Result<Vec<Vec<u8>>> {
        sqlx::query_scalar("SELECT entry FROM log_entries WHERE idx >= ? AND idx < ? ORDER BY idx")
            .bind(start as i64)
            .bind(end as i64)
            .fetch_all(&mut *self.tx)
            .await
            .map_err(store_err)
    }

    async fn put_checkpoint(&mut self, size: u64, note: &str) -> Result<()> {
        sqlx::query("INSERT INTO log_checkpoints (size, note) VALUES (?, ?) ON CONFLICT (size) DO UPDATE SET note = excluded.note")
            .bind(size as i64)
            .bind(note)
            .execute(&mut *self.tx)
            .await
            .map_err(store_err)?;
        Ok(())
    }

    async fn latest_checkpoint(&mut self) -> Result<Option<(u64, String)>> {
        let row: Option<(i64, String)> =
            sqlx::query_as("SELECT size, note FROM log_checkpoints ORDER BY size DESC LIMIT 1")
                .fetch_optional(&mut *self.tx)
                .await
                .map_err(store_err)?;
        Ok(row.map(|(s, n)| (s as u64, n)))
    }

    async fn insert_certificate(&mut self, c: &Certificate) -> Result<()> {
        sqlx::query(
            "INSERT INTO certificates (serial, system, body, revoked_at) VALUES (?, ?, ?, ?)",
        )
        .bind(&c.serial)
        .bind(c.system.to_string())
        .bind(json(c)?)
        .bind(c.revoked_at.as_ref().map(ts))
        .execute(&mut *self.tx)
        .await
        .map_err(store_err)?;
        Ok(())
    }

    async fn certificate(&mut self, serial: &str) -> Result<Option<Certificate>> {
        let body: Option<String> =
            sqlx::query_scalar("SELECT body FROM certificates WHERE serial = ?")
                .bind(serial)
                .fetch_optional(&mut *self.tx)
                .await
                .map_err(store_err)?;
        body.map(|b| from_json(&b, "certificate")).transpose()
    }

    async fn certificates_of(&mut self, system: Uuid) -> Result<Vec<Certificate>> {
        let bodies: Vec<String> =
            sqlx::query_scalar("SELECT body FROM certificates WHERE system = ? ORDER BY rowid")
                .bind(system.to_string())
                .fetch_all(&mut *self.tx)
                .await
                .map_err(store_err)?;
        bodies.iter().map(|b| from_json(b, "certificate")).collect()
    }

    async fn revoked_certificates(&mut self) -> Result<Vec<Certificate>> {
        let bodies: Vec<String> = sqlx::query_scalar(
            "SELECT body FROM certificates WHERE revoked_at IS NOT NULL ORDER BY revoked_at",
        )
        .fetch_all(&mut *self.tx)
        .await
        .map_err(store_err)?;
        bodies.iter().map(|b| from_json(b, "certificate")).collect()
    }

    async fn update_certificate(&mut self, c: &Certificate) -> Result<()> {
        sqlx::query("UPDATE certificates SET body = ?, revoked_at = ? WHERE serial = ?")
            .bind(json(c)?)
            .bind(c.revoked_at.as_ref().map(ts))
            .bind(&c.serial)
            .execute(&mut *self.tx)
            .await
            .map_err(store_err)?;
        Ok(())
    }

    async fn insert_token(&mut self, t: &Token, secret_hash: &str) -> Result<()> {
        sqlx::query("INSERT INTO tokens (id, name, role, organisation, secret_hash, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
            .bind(t.id.to_string())
            .bind(&t.name)
            .bind(t.role.as_str())
            .bind(t.organisation.map(|o| o.to_string()))
            .bind(secret_hash)
            .bind(ts(&t.created_at))
            .bind(t.revoked_at.as_ref().map(ts))
            .execute(&mut *self.tx)
            .await
            .map_err(store_err)?;
        Ok(())
    }

    async fn token_by_hash(&mut self, secret_hash: &str) -> Result<Option<Token>> {
        sqlx::query("SELECT * FROM tokens WHERE secret_hash = ?")
            .bind(secret_hash)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(store_err)?
            .map(|r| token_row(&r))
            .transpose()
    }

    async fn token(&mut self, id: Uuid) -> Result<Option<Token>> {
        sqlx::query("SELECT * FROM tokens WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(store_err)?
            .map(|r| token_row(&r))
            .transpose()
    }

    async fn tokens(&mut self) -> Result<Vec<Token>> {
        sqlx::query("SELECT * FROM tokens ORDER BY created_at, id")
            .fetch_all(&mut *self.tx)
            .await
            .map_err(store_err)?
            .iter()
            .map(token_row)
            .collect()
    }

    async fn update_token(&mut self, t: &Token) -> Result<()> {
        sqlx::query("UPDATE tokens SET name = ?, revoked_at = ? WHERE id = ?")
            .bind(&t.name)
            .bind(t.revoked_at.as_ref().map(ts))
            .bind(t.id.to_string())
            .execute(&mut *self.tx)
            .await
            .map_err(store_err)?;
        Ok(())
    }
}
