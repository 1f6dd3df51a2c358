-- Per-month roll-ups of the current state, for the figures "now" of long periods (issues #18, #20): what each
-- batch_state row and each obligation_state row adds to the counts, summed per UTC month, place and unit.
-- Kept by statement-level triggers (reporting/rollups.py installs them, with the sums, at every start) in the
-- transaction that changes the state rows; filled from the state rows at the first start after this migration.
CREATE TABLE batch_rollup (
    month        timestamptz,  -- date_trunc('month', occurred_at, 'UTC')
    jurisdiction text,         -- the matter's place
    handler      text,         -- the unit holding the matter when the batch came
    batches bigint NOT NULL, persons bigint NOT NULL, repeat_batches bigint NOT NULL,
    skip_level_batches bigint NOT NULL, cases bigint NOT NULL, resolved bigint NOT NULL, replied bigint NOT NULL,
    evaluated bigint NOT NULL, satisfied bigint NOT NULL, first_time_resolved bigint NOT NULL,
    heads_1 bigint NOT NULL, heads_2 bigint NOT NULL, heads_3 bigint NOT NULL, heads_4 bigint NOT NULL,
    heads_5 bigint NOT NULL, heads_6 bigint NOT NULL, heads_7 bigint NOT NULL, heads_8 bigint NOT NULL,
    heads_9 bigint NOT NULL, heads_10_up bigint NOT NULL, persons_10_up bigint NOT NULL,
    UNIQUE NULLS NOT DISTINCT (month, jurisdiction, handler)
);

CREATE TABLE obligation_rollup (
    month        timestamptz,  -- date_trunc('month', due_at, 'UTC')
    jurisdiction text,
    unit         text,         -- the unit owing it
    stage        text,
    due bigint NOT NULL,
    met bigint NOT NULL,
    UNIQUE NULLS NOT DISTINCT (month, jurisdiction, unit, stage)
);


-- what the roll-ups cannot sum, a collective case (any batch of the period at or above the threshold), is read
-- from the period's later batches and first batches: each from an index that holds what the count reads
CREATE INDEX batch_state_later ON batch_state (occurred_at) INCLUDE (petition_id, head_count, jurisdiction)
    WHERE NOT is_first;
CREATE INDEX batch_state_first ON batch_state (occurred_at) INCLUDE (petition_id, head_count, resolved, jurisdiction)
    WHERE is_first;

-- the rest of a period (its last month, the part of a month at either end) read from an index alone
CREATE INDEX obligation_state_due_counted ON obligation_state (due_at) INCLUDE (petition_id, unit, stage, met, jurisdiction);
-- the assessment's escalations of a period (a tenth of the holdings), without a scan of the holdings
CREATE INDEX holdings_escalated ON holdings (occurred_at) INCLUDE (unit, from_unit, event_id, recorded_at) WHERE kind = 'escalated';
