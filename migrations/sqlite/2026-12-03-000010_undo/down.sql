DROP INDEX comments_created_at;
DROP INDEX moderation_log_action;
ALTER TABLE moderation_log DROP COLUMN undone_at;
ALTER TABLE moderation_log DROP COLUMN from_verdict;
