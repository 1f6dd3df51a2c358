-- What the facts of each matter add up to now, kept beside the facts so that figures for the
-- present (no as_of, no known_at) are plain aggregates over indexed rows.  Each row is recomputed
-- from all facts of its matter in the transaction that brings a new fact of that matter, so it is
-- a function of the facts alone: a replay produces the same rows in whatever order it reads.
-- Figures as of a past time, or known at one, are computed from the facts directly.

CREATE TABLE batch_state (       -- who held the matter when the batch came; skip-level or not
    event_id     text PRIMARY KEY,
    petition_id  text NOT NULL,
    handler      text NOT NULL,
    handler_tier text,
    is_skip      boolean NOT NULL
);
CREATE INDEX batch_state_petition ON batch_state (petition_id);

CREATE TABLE matter_state (      -- what became of the matter
    petition_id  text PRIMARY KEY,
    resolved     boolean NOT NULL,  -- the latest reply, review or re-review reply says resolved
    replied      boolean NOT NULL,  -- a first reply exists
    satisfaction text,              -- the latest evaluation
    first_time   boolean NOT NULL   -- resolved by the first reply, one batch, no review asked
);

CREATE TABLE obligation_state (  -- the latest due time of each (matter, unit, stage) and whether it was met
    petition_id text NOT NULL,
    unit        text NOT NULL,
    stage       text NOT NULL,
    due_at      timestamptz NOT NULL,
    met         boolean NOT NULL,
    PRIMARY KEY (petition_id, unit, stage)
);
CREATE INDEX obligation_state_due ON obligation_state (due_at);

CREATE TABLE evaluation_state (  -- the unit whose reply each evaluation judged
    event_id    text PRIMARY KEY,
    petition_id text NOT NULL,
    reply_unit  text
);
CREATE INDEX evaluation_state_petition ON evaluation_state (petition_id);
