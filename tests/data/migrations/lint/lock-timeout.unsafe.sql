-- no lock_timeout: the first statement on a live table waits forever, queueing others
ALTER TABLE events ADD COLUMN venue text;
ALTER TABLE events ADD COLUMN city text;
