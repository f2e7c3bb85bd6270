-- ir110 case store, SQLite schema version 2: what the case-management server (`ir110 serve`)
-- adds. Users and their client access, sessions, login failures, API tokens, the hash-chained
-- audit log, case tasks, APPI clocks, custody events, quotes, report imports, and the recorded
-- time of timeline events. Keep in step with ../postgres/0002_server.sql.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL UNIQUE,
    role          TEXT    NOT NULL, -- admin | responder | client-viewer
    client_id     BIGINT  REFERENCES clients (id), -- the client of a client-viewer
    password_hash TEXT    NOT NULL, -- Argon2id PHC string
    created_at    BIGINT  NOT NULL
);

-- Which clients a user may see. Admins see every client without rows here; a client-viewer has
-- exactly one row (its company); a responder has one row per client it works for.
CREATE TABLE user_clients (
    user_id   BIGINT NOT NULL REFERENCES users (id),
    client_id BIGINT NOT NULL REFERENCES clients (id),
    PRIMARY KEY (user_id, client_id)
);
CREATE INDEX user_clients_client ON user_clients (client_id);

-- Browser sessions. `id_hash` is the SHA-256 of the cookie value, so a copy of the database
-- does not hold usable session ids. A session without user is a login-page session (it only
-- carries the CSRF token of the login form).
CREATE TABLE sessions (
    id_hash    TEXT   PRIMARY KEY,
    user_id    BIGINT REFERENCES users (id),
    csrf       TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE login_failures (
    id  INTEGER PRIMARY KEY,
    key TEXT    NOT NULL, -- `user:<name>` or `addr:<ip>`
    at  BIGINT  NOT NULL
);
CREATE INDEX login_failures_key_at ON login_failures (key, at);

-- API tokens for the CLI; only the SHA-256 of the token is kept.
CREATE TABLE api_tokens (
    id         INTEGER PRIMARY KEY,
    user_id    BIGINT  NOT NULL REFERENCES users (id),
    name       TEXT    NOT NULL,
    token_hash TEXT    NOT NULL UNIQUE,
    scope      TEXT    NOT NULL, -- read | upload | write
    client_id  BIGINT  REFERENCES clients (id), -- narrows the user's access to one client
    created_at BIGINT  NOT NULL
);

-- Audit log of every write (and every refused access). Each entry's hash covers its fields and
-- the previous entry's hash, so a changed, removed or inserted entry breaks the chain.
CREATE TABLE audit_log (
    seq       BIGINT  PRIMARY KEY, -- 1, 2, 3, … from audit_head
    at        BIGINT  NOT NULL,
    actor     TEXT    NOT NULL,
    action    TEXT    NOT NULL,
    object    TEXT    NOT NULL,
    client_id BIGINT,
    case_id   BIGINT,
    detail    TEXT    NOT NULL,
    prev_hash TEXT    NOT NULL,
    hash      TEXT    NOT NULL
);
CREATE INDEX audit_log_case ON audit_log (case_id, seq);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
-- The chain head, one row: appending locks it, so concurrent writers cannot fork the chain.
CREATE TABLE audit_head (
    id   BIGINT PRIMARY KEY,
    seq  BIGINT NOT NULL,
    hash TEXT   NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE case_tasks (
    id             INTEGER PRIMARY KEY,
    case_id        BIGINT  NOT NULL REFERENCES cases (id),
    task_key       TEXT    NOT NULL, -- playbook id, `ransomware.isolate`
    phase          TEXT    NOT NULL,
    position       BIGINT  NOT NULL,
    title_ja       TEXT    NOT NULL,
    title_en       TEXT    NOT NULL,
    description_ja TEXT    NOT NULL,
    description_en TEXT    NOT NULL,
    done_at        BIGINT,
    done_by        TEXT,
    UNIQUE (case_id, task_key)
);

-- APPI (個人情報保護法) breach-report clock of a case: one row once the case is marked.
CREATE TABLE appi_clocks (
    case_id       BIGINT PRIMARY KEY REFERENCES cases (id),
    discovered_on TEXT   NOT NULL, -- 発覚日, YYYY-MM-DD (JST date)
    unauthorized  BIGINT NOT NULL, -- 1 when caused by unauthorized acts (60-day final report)
    marked_by     TEXT   NOT NULL,
    marked_at     BIGINT NOT NULL
);

-- Chain of custody of registered evidence. Append-only.
CREATE TABLE custody_events (
    id          INTEGER PRIMARY KEY,
    evidence_id BIGINT  NOT NULL REFERENCES evidence (id),
    at          BIGINT  NOT NULL,
    action      TEXT    NOT NULL, -- received | sealed | transferred | rehashed | returned | destroyed
    actor       TEXT    NOT NULL,
    place       TEXT    NOT NULL,
    seal        TEXT    NOT NULL,
    sha256      TEXT,
    note        TEXT    NOT NULL,
    recorded_at BIGINT  NOT NULL
);
CREATE INDEX custody_events_evidence ON custody_events (evidence_id, at);
CREATE TRIGGER custody_events_no_update BEFORE UPDATE ON custody_events
BEGIN
    SELECT RAISE(ABORT, 'custody_events is append-only');
END;
CREATE TRIGGER custody_events_no_delete BEFORE DELETE ON custody_events
BEGIN
    SELECT RAISE(ABORT, 'custody_events is append-only');
END;

CREATE TABLE quotes (
    id         INTEGER PRIMARY KEY,
    case_id    BIGINT  NOT NULL REFERENCES cases (id),
    lines      TEXT    NOT NULL, -- JSON array of quote lines
    subtotal   BIGINT  NOT NULL, -- yen, tax excluded
    tax        BIGINT  NOT NULL, -- yen
    total      BIGINT  NOT NULL, -- yen, tax included
    created_by TEXT    NOT NULL,
    created_at BIGINT  NOT NULL
);
CREATE INDEX quotes_case ON quotes (case_id);

-- One uploaded report.json.
CREATE TABLE report_imports (
    id           INTEGER PRIMARY KEY,
    case_id      BIGINT  NOT NULL REFERENCES cases (id),
    imported_at  BIGINT  NOT NULL,
    imported_by  TEXT    NOT NULL,
    sha256       TEXT    NOT NULL, -- of the uploaded bytes
    tool_version TEXT    NOT NULL,
    findings     BIGINT  NOT NULL,
    events       BIGINT  NOT NULL
);
CREATE INDEX report_imports_case ON report_imports (case_id);

-- When an event was recorded in the store (the occurred time is `ts`). NULL for events stored
-- before this migration or by `insert_events`.
ALTER TABLE events ADD COLUMN recorded_at BIGINT;
ALTER TABLE events ADD COLUMN import_id BIGINT;
CREATE INDEX cases_opened_id ON cases (opened_at, id);
