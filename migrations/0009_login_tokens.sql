-- Version 9: single-use tokens mailed to people, for login invitations and
-- password resets (issue 5, item 2).
--
-- Only the SHA-256 of a token is kept (hex, `token_hash`); the token itself
-- exists only in the mail that carries the link, so a copy of the database
-- opens no account. A token is open while `used_at` is NULL and
-- `expires_at` lies ahead; using one sets `used_at` in the same statement
-- that checks both, so a link works once.
CREATE TABLE login_tokens (
    id INTEGER PRIMARY KEY,
    person_id BIGINT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL CHECK (purpose IN ('invitation', 'password_reset')),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
);

-- "The person's open tokens" (invalidating them, the resend limit).
CREATE INDEX login_tokens_person_id_idx ON login_tokens (person_id, purpose, created_at);
