SET lock_timeout = '5s';
CREATE INDEX ON events USING gin (name gin_trgm_ops);
