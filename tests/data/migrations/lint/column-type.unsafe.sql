SET lock_timeout = '5s';
ALTER TABLE ONLY public.events ALTER COLUMN starts_at TYPE timestamp;
