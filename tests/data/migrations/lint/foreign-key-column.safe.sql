SET lock_timeout = '5s';
CREATE TABLE series (id bigint PRIMARY KEY);
ALTER TABLE events ADD COLUMN series_id bigint REFERENCES series (id);
