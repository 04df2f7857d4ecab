SET lock_timeout = '5s';
ALTER TABLE events ADD CONSTRAINT events_ulid_key UNIQUE (ulid);
