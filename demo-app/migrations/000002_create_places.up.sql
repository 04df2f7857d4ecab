CREATE TABLE places (
    id          UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    name        TEXT NOT NULL,
    address     TEXT,
    location    geography(Point, 4326),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX places_location_idx ON places USING GIST (location);
CREATE INDEX places_name_trgm_idx ON places USING GIN (name gin_trgm_ops);
