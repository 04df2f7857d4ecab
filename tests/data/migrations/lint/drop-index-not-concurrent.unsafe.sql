SET lock_timeout = '5s';
DROP INDEX events_name_idx;
