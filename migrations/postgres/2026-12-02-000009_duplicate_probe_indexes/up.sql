-- The duplicate guard's lookups (db::comments::duplicate_exists): the same
-- text on one article, and the same text since a time on any article. One
-- index each, so neither has to read every row with that text.
DROP INDEX comments_fingerprint;
CREATE INDEX comments_fingerprint_article ON comments (fingerprint, article_id)
    WHERE fingerprint IS NOT NULL;
CREATE INDEX comments_fingerprint_created ON comments (fingerprint, created_at)
    WHERE fingerprint IS NOT NULL;
