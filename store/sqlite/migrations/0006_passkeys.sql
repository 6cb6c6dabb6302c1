-- Passkeys (WebAuthn credentials) and each user's WebAuthn user handle.

-- The user handle is the user.id of WebAuthn: 64 random bytes per user, with
-- no personal data in it (WebAuthn L3 §5.4.3), that an authenticator returns
-- with a discoverable credential so that sign-in needs no username.
CREATE TABLE webauthn_users (
    user_id    TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    handle     BLOB NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX webauthn_users_handle ON webauthn_users (handle);

CREATE TABLE passkeys (
    id                 TEXT PRIMARY KEY,
    user_id            TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id      BLOB NOT NULL,           -- chosen by the authenticator, at most 1023 bytes
    public_key         BLOB NOT NULL,           -- COSE_Key
    algorithm          INTEGER NOT NULL,        -- COSE algorithm, e.g. -7 (ES256)
    sign_count         BIGINT NOT NULL DEFAULT 0,
    aaguid             BLOB NOT NULL,
    transports         TEXT NOT NULL DEFAULT '', -- comma-separated
    backup_eligible    INTEGER NOT NULL DEFAULT 0,
    backup_state       INTEGER NOT NULL DEFAULT 0,
    user_verified      INTEGER NOT NULL DEFAULT 0,
    attestation_format TEXT NOT NULL DEFAULT '',
    name               TEXT NOT NULL,
    created_at         BIGINT NOT NULL,
    last_used_at       BIGINT,
    clone_warning      INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX passkeys_credential_id ON passkeys (credential_id);
CREATE INDEX passkeys_user ON passkeys (user_id, created_at);
