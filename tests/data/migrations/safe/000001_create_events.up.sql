-- Events: the core table (golang-migrate layout, like the server's own migrations).
CREATE EXTENSION IF NOT EXISTS pgcrypto;

CREATE TABLE events (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL,
    starts_at   timestamptz NOT NULL,
    description text,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX events_starts_at_idx ON events (starts_at);

CREATE FUNCTION events_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.created_at := coalesce(NEW.created_at, now()); -- a ';' inside a body
    RETURN NEW;
END;
$$;
