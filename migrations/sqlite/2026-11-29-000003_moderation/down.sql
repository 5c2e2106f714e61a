DROP INDEX comments_status_article_id;
DROP TABLE bans;
DROP TABLE moderation_log;
