ALTER TABLE events DROP COLUMN place_id;
DROP TABLE places;
