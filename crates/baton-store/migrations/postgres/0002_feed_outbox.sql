-- The global feed's positions, webhook subscriptions, and the outbox of their
-- deliveries with the tries of each.
--
-- A position is handed out under the lock on checkpoint_head, which every append
-- transaction takes last and holds until its commit: positions therefore grow in
-- commit order across every node, and a reader that has seen position P has seen
-- everything below it. They live in a table of their own so an append inserts its
-- events once and never updates them.
CREATE TABLE feed (
    position bigint PRIMARY KEY,
    conversation text COLLATE "C" NOT NULL,
    seq bigint NOT NULL
);
ALTER TABLE checkpoint_head ADD COLUMN position bigint NOT NULL DEFAULT 0;
-- Events written before this migration enter the feed in log order.
INSERT INTO feed (position, conversation, seq)
    SELECT row_number() OVER (ORDER BY conversation, seq), conversation, seq FROM events;
UPDATE checkpoint_head SET position = (SELECT count(*) FROM events);

CREATE TABLE webhooks (
    id text COLLATE "C" PRIMARY KEY,
    url text NOT NULL,
    events text NOT NULL,
    description text,
    role text NOT NULL,
    secret text NOT NULL,
    previous_secret text,
    previous_until bigint,
    created_at bigint NOT NULL
);

-- Ids come from a sequence taken inside the append, after the conversation row's
-- lock: a conversation's deliveries are numbered in its log order on every node.
CREATE TABLE webhook_deliveries (
    id bigserial PRIMARY KEY,
    webhook text COLLATE "C" NOT NULL,
    conversation text COLLATE "C" NOT NULL,
    seq bigint NOT NULL,
    kind text NOT NULL,
    state text NOT NULL,
    created_at bigint NOT NULL,
    status text NOT NULL,
    series_start bigint NOT NULL,
    next_at bigint NOT NULL,
    lease_until bigint
);
CREATE INDEX deliveries_due ON webhook_deliveries (next_at) WHERE status = 'pending';
CREATE INDEX deliveries_in_line ON webhook_deliveries (webhook, conversation, id)
    WHERE status = 'pending';
CREATE INDEX deliveries_by_webhook ON webhook_deliveries (webhook, id);
CREATE INDEX deliveries_by_status ON webhook_deliveries (status, created_at);

CREATE TABLE webhook_attempts (
    delivery bigint NOT NULL,
    number integer NOT NULL,
    at bigint NOT NULL,
    status integer,
    error text,
    PRIMARY KEY (delivery, number)
);
