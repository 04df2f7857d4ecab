SET lock_timeout = '5s';
ALTER TABLE events ADD COLUMN series_id bigint REFERENCES series (id);
