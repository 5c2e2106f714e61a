DROP INDEX comments_fingerprint_created;
DROP INDEX comments_fingerprint_article;
CREATE INDEX comments_fingerprint ON comments (fingerprint) WHERE fingerprint IS NOT NULL;
