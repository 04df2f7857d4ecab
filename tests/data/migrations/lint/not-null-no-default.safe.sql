SET lock_timeout = '5s';
ALTER TABLE events ADD COLUMN venue text NOT NULL DEFAULT '', ADD COLUMN city text;
