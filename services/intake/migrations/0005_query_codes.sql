-- The petitioner's query code (查询码), printed on the receipt slip: only its SHA-256 and its generation are kept
-- (intake/notices/codes.py derives the code itself from the master key, so the slip can be reproduced from its
-- event; the code is in no table, no event and no log). A new generation replaces the row: the old code stops working.
CREATE TABLE query_codes (
    petition_id  uuid        PRIMARY KEY,
    generation   integer     NOT NULL CHECK (generation >= 1),
    code_sha256  bytea       NOT NULL,
    issued_at    timestamptz NOT NULL DEFAULT now()
);
