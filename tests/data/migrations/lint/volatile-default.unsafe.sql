SET lock_timeout = '5s';
ALTER TABLE events ADD COLUMN token uuid DEFAULT gen_random_uuid();
