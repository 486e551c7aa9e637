-- One outbox row per append, fanned out into deliveries by the next claim: an append
-- wrote one delivery row per event and subscription, so ten subscriptions cost appends
-- most of their speed. A claim fans entries out in id order under a transaction-level
-- advisory lock (one fan-out at a time across nodes, so a conversation's deliveries get
-- ids in seq order) and deletes them; a row that commits late with a lower id is simply
-- taken by a later claim, since no cursor moves past it.
CREATE TABLE webhook_outbox (
    id BIGSERIAL PRIMARY KEY,
    conversation TEXT NOT NULL,
    first_seq BIGINT NOT NULL,
    kinds TEXT NOT NULL,
    state TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
