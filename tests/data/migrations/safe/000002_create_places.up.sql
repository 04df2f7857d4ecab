BEGIN;
CREATE TABLE places (
    id   bigserial PRIMARY KEY,
    name text NOT NULL,
    note text DEFAULT 'it''s a place; really'
);
ALTER TABLE events ADD COLUMN place_id bigint REFERENCES places (id);
COMMIT;
