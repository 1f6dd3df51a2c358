-- Statistics tables of the reporting projection.  Every row is one fact of one event, keyed by the
-- event id, so a redelivered event changes nothing and the order in which the two topics are read
-- does not matter: figures that depend on several facts (who held a matter when a batch came,
-- whether a reply was in time) are worked out by the queries, at the as-of and known-at times asked.
-- occurred_at: when it happened; recorded_at: when the system learned it (the event's `time`).

CREATE TABLE offsets (           -- where the projection stands, written with the rows it produced
    topic       text    NOT NULL,
    partition   integer NOT NULL,
    next_offset bigint  NOT NULL,
    PRIMARY KEY (topic, partition)
);

CREATE TABLE matters (           -- 事项: one row per registered matter
    petition_id  text PRIMARY KEY,
    event_id     text NOT NULL,
    receipt_no   text NOT NULL,
    occurred_at  timestamptz NOT NULL,
    recorded_at  timestamptz NOT NULL,
    channel      text NOT NULL,
    jurisdiction text NOT NULL,
    category     text NOT NULL,
    unit         text NOT NULL,
    tier         text NOT NULL,
    imported     boolean NOT NULL
);
CREATE INDEX matters_jurisdiction ON matters (jurisdiction);

CREATE TABLE batches (           -- 批次: the first batch (registered) and every later one (visit recorded)
    event_id    text PRIMARY KEY,
    petition_id text NOT NULL,
    batch_id    text NOT NULL,
    is_first    boolean NOT NULL,
    occurred_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL,
    channel     text NOT NULL,
    unit        text NOT NULL,   -- the unit whose terminal registered the batch
    tier        text NOT NULL,
    head_count  integer NOT NULL,
    imported    boolean NOT NULL
);
CREATE INDEX batches_occurred ON batches (occurred_at);
CREATE INDEX batches_petition ON batches (petition_id, occurred_at);

CREATE TABLE decisions (         -- 受理 / 不予受理
    event_id    text PRIMARY KEY,
    petition_id text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('accepted', 'declined')),
    unit        text NOT NULL,
    occurred_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL
);
CREATE INDEX decisions_petition ON decisions (petition_id, occurred_at);

CREATE TABLE replies (           -- 答复 / 复查意见 / 复核意见, with whether the matter is resolved
    event_id    text PRIMARY KEY,
    petition_id text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('reply', 'review', 'recheck')),
    unit        text NOT NULL,
    decision    text NOT NULL,
    resolved    boolean NOT NULL,
    occurred_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL
);
CREATE INDEX replies_petition ON replies (petition_id, occurred_at);

CREATE TABLE requests (          -- 复查申请 / 复核申请
    event_id    text PRIMARY KEY,
    petition_id text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('review', 'recheck')),
    occurred_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL
);
CREATE INDEX requests_petition ON requests (petition_id);

CREATE TABLE evaluations (       -- 满意度评价
    event_id     text PRIMARY KEY,
    petition_id  text NOT NULL,
    satisfaction text NOT NULL,
    occurred_at  timestamptz NOT NULL,
    recorded_at  timestamptz NOT NULL
);
CREATE INDEX evaluations_petition ON evaluations (petition_id, occurred_at);
CREATE INDEX evaluations_occurred ON evaluations (occurred_at);

CREATE TABLE actions (           -- the other facts of intake: transfer, objection, extension, withdrawal …
    event_id    text PRIMARY KEY,
    petition_id text NOT NULL,
    type        text NOT NULL,
    unit        text,
    occurred_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL
);
CREATE INDEX actions_petition ON actions (petition_id);

CREATE TABLE holdings (          -- who holds the matter: assigned, escalated to, review/recheck assigned
    event_id    text PRIMARY KEY,
    petition_id text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('assigned', 'escalated', 'review', 'recheck')),
    unit        text NOT NULL,
    tier        text NOT NULL,
    from_unit   text,
    from_tier   text,
    stage       text,
    occurred_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL
);
CREATE INDEX holdings_petition ON holdings (petition_id, occurred_at);
CREATE INDEX holdings_occurred ON holdings (occurred_at);

CREATE TABLE dues (              -- due times per unit and stage, as routing set and moved them
    event_id    text NOT NULL,
    position    integer NOT NULL,
    petition_id text NOT NULL,
    unit        text NOT NULL,
    stage       text NOT NULL,
    due_at      timestamptz,      -- NULL while the clock is suspended
    occurred_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL,
    PRIMARY KEY (event_id, position)
);
CREATE INDEX dues_petition ON dues (petition_id, unit, stage, occurred_at);
CREATE INDEX dues_due ON dues (due_at);

CREATE TABLE breaches (          -- 临期预警 / 超期
    event_id    text PRIMARY KEY,
    petition_id text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('warning', 'overdue')),
    unit        text NOT NULL,
    tier        text NOT NULL,
    stage       text NOT NULL,
    due_at      timestamptz NOT NULL,
    occurred_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL
);
CREATE INDEX breaches_occurred ON breaches (occurred_at);

CREATE TABLE closures (          -- 办结: no more limits run
    event_id    text PRIMARY KEY,
    petition_id text NOT NULL,
    reason      text NOT NULL,
    occurred_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL
);

CREATE TABLE dead_letters (      -- records the projection could not read (also sent to the dead-letter topic)
    topic     text    NOT NULL,
    partition integer NOT NULL,
    "offset"  bigint  NOT NULL,
    reason    text    NOT NULL,
    PRIMARY KEY (topic, partition, "offset")
);

-- village < township < county < city, for skip-level visits (越级访)
CREATE FUNCTION tier_rank(tier text) RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT CASE tier WHEN 'village' THEN 0 WHEN 'township' THEN 1 WHEN 'county' THEN 2 WHEN 'city' THEN 3 END $$;
