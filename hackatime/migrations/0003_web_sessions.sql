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
