-- Public statistics as published: each table of a period, released with small counts suppressed, kept so
-- that a later release of the same period keeps hidden what an earlier one hid.
CREATE TABLE public_releases (
    id TEXT PRIMARY KEY,
    period TEXT NOT NULL,
    table_code TEXT NOT NULL,
    release TEXT NOT NULL,
    published_by TEXT NOT NULL REFERENCES users(id),
    published_at BIGINT NOT NULL
);
CREATE INDEX public_releases_period ON public_releases(period, table_code, published_at);

-- Requests to and from foreign authorities and overseas missions, each linked to at most one person, one
-- victim case and one criminal case. What it asks and what came back may name people: sealed.
CREATE TABLE cooperation_requests (
    id TEXT PRIMARY KEY,
    owner_agency_id TEXT NOT NULL REFERENCES agencies(id),
    case_code TEXT NOT NULL,
    direction TEXT NOT NULL,
    kind TEXT NOT NULL,
    country TEXT NOT NULL,
    counterpart_kind TEXT NOT NULL,
    counterpart TEXT NOT NULL,
    reference TEXT,
    sent_on TEXT NOT NULL,
    due_on TEXT NOT NULL,
    person_id TEXT REFERENCES persons(id),
    victim_case_id TEXT REFERENCES victim_cases(id),
    criminal_case_id TEXT REFERENCES criminal_cases(id),
    summary BYTES,
    answered_on TEXT,
    outcome TEXT,
    answer BYTES,
    withdrawn_on TEXT,
    created_by TEXT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX cooperation_requests_owner ON cooperation_requests(owner_agency_id, due_on, id);
CREATE INDEX cooperation_requests_person ON cooperation_requests(person_id);
