SET lock_timeout = '5s';
ALTER TABLE events ADD CONSTRAINT events_name_nn CHECK (name IS NOT NULL) NOT VALID;
