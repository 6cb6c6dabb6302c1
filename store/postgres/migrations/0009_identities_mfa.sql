-- Outside identities (social and OpenID Connect sign-in) and second factors
-- (TOTP and recovery codes).

-- An identity is keyed by (provider, issuer, subject), never by email: the
-- address is whatever the provider says today, the subject is who it is.
CREATE TABLE identities (
    id             TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider       TEXT COLLATE "C" NOT NULL, -- the provider's name in the configuration
    issuer         TEXT COLLATE "C" NOT NULL,
    subject        TEXT COLLATE "C" NOT NULL, -- case-sensitive, compared byte for byte
    email          TEXT NOT NULL DEFAULT '',  -- as the provider last reported it, normalised
    email_verified BOOLEAN NOT NULL DEFAULT FALSE,
    created_at     BIGINT NOT NULL,
    last_login_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX identities_key ON identities (provider, issuer, subject);
CREATE INDEX identities_user ON identities (user_id, created_at);

-- One TOTP secret per user: an enrolment in progress or a confirmed factor.
CREATE TABLE totp_secrets (
    user_id        TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    sealed         BYTEA NOT NULL,          -- the secret, sealed with the master key
    confirmed      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at     BIGINT NOT NULL,
    confirmed_at   BIGINT,
    last_used_step BIGINT NOT NULL DEFAULT 0 -- codes are accepted only for later steps
);

-- Unspent recovery codes; a code is deleted when it is used.
CREATE TABLE recovery_codes (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash       BYTEA NOT NULL,              -- SHA-256 of the normalised code
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, hash)
);
