-- The duplicate check looks for the same author's same text on one article.
-- Indexed by author alone, a prolific commenter's check read every comment
-- they ever wrote; with the article as the second column it reads only
-- theirs on that article. Lookups by author alone use the same indexes.
DROP INDEX comments_user_id;
DROP INDEX comments_author_email;
CREATE INDEX comments_user_article ON comments (user_id, article_id);
CREATE INDEX comments_author_email_article ON comments (author_email, article_id);
