-- Indexes for the admin users table with many users: the active and
-- verified filters when few users match (the store decides when that is),
-- and sorting by last sign-in, which matches the ORDER BY expression of
-- internal/sqlstore.
CREATE INDEX users_active ON users (active);
CREATE INDEX users_email_verified ON users (email_verified);
CREATE INDEX users_last_login ON users (COALESCE(last_login_at, 0), id);
