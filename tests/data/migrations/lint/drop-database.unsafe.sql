-- never from a migration
DROP DATABASE IF EXISTS togather_old;
