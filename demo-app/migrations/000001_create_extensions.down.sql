-- Extensions may be shared with other schemas: leave them installed.
SELECT 1;
