-- Certificates issued by the registry CA to registered systems.
CREATE TABLE certificates (
    serial        TEXT PRIMARY KEY,
    system        TEXT NOT NULL REFERENCES systems (id),
    body          TEXT NOT NULL,
    revoked_at    TEXT
);
CREATE INDEX certificates_system ON certificates (system);
