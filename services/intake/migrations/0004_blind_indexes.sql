-- Blind indexes: a petitioner found by identity number or phone without decrypting anyone.  Each row is the keyed
-- hash (HMAC-SHA256, key derived from the master key, never stored) of one normalised identifier of one petitioner
-- (intake.domain.identifiers), here only: never on Kafka, never in reporting.  Erasing the petitioner's key deletes
-- their rows in the same transaction, so an erased person is found by nothing.
CREATE TABLE blind_indexes (
    kind        text  NOT NULL CHECK (kind IN ('id_number', 'phone')),
    digest      bytea NOT NULL,
    ref         text  NOT NULL,  -- the petitioner (petitioners.ref, petitioner_keys.ref)
    petition_id uuid  NOT NULL,
    PRIMARY KEY (kind, digest, ref)
);
CREATE INDEX blind_indexes_ref ON blind_indexes (ref);

-- Matters registered before this migration are not indexed: their identifiers rest encrypted, and only a process
-- holding the master key could index them (python -m intake.rebuild does not).
