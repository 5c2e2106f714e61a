DROP INDEX comments_user_article;
DROP INDEX comments_author_email_article;
CREATE INDEX comments_user_id ON comments (user_id);
CREATE INDEX comments_author_email ON comments (author_email);
