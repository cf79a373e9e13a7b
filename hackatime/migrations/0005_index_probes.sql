-- Writes that cost the same however large the history: see the indexes' comments in schema.sql.
DROP INDEX IF EXISTS heartbeats_user_time;
CREATE INDEX heartbeats_user_time
    ON heartbeats (user_id, time_ms, id, gap_next_ms, project, language);
CREATE INDEX heartbeats_identity ON heartbeats (
    user_id, time_ms, entity, type, category, project, branch, language, is_write, lineno,
    cursorpos
);
CREATE INDEX heartbeats_last_project
    ON heartbeats (user_id, time_ms) WHERE project IS NOT NULL;
CREATE INDEX heartbeats_last_branch
    ON heartbeats (user_id, time_ms) WHERE branch IS NOT NULL;
CREATE INDEX heartbeats_last_language
    ON heartbeats (user_id, time_ms) WHERE language IS NOT NULL;
