-- Where imported comments came from (moderato import ...): one row per
-- source record, so importing the same file again, or an export that
-- overlaps an earlier one, finds what is already here and adds nothing.
-- `source` names the site and system the record came from (e.g.
-- 'wordpress:https://blog.example/', 'disqus:myforum', 'isso',
-- 'moderato:<site id>'); `source_id` is that system's id of the comment.
-- A comment removed later (a purge, an erasure) leaves its row with no
-- comment, so a later import does not bring it back.
CREATE TABLE import_sources (
    source      TEXT   NOT NULL,
    source_id   TEXT   NOT NULL,
    comment_id  BIGINT REFERENCES comments (id) ON DELETE SET NULL,
    imported_at BIGINT NOT NULL,
    PRIMARY KEY (source, source_id)
);
-- The sources of a page of comments (export), and SET NULL on delete.
CREATE INDEX import_sources_comment ON import_sources (comment_id);
