SET lock_timeout = '5s';
ALTER TABLE events ADD CONSTRAINT events_ulid_key UNIQUE USING INDEX events_ulid_idx;
