-- Failed log-ins are counted per account and client address: a stranger guessing from one address slows
-- down only that address, and cannot lock an official out of the account from elsewhere.
CREATE TABLE login_throttle (
    user_id TEXT NOT NULL REFERENCES users(id),
    source TEXT NOT NULL,
    failures BIGINT NOT NULL,
    locked_until BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, source)
);
