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
