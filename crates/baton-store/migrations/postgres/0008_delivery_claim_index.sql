-- The claim reads due deliveries in (next_at, id) order and stops at its limit; a full
-- index led by status let the planner read every pending row and sort them instead.
-- Dead letters, the only other status the outbox figures count, get a partial index
-- that new (pending) rows never touch.
DROP INDEX deliveries_due;
CREATE INDEX deliveries_due ON webhook_deliveries (next_at, id) WHERE status = 'pending';
DROP INDEX deliveries_by_status;
CREATE INDEX deliveries_dead ON webhook_deliveries (created_at) WHERE status = 'dead';
