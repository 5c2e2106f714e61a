-- The moderation queue's search finds text anywhere in a comment's body or
-- its author's name, email or URL. Unindexed, that is `lower(field) LIKE
-- '%text%'` on every row the queue walks: for a word in 2% of 100,000
-- pending comments, about 5 ms of CPU per page, and more as the queue grows.
-- An FTS5 index of trigrams finds the rows holding a text of three or more
-- characters without reading the others. It indexes the comments table
-- itself (external content), so it stores no second copy of the text; the
-- triggers keep it in step with every insert, delete and change of those
-- four fields (a status change touches none of them and costs nothing
-- here). Queries still apply the exact comparison to what it finds: the
-- index narrows the rows, it does not decide the answer.
CREATE VIRTUAL TABLE comments_search USING fts5 (
    body, author_name, author_email, author_url,
    content = 'comments', content_rowid = 'id',
    tokenize = 'trigram'
);
INSERT INTO comments_search (comments_search) VALUES ('rebuild');

CREATE TRIGGER comments_search_insert AFTER INSERT ON comments BEGIN
    INSERT INTO comments_search (rowid, body, author_name, author_email, author_url)
    VALUES (new.id, new.body, new.author_name, new.author_email, new.author_url);
END;

CREATE TRIGGER comments_search_delete AFTER DELETE ON comments BEGIN
    INSERT INTO comments_search (comments_search, rowid, body, author_name, author_email, author_url)
    VALUES ('delete', old.id, old.body, old.author_name, old.author_email, old.author_url);
END;

CREATE TRIGGER comments_search_update
AFTER UPDATE OF body, author_name, author_email, author_url ON comments BEGIN
    INSERT INTO comments_search (comments_search, rowid, body, author_name, author_email, author_url)
    VALUES ('delete', old.id, old.body, old.author_name, old.author_email, old.author_url);
    INSERT INTO comments_search (rowid, body, author_name, author_email, author_url)
    VALUES (new.id, new.body, new.author_name, new.author_email, new.author_url);
END;
