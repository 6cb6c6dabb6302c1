-- Users, roles, one-time tokens and token signing keys.
-- Times are BIGINT microseconds since the Unix epoch (see internal/sqlstore).
CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    username       TEXT NOT NULL,
    username_key   TEXT COLLATE "C" NOT NULL,        -- lower(username): uniqueness and lookup
    email          TEXT COLLATE "C" NOT NULL,        -- normalised (lowercase)
    email_verified BOOLEAN NOT NULL DEFAULT FALSE,
    password_hash  TEXT NOT NULL DEFAULT '',
    active         BOOLEAN NOT NULL DEFAULT TRUE,
    created_at     BIGINT NOT NULL,
    last_login_at  BIGINT
);
CREATE UNIQUE INDEX users_username_key ON users (username_key);
CREATE UNIQUE INDEX users_email ON users (email);
CREATE INDEX users_created_at ON users (created_at, id);

CREATE TABLE roles (
    name        TEXT PRIMARY KEY,
    description TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL
);

CREATE TABLE user_roles (
    user_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_name TEXT NOT NULL REFERENCES roles (name) ON DELETE CASCADE,
    PRIMARY KEY (user_id, role_name)
);
CREATE INDEX user_roles_role ON user_roles (role_name, user_id);

INSERT INTO roles (name, description, created_at) VALUES
    ('user',   'Every signed-up account.',                 (EXTRACT(EPOCH FROM now()) * 1000000)::BIGINT),
    ('editor', 'Can change content in apps that use it.',  (EXTRACT(EPOCH FROM now()) * 1000000)::BIGINT),
    ('admin',  'Administers Gatehouse: users, roles, keys.', (EXTRACT(EPOCH FROM now()) * 1000000)::BIGINT);

CREATE TABLE one_time_tokens (
    hash       BYTEA PRIMARY KEY,          -- SHA-256 of the secret; the secret is never stored
    purpose    TEXT NOT NULL,
    user_id    TEXT REFERENCES users (id) ON DELETE CASCADE,
    data       TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX one_time_tokens_user ON one_time_tokens (user_id, purpose);

CREATE TABLE signing_keys (
    id            TEXT PRIMARY KEY,
    algorithm     TEXT NOT NULL,
    sealed        BYTEA NOT NULL,          -- private key sealed with the master secret
    public_jwk    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    retired_at    BIGINT,
    publish_until BIGINT
);
