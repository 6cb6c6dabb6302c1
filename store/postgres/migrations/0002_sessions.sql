-- Server-side sessions and the revocation feed.
CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    token_hash   BYTEA NOT NULL,           -- SHA-256 of the cookie secret
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    remember     BOOLEAN NOT NULL DEFAULT FALSE,
    ip           TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT '',
    method       TEXT NOT NULL DEFAULT '',
    rotate       BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE UNIQUE INDEX sessions_token_hash ON sessions (token_hash);
CREATE INDEX sessions_user ON sessions (user_id, created_at);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE session_revocations (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id TEXT NOT NULL,
    revoked_at BIGINT NOT NULL,
    until      BIGINT NOT NULL
);
CREATE INDEX session_revocations_until ON session_revocations (until);
