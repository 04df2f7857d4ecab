-- Cannot run inside a transaction: the runner detects this and uses golang-migrate's dirty flag.
CREATE INDEX CONCURRENTLY IF NOT EXISTS events_name_idx ON events (name);
