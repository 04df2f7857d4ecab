SET lock_timeout = '5s';
REINDEX INDEX events_name_idx;
