-- The purge of expired and spent one-time tokens (TokenStore.
-- DeleteExpiredTokens) selects by expiry, and without this index would read
-- the whole table once an hour.
CREATE INDEX one_time_tokens_expires ON one_time_tokens (expires_at);
