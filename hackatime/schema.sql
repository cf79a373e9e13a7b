-- The current schema, from which a new database is made. An older database is brought here by
-- the numbered files in migrations/ (see migrations.py): a change to this file needs one, and
-- tests/test_migrations.py checks that both roads lead to the same schema.
-- Times are integer milliseconds since the Unix epoch: integer sums are exact, so a total never
-- depends on the order rows were added, and a heartbeat's next time is exactly time_ms + gap_next_ms.

CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    email TEXT,
    slack_uid TEXT UNIQUE,
    -- NULL until someone sets it; detected_timezone comes from the clients' Timezone header.
    timezone TEXT,
    detected_timezone TEXT,
    is_admin INTEGER NOT NULL DEFAULT 0,
    -- 0 yellow (unscored), 1 red (convicted), 2 green (trusted), as in Hackatime.
    trust_value INTEGER NOT NULL DEFAULT 0 CHECK (trust_value IN (0, 1, 2)),
    is_public INTEGER NOT NULL DEFAULT 1,
    -- SHA-256 hex digest of the API key; the key itself is never stored.
    api_key_sha256 TEXT NOT NULL UNIQUE,
    created_at_ms INTEGER NOT NULL
);

CREATE UNIQUE INDEX IF NOT EXISTS users_email ON users (lower(email)) WHERE email IS NOT NULL;

-- A few distinct user agents repeat on every heartbeat: stored once, referenced by id.
CREATE TABLE IF NOT EXISTS user_agents (
    id INTEGER PRIMARY KEY,
    value TEXT NOT NULL UNIQUE
);

CREATE TABLE IF NOT EXISTS heartbeats (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    time_ms INTEGER NOT NULL,
    -- Milliseconds to this user's next heartbeat in (time_ms, id) order; NULL for the latest.
    -- Kept right on every insert so totals are plain sums (see hackatime/durations.py).
    gap_next_ms INTEGER,
    entity TEXT NOT NULL,
    type TEXT NOT NULL,
    category TEXT NOT NULL,
    project TEXT,
    branch TEXT,
    language TEXT,
    editor TEXT,
    operating_system TEXT,
    machine TEXT,
    is_write INTEGER,
    lineno INTEGER,
    cursorpos INTEGER,
    lines INTEGER,
    -- JSON array of strings, or NULL.
    dependencies TEXT,
    line_additions INTEGER,
    line_deletions INTEGER,
    project_root_count INTEGER,
    ai_line_changes INTEGER,
    human_line_changes INTEGER,
    user_agent_id INTEGER REFERENCES user_agents (id),
    created_at_ms INTEGER NOT NULL,
    -- A 64-bit fingerprint of what makes two heartbeats the same one (ingest.identity_key), so
    -- that a resend is found by one probe; NULL for rows written before it existed.
    identity_key INTEGER
);

