-- DROP DATABASE togather_old; (only in a comment)
SELECT 'DROP DATABASE togather_old';
