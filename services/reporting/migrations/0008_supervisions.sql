-- 督办单 (petition.supervised.v1): one row per matter listed on a supervision notice, with the obligation it was
-- overdue for.  Whether a listed matter was answered since is not stored: it is the stage's own fact (受理/不予受理,
-- 答复, 复查意见, 复核意见) not yet known when the notice was issued (reporting.supervision), by both clocks.
CREATE TABLE supervisions (
    event_id     text PRIMARY KEY,
    petition_id  text NOT NULL,
    notice_id    text NOT NULL,
    number       text NOT NULL,
    issuing_unit text NOT NULL,
    unit         text NOT NULL,
    stage        text NOT NULL,
    due_at       timestamptz NOT NULL,
    days_overdue integer NOT NULL,
    occurred_at  timestamptz NOT NULL,
    recorded_at  timestamptz NOT NULL
);
CREATE INDEX supervisions_unit ON supervisions (unit, occurred_at);
CREATE INDEX supervisions_notice ON supervisions (notice_id);
