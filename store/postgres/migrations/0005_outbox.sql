-- The mail outbox: mails written in the same transaction as the action that
-- causes them, delivered by workers that lease them through next_attempt_at.
-- Bodies hold secrets (reset links, codes); rows are deleted some time after
-- they are sent or given up.
CREATE TABLE mail_outbox (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    text_body       TEXT NOT NULL,
    html_body       TEXT NOT NULL DEFAULT '',
    kind            TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,  -- due time, lease end or back-off end
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    sent_at         BIGINT,
    gave_up_at      BIGINT
);
-- What the workers poll: only the pending mails, by due time.
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE sent_at IS NULL AND gave_up_at IS NULL;
CREATE INDEX mail_outbox_sent ON mail_outbox (sent_at) WHERE sent_at IS NOT NULL;
CREATE INDEX mail_outbox_gave_up ON mail_outbox (gave_up_at) WHERE gave_up_at IS NOT NULL;
