SET lock_timeout = '5s';
ALTER TABLE events ALTER COLUMN starts_at SET DEFAULT now();
