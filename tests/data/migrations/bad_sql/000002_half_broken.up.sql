CREATE TABLE tags (id bigserial PRIMARY KEY, label text NOT NULL);
INSERT INTO tags (label) VALUES ('music'), ('film');

-- The statement below fails: the whole file (and its version bump) must roll back.
INSERT INTO tags (label, colour) VALUES ('art', 'red');
CREATE TABLE never_created (id int);
