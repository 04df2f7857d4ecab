SET lock_timeout = '5s';
ALTER TABLE events DROP COLUMN IF EXISTS description;
