CREATE INDEX CONCURRENTLY IF NOT EXISTS events_name_idx ON events (name);
