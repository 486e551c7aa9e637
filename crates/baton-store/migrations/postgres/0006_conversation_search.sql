-- Conversation search: what each conversation is about, and the order search pages
-- in (newest started first; a conversation's start never moves, so cursors hold).
-- Existing conversations take the intent a resolving human gave, else their latest
-- NLU read's.
ALTER TABLE conversations ADD COLUMN intent TEXT;

UPDATE conversations c SET intent = coalesce(
    (SELECT e.body::jsonb ->> 'true_intent' FROM events e
      WHERE e.conversation = c.id AND e.kind = 'resolved'
        AND e.body::jsonb ->> 'true_intent' IS NOT NULL
      ORDER BY e.seq DESC LIMIT 1),
    (SELECT e.body::jsonb ->> 'intent' FROM events e
      WHERE e.conversation = c.id AND e.kind = 'nlu'
      ORDER BY e.seq DESC LIMIT 1));

CREATE INDEX conversations_by_start ON conversations (started_at DESC, id DESC);
CREATE INDEX conversations_by_intent ON conversations (intent, started_at);
