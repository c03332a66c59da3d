-- Platform: administrative units, agencies, accounts, sessions, keys, access grants, persons, audit.
-- Instants are UTC milliseconds (BIGINT); ids are UUIDv7 text; ciphertext is BYTES (BLOB on SQLite, BYTEA on
-- PostgreSQL). One source for both databases: crates/haven-store/src/db.rs renders it per backend.

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE admin_units (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    level TEXT NOT NULL,
    unit_type TEXT NOT NULL,
    parent_code TEXT REFERENCES admin_units(code)
);

CREATE TABLE agencies (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name_vi TEXT NOT NULL,
    name_en TEXT NOT NULL,
    kind TEXT NOT NULL,
    level TEXT NOT NULL,
    functions TEXT NOT NULL,
    unit_code TEXT NOT NULL REFERENCES admin_units(code),
    active BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    password_hash TEXT NOT NULL,
    password_changed_at BIGINT NOT NULL,
    disabled BIGINT NOT NULL DEFAULT 0,
    totp_secret BYTES,
    totp_enabled BIGINT NOT NULL DEFAULT 0,
    totp_last_step BIGINT NOT NULL DEFAULT 0,
    failed_logins BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT NOT NULL DEFAULT 0,
    lang TEXT NOT NULL DEFAULT 'vi',
    created_at BIGINT NOT NULL
);
CREATE INDEX users_agency ON users(agency_id);

CREATE TABLE user_roles (
    user_id TEXT NOT NULL REFERENCES users(id),
    role TEXT NOT NULL,
    PRIMARY KEY (user_id, role)
);

CREATE TABLE role_policies (
    role TEXT PRIMARY KEY,
    require_totp BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE recovery_codes (
    user_id TEXT NOT NULL REFERENCES users(id),
    code_hash TEXT NOT NULL,
    used_at BIGINT,
    PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    stage TEXT NOT NULL,
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    token_hash TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);

CREATE TABLE data_keys (
    id TEXT PRIMARY KEY,
    purpose TEXT NOT NULL,
    wrapped BYTES NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE persons (
    id TEXT PRIMARY KEY,
    owner_agency_id TEXT NOT NULL REFERENCES agencies(id),
    case_code TEXT NOT NULL,
    full_name BYTES NOT NULL,
    birth_date BYTES,
    sex BYTES NOT NULL,
    id_number BYTES,
    phone BYTES,
    address BYTES,
    commune_code TEXT REFERENCES admin_units(code),
    id_number_bidx TEXT,
    phone_bidx TEXT,
    name_bidx TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
-- Covers the list page: the newest records of an agency without touching the wide table rows.
CREATE INDEX persons_owner ON persons(owner_agency_id, id, case_code, commune_code, created_at);
CREATE INDEX persons_id_number ON persons(id_number_bidx);
CREATE INDEX persons_phone ON persons(phone_bidx);
CREATE INDEX persons_case_code ON persons(case_code);

CREATE TABLE grants (
    id TEXT PRIMARY KEY,
    record_kind TEXT NOT NULL,
    record_id TEXT NOT NULL,
    grantee_agency_id TEXT REFERENCES agencies(id),
    grantee_user_id TEXT REFERENCES users(id),
    purpose TEXT NOT NULL,
    granted_by TEXT NOT NULL REFERENCES users(id),
    granted_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_by TEXT REFERENCES users(id),
    revoked_at BIGINT
);
CREATE INDEX grants_record ON grants(record_kind, record_id);
CREATE INDEX grants_agency ON grants(grantee_agency_id, expires_at);
CREATE INDEX grants_user ON grants(grantee_user_id, expires_at);

CREATE TABLE break_glass (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    owner_agency_id TEXT NOT NULL REFERENCES agencies(id),
    record_kind TEXT NOT NULL,
    record_id TEXT NOT NULL,
    reason BYTES NOT NULL,
    opened_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    reviewed_by TEXT REFERENCES users(id),
    reviewed_at BIGINT
);
CREATE INDEX break_glass_record ON break_glass(record_kind, record_id);
CREATE INDEX break_glass_owner ON break_glass(owner_agency_id, opened_at);

-- BIGINT PRIMARY KEY (rendered INTEGER PRIMARY KEY on SQLite) makes seq SQLite's row id: one b-tree fewer to write on every command.
CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor_user_id TEXT NOT NULL,
    actor_agency_id TEXT NOT NULL,
    action TEXT NOT NULL,
    record_kind TEXT NOT NULL,
    record_id TEXT NOT NULL,
    purpose TEXT NOT NULL,
    fields TEXT NOT NULL,
    request_id TEXT NOT NULL,
    hash BYTES NOT NULL
);
CREATE INDEX audit_record ON audit_log(record_kind, record_id);
CREATE INDEX audit_actor ON audit_log(actor_user_id, at);

CREATE TABLE audit_head (
    id BIGINT PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash BYTES NOT NULL,
    signature BYTES NOT NULL
);

CREATE TABLE audit_checkpoints (
    seq BIGINT PRIMARY KEY,
    hash BYTES NOT NULL,
    signature BYTES NOT NULL,
    at BIGINT NOT NULL
);
