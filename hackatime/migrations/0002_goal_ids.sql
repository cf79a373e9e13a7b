-- Goal ids become lowercase UUID v4 strings: wakatime-cli refuses `--today-goal ID` unless the id
-- has that shape. Existing goals get a fresh one; rows keep their order (the rowid follows it).
CREATE TABLE goals_v2 (
    -- A lowercase UUID v4, as str(uuid.uuid4()) writes it.
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

-- 122 random bits in the version-4 layout: the version nibble is 4, the variant nibble 8 to b.
INSERT INTO goals_v2 (id, user_id, title, seconds, period, project, language, created_at_ms)
SELECT
    lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4'
        || substr(lower(hex(randomblob(2))), 2) || '-'
        || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2)
        || '-' || lower(hex(randomblob(6))),
    user_id, title, seconds, period, project, language, created_at_ms
FROM goals
ORDER BY id;

DROP TABLE goals;
ALTER TABLE goals_v2 RENAME TO goals;
CREATE INDEX IF NOT EXISTS goals_user ON goals (user_id);
