-- 督办单: one row per supervision notice issued, written in the transaction of its events (one petition.supervised.v1
-- on each listed matter's stream).  The events are the record; this row numbers the notice (per issuing unit and
-- year: a second notice racing for the same serial fails the unique key and is decided again) and says which
-- matters' streams hold its events, so the document is reproduced from them.
CREATE TABLE supervision_notices (
    notice_id    text        PRIMARY KEY,
    number       text        NOT NULL,
    issuing_unit text        NOT NULL,
    unit         text        NOT NULL,
    year         integer     NOT NULL,
    serial       integer     NOT NULL,
    issued_at    timestamptz NOT NULL,
    petition_ids uuid[]      NOT NULL,
    UNIQUE (issuing_unit, year, serial)
);
CREATE INDEX supervision_notices_unit ON supervision_notices (unit, issued_at);
