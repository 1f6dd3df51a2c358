-- The routing facts intake folded into each matter's state, kept so that the state can be folded again
-- from what intake holds (python -m intake.rebuild).  after_seq is intake's own seq when the fact was
-- applied: the rebuild puts it after that event and before the next, the order the live path saw.
CREATE TABLE routing_events (
    petition_id uuid    NOT NULL,
    seq         integer NOT NULL,  -- escalation's seq for the matter
    after_seq   integer NOT NULL,
    body        bytea   NOT NULL,  -- the wire bytes, hash included
    PRIMARY KEY (petition_id, seq)
);

-- Routing applied before this migration was not kept: a matter routed then cannot be folded again from
-- intake's tables, and the rebuild leaves it alone (seqs up to this one are missing).
ALTER TABLE petitions ADD COLUMN routing_unkept_seq integer NOT NULL DEFAULT 0;
UPDATE petitions SET routing_unkept_seq = routing_seq WHERE routing_seq > 0;
