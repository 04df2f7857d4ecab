SET lock_timeout = '5s';
ALTER TABLE events ADD COLUMN IF NOT EXISTS "Venue" text NOT NULL;
