-- Timeline events are identified by the SHA-256 of their JSON, so that re-running triage over
-- the same evidence (or importing the same report twice) does not duplicate the timeline.
-- Rows stored before this migration keep a NULL digest (NULLs never conflict).
ALTER TABLE events ADD COLUMN digest TEXT;
CREATE UNIQUE INDEX events_case_digest ON events (case_id, digest);
