SET lock_timeout = '5s';
ALTER TABLE events RENAME CONSTRAINT events_fk TO events_place_fk;
