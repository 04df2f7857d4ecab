CREATE TABLE event_sources (
    id          UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    event_id    UUID NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    source_url  TEXT NOT NULL,
    fetched_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    payload     JSONB NOT NULL DEFAULT '{}'::jsonb,
    UNIQUE (event_id, source_url)
);

-- events is live: wait at most 5s for its lock rather than queue every request behind it
SET lock_timeout = '5s';
ALTER TABLE events ADD COLUMN keywords TEXT[] NOT NULL DEFAULT '{}';
