BEGIN;
-- the ALTER below waits at most 5s for its lock instead of queueing every query on events
SET LOCAL lock_timeout = '5s';
CREATE TABLE places (
    id   bigserial PRIMARY KEY,
    name text NOT NULL,
    note text DEFAULT 'it''s a place; really'
);
ALTER TABLE events ADD COLUMN place_id bigint REFERENCES places (id);
COMMIT;
