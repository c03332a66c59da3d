-- The plan and what it counts: plans with objectives, activities and indicators (computed from the records
-- or entered by hand per period), prevention activities with their reach, and training courses for officials.
CREATE TABLE plans (
    id TEXT PRIMARY KEY,
    owner_agency_id TEXT NOT NULL REFERENCES agencies(id),
    name TEXT NOT NULL,
    year BIGINT NOT NULL,
    copied_from TEXT REFERENCES plans(id),
    created_by TEXT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL
);
CREATE INDEX plans_year ON plans(year, id);

CREATE TABLE plan_objectives (
    id TEXT PRIMARY KEY,
    plan_id TEXT NOT NULL REFERENCES plans(id),
    position BIGINT NOT NULL,
    title TEXT NOT NULL
);
CREATE INDEX plan_objectives_plan ON plan_objectives(plan_id, position);

CREATE TABLE plan_activities (
    id TEXT PRIMARY KEY,
    plan_id TEXT NOT NULL REFERENCES plans(id),
    objective_id TEXT REFERENCES plan_objectives(id),
    position BIGINT NOT NULL,
    title TEXT NOT NULL,
    responsible_agency_id TEXT NOT NULL REFERENCES agencies(id),
    due_on TEXT,
    done_on TEXT
);
CREATE INDEX plan_activities_plan ON plan_activities(plan_id, position);

CREATE TABLE plan_indicators (
    id TEXT PRIMARY KEY,
    plan_id TEXT NOT NULL REFERENCES plans(id),
    objective_id TEXT REFERENCES plan_objectives(id),
    position BIGINT NOT NULL,
    name TEXT NOT NULL,
    measure TEXT,
    unit TEXT NOT NULL,
    definition TEXT,
    target BIGINT,
    frequency TEXT NOT NULL,
    responsible_agency_id TEXT NOT NULL REFERENCES agencies(id)
);
CREATE INDEX plan_indicators_plan ON plan_indicators(plan_id, position);

CREATE TABLE indicator_entries (
    id TEXT PRIMARY KEY,
    indicator_id TEXT NOT NULL REFERENCES plan_indicators(id),
    period TEXT NOT NULL,
    value BIGINT NOT NULL,
    note TEXT,
    entered_by TEXT NOT NULL REFERENCES users(id),
    entered_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX indicator_entries_period ON indicator_entries(indicator_id, period);

CREATE TABLE prevention_activities (
    id TEXT PRIMARY KEY,
    owner_agency_id TEXT NOT NULL REFERENCES agencies(id),
    title TEXT NOT NULL,
    held_on TEXT NOT NULL,
    commune_code TEXT REFERENCES admin_units(code),
    organiser TEXT NOT NULL,
    channel TEXT NOT NULL,
    women BIGINT NOT NULL,
    men BIGINT NOT NULL,
    materials BIGINT NOT NULL,
    created_by TEXT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL
);
CREATE INDEX prevention_activities_held ON prevention_activities(held_on, id);

CREATE TABLE prevention_reach (
    activity_id TEXT NOT NULL REFERENCES prevention_activities(id),
    target_group TEXT NOT NULL,
    participants BIGINT NOT NULL,
    PRIMARY KEY (activity_id, target_group)
);

CREATE TABLE trainings (
    id TEXT PRIMARY KEY,
    owner_agency_id TEXT NOT NULL REFERENCES agencies(id),
    title TEXT NOT NULL,
    topic TEXT NOT NULL,
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL,
    trainers TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL
);
CREATE INDEX trainings_ends ON trainings(ends_on, id);

-- A participant is a user account, or a name (sealed) with an agency.
CREATE TABLE training_participants (
    id TEXT PRIMARY KEY,
    training_id TEXT NOT NULL REFERENCES trainings(id),
    user_id TEXT REFERENCES users(id),
    full_name BYTES,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    certificate TEXT,
    created_by TEXT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL
);
CREATE INDEX training_participants_training ON training_participants(training_id, id);
