ALTER TABLE events ADD COLUMN description text;
DROP INDEX IF EXISTS events_status_idx;
