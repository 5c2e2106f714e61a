-- The queue search's trigram index (migration 0007) kept where each
-- trigram occurs in each comment (FTS5's detail=full), so that a search
-- could ask for the text as a phrase. Kept without positions (detail=none)
-- it lists only which comments hold each trigram: about a fifth of the
-- size, and far less work on every insert and for an import. A search now
-- asks for the comments holding every trigram of the text, which finds a
-- few more rows than the phrase did; the exact comparison made on those
-- rows still decides what matches, as it always did. The triggers of
-- migration 0007 name the table and go on feeding the new one.
DROP TABLE comments_search;
CREATE VIRTUAL TABLE comments_search USING fts5 (
    body, author_name, author_email, author_url,
    content = 'comments', content_rowid = 'id',
    tokenize = 'trigram', detail = none
);
INSERT INTO comments_search (comments_search) VALUES ('rebuild');
