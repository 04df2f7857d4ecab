SET lock_timeout = '5s';
ALTER TABLE events ADD COLUMN status text NOT NULL DEFAULT 'scheduled';
