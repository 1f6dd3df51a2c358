-- intake's write side: the append-only event store, its outbox, the write model.

-- Every event intake ever recorded, as the wire bytes (canonical JSON with its hash).
-- (petition_id, seq) is the optimistic-concurrency guard: two commands deciding on the same
-- version cannot both append.
CREATE TABLE events (
    position     bigserial   NOT NULL UNIQUE,
    event_id     uuid        PRIMARY KEY,
    petition_id  uuid        NOT NULL,
    seq          integer     NOT NULL CHECK (seq >= 1),
    type         text        NOT NULL,
    occurred_at  timestamptz NOT NULL,
    recorded_at  timestamptz NOT NULL,
    body         bytea       NOT NULL,
    UNIQUE (petition_id, seq)
);

-- Events committed but not yet acknowledged by Kafka. The relay deletes a row once the broker
-- acknowledged it; it never reads "position > last seen", so a row that commits late (a lower
-- position committed after a higher one) is still found.
CREATE TABLE outbox (
    position     bigint      PRIMARY KEY,
    event_id     uuid        NOT NULL UNIQUE,
    petition_id  uuid        NOT NULL,
    body         bytea       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- Highest offset the relay saw acknowledged per partition: after a crash between the broker's
-- acknowledgement and the outbox delete, the relay reads on from here and drops what is already
-- on the topic instead of publishing it twice.
CREATE TABLE relay_positions (
    topic      text    NOT NULL,
    partition  integer NOT NULL,
    last_offset bigint NOT NULL,
    PRIMARY KEY (topic, partition)
);

-- The write model: one row per matter, the folded domain state plus query columns.
CREATE TABLE petitions (
    petition_id     uuid        PRIMARY KEY,
    receipt_no      text        NOT NULL UNIQUE,
    external_id     text        UNIQUE,
    jurisdiction    text        NOT NULL,
    category        text        NOT NULL,
    status          text        NOT NULL,
    holder_unit     text,
    accused_unit    text,
    registered_unit text        NOT NULL,
    next_due_at     timestamptz,
    head_hash       text        NOT NULL,
    version         integer     NOT NULL,
    routing_seq     integer     NOT NULL DEFAULT 0,
    state           jsonb       NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX petitions_worklist ON petitions (holder_unit, next_due_at);
CREATE INDEX petitions_jurisdiction ON petitions (jurisdiction);

-- Sealed petitioner fields as registered, for the API (the event log carries the same ciphertext).
CREATE TABLE petitioners (
    petition_id  uuid NOT NULL,
    ref          text NOT NULL,
    name         text NOT NULL,
    id_number    text,
    phone        text,
    address      text,
    PRIMARY KEY (petition_id, ref)
);

-- Per-petitioner data keys, wrapped by the master key. Deleting the row erases the person.
CREATE TABLE petitioner_keys (
    ref        text        PRIMARY KEY,
    alg        text        NOT NULL,
    wrapped    bytea,
    created_at timestamptz NOT NULL DEFAULT now(),
    erased_at  timestamptz
);

CREATE TABLE terminals (
    id          text        PRIMARY KEY,
    unit_id     text        NOT NULL,
    name        text        NOT NULL,
    roles       text[]      NOT NULL,
    token_hash  bytea       NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

-- Idempotency-Key records: the first answer to (terminal, key), kept 7 days.
CREATE TABLE idempotency_keys (
    terminal_id  text        NOT NULL,
    key          text        NOT NULL,
    request_hash bytea       NOT NULL,
    status       integer     NOT NULL,
    body         bytea       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (terminal_id, key)
);
CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at);


-- Every read of personal data and every refused access: who, what, when (kept >= 6 months).
CREATE TABLE access_log (
    id          bigserial   PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    terminal_id text,
    unit_id     text,
    action      text        NOT NULL,
    petition_id uuid,
    outcome     text        NOT NULL,
    detail      text
);
CREATE INDEX access_log_at ON access_log (at);

-- Receipt serials per year: a sequence never blocks concurrent registrations (gaps are allowed).
CREATE TABLE receipt_years (year integer PRIMARY KEY);
