-- The current-state rows carry what the figures filter and count by, so that figures for the
-- present read one table each, with no joins: a batch row also has its matter's place, category,
-- first channel and outcome; obligations and evaluations have their matter's place, category and
-- channel.  Rows written before this migration are filled in from the facts here.

ALTER TABLE batch_state
    ADD COLUMN occurred_at  timestamptz,
    ADD COLUMN is_first     boolean,
    ADD COLUMN head_count   integer,
    ADD COLUMN channel      text,
    ADD COLUMN jurisdiction text,
    ADD COLUMN category     text,
    ADD COLUMN resolved     boolean,
    ADD COLUMN replied      boolean,
    ADD COLUMN satisfaction text,
    ADD COLUMN first_time   boolean;
UPDATE batch_state s SET occurred_at = b.occurred_at, is_first = b.is_first, head_count = b.head_count,
       channel = b.channel, jurisdiction = m.jurisdiction, category = m.category, resolved = ms.resolved,
       replied = ms.replied, satisfaction = ms.satisfaction, first_time = ms.first_time
FROM batches b JOIN matters m ON m.petition_id = b.petition_id
LEFT JOIN matter_state ms ON ms.petition_id = b.petition_id
WHERE b.event_id = s.event_id;
CREATE INDEX batch_state_occurred ON batch_state (occurred_at);

ALTER TABLE obligation_state
    ADD COLUMN jurisdiction text,
    ADD COLUMN category     text,
    ADD COLUMN channel      text;
UPDATE obligation_state s SET jurisdiction = m.jurisdiction, category = m.category, channel = m.channel
FROM matters m WHERE m.petition_id = s.petition_id;

ALTER TABLE evaluation_state
    ADD COLUMN occurred_at  timestamptz,
    ADD COLUMN satisfaction text,
    ADD COLUMN jurisdiction text,
    ADD COLUMN category     text,
    ADD COLUMN channel      text;
UPDATE evaluation_state s SET occurred_at = e.occurred_at, satisfaction = e.satisfaction,
       jurisdiction = m.jurisdiction, category = m.category, channel = m.channel
FROM evaluations e JOIN matters m ON m.petition_id = e.petition_id WHERE e.event_id = s.event_id;
CREATE INDEX evaluation_state_occurred ON evaluation_state (occurred_at);
