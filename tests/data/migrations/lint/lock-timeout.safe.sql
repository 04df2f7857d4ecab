CREATE TABLE series (id bigint);
SET lock_timeout = 0;
SET lock_timeout TO '3s';
ALTER TABLE events ADD COLUMN venue text;
CREATE TRIGGER events_touch BEFORE UPDATE ON events FOR EACH ROW EXECUTE FUNCTION events_touch();
