-- Guesses at a one-time token: a six-digit sign-in code dies after a few
-- wrong ones (TokenStore.AttemptToken).
ALTER TABLE one_time_tokens ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
