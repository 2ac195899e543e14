-- The transparency log: every audit event is an entry; every complete node of the Merkle tree
-- is stored (heights 0, 8, 16, ... are what tiles serve); one signed checkpoint per size.
CREATE TABLE log_entries (
    idx       INTEGER PRIMARY KEY,
    entry     BLOB NOT NULL
);
CREATE TABLE log_nodes (
    height INTEGER NOT NULL,
    idx    INTEGER NOT NULL,
    hash   BLOB NOT NULL,
    PRIMARY KEY (height, idx)
);
CREATE TABLE log_checkpoints (
    size INTEGER PRIMARY KEY,
    note TEXT NOT NULL
);
CREATE TRIGGER log_entries_append_only_u BEFORE UPDATE ON log_entries
BEGIN SELECT RAISE(ABORT, 'the transparency log is append-only'); END;
CREATE TRIGGER log_entries_append_only_d BEFORE DELETE ON log_entries
BEGIN SELECT RAISE(ABORT, 'the transparency log is append-only'); END;
CREATE TRIGGER log_nodes_append_only_u BEFORE UPDATE ON log_nodes
BEGIN SELECT RAISE(ABORT, 'the transparency log is append-only'); END;
CREATE TRIGGER log_nodes_append_only_d BEFORE DELETE ON log_nodes
BEGIN SELECT RAISE(ABORT, 'the transparency log is append-only'); END;
