SET lock_timeout = '5s';
TRUNCATE TABLE events, places CASCADE;
