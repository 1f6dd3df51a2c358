-- Routing events escalation withdrew (petition.routing_withdrawn.v1): a warning, an overdue notice or an
-- escalation emitted for lack of a fact it learned later (an offline terminal's acceptance).  The withdrawn
-- event's rows stay, as every fact does; the figures leave out what a withdrawal known by then names.
CREATE TABLE withdrawals (
    event_id       text PRIMARY KEY,
    petition_id    text NOT NULL,
    withdrawn_id   text NOT NULL,
    withdrawn_type text NOT NULL,
    occurred_at    timestamptz NOT NULL,
    recorded_at    timestamptz NOT NULL
);
CREATE INDEX withdrawals_withdrawn ON withdrawals (withdrawn_id);
