-- Refresh tokens (rotating, one family per session) and API keys.
CREATE TABLE refresh_tokens (
    hash       BLOB PRIMARY KEY,          -- SHA-256 of the token; the token is never stored
    session_id TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);
CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires_at);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    hash         BLOB NOT NULL,           -- SHA-256 of the key; the key is never stored
    scopes       TEXT NOT NULL DEFAULT '', -- comma-separated
    created_by   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,
    last_used_at BIGINT
);
CREATE UNIQUE INDEX api_keys_hash ON api_keys (hash);
