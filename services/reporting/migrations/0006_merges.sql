-- 并单 (petition.merged.v1) and its undoing (petition.unmerged.v1), one row each on the merged matter.  As of a
-- moment and known at one, the latest of a matter's rows says whether its batches count as the survivor's
-- (into_id): a repeat batch there, 越级访 by the survivor's holder; the merged matter is then no case of its own.
CREATE TABLE merges (
    event_id    text PRIMARY KEY,
    petition_id text NOT NULL,
    into_id     text NOT NULL,
    kind        text NOT NULL,  -- merge | unmerge
    occurred_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL
);
CREATE INDEX merges_petition ON merges (petition_id, occurred_at);
