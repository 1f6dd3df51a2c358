-- Receipt numbers: a registration draws its number only once it was validated, but a number drawn can still go
-- unused (the write lost a race on its Idempotency-Key, the database or the process failed before the commit).
-- Such a number is recorded here with the reason, so the petitions' numbers and these account for every number of
-- a year's series: an auditor reads an unexplained gap as a deleted matter.
CREATE TABLE receipt_voids (
    receipt_no text        PRIMARY KEY,
    reason     text        NOT NULL,
    voided_at  timestamptz NOT NULL DEFAULT now()
);
-- Every receipt number drawn, used or void: what the auditor reads.
CREATE VIEW receipt_numbers AS
    SELECT receipt_no, 'used' AS outcome, petition_id, NULL AS reason, created_at AS at FROM petitions
    UNION ALL
    SELECT receipt_no, 'void', NULL, reason, voided_at FROM receipt_voids;

-- Failed authentications are counted, not listed: one row per source address, minute and outcome, its count
-- added to by every worker and replica (an upsert on this index), so a flood of bogus tokens adds no rows.
ALTER TABLE access_log ADD COLUMN source text, ADD COLUMN count integer NOT NULL DEFAULT 1;
CREATE UNIQUE INDEX access_log_failed_authentications ON access_log (source, at, outcome) WHERE action = 'authenticate';
