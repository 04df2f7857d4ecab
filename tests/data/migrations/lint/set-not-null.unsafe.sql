SET lock_timeout = '5s';
ALTER TABLE events ALTER name SET NOT NULL;
