-- Collective cases (集体访·件) and the roll-ups' months in China Standard Time (issue #20).
-- A case is collective in a period when any of its batches there has the threshold's head count or more. For a
-- matter whose later batches come after its first (intake refuses a visit before the first batch) that is: the
-- earliest batch reaching the threshold (its "opener") lies before the period's end. Each batch row now carries
-- its matter's first batch's time (case_at) and the most persons of the matter's batches before it (prior_heads),
-- so the openers of threshold k are the rows with prior_heads < k <= head_count: case_rollup counts them per month
-- of their case (reporting/rollups.py), and the period's collective cases become a sum of months.
-- Matters in a merge, or with a batch before their first, are counted from their rows (reporting/queries.py).
DROP TRIGGER IF EXISTS batch_rollup_insert ON batch_state;  -- installed again at start (reporting/rollups.py)
DROP TRIGGER IF EXISTS batch_rollup_delete ON batch_state;
DROP TRIGGER IF EXISTS batch_rollup_update ON batch_state;

ALTER TABLE batch_state
    ADD COLUMN case_at     timestamptz,  -- the matter's first batch's occurred_at (NULL: a batch before it, or none)
    ADD COLUMN prior_heads integer;      -- the most persons in the matter's batches before this one (0: none)
UPDATE batch_state s SET case_at = w.case_at, prior_heads = w.prior_heads
FROM (SELECT b.event_id, CASE WHEN min(b.occurred_at) OVER (PARTITION BY b.petition_id)
                                 = min(b.occurred_at) FILTER (WHERE b.is_first) OVER (PARTITION BY b.petition_id)
                            THEN min(b.occurred_at) OVER (PARTITION BY b.petition_id) END AS case_at,
             coalesce(max(b.head_count) OVER (PARTITION BY b.petition_id ORDER BY b.occurred_at, NOT b.is_first, b.event_id
                                              ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS prior_heads
      FROM batches b) w
WHERE w.event_id = s.event_id;

CREATE TABLE case_rollup (
    month        timestamptz,  -- date_trunc('month', case_at, 'Asia/Shanghai')
    jurisdiction text,         -- the matter's place
    rows bigint NOT NULL,
    opens_1 bigint NOT NULL, opens_2 bigint NOT NULL, opens_3 bigint NOT NULL, opens_4 bigint NOT NULL,
    opens_5 bigint NOT NULL, opens_6 bigint NOT NULL, opens_7 bigint NOT NULL, opens_8 bigint NOT NULL,
    opens_9 bigint NOT NULL, opens_10 bigint NOT NULL,
    resolved_1 bigint NOT NULL, resolved_2 bigint NOT NULL, resolved_3 bigint NOT NULL, resolved_4 bigint NOT NULL,
    resolved_5 bigint NOT NULL, resolved_6 bigint NOT NULL, resolved_7 bigint NOT NULL, resolved_8 bigint NOT NULL,
    resolved_9 bigint NOT NULL, resolved_10 bigint NOT NULL,
    UNIQUE NULLS NOT DISTINCT (month, jurisdiction)
);

-- the months were UTC months: emptied here, filled again from the state rows at start (reporting/store.py)
DELETE FROM batch_rollup;
DELETE FROM obligation_rollup;

-- the later batches that raise their matter's most persons (every opener but first batches): the openers after a
-- period of the cases in it
CREATE INDEX batch_state_raising ON batch_state (occurred_at)
    INCLUDE (petition_id, case_at, prior_heads, head_count, resolved, jurisdiction)
    WHERE NOT is_first AND head_count > prior_heads;
-- matters with a batch before their first (or none): counted from their rows
CREATE INDEX batch_state_irregular ON batch_state (petition_id) WHERE case_at IS NULL;

-- The per-unit table of /v1/stats for the present (received, overdue notices, escalated away, satisfaction) and the
-- assessment's escalations, as sums of months: the standing holdings and overdue notices as current state, each with
-- the time of the previous one of its kind (a unit receiving a matter again, a notice of the same obligation again:
-- counted once in a period), filled from the facts at start (reporting/store.py) and kept with the other states.
CREATE TABLE holding_state (     -- the standing holdings (assigned, escalated to, review, recheck)
    event_id     text PRIMARY KEY,
    petition_id  text NOT NULL,
    kind         text NOT NULL,
    unit         text NOT NULL,
    from_unit    text,
    occurred_at  timestamptz NOT NULL,
    jurisdiction text, category text, channel text,  -- the matter's
    prev_at      timestamptz     -- the matter's previous standing holding by the same unit
);
CREATE INDEX holding_state_petition ON holding_state (petition_id);
CREATE INDEX holding_state_occurred ON holding_state (occurred_at) INCLUDE (unit, from_unit, kind, prev_at, jurisdiction);
CREATE INDEX holding_state_again ON holding_state (occurred_at) INCLUDE (unit, prev_at, jurisdiction) WHERE prev_at IS NOT NULL;

CREATE TABLE breach_state (      -- the standing overdue notices (超期)
    event_id     text PRIMARY KEY,
    petition_id  text NOT NULL,
    unit         text NOT NULL,
    stage        text NOT NULL,
    due_at       timestamptz NOT NULL,
    occurred_at  timestamptz NOT NULL,
    jurisdiction text, category text, channel text,
    prev_at      timestamptz     -- the previous standing notice of the same obligation (matter, unit, stage, due time)
);
CREATE INDEX breach_state_petition ON breach_state (petition_id);
CREATE INDEX breach_state_occurred ON breach_state (occurred_at) INCLUDE (unit, prev_at, jurisdiction);

CREATE TABLE holding_rollup (
    month timestamptz, jurisdiction text, unit text, from_unit text,
    rows bigint NOT NULL, received bigint NOT NULL, escalated bigint NOT NULL,
    UNIQUE NULLS NOT DISTINCT (month, jurisdiction, unit, from_unit)
);
CREATE TABLE breach_rollup (
    month timestamptz, jurisdiction text, unit text,
    rows bigint NOT NULL, overdue bigint NOT NULL,
    UNIQUE NULLS NOT DISTINCT (month, jurisdiction, unit)
);
CREATE TABLE evaluation_rollup (
    month timestamptz, jurisdiction text, reply_unit text,
    evaluated bigint NOT NULL, satisfied bigint NOT NULL,
    UNIQUE NULLS NOT DISTINCT (month, jurisdiction, reply_unit)
);
