-- The log, its summaries, the checkpoint chain, keys, console sessions and agents.
-- Ids are compared byte-wise (COLLATE "C"), as in SQLite, so "ordered by
-- conversation" means the same order on both engines.

CREATE TABLE events (
    conversation text COLLATE "C" NOT NULL,
    seq bigint NOT NULL,
    event_id text COLLATE "C" NOT NULL,
    kind text NOT NULL,
    body text NOT NULL,
    hash bytea NOT NULL,
    PRIMARY KEY (conversation, seq)
);
CREATE UNIQUE INDEX events_by_id ON events (conversation, event_id);

CREATE TABLE conversations (
    id text COLLATE "C" PRIMARY KEY,
    last_seq bigint NOT NULL,
    head bytea NOT NULL,
    owner text NOT NULL,
    customer text COLLATE "C",
    agent text COLLATE "C",
    started_at bigint NOT NULL,
    updated_at bigint NOT NULL
);
CREATE INDEX conversations_by_owner ON conversations (owner, updated_at);
CREATE INDEX conversations_by_updated ON conversations (updated_at);
CREATE INDEX conversations_by_customer ON conversations (customer, started_at);

CREATE TABLE checkpoints (
    number bigint PRIMARY KEY,
    body text NOT NULL,
    hash bytea NOT NULL
);

-- The one row every committing writer locks to chain its checkpoint: several nodes,
-- one chain. Locking the newest checkpoints row would not do: a writer that waited
-- for it would wake to the same old row and fork the chain.
CREATE TABLE checkpoint_head (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    number bigint NOT NULL,
    hash bytea NOT NULL
);
INSERT INTO checkpoint_head (number, hash) VALUES (0, decode(repeat('00', 32), 'hex'));

CREATE TABLE api_keys (
    id text COLLATE "C" NOT NULL UNIQUE,
    hash bytea PRIMARY KEY,
    role text NOT NULL,
    agent text,
    name text,
    created_at bigint NOT NULL,
    expires_at bigint,
    revoked_at bigint
);

CREATE TABLE console_sessions (
    hash bytea PRIMARY KEY,
    key_hash bytea NOT NULL,
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL
);
CREATE INDEX console_sessions_by_key ON console_sessions (key_hash);
CREATE INDEX console_sessions_by_expiry ON console_sessions (expires_at);

CREATE TABLE agents (
    id text COLLATE "C" PRIMARY KEY,
    profile text NOT NULL,
    presence text NOT NULL,
    updated_at bigint NOT NULL
);
