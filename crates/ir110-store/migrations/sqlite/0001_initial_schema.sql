-- ir110 case store, SQLite schema version 1.
-- Times are BIGINT microseconds since 1970-01-01 UTC (so ORDER BY is chronological on both
-- backends); dates are 'YYYY-MM-DD' text; whole model objects are JSON text in `body`.
-- Keep this file and ../postgres/0001_initial_schema.sql in step: same tables, columns and
-- behaviour. Never edit an applied migration: add a new numbered file instead.

CREATE TABLE clients (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL UNIQUE,
    nda_signed_on TEXT,
    notes         TEXT    NOT NULL DEFAULT '',
    created_at    BIGINT  NOT NULL
);

-- Last automatic case number handed out per year (IR-<year>-<number>).
CREATE TABLE case_sequences (
    year BIGINT PRIMARY KEY,
    last BIGINT NOT NULL
);

CREATE TABLE cases (
    id                INTEGER PRIMARY KEY,
    reference         TEXT    NOT NULL UNIQUE,
    client_id         BIGINT  NOT NULL REFERENCES clients (id),
    title             TEXT    NOT NULL,
    types             TEXT    NOT NULL, -- JSON array of incident type names
    policy            TEXT,
    policy_decided_by TEXT,
    policy_decided_at BIGINT,
    nda_date          TEXT,
    phase             TEXT    NOT NULL,
    opened_at         BIGINT  NOT NULL,
    updated_at        BIGINT  NOT NULL
);
CREATE INDEX cases_client ON cases (client_id);
CREATE INDEX cases_opened ON cases (opened_at);

-- Who did what, when. Append-only: corrections are new entries.
CREATE TABLE response_log (
    id      INTEGER PRIMARY KEY,
    case_id BIGINT  NOT NULL REFERENCES cases (id),
    at      BIGINT  NOT NULL,
    actor   TEXT    NOT NULL,
    action  TEXT    NOT NULL
);
CREATE INDEX response_log_case_at ON response_log (case_id, at);
CREATE TRIGGER response_log_no_update BEFORE UPDATE ON response_log
BEGIN
    SELECT RAISE(ABORT, 'response_log is append-only');
END;
CREATE TRIGGER response_log_no_delete BEFORE DELETE ON response_log
BEGIN
    SELECT RAISE(ABORT, 'response_log is append-only');
END;

CREATE TABLE findings (
    id            INTEGER PRIMARY KEY,
    case_id       BIGINT  NOT NULL REFERENCES cases (id),
    finding_id    TEXT    NOT NULL,
    analyzer      TEXT    NOT NULL,
    rule          TEXT    NOT NULL,
    severity      TEXT    NOT NULL,
    severity_rank BIGINT  NOT NULL, -- info 0 … critical 4
    category      TEXT    NOT NULL,
    first_seen    BIGINT,
    last_seen     BIGINT,
    body          TEXT    NOT NULL, -- the Finding as JSON
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL,
    UNIQUE (case_id, finding_id)
);
CREATE INDEX findings_case_rank ON findings (case_id, severity_rank, first_seen);
CREATE INDEX findings_case_category ON findings (case_id, category);

CREATE TABLE events (
    id       INTEGER PRIMARY KEY,
    case_id  BIGINT  NOT NULL REFERENCES cases (id),
    ts       BIGINT  NOT NULL,
    host     TEXT,
    kind     TEXT    NOT NULL,
    analyzer TEXT    NOT NULL,
    body     TEXT    NOT NULL -- the Event as JSON
);
CREATE INDEX events_case_ts ON events (case_id, ts);

-- Evidence register. Append-only: evidence records are never changed or removed.
CREATE TABLE evidence (
    id          INTEGER PRIMARY KEY,
    case_id     BIGINT  NOT NULL REFERENCES cases (id),
    label       TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    location    TEXT    NOT NULL,
    sha256      TEXT,
    size        BIGINT,
    recorded_at BIGINT  NOT NULL,
    recorded_by TEXT    NOT NULL
);
CREATE INDEX evidence_case ON evidence (case_id, recorded_at);
CREATE TRIGGER evidence_no_update BEFORE UPDATE ON evidence
BEGIN
    SELECT RAISE(ABORT, 'evidence is append-only');
END;
CREATE TRIGGER evidence_no_delete BEFORE DELETE ON evidence
BEGIN
    SELECT RAISE(ABORT, 'evidence is append-only');
END;

CREATE TABLE triage_runs (
    id           INTEGER PRIMARY KEY,
    case_id      BIGINT  NOT NULL REFERENCES cases (id),
    started_at   BIGINT  NOT NULL,
    finished_at  BIGINT  NOT NULL,
    tool_version TEXT    NOT NULL,
    inputs       TEXT    NOT NULL, -- JSON array of input paths
    summary      TEXT    NOT NULL  -- JSON
);
CREATE INDEX triage_runs_case ON triage_runs (case_id, started_at);
