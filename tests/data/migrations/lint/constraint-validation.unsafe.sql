SET lock_timeout = '5s';
ALTER TABLE events ADD CONSTRAINT events_ends_check CHECK (ends_at > starts_at);
