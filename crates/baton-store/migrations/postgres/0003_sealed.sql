-- Encryption at rest: one data key per conversation, wrapped by the master key
-- (which the database never sees). An erasure nulls `wrapped` and sets
-- `destroyed_at`: the sealed events stay, unreadable, and every chain still verifies.
CREATE TABLE data_keys (
    conversation text COLLATE "C" PRIMARY KEY,
    id text NOT NULL,
    master text NOT NULL,
    wrapped bytea,
    created_at bigint NOT NULL,
    destroyed_at bigint
);
