DROP INDEX comments_pending_id;
DROP INDEX comments_spam_id;
