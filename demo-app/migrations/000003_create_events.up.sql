CREATE TABLE events (
    id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    ulid         TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    description  TEXT,
    place_id     UUID REFERENCES places (id) ON DELETE SET NULL,
    starts_at    TIMESTAMPTZ NOT NULL,
    ends_at      TIMESTAMPTZ,
    lifecycle    TEXT NOT NULL DEFAULT 'published'
                 CHECK (lifecycle IN ('draft', 'published', 'cancelled', 'deleted')),
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (ends_at IS NULL OR ends_at >= starts_at)
);

CREATE INDEX events_starts_at_idx ON events (starts_at);
CREATE INDEX events_place_idx ON events (place_id);
CREATE INDEX events_name_trgm_idx ON events USING GIN (name gin_trgm_ops);
