-- A role that reads identities is given only when a second person approves: another administrator, or a head
-- of the account's agency. Until then the change waits here.
CREATE TABLE role_requests (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    roles TEXT NOT NULL,
    requested_by TEXT NOT NULL REFERENCES users(id),
    requested_at BIGINT NOT NULL,
    status TEXT NOT NULL,
    answered_by TEXT REFERENCES users(id),
    answered_at BIGINT
);
CREATE INDEX role_requests_pending ON role_requests(status, requested_at);
CREATE INDEX role_requests_user ON role_requests(user_id, status);
