-- Writes that cost the same however large the history: see the indexes' comments in schema.sql.
DROP INDEX IF EXISTS heartbeats_user_time;
CREATE INDEX heartbeats_user_time
    ON heartbeats (user_id, time_ms, id, gap_next_ms, project, language);
-- Rows stored before keep a NULL key: ingest compares them column by column.
ALTER TABLE heartbeats ADD COLUMN identity_key INTEGER;
CREATE INDEX heartbeats_identity ON heartbeats (user_id, time_ms, identity_key);
CREATE INDEX heartbeats_last_project
    ON heartbeats (user_id, time_ms) WHERE project IS NOT NULL;
CREATE INDEX heartbeats_last_branch
    ON heartbeats (user_id, time_ms) WHERE branch IS NOT NULL;
CREATE INDEX heartbeats_last_language
    ON heartbeats (user_id, time_ms) WHERE language IS NOT NULL;
