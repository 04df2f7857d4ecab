SET lock_timeout = '5s';
ALTER TABLE events VALIDATE CONSTRAINT events_ends_check;
