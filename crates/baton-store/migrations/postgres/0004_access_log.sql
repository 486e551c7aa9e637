-- The access log (who read what), chained like the ledger. Its head row is locked by
-- every batch that extends the chain, so entries from every node form one chain; it
-- records the last entry, so a deleted tail is caught. `body` is the hashed record and
-- the only truth; the other columns are there to filter by.
CREATE TABLE access_log (
    number bigint PRIMARY KEY,
    at bigint NOT NULL,
    key_id text COLLATE "C" NOT NULL,
    conversation text COLLATE "C",
    body text NOT NULL,
    hash bytea NOT NULL
);
CREATE INDEX access_by_conversation ON access_log (conversation, number)
    WHERE conversation IS NOT NULL;
CREATE INDEX access_by_key ON access_log (key_id, number);
CREATE INDEX access_by_time ON access_log (at);
CREATE TABLE access_head (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    number bigint NOT NULL,
    hash bytea NOT NULL
);
INSERT INTO access_head (only_row, number, hash) VALUES (true, 0, decode(repeat('00', 32), 'hex'));
