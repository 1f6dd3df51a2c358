-- Matters whose current state must be recomputed: written in the projection's transaction beside
-- the facts (so nothing is forgotten in a crash), drained by the refresher in transactions of its
-- own.  The projection commits facts and offsets only, and a matter touched by many batches is
-- recomputed once.  Every touch is a row of its own (no ON CONFLICT): a refresher deletes only the
-- rows it saw, so a touch committed while it works stays queued for the next round.
CREATE TABLE refresh_queue (
    id          bigserial PRIMARY KEY,
    petition_id text NOT NULL,
    state       text NOT NULL
);
CREATE INDEX refresh_queue_petition ON refresh_queue (petition_id);
