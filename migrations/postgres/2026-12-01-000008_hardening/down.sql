ALTER TABLE comments ADD COLUMN avatar_hash TEXT;
DROP INDEX comments_fingerprint;
ALTER TABLE comments DROP COLUMN fingerprint;
DROP TABLE server_keys;
