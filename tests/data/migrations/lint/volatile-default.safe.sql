SET lock_timeout = '5s';
ALTER TABLE events ADD COLUMN imported_at timestamptz DEFAULT now(), ADD COLUMN kind text DEFAULT lower('PUBLIC');