-- gap_next_ms stays right on every insert, whoever writes: the new row takes the gap to its
-- successor in (time_ms, id) order (0 when a later row shares its time, NULL when it is the
-- user's latest), and its predecessor now points at it. Offline queues replay old heartbeats,
-- so a new row can land anywhere in a user's history. Reads rely on this: see durations.py.
-- The first trigger only fires for a row landing before others: a live heartbeat is the latest
-- and keeps its NULL. An import's batch sets every gap itself, with both triggers dropped inside
-- its transaction and re-created from their stored text before it commits (hackatime/bulk.py).
CREATE TRIGGER IF NOT EXISTS heartbeats_gap_of_new_row AFTER INSERT ON heartbeats
WHEN EXISTS (
    SELECT 1 FROM heartbeats s
    WHERE s.user_id = NEW.user_id AND s.time_ms >= NEW.time_ms AND s.id <> NEW.id
)
BEGIN
    UPDATE heartbeats SET gap_next_ms = coalesce(
        (SELECT 0 FROM heartbeats s
         WHERE s.user_id = NEW.user_id AND s.time_ms = NEW.time_ms AND s.id > NEW.id LIMIT 1),
        (SELECT min(s.time_ms) FROM heartbeats s
         WHERE s.user_id = NEW.user_id AND s.time_ms > NEW.time_ms) - NEW.time_ms
    )
    WHERE id = NEW.id;
END;

CREATE TRIGGER IF NOT EXISTS heartbeats_gap_of_predecessor AFTER INSERT ON heartbeats
BEGIN
    UPDATE heartbeats SET gap_next_ms = NEW.time_ms - time_ms
    WHERE id = coalesce(
        (SELECT max(p.id) FROM heartbeats p
         WHERE p.user_id = NEW.user_id AND p.time_ms = NEW.time_ms AND p.id < NEW.id),
        (SELECT max(p.id) FROM heartbeats p
         WHERE p.user_id = NEW.user_id AND p.time_ms = (
             SELECT max(q.time_ms) FROM heartbeats q
             WHERE q.user_id = NEW.user_id AND q.time_ms < NEW.time_ms))
    );
END;

-- Every read is one user's time range. Carrying gap_next_ms, project and language makes the
-- index cover totals and the default stats (languages, projects) without touching the table.
-- id right after time_ms makes the triggers' "same time, next or previous id" one probe, however
-- many heartbeats share the time.
CREATE INDEX IF NOT EXISTS heartbeats_user_time
    ON heartbeats (user_id, time_ms, id, gap_next_ms, project, language);

CREATE TABLE IF NOT EXISTS goals (
    -- A lowercase UUID v4, as str(uuid.uuid4()) writes it: wakatime-cli's --today-goal accepts
    -- no other shape. Listings follow the rowid, which follows creation.
    id TEXT PRIMARY KEY NOT NULL
        CHECK (id GLOB '????????-????-4???-[89ab]???-????????????'
               AND NOT id GLOB '*[^0-9a-f-]*'),
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    seconds INTEGER NOT NULL CHECK (seconds > 0),
    period TEXT NOT NULL CHECK (period IN ('day', 'week')),
    project TEXT,
    language TEXT,
    created_at_ms INTEGER NOT NULL
);

CREATE INDEX IF NOT EXISTS goals_user ON goals (user_id);

-- Dashboard sign-ins: only the SHA-256 of each session's cookie token is kept, so a copy of the
-- database signs nobody in. A new key ends every session of its user (the trigger), however
-- the key was changed.
CREATE TABLE IF NOT EXISTS web_sessions (
    token_sha256 TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX IF NOT EXISTS web_sessions_user ON web_sessions (user_id);

CREATE TRIGGER IF NOT EXISTS web_sessions_end_with_key AFTER UPDATE OF api_key_sha256 ON users
WHEN NEW.api_key_sha256 IS NOT OLD.api_key_sha256
BEGIN
    DELETE FROM web_sessions WHERE user_id = NEW.id;
END;

-- Project aliases (issue 13): a user's stored project names shown under another name.
CREATE TABLE IF NOT EXISTS project_aliases (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- A project name as heartbeats store it, exactly (case and spaces included).
    alias TEXT NOT NULL,
    -- The name it is shown as; never itself an alias of the same user (see aliases.py).
    project TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    PRIMARY KEY (user_id, alias)
) WITHOUT ROWID;

-- Whether a heartbeat is already stored: one probe on its identity key, however many stored
-- heartbeats share its time (the key's 8 bytes cost far less than the columns it stands for).
CREATE INDEX IF NOT EXISTS heartbeats_identity ON heartbeats (user_id, time_ms, identity_key);

-- A placeholder (<<LAST_PROJECT>> and friends) takes the latest value at or before a time: one
-- probe into the rows that have one, however far back it lies.
CREATE INDEX IF NOT EXISTS heartbeats_last_project
    ON heartbeats (user_id, time_ms) WHERE project IS NOT NULL;
CREATE INDEX IF NOT EXISTS heartbeats_last_branch
    ON heartbeats (user_id, time_ms) WHERE branch IS NOT NULL;
CREATE INDEX IF NOT EXISTS heartbeats_last_language
    ON heartbeats (user_id, time_ms) WHERE language IS NOT NULL;
