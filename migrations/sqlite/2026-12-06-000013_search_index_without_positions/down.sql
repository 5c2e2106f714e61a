DROP TABLE comments_search;
CREATE VIRTUAL TABLE comments_search USING fts5 (
    body, author_name, author_email, author_url,
    content = 'comments', content_rowid = 'id',
    tokenize = 'trigram'
);
INSERT INTO comments_search (comments_search) VALUES ('rebuild');
