-- aigov registry schema, version 1 (SQLite). Keep statements portable to PostgreSQL: the
-- postgresql folder will hold the same schema with its own types.

CREATE TABLE organisations (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    kind           TEXT NOT NULL,
    country        TEXT NOT NULL,
    code           TEXT,
    safety_officer TEXT,
    created_at     TEXT NOT NULL
);

CREATE TABLE systems (
    id             TEXT PRIMARY KEY,
    organisation   TEXT NOT NULL REFERENCES organisations (id),
    filing_number  TEXT UNIQUE,
    name           TEXT NOT NULL,
    version        TEXT NOT NULL,
    state          TEXT NOT NULL,
    stage          TEXT NOT NULL,
    tier           TEXT NOT NULL,
    facts          TEXT NOT NULL,
    classification TEXT NOT NULL,
    revision       INTEGER NOT NULL,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    registered_at  TEXT
);
CREATE INDEX systems_organisation ON systems (organisation);
CREATE INDEX systems_registered ON systems (registered_at);

-- Filing sequences only ever grow: a number, once handed out, is never handed out again.
CREATE TABLE filing_sequences (
    year INTEGER PRIMARY KEY,
    last INTEGER NOT NULL
);

CREATE TABLE revisions (
    system   TEXT NOT NULL REFERENCES systems (id),
    revision INTEGER NOT NULL,
    body     TEXT NOT NULL,
    at       TEXT NOT NULL,
    PRIMARY KEY (system, revision)
);

CREATE TABLE evidence (
    id       TEXT PRIMARY KEY,
    system   TEXT NOT NULL REFERENCES systems (id),
    body     TEXT NOT NULL,
    added_at TEXT NOT NULL
);
CREATE INDEX evidence_system ON evidence (system);

CREATE TABLE audit_events (
    seq       INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    subject   TEXT NOT NULL,
    before    TEXT NOT NULL,
    after     TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TABLE tokens (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    role         TEXT NOT NULL,
    organisation TEXT REFERENCES organisations (id),
    secret_hash  TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    revoked_at   TEXT
);
