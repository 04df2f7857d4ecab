CREATE TABLE staging (id int);
TRUNCATE staging;
