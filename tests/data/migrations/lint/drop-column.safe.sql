SET lock_timeout = '5s';
ALTER TABLE events DROP CONSTRAINT events_name_check, ALTER COLUMN name DROP DEFAULT;
