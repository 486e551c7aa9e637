-- What an agent owns, counted under the agent's lock by every assignment's capacity
-- claim (an accept on any node).
CREATE INDEX conversations_by_agent ON conversations (agent, owner) WHERE agent IS NOT NULL;
